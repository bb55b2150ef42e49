//! The app's side of call media: the microphone and speaker through cpal
//! with echo cancellation between them, the camera through PipeWire (a
//! moving test pattern when there is none), and decoded video handed to
//! the window when it asks (see `video`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use convene_core::call::{AudioInput, MediaDevices, VideoInput};
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
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CameraDeviceInfo {
    /// What `select_camera` takes.
    pub name: String,
    pub description: String,
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
    /// Watches for devices plugged in or out while the picker is open.
    device_watch: Mutex<Option<DeviceWatcher>>,
}

impl AppMedia {
    pub fn devices() -> Result<Vec<AudioDeviceInfo>, MediaError> {
        Ok(convene_media::audio_devices()?
            .iter()
            .map(AudioDeviceInfo::from)
            .collect())
    }

    /// Reports the microphones and speakers now and whenever one is
    /// plugged in or out, until `stop_watching_devices`. Listing opens each
    /// ALSA device, so it runs only while someone looks (the picker is
    /// open), and one watch at a time: a new one replaces the last.
    pub fn watch_devices(&self, on_change: impl FnMut(Vec<AudioDeviceInfo>) + Send + 'static) {
        self.watch_devices_with(
            DeviceWatcher::DEFAULT_INTERVAL,
            convene_media::audio_devices,
            on_change,
        );
    }

    fn watch_devices_with<L>(
        &self,
        interval: Duration,
        list: L,
        mut on_change: impl FnMut(Vec<AudioDeviceInfo>) + Send + 'static,
    ) where
        L: FnMut() -> Result<Vec<AudioDevice>, MediaError> + Send + 'static,
    {
        let watcher = DeviceWatcher::start_with(interval, list, move |devices| {
            on_change(devices.iter().map(AudioDeviceInfo::from).collect())
        });
        let replaced = lock(&self.device_watch).replace(watcher);
        // Stopping joins the old watcher's thread: not under the lock.
        drop(replaced);
    }

    pub fn stop_watching_devices(&self) {
        let stopped = lock(&self.device_watch).take();
        drop(stopped);
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

    fn device(name: &str, kind: DeviceKind) -> AudioDevice {
        AudioDevice {
            name: name.into(),
            kind,
            is_default: false,
        }
    }

    fn names(list: &[AudioDeviceInfo]) -> Vec<&str> {
        list.iter().map(|d| d.name.as_str()).collect()
    }

    #[test]
    fn a_headset_plugged_in_while_watching_is_reported_and_nothing_after_stopping() {
        let media = AppMedia::default();
        let plugged = Arc::new(Mutex::new(vec![device("Speakers", DeviceKind::Output)]));
        let lister = Arc::clone(&plugged);
        let (tx, rx) = mpsc::channel();
        media.watch_devices_with(
            Duration::from_millis(5),
            move || Ok(lock(&lister).clone()),
            move |list| {
                let _ = tx.send(list);
            },
        );
        let wait = Duration::from_secs(5);
        assert_eq!(names(&rx.recv_timeout(wait).unwrap()), ["Speakers"]);

        lock(&plugged).push(device("USB Headset", DeviceKind::Input));
        let list = rx.recv_timeout(wait).unwrap();
        assert_eq!(names(&list), ["Speakers", "USB Headset"]);
        assert!(list[1].input && !list[0].input);

        media.stop_watching_devices();
        lock(&plugged).pop();
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a stopped watch reports nothing"
        );
    }

    #[test]
    fn a_new_watch_replaces_the_last() {
        let media = AppMedia::default();
        let (first_tx, first) = mpsc::channel();
        media.watch_devices_with(
            Duration::from_millis(5),
            || Ok(vec![device("Speakers", DeviceKind::Output)]),
            move |list| {
                let _ = first_tx.send(list);
            },
        );
        first.recv_timeout(Duration::from_secs(5)).unwrap();
        let (second_tx, second) = mpsc::channel();
        media.watch_devices_with(
            Duration::from_millis(5),
            || Ok(vec![device("Speakers", DeviceKind::Output)]),
            move |list| {
                let _ = second_tx.send(list);
            },
        );
        second.recv_timeout(Duration::from_secs(5)).unwrap();
        // The first watcher's thread has ended, dropping its sender.
        assert!(matches!(
            first.recv_timeout(Duration::from_secs(1)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }
}
