//! The app's side of call media: the microphone and speaker through cpal
//! with echo cancellation between them, the camera through PipeWire (a
//! moving test pattern when there is none), and decoded video sent to the
//! window over a Tauri channel.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use convene_core::call::{AudioInput, MediaDevices, VideoInput};
use convene_media::{
    scale_to_rgba, AudioFormat, AudioFrame, AudioProcessor, AudioSink, AudioSource, DeviceChoice,
    FailoverInput, FailoverOutput, MediaError, PatternSource, VideoFrame,
};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeResponseBody, IpcResponse};

/// The remote tile is drawn at most this large, at most this often; bigger
/// or faster video is scaled and thinned in Rust so that the IPC carries
/// no more than the window can paint (WebKit copies each frame through its
/// IPC; 640×360 at 30 fps stalled a software-rendered window).
const REMOTE_MAX: (u32, u32) = (480, 270);
const REMOTE_EVERY: Duration = Duration::from_millis(66);
const PREVIEW_SIZE: (u32, u32) = (256, 144);
/// The self-view needs no more than this.
const PREVIEW_EVERY: Duration = Duration::from_millis(100);

/// One video frame for the window: `[stream, width (u16 LE), height (u16
/// LE), RGBA…]`, stream 0 the other side and 1 the self-view. Sent raw, not
/// as JSON: a 640×360 frame is 900 KB.
#[derive(specta::Type)]
pub struct VideoPacket(#[specta(type = Vec<u8>)] Vec<u8>);

impl IpcResponse for VideoPacket {
    fn body(self) -> tauri::Result<InvokeResponseBody> {
        Ok(InvokeResponseBody::Raw(self.0))
    }
}

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
    video: Mutex<Option<Channel<VideoPacket>>>,
    last_preview: Mutex<Option<Instant>>,
    last_remote: Mutex<Option<Instant>>,
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

    pub fn watch_video(&self, channel: Channel<VideoPacket>) {
        *lock(&self.video) = Some(channel);
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

    fn send_video(&self, stream: u8, frame: &VideoFrame, (max_w, max_h): (u32, u32)) {
        let Some(channel) = lock(&self.video).clone() else {
            return;
        };
        let (width, height) = fit(frame.width, frame.height, max_w, max_h);
        let rgba = scale_to_rgba(frame, width, height);
        let mut packet = Vec::with_capacity(5 + rgba.len());
        packet.push(stream);
        packet.extend_from_slice(&(width as u16).to_le_bytes());
        packet.extend_from_slice(&(height as u16).to_le_bytes());
        packet.extend_from_slice(&rgba);
        if channel.send(VideoPacket(packet)).is_err() {
            // The window went away (reload); it registers a new channel.
            *lock(&self.video) = None;
        }
    }
}

/// Whether `every` has passed since the last time this said yes.
fn due(last: &Mutex<Option<Instant>>, every: Duration) -> bool {
    let mut last = lock(last);
    if last.is_some_and(|at| at.elapsed() < every) {
        return false;
    }
    *last = Some(Instant::now());
    true
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The largest even size within `max` that keeps the aspect ratio.
fn fit(width: u32, height: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if width <= max_w && height <= max_h {
        return (width, height);
    }
    let scale = (max_w as f64 / width as f64).min(max_h as f64 / height as f64);
    let even = |v: f64| ((v as u32) & !1).max(2);
    (even(width as f64 * scale), even(height as f64 * scale))
}

impl MediaDevices for AppMedia {
    fn microphone(&self) -> Result<AudioInput, MediaError> {
        let device = FailoverInput::open(self.input.clone())?;
        let source: Box<dyn AudioSource> = match self.processor() {
            Some(apm) => Box::new(EchoCancelled { device, apm }),
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
            Some(apm) => Box::new(EchoReference { device, apm }),
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
        if due(&self.last_remote, REMOTE_EVERY) {
            self.send_video(0, frame, REMOTE_MAX);
        }
    }

    fn local_video(&self, frame: &VideoFrame) {
        if due(&self.last_preview, PREVIEW_EVERY) {
            self.send_video(1, frame, PREVIEW_SIZE);
        }
    }
}

/// The microphone with the speaker's echo taken out.
struct EchoCancelled {
    device: FailoverInput,
    apm: AudioProcessor,
}

impl AudioSource for EchoCancelled {
    fn format(&self) -> AudioFormat {
        self.device.format()
    }

    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        let mut frame = self.device.next_frame(millis)?;
        if let Err(error) = self.apm.process_capture(&mut frame.samples) {
            tracing::debug!(%error, "echo cancellation skipped a frame");
        }
        Some(frame)
    }
}

/// The speaker, telling the echo canceller what it plays.
struct EchoReference {
    device: FailoverOutput,
    apm: AudioProcessor,
}

impl AudioSink for EchoReference {
    fn format(&self) -> AudioFormat {
        self.device.format()
    }

    fn play(&mut self, frame: &AudioFrame) {
        if let Err(error) = self.apm.process_render(&frame.samples) {
            tracing::debug!(%error, "echo reference skipped a frame");
        }
        self.device.play(frame);
    }
}

/// Shared with the commands.
pub type SharedMedia = Arc<AppMedia>;

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn frames_fit_the_tile_keeping_their_shape() {
        assert_eq!(fit(1280, 720, 640, 360), (640, 360));
        assert_eq!(fit(1280, 720, 480, 270), (480, 270));
        assert_eq!(fit(640, 480, 640, 360), (480, 360));
        assert_eq!(fit(320, 180, 640, 360), (320, 180));
    }
}
