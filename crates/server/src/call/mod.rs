//! Call signaling: the registry of calls in progress, their state machine,
//! relaying between the two bound devices, and call records.
//!
//! The rules live in [`registry::Registry`], a state machine without I/O
//! (input and the time in, frames, records and timers out). [`Calls`] drives
//! it on the server: it feeds it frames, socket events and due timers,
//! then sends the frames through the hub, stores the records and sleeps for
//! the timers.
//!
//! Calls live in memory (one server); their records go to the store through
//! one writer task, so that the start, answer and end of a call are written
//! in order.

pub mod api;
pub mod ice;
pub mod registry;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use convene_proto::call::MediaKind;
use convene_proto::live::ClientFrame;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::hub::Hub;
use crate::store::{CallRow, Store};

pub use crate::hub::SocketId;
pub use registry::{callee_of, Caller, Input, Now, Output, Registry, Timer, AWAY};

/// How long a call rings before it ends as `noAnswer`, unless configured.
pub const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a dropped device has to resume, unless configured.
pub const DEFAULT_RESUME_GRACE: Duration = Duration::from_secs(30);

/// The `8:orgid:` prefix of a Teams user's raw id.
pub const ORGID_PREFIX: &str = "8:orgid:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    pub ring_timeout: Duration,
    pub resume_grace: Duration,
    pub ice: ice::IceConfig,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            ring_timeout: DEFAULT_RING_TIMEOUT,
            resume_grace: DEFAULT_RESUME_GRACE,
            ice: ice::IceConfig::default(),
        }
    }
}

pub fn raw_id(oid: Uuid) -> String {
    format!("{ORGID_PREFIX}{oid}")
}

pub fn media_names(media: &[MediaKind]) -> String {
    media
        .iter()
        .filter_map(|m| match m {
            MediaKind::Audio => Some("audio"),
            MediaKind::Video => Some("video"),
            MediaKind::Unknown => None,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The call registry, driven on the server.
#[derive(Debug)]
pub struct Calls {
    hub: Arc<dyn Hub>,
    settings: CallSettings,
    registry: Mutex<Registry>,
    records: mpsc::UnboundedSender<CallRow>,
}

/// The time as the registry is told it: tokio's clock for timers and the
/// memory of ended calls (so that they agree with `tokio::time::sleep_until`,
/// paused or not), the system's wall clock for records.
fn now() -> Now {
    Now {
        at: tokio::time::Instant::now().into_std(),
        wall: SystemTime::now(),
    }
}

impl Calls {
    /// Starts the record writer; needs a tokio runtime.
    pub fn new(hub: Arc<dyn Hub>, store: Store, settings: CallSettings) -> Arc<Self> {
        let (records, mut queue) = mpsc::unbounded_channel::<CallRow>();
        tokio::spawn(async move {
            while let Some(row) = queue.recv().await {
                if let Err(error) = store.upsert_call(row).await {
                    tracing::warn!(%error, "calls: cannot store a call record");
                }
            }
        });
        Arc::new(Self {
            hub,
            registry: Mutex::new(Registry::new(&settings)),
            settings,
            records,
        })
    }

    /// Takes back the calls that were open when the server stopped (their
    /// records have no end): see [`Input::Restore`].
    pub fn restore(self: &Arc<Self>, open: Vec<CallRow>) {
        self.handle(Input::Restore(open));
    }

    pub fn settings(&self) -> &CallSettings {
        &self.settings
    }

    /// Handles a call frame from `user`'s socket `socket`. `caller` says
    /// who they are, for an invite.
    pub fn received(
        self: &Arc<Self>,
        user: Uuid,
        socket: SocketId,
        caller: Caller,
        frame: ClientFrame,
    ) {
        // Only the hub knows whether the callee has a connected device.
        let callee_online = match &frame {
            ClientFrame::CallInvite(invite) => {
                callee_of(invite).is_some_and(|callee| self.hub.is_connected(callee))
            }
            _ => false,
        };
        self.handle(Input::Frame {
            user,
            socket,
            caller,
            callee_online,
            frame,
        });
    }

    /// A device of `user` connected: if a call to them is ringing, it rings
    /// there too.
    pub fn socket_opened(self: &Arc<Self>, user: Uuid, socket: SocketId) {
        self.handle(Input::SocketOpened { user, socket });
    }

    /// A socket closed: calls bound to it wait for a resume, then fail.
    pub fn socket_closed(self: &Arc<Self>, socket: SocketId) {
        self.handle(Input::SocketClosed { socket });
    }

    /// Feeds the registry, then does what it says. Records are queued
    /// before the lock is let go, so that two inputs handled one after the
    /// other write their records in that order (an answer's record queued
    /// after the end's would reopen the call in the store); frames go out
    /// after, as they always did.
    fn handle(self: &Arc<Self>, input: Input) {
        let mut registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let outputs = registry.handle(now(), input);
        for output in &outputs {
            if let Output::Record(row) = output {
                let _ = self.records.send(row.clone());
            }
        }
        drop(registry);
        for output in outputs {
            match output {
                Output::ToSocket(socket, frame) => self.hub.send_to_socket(socket, &frame),
                Output::ToUsers {
                    users,
                    frame,
                    except,
                } => self.hub.send_to_users(&users, &frame, except),
                Output::Record(_) => {}
                Output::Wake { at, timer } => {
                    let calls = Arc::clone(self);
                    tokio::spawn(async move {
                        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                        calls.handle(Input::Timer(timer));
                    });
                }
            }
        }
    }
}
