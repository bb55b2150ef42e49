//! Who is connected where: user → that user's live sockets (one per
//! device), and delivery of frames to them.
//!
//! [`Hub`] is the seam for running several servers behind one address
//! later (a NATS-backed hub would publish to subjects instead of queues);
//! [`LocalHub`] is the in-process one.

use std::collections::HashMap;
use std::sync::Mutex;

use convene_proto::live::ServerFrame;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Identifies one socket in the hub.
pub type SocketId = u64;

/// Frames waiting for one socket. A socket this far behind is dropped
/// (its client reconnects and refetches) rather than buffered forever.
pub const SOCKET_QUEUE: usize = 256;

/// Delivers frames to users' sockets.
pub trait Hub: Send + Sync + std::fmt::Debug {
    /// Registers a socket of `user` (of `tenant`); frames for it arrive on
    /// the receiver until [`Hub::detach`] or until it falls too far behind.
    fn attach(&self, user: Uuid, tenant: Uuid) -> (SocketId, mpsc::Receiver<ServerFrame>);
    fn detach(&self, socket: SocketId);
    /// To every socket of these users, but `except`.
    fn send_to_users(&self, users: &[Uuid], frame: &ServerFrame, except: Option<SocketId>);
    /// To one socket (a call's bound device).
    fn send_to_socket(&self, socket: SocketId, frame: &ServerFrame);
    /// To every socket of the tenant's users.
    fn send_to_tenant(&self, tenant: Uuid, frame: &ServerFrame);
    /// Whether the user has at least one socket.
    fn is_connected(&self, user: Uuid) -> bool;
}

#[derive(Debug)]
struct Socket {
    user: Uuid,
    tenant: Uuid,
    outbox: mpsc::Sender<ServerFrame>,
}

#[derive(Debug, Default)]
struct Sockets {
    next_id: SocketId,
    by_id: HashMap<SocketId, Socket>,
    by_user: HashMap<Uuid, Vec<SocketId>>,
}

impl Sockets {
    fn remove(&mut self, id: SocketId) {
        let Some(socket) = self.by_id.remove(&id) else {
            return;
        };
        if let Some(ids) = self.by_user.get_mut(&socket.user) {
            ids.retain(|s| *s != id);
            if ids.is_empty() {
                self.by_user.remove(&socket.user);
            }
        }
    }

    /// Queues `frame` for each socket; drops those whose queue is full
    /// or whose task is gone.
    fn deliver(&mut self, ids: Vec<SocketId>, frame: &ServerFrame) {
        let mut dead = Vec::new();
        for id in ids {
            let Some(socket) = self.by_id.get(&id) else {
                continue;
            };
            if let Err(error) = socket.outbox.try_send(frame.clone()) {
                tracing::debug!(socket = id, %error, "live: dropping a socket that cannot keep up");
                dead.push(id);
            }
        }
        for id in dead {
            self.remove(id);
        }
    }
}

/// The in-process hub.
#[derive(Debug, Default)]
pub struct LocalHub {
    sockets: Mutex<Sockets>,
}

impl LocalHub {
    pub fn new() -> Self {
        Self::default()
    }

    fn sockets(&self) -> std::sync::MutexGuard<'_, Sockets> {
        // A panic while holding the lock leaves only maps behind, which
        // stay consistent enough to keep delivering.
        self.sockets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Hub for LocalHub {
    fn attach(&self, user: Uuid, tenant: Uuid) -> (SocketId, mpsc::Receiver<ServerFrame>) {
        let (outbox, inbox) = mpsc::channel(SOCKET_QUEUE);
        let mut sockets = self.sockets();
        sockets.next_id += 1;
        let id = sockets.next_id;
        sockets.by_id.insert(
            id,
            Socket {
                user,
                tenant,
                outbox,
            },
        );
        sockets.by_user.entry(user).or_default().push(id);
        (id, inbox)
    }

    fn detach(&self, socket: SocketId) {
        self.sockets().remove(socket);
    }

    fn send_to_users(&self, users: &[Uuid], frame: &ServerFrame, except: Option<SocketId>) {
        let mut sockets = self.sockets();
        let ids: Vec<SocketId> = users
            .iter()
            .filter_map(|u| sockets.by_user.get(u))
            .flatten()
            .copied()
            .filter(|id| Some(*id) != except)
            .collect();
        sockets.deliver(ids, frame);
    }

    fn send_to_socket(&self, socket: SocketId, frame: &ServerFrame) {
        self.sockets().deliver(vec![socket], frame);
    }

    fn send_to_tenant(&self, tenant: Uuid, frame: &ServerFrame) {
        let mut sockets = self.sockets();
        let ids: Vec<SocketId> = sockets
            .by_id
            .iter()
            .filter(|(_, s)| s.tenant == tenant)
            .map(|(id, _)| *id)
            .collect();
        sockets.deliver(ids, frame);
    }

    fn is_connected(&self, user: Uuid) -> bool {
        self.sockets().by_user.contains_key(&user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use convene_proto::live::ChangeKind;

    fn hint() -> ServerFrame {
        ServerFrame::ChatChanged {
            chat_id: "19:a".into(),
            message_id: None,
            change: ChangeKind::Chat,
        }
    }

    #[tokio::test]
    async fn frames_reach_every_device_of_a_user_but_the_excepted_one() {
        let hub = LocalHub::new();
        let (alice, tenant) = (Uuid::from_u128(1), Uuid::from_u128(9));
        let (phone, mut phone_rx) = hub.attach(alice, tenant);
        let (_laptop, mut laptop_rx) = hub.attach(alice, tenant);
        hub.send_to_users(&[alice], &hint(), Some(phone));
        assert_eq!(laptop_rx.recv().await, Some(hint()));
        assert!(phone_rx.try_recv().is_err());
        hub.send_to_tenant(tenant, &hint());
        assert_eq!(phone_rx.recv().await, Some(hint()));
        hub.detach(phone);
        assert!(hub.is_connected(alice));
    }

    #[test]
    fn a_socket_that_cannot_keep_up_is_dropped() {
        let hub = LocalHub::new();
        let user = Uuid::from_u128(1);
        let (_id, rx) = hub.attach(user, Uuid::nil());
        for _ in 0..=SOCKET_QUEUE {
            hub.send_to_users(&[user], &hint(), None);
        }
        assert!(!hub.is_connected(user));
        drop(rx);
    }
}
