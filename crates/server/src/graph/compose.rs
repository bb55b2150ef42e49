//! A new chat message as Graph clients send it: body, `mentions`, and
//! `messageReference` attachments (replies), checked against each other
//! before anything is stored.

use axum::http::HeaderMap;
use convene_proto::graph::request::NewChatMessage;
use convene_proto::graph::{ItemBody, MESSAGE_REFERENCE};
use uuid::Uuid;

use super::{GraphError, MAX_MESSAGE_BYTES};
use crate::store::Mention;

/// The header a client repeats on a retried send (a Convene extension).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 200;
/// More mentions or references than this in one message is not a chat
/// message anyone writes by hand.
const MAX_MENTIONS: usize = 50;
const MAX_REFERENCES: usize = 10;

/// What a checked message body says, ready for the store.
#[derive(Debug)]
pub struct Composed {
    pub content_type: String,
    pub content: String,
    pub mentions: Vec<Mention>,
    pub references: Vec<i64>,
}

/// The body's content type (`text` or `html`, default `text`) and content;
/// 400 if empty, 413 if over 28 KB.
pub fn checked_body(body: ItemBody) -> Result<(String, String), GraphError> {
    let content_type = match body.content_type.as_str() {
        t if t.eq_ignore_ascii_case("text") => "text",
        t if t.eq_ignore_ascii_case("html") => "html",
        other => {
            return Err(GraphError::bad_request(format!(
                "body.contentType must be 'text' or 'html', not '{other}'."
            )))
        }
    };
    if body.content.trim().is_empty() {
        return Err(GraphError::bad_request("The message body is empty."));
    }
    if body.content.len() > MAX_MESSAGE_BYTES {
        return Err(GraphError::too_large(format!(
            "The message body is {} bytes; the limit is {MAX_MESSAGE_BYTES} (28 KB).",
            body.content.len()
        )));
    }
    Ok((content_type.to_owned(), body.content))
}

/// Checks that every mention and reference is where the body says it is,
/// as Graph does: `<at id="N">` for mention N, `<attachment id="X">` for
/// attachment X, in an HTML body.
pub fn compose(request: NewChatMessage) -> Result<Composed, GraphError> {
    let (content_type, content) = checked_body(request.body)?;
    let rich = !request.mentions.is_empty() || !request.attachments.is_empty();
    if rich && content_type != "html" {
        return Err(GraphError::bad_request(
            "Mentions and attachments need body.contentType 'html'.",
        ));
    }
    if request.mentions.len() > MAX_MENTIONS || request.attachments.len() > MAX_REFERENCES {
        return Err(GraphError::bad_request(format!(
            "At most {MAX_MENTIONS} mentions and {MAX_REFERENCES} attachments per message."
        )));
    }
    let mut mentions: Vec<Mention> = Vec::with_capacity(request.mentions.len());
    for mention in request.mentions {
        if mentions.iter().any(|m| m.id == mention.id) {
            return Err(GraphError::bad_request(format!(
                "Mention id {} is used twice.",
                mention.id
            )));
        }
        if !content.contains(&format!("<at id=\"{}\">", mention.id)) {
            return Err(GraphError::bad_request(format!(
                "Mention id {} is not referenced in the body: it needs <at id=\"{}\">…</at>.",
                mention.id, mention.id
            )));
        }
        let user = mention.mentioned.user.ok_or_else(|| {
            GraphError::bad_request("Only users can be mentioned (mentioned.user).")
        })?;
        let user_id = Uuid::try_parse(&user.id).map_err(|_| {
            GraphError::bad_request(format!("mentioned.user.id '{}' is not a user id.", user.id))
        })?;
        mentions.push(Mention {
            id: mention.id,
            mention_text: mention.mention_text,
            user_id,
            display_name: user.display_name.unwrap_or_default(),
        });
    }
    let mut references: Vec<i64> = Vec::with_capacity(request.attachments.len());
    for attachment in request.attachments {
        if attachment.content_type != MESSAGE_REFERENCE {
            return Err(GraphError::bad_request(format!(
                "Unsupported attachment contentType '{}': only 'messageReference' is supported.",
                attachment.content_type
            )));
        }
        let id: i64 = attachment.id.parse().map_err(|_| {
            GraphError::bad_request(format!(
                "Attachment id '{}' is not a message id.",
                attachment.id
            ))
        })?;
        if let Some(quoted) = attachment.content.as_deref().map(referenced_id) {
            if quoted != Some(id) {
                return Err(GraphError::bad_request(format!(
                    "The messageReference content's messageId must be the attachment id {id}."
                )));
            }
        }
        if !content.contains(&format!("<attachment id=\"{id}\">")) {
            return Err(GraphError::bad_request(format!(
                "Attachment '{id}' is not referenced in the body: it needs \
                 <attachment id=\"{id}\"></attachment>."
            )));
        }
        if !references.contains(&id) {
            references.push(id);
        }
    }
    Ok(Composed {
        content_type,
        content,
        mentions,
        references,
    })
}

/// `messageId` of a `messageReference` attachment's JSON content.
fn referenced_id(content: &str) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_str(content).ok()?;
    match &value["messageId"] {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The `Idempotency-Key` header, if any: 1 to 200 visible ASCII bytes.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, GraphError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_BYTES)
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} visible ASCII characters."
            ))
        })?;
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> Result<Composed, GraphError> {
        compose(serde_json::from_value(value).unwrap())
    }

    fn mention(id: i64) -> serde_json::Value {
        json!({"id": id, "mentionText": "Bob", "mentioned": {"user": {
            "id": "00000000-b0b0-4000-8000-000000000002", "displayName": "Bob",
            "userIdentityType": "aadUser"}}})
    }

    #[test]
    fn mentions_and_references_must_be_in_the_body() {
        let ok = parse(json!({
            "body": {"contentType": "html",
                     "content": "<attachment id=\"17\"></attachment>Hi <at id=\"0\">Bob</at>"},
            "mentions": [mention(0)],
            "attachments": [{"id": "17", "contentType": "messageReference",
                             "content": "{\"messageId\":\"17\"}"}],
        }))
        .unwrap();
        assert_eq!(ok.mentions[0].id, 0);
        assert_eq!(ok.references, [17]);

        let missing = parse(json!({
            "body": {"contentType": "html", "content": "Hi Bob"},
            "mentions": [mention(0)],
        }));
        assert_eq!(missing.unwrap_err().code, "BadRequest");
        let text = parse(json!({
            "body": {"contentType": "text", "content": "Hi <at id=\"0\">Bob</at>"},
            "mentions": [mention(0)],
        }));
        assert!(text.is_err());
        let twice = parse(json!({
            "body": {"contentType": "html", "content": "<at id=\"0\">B</at>"},
            "mentions": [mention(0), mention(0)],
        }));
        assert!(twice.is_err());
        let other_id = parse(json!({
            "body": {"contentType": "html", "content": "<attachment id=\"17\"></attachment>"},
            "attachments": [{"id": "17", "contentType": "messageReference",
                             "content": "{\"messageId\":\"18\"}"}],
        }));
        assert!(other_id.is_err());
        let file = parse(json!({
            "body": {"contentType": "html", "content": "<attachment id=\"17\"></attachment>"},
            "attachments": [{"id": "17", "contentType": "reference"}],
        }));
        assert!(file.is_err());
    }
}
