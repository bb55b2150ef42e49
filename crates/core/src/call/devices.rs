//! A desktop's call media: the chosen microphone and speaker with echo
//! cancellation between them, the chosen camera (a moving test pattern
//! when there is none), and decoded video held for the window to pull.

use std::sync::Arc;
use std::time::Duration;

use convene_media::{AudioSink, DeviceChoice, MediaError, PatternSource, VideoFrame};

use super::device_watch::{self, DeviceListChange, DeviceWatch, WatchIntervals};
use super::media::{AudioInput, MediaDevices, VideoInput};
use super::outlets::{VideoOutlets, VideoPacket, VideoStream};
use super::sound::SoundDevices;

/// The [`MediaDevices`] a desktop app gives its calls, and what its device
/// picker and video tiles ask of them.
#[derive(Default)]
pub struct DesktopDevices {
    sound: SoundDevices,
    camera: DeviceChoice,
    video: VideoOutlets,
    watch: Arc<DeviceWatch>,
}

impl DesktopDevices {
    /// Reports the microphones and speakers, and the cameras, now and
    /// whenever one is plugged in or out, until `stop_watching_devices` or
    /// until `on_change` says nobody listens any more (returns false). A
    /// new watch replaces the last.
    pub fn watch_devices(
        &self,
        on_change: impl Fn(DeviceListChange) -> bool + Send + Sync + 'static,
    ) {
        self.watch.start(
            WatchIntervals::default(),
            (convene_media::audio_devices, device_watch::cameras),
            (self.sound.input().clone(), self.sound.output().clone()),
            on_change,
        );
    }

    pub fn stop_watching_devices(&self) {
        self.watch.stop();
    }

    /// The microphone and speaker (`None`: the system default), for the
    /// call in progress as for the next.
    pub fn select_audio(&self, input: Option<String>, output: Option<String>) {
        self.sound.select(input, output);
    }

    /// The camera (`None`: the system default); a call sending video
    /// switches to it at once.
    pub fn select_camera(&self, name: Option<String>) {
        self.camera.set(name);
    }

    /// The next frame of `stream` for the window; empty when none came
    /// within `wait`.
    pub async fn next_video_frame(&self, stream: VideoStream, wait: Duration) -> VideoPacket {
        self.video.next(stream, wait).await
    }
}

impl MediaDevices for DesktopDevices {
    fn microphone(&self) -> Result<AudioInput, MediaError> {
        self.sound.microphone()
    }

    fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError> {
        self.sound.speaker()
    }

    /// The chosen camera, or a moving test pattern when there is none, so
    /// that the other side still sees that video works.
    fn camera(&self) -> Result<Option<VideoInput>, MediaError> {
        #[cfg(target_os = "linux")]
        {
            use convene_media::camera::{CameraRequest, PipewireCamera};
            let chosen = self.camera.name();
            match PipewireCamera::open(chosen.as_deref(), CameraRequest::default()) {
                Ok(camera) => {
                    return Ok(Some(VideoInput {
                        source: Box::new(camera),
                        realtime: true,
                    }))
                }
                Err(error) => tracing::info!(%error, "no camera: a test pattern stands in"),
            }
        }
        Ok(Some(VideoInput {
            source: Box::new(PatternSource::new(640, 360, 30)),
            realtime: false,
        }))
    }

    fn camera_choice(&self) -> u64 {
        self.camera.version()
    }

    fn remote_video(&self, frame: &VideoFrame) {
        self.video.offer(VideoStream::Remote, frame);
    }

    fn local_video(&self, frame: &VideoFrame) {
        self.video.offer(VideoStream::Local, frame);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use convene_media::VideoSource;

    use super::*;

    /// Offers frames the way a call does, `offer` each time, until the
    /// window's request for `stream` is answered.
    async fn shown(
        devices: &Arc<DesktopDevices>,
        stream: VideoStream,
        offer: impl Fn(&DesktopDevices, &VideoFrame),
    ) -> Vec<u8> {
        let request = tokio::spawn({
            let devices = Arc::clone(devices);
            async move {
                devices
                    .next_video_frame(stream, Duration::from_secs(1))
                    .await
            }
        });
        let frame = PatternSource::new(320, 180, 30).next_frame().unwrap();
        let started = Instant::now();
        while !request.is_finished() && started.elapsed() < Duration::from_secs(5) {
            offer(devices, &frame);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        request.await.unwrap().into_bytes()
    }

    #[tokio::test]
    async fn the_window_gets_the_other_side_and_the_self_view_each_on_its_own_stream() {
        let devices = Arc::new(DesktopDevices::default());
        let remote = shown(&devices, VideoStream::Remote, |d, f| d.remote_video(f)).await;
        assert_eq!(remote.first(), Some(&VideoStream::Remote.wire_byte()));
        let local = shown(&devices, VideoStream::Local, |d, f| d.local_video(f)).await;
        assert_eq!(local.first(), Some(&VideoStream::Local.wire_byte()));
        // The camera's frames never answer a request for the other side.
        let crossed = shown(&devices, VideoStream::Remote, |d, f| d.local_video(f)).await;
        assert!(crossed.is_empty());
    }
}
