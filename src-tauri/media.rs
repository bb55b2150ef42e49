//! The app's side of call media: the microphone and speaker through cpal
//! with echo cancellation between them, the camera through PipeWire (a
//! moving test pattern when there is none), and decoded video handed to
//! the window when it asks (see `video`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use convene_core::call::{AudioInput, MediaDevices, VideoInput};
use convene_core::{UserError, UserErrorCode};
use convene_media::{
    AudioDevice, AudioProcessor, AudioSink, AudioSource, DeviceChoice, DeviceKind, DeviceWatcher,
    EchoCancelled, EchoReference, FailoverInput, FailoverOutput, MediaError, PatternSource,
    VideoFrame,
};
use serde::Serialize;

use crate::video::{VideoOutlets, LOCAL_STREAM, REMOTE_STREAM};

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AudioDeviceInfo {
    pub name: String,
    pub input: bool,
    pub is_default: bool,
}

impl From<&AudioDevice> for AudioDeviceInfo {
    fn from(device: &AudioDevice) -> Self {
        Self {
            name: device.name.clone(),
            input: matches!(device.kind, DeviceKind::Input),
            is_default: device.is_default,
        }
    }
}

/// A camera for the device picker.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CameraDeviceInfo {
    /// What `select_camera` takes.
    pub name: String,
    pub description: String,
}

/// A device list that changed while the picker watched, whole.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DeviceListChange {
    Audio {
        devices: Vec<AudioDeviceInfo>,
    },
    /// Microphones and speakers could not be listed (no list has been
    /// reported yet): why.
    AudioUnavailable {
        error: UserError,
    },
    Cameras {
        cameras: Vec<CameraDeviceInfo>,
    },
}

/// How often a watch lists devices: ALSA every second, PipeWire (a
/// connection and a round trip each time) every two.
struct WatchIntervals {
    audio: Duration,
    cameras: Duration,
}

impl Default for WatchIntervals {
    fn default() -> Self {
        Self {
            audio: DeviceWatcher::DEFAULT_INTERVAL,
            cameras: Duration::from_secs(2),
        }
    }
}

/// The picker's watch, numbered so that a stale one cannot stop a newer.
#[derive(Default)]
struct DeviceWatch {
    number: u64,
    watchers: Vec<DeviceWatcher>,
}

#[derive(Default)]
pub struct AppMedia {
    /// Followed by a call's microphone and speaker: a new choice switches
    /// them at once.
    input: DeviceChoice,
    output: DeviceChoice,
    camera: DeviceChoice,
    pub video: VideoOutlets,
    /// One echo canceller: the speaker feeds it what it plays, the
    /// microphone's capture is cleaned against that.
    echo: Mutex<Option<AudioProcessor>>,
    /// Watch for devices plugged in or out while the picker is open.
    device_watch: Mutex<DeviceWatch>,
}

impl AppMedia {
    /// Reports the microphones and speakers, and the cameras, now and
    /// whenever one is plugged in or out, until `stop_watching_devices` or
    /// until `on_change` says nobody listens any more (returns false).
    /// Listing opens each ALSA device and asks PipeWire, so it runs only
    /// while someone looks (the picker is open), and one watch at a time:
    /// a new one replaces the last.
    pub fn watch_devices(
        self: &Arc<Self>,
        on_change: impl Fn(DeviceListChange) -> bool + Send + Sync + 'static,
    ) {
        self.watch_devices_with(
            WatchIntervals::default(),
            convene_media::audio_devices,
            AppMedia::cameras,
            on_change,
        );
    }

    fn watch_devices_with<A, C>(
        self: &Arc<Self>,
        every: WatchIntervals,
        audio: A,
        cameras: C,
        on_change: impl Fn(DeviceListChange) -> bool + Send + Sync + 'static,
    ) where
        A: FnMut() -> Result<Vec<AudioDevice>, MediaError> + Send + 'static,
        C: FnMut() -> Result<Vec<CameraDeviceInfo>, MediaError> + Send + 'static,
    {
        let number = {
            let mut watch = lock(&self.device_watch);
            watch.number += 1;
            watch.number
        };
        let media = Arc::downgrade(self);
        let deliver = Arc::new(move |change| {
            if !on_change(change) {
                if let Some(media) = media.upgrade() {
                    media.stop_watch(Some(number));
                }
            }
        });
        let deliver_cameras = Arc::clone(&deliver);
        let (input, output) = (self.input.clone(), self.output.clone());
        let watchers = vec![
            DeviceWatcher::start(every.audio, audio, move |listing| {
                deliver(match listing {
                    Ok(devices) => DeviceListChange::Audio {
                        devices: listed(devices, &input, &output),
                    },
                    Err(error) => DeviceListChange::AudioUnavailable {
                        error: UserError {
                            code: UserErrorCode::Other,
                            message: error.to_string(),
                        },
                    },
                })
            }),
            DeviceWatcher::start(every.cameras, cameras, move |listing| {
                // No PipeWire, no cameras: none are listed, and the call
                // uses the default (a test pattern).
                if let Ok(cameras) = listing {
                    deliver_cameras(DeviceListChange::Cameras {
                        cameras: cameras.to_vec(),
                    })
                }
            }),
        ];
        let mut watch = lock(&self.device_watch);
        if watch.number == number {
            let replaced = std::mem::replace(&mut watch.watchers, watchers);
            drop(watch);
            retire(replaced);
        } else {
            // A newer watch started meanwhile: this one is already stale.
            drop(watch);
            retire(watchers);
        }
    }

    pub fn stop_watching_devices(&self) {
        self.stop_watch(None);
    }

    /// Stops watch `number`, if it is still the current one (`None`: any).
    fn stop_watch(&self, number: Option<u64>) {
        let mut watch = lock(&self.device_watch);
        if number.is_some_and(|n| n != watch.number) {
            return;
        }
        let stopped = std::mem::take(&mut watch.watchers);
        drop(watch);
        retire(stopped);
    }

    /// The microphone and speaker (`None`: the system default), for the
    /// call in progress as for the next.
    pub fn select(&self, input: Option<String>, output: Option<String>) {
        self.input.set(input);
        self.output.set(output);
    }

    /// The cameras PipeWire offers; blocks while it answers.
    #[cfg(target_os = "linux")]
    pub fn cameras() -> Result<Vec<CameraDeviceInfo>, MediaError> {
        Ok(convene_media::camera::list_cameras()?
            .into_iter()
            .map(|c| CameraDeviceInfo {
                name: c.name,
                description: c.description,
            })
            .collect())
    }

    #[cfg(not(target_os = "linux"))]
    pub fn cameras() -> Result<Vec<CameraDeviceInfo>, MediaError> {
        Ok(Vec::new())
    }

    /// The camera (`None`: the system default); a call sending video
    /// switches to it at once.
    pub fn select_camera(&self, name: Option<String>) {
        self.camera.set(name);
    }

    /// The chosen camera, or a moving test pattern when there is none, so
    /// that the other side still sees that video works.
    fn open_camera(&self) -> VideoInput {
        #[cfg(target_os = "linux")]
        {
            use convene_media::camera::{CameraRequest, PipewireCamera};
            let chosen = self.camera.name();
            match PipewireCamera::open(chosen.as_deref(), CameraRequest::default()) {
                Ok(camera) => {
                    return VideoInput {
                        source: Box::new(camera),
                        realtime: true,
                    }
                }
                Err(error) => tracing::info!(%error, "no camera: a test pattern stands in"),
            }
        }
        VideoInput {
            source: Box::new(PatternSource::new(640, 360, 30)),
            realtime: false,
        }
    }

    fn processor(&self) -> Option<AudioProcessor> {
        let mut echo = lock(&self.echo);
        if echo.is_none() {
            match AudioProcessor::new() {
                Ok(processor) => *echo = Some(processor),
                Err(error) => tracing::warn!(%error, "no echo cancellation"),
            }
        }
        echo.clone()
    }
}

/// What the picker shows: the listing, and a chosen device that a call
/// has open although the listing missed it (ALSA's hardware devices open
/// only once, so a listing skips them while they are in use). Without
/// this, the picker would call the device in use "not connected".
fn listed(
    devices: &[AudioDevice],
    input: &DeviceChoice,
    output: &DeviceChoice,
) -> Vec<AudioDeviceInfo> {
    let mut shown: Vec<AudioDeviceInfo> = devices.iter().map(AudioDeviceInfo::from).collect();
    for (choice, is_input) in [(input, true), (output, false)] {
        let (Some(chosen), Some(in_use)) = (choice.name(), choice.in_use()) else {
            continue;
        };
        if chosen == in_use
            && !shown
                .iter()
                .any(|d| d.input == is_input && d.name == chosen)
        {
            shown.push(AudioDeviceInfo {
                name: chosen,
                input: is_input,
                is_default: false,
            });
        }
    }
    shown
}

/// Stops watchers at once, and waits for their threads (a PipeWire listing
/// in progress can take seconds) away from the caller, which is the
/// window's thread for a command.
fn retire(mut watchers: Vec<DeviceWatcher>) {
    if watchers.is_empty() {
        return;
    }
    watchers.iter_mut().for_each(DeviceWatcher::stop);
    // Should no thread be had, they are dropped (and waited for) here.
    let _ = std::thread::Builder::new()
        .name("convene-device-watch-stop".into())
        .spawn(move || drop(watchers));
}

/// A lock whose holder panicked is still good: the data is plain values.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl MediaDevices for AppMedia {
    fn microphone(&self) -> Result<AudioInput, MediaError> {
        let device = FailoverInput::open(self.input.clone())?;
        let source: Box<dyn AudioSource> = match self.processor() {
            Some(processor) => Box::new(EchoCancelled {
                microphone: device,
                processor,
            }),
            None => Box::new(device),
        };
        Ok(AudioInput {
            source,
            realtime: true,
        })
    }

    fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError> {
        let device = FailoverOutput::open(self.output.clone())?;
        Ok(match self.processor() {
            Some(processor) => Box::new(EchoReference {
                speaker: device,
                processor,
            }),
            None => Box::new(device),
        })
    }

    fn camera(&self) -> Result<Option<VideoInput>, MediaError> {
        Ok(Some(self.open_camera()))
    }

    fn camera_choice(&self) -> u64 {
        self.camera.version()
    }

    fn remote_video(&self, frame: &VideoFrame) {
        self.video.offer(REMOTE_STREAM, frame);
    }

    fn local_video(&self, frame: &VideoFrame) {
        self.video.offer(LOCAL_STREAM, frame);
    }
}

/// Shared with the commands.
pub type SharedMedia = Arc<AppMedia>;

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    const FAST: WatchIntervals = WatchIntervals {
        audio: Duration::from_millis(5),
        cameras: Duration::from_millis(5),
    };
    const WAIT: Duration = Duration::from_secs(5);

    fn device(name: &str, kind: DeviceKind) -> AudioDevice {
        AudioDevice {
            name: name.into(),
            kind,
            is_default: false,
        }
    }

    fn camera(name: &str) -> CameraDeviceInfo {
        CameraDeviceInfo {
            name: name.into(),
            description: name.to_uppercase(),
        }
    }

    /// The names in each change, "audio:" or "cameras:" first.
    fn names(change: DeviceListChange) -> String {
        match change {
            DeviceListChange::Audio { devices } => format!(
                "audio:{}",
                devices
                    .iter()
                    .map(|d| format!("{}{}", d.name, if d.input { "<" } else { ">" }))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            DeviceListChange::AudioUnavailable { error } => {
                format!("audio unavailable:{}", error.message)
            }
            DeviceListChange::Cameras { cameras } => format!(
                "cameras:{}",
                cameras
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// The next `count` changes, in any order between the two kinds.
    fn next(rx: &mpsc::Receiver<DeviceListChange>, count: usize) -> Vec<String> {
        let mut got: Vec<String> = (0..count)
            .map(|_| names(rx.recv_timeout(WAIT).expect("a change")))
            .collect();
        got.sort();
        got
    }

    #[test]
    fn devices_plugged_in_while_watching_are_reported_and_nothing_after_stopping() {
        let media = Arc::new(AppMedia::default());
        let audio = Arc::new(Mutex::new(vec![device("Speakers", DeviceKind::Output)]));
        let cameras = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        media.watch_devices_with(
            FAST,
            {
                let audio = Arc::clone(&audio);
                move || Ok(lock(&audio).clone())
            },
            {
                let cameras = Arc::clone(&cameras);
                move || Ok(lock(&cameras).clone())
            },
            move |change| tx.send(change).is_ok(),
        );
        assert_eq!(next(&rx, 2), ["audio:Speakers>", "cameras:"]);

        lock(&audio).push(device("USB Headset", DeviceKind::Input));
        assert_eq!(next(&rx, 1), ["audio:Speakers>,USB Headset<"]);
        lock(&cameras).push(camera("webcam"));
        assert_eq!(next(&rx, 1), ["cameras:webcam"]);

        media.stop_watching_devices();
        lock(&audio).pop();
        lock(&cameras).pop();
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a stopped watch reports nothing"
        );
    }

    #[test]
    fn the_picker_learns_why_there_are_no_sound_devices_and_no_cameras_are_none() {
        let media = Arc::new(AppMedia::default());
        let (tx, rx) = mpsc::channel();
        media.watch_devices_with(
            FAST,
            || Err(MediaError::DeviceNotFound("no sound server".into())),
            || Err(MediaError::DeviceNotFound("no PipeWire".into())),
            move |change| tx.send(change).is_ok(),
        );
        let change = names(rx.recv_timeout(WAIT).expect("a change"));
        assert!(
            change.starts_with("audio unavailable:") && change.contains("no sound server"),
            "{change}"
        );
        // Said once; and a camera listing that fails is not a change.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        media.stop_watching_devices();
    }

    #[test]
    fn a_chosen_device_a_call_holds_stays_listed_though_the_listing_misses_it() {
        let media = AppMedia::default();
        let usb = "hw:CARD=USB,DEV=0";
        media.select(Some(usb.into()), None);
        let listing = [
            device("default", DeviceKind::Input),
            device("default", DeviceKind::Output),
        ];
        let shown = |media: &AppMedia| {
            listed(&listing, &media.input, &media.output)
                .iter()
                .map(|d| format!("{}{}", d.name, if d.input { "<" } else { ">" }))
                .collect::<Vec<_>>()
        };
        // Not open: unplugged, as far as anyone can tell.
        assert_eq!(shown(&media), ["default<", "default>"]);
        // Open for a call, so busy and missing from the listing: still there.
        media.input.set_in_use(Some(usb));
        assert_eq!(
            shown(&media),
            ["default<", "default>", "hw:CARD=USB,DEV=0<"]
        );
        // The call fell back to the default: the chosen one is really gone.
        media.input.set_in_use(Some("default"));
        assert_eq!(shown(&media), ["default<", "default>"]);
    }

    #[test]
    fn a_watch_nobody_listens_to_stops_itself() {
        let media = Arc::new(AppMedia::default());
        let plugged = Arc::new(Mutex::new(vec![device("Speakers", DeviceKind::Output)]));
        let (tx, rx) = mpsc::channel();
        let listened = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let still = Arc::clone(&listened);
        media.watch_devices_with(
            FAST,
            {
                let plugged = Arc::clone(&plugged);
                move || Ok(lock(&plugged).clone())
            },
            || Ok(Vec::new()),
            move |change| {
                // Read before the change is handed over: the test turns it
                // off once it has the first two.
                let listening = still.load(std::sync::atomic::Ordering::SeqCst);
                let _ = tx.send(change);
                listening
            },
        );
        next(&rx, 2);
        // The window went away: the next change finds nobody listening.
        listened.store(false, std::sync::atomic::Ordering::SeqCst);
        lock(&plugged).push(device("USB Headset", DeviceKind::Input));
        assert_eq!(next(&rx, 1), ["audio:Speakers>,USB Headset<"]);
        // Then the watch stops: its threads end, dropping the sender.
        assert!(matches!(
            rx.recv_timeout(WAIT),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
        assert!(lock(&media.device_watch).watchers.is_empty());
    }

    #[test]
    fn a_new_watch_replaces_the_last() {
        let media = Arc::new(AppMedia::default());
        let watch = |media: &Arc<AppMedia>| {
            let (tx, rx) = mpsc::channel();
            media.watch_devices_with(
                FAST,
                || Ok(vec![device("Speakers", DeviceKind::Output)]),
                || Ok(vec![camera("webcam")]),
                move |change| tx.send(change).is_ok(),
            );
            rx
        };
        let first = watch(&media);
        next(&first, 2);
        let second = watch(&media);
        next(&second, 2);
        // The first watch's threads have ended, dropping its sender.
        assert!(matches!(
            first.recv_timeout(Duration::from_secs(1)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }
}
