//! Calls from a terminal: `call` places one, `answer` waits for the next
//! one. Audio comes from a tone, a WAV file or a device; video from a test
//! pattern or nothing. `--record` keeps what this side heard; `--json`
//! prints setup timings and final figures, which is what the call tests
//! and benchmarks read.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand};
use convene_core::account::{AccountOptions, AccountServices, AccountSetup, CallDevices};
use convene_core::call::{
    AudioInput, CallEngine, CallError, CallReport, CallStage, CallView, EndReason, MediaDevices,
    SoundDevices, VideoInput,
};
use convene_core::chat::{ChatService, ChatStorage, PollTiming};
use convene_core::publish::Publisher;
use convene_core::session::{Resource, Sessions};
use convene_core::ClientConfig;
use convene_media::{
    pattern_index, psnr, AudioFormat, AudioFrame, AudioSink, MediaError, PatternSource, ToneSource,
    VideoFrame, WavRecorder, WavSource,
};
use serde::Serialize;

use crate::{EXIT_SIGN_IN_NEEDED, EXIT_UNREACHABLE};

/// Exit code when the call did not connect (declined, busy, no answer…).
const EXIT_NOT_CONNECTED: u8 = 5;
/// Exit code when the call connected and then failed: the connection was
/// lost for good, or the other device vanished (`ended: "failed"`).
const EXIT_CALL_FAILED: u8 = 6;

#[derive(Debug, Subcommand)]
pub enum CallCommand {
    /// Call a person and stay in the call until it ends.
    Call {
        /// A user id or a username such as bob@convene.example.
        user: String,
        #[command(flatten)]
        media: MediaArgs,
        /// Hang up this long after the call connects (e.g. 10s, 500ms).
        #[arg(long, value_parser = parse_duration)]
        duration: Option<Duration>,
        /// Give up if nobody answers within this long (else the server's
        /// ring timeout applies).
        #[arg(long, value_parser = parse_duration)]
        give_up_after: Option<Duration>,
    },
    /// Wait for the next incoming call, answer it, and stay until the other
    /// side hangs up.
    Answer {
        #[command(flatten)]
        media: MediaArgs,
        /// Decline the call instead of answering it.
        #[arg(long)]
        decline: bool,
        /// Let the call ring this long before answering (or declining);
        /// if the caller gives up meanwhile, that is how the call ends.
        #[arg(long, value_parser = parse_duration)]
        ring_for: Option<Duration>,
        /// Stop waiting for a call after this long.
        #[arg(long, value_parser = parse_duration, default_value = "120s")]
        wait: Duration,
        /// Hang up this long after the call connects.
        #[arg(long, value_parser = parse_duration)]
        duration: Option<Duration>,
    },
    /// List your recent calls, newest first, as the server recorded them.
    Calls {
        /// One JSON object per call instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct MediaArgs {
    /// What this side says: `tone:FREQ` (Hz), `file:PATH.wav`, `device`
    /// (the system's microphone, and what is heard plays on its speaker),
    /// `device:NAME` (that microphone; `convene-cli devices` lists them),
    /// or `none`.
    #[arg(long, default_value = "tone:440", value_parser = parse_audio)]
    audio: AudioChoice,
    /// What this side shows: `pattern`, `pattern:WxH`, or `none`.
    #[arg(long, default_value = "none", value_parser = parse_video)]
    video: VideoChoice,
    /// Write what this side heard to a WAV file (48 kHz mono).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Send media through a TURN relay only.
    #[arg(long)]
    relay_only: bool,
    /// Print one JSON object with timings and figures at the end.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone)]
enum AudioChoice {
    Tone(f64),
    File(PathBuf),
    /// A microphone (`None`: the system default); what is heard plays on
    /// the default speaker.
    Device(Option<String>),
    None,
}

#[derive(Debug, Clone, Copy)]
enum VideoChoice {
    Pattern { width: u32, height: u32 },
    None,
}

fn parse_audio(value: &str) -> Result<AudioChoice, String> {
    if value == "none" {
        return Ok(AudioChoice::None);
    }
    if let Some(freq) = value.strip_prefix("tone:") {
        let freq: f64 = freq
            .parse()
            .map_err(|_| format!("not a frequency: {freq}"))?;
        if !(20.0..=20_000.0).contains(&freq) {
            return Err("a tone between 20 and 20000 Hz".into());
        }
        return Ok(AudioChoice::Tone(freq));
    }
    if let Some(path) = value.strip_prefix("file:") {
        return Ok(AudioChoice::File(PathBuf::from(path)));
    }
    if value == "device" {
        return Ok(AudioChoice::Device(None));
    }
    if let Some(name) = value.strip_prefix("device:").filter(|n| !n.is_empty()) {
        return Ok(AudioChoice::Device(Some(name.to_owned())));
    }
    Err("expected tone:FREQ, file:PATH.wav, device, device:NAME or none".into())
}

fn parse_video(value: &str) -> Result<VideoChoice, String> {
    match value {
        "none" => Ok(VideoChoice::None),
        "pattern" => Ok(VideoChoice::Pattern {
            width: 640,
            height: 360,
        }),
        _ => {
            let size = value
                .strip_prefix("pattern:")
                .ok_or("expected pattern, pattern:WxH or none")?;
            let (w, h) = size.split_once('x').ok_or("expected WxH, e.g. 1280x720")?;
            let width: u32 = w.parse().map_err(|_| format!("not a width: {w}"))?;
            let height: u32 = h.parse().map_err(|_| format!("not a height: {h}"))?;
            if width < 64 || height < 64 || width % 2 == 1 || height % 2 == 1 || width > 3840 {
                return Err("even sizes from 64x64 to 3840x2160".into());
            }
            Ok(VideoChoice::Pattern { width, height })
        }
    }
}

fn parse_duration(value: &str) -> Result<Duration, String> {
    let (number, unit) = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|at| value.split_at(at))
        .unwrap_or((value, "s"));
    let number: f64 = number
        .parse()
        .map_err(|_| format!("not a duration: {value}"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("unknown unit in {value}: use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// The figures `--json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CallSummary {
    call_id: String,
    peer: String,
    connected: bool,
    ended: Option<EndReason>,
    error: Option<String>,
    ringing_ms: Option<f64>,
    connect_ms: Option<f64>,
    setup_ms: Option<f64>,
    first_video_ms: Option<f64>,
    duration_secs: f64,
    /// The other side's audio played, and how much of it came in packets:
    /// less while the other side was silent (DTX).
    audio_played_ms: u64,
    audio_received_ms: u64,
    audio_packets_received: u64,
    video_frames_decoded: u64,
    /// Decoded frames whose pattern number could be read back.
    pattern_frames: u64,
    psnr_mean_db: Option<f64>,
    psnr_min_db: Option<f64>,
    quality: Option<convene_core::call::CallQuality>,
}

/// Tones, files, sound devices and patterns in; a recorder and PSNR
/// figures out.
struct TerminalMedia {
    audio: AudioChoice,
    /// With `--audio device`: the microphone and speaker, paired through
    /// an echo canceller as in the app.
    sound: Option<SoundDevices>,
    video: VideoChoice,
    recorder: Arc<Mutex<Option<WavRecorder>>>,
    psnr: Mutex<PsnrStats>,
}

#[derive(Debug, Default)]
struct PsnrStats {
    /// Frames whose pattern number read back.
    frames: u64,
    /// Of those, the ones compared with what was sent.
    compared: u64,
    sum: f64,
    min: Option<f64>,
}

impl MediaDevices for TerminalMedia {
    fn microphone(&self) -> Result<AudioInput, MediaError> {
        // The app's microphone: its own clock, a fallback to the default,
        // and the speaker's echo taken out.
        if let Some(sound) = &self.sound {
            return sound.microphone();
        }
        let source: Box<dyn convene_media::AudioSource> = match &self.audio {
            AudioChoice::Tone(freq) => {
                Box::new(ToneSource::new(AudioFormat::OPUS_MONO, *freq, 0.5))
            }
            AudioChoice::File(path) => Box::new(WavSource::open(path)?),
            // A device was answered above.
            AudioChoice::Device(_) | AudioChoice::None => {
                Box::new(ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.0))
            }
        };
        Ok(AudioInput {
            source,
            realtime: false,
        })
    }

    fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError> {
        let recorder = SharedRecorder(Arc::clone(&self.recorder));
        let Some(sound) = &self.sound else {
            return Ok(Box::new(recorder));
        };
        Ok(Box::new(HeardAloud {
            speaker: sound.speaker()?,
            recorder,
        }))
    }

    fn camera(&self) -> Result<Option<VideoInput>, MediaError> {
        Ok(match self.video {
            VideoChoice::Pattern { width, height } => Some(VideoInput {
                source: Box::new(PatternSource::new(width, height, 30)),
                realtime: false,
            }),
            VideoChoice::None => None,
        })
    }

    fn remote_video(&self, frame: &VideoFrame) {
        let Some(index) = pattern_index(frame) else {
            return;
        };
        let mut stats = self.psnr.lock().unwrap_or_else(|e| e.into_inner());
        stats.frames += 1;
        // Regenerate the frame the other side sent and compare, for two
        // frames a second: measuring every frame would cost more CPU than
        // decoding it, and the CPU figures are the call's, not the test's.
        if stats.frames % 15 != 1 {
            return;
        }
        let sent = PatternSource::frame(frame.width, frame.height, index);
        let db = psnr(&sent, frame);
        stats.compared += 1;
        stats.sum += db;
        stats.min = Some(stats.min.map_or(db, |m: f64| m.min(db)));
    }
}

/// The recorder behind a lock, so the call can finish the file when it
/// ends even if the playout task still holds its end.
struct SharedRecorder(Arc<Mutex<Option<WavRecorder>>>);

/// Plays what is heard on the speaker and records it too.
struct HeardAloud {
    speaker: Box<dyn AudioSink>,
    recorder: SharedRecorder,
}

impl AudioSink for HeardAloud {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    fn play(&mut self, frame: &AudioFrame) {
        self.speaker.play(frame);
        self.recorder.play(frame);
    }
}

impl AudioSink for SharedRecorder {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    fn play(&mut self, frame: &AudioFrame) {
        if let Some(recorder) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            recorder.play(frame);
        }
    }
}

/// The audio devices, as `--audio device:NAME` names them.
pub fn list_devices(json: bool) -> anyhow::Result<ExitCode> {
    for device in convene_media::audio_devices()? {
        let kind = match device.kind {
            convene_media::DeviceKind::Input => "microphone",
            convene_media::DeviceKind::Output => "speaker",
        };
        if json {
            let line = serde_json::json!({
                "name": device.name,
                "kind": kind,
                "default": device.is_default,
            });
            println!("{line}");
        } else {
            let default = if device.is_default { " (default)" } else { "" };
            println!("{kind}\t{}{default}", device.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(
    command: CallCommand,
    config: &ClientConfig,
    sessions: Arc<Sessions>,
) -> anyhow::Result<ExitCode> {
    let Some(me) = sessions.current().await? else {
        eprintln!("convene-cli: not signed in: run `convene-cli login`");
        return Ok(ExitCode::from(EXIT_SIGN_IN_NEEDED));
    };
    crate::account::approve_if_needed(&sessions, &me, &[Resource::Api]).await?;
    let media_args = match &command {
        CallCommand::Call { media, .. } | CallCommand::Answer { media, .. } => media,
        CallCommand::Calls { json } => return history(config, &sessions, &me, *json).await,
    };
    let recorder = match &media_args.record {
        Some(path) => Some(WavRecorder::create(path, AudioFormat::OPUS_MONO)?),
        None => None,
    };
    if let AudioChoice::File(path) = &media_args.audio {
        // Fail now, not when the call connects.
        WavSource::open(path)?;
    }
    let sound = match &media_args.audio {
        AudioChoice::Device(name) => Some(SoundDevices::new(name.clone(), None)),
        _ => None,
    };
    let media = Arc::new(TerminalMedia {
        audio: media_args.audio.clone(),
        sound,
        video: media_args.video,
        recorder: Arc::new(Mutex::new(recorder)),
        psnr: Mutex::default(),
    });

    // This process uses the live channel for signaling only (no cache on
    // disk, no polling to speak of).
    let services = AccountServices::start(AccountSetup {
        account: me,
        sessions,
        server_url: config.server_url.clone(),
        graph_url: config.graph_url.clone(),
        options: AccountOptions {
            storage: ChatStorage::Memory,
            timing: PollTiming {
                with_push: Duration::from_secs(3600),
                without_push: Duration::from_secs(3600),
            },
            live: true,
            call_devices: Some(CallDevices(Arc::clone(&media) as Arc<dyn MediaDevices>)),
            relay_only: media_args.relay_only,
        },
        chat_events: Publisher::new(|_| true),
    })?;
    let chat = Arc::clone(services.chat());
    let engine = Arc::clone(services.calls().expect("calls run with devices"));
    let json = media_args.json;
    wait_for_live(&chat).await?;

    let outcome = match command {
        CallCommand::Call {
            user,
            media,
            duration,
            give_up_after,
        } => {
            let callee = resolve_user(&chat, &user).await?;
            place(&engine, callee, &media, duration, give_up_after).await
        }
        CallCommand::Answer {
            media,
            decline,
            ring_for,
            wait,
            duration,
        } => {
            let choice = Answering {
                decline,
                ring_for,
                wait,
                duration,
            };
            answer(&engine, &media, choice).await
        }
        CallCommand::Calls { .. } => unreachable!("listed above"),
    };
    let report = match outcome {
        Ok(report) => report,
        Err(CallError::Offline) => {
            eprintln!("convene-cli: not connected to the server");
            return Ok(ExitCode::from(EXIT_UNREACHABLE));
        }
        Err(error) => {
            eprintln!("convene-cli: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let recorded = media
        .recorder
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(recorder) = recorded {
        recorder.finish()?;
    }
    let Some(report) = report else {
        eprintln!("convene-cli: no call came");
        return Ok(ExitCode::from(EXIT_NOT_CONNECTED));
    };
    let summary = summarise(&report, &media);
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        eprintln!(
            "call ended: {}",
            summary
                .ended
                .map(|r| format!("{r:?}"))
                .unwrap_or_else(|| "?".into())
        );
    }
    Ok(ExitCode::from(exit_code(&summary)))
}

/// How a call that ran its course exits: 0 if it connected and ended by a
/// hang-up, [`EXIT_CALL_FAILED`] if it connected and then failed,
/// [`EXIT_NOT_CONNECTED`] if it never connected.
fn exit_code(summary: &CallSummary) -> u8 {
    match (summary.connected, summary.ended) {
        (false, _) => EXIT_NOT_CONNECTED,
        (true, Some(EndReason::Failed)) => EXIT_CALL_FAILED,
        (true, _) => 0,
    }
}

/// `convene-cli calls`: the server's records of this account's calls.
async fn history(
    config: &ClientConfig,
    sessions: &Sessions,
    me: &convene_core::session::AccountProfile,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let http = convene_core::http::client(Duration::from_secs(30));
    let names = std::collections::HashMap::new();
    let calls =
        convene_core::call::history::fetch(&http, &config.server_url, sessions, me, &names).await?;
    for call in calls {
        if json {
            println!("{}", serde_json::to_string(&call)?);
        } else {
            let outcome = call.outcome.map_or("going on", |o| o.as_str());
            println!(
                "{}  {:?}  {}  {} s  {}",
                call.started_at, call.direction, call.peer.user_id, call.duration_secs, outcome
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_live(chat: &ChatService) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !chat.is_live() {
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("cannot reach the server's live channel");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A user id, or a username looked up in the directory (with its name).
async fn resolve_user(chat: &ChatService, user: &str) -> anyhow::Result<(String, Option<String>)> {
    if !user.contains('@') {
        return Ok((user.trim_start_matches("8:orgid:").to_owned(), None));
    }
    match chat.find_person(user).await? {
        Some(person) => Ok((person.id, Some(person.display_name))),
        None => anyhow::bail!("no user {user} in your organisation"),
    }
}

fn say(stage: &str) {
    eprintln!("call: {stage}");
}

async fn place(
    engine: &CallEngine,
    (callee, name): (String, Option<String>),
    media: &MediaArgs,
    duration: Option<Duration>,
    give_up_after: Option<Duration>,
) -> Result<Option<CallReport>, CallError> {
    let mut updates = engine.subscribe();
    let video = matches!(media.video, VideoChoice::Pattern { .. });
    let placed = engine.place(&callee, name, video).await?;
    say(&format!("calling {}", placed.peer.user_id));
    let give_up = give_up_after.map(|after| tokio::time::Instant::now() + after);
    follow(engine, &mut updates, &placed.call_id, duration, give_up).await
}

/// How `answer` treats the next call.
struct Answering {
    decline: bool,
    ring_for: Option<Duration>,
    wait: Duration,
    duration: Option<Duration>,
}

async fn answer(
    engine: &CallEngine,
    media: &MediaArgs,
    choice: Answering,
) -> Result<Option<CallReport>, CallError> {
    let Answering {
        decline,
        ring_for,
        wait,
        duration,
    } = choice;
    let mut updates = engine.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    // The live channel is up: a call placed from now on rings here.
    say("waiting for a call");
    let incoming = loop {
        let view = if let Some(view) = engine.current().filter(is_ringing_here) {
            view
        } else {
            match tokio::time::timeout_at(deadline, updates.recv()).await {
                Err(_) => return Ok(None),
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                    return Err(CallError::Stopped)
                }
                Ok(Err(_lagged)) => continue,
                Ok(Ok(view)) => view,
            }
        };
        if is_ringing_here(&view) {
            break view;
        }
    };
    say(&format!(
        "incoming from {}",
        incoming
            .peer
            .name
            .as_deref()
            .unwrap_or(&incoming.peer.user_id)
    ));
    if let Some(ring_for) = ring_for {
        let until = tokio::time::Instant::now() + ring_for;
        let still_ringing = || {
            engine
                .current()
                .is_some_and(|v| v.call_id == incoming.call_id && is_ringing_here(&v))
        };
        while still_ringing() {
            match tokio::time::timeout_at(until, updates.recv()).await {
                Err(_) => break,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                    return Err(CallError::Stopped)
                }
                Ok(_) => {}
            }
        }
        if !still_ringing() {
            // The caller gave up, the ring timed out, or another device of
            // ours took the call.
            return Ok(engine.report().await);
        }
    }
    if decline {
        engine.decline(&incoming.call_id).await?;
        return Ok(engine.report().await);
    }
    let video = matches!(media.video, VideoChoice::Pattern { .. });
    match engine.answer(&incoming.call_id, video).await {
        Ok(_) => {}
        // Another device of ours was quicker, or the caller gave up.
        Err(CallError::NoSuchCall) => return Ok(engine.report().await),
        Err(error) => return Err(error),
    }
    follow(engine, &mut updates, &incoming.call_id, duration, None).await
}

fn is_ringing_here(view: &CallView) -> bool {
    view.stage == CallStage::Incoming
}

/// Follows the call until it ends: hangs up after `duration` connected,
/// gives up at `give_up` if still unanswered, and hangs up on Ctrl-C.
async fn follow(
    engine: &CallEngine,
    updates: &mut tokio::sync::broadcast::Receiver<CallView>,
    call_id: &str,
    duration: Option<Duration>,
    give_up: Option<tokio::time::Instant>,
) -> Result<Option<CallReport>, CallError> {
    let mut hang_up_at: Option<tokio::time::Instant> = None;
    let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
    let mut announced = None;
    let mut path = None;
    loop {
        let current = engine.current().filter(|v| v.call_id == call_id);
        let Some(view) = current else {
            // Ended (or never ours): the report is the last call's.
            return Ok(engine.report().await);
        };
        if announced != Some(view.stage) {
            announced = Some(view.stage);
            say(&format!("{:?}", view.stage).to_lowercase());
        }
        // Which way media goes, from the first quality reading on.
        let relayed = view.quality.map(|q| q.relayed);
        if relayed.is_some() && relayed != path {
            path = relayed;
            say(if path == Some(true) {
                "media through a relay"
            } else {
                "media direct"
            });
        }
        if view.stage == CallStage::Connected && hang_up_at.is_none() {
            hang_up_at = duration.map(|d| tokio::time::Instant::now() + d);
        }
        let unanswered = matches!(view.stage, CallStage::Calling | CallStage::Ringing);
        let give_up_at = give_up.filter(|_| unanswered);
        let wake = hang_up_at.unwrap_or(far).min(give_up_at.unwrap_or(far));
        tokio::select! {
            update = updates.recv() => {
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) = update {
                    return Err(CallError::Stopped);
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                engine.hang_up().await?;
            }
            _ = shutdown_signal() => {
                engine.hang_up().await?;
            }
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn summarise(report: &CallReport, media: &TerminalMedia) -> CallSummary {
    let psnr = media.psnr.lock().unwrap_or_else(|e| e.into_inner());
    CallSummary {
        call_id: report.view.call_id.clone(),
        peer: report.view.peer.user_id.clone(),
        connected: report.view.connected_at_ms.is_some(),
        ended: report.view.ended,
        error: report.view.error.clone(),
        ringing_ms: report.timings.ringing_ms,
        connect_ms: report.timings.connect_ms,
        setup_ms: report.timings.setup_ms,
        first_video_ms: report.timings.first_video_ms,
        duration_secs: report.duration_secs,
        audio_played_ms: report.audio_played_ms,
        audio_received_ms: report.audio_received_ms,
        audio_packets_received: report.audio_packets_received,
        video_frames_decoded: report.video_frames_decoded,
        pattern_frames: psnr.frames,
        psnr_mean_db: (psnr.compared > 0).then(|| psnr.sum / psnr.compared as f64),
        psnr_min_db: psnr.min,
        quality: report.view.quality,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("3h").is_err());
    }

    #[test]
    fn a_call_that_connected_and_then_failed_does_not_exit_0() {
        let summary = |connected: bool, ended: EndReason| CallSummary {
            call_id: "c".into(),
            peer: "p".into(),
            connected,
            ended: Some(ended),
            error: None,
            ringing_ms: None,
            connect_ms: None,
            setup_ms: None,
            first_video_ms: None,
            duration_secs: 0.0,
            audio_played_ms: 0,
            audio_received_ms: 0,
            audio_packets_received: 0,
            video_frames_decoded: 0,
            pattern_frames: 0,
            psnr_mean_db: None,
            psnr_min_db: None,
            quality: None,
        };
        assert_eq!(exit_code(&summary(true, EndReason::HungUp)), 0);
        assert_eq!(exit_code(&summary(true, EndReason::RemoteHungUp)), 0);
        assert_eq!(exit_code(&summary(true, EndReason::Failed)), 6);
        assert_eq!(exit_code(&summary(false, EndReason::Failed)), 5);
        assert_eq!(exit_code(&summary(false, EndReason::Declined)), 5);
    }

    #[test]
    fn media_choices_parse_and_refuse_nonsense() {
        assert!(matches!(parse_audio("tone:440"), Ok(AudioChoice::Tone(f)) if f == 440.0));
        assert!(matches!(
            parse_audio("file:a.wav"),
            Ok(AudioChoice::File(_))
        ));
        assert!(parse_audio("tone:5").is_err());
        assert!(parse_audio("mic").is_err());
        assert!(matches!(
            parse_video("pattern:1280x720"),
            Ok(VideoChoice::Pattern {
                width: 1280,
                height: 720
            })
        ));
        assert!(parse_video("pattern:641x360").is_err());
    }
}
