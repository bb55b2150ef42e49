//! The live WebSocket at [`LIVE_PATH`] (`convene_proto::live`): hints that
//! chats changed, typing, and presence, pushed to signed-in clients.
//!
//! A client upgrades with `Authorization: Bearer <communication token>`;
//! anything else is refused with 401 before the upgrade. The first frame is
//! `hello`. The server pings every [`PING_INTERVAL`] and drops a socket
//! that has not answered the previous ping, and closes it when the token
//! expires. A client message over [`MAX_CLIENT_FRAME_BYTES`] closes the
//! socket too.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use convene_proto::live::{ClientFrame, ServerFrame, LIVE_PATH, MAX_CLIENT_FRAME_BYTES};
use convene_proto::PROTOCOL_VERSION;
use uuid::Uuid;

use crate::api::ApiError;
use crate::call::{Caller, Calls};
use crate::exchange::{CommunicationIdentity, CommunicationTokens};
use crate::hub::{Hub, SocketId};
use crate::presence::Presence;
use crate::store::Store;

/// How often the server pings each socket.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);

/// What the live socket needs.
#[derive(Debug)]
pub struct Live {
    pub tokens: Arc<CommunicationTokens>,
    pub store: Store,
    pub hub: Arc<dyn Hub>,
    pub presence: Arc<Presence>,
    pub calls: Arc<Calls>,
    /// Tenants whose people may call each other: the tenants a tenant-mode
    /// server was told to allow, one organisation spread over several.
    /// Anyone else calls only within their own tenant.
    pub calling_tenants: Vec<Uuid>,
}

impl Live {
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(LIVE_PATH, get(upgrade))
            .with_state(self)
    }
}

/// Checks the communication token, then upgrades.
async fn upgrade(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(token) = crate::api::bearer_token(&headers) else {
        return ApiError::unauthorized(
            "The live socket needs Authorization: Bearer <communication token>.",
        )
        .into_response();
    };
    let identity = match live.tokens.verify_communication_token(token).await {
        Ok(identity) => identity,
        Err(error) => {
            // The error names what is wrong, never the token.
            tracing::info!(%error, "live: refused");
            return ApiError::unauthorized(error.to_string()).into_response();
        }
    };
    // Left alone, a client could send 64 MiB messages (tungstenite's
    // default), each parsed whole.
    ws.max_message_size(MAX_CLIENT_FRAME_BYTES)
        .max_frame_size(MAX_CLIENT_FRAME_BYTES)
        .on_upgrade(move |socket| serve(live, identity, socket))
}

/// One socket, from `hello` to close.
async fn serve(live: Arc<Live>, identity: CommunicationIdentity, mut socket: WebSocket) {
    let (user, tenant) = (identity.oid, identity.tid);
    let hello = ServerFrame::Hello {
        user_id: user.to_string(),
        protocol: PROTOCOL_VERSION,
    };
    // Attached before the hello: a client that has its hello can be called
    // (or sent a hint) at once, without a window in which it is missed.
    let (id, mut outbox) = live
        .presence
        .update(user, tenant, || live.hub.attach(user, tenant));
    tracing::debug!(%user, socket = id, "live: connected");
    let greeted = send(&mut socket, &hello).await.is_ok();
    if greeted {
        live.calls.socket_opened(user, id);
    }
    let expires = tokio::time::Instant::now()
        + identity
            .expires
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let mut awaiting_pong = false;
    if greeted {
        loop {
            tokio::select! {
                frame = outbox.recv() => match frame {
                    Some(frame) => {
                        if send(&mut socket, &frame).await.is_err() {
                            break;
                        }
                    }
                    // Dropped by the hub: too far behind.
                    None => break,
                },
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => {
                        received(&live, user, tenant, id, text.as_str()).await
                    }
                    Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                    Some(Ok(Message::Close(_))) | None => break,
                    // A broken connection, or a message over the size limit.
                    Some(Err(error)) => {
                        tracing::debug!(%user, socket = id, %error, "live: read failed, closing");
                        break;
                    }
                    Some(Ok(_)) => {}
                },
                _ = ping.tick() => {
                    if awaiting_pong {
                        tracing::debug!(%user, socket = id, "live: no pong, dropping");
                        break;
                    }
                    if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        break;
                    }
                    awaiting_pong = true;
                }
                () = tokio::time::sleep_until(expires) => {
                    tracing::debug!(%user, socket = id, "live: token expired, closing");
                    break;
                }
            }
        }
    }
    live.presence.update(user, tenant, || live.hub.detach(id));
    live.calls.socket_closed(id);
    let _ = socket.send(Message::Close(None)).await;
    tracing::debug!(%user, socket = id, "live: disconnected");
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), axum::Error> {
    let text = serde_json::to_string(frame).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}

/// A client frame: typing goes to the chat's other members, call frames to
/// the call registry; anything else (unknown types, malformed JSON) is
/// ignored.
async fn received(live: &Live, user: Uuid, tenant: Uuid, socket: SocketId, text: &str) {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(error) => {
            tracing::debug!(%user, socket, %error, "live: ignoring a malformed frame");
            return;
        }
    };
    match frame {
        ClientFrame::Typing { chat_id } => typing(live, user, chat_id).await,
        ClientFrame::Unknown => {}
        ClientFrame::CallInvite(_) => {
            let mut caller = Caller::default();
            let tenants = if live.calling_tenants.contains(&tenant) {
                live.calling_tenants.clone()
            } else {
                vec![tenant]
            };
            for tenant in tenants {
                match live.store.users(tenant).await {
                    Ok(users) => {
                        for colleague in users {
                            if colleague.object_id == user {
                                caller.name = Some(colleague.display_name);
                            }
                            caller.colleagues.push(colleague.object_id);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "live: cannot read the caller's organisation")
                    }
                }
            }
            live.calls.received(user, socket, caller, frame);
        }
        call => live.calls.received(user, socket, Caller::default(), call),
    }
}

async fn typing(live: &Live, user: Uuid, chat_id: String) {
    let members = match live.store.chat_members(chat_id.clone()).await {
        Ok(members) => members,
        Err(error) => {
            tracing::warn!(%error, "live: cannot read a chat's members");
            return;
        }
    };
    let Some(typist) = members.iter().find(|m| m.object_id == user) else {
        return; // Not a member (or no such chat): dropped.
    };
    let others: Vec<Uuid> = members
        .iter()
        .map(|m| m.object_id)
        .filter(|m| *m != user)
        .collect();
    live.hub.send_to_users(
        &others,
        &ServerFrame::Typing {
            chat_id,
            user_id: user.to_string(),
            display_name: Some(typist.display_name.clone()),
        },
        None,
    );
}
