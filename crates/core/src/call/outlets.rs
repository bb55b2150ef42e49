//! Decoded call video for a window, pulled rather than pushed: the window
//! asks for a stream's next frame when it is ready to paint one, and only
//! then is a decoded frame scaled and converted to RGBA.
//!
//! Pulling keeps the window's pace: a software-rendered window that paints
//! six frames a second costs six conversions, not thirty. And nothing can
//! stall: a pushed channel delivers in order, so one lost message held back
//! every later frame for the rest of the call, while a failed pull is simply
//! asked again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use convene_media::{scale_to_rgba, VideoFrame};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// A call's video as the window shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum VideoStream {
    /// The other side.
    Remote,
    /// This side's camera: the self-view.
    Local,
}

impl VideoStream {
    /// The stream's byte at the head of a [`VideoPacket`].
    pub fn wire_byte(self) -> u8 {
        match self {
            Self::Remote => 0,
            Self::Local => 1,
        }
    }

    /// The tiles are drawn no larger than this: the remote tile is a part
    /// of the window, the self-view a thumbnail.
    fn largest_tile(self) -> (u32, u32) {
        match self {
            Self::Remote => (480, 270),
            Self::Local => (256, 144),
        }
    }
}

/// How long a request waits for a frame before answering "nothing new", so
/// that a call without video holds no request open for long.
pub const WAIT_FOR_FRAME: Duration = Duration::from_secs(1);

/// A converted frame the window asked for but has not collected within
/// this time is out of date.
const FRESH_FOR: Duration = Duration::from_millis(500);

/// One video frame for the window: `[stream, width (u16 LE), height (u16
/// LE), RGBA…]`; empty when there was no new frame. Meant to be sent raw,
/// not as JSON: a 480×270 frame is 500 KB.
#[derive(Debug, Default)]
pub struct VideoPacket(Vec<u8>);

impl VideoPacket {
    fn new(stream: VideoStream, frame: &VideoFrame) -> Self {
        let (max_w, max_h) = stream.largest_tile();
        let (width, height) = fit(frame.width, frame.height, max_w, max_h);
        let rgba = scale_to_rgba(frame, width, height);
        let mut packet = Vec::with_capacity(5 + rgba.len());
        packet.push(stream.wire_byte());
        packet.extend_from_slice(&(width as u16).to_le_bytes());
        packet.extend_from_slice(&(height as u16).to_le_bytes());
        packet.extend_from_slice(&rgba);
        Self(packet)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// One stream's hand-over point between the decoder and the window.
#[derive(Default)]
struct Outlet {
    /// Set by a waiting request: the next frame offered is converted.
    wanted: AtomicBool,
    ready: Mutex<Option<(Instant, VideoPacket)>>,
    arrived: Notify,
}

impl Outlet {
    fn take_fresh(&self) -> Option<VideoPacket> {
        let (at, packet) = self
            .ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        (at.elapsed() < FRESH_FOR).then_some(packet)
    }
}

/// The remote and self-view streams.
#[derive(Default)]
pub struct VideoOutlets {
    remote: Outlet,
    local: Outlet,
}

impl VideoOutlets {
    fn outlet(&self, stream: VideoStream) -> &Outlet {
        match stream {
            VideoStream::Remote => &self.remote,
            VideoStream::Local => &self.local,
        }
    }

    /// A decoded frame of `stream`; converted only when the window waits
    /// for one, otherwise dropped at the cost of an atomic load.
    pub fn offer(&self, stream: VideoStream, frame: &VideoFrame) {
        let outlet = self.outlet(stream);
        if !outlet.wanted.swap(false, Ordering::AcqRel) {
            return;
        }
        let packet = VideoPacket::new(stream, frame);
        *outlet.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), packet));
        outlet.arrived.notify_waiters();
    }

    /// The next frame of `stream`, waiting up to `wait` for one; an empty
    /// packet when none came (no video, or the camera is off).
    pub async fn next(&self, stream: VideoStream, wait: Duration) -> VideoPacket {
        let outlet = self.outlet(stream);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Listening starts before asking, so a frame converted in
            // between is not missed.
            let arrived = outlet.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(packet) = outlet.take_fresh() {
                return packet;
            }
            outlet.wanted.store(true, Ordering::Release);
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return VideoPacket::default();
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use convene_media::{PatternSource, VideoSource};

    use super::*;

    fn frame(width: u32, height: u32) -> VideoFrame {
        PatternSource::new(width, height, 30)
            .next_frame()
            .expect("a pattern frame")
    }

    fn header(packet: &VideoPacket) -> (u8, u16, u16) {
        let b = &packet.0;
        (
            b[0],
            u16::from_le_bytes([b[1], b[2]]),
            u16::from_le_bytes([b[3], b[4]]),
        )
    }

    #[test]
    fn frames_fit_the_tile_keeping_their_shape() {
        assert_eq!(fit(1280, 720, 640, 360), (640, 360));
        assert_eq!(fit(1280, 720, 480, 270), (480, 270));
        assert_eq!(fit(640, 480, 640, 360), (480, 360));
        assert_eq!(fit(320, 180, 640, 360), (320, 180));
    }

    #[test]
    fn the_window_names_streams_as_words() {
        assert_eq!(
            serde_json::to_string(&VideoStream::Remote).unwrap(),
            "\"remote\""
        );
        assert_eq!(
            serde_json::from_str::<VideoStream>("\"local\"").unwrap(),
            VideoStream::Local
        );
        assert!(serde_json::from_str::<VideoStream>("1").is_err());
    }

    #[tokio::test]
    async fn a_waiting_window_gets_the_next_frame_scaled_to_its_tile() {
        let outlets = Arc::new(VideoOutlets::default());
        let request = tokio::spawn({
            let outlets = Arc::clone(&outlets);
            async move { outlets.next(VideoStream::Remote, WAIT_FOR_FRAME).await }
        });
        // The decoder goes on offering frames until the request has
        // registered; only then is one converted.
        let started = Instant::now();
        while !request.is_finished() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no frame arrived"
            );
            outlets.offer(VideoStream::Remote, &frame(1280, 720));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let packet = request.await.unwrap();
        assert_eq!(header(&packet), (0, 480, 270));
        assert_eq!(packet.into_bytes().len(), 5 + 480 * 270 * 4);
    }

    #[tokio::test]
    async fn frames_nobody_asked_for_are_not_converted() {
        let outlets = VideoOutlets::default();
        outlets.offer(VideoStream::Local, &frame(640, 360));
        // Nothing was waiting: that frame is gone, and a request that sees
        // no new one answers empty.
        let packet = outlets
            .next(VideoStream::Local, Duration::from_millis(50))
            .await;
        assert!(packet.is_empty());
    }

    #[tokio::test]
    async fn a_request_that_gave_up_leaves_the_next_frame_for_the_next_request() {
        let outlets = VideoOutlets::default();
        assert!(outlets
            .next(VideoStream::Local, Duration::from_millis(10))
            .await
            .is_empty());
        // The window's next request may come a moment later: the frame
        // converted for the one that gave up waits for it.
        outlets.offer(VideoStream::Local, &frame(640, 360));
        let packet = outlets
            .next(VideoStream::Local, Duration::from_millis(10))
            .await;
        assert_eq!(header(&packet), (1, 256, 144));
    }

    #[tokio::test]
    async fn a_frame_of_one_stream_is_not_handed_to_the_other() {
        let outlets = Arc::new(VideoOutlets::default());
        let local = tokio::spawn({
            let outlets = Arc::clone(&outlets);
            async move {
                outlets
                    .next(VideoStream::Local, Duration::from_millis(200))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        outlets.offer(VideoStream::Remote, &frame(640, 360));
        assert!(local.await.unwrap().is_empty());
    }
}
