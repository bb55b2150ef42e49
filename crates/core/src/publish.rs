//! [`Publisher`]: how a part of the client reports what happened without
//! knowing who listens. Each part publishes its own events; the client
//! wraps them into its one ordered stream as they are published, so the
//! order across parts is kept.

use std::sync::Arc;

use tokio::sync::mpsc;

/// Publishes events of type `T`.
pub struct Publisher<T> {
    publish: Arc<dyn Fn(T) -> bool + Send + Sync>,
}

impl<T> Clone for Publisher<T> {
    fn clone(&self) -> Self {
        Self {
            publish: Arc::clone(&self.publish),
        }
    }
}

impl<T> std::fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Publisher")
    }
}

impl<T: Send + 'static> Publisher<T> {
    /// `publish` answers whether anyone still listens.
    pub fn new(publish: impl Fn(T) -> bool + Send + Sync + 'static) -> Self {
        Self {
            publish: Arc::new(publish),
        }
    }

    /// Into a channel of events that `T` converts into; events published
    /// after its receiver is gone are dropped.
    pub fn into_channel<U: From<T> + Send + 'static>(channel: mpsc::UnboundedSender<U>) -> Self {
        Self::new(move |event| channel.send(U::from(event)).is_ok())
    }

    /// Publishes `event`; false once nobody listens any more.
    pub fn publish(&self, event: T) -> bool {
        (self.publish)(event)
    }
}
