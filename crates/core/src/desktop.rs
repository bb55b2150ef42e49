//! Desktop notifications with buttons, through the freedesktop.org
//! notification service on the session bus (GNOME Shell, KDE Plasma, dunst,
//! mako, …). An incoming call needs more than a toast: Answer, Answer with
//! video and Decline must work from the notification itself, and the
//! notification must disappear when the call stops ringing.
//!
//! Spec: <https://specifications.freedesktop.org/notification-spec/latest/>.

use std::collections::HashMap;

use futures_util::StreamExt;
use zbus::zvariant::Value;

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications"
)]
trait Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    fn close_notification(&self, id: u32) -> zbus::Result<()>;

    fn get_capabilities(&self) -> zbus::Result<Vec<String>>;

    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;

    #[zbus(signal)]
    fn notification_closed(&self, id: u32, reason: u32) -> zbus::Result<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("no desktop notification service: {0}")]
    Unavailable(#[source] zbus::Error),
    #[error("the notification service refused the notification: {0}")]
    Refused(#[source] zbus::Error),
}

/// What the person did with an incoming-call notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAlertChoice {
    AnswerAudio,
    AnswerVideo,
    Decline,
    /// Clicked the notification's body: bring the window forward.
    Open,
    /// Closed without choosing (or the service dropped it).
    Dismissed,
}

impl CallAlertChoice {
    fn from_action_key(key: &str) -> Option<Self> {
        match key {
            ANSWER_AUDIO => Some(Self::AnswerAudio),
            ANSWER_VIDEO => Some(Self::AnswerVideo),
            DECLINE => Some(Self::Decline),
            "default" => Some(Self::Open),
            _ => None,
        }
    }
}

const ANSWER_AUDIO: &str = "answer-audio";
const ANSWER_VIDEO: &str = "answer-video";
const DECLINE: &str = "decline";

/// The urgency hint's "critical": the notification stays until acted on or
/// withdrawn, instead of timing out like a chat message.
const URGENCY_CRITICAL: u8 = 2;

/// A connection to the session's notification service.
#[derive(Clone)]
pub struct Notifier {
    proxy: NotificationsProxy<'static>,
    app_name: String,
    /// The desktop file name (without `.desktop`), which lets the service
    /// show the app's name and icon.
    desktop_entry: String,
}

impl Notifier {
    /// Connects to the session bus. Fails when there is no session bus; a
    /// missing notification service shows up on the first notification.
    pub async fn session(app_name: &str, desktop_entry: &str) -> Result<Self, NotifierError> {
        let bus = zbus::Connection::session()
            .await
            .map_err(NotifierError::Unavailable)?;
        let proxy = NotificationsProxy::new(&bus)
            .await
            .map_err(NotifierError::Unavailable)?;
        Ok(Self {
            proxy,
            app_name: app_name.to_owned(),
            desktop_entry: desktop_entry.to_owned(),
        })
    }

    /// Shows "Name is calling" with Answer, Answer with video (for a video
    /// call) and Decline. Services without action buttons still show it,
    /// and clicking it (where possible) opens the app.
    pub async fn incoming_call(
        &self,
        caller: &str,
        video: bool,
    ) -> Result<CallAlert, NotifierError> {
        let capabilities = self
            .proxy
            .get_capabilities()
            .await
            .map_err(NotifierError::Unavailable)?;
        let with_buttons = capabilities.iter().any(|c| c == "actions");

        // Listen before showing, so that a quick click is not missed.
        let actions = self
            .proxy
            .receive_action_invoked()
            .await
            .map_err(NotifierError::Unavailable)?;
        let closed = self
            .proxy
            .receive_notification_closed()
            .await
            .map_err(NotifierError::Unavailable)?;

        let mut buttons = vec!["default", "Open"];
        if with_buttons {
            if video {
                buttons.extend([ANSWER_VIDEO, "Answer with video"]);
            }
            buttons.extend([ANSWER_AUDIO, "Answer", DECLINE, "Decline"]);
        }
        let body = match (video, with_buttons) {
            (true, true) => "Incoming video call",
            (false, true) => "Incoming call",
            (true, false) => "Incoming video call: answer or decline in Convene",
            (false, false) => "Incoming call: answer or decline in Convene",
        };
        let hints = HashMap::from([
            ("urgency", Value::U8(URGENCY_CRITICAL)),
            ("category", Value::from("call.incoming")),
            ("desktop-entry", Value::from(self.desktop_entry.as_str())),
            ("resident", Value::Bool(true)),
        ]);
        let summary = format!("{caller} is calling");
        let id = self
            .proxy
            .notify(&self.app_name, 0, "", &summary, body, &buttons, hints, 0)
            .await
            .map_err(NotifierError::Refused)?;
        Ok(CallAlert {
            id,
            proxy: self.proxy.clone(),
            actions,
            closed,
        })
    }
}

/// One incoming-call notification on screen.
pub struct CallAlert {
    id: u32,
    proxy: NotificationsProxy<'static>,
    actions: ActionInvokedStream,
    closed: NotificationClosedStream,
}

impl CallAlert {
    /// Waits for the person's choice. Clicking the body (`Open`) does not
    /// end the wait for a service that keeps the notification up, so call
    /// again after acting on it.
    pub async fn choice(&mut self) -> CallAlertChoice {
        loop {
            tokio::select! {
                Some(signal) = self.actions.next() => {
                    let Ok(args) = signal.args() else { continue };
                    if args.id != self.id {
                        continue;
                    }
                    if let Some(choice) = CallAlertChoice::from_action_key(&args.action_key) {
                        return choice;
                    }
                }
                Some(signal) = self.closed.next() => {
                    if signal.args().is_ok_and(|args| args.id == self.id) {
                        return CallAlertChoice::Dismissed;
                    }
                }
                else => return CallAlertChoice::Dismissed,
            }
        }
    }

    /// Takes the notification off the screen (the call was answered in the
    /// app, answered elsewhere, or the caller gave up).
    pub async fn withdraw(self) {
        if let Err(error) = self.proxy.close_notification(self.id).await {
            tracing::debug!(%error, "could not withdraw a notification");
        }
    }
}
