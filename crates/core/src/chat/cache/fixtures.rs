//! What the cache's tests share: one chat and messages in it.

use convene_proto::graph::{Chat, ChatMessage, Identity, ItemBody, MessageFrom};

use crate::chat::view::ThreadMessage;

pub(super) const ME: &str = "me";

pub(super) fn chat() -> Chat {
    Chat {
        id: "19:c".into(),
        chat_type: "oneOnOne".into(),
        topic: None,
        last_updated_date_time: Some("2026-11-27T10:00:00.000Z".into()),
        members: Some(vec![]),
        viewpoint: None,
    }
}

pub(super) fn message(id: &str, at: &str, from: &str) -> ChatMessage {
    ChatMessage {
        id: id.into(),
        chat_id: None,
        created_date_time: at.into(),
        last_modified_date_time: Some(at.into()),
        last_edited_date_time: None,
        deleted_date_time: None,
        from: Some(MessageFrom {
            user: Some(Identity {
                id: from.into(),
                display_name: Some(from.into()),
            }),
        }),
        body: ItemBody {
            content_type: "text".into(),
            content: format!("text {id}"),
        },
        message_type: Some("message".into()),
        attachments: vec![],
        mentions: vec![],
        reactions: vec![],
    }
}

pub(super) fn keys(messages: &[ThreadMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.key.as_str()).collect()
}
