//! Sound cards through cpal: listing them, a microphone as an
//! [`AudioSource`], a speaker as an [`AudioSink`], and a watcher that
//! notices when devices come and go.
//!
//! cpal streams are not `Send` on every platform, so each open device has
//! a thread of its own that builds the stream, keeps it alive and drops it.
//! The stream's callback and the caller meet in a bounded ring of 48 kHz
//! (input) or device-rate (output) mono samples.

use std::collections::VecDeque;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use serde::Serialize;

use crate::audio::{AudioFormat, AudioFrame, AudioSink, AudioSource};
use crate::error::MediaError;
use crate::resample::{f32_to_i16, i16_to_f32, LinearResampler};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DeviceKind {
    Input,
    Output,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct AudioDevice {
    pub name: String,
    pub kind: DeviceKind,
    pub is_default: bool,
}

fn device_error(device: &str, e: impl std::fmt::Display) -> MediaError {
    MediaError::Device {
        device: device.to_string(),
        reason: e.to_string(),
    }
}

/// Every input and output device the system offers, defaults marked.
pub fn audio_devices() -> Result<Vec<AudioDevice>, MediaError> {
    let host = cpal::default_host();
    let default_in = host.default_input_device().and_then(|d| d.name().ok());
    let default_out = host.default_output_device().and_then(|d| d.name().ok());
    let mut list = Vec::new();
    let inputs = host
        .input_devices()
        .map_err(|e| device_error("input devices", e))?;
    for device in inputs {
        let Ok(name) = device.name() else { continue };
        list.push(AudioDevice {
            is_default: default_in.as_deref() == Some(name.as_str()),
            name,
            kind: DeviceKind::Input,
        });
    }
    let outputs = host
        .output_devices()
        .map_err(|e| device_error("output devices", e))?;
    for device in outputs {
        let Ok(name) = device.name() else { continue };
        list.push(AudioDevice {
            is_default: default_out.as_deref() == Some(name.as_str()),
            name,
            kind: DeviceKind::Output,
        });
    }
    Ok(list)
}

fn find_device(kind: DeviceKind, name: Option<&str>) -> Result<cpal::Device, MediaError> {
    let host = cpal::default_host();
    let label = match kind {
        DeviceKind::Input => "default input",
        DeviceKind::Output => "default output",
    };
    let Some(name) = name else {
        let device = match kind {
            DeviceKind::Input => host.default_input_device(),
            DeviceKind::Output => host.default_output_device(),
        };
        return device.ok_or_else(|| MediaError::DeviceNotFound(label.into()));
    };
    let mut devices = match kind {
        DeviceKind::Input => host.input_devices(),
        DeviceKind::Output => host.output_devices(),
    }
    .map_err(|e| device_error(name, e))?;
    devices
        .find(|d| d.name().is_ok_and(|n| n == name))
        .ok_or_else(|| MediaError::DeviceNotFound(name.to_string()))
}

/// The device's own format, at 48 kHz when it can do that (no resampling
/// then), and a 20 ms buffer when it lets us choose, to keep latency low.
fn choose_config(
    device: &cpal::Device,
    kind: DeviceKind,
) -> Result<(cpal::StreamConfig, SampleFormat), MediaError> {
    let name = device.name().unwrap_or_default();
    let (default, ranges): (_, Vec<_>) = match kind {
        DeviceKind::Input => (
            device.default_input_config(),
            device
                .supported_input_configs()
                .map(|r| r.collect())
                .unwrap_or_default(),
        ),
        DeviceKind::Output => (
            device.default_output_config(),
            device
                .supported_output_configs()
                .map(|r| r.collect())
                .unwrap_or_default(),
        ),
    };
    let default = default.map_err(|e| device_error(&name, e))?;
    let wanted = cpal::SampleRate(AudioFormat::OPUS_MONO.sample_rate);
    let chosen = ranges
        .into_iter()
        .find(|r| {
            r.channels() == default.channels()
                && r.sample_format() == default.sample_format()
                && r.min_sample_rate() <= wanted
                && wanted <= r.max_sample_rate()
        })
        .map(|r| r.with_sample_rate(wanted))
        .unwrap_or(default);
    let mut config = chosen.config();
    if let cpal::SupportedBufferSize::Range { min, max } = chosen.buffer_size() {
        let twenty_ms = config.sample_rate.0 / 50;
        config.buffer_size = cpal::BufferSize::Fixed(twenty_ms.clamp(*min, *max));
    }
    Ok((config, chosen.sample_format()))
}

/// Samples between a stream's callback and its user.
struct Ring {
    state: Mutex<RingState>,
    changed: Condvar,
}

struct RingState {
    samples: VecDeque<i16>,
    capacity: usize,
    dropped: u64,
    /// Why the stream stopped, once it has.
    gone: Option<String>,
}

impl Ring {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(RingState {
                samples: VecDeque::with_capacity(capacity),
                capacity,
                dropped: 0,
                gone: None,
            }),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, RingState> {
        // A panic elsewhere must not take the audio path down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends, dropping the oldest samples when full: late audio is worth
    /// less than current audio in a call.
    fn push(&self, samples: impl IntoIterator<Item = i16>) {
        let mut st = self.lock();
        for s in samples {
            if st.samples.len() == st.capacity {
                st.samples.pop_front();
                st.dropped += 1;
            }
            st.samples.push_back(s);
        }
        drop(st);
        self.changed.notify_all();
    }

    fn fail(&self, reason: String) {
        let mut st = self.lock();
        st.gone.get_or_insert(reason);
        drop(st);
        self.changed.notify_all();
    }
}

/// A thread that owns a cpal stream until told to stop.
struct StreamThread {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

/// What the stream thread reports once the stream is running.
struct Opened {
    name: String,
    rate: u32,
    channels: u16,
}

impl StreamThread {
    fn spawn<B>(thread_name: &str, build: B) -> Result<(Self, Opened), MediaError>
    where
        B: FnOnce() -> Result<(cpal::Stream, Opened), MediaError> + Send + 'static,
    {
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                let stream = match build() {
                    Ok((stream, opened)) => match stream.play() {
                        Ok(()) => {
                            let _ = ready_tx.send(Ok(opened));
                            stream
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(device_error(&opened.name, e)));
                            return;
                        }
                    },
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Returns when the owner drops its sender.
                let _ = stop_rx.recv();
                drop(stream);
            })
            .map_err(|e| device_error(thread_name, e))?;
        let opened = ready_rx
            .recv()
            .map_err(|_| device_error(thread_name, "the device thread died while opening"))??;
        Ok((
            Self {
                stop: Some(stop_tx),
                handle: Some(handle),
            },
            opened,
        ))
    }
}

impl Drop for StreamThread {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

// ---- microphone ------------------------------------------------------------

/// How much captured audio waits for the reader before the oldest goes.
const INPUT_RING: Duration = Duration::from_millis(500);
/// A device that delivers nothing for this long past the frame it owes is
/// treated as gone (a stalled stream would otherwise block forever).
/// Generous, because a PulseAudio source can take almost 2 s to deliver
/// its first samples.
const INPUT_STALL: Duration = Duration::from_secs(5);

/// A microphone as a 48 kHz mono [`AudioSource`], whatever the device's
/// own rate and channel count (channels are averaged, rates resampled).
pub struct DeviceInput {
    ring: Arc<Ring>,
    name: String,
    native: AudioFormat,
    _thread: StreamThread,
}

fn build_input<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    ring: Arc<Ring>,
) -> Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = config.channels.max(1) as usize;
    let mut resampler =
        LinearResampler::new(config.sample_rate.0, AudioFormat::OPUS_MONO.sample_rate);
    let mut scratch: Vec<f32> = Vec::with_capacity(4096);
    let errors = ring.clone();
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _| {
            scratch.clear();
            for frame in data.chunks_exact(channels) {
                let sum: f32 = frame
                    .iter()
                    .map(|&s| <f32 as FromSample<T>>::from_sample_(s))
                    .sum();
                resampler.push(sum / channels as f32, &mut scratch);
            }
            ring.push(scratch.iter().map(|&s| f32_to_i16(s)));
        },
        move |e| errors.fail(e.to_string()),
        None,
    )
}

impl DeviceInput {
    /// Opens the named input device, or the system default for `None`.
    pub fn open(name: Option<&str>) -> Result<Self, MediaError> {
        let wanted = name.map(str::to_owned);
        let capacity = AudioFormat::OPUS_MONO.samples_per_channel(INPUT_RING.as_millis() as u32);
        let ring = Ring::new(capacity);
        let stream_ring = ring.clone();
        let (thread, opened) = StreamThread::spawn("convene-audio-in", move || {
            let device = find_device(DeviceKind::Input, wanted.as_deref())?;
            let name = device.name().unwrap_or_else(|_| "input".into());
            let (config, format) = choose_config(&device, DeviceKind::Input)?;
            let r = stream_ring;
            let stream = match format {
                SampleFormat::I8 => build_input::<i8>(&device, &config, r),
                SampleFormat::I16 => build_input::<i16>(&device, &config, r),
                SampleFormat::I32 => build_input::<i32>(&device, &config, r),
                SampleFormat::I64 => build_input::<i64>(&device, &config, r),
                SampleFormat::U8 => build_input::<u8>(&device, &config, r),
                SampleFormat::U16 => build_input::<u16>(&device, &config, r),
                SampleFormat::U32 => build_input::<u32>(&device, &config, r),
                SampleFormat::U64 => build_input::<u64>(&device, &config, r),
                SampleFormat::F32 => build_input::<f32>(&device, &config, r),
                SampleFormat::F64 => build_input::<f64>(&device, &config, r),
                other => return Err(device_error(&name, format!("sample format {other}"))),
            }
            .map_err(|e| device_error(&name, e))?;
            Ok((
                stream,
                Opened {
                    name,
                    rate: config.sample_rate.0,
                    channels: config.channels,
                },
            ))
        })?;
        Ok(Self {
            ring,
            name: opened.name,
            native: AudioFormat {
                sample_rate: opened.rate,
                channels: opened.channels,
            },
            _thread: thread,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format the device itself runs at (before conversion).
    pub fn native_format(&self) -> AudioFormat {
        self.native
    }

    /// Samples thrown away because the reader fell behind.
    pub fn dropped_samples(&self) -> u64 {
        self.ring.lock().dropped
    }
}

impl AudioSource for DeviceInput {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    /// Blocks until `millis` of audio were captured. `None` once the
    /// device has failed or gone away, or has delivered nothing for five
    /// seconds past what this frame needs.
    fn next_frame(&mut self, millis: u32) -> Option<AudioFrame> {
        let wanted = AudioFormat::OPUS_MONO.samples_per_channel(millis);
        let deadline = Instant::now() + Duration::from_millis(millis as u64) + INPUT_STALL;
        let mut st = self.ring.lock();
        while st.samples.len() < wanted {
            if st.gone.is_some() {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = self
                .ring
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let samples = st.samples.drain(..wanted).collect();
        Some(AudioFrame {
            format: AudioFormat::OPUS_MONO,
            samples,
        })
    }
}

// ---- speaker ---------------------------------------------------------------

/// How far ahead of the device the caller may queue audio: the most
/// latency the speaker side adds.
const OUTPUT_RING: Duration = Duration::from_millis(200);
/// Queued audio needed before playback (re)starts: a call's playout
/// hands over up to 40 ms at a time (one packet on a clean path), and the
/// ring must not run dry just before the next one comes.
const OUTPUT_PREBUFFER: Duration = Duration::from_millis(60);

/// A speaker as an [`AudioSink`]. `play` never blocks: it queues the
/// samples (dropping the oldest when more than 200 ms are waiting) and the
/// device's callback drains them once 60 ms are queued, playing silence
/// when there is nothing. Mono frames go to every channel.
pub struct DeviceOutput {
    ring: Arc<Ring>,
    name: String,
    native: AudioFormat,
    resampler: LinearResampler,
    resampler_from: u32,
    scratch: Vec<f32>,
    _thread: StreamThread,
}

fn build_output<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    ring: Arc<Ring>,
) -> Result<cpal::Stream, cpal::BuildStreamError>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = config.channels.max(1) as usize;
    let prebuffer =
        (config.sample_rate.0 as u64 * OUTPUT_PREBUFFER.as_millis() as u64 / 1000) as usize;
    let mut primed = false;
    let errors = ring.clone();
    device.build_output_stream::<T, _, _>(
        config,
        move |data: &mut [T], _| {
            let mut st = ring.lock();
            // Wait for a little audio before playing, and again after
            // running dry, so that a producer ticking at exactly real
            // time does not stutter at every scheduling hiccup.
            if !primed && st.samples.len() >= prebuffer {
                primed = true;
            }
            for frame in data.chunks_exact_mut(channels) {
                let next = if primed { st.samples.pop_front() } else { None };
                if next.is_none() {
                    primed = false;
                }
                frame.fill(T::from_sample_(next.map_or(0.0, i16_to_f32)));
            }
        },
        move |e| errors.fail(e.to_string()),
        None,
    )
}

impl DeviceOutput {
    /// Opens the named output device, or the system default for `None`.
    pub fn open(name: Option<&str>) -> Result<Self, MediaError> {
        let wanted = name.map(str::to_owned);
        // Sized below, once the device rate is known.
        let ring = Ring::new(0);
        let stream_ring = ring.clone();
        let (thread, opened) = StreamThread::spawn("convene-audio-out", move || {
            let device = find_device(DeviceKind::Output, wanted.as_deref())?;
            let name = device.name().unwrap_or_else(|_| "output".into());
            let (config, format) = choose_config(&device, DeviceKind::Output)?;
            stream_ring.lock().capacity =
                (config.sample_rate.0 as u64 * OUTPUT_RING.as_millis() as u64 / 1000) as usize;
            let r = stream_ring;
            let stream = match format {
                SampleFormat::I8 => build_output::<i8>(&device, &config, r),
                SampleFormat::I16 => build_output::<i16>(&device, &config, r),
                SampleFormat::I32 => build_output::<i32>(&device, &config, r),
                SampleFormat::I64 => build_output::<i64>(&device, &config, r),
                SampleFormat::U8 => build_output::<u8>(&device, &config, r),
                SampleFormat::U16 => build_output::<u16>(&device, &config, r),
                SampleFormat::U32 => build_output::<u32>(&device, &config, r),
                SampleFormat::U64 => build_output::<u64>(&device, &config, r),
                SampleFormat::F32 => build_output::<f32>(&device, &config, r),
                SampleFormat::F64 => build_output::<f64>(&device, &config, r),
                other => return Err(device_error(&name, format!("sample format {other}"))),
            }
            .map_err(|e| device_error(&name, e))?;
            Ok((
                stream,
                Opened {
                    name,
                    rate: config.sample_rate.0,
                    channels: config.channels,
                },
            ))
        })?;
        let from = AudioFormat::OPUS_MONO.sample_rate;
        Ok(Self {
            ring,
            name: opened.name,
            native: AudioFormat {
                sample_rate: opened.rate,
                channels: opened.channels,
            },
            resampler: LinearResampler::new(from, opened.rate),
            resampler_from: from,
            scratch: Vec::with_capacity(4096),
            _thread: thread,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format the device itself runs at (after conversion).
    pub fn native_format(&self) -> AudioFormat {
        self.native
    }

    /// Audio queued and not yet handed to the device, in samples at the
    /// device rate.
    pub fn queued_samples(&self) -> usize {
        self.ring.lock().samples.len()
    }

    /// Why the device stopped, if it has (unplugged, server gone).
    pub fn failure(&self) -> Option<String> {
        self.ring.lock().gone.clone()
    }
}

impl AudioSink for DeviceOutput {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    /// Queues a frame of any rate and channel count (48 kHz mono is the
    /// cheap case); returns at once.
    fn play(&mut self, frame: &AudioFrame) {
        let channels = frame.format.channels.max(1) as usize;
        if frame.format.sample_rate != self.resampler_from {
            self.resampler_from = frame.format.sample_rate;
            self.resampler = LinearResampler::new(self.resampler_from, self.native.sample_rate);
        }
        self.scratch.clear();
        for f in frame.samples.chunks_exact(channels) {
            let sum: f32 = f.iter().map(|&s| i16_to_f32(s)).sum();
            self.resampler
                .push(sum / channels as f32, &mut self.scratch);
        }
        self.ring.push(self.scratch.iter().map(|&s| f32_to_i16(s)));
    }
}

// ---- hot-plug --------------------------------------------------------------

/// Watches the device list from a thread and reports changes: once with
/// the list at start, then whenever it differs from the last one
/// reported. Stops when dropped.
pub struct DeviceWatcher {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl DeviceWatcher {
    /// Listing ALSA devices opens each one, so not much more often.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

    /// Calls `list` (for example [`audio_devices`]) every `interval`, and
    /// `on_change` with the first list and then with each one that
    /// differs. Until a listing succeeds, a failure is reported (once while
    /// it stays the same), so that whoever waits for the list learns why
    /// there is none. After that a failed listing is skipped, not reported
    /// as an empty list, so a transient error does not look like every
    /// device unplugged.
    pub fn start<T, L, F>(interval: Duration, mut list: L, mut on_change: F) -> Self
    where
        T: PartialEq + Send + 'static,
        L: FnMut() -> Result<Vec<T>, MediaError> + Send + 'static,
        F: FnMut(Result<&[T], &MediaError>) + Send + 'static,
    {
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("convene-device-watch".into())
            .spawn(move || {
                let mut last: Option<Vec<T>> = None;
                let mut last_failure: Option<String> = None;
                loop {
                    let listed = list();
                    // Told to stop while listing: nothing more is reported.
                    if !matches!(stop_rx.try_recv(), Err(TryRecvError::Empty)) {
                        break;
                    }
                    match listed {
                        Ok(now) => {
                            if last.as_ref() != Some(&now) {
                                on_change(Ok(&now));
                                last = Some(now);
                            }
                        }
                        Err(error) if last.is_none() => {
                            let failure = error.to_string();
                            if last_failure.as_ref() != Some(&failure) {
                                on_change(Err(&error));
                                last_failure = Some(failure);
                            }
                        }
                        Err(_) => {}
                    }
                    match stop_rx.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        _ => break,
                    }
                }
            })
            .ok();
        Self {
            stop: Some(stop_tx),
            handle,
        }
    }

    /// Tells the watcher to stop at once: it reports nothing more, though
    /// a listing in progress (PipeWire may take seconds) still runs to its
    /// end. Dropping the watcher also waits for that.
    pub fn stop(&mut self) {
        self.stop.take();
    }
}

impl Drop for DeviceWatcher {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(handle) = self.handle.take() {
            // Dropped from its own callback, it cannot wait for itself; it
            // ends once the callback returns.
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str) -> AudioDevice {
        AudioDevice {
            name: name.into(),
            kind: DeviceKind::Input,
            is_default: false,
        }
    }

    type Listing = Result<Vec<AudioDevice>, MediaError>;

    /// A lister giving these listings in turn, then "a" alone for good.
    fn scripted(listings: Vec<Listing>) -> impl FnMut() -> Listing + Send + 'static {
        let mut script = VecDeque::from(listings);
        move || script.pop_front().unwrap_or_else(|| Ok(vec![device("a")]))
    }

    #[test]
    fn the_watcher_reports_the_first_list_and_then_only_changes() {
        // A scripted sequence of listings: same, same, plugged, error,
        // unplugged, then steady.
        let lister = scripted(vec![
            Ok(vec![device("a")]),
            Ok(vec![device("a")]),
            Ok(vec![device("a"), device("usb")]),
            Err(MediaError::DeviceNotFound("flaky".into())),
            Ok(vec![device("a")]),
        ]);
        let (tx, rx) = mpsc::channel();
        let watcher = DeviceWatcher::start(Duration::from_millis(5), lister, move |l| {
            let listed = l.expect("a failure after the first list is skipped");
            tx.send(listed.iter().map(|d| d.name.clone()).collect::<Vec<_>>())
                .unwrap();
        });
        let next = || rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(next(), vec!["a"]);
        assert_eq!(next(), vec!["a", "usb"]);
        assert_eq!(next(), vec!["a"]);
        // Nothing more while the list stays the same.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        drop(watcher);
        // The thread has stopped: the callback (and its sender) are gone.
        assert!(matches!(
            rx.recv_timeout(Duration::from_millis(100)),
            Err(RecvTimeoutError::Disconnected)
        ));
    }

    #[test]
    fn the_watcher_says_why_until_there_is_a_first_list() {
        let lister = scripted(vec![
            Err(MediaError::DeviceNotFound("no ALSA".into())),
            Err(MediaError::DeviceNotFound("no ALSA".into())),
            Err(MediaError::DeviceNotFound("still starting".into())),
            Ok(vec![device("a")]),
            Err(MediaError::DeviceNotFound("flaky".into())),
        ]);
        let (tx, rx) = mpsc::channel();
        let _watcher = DeviceWatcher::start(Duration::from_millis(5), lister, move |l| {
            let report = match l {
                Ok(listed) => format!("{} device(s)", listed.len()),
                Err(error) => error.to_string(),
            };
            tx.send(report).unwrap();
        });
        let next = || rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(next().contains("no ALSA"));
        // The same failure again is not repeated; a new one is.
        assert!(next().contains("still starting"));
        assert_eq!(next(), "1 device(s)");
        // Once there is a list, a failed listing does not replace it.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    }

    #[test]
    fn a_watcher_stopped_while_listing_reports_nothing_more() {
        let (listing_tx, listing) = mpsc::channel();
        let (go_on_tx, go_on) = mpsc::channel::<()>();
        let go_on = Mutex::new(go_on);
        let mut calls = 0;
        let lister = move || {
            calls += 1;
            if calls == 2 {
                // The second listing finds a new device, but only after
                // the watcher has been told to stop.
                listing_tx.send(()).unwrap();
                let _ = go_on.lock().unwrap().recv();
                return Ok(vec![device("a"), device("usb")]);
            }
            Ok(vec![device("a")])
        };
        let (tx, rx) = mpsc::channel();
        let mut watcher = DeviceWatcher::start(Duration::from_millis(5), lister, move |l| {
            let _ = tx.send(l.map_or(0, <[AudioDevice]>::len));
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(1));
        listing.recv_timeout(Duration::from_secs(5)).unwrap();
        watcher.stop();
        go_on_tx.send(()).unwrap();
        drop(watcher);
        assert!(matches!(
            rx.recv_timeout(Duration::from_millis(100)),
            Err(RecvTimeoutError::Disconnected)
        ));
    }

    #[test]
    fn devices_can_move_to_the_media_threads() {
        fn send<T: Send>() {}
        send::<DeviceInput>();
        send::<DeviceOutput>();
        send::<DeviceWatcher>();
    }

    #[test]
    fn the_ring_drops_the_oldest_when_full() {
        let ring = Ring::new(4);
        ring.push([1, 2, 3, 4, 5, 6]);
        let st = ring.lock();
        assert_eq!(st.samples.iter().copied().collect::<Vec<_>>(), [3, 4, 5, 6]);
        assert_eq!(st.dropped, 2);
    }
}
