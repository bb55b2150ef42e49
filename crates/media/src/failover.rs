//! A microphone and a speaker that outlive their device. Unplugging a
//! headset, or the sound server restarting, ends a cpal stream; a call
//! should carry on. These reopen the chosen device, or the system default
//! while it is missing, at most once a second; meanwhile the microphone
//! yields silence in real time (so the call keeps its pace) and the speaker
//! drops what it is given.

use std::time::{Duration, Instant};

use crate::audio::{AudioFormat, AudioFrame, AudioSink, AudioSource};
use crate::devices::{DeviceInput, DeviceOutput};
use crate::MediaError;

const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Reopening, at most once per [`RETRY_EVERY`].
struct Reopen {
    wanted: Option<String>,
    next_attempt: Instant,
}

impl Reopen {
    fn new(wanted: Option<&str>) -> Self {
        Self {
            wanted: wanted.map(str::to_owned),
            next_attempt: Instant::now(),
        }
    }

    /// The chosen device if it is there, else the default; `None` when
    /// neither opens or it is too early to try again.
    fn attempt<D>(&mut self, open: impl Fn(Option<&str>) -> Result<D, MediaError>) -> Option<D> {
        let now = Instant::now();
        if now < self.next_attempt {
            return None;
        }
        self.next_attempt = now + RETRY_EVERY;
        open_or_default(self.wanted.as_deref(), open).ok()
    }
}

/// The named device, or the default when it is missing or `name` is
/// `None`.
fn open_or_default<D>(
    name: Option<&str>,
    open: impl Fn(Option<&str>) -> Result<D, MediaError>,
) -> Result<D, MediaError> {
    match name {
        Some(name) => open(Some(name)).or_else(|_| open(None)),
        None => open(None),
    }
}

/// A microphone ([`DeviceInput`]) that reopens when its device goes away.
pub struct FailoverInput {
    reopen: Reopen,
    device: Option<DeviceInput>,
    /// While there is no device: when the next silent frame is due.
    silence_due: Option<Instant>,
}

impl FailoverInput {
    /// Opens the named microphone, or the default when it is missing or
    /// `name` is `None`; fails only when no microphone opens at all.
    pub fn open(name: Option<&str>) -> Result<Self, MediaError> {
        Ok(Self {
            device: Some(open_or_default(name, DeviceInput::open)?),
            reopen: Reopen::new(name),
            silence_due: None,
        })
    }

    /// The device in use, if any.
    pub fn device_name(&self) -> Option<&str> {
        self.device.as_ref().map(DeviceInput::name)
    }
}

impl AudioSource for FailoverInput {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    /// Never ends: frames from the device, or silence while there is none.
    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        for _ in 0..2 {
            if self.device.is_none() {
                self.device = self.reopen.attempt(DeviceInput::open);
            }
            let Some(device) = self.device.as_mut() else {
                break;
            };
            if let Some(frame) = device.next_frame(millis) {
                self.silence_due = None;
                return Some(frame);
            }
            // Gone (or stalled for seconds): try another right away.
            self.device = None;
            self.reopen.next_attempt = Instant::now();
        }
        let frame_time = Duration::from_millis(u64::from(millis));
        let due = self.silence_due.unwrap_or_else(Instant::now) + frame_time;
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        // After a stall (a reopen attempt can block), pace on from now
        // rather than send a burst of silence to catch up.
        self.silence_due = Some(due.max(Instant::now() - frame_time));
        Some(AudioFrame {
            format: AudioFormat::OPUS_MONO,
            samples: vec![0; AudioFormat::OPUS_MONO.samples_per_channel(millis)],
        })
    }
}

/// A speaker ([`DeviceOutput`]) that reopens when its device goes away.
pub struct FailoverOutput {
    reopen: Reopen,
    device: Option<DeviceOutput>,
}

impl FailoverOutput {
    /// Opens the named speaker, or the default when it is missing or
    /// `name` is `None`; fails only when no speaker opens at all.
    pub fn open(name: Option<&str>) -> Result<Self, MediaError> {
        Ok(Self {
            device: Some(open_or_default(name, DeviceOutput::open)?),
            reopen: Reopen::new(name),
        })
    }

    /// The device in use, if any.
    pub fn device_name(&self) -> Option<&str> {
        self.device.as_ref().map(DeviceOutput::name)
    }
}

impl AudioSink for FailoverOutput {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    /// Plays on the device; while there is none, the frame is dropped.
    fn play(&mut self, frame: &AudioFrame) {
        if self.device.as_ref().is_some_and(|d| d.failure().is_some()) {
            self.device = None;
            self.reopen.next_attempt = Instant::now();
        }
        if self.device.is_none() {
            self.device = self.reopen.attempt(DeviceOutput::open);
        }
        if let Some(device) = self.device.as_mut() {
            device.play(frame);
        }
    }
}
