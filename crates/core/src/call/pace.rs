//! When the other side's audio is played. Each packet's worth of capture
//! wakes the call thread anyway; playing as much of the other side's
//! audio at that same moment spares the call thread wake-ups of its own,
//! and a microphone's clock is also the sound card's, which the speaker
//! plays by. Without a capture clock (no microphone, a file that ended, a
//! device that stalled) playout keeps its own time in 20 ms steps.

use std::time::{Duration, Instant};

/// One Opus frame of audio: the step audio is captured, coded and played in.
pub const AUDIO_FRAME: Duration = Duration::from_millis(20);

/// Capture ticks missing this long mean the capture stalled: playout goes
/// on by its own timer until they come back.
pub const CAPTURE_STALL: Duration = Duration::from_millis(200);
/// Samples at 48 kHz in one step of playout's own timer (20 ms).
pub const STEP_SAMPLES: u64 = 960;
/// At most this much audio (100 ms) is played at one capture tick: a
/// device that hands over a lot at once gets as much played, and a long
/// stall does not drain the jitter buffer into concealment.
const MOST_AT_ONCE: u64 = 5 * STEP_SAMPLES;

/// How much audio this side's capture has handed on, as the call thread
/// saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaptureClock {
    /// Nothing yet (the microphone is still opening).
    #[default]
    NotStarted,
    /// Samples at 48 kHz captured so far.
    Samples(u64),
    /// The capture ended or never began.
    Stopped,
}

/// Decides when, and how much of, the other side's audio is played.
#[derive(Debug)]
pub struct PlayoutPace {
    /// The capture clock's reading when audio was last played for it.
    played_for: Option<u64>,
    /// When playout plays a frame by its own timer.
    deadline: Instant,
}

impl PlayoutPace {
    /// Playout starts (its first frame was played at `now`).
    pub fn start(now: Instant, clock: CaptureClock) -> Self {
        let played_for = match clock {
            CaptureClock::Samples(count) => Some(count),
            _ => None,
        };
        let deadline = if played_for.is_some() {
            now + CAPTURE_STALL
        } else {
            now + AUDIO_FRAME
        };
        Self {
            played_for,
            deadline,
        }
    }

    /// The capture clock moved; returns how many samples to play now.
    pub fn on_capture(&mut self, clock: CaptureClock, now: Instant) -> u64 {
        match clock {
            CaptureClock::NotStarted => 0,
            CaptureClock::Stopped => {
                self.played_for = None;
                self.deadline = self.deadline.min(now + AUDIO_FRAME);
                0
            }
            CaptureClock::Samples(count) => {
                let owed = self
                    .played_for
                    .map_or(STEP_SAMPLES, |played| count.saturating_sub(played))
                    .min(MOST_AT_ONCE);
                self.played_for = Some(count);
                self.deadline = now + CAPTURE_STALL;
                owed
            }
        }
    }

    /// When to play by the own timer, unless the capture clock ticks first.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The own timer fired: returns how many samples to play now (one
    /// step). The next step is a step later, or half a step from now after
    /// a delay: no catching up in a burst, a device's ring would only
    /// overflow.
    pub fn on_deadline(&mut self, now: Instant) -> u64 {
        self.deadline = (self.deadline + AUDIO_FRAME).max(now + AUDIO_FRAME / 2);
        STEP_SAMPLES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = AUDIO_FRAME;

    /// A capture that hands on `samples` at `at`.
    #[derive(Clone, Copy)]
    struct Tick {
        at: Duration,
        samples: u64,
    }

    fn ticks(step: Duration, samples: u64, from: Duration, until: Duration) -> Vec<Tick> {
        every(step, from, until)
            .into_iter()
            .map(|at| Tick { at, samples })
            .collect()
    }

    /// Runs a pace for `span` with the given capture ticks (and the
    /// capture ending at `stop_at`), and returns how much was played
    /// when, as offsets from the start. Playout starts at 0 with one step.
    fn played(span: Duration, ticks: &[Tick], stop_at: Option<Duration>) -> Vec<(Duration, u64)> {
        let t0 = Instant::now();
        let mut pace = PlayoutPace::start(t0, CaptureClock::NotStarted);
        let mut plays = vec![(Duration::ZERO, STEP_SAMPLES)];
        let mut captured = 0;
        let mut ticks = ticks.iter().peekable();
        let mut now = Duration::ZERO;
        while now < span {
            let next_tick = ticks.peek().map(|tick| tick.at);
            let stop = stop_at.filter(|&s| s > now);
            let timer = pace.deadline() - t0;
            now = [next_tick, stop, Some(timer)]
                .into_iter()
                .flatten()
                .min()
                .unwrap();
            let owed = if Some(now) == next_tick {
                captured += ticks.next().unwrap().samples;
                pace.on_capture(CaptureClock::Samples(captured), t0 + now)
            } else if Some(now) == stop {
                pace.on_capture(CaptureClock::Stopped, t0 + now)
            } else {
                pace.on_deadline(t0 + now)
            };
            if owed > 0 && now < span {
                plays.push((now, owed));
            }
        }
        plays
    }

    fn every(step: Duration, from: Duration, until: Duration) -> Vec<Duration> {
        let mut at = from;
        let mut all = vec![];
        while at < until {
            all.push(at);
            at += step;
        }
        all
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn total(plays: &[(Duration, u64)]) -> u64 {
        plays.iter().map(|&(_, samples)| samples).sum()
    }

    #[test]
    fn without_a_capture_playout_keeps_its_own_time() {
        let plays = played(ms(100), &[], None);
        let times: Vec<_> = plays.iter().map(|&(at, _)| at).collect();
        assert_eq!(times, every(FRAME, ms(0), ms(100)));
        assert_eq!(total(&plays), 5 * STEP_SAMPLES);
    }

    #[test]
    fn audio_is_played_as_it_is_captured() {
        // 40 ms at a time, at the microphone's own phase: the own timer
        // plays until its first tick, then the capture alone, as much as
        // it took.
        let capture = ticks(2 * FRAME, 1920, ms(7), ms(1000));
        let plays = played(ms(1000), &capture, None);
        assert_eq!(plays[..2], [(ms(0), 960), (ms(7), 960)]);
        let after: Vec<_> = capture[1..].iter().map(|t| (t.at, t.samples)).collect();
        assert_eq!(plays[2..], after[..]);
    }

    #[test]
    fn a_stalled_capture_hands_playout_back_to_its_own_timer() {
        // Capture ticks for 200 ms, stalls for 500 ms, comes back.
        let mut capture = ticks(FRAME, 960, ms(10), ms(200));
        capture.extend(ticks(FRAME, 960, ms(710), ms(1000)));
        let plays = played(ms(1000), &capture, None);
        let last_before_stall = ms(190);
        let own: Vec<_> = plays
            .iter()
            .map(|&(at, _)| at)
            .filter(|&at| at > last_before_stall && at < ms(710))
            .collect();
        // Silent for CAPTURE_STALL, then a step each 20 ms until the
        // capture is back, and nothing twice.
        assert_eq!(own[0], last_before_stall + CAPTURE_STALL);
        assert_eq!(own, every(FRAME, own[0], ms(710)));
        let back: Vec<_> = plays.iter().filter(|&&(at, _)| at >= ms(710)).collect();
        assert_eq!(back.len(), 15);
        assert!(back.iter().all(|&&(_, samples)| samples == 960));
    }

    #[test]
    fn a_capture_that_ends_hands_playout_back_at_once() {
        let capture = ticks(FRAME, 960, ms(10), ms(200));
        let plays = played(ms(400), &capture, Some(ms(195)));
        let after: Vec<_> = plays
            .into_iter()
            .map(|(at, _)| at)
            .filter(|&at| at > ms(190))
            .collect();
        assert_eq!(after, every(FRAME, ms(215), ms(400)));
    }

    #[test]
    fn a_long_wait_plays_some_audio_not_all_it_missed() {
        let t0 = Instant::now();
        let mut pace = PlayoutPace::start(t0, CaptureClock::Samples(3 * 960));
        assert_eq!(
            pace.on_capture(CaptureClock::Samples(4 * 960), t0 + FRAME),
            960
        );
        assert_eq!(
            pace.on_capture(CaptureClock::Samples(40 * 960), t0 + 30 * FRAME),
            MOST_AT_ONCE
        );
        assert_eq!(pace.on_capture(CaptureClock::NotStarted, t0), 0);
    }
}
