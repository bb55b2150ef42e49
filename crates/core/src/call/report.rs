//! A call's figures: the machine's moments joined with what the media
//! threads counted.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::machine::CallTimes;
use super::media::MediaState;
use super::view::{CallReport, CallTimings};

/// The report of a call as it stands at `now`.
pub fn report(times: &CallTimes, media: &MediaState, now: Instant) -> CallReport {
    let since_answer = |at: Option<&Instant>| match (times.answered, at) {
        (Some(answered), Some(at)) => Some(millis(at.saturating_duration_since(answered))),
        _ => None,
    };
    CallReport {
        view: times.view.clone(),
        timings: CallTimings {
            ringing_ms: times.ringing_after.map(millis),
            connect_ms: times.connected_after.map(millis),
            setup_ms: since_answer(media.first_audio.get()),
            first_video_ms: since_answer(media.first_video.get()),
        },
        audio_played_ms: media.audio_played_ms.load(Ordering::Relaxed),
        audio_received_ms: media.audio_received_ms.load(Ordering::Relaxed),
        audio_packets_received: media.audio_packets_received.load(Ordering::Relaxed),
        video_frames_decoded: media.video_frames_decoded.load(Ordering::Relaxed),
        duration_secs: times
            .connected_at
            .map(|at| now.saturating_duration_since(at).as_secs_f64())
            .unwrap_or(0.0),
    }
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
