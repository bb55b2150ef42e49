//! The request bodies Convene sends to Graph, shaped as Graph documents
//! them. The client serialises them; convene-server reads its requests into
//! the same types, so a field that Graph lets a client leave out is
//! optional here too (and left out when unset).

use serde::{Deserialize, Serialize};

use super::{ItemBody, TeamworkUserIdentity, UserIdentitySet};

/// The `@odata.type` of a chat member who is an Entra user.
pub const AAD_USER_CONVERSATION_MEMBER: &str = "#microsoft.graph.aadUserConversationMember";

/// `POST /chats`: a new chat with its members (the creator among them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewChat {
    /// `oneOnOne` or `group`.
    pub chat_type: String,
    /// A group chat's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default)]
    pub members: Vec<ConversationMember>,
}

/// An `aadUserConversationMember` as a request names one: a user bound by
/// URL, with roles. The body of `POST /chats/{id}/members`, and each of a
/// new chat's `members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMember {
    #[serde(
        rename = "@odata.type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// `owner` or `guest`; Graph wants them when adding a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// `https://graph.microsoft.com/v1.0/users('{id}')`.
    #[serde(
        rename = "user@odata.bind",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_bind: Option<String>,
    /// How much history a member added later sees (their adding time when
    /// absent; `0001-01-01T00:00:00Z` for all of it).
    #[serde(
        rename = "visibleHistoryStartDateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visible_history_start_date_time: Option<String>,
}

impl ConversationMember {
    /// The user with this Entra object id, as an owner.
    pub fn owner(user_id: &str) -> Self {
        Self {
            odata_type: Some(AAD_USER_CONVERSATION_MEMBER.to_owned()),
            roles: Some(vec!["owner".to_owned()]),
            user_bind: Some(user_bind(user_id)),
            visible_history_start_date_time: None,
        }
    }
}

/// The `user@odata.bind` URL of a user.
pub fn user_bind(user_id: &str) -> String {
    format!("https://graph.microsoft.com/v1.0/users('{user_id}')")
}

/// `POST /chats/{id}/messages`: a message, its mentions and its quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChatMessage {
    pub body: ItemBody,
    /// Each is `<at id="N">` in an HTML body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<MessageMention>,
    /// A reply's `messageReference`, `<attachment id="…">` in the body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MessageAttachment>,
}

impl NewChatMessage {
    /// A message of only a body.
    pub fn of_body(body: ItemBody) -> Self {
        Self {
            body,
            mentions: Vec::new(),
            attachments: Vec::new(),
        }
    }
}

/// A `chatMessageMention` as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageMention {
    /// Matches `<at id="N">` in the body.
    pub id: i64,
    pub mention_text: String,
    pub mentioned: UserIdentitySet,
}

/// A `chatMessageAttachment` as sent: Convene sends `messageReference`s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAttachment {
    /// For a `messageReference`, the quoted message's id.
    pub id: String,
    pub content_type: String,
    /// For a `messageReference`: JSON text of a [`super::MessageReference`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// `PATCH /chats/{id}/messages/{id}`: the new body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdit {
    pub body: ItemBody,
}

/// `POST …/messages/{id}/setReaction` and `…/unsetReaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionChange {
    /// A unicode emoji (or a legacy name such as `like`).
    pub reaction_type: String,
}

/// `POST /chats/{id}/markChatReadForUser` and `…/markChatUnreadForUser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatReadMark {
    /// The signed-in user (`id` and `tenantId`).
    pub user: TeamworkUserIdentity,
    /// Unread only: where the user's read position goes back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_read_date_time: Option<String>,
}

impl ChatReadMark {
    /// The user has read the chat up to now.
    pub fn read(user_id: &str, tenant_id: &str) -> Self {
        Self {
            user: TeamworkUserIdentity {
                id: user_id.to_owned(),
                display_name: None,
                user_identity_type: None,
                tenant_id: Some(tenant_id.to_owned()),
            },
            last_message_read_date_time: None,
        }
    }
}

/// `POST /communications/getPresencesByUserId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresencesByUserId {
    /// Entra object ids.
    pub ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    //! Each body against the example request of its Graph reference page.

    use serde_json::{json, Value};

    use super::*;
    use crate::graph::{MessageReference, AAD_USER, MESSAGE_REFERENCE};

    /// Serialises as `documented`, and reads back from it unchanged.
    fn assert_documented<T>(body: &T, documented: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        let documented: Value = serde_json::from_str(documented).unwrap();
        assert_eq!(serde_json::to_value(body).unwrap(), documented);
        assert_eq!(&serde_json::from_value::<T>(documented).unwrap(), body);
    }

    #[test]
    fn a_one_on_one_chat_is_created_as_graph_documents() {
        let body = NewChat {
            chat_type: "oneOnOne".into(),
            topic: None,
            members: vec![
                ConversationMember::owner("8b081ef6-4792-4def-b2c9-c363a1bf41d5"),
                ConversationMember::owner("82af01c5-f7cc-4a2e-a728-3a5df21afd9d"),
            ],
        };
        assert_documented(
            &body,
            r##"{
              "chatType": "oneOnOne",
              "members": [
                {
                  "@odata.type": "#microsoft.graph.aadUserConversationMember",
                  "roles": ["owner"],
                  "user@odata.bind": "https://graph.microsoft.com/v1.0/users('8b081ef6-4792-4def-b2c9-c363a1bf41d5')"
                },
                {
                  "@odata.type": "#microsoft.graph.aadUserConversationMember",
                  "roles": ["owner"],
                  "user@odata.bind": "https://graph.microsoft.com/v1.0/users('82af01c5-f7cc-4a2e-a728-3a5df21afd9d')"
                }
              ]
            }"##,
        );
    }

    #[test]
    fn a_group_chat_carries_its_topic() {
        let body = NewChat {
            chat_type: "group".into(),
            topic: Some("Group chat title".into()),
            members: vec![
                ConversationMember::owner("8b081ef6-4792-4def-b2c9-c363a1bf41d5"),
                ConversationMember::owner("82fe7758-5bb3-4f0d-a43f-e555fd399c6f"),
                ConversationMember::owner("4562bcc8-c436-4f95-b7c0-4f8ce89dca5e"),
            ],
        };
        assert_documented(
            &body,
            r##"{
              "chatType": "group",
              "topic": "Group chat title",
              "members": [
                {
                  "@odata.type": "#microsoft.graph.aadUserConversationMember",
                  "roles": ["owner"],
                  "user@odata.bind": "https://graph.microsoft.com/v1.0/users('8b081ef6-4792-4def-b2c9-c363a1bf41d5')"
                },
                {
                  "@odata.type": "#microsoft.graph.aadUserConversationMember",
                  "roles": ["owner"],
                  "user@odata.bind": "https://graph.microsoft.com/v1.0/users('82fe7758-5bb3-4f0d-a43f-e555fd399c6f')"
                },
                {
                  "@odata.type": "#microsoft.graph.aadUserConversationMember",
                  "roles": ["owner"],
                  "user@odata.bind": "https://graph.microsoft.com/v1.0/users('4562bcc8-c436-4f95-b7c0-4f8ce89dca5e')"
                }
              ]
            }"##,
        );
    }

    #[test]
    fn a_member_is_added_with_the_history_they_may_see() {
        let body = ConversationMember {
            visible_history_start_date_time: Some("2019-04-18T23:51:43.255Z".into()),
            user_bind: Some(
                "https://graph.microsoft.com/v1.0/users/8b081ef6-4792-4def-b2c9-c363a1bf41d5"
                    .into(),
            ),
            ..ConversationMember::owner("unused")
        };
        assert_documented(
            &body,
            r##"{
              "@odata.type": "#microsoft.graph.aadUserConversationMember",
              "user@odata.bind": "https://graph.microsoft.com/v1.0/users/8b081ef6-4792-4def-b2c9-c363a1bf41d5",
              "visibleHistoryStartDateTime": "2019-04-18T23:51:43.255Z",
              "roles": ["owner"]
            }"##,
        );
    }

    #[test]
    fn a_message_mentions_a_user_as_graph_documents() {
        let body = NewChatMessage {
            body: ItemBody {
                content_type: "html".into(),
                content: "Hello World <at id=\"0\">Jane Smith</at>".into(),
            },
            mentions: vec![MessageMention {
                id: 0,
                mention_text: "Jane Smith".into(),
                mentioned: UserIdentitySet {
                    user: Some(TeamworkUserIdentity::aad_user(
                        "ef1c916a-3135-4417-ba27-8eb7bd084193",
                        "Jane Smith",
                    )),
                },
            }],
            attachments: Vec::new(),
        };
        assert_documented(
            &body,
            r#"{
              "body": {
                "contentType": "html",
                "content": "Hello World <at id=\"0\">Jane Smith</at>"
              },
              "mentions": [
                {
                  "id": 0,
                  "mentionText": "Jane Smith",
                  "mentioned": {
                    "user": {
                      "displayName": "Jane Smith",
                      "id": "ef1c916a-3135-4417-ba27-8eb7bd084193",
                      "userIdentityType": "aadUser"
                    }
                  }
                }
              ]
            }"#,
        );
    }

    #[test]
    fn a_reply_quotes_its_parent_in_a_message_reference() {
        let reference = MessageReference {
            message_id: "1616990032035".into(),
            message_preview: Some("Hello everyone".into()),
            message_sender: Some(UserIdentitySet {
                user: Some(TeamworkUserIdentity::aad_user(
                    "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                    "Robin Kline",
                )),
            }),
        };
        let body = NewChatMessage {
            body: ItemBody {
                content_type: "html".into(),
                content: "<attachment id=\"1616990032035\"></attachment>Hello back".into(),
            },
            mentions: Vec::new(),
            attachments: vec![MessageAttachment {
                id: "1616990032035".into(),
                content_type: MESSAGE_REFERENCE.into(),
                content: Some(serde_json::to_string(&reference).unwrap()),
            }],
        };
        let documented = r#"{
          "body": {
            "contentType": "html",
            "content": "<attachment id=\"1616990032035\"></attachment>Hello back"
          },
          "attachments": [
            {
              "id": "1616990032035",
              "contentType": "messageReference",
              "content": "{\"messageId\":\"1616990032035\",\"messagePreview\":\"Hello everyone\",\"messageSender\":{\"user\":{\"id\":\"8ea0e38b-efb3-4757-924a-5f94061cf8c2\",\"displayName\":\"Robin Kline\",\"userIdentityType\":\"aadUser\"}}}"
            }
          ]
        }"#;
        assert_documented(&body, documented);
        // The quote itself, as Graph spells it (its key order is free).
        let content: Value =
            serde_json::from_str(body.attachments[0].content.as_deref().unwrap()).unwrap();
        assert_eq!(
            content,
            json!({
                "messageId": "1616990032035",
                "messagePreview": "Hello everyone",
                "messageSender": {"user": {
                    "userIdentityType": AAD_USER,
                    "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                    "displayName": "Robin Kline"
                }}
            })
        );
    }

    #[test]
    fn a_body_without_a_content_type_is_text() {
        // Graph's "hello world" example leaves contentType out.
        let body: NewChatMessage =
            serde_json::from_str(r#"{"body": {"content": "Hello world"}}"#).unwrap();
        assert_eq!(
            body,
            NewChatMessage::of_body(ItemBody {
                content_type: "text".into(),
                content: "Hello world".into(),
            })
        );
        let null: ItemBody =
            serde_json::from_str(r#"{"contentType": null, "content": "x"}"#).unwrap();
        assert_eq!(null.content_type, "text");
        // And a body of only a body is sent as only a body.
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"body": {"contentType": "text", "content": "Hello world"}})
        );
    }

    #[test]
    fn an_edit_replaces_the_body() {
        assert_documented(
            &MessageEdit {
                body: ItemBody {
                    content_type: "html".into(),
                    content: "<p>Updated message</p>".into(),
                },
            },
            r#"{"body": {"contentType": "html", "content": "<p>Updated message</p>"}}"#,
        );
    }

    #[test]
    fn a_reaction_is_its_emoji() {
        assert_documented(
            &ReactionChange {
                reaction_type: "💘".into(),
            },
            r#"{"reactionType": "💘"}"#,
        );
    }

    #[test]
    fn a_chat_is_marked_read_and_unread_for_its_user() {
        let read = ChatReadMark::read(
            "d864e79f-a516-4d0f-9fee-0eeb4d61fdc2",
            "2a690434-97d9-4eed-83a6-f5f13600199a",
        );
        assert_documented(
            &read,
            r#"{
              "user": {
                "id": "d864e79f-a516-4d0f-9fee-0eeb4d61fdc2",
                "tenantId": "2a690434-97d9-4eed-83a6-f5f13600199a"
              }
            }"#,
        );
        let unread = ChatReadMark {
            last_message_read_date_time: Some("2021-05-27T22:13:01.577Z".into()),
            ..read
        };
        assert_documented(
            &unread,
            r#"{
              "user": {
                "id": "d864e79f-a516-4d0f-9fee-0eeb4d61fdc2",
                "tenantId": "2a690434-97d9-4eed-83a6-f5f13600199a"
              },
              "lastMessageReadDateTime": "2021-05-27T22:13:01.577Z"
            }"#,
        );
    }

    #[test]
    fn presences_are_asked_for_by_user_id() {
        assert_documented(
            &PresencesByUserId {
                ids: vec![
                    "fa8bf3dc-eca7-46b7-bad1-db199b62afc3".into(),
                    "66825e03-7ef5-42da-9069-724602c31f6b".into(),
                ],
            },
            r#"{"ids": ["fa8bf3dc-eca7-46b7-bad1-db199b62afc3", "66825e03-7ef5-42da-9069-724602c31f6b"]}"#,
        );
    }
}
