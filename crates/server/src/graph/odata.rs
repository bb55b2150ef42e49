//! OData query options, timestamps, skip tokens and Graph's JSON shapes.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::GraphError;
use crate::store::{
    Chat, ChatMember, ChatMessage, Cursor, Mention, MessageField, MessageReference, Reaction,
    TimeFilter, User,
};

/// The query string's `$`-options and others, decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

pub fn option<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `$top`: 1 to `max`, `default` if absent.
pub fn top(pairs: &[(String, String)], default: usize, max: usize) -> Result<usize, GraphError> {
    let Some(value) = option(pairs, "$top") else {
        return Ok(default);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(GraphError::bad_request(format!(
            "Invalid page size specified: '{value}'. Must be between 1 and {max} inclusive."
        ))),
    }
}

/// `$orderby`: only `createdDateTime desc` or `lastModifiedDateTime desc`.
pub fn order_by(pairs: &[(String, String)]) -> Result<MessageField, GraphError> {
    let Some(value) = option(pairs, "$orderby") else {
        return Ok(MessageField::Created);
    };
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        ["createdDateTime", "desc"] => Ok(MessageField::Created),
        ["lastModifiedDateTime", "desc"] => Ok(MessageField::LastModified),
        _ => Err(GraphError::bad_request(format!(
            "Unsupported $orderby '{value}': only 'createdDateTime desc' and \
             'lastModifiedDateTime desc' are supported."
        ))),
    }
}

/// `$filter`: `and`-joined `lastModifiedDateTime|createdDateTime gt|lt
/// <RFC 3339 time>`.
pub fn filters(pairs: &[(String, String)]) -> Result<Vec<TimeFilter>, GraphError> {
    let Some(value) = option(pairs, "$filter") else {
        return Ok(Vec::new());
    };
    let unsupported = || {
        GraphError::bad_request(format!(
            "Unsupported $filter '{value}': only 'lastModifiedDateTime' or 'createdDateTime' \
             with 'gt' or 'lt' and a UTC date-time, joined by 'and', are supported."
        ))
    };
    let words: Vec<&str> = value.split_whitespace().collect();
    let mut filters = Vec::new();
    for clause in words.split(|w| w.eq_ignore_ascii_case("and")) {
        let [field, op, time] = clause else {
            return Err(unsupported());
        };
        let field = match *field {
            "lastModifiedDateTime" => MessageField::LastModified,
            "createdDateTime" => MessageField::Created,
            _ => return Err(unsupported()),
        };
        let greater = match op.to_ascii_lowercase().as_str() {
            "gt" => true,
            "lt" => false,
            _ => return Err(unsupported()),
        };
        let ms = parse_time(time.trim_matches('\'')).ok_or_else(unsupported)?;
        filters.push(TimeFilter { field, greater, ms });
    }
    Ok(filters)
}

/// RFC 3339 to Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Unix milliseconds as Graph writes times: `2026-11-27T10:50:06.123Z`.
pub fn format_time(ms: i64) -> String {
    let seconds = crate::exchange::comm::rfc3339(ms.div_euclid(1000));
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

/// The opaque `$skiptoken` of a page that ended at `cursor`.
pub fn skip_token(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", cursor.ms, cursor.id))
}

/// `$skiptoken`, if any; 400 if it is not one of ours.
pub fn cursor(pairs: &[(String, String)]) -> Result<Option<Cursor>, GraphError> {
    let Some(token) = option(pairs, "$skiptoken") else {
        return Ok(None);
    };
    let invalid = || GraphError::bad_request("The $skiptoken is not valid.");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (ms, id) = text.split_once('|').ok_or_else(invalid)?;
    Ok(Some(Cursor {
        ms: ms.parse().map_err(|_| invalid())?,
        id: id.to_owned(),
    }))
}

/// `{base}{path}?…&$skiptoken=…`: the request's options (but its skip
/// token) in their order, then the new skip token.
pub fn next_link(base: &str, path: &str, pairs: &[(String, String)], cursor: &Cursor) -> String {
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "$skiptoken")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    query.push(format!("$skiptoken={}", skip_token(cursor)));
    format!("{base}{path}?{}", query.join("&"))
}

/// Percent-encoding for query parts, keeping `$` (as Graph's links do).
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace("%24", "$")
}

pub fn chat_json(chat: &Chat, members: Option<&[ChatMember]>) -> Value {
    let mut value = json!({
        "id": chat.id,
        "topic": chat.topic,
        "createdDateTime": format_time(chat.created_ms),
        "lastUpdatedDateTime": format_time(chat.last_updated_ms),
        "chatType": chat.chat_type.as_str(),
        "webUrl": null,
        "tenantId": chat.tenant_id,
        "viewpoint": {
            "isHidden": false,
            "lastMessageReadDateTime": chat.viewer_last_read_ms.map(format_time),
        },
    });
    if let Some(members) = members {
        value["members"] = members.iter().map(member_json).collect();
    }
    value
}

pub fn member_json(member: &ChatMember) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "id": STANDARD.encode(format!("{}#{}", member.chat_id, member.object_id)),
        "roles": member.roles,
        "displayName": member.display_name,
        "visibleHistoryStartDateTime": member
            .visible_history_ms
            .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), format_time),
        "userId": member.object_id,
        "email": member.email,
        "tenantId": member.tenant_id,
        // A Convene extension for read receipts; Graph clients ignore it.
        "lastMessageReadDateTime": member.last_read_ms.map(format_time),
    })
}

/// A chatMessage. A soft-deleted one keeps its id and times but shows an
/// empty body and no reactions, as Graph lists deleted messages.
pub fn message_json(message: &ChatMessage) -> Value {
    let deleted = message.deleted_ms.is_some();
    let content = if deleted {
        ""
    } else {
        message.content.as_str()
    };
    let (reactions, mentions, attachments): (Vec<Value>, Vec<Value>, Vec<Value>) = if deleted {
        Default::default()
    } else {
        (
            message.reactions.iter().map(reaction_json).collect(),
            message
                .mentions
                .iter()
                .map(|m| mention_json(m, message))
                .collect(),
            message.references.iter().map(reference_json).collect(),
        )
    };
    json!({
        "id": message.id.to_string(),
        "replyToId": null,
        "etag": message.modified_ms.to_string(),
        "messageType": "message",
        "createdDateTime": format_time(message.created_ms),
        "lastModifiedDateTime": format_time(message.modified_ms),
        "lastEditedDateTime": message.edited_ms.map(format_time),
        "deletedDateTime": message.deleted_ms.map(format_time),
        "subject": null,
        "summary": null,
        "chatId": message.chat_id,
        "importance": "normal",
        "locale": "en-us",
        "webUrl": null,
        "channelIdentity": null,
        "policyViolation": null,
        "eventDetail": null,
        "from": {
            "application": null,
            "device": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": message.from_object_id,
                "displayName": message.from_display_name,
                "userIdentityType": "aadUser",
                "tenantId": message.from_tenant_id,
            },
        },
        "body": {
            "contentType": message.content_type,
            "content": content,
        },
        "attachments": attachments,
        "mentions": mentions,
        "reactions": reactions,
    })
}

/// A mention of a user; mentions are of members, who share the chat's
/// tenant with the sender.
fn mention_json(mention: &Mention, message: &ChatMessage) -> Value {
    json!({
        "id": mention.id,
        "mentionText": mention.mention_text,
        "mentioned": {
            "application": null,
            "device": null,
            "conversation": null,
            "tag": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": mention.user_id,
                "displayName": mention.display_name,
                "userIdentityType": "aadUser",
                "tenantId": message.from_tenant_id,
            },
        },
    })
}

/// A reply's quote, as Graph's `messageReference` attachment: its
/// `content` is JSON in a string.
fn reference_json(reference: &MessageReference) -> Value {
    let content = json!({
        "messageId": reference.message_id.to_string(),
        "messagePreview": reference.preview,
        "messageSender": {
            "application": null,
            "device": null,
            "user": {
                "userIdentityType": "aadUser",
                "tenantId": reference.sender_tenant_id,
                "id": reference.sender_id,
                "displayName": reference.sender_name,
            },
        },
    });
    json!({
        "id": reference.message_id.to_string(),
        "contentType": "messageReference",
        "contentUrl": null,
        "content": content.to_string(),
        "name": null,
        "thumbnailUrl": null,
        "teamsAppId": null,
    })
}

/// The friendly name Teams gives its standard reactions, if it is one.
fn reaction_name(reaction_type: &str) -> Option<&'static str> {
    Some(match reaction_type {
        "like" | "\u{1f44d}" => "Like",
        "heart" | "\u{2764}\u{fe0f}" | "\u{2764}" => "Heart",
        "laugh" | "\u{1f606}" => "Laugh",
        "surprised" | "\u{1f62e}" => "Surprised",
        "sad" | "\u{1f622}" => "Sad",
        "angry" | "\u{1f621}" => "Angry",
        _ => return None,
    })
}

pub fn reaction_json(reaction: &Reaction) -> Value {
    json!({
        "reactionType": reaction.reaction_type,
        "displayName": reaction_name(&reaction.reaction_type),
        "reactionContentUrl": null,
        "createdDateTime": format_time(reaction.created_ms),
        "user": {
            "application": null,
            "device": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": reaction.object_id,
                "displayName": reaction.display_name,
                "userIdentityType": "aadUser",
                "tenantId": reaction.tenant_id,
            },
        },
    })
}

/// A user with the basic profile `User.ReadBasic.All` allows (the sign-in
/// name is also the mail address here).
pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.object_id,
        "displayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
        "mail": user.user_principal_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query_pairs(Some(query))
    }

    #[test]
    fn times_round_trip_with_milliseconds() {
        let ms = 1_795_000_000_123;
        let text = format_time(ms);
        assert_eq!(text, "2026-11-18T11:06:40.123Z");
        assert_eq!(parse_time(&text), Some(ms));
        assert_eq!(parse_time("2026-11-18T11:06:40Z"), Some(1_795_000_000_000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn options_are_checked() {
        assert_eq!(top(&pairs(""), 20, 50).unwrap(), 20);
        assert_eq!(top(&pairs("$top=50"), 20, 50).unwrap(), 50);
        assert!(top(&pairs("$top=51"), 20, 50).is_err());
        assert!(top(&pairs("$top=0"), 20, 50).is_err());
        assert_eq!(
            order_by(&pairs("$orderby=lastModifiedDateTime+desc")).unwrap(),
            MessageField::LastModified
        );
        assert!(order_by(&pairs("$orderby=createdDateTime asc")).is_err());
        let f = filters(&pairs(
            "$filter=lastModifiedDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt \
             2026-01-02T00:00:00.5Z",
        ))
        .unwrap();
        assert_eq!(f.len(), 2);
        assert!(f[0].greater && !f[1].greater);
        assert_eq!(f[1].ms - f[0].ms, 86_400_500);
        assert!(filters(&pairs("$filter=subject eq 'x'")).is_err());
    }

    #[test]
    fn next_links_keep_options_and_replace_the_skip_token() {
        let cursor = Cursor {
            ms: 5,
            id: "7".into(),
        };
        let link = next_link(
            "http://h",
            "/v1.0/x",
            &pairs("$top=2&$skiptoken=old&$orderby=createdDateTime%20desc"),
            &cursor,
        );
        let expected = format!(
            "http://h/v1.0/x?$top=2&$orderby=createdDateTime+desc&$skiptoken={}",
            skip_token(&cursor)
        );
        assert_eq!(link, expected);
        let back = pairs(link.split_once('?').unwrap().1);
        assert_eq!(super::cursor(&back).unwrap(), Some(cursor));
        assert!(super::cursor(&pairs("$skiptoken=%%%")).is_err());
    }
}
