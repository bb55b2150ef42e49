//! The app's side of call media: the microphone and speaker through cpal
//! with echo cancellation between them, the camera through PipeWire (a
//! moving test pattern when there is none), and decoded video handed to
//! the window when it asks (see `video`).

use std::sync::{Arc, Mutex};

use convene_core::call::{AudioInput, MediaDevices, VideoInput};
use convene_media::{
    AudioProcessor, AudioSink, AudioSource, DeviceChoice, EchoCancelled, EchoReference,
    FailoverInput, FailoverOutput, MediaError, PatternSource, VideoFrame,
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
}

impl AppMedia {
    pub fn devices() -> Result<Vec<AudioDeviceInfo>, MediaError> {
        Ok(convene_media::audio_devices()?
            .into_iter()
            .map(|d| AudioDeviceInfo {
                name: d.name,
                input: matches!(d.kind, convene_media::DeviceKind::Input),
                is_default: d.is_default,
            })
            .collect())
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
