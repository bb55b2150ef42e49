//! A microphone and a speaker that outlive their device. Unplugging a
//! headset, or the sound server restarting, ends a cpal stream; a call
//! should carry on. These reopen the chosen device, or the system default
//! while it is missing, at most once a second; meanwhile the microphone
//! yields silence in real time (so the call keeps its pace) and the speaker
//! drops what it is given. They follow a [`DeviceChoice`]: choosing another
//! device in the picker mid-call switches to it at the next frame.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::audio::{AudioFormat, AudioFrame, AudioSink, AudioSource};
use crate::devices::{DeviceInput, DeviceOutput};
use crate::MediaError;

const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The device a person chose (`None`: the system default), shared between
/// the picker and the streams that use it.
#[derive(Debug, Clone, Default)]
pub struct DeviceChoice(Arc<Mutex<Chosen>>);

#[derive(Debug, Default)]
struct Chosen {
    name: Option<String>,
    /// The device a stream following this choice has open now.
    in_use: Option<String>,
    /// Bumped on every change, so a stream sees a change at a glance.
    version: u64,
}

impl DeviceChoice {
    pub fn new(name: Option<String>) -> Self {
        Self(Arc::new(Mutex::new(Chosen {
            name,
            ..Chosen::default()
        })))
    }

    /// Chooses `name`; streams following this switch at their next frame.
    pub fn set(&self, name: Option<String>) {
        let mut chosen = self.lock();
        if chosen.name != name {
            chosen.name = name;
            chosen.version += 1;
        }
    }

    pub fn name(&self) -> Option<String> {
        self.lock().name.clone()
    }

    /// Changes with every new choice.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// The device a stream following this choice has open now (the chosen
    /// one or the default), if any. A device open for a call can be missing
    /// from a listing: ALSA's hardware devices open only once.
    pub fn in_use(&self) -> Option<String> {
        self.lock().in_use.clone()
    }

    /// Says which device a stream following this choice has open (`None`:
    /// none). The failover streams keep it up to date.
    pub fn set_in_use(&self, name: Option<&str>) {
        let mut chosen = self.lock();
        if chosen.in_use.as_deref() != name {
            chosen.in_use = name.map(str::to_owned);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Chosen> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reopening, at most once per [`RETRY_EVERY`], or at once when the
/// choice changes.
struct Reopen {
    choice: DeviceChoice,
    /// The choice's version the current device was opened for.
    version: u64,
    next_attempt: Instant,
}

impl Reopen {
    fn new(choice: DeviceChoice) -> Self {
        Self {
            version: choice.version(),
            choice,
            next_attempt: Instant::now(),
        }
    }

    /// Whether another device was chosen since the last look; if so, the
    /// next attempt may go at once.
    fn choice_changed(&mut self) -> bool {
        let version = self.choice.version();
        if version == self.version {
            return false;
        }
        self.version = version;
        self.next_attempt = Instant::now();
        true
    }

    fn open_now<D>(
        &mut self,
        open: impl Fn(Option<&str>) -> Result<D, MediaError>,
    ) -> Result<D, MediaError> {
        self.version = self.choice.version();
        self.next_attempt = Instant::now() + RETRY_EVERY;
        open_or_default(self.choice.name().as_deref(), open)
    }

    /// The chosen device if it is there, else the default; `None` when
    /// neither opens or it is too early to try again.
    fn attempt<D>(&mut self, open: impl Fn(Option<&str>) -> Result<D, MediaError>) -> Option<D> {
        if Instant::now() < self.next_attempt {
            return None;
        }
        self.open_now(open).ok()
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
    /// Opens the chosen microphone, or the default when it is missing or
    /// none is chosen; fails only when no microphone opens at all.
    pub fn open(choice: DeviceChoice) -> Result<Self, MediaError> {
        let mut reopen = Reopen::new(choice);
        let device = reopen.open_now(DeviceInput::open)?;
        let mut input = Self {
            device: None,
            reopen,
            silence_due: None,
        };
        input.set_device(Some(device));
        Ok(input)
    }

    /// The device in use, if any.
    pub fn device_name(&self) -> Option<&str> {
        self.device.as_ref().map(DeviceInput::name)
    }

    /// Every change of device goes through here, so the choice can tell
    /// the picker what is in use.
    fn set_device(&mut self, device: Option<DeviceInput>) {
        self.device = device;
        self.reopen.choice.set_in_use(self.device_name());
    }
}

impl AudioSource for FailoverInput {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    /// Never ends: frames from the device, or silence while there is none.
    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        if self.reopen.choice_changed() {
            self.set_device(None);
        }
        for _ in 0..2 {
            if self.device.is_none() {
                let device = self.reopen.attempt(DeviceInput::open);
                self.set_device(device);
            }
            let Some(device) = self.device.as_mut() else {
                break;
            };
            if let Some(frame) = device.next_frame(millis) {
                self.silence_due = None;
                return Some(frame);
            }
            // Gone (or stalled for seconds): try another right away.
            self.set_device(None);
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

impl Drop for FailoverInput {
    fn drop(&mut self) {
        self.reopen.choice.set_in_use(None);
    }
}

/// A speaker ([`DeviceOutput`]) that reopens when its device goes away.
pub struct FailoverOutput {
    reopen: Reopen,
    device: Option<DeviceOutput>,
}

impl FailoverOutput {
    /// Opens the chosen speaker, or the default when it is missing or none
    /// is chosen; fails only when no speaker opens at all.
    pub fn open(choice: DeviceChoice) -> Result<Self, MediaError> {
        let mut reopen = Reopen::new(choice);
        let device = reopen.open_now(DeviceOutput::open)?;
        let mut output = Self {
            device: None,
            reopen,
        };
        output.set_device(Some(device));
        Ok(output)
    }

    /// The device in use, if any.
    pub fn device_name(&self) -> Option<&str> {
        self.device.as_ref().map(DeviceOutput::name)
    }

    /// As [`FailoverInput::set_device`].
    fn set_device(&mut self, device: Option<DeviceOutput>) {
        self.device = device;
        self.reopen.choice.set_in_use(self.device_name());
    }
}

impl AudioSink for FailoverOutput {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    /// Plays on the device; while there is none, the frame is dropped.
    fn play(&mut self, frame: &AudioFrame) {
        if self.reopen.choice_changed()
            || self.device.as_ref().is_some_and(|d| d.failure().is_some())
        {
            self.set_device(None);
            self.reopen.next_attempt = Instant::now();
        }
        if self.device.is_none() {
            let device = self.reopen.attempt(DeviceOutput::open);
            self.set_device(device);
        }
        if let Some(device) = self.device.as_mut() {
            device.play(frame);
        }
    }
}

impl Drop for FailoverOutput {
    fn drop(&mut self) {
        self.reopen.choice.set_in_use(None);
    }
}
