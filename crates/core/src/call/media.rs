//! The media pipelines of a call: capture → encode → RTP, and RTP →
//! decode → play or show. Capture and encode run on their own threads (a
//! microphone read blocks; a VP8 frame takes milliseconds), the network side
//! on tokio.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use convene_media::{
    AudioFormat, AudioFrame, AudioSink, AudioSource, MediaError, OpusDecoder, OpusEncoder,
    VideoFrame, VideoSource, Vp8Config, Vp8Decoder, Vp8Encoder, OPUS_FRAME_SAMPLES,
};
use rtc::media::io::sample_builder::SampleBuilder;
use rtc::media::Sample;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp::codec::vp8::Vp8Packet;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::dtx::DtxGate;
use super::jitter::{AudioJitter, Playout};
use super::keyframe::is_keyframe_request;
use super::pace::{CaptureClock, PlayoutPace};
use super::peer::LocalTrack;

/// 20 ms Opus frames: the usual trade between latency and overhead, and
/// the step playout keeps time in when nothing else paces it.
const AUDIO_FRAME_MS: u32 = 20;
/// Audio in one packet on a path that loses nothing (`packet_length`).
const CLEAN_PATH_PACKET_MS: u32 = 40;
const AUDIO_BITRATE: i32 = 32_000;
/// What the congestion controller's target leaves for video after audio.
const AUDIO_SHARE_BPS: f64 = 48_000.0;
const VIDEO_MIN_KBPS: u32 = 150;
const VIDEO_MAX_KBPS: u32 = 2_000;
/// Keyframe requests closer together than this are one request.
const PLI_SPACING: Duration = Duration::from_millis(300);

/// A microphone, a file or a generator, and whether it keeps time itself
/// (a device delivers 20 ms every 20 ms; a generator must be paced).
pub struct AudioInput {
    pub source: Box<dyn AudioSource>,
    pub realtime: bool,
}

/// A camera or a pattern, and whether it keeps time itself.
pub struct VideoInput {
    pub source: Box<dyn VideoSource>,
    pub realtime: bool,
}

/// Where a call's media comes from and goes to. The app gives devices,
/// the CLI and tests give tones, files and patterns.
pub trait MediaDevices: Send + Sync + 'static {
    fn microphone(&self) -> Result<AudioInput, MediaError>;
    fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError>;
    /// `None`: this side has no camera.
    fn camera(&self) -> Result<Option<VideoInput>, MediaError>;
    /// Changes when the person chooses another camera: a capture running on
    /// the old one opens the new one at once.
    fn camera_choice(&self) -> u64 {
        0
    }
    /// A decoded frame from the other side.
    fn remote_video(&self, _frame: &VideoFrame) {}
    /// A captured frame of this side, for the preview.
    fn local_video(&self, _frame: &VideoFrame) {}
}

/// State the pipelines share with the call.
#[derive(Debug, Default)]
pub struct MediaState {
    pub muted: AtomicBool,
    pub camera_on: AtomicBool,
    keyframe_wanted: AtomicBool,
    stopped: AtomicBool,
    pub first_audio: OnceLock<Instant>,
    pub first_video: OnceLock<Instant>,
    /// Milliseconds of the other side's audio played, and how many of
    /// them came in packets: fewer while the other side is silent (DTX).
    pub audio_played_ms: AtomicU64,
    pub audio_received_ms: AtomicU64,
    /// Opus packets that came (each holds 20 or 40 ms from Convene).
    pub audio_packets_received: AtomicU64,
    pub video_frames_decoded: AtomicU64,
    /// Told when the other side's video starts, or starts again after a
    /// pause, so that the call shows it at once rather than at the next
    /// quality check.
    pub video_arrived: tokio::sync::Notify,
    /// The congestion controller's target, bits per second as f64 bits.
    pub target_bitrate: AtomicU64,
    /// The loss the Opus encoder plans for, from the other side's reports.
    pub audio_expected_loss: ExpectedLoss,
    /// The longest audio packet the other side accepts (its `a=maxptime`),
    /// milliseconds; 0: no limit. Set with [`MediaState::set_max_packet_ms`].
    max_packet_ms: AtomicU32,
    /// How much audio this side has captured, which paces the playout of
    /// the other side's (call/pace.rs).
    capture_clock: tokio::sync::watch::Sender<CaptureClock>,
}

/// Percent of packets the path is expected to lose. Until the other side
/// first reports, the encoder keeps its own cautious default (10 %, which
/// pays for FEC); on a clean path it then stops coding FEC.
#[derive(Debug)]
pub struct ExpectedLoss(AtomicU8);

impl ExpectedLoss {
    const NOT_REPORTED: u8 = u8::MAX;

    pub fn set(&self, percent: u8) {
        self.0.store(percent.min(100), Ordering::Relaxed);
    }

    fn get(&self) -> Option<u8> {
        Some(self.0.load(Ordering::Relaxed)).filter(|&p| p != Self::NOT_REPORTED)
    }
}

impl Default for ExpectedLoss {
    fn default() -> Self {
        Self(AtomicU8::new(Self::NOT_REPORTED))
    }
}

impl MediaState {
    /// The other side's limit on audio packets (`Peer::remote_max_packet_ms`),
    /// `None` for none. Taken from the next packet on.
    pub fn set_max_packet_ms(&self, max: Option<u32>) {
        self.max_packet_ms
            .store(max.unwrap_or(0), Ordering::Relaxed);
    }

    fn max_packet_ms(&self) -> u32 {
        self.max_packet_ms.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    fn video_kbps(&self) -> u32 {
        let target = f64::from_bits(self.target_bitrate.load(Ordering::Relaxed));
        (((target - AUDIO_SHARE_BPS) / 1000.0) as u32).clamp(VIDEO_MIN_KBPS, VIDEO_MAX_KBPS)
    }
}

/// Captures, encodes and sends audio until the call stops.
pub fn start_audio_sender(input: AudioInput, track: LocalTrack, state: Arc<MediaState>) {
    let (packets_tx, packets_rx) = mpsc::channel::<CapturedAudio>(16);
    let thread_state = Arc::clone(&state);
    let spawned = std::thread::Builder::new()
        .name("convene-audio-send".into())
        .spawn(move || {
            if let Err(error) = capture_audio(input, &thread_state, &packets_tx) {
                tracing::warn!(%error, "audio capture stopped");
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no thread for audio capture");
        state.capture_clock.send_replace(CaptureClock::Stopped);
        return;
    }
    tokio::spawn(send_audio(track, packets_rx, state));
}

/// How much audio goes in one packet. On a clean path, 40 ms: half the
/// packets of 20 ms, which cuts an audio call's CPU by about a third
/// (per-packet work dominates it, docs/benchmarks.md) and its header
/// overhead by half, for 20 ms more delay. Where the path loses packets
/// (or before the other side has said), 20 ms: Opus's in-band FEC
/// rebuilds a lost 20 ms packet from the next one, while a lost 40 ms
/// packet comes back mostly concealed.
///
/// Never longer than the other side's `a=maxptime` (`max_packet_ms`, 0 for
/// none): 20 ms where 40 would exceed it. 20 ms is the shortest packet
/// sent, so a limit under 20 gets 20 ms packets.
fn packet_length(expected_loss: Option<u8>, max_packet_ms: u32) -> u32 {
    let wanted = match expected_loss {
        Some(0) => CLEAN_PATH_PACKET_MS,
        _ => AUDIO_FRAME_MS,
    };
    if max_packet_ms == 0 || wanted <= max_packet_ms {
        wanted
    } else {
        AUDIO_FRAME_MS
    }
}

/// What the capture thread hands on for each stretch it captured.
struct CapturedAudio {
    /// How much audio was captured.
    duration: Duration,
    /// The Opus packet to send; `None` when DTX leaves it out.
    packet: Option<Bytes>,
}

fn capture_audio(
    mut input: AudioInput,
    state: &MediaState,
    packets: &mpsc::Sender<CapturedAudio>,
) -> Result<(), MediaError> {
    let mut encoder = OpusEncoder::new(AUDIO_BITRATE)?;
    let mut dtx = DtxGate::default();
    let mut expected_loss = None;
    // The first frame goes at once (it ends call setup); the pace starts
    // after it.
    let mut deadline = Instant::now();
    let mut first = true;
    while !state.is_stopped() {
        let loss = state.audio_expected_loss.get();
        if let Some(percent) = loss.filter(|_| loss != expected_loss) {
            tracing::debug!(percent, "Opus plans for this much loss");
            encoder.set_packet_loss_percent(i32::from(percent))?;
            expected_loss = loss;
        }
        let millis = packet_length(expected_loss, state.max_packet_ms());
        let duration = Duration::from_millis(u64::from(millis));
        let Some(frame) = input.source.next_frame(millis) else {
            break;
        };
        if !input.realtime && !std::mem::take(&mut first) {
            if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        deadline += duration;
        let mut pcm = mono_48k(&frame);
        // The last frame of a file may be short: Opus takes whole frames.
        pcm.resize(AudioFormat::OPUS_MONO.samples_per_channel(millis), 0);
        if state.muted.load(Ordering::Relaxed) {
            pcm.fill(0);
        }
        let packet = encoder.encode(&pcm)?;
        let captured = CapturedAudio {
            duration,
            packet: dtx.admit(&packet).then(|| Bytes::from(packet)),
        };
        if packets.blocking_send(captured).is_err() {
            break;
        }
    }
    Ok(())
}

/// Opus here runs at 48 kHz mono; sources are asked for that, and this
/// keeps a stray stereo frame from turning into noise.
fn mono_48k(frame: &AudioFrame) -> Vec<i16> {
    let channels = frame.format.channels.max(1) as usize;
    if channels == 1 {
        return frame.samples.clone();
    }
    frame
        .samples
        .chunks(channels)
        .map(|c| (c.iter().map(|&s| s as i32).sum::<i32>() / channels as i32) as i16)
        .collect()
}

/// Sends the captured audio, and moves the capture clock on with all of
/// it, sent or not.
async fn send_audio(
    local: LocalTrack,
    mut captured: mpsc::Receiver<CapturedAudio>,
    state: Arc<MediaState>,
) {
    let mut samples = 0;
    // Audio DTX left out since the last packet sent.
    let mut unsent = Duration::ZERO;
    while let Some(audio) = captured.recv().await {
        if state.is_stopped() {
            break;
        }
        samples +=
            AudioFormat::OPUS_MONO.samples_per_channel(audio.duration.as_millis() as u32) as u64;
        state
            .capture_clock
            .send_replace(CaptureClock::Samples(samples));
        match audio.packet {
            Some(packet) => {
                write_frame(&local, packet, audio.duration, std::mem::take(&mut unsent)).await
            }
            None => unsent += audio.duration,
        }
    }
    state.capture_clock.send_replace(CaptureClock::Stopped);
}

async fn write_samples(
    local: LocalTrack,
    mut frames: mpsc::Receiver<Bytes>,
    duration: Duration,
    state: Arc<MediaState>,
) {
    while let Some(frame) = frames.recv().await {
        if state.is_stopped() {
            break;
        }
        write_frame(&local, frame, duration, Duration::ZERO).await;
    }
}

/// Sends one encoded frame of `duration`, after `unsent` of media that was
/// left out just before it.
async fn write_frame(local: &LocalTrack, data: Bytes, duration: Duration, unsent: Duration) {
    let now = Instant::now();
    let skipped = (!unsent.is_zero()).then(|| Sample {
        // An empty sample makes no packet but moves the RTP clock on
        // (a dropped-packets count would skip sequence numbers too,
        // and the other side would count the silence as loss).
        data: Bytes::new(),
        duration: unsent,
        ..Sample::new(now)
    });
    let sample = Sample {
        data,
        duration,
        ..Sample::new(now)
    };
    for sample in skipped.iter().chain([&sample]) {
        let writer = local.track.sample_writer(local.ssrc, local.payload_type);
        if let Err(error) = writer.write_sample(sample).await {
            tracing::debug!(%error, "a media sample was not sent");
        }
    }
}

/// Opens the camera and captures, encodes and sends video while it is on.
/// The camera opens on the capture thread: a real one may take seconds to
/// agree on a format, and the call's task must not wait for it.
pub fn start_video_sender(
    track: LocalTrack,
    devices: Arc<dyn MediaDevices>,
    state: Arc<MediaState>,
) {
    let runtime = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("convene-video-send".into())
        .spawn(move || {
            let Some(opened) = open_camera(&*devices, &state) else {
                return tracing::info!("no camera on this device");
            };
            let fps = opened.input.source.fps().max(1);
            let (frames_tx, frames_rx) = mpsc::channel::<Bytes>(8);
            runtime.spawn(watch_keyframe_requests(
                Arc::clone(&track.track),
                Arc::clone(&state),
            ));
            let frame_time = Duration::from_secs(1) / fps;
            runtime.spawn(write_samples(
                track,
                frames_rx,
                frame_time,
                Arc::clone(&state),
            ));
            let mut opened = Some(opened);
            let mut stalls = 0;
            while let Some(camera) = opened.take().or_else(|| open_camera(&*devices, &state)) {
                match capture_video(camera, &*devices, &state, &frames_tx) {
                    // The camera was dropped with `camera`: released until
                    // it is turned back on (its light goes off).
                    Ok(Capture::CameraOff) => stalls = 0,
                    Ok(Capture::CameraChanged) => {
                        stalls = 0;
                        tracing::info!("another camera was chosen; opening it");
                    }
                    Ok(Capture::SourceEnded { delivered }) => {
                        stalls = if delivered { 1 } else { stalls + 1 };
                        let wait = reopen_delay(stalls);
                        tracing::info!(?wait, "the camera stopped delivering; opening it again");
                        wait_unless_changed(&*devices, &state, wait);
                    }
                    Ok(Capture::Stopped) => break,
                    Err(error) => {
                        tracing::warn!(%error, "video capture stopped");
                        break;
                    }
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no thread for video capture");
    }
}

/// Why a stretch of capture ended.
enum Capture {
    CameraOff,
    /// Another camera was chosen; this one was dropped.
    CameraChanged,
    /// The source ended (a camera unplugged or taken by another app);
    /// `delivered` says whether it gave any frame first.
    SourceEnded {
        delivered: bool,
    },
    /// The call is over.
    Stopped,
}

/// How long to wait before opening a camera that stopped delivering, by
/// how many times in a row it did. A PipeWire camera node can start
/// streaming and yet send nothing (PipeWire's test source does so in about
/// one start out of seven); it recovers once it has been idle long enough
/// to be suspended (5 s with WirePlumber), which reopening it every second
/// would never allow.
fn reopen_delay(stalls: u32) -> Duration {
    if stalls <= 1 {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(6)
    }
}

/// Sleeps for `wait`, or less if the call ends, the camera is turned off
/// or another camera is chosen meanwhile.
fn wait_unless_changed(devices: &dyn MediaDevices, state: &MediaState, wait: Duration) {
    let choice = devices.camera_choice();
    let until = Instant::now() + wait;
    while Instant::now() < until
        && !state.is_stopped()
        && state.camera_on.load(Ordering::Relaxed)
        && devices.camera_choice() == choice
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A camera and the choice it was opened for.
struct OpenedCamera {
    input: VideoInput,
    choice: u64,
}

/// Waits until the camera is on and opens it, trying again each second
/// while it fails; `None` when the call ends first or there is no camera.
fn open_camera(devices: &dyn MediaDevices, state: &MediaState) -> Option<OpenedCamera> {
    while !state.is_stopped() {
        if !state.camera_on.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let choice = devices.camera_choice();
        match devices.camera() {
            Ok(Some(input)) => {
                let (width, height) = input.source.size();
                tracing::info!(width, height, fps = input.source.fps(), "camera open");
                return Some(OpenedCamera { input, choice });
            }
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(%error, "the camera did not open; trying again");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    None
}

/// Captures from the camera while it is on and still the chosen one,
/// starting with a keyframe.
fn capture_video(
    camera: OpenedCamera,
    devices: &dyn MediaDevices,
    state: &MediaState,
    frames: &mpsc::Sender<Bytes>,
) -> Result<Capture, MediaError> {
    let OpenedCamera { mut input, choice } = camera;
    let (width, height) = input.source.size();
    let fps = input.source.fps().max(1);
    let frame_time = Duration::from_secs(1) / fps;
    let mut kbps = state.video_kbps();
    let mut encoder = Vp8Encoder::new(Vp8Config {
        width,
        height,
        fps,
        bitrate_kbps: kbps,
    })?;
    let mut deadline = Instant::now();
    let mut first = true;
    let mut delivered = false;
    while !state.is_stopped() {
        if !state.camera_on.load(Ordering::Relaxed) {
            return Ok(Capture::CameraOff);
        }
        if devices.camera_choice() != choice {
            return Ok(Capture::CameraChanged);
        }
        let Some(frame) = input.source.next_frame() else {
            return Ok(Capture::SourceEnded { delivered });
        };
        delivered = true;
        if !input.realtime {
            deadline = deadline.max(Instant::now() - frame_time) + frame_time;
            if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        devices.local_video(&frame);
        let wanted = state.video_kbps();
        // Retune only on real moves: every change costs the encoder a
        // little stability.
        if wanted.abs_diff(kbps) * 10 > kbps {
            encoder.set_bitrate(wanted)?;
            kbps = wanted;
        }
        // The camera coming (back) on starts with a keyframe, as does a
        // request from the other side.
        let keyframe = first || state.keyframe_wanted.swap(false, Ordering::Relaxed);
        first = false;
        for encoded in encoder.encode(&frame, keyframe)? {
            if frames.blocking_send(encoded.data.into()).is_err() {
                return Ok(Capture::Stopped);
            }
        }
    }
    Ok(Capture::Stopped)
}

async fn watch_keyframe_requests(
    track: Arc<webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample>,
    state: Arc<MediaState>,
) {
    while let Some(event) = track.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = event {
            if packets.iter().any(|p| is_keyframe_request(p.as_ref())) {
                state.keyframe_wanted.store(true, Ordering::Relaxed);
            }
        }
        if state.is_stopped() {
            break;
        }
    }
}

/// Plays or shows a track of the other side's, by its kind.
pub async fn receive_track(
    track: Arc<dyn TrackRemote>,
    devices: Arc<dyn MediaDevices>,
    state: Arc<MediaState>,
) {
    match track.kind().await {
        rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Video => {
            receive_video(track, devices, state).await
        }
        _ => receive_audio(track, devices, state).await,
    }
}

/// A speaker that is not there.
struct Nowhere;

impl AudioSink for Nowhere {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    fn play(&mut self, _frame: &AudioFrame) {}
}

/// Runs a device open on a thread of the blocking pool: a sound device can
/// take tens of milliseconds to open, and the call thread carries every
/// packet of the call meanwhile.
pub(super) async fn off_the_call_thread<T: Send + 'static>(
    open: impl FnOnce() -> Result<T, MediaError> + Send + 'static,
) -> Result<T, MediaError> {
    tokio::task::spawn_blocking(open)
        .await
        .unwrap_or_else(|failure| {
            Err(MediaError::Device {
                device: "audio".into(),
                reason: format!("opening it failed: {failure}"),
            })
        })
}

/// Decodes and plays the other side's audio.
pub async fn receive_audio(
    track: Arc<dyn TrackRemote>,
    devices: Arc<dyn MediaDevices>,
    state: Arc<MediaState>,
) {
    let sink = match off_the_call_thread(move || devices.speaker()).await {
        Ok(sink) => sink,
        Err(error) => {
            // Keep reading the track (an unread track backs up inside the
            // connection) and keep the call's figures; play to nowhere.
            tracing::warn!(%error, "no speaker: the call is heard nowhere");
            Box::new(Nowhere)
        }
    };
    let decoder = match OpusDecoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::warn!(%error, "no Opus decoder");
            return;
        }
    };
    let mut playback = Playback {
        jitter: AudioJitter::default(),
        decoder,
        sink,
        ahead: 0,
    };
    let mut capture_clock = state.capture_clock.subscribe();
    let mut pace: Option<PlayoutPace> = None;
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            event = track.poll() => match event {
                None => break,
                Some(TrackRemoteEvent::OnRtpPacket(packet)) => {
                    state.audio_packets_received.fetch_add(1, Ordering::Relaxed);
                    let samples = playback.jitter.push(packet.header.sequence_number, packet.payload);
                    state.audio_received_ms.fetch_add(samples_to_ms(samples), Ordering::Relaxed);
                    if pace.is_none() {
                        // Play the first packet at once: call setup time
                        // ends when the first sound comes out.
                        playback.start(&state);
                        let clock = *capture_clock.borrow_and_update();
                        pace = Some(PlayoutPace::start(Instant::now(), clock));
                    }
                }
                Some(TrackRemoteEvent::OnEnded) => break,
                Some(_) => {}
            },
            // The clock's sender lives in `state`: it cannot close here.
            Ok(()) = capture_clock.changed(), if pace.is_some() => {
                let clock = *capture_clock.borrow_and_update();
                let pace = pace.as_mut().expect("playing");
                playback.play(pace.on_capture(clock, Instant::now()), &state);
            },
            () = &mut timer, if pace.is_some() => {
                let pace = pace.as_mut().expect("playing");
                playback.play(pace.on_deadline(Instant::now()), &state);
            }
        }
        if let Some(pace) = &pace {
            let deadline = tokio::time::Instant::from_std(pace.deadline());
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
        }
        if state.is_stopped() {
            break;
        }
    }
}

fn samples_to_ms(samples: usize) -> u64 {
    (samples / AudioFormat::OPUS_MONO.samples_per_channel(1)) as u64
}

/// The other side's audio on its way out: packets in order, their
/// decoding, and the speaker.
struct Playback {
    jitter: AudioJitter,
    decoder: OpusDecoder,
    sink: Box<dyn AudioSink>,
    /// Samples handed to the sink beyond what the clock asked for so far
    /// (a packet may hold more than one step of the clock).
    ahead: i64,
}

impl Playback {
    /// Plays the first packet, at once.
    fn start(&mut self, state: &MediaState) {
        self.ahead = self.play_next(state) as i64;
    }

    /// The clock moved on by `samples`: plays packets until the sink has
    /// at least that much more.
    fn play(&mut self, samples: u64, state: &MediaState) {
        self.ahead -= samples as i64;
        while self.ahead < 0 {
            self.ahead += self.play_next(state) as i64;
        }
    }

    /// Plays the next packet, or what stands in for it; returns how many
    /// samples that took (a frame's worth even when it failed, so that
    /// playout moves on).
    fn play_next(&mut self, state: &MediaState) -> usize {
        let decoded = match self.jitter.pop() {
            Playout::Packet(packet) => self.decoder.decode(&packet),
            Playout::Recover(next) => self.decoder.decode_fec(&next),
            Playout::Conceal => self.decoder.conceal(),
            Playout::Silence => Ok(vec![0; OPUS_FRAME_SAMPLES]),
        };
        match decoded {
            Ok(samples) if !samples.is_empty() => {
                state.first_audio.get_or_init(Instant::now);
                let played = samples.len();
                state
                    .audio_played_ms
                    .fetch_add(samples_to_ms(played), Ordering::Relaxed);
                self.sink.play(&AudioFrame {
                    format: AudioFormat::OPUS_MONO,
                    samples,
                });
                played
            }
            Ok(_) => OPUS_FRAME_SAMPLES,
            Err(error) => {
                tracing::debug!(%error, "an audio frame was not decoded");
                OPUS_FRAME_SAMPLES
            }
        }
    }
}

/// Reassembles, decodes and shows the other side's video.
pub async fn receive_video(
    track: Arc<dyn TrackRemote>,
    devices: Arc<dyn MediaDevices>,
    state: Arc<MediaState>,
) {
    let (samples_tx, samples_rx) = std::sync::mpsc::sync_channel::<Bytes>(8);
    let wants_keyframe = Arc::new(AtomicBool::new(true));
    let decoder_state = Arc::clone(&state);
    let decoder_wants = Arc::clone(&wants_keyframe);
    let spawned = std::thread::Builder::new()
        .name("convene-video-decode".into())
        .spawn(move || decode_video(samples_rx, &*devices, &decoder_state, &decoder_wants));
    if let Err(error) = spawned {
        tracing::warn!(%error, "no thread for video decoding");
        return;
    }
    let mut builder = SampleBuilder::new(64, Vp8Packet::default(), 90_000);
    let mut last_pli: Option<Instant> = None;
    while let Some(event) = track.poll().await {
        if state.is_stopped() {
            break;
        }
        let TrackRemoteEvent::OnRtpPacket(packet) = event else {
            continue;
        };
        let media_ssrc = packet.header.ssrc;
        let now = Instant::now();
        builder.push(now, packet);
        while let Some(sample) = builder.pop(now) {
            // A full queue means the decoder is behind: drop the frame
            // and let the next keyframe request catch up.
            if samples_tx.try_send(sample.data).is_err() {
                wants_keyframe.store(true, Ordering::Relaxed);
            }
        }
        if wants_keyframe.load(Ordering::Relaxed)
            && last_pli.is_none_or(|at| at.elapsed() >= PLI_SPACING)
        {
            last_pli = Some(now);
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc,
            };
            if track.write_rtcp(vec![Box::new(pli)]).await.is_err() {
                break;
            }
        }
    }
}

/// A gap this long between decoded frames counts as the video having
/// stopped (camera off); the next frame starts it again.
const VIDEO_PAUSE: Duration = Duration::from_secs(1);

fn decode_video(
    samples: std::sync::mpsc::Receiver<Bytes>,
    devices: &dyn MediaDevices,
    state: &MediaState,
    wants_keyframe: &AtomicBool,
) {
    let mut decoder = match Vp8Decoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::warn!(%error, "no VP8 decoder");
            return;
        }
    };
    let mut last_decoded: Option<Instant> = None;
    while let Ok(data) = samples.recv() {
        match decoder.decode(&data) {
            Ok(Some(frame)) => {
                wants_keyframe.store(false, Ordering::Relaxed);
                state.first_video.get_or_init(Instant::now);
                state.video_frames_decoded.fetch_add(1, Ordering::Relaxed);
                let now = Instant::now();
                if last_decoded.is_none_or(|at| now - at > VIDEO_PAUSE) {
                    state.video_arrived.notify_one();
                }
                last_decoded = Some(now);
                devices.remote_video(&frame);
            }
            Ok(None) => {}
            Err(error) => {
                tracing::debug!(%error, "a video frame was not decoded");
                wants_keyframe.store(true, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;
    use std::sync::Mutex;

    use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;

    use super::super::peer::{new_track, vp8_codec};
    use super::*;

    /// A camera node that starts streaming and sends nothing, every time
    /// it is opened; when each opening happened is kept.
    #[derive(Default)]
    struct StalledCamera {
        openings: Mutex<Vec<Instant>>,
        choice: AtomicU64,
    }

    struct SendsNothing;

    impl VideoSource for SendsNothing {
        fn size(&self) -> (u32, u32) {
            (64, 48)
        }
        fn fps(&self) -> u32 {
            30
        }
        fn next_frame(&mut self) -> Option<VideoFrame> {
            None
        }
    }

    impl MediaDevices for StalledCamera {
        fn microphone(&self) -> Result<AudioInput, MediaError> {
            Err(MediaError::DeviceNotFound(
                "no microphone in this test".into(),
            ))
        }
        fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError> {
            Err(MediaError::DeviceNotFound("no speaker in this test".into()))
        }
        fn camera(&self) -> Result<Option<VideoInput>, MediaError> {
            self.openings.lock().unwrap().push(Instant::now());
            Ok(Some(VideoInput {
                source: Box::new(SendsNothing),
                realtime: true,
            }))
        }
        fn camera_choice(&self) -> u64 {
            self.choice.load(Ordering::Relaxed)
        }
    }

    impl StalledCamera {
        async fn wait_for_openings(&self, count: usize) -> Vec<Instant> {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let openings = self.openings.lock().unwrap().clone();
                if openings.len() >= count {
                    return openings;
                }
                assert!(Instant::now() < deadline, "{} openings", openings.len());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_camera_that_keeps_stalling_is_left_idle_before_each_new_try() {
        let camera = Arc::new(StalledCamera::default());
        let state = Arc::new(MediaState::default());
        state.camera_on.store(true, Ordering::Relaxed);
        let track = LocalTrack {
            track: new_track(RtpCodecKind::Video, vp8_codec().rtp_codec).unwrap(),
            ssrc: 1,
            payload_type: vp8_codec().payload_type,
        };
        start_video_sender(track, Arc::clone(&camera) as _, Arc::clone(&state));

        // The first stall is tried again after a second; the next ones
        // only after the node has idled long enough to be suspended.
        let openings = camera.wait_for_openings(3).await;
        let (first_wait, second_wait) = (openings[1] - openings[0], openings[2] - openings[1]);
        assert!(
            first_wait >= Duration::from_millis(900) && first_wait < Duration::from_secs(3),
            "after the first stall: {first_wait:?}"
        );
        assert!(
            second_wait >= Duration::from_millis(5900),
            "after a second stall in a row: {second_wait:?}"
        );

        // Choosing another camera during that wait opens it at once.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let chosen = Instant::now();
        camera.choice.fetch_add(1, Ordering::Relaxed);
        let openings = camera.wait_for_openings(4).await;
        assert!(
            openings[3] - chosen < Duration::from_millis(500),
            "the chosen camera opened {:?} after the choice",
            openings[3] - chosen
        );
        state.stop();
    }

    #[test]
    fn audio_packets_are_longer_only_on_a_path_known_to_be_clean() {
        assert_eq!(packet_length(None, 0), 20, "before the first report");
        assert_eq!(packet_length(Some(0), 0), 40);
        for loss in [1, 5, 30] {
            assert_eq!(packet_length(Some(loss), 0), 20, "{loss} % loss: FEC pays");
        }
    }

    #[test]
    fn audio_packets_are_never_longer_than_the_other_sides_maxptime() {
        for max in [10, 20, 39] {
            assert_eq!(packet_length(Some(0), max), 20, "maxptime:{max}");
            assert_eq!(packet_length(None, max), 20, "maxptime:{max}");
        }
        for max in [40, 60, 120] {
            assert_eq!(packet_length(Some(0), max), 40, "maxptime:{max}");
            assert_eq!(packet_length(Some(5), max), 20, "maxptime:{max}");
        }
        let state = MediaState::default();
        assert_eq!(state.max_packet_ms(), 0, "no limit until one is set");
        state.set_max_packet_ms(Some(20));
        assert_eq!(packet_length(Some(0), state.max_packet_ms()), 20);
        state.set_max_packet_ms(None);
        assert_eq!(packet_length(Some(0), state.max_packet_ms()), 40);
    }

    #[tokio::test]
    async fn a_slow_device_open_leaves_the_call_thread_free() {
        let ticks = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&ticks);
        let ticker = crate::call::runtime::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counted.fetch_add(1, Ordering::Relaxed);
            }
        });
        let opened = crate::call::runtime::spawn(off_the_call_thread(|| {
            std::thread::sleep(Duration::from_millis(300));
            Ok("speaker")
        }));
        let before = ticks.load(Ordering::Relaxed);
        assert_eq!(opened.await.unwrap().unwrap(), "speaker");
        let during = ticks.load(Ordering::Relaxed) - before;
        ticker.abort();
        assert!(
            during >= 5,
            "the call thread ticked {during} times in 300 ms"
        );
    }
}
