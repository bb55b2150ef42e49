//! The device picker's lists: microphones, speakers and cameras, now and
//! whenever one is plugged in or out, while someone looks.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use convene_media::{AudioDevice, DeviceChoice, DeviceKind, DeviceWatcher, MediaError};
use serde::Serialize;

use crate::{UserError, UserErrorCode};

/// A microphone or speaker for the device picker.
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
    /// What selecting a camera takes.
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

/// How often a watch lists devices: ALSA every second, PipeWire (a
/// connection and a round trip each time) every two.
pub(crate) struct WatchIntervals {
    pub audio: Duration,
    pub cameras: Duration,
}

impl Default for WatchIntervals {
    fn default() -> Self {
        Self {
            audio: DeviceWatcher::DEFAULT_INTERVAL,
            cameras: Duration::from_secs(2),
        }
    }
}

/// The picker's watch. Listing opens each ALSA device and asks PipeWire,
/// so it runs only while someone looks, and one watch at a time: a new one
/// replaces the last. Numbered so that a stale one cannot stop a newer.
#[derive(Default)]
pub struct DeviceWatch(Mutex<Watching>);

#[derive(Default)]
struct Watching {
    number: u64,
    watchers: Vec<DeviceWatcher>,
}

impl DeviceWatch {
    /// Reports the sound devices (with `input` and `output`, the choices a
    /// call follows) and the cameras, now and on every change, until
    /// [`stop`](Self::stop) or until `on_change` says nobody listens any
    /// more (returns false).
    pub(crate) fn start<A, C>(
        self: &Arc<Self>,
        every: WatchIntervals,
        (audio, cameras): (A, C),
        (input, output): (DeviceChoice, DeviceChoice),
        on_change: impl Fn(DeviceListChange) -> bool + Send + Sync + 'static,
    ) where
        A: FnMut() -> Result<Vec<AudioDevice>, MediaError> + Send + 'static,
        C: FnMut() -> Result<Vec<CameraDeviceInfo>, MediaError> + Send + 'static,
    {
        let number = {
            let mut watching = self.lock();
            watching.number += 1;
            watching.number
        };
        let watch: Weak<Self> = Arc::downgrade(self);
        let deliver = Arc::new(move |change| {
            if !on_change(change) {
                if let Some(watch) = watch.upgrade() {
                    watch.stop_number(Some(number));
                }
            }
        });
        let deliver_cameras = Arc::clone(&deliver);
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
        let mut watching = self.lock();
        if watching.number == number {
            let replaced = std::mem::replace(&mut watching.watchers, watchers);
            drop(watching);
            retire(replaced);
        } else {
            // A newer watch started meanwhile: this one is already stale.
            drop(watching);
            retire(watchers);
        }
    }

    pub fn stop(&self) {
        self.stop_number(None);
    }

    /// Stops watch `number`, if it is still the current one (`None`: any).
    fn stop_number(&self, number: Option<u64>) {
        let mut watching = self.lock();
        if number.is_some_and(|n| n != watching.number) {
            return;
        }
        let stopped = std::mem::take(&mut watching.watchers);
        drop(watching);
        retire(stopped);
    }

    #[cfg(test)]
    pub(crate) fn is_watching(&self) -> bool {
        !self.lock().watchers.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watching> {
        // A holder that panicked left plain values: still good.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the picker shows: the listing, and a chosen device that a call
/// has open although the listing missed it (ALSA's hardware devices open
/// only once, so a listing skips them while they are in use). Without
/// this, the picker would call the device in use "not connected".
pub(crate) fn listed(
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
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

    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap()
    }

    /// Starts a watch with default choices on these listings.
    fn watch<A, C>(
        watch: &Arc<DeviceWatch>,
        audio: A,
        cameras: C,
        on_change: impl Fn(DeviceListChange) -> bool + Send + Sync + 'static,
    ) where
        A: FnMut() -> Result<Vec<AudioDevice>, MediaError> + Send + 'static,
        C: FnMut() -> Result<Vec<CameraDeviceInfo>, MediaError> + Send + 'static,
    {
        watch.start(FAST, (audio, cameras), Default::default(), on_change);
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
        let picker = Arc::new(DeviceWatch::default());
        let audio = Arc::new(Mutex::new(vec![device("Speakers", DeviceKind::Output)]));
        let cameras = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        watch(
            &picker,
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

        picker.stop();
        lock(&audio).pop();
        lock(&cameras).pop();
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a stopped watch reports nothing"
        );
    }

    #[test]
    fn the_picker_learns_why_there_are_no_sound_devices_and_no_cameras_are_none() {
        let picker = Arc::new(DeviceWatch::default());
        let (tx, rx) = mpsc::channel();
        watch(
            &picker,
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
        picker.stop();
    }

    #[test]
    fn a_chosen_device_a_call_holds_stays_listed_though_the_listing_misses_it() {
        let usb = "hw:CARD=USB,DEV=0";
        let (input, output) = (DeviceChoice::new(Some(usb.into())), DeviceChoice::default());
        let listing = [
            device("default", DeviceKind::Input),
            device("default", DeviceKind::Output),
        ];
        let shown = || {
            listed(&listing, &input, &output)
                .iter()
                .map(|d| format!("{}{}", d.name, if d.input { "<" } else { ">" }))
                .collect::<Vec<_>>()
        };
        // Not open: unplugged, as far as anyone can tell.
        assert_eq!(shown(), ["default<", "default>"]);
        // Open for a call, so busy and missing from the listing: still there.
        input.set_in_use(Some(usb));
        assert_eq!(shown(), ["default<", "default>", "hw:CARD=USB,DEV=0<"]);
        // The call fell back to the default: the chosen one is really gone.
        input.set_in_use(Some("default"));
        assert_eq!(shown(), ["default<", "default>"]);
    }

    #[test]
    fn a_watch_nobody_listens_to_stops_itself() {
        let picker = Arc::new(DeviceWatch::default());
        let plugged = Arc::new(Mutex::new(vec![device("Speakers", DeviceKind::Output)]));
        let (tx, rx) = mpsc::channel();
        let listened = Arc::new(AtomicBool::new(true));
        let still = Arc::clone(&listened);
        watch(
            &picker,
            {
                let plugged = Arc::clone(&plugged);
                move || Ok(lock(&plugged).clone())
            },
            || Ok(Vec::new()),
            move |change| {
                // Read before the change is handed over: the test turns it
                // off once it has the first two.
                let listening = still.load(Ordering::SeqCst);
                let _ = tx.send(change);
                listening
            },
        );
        next(&rx, 2);
        // The window went away: the next change finds nobody listening.
        listened.store(false, Ordering::SeqCst);
        lock(&plugged).push(device("USB Headset", DeviceKind::Input));
        assert_eq!(next(&rx, 1), ["audio:Speakers>,USB Headset<"]);
        // Then the watch stops: its threads end, dropping the sender.
        assert!(matches!(
            rx.recv_timeout(WAIT),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
        assert!(!picker.is_watching());
    }

    #[test]
    fn a_new_watch_replaces_the_last() {
        let picker = Arc::new(DeviceWatch::default());
        let start = |picker: &Arc<DeviceWatch>| {
            let (tx, rx) = mpsc::channel();
            watch(
                picker,
                || Ok(vec![device("Speakers", DeviceKind::Output)]),
                || Ok(vec![camera("webcam")]),
                move |change| tx.send(change).is_ok(),
            );
            rx
        };
        let first = start(&picker);
        next(&first, 2);
        let second = start(&picker);
        next(&second, 2);
        // The first watch's threads have ended, dropping its sender.
        assert!(matches!(
            first.recv_timeout(Duration::from_secs(1)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }
}
