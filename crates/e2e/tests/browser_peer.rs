//! A browser is a peer Convene's media can talk to: Convene's own WebRTC
//! peer connection (the one every call uses) offers, headless Chromium
//! answers with its fake microphone and camera, and media flows both ways:
//! Chromium decodes Convene's Opus tone and VP8 pattern, Convene decodes
//! Chromium's Opus and VP8. The SDP and candidates are handed over by the
//! test, as a browser client of docs/protocol.md would.
//!
//! Needs Debian's chromium and chromium-driver (scripts/setup.sh installs
//! them); without them the test fails and says so.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_core::call::media::{self, AudioInput, MediaDevices, MediaState, VideoInput};
use convene_core::call::peer::PeerState;
use convene_core::call::peer::{Peer, PeerEvent, PeerSettings};
use convene_media::{
    AudioFormat, AudioFrame, AudioSink, MediaError, PatternSource, ToneSource, VideoFrame,
};
use convene_test_support::wait::wait_until_async;
use serde_json::{json, Value};
use tokio::sync::mpsc;

const PAGE: &str = "<!doctype html><title>peer</title><p>peer";

/// Frames with a beep in them that Convene must decode from Chromium.
const LOUD_FRAMES: u64 = 25;

/// Tone and pattern out; counts what comes back.
#[derive(Default)]
struct Counting {
    audio_frames: AtomicU64,
    loud_frames: AtomicU64,
    video_frames: AtomicU64,
}

struct CountingSink(Arc<Counting>);

impl AudioSink for CountingSink {
    fn format(&self) -> AudioFormat {
        AudioFormat::OPUS_MONO
    }

    fn play(&mut self, frame: &AudioFrame) {
        self.0.audio_frames.fetch_add(1, Ordering::Relaxed);
        if frame.samples.iter().any(|s| s.unsigned_abs() > 1000) {
            self.0.loud_frames.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct TestDevices(Arc<Counting>);

impl MediaDevices for TestDevices {
    fn microphone(&self) -> Result<AudioInput, MediaError> {
        Ok(AudioInput {
            source: Box::new(ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5)),
            realtime: false,
        })
    }

    fn speaker(&self) -> Result<Box<dyn AudioSink>, MediaError> {
        Ok(Box::new(CountingSink(Arc::clone(&self.0))))
    }

    fn camera(&self) -> Result<Option<VideoInput>, MediaError> {
        Ok(Some(VideoInput {
            source: Box::new(PatternSource::new(640, 360, 30)),
            realtime: false,
        }))
    }

    fn remote_video(&self, _frame: &VideoFrame) {
        self.0.video_frames.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves one page on loopback (getUserMedia wants a secure context, and
/// http://127.0.0.1 is one).
fn serve_page() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{PAGE}",
                PAGE.len()
            );
        }
    });
    port
}

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn chromium() -> (fantoccini::Client, Chromedriver) {
    let port = convene_test_support::free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("chromedriver is not installed (Debian chromium-driver; scripts/setup.sh): {e}")
        });
    let driver = Chromedriver(driver);
    convene_test_support::wait_for_port(
        format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_secs(20),
    );
    let profile = tempfile::tempdir().unwrap().keep();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--allow-loopback-in-peer-connection",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
                "--autoplay-policy=no-user-gesture-required",
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (client, driver)
}

/// Runs async JavaScript; its last argument is the callback.
async fn js(client: &fantoccini::Client, script: &str, args: Vec<Value>) -> Value {
    client
        .execute_async(script, args)
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_convene_exchange_audio_and_video() {
    exchange_audio_and_video(Addresses::Plain).await;
}

/// Chromium hides its local addresses behind mDNS names unless the page
/// may use the camera or microphone; Convene does not resolve them
/// (multicast is often missing), and still connects: it learns the
/// browser's address from the browser's own connectivity checks
/// (peer-reflexive candidates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_hides_its_addresses_still_connects() {
    exchange_audio_and_video(Addresses::HiddenBehindMdns).await;
}

#[derive(PartialEq)]
enum Addresses {
    Plain,
    HiddenBehindMdns,
}

/// One Chromium at a time: two starting at once on two cores made one
/// chromedriver reset the session request (seen in CI).
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn exchange_audio_and_video(addresses: Addresses) {
    let _turn = ONE_BROWSER.lock().await;
    let (browser, _driver) = chromium().await;
    let page = serve_page();
    browser
        .goto(&format!("http://127.0.0.1:{page}/"))
        .await
        .unwrap();

    let (events_tx, mut events) = mpsc::unbounded_channel();
    let peer = Peer::new(&PeerSettings::default(), events_tx)
        .await
        .expect("a peer");
    let offer = peer.offer().await.expect("an offer");
    // Our candidates trickle; give gathering a moment and hand them over.
    let mut candidates = Vec::new();
    let gathered = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(event)) = tokio::time::timeout_at(gathered, events.recv()).await {
        if let PeerEvent::Candidate(c) = event {
            candidates.push(json!({
                "candidate": c.candidate, "sdpMid": c.sdp_mid, "sdpMLineIndex": c.sdp_m_line_index
            }));
        }
    }
    assert!(!candidates.is_empty(), "Convene gathered candidates");

    let answer = js(
        &browser,
        r#"const [offer, candidates, done] = arguments;
        (async () => {
          const pc = new RTCPeerConnection();
          window.pc = pc;
          pc.addEventListener('track', e => {
            if (e.track.kind === 'audio') window.remoteAudio = new MediaStream([e.track]);
          });
          await pc.setRemoteDescription({type: 'offer', sdp: offer});
          for (const c of candidates) await pc.addIceCandidate(c);
          const media = await navigator.mediaDevices.getUserMedia({
            audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false},
            video: {width: 640, height: 360},
          });
          for (const track of media.getTracks()) {
            const transceiver = pc.getTransceivers().find(
              t => t.receiver.track.kind === track.kind && !t.sender.track);
            await transceiver.sender.replaceTrack(track);
            transceiver.direction = 'sendrecv';
          }
          await pc.setLocalDescription(await pc.createAnswer());
          if (pc.iceGatheringState !== 'complete') {
            await new Promise(r => pc.addEventListener('icegatheringstatechange',
              () => pc.iceGatheringState === 'complete' && r()));
          }
          done(pc.localDescription.sdp);
        })().catch(e => done('ERROR ' + e));"#,
        vec![json!(offer), json!(candidates)],
    )
    .await;
    let answer = answer.as_str().expect("an SDP answer").to_owned();
    assert!(!answer.starts_with("ERROR"), "{answer}");
    let answer = match addresses {
        Addresses::Plain => answer,
        Addresses::HiddenBehindMdns => hide_addresses_behind_mdns(&answer),
    };
    peer.accept_answer(&answer)
        .await
        .expect("the answer applies");

    // Connected: start sending, and decode whatever the browser sends.
    let counting = Arc::new(Counting::default());
    let devices: Arc<dyn MediaDevices> = Arc::new(TestDevices(Arc::clone(&counting)));
    let state = Arc::new(MediaState::default());
    state.camera_on.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut connected = false;
    // Chromium's fake microphone gives short beeps between silences, so how
    // many loud frames arrive depends on how long audio has flowed (CI once
    // saw 23 in 231 frames): wait for enough of them, as for the video
    // frames, rather than for a fixed time.
    let enough = |counting: &Counting| {
        counting.video_frames.load(Ordering::Relaxed) > 30
            && counting.loud_frames.load(Ordering::Relaxed) > LOUD_FRAMES
    };
    while Instant::now() < deadline && !(connected && enough(&counting)) {
        let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        else {
            continue;
        };
        match event {
            PeerEvent::State(PeerState::Connected) if !connected => {
                connected = true;
                media::start_audio_sender(
                    devices.microphone().unwrap(),
                    peer.audio_track().await.unwrap(),
                    Arc::clone(&state),
                );
                media::start_video_sender(
                    peer.video_track().await.unwrap(),
                    Arc::clone(&devices),
                    Arc::clone(&state),
                );
            }
            PeerEvent::Track(track) => {
                let (d, s) = (Arc::clone(&devices), Arc::clone(&state));
                tokio::spawn(media::receive_track(track, d, s));
            }
            _ => {}
        }
    }
    assert!(connected, "the connection with Chromium came up");
    // Chromium receives Convene's audio and decodes its video.
    let flowing = wait_until_async(Duration::from_secs(20), || async {
        let inbound = js(
            &browser,
            r#"const done = arguments[arguments.length - 1];
            window.pc.getStats().then(report => {
              const inbound = {};
              report.forEach(s => { if (s.type === 'inbound-rtp') inbound[s.kind] = s; });
              done({
                audioPackets: inbound.audio?.packetsReceived ?? 0,
                videoFrames: inbound.video?.framesDecoded ?? 0,
              });
            }).catch(e => done({error: String(e)}));"#,
            vec![],
        )
        .await;
        inbound["audioPackets"].as_u64().unwrap_or(0) > 50
            && inbound["videoFrames"].as_u64().unwrap_or(0) > 30
    })
    .await;
    assert!(flowing, "Chromium receives Convene's audio and video");

    let stats = js(
        &browser,
        r#"const done = arguments[arguments.length - 1];
        (async () => {
          // Listen to what arrives: the loudest frequency of Convene's audio.
          // (Chromium feeds remote WebRTC audio to Web Audio only while a
          // media element plays it too.)
          const element = new Audio();
          element.srcObject = window.remoteAudio;
          element.muted = true;
          await element.play().catch(() => {});
          const context = new AudioContext();
          await context.resume();
          const analyser = context.createAnalyser();
          analyser.fftSize = 8192;
          context.createMediaStreamSource(window.remoteAudio).connect(analyser);
          await new Promise(r => setTimeout(r, 1000));
          const bins = new Float32Array(analyser.frequencyBinCount);
          analyser.getFloatFrequencyData(bins);
          let peak = 0;
          for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
          const report = await window.pc.getStats();
          const inbound = {};
          report.forEach(s => { if (s.type === 'inbound-rtp') inbound[s.kind] = s; });
          done({
            audioPackets: inbound.audio?.packetsReceived ?? 0,
            peakHz: peak * context.sampleRate / analyser.fftSize,
            peakDb: bins[peak],
            videoFrames: inbound.video?.framesDecoded ?? 0,
            videoCodec: report.get(inbound.video?.codecId)?.mimeType ?? null,
          });
        })().catch(e => done({error: String(e)}));"#,
        vec![],
    )
    .await;
    state.stop();
    peer.close().await;
    let _ = browser.close().await;

    assert!(
        stats["audioPackets"].as_u64().unwrap_or(0) > 50,
        "Chromium received Convene's audio: {stats}"
    );
    let peak = stats["peakHz"].as_f64().unwrap_or(0.0);
    assert!(
        (peak - 440.0).abs() < 15.0 && stats["peakDb"].as_f64().unwrap_or(-200.0) > -60.0,
        "and it heard Convene's 440 Hz tone: {stats}"
    );
    assert!(
        stats["videoFrames"].as_u64().unwrap_or(0) > 30,
        "Chromium decoded Convene's VP8: {stats}"
    );
    assert_eq!(stats["videoCodec"], "video/VP8", "{stats}");
    assert!(
        counting.loud_frames.load(Ordering::Relaxed) > LOUD_FRAMES,
        "Convene decoded Chromium's audio: {} frames, {} not silent",
        counting.audio_frames.load(Ordering::Relaxed),
        counting.loud_frames.load(Ordering::Relaxed)
    );
    assert!(
        counting.video_frames.load(Ordering::Relaxed) > 30,
        "Convene decoded Chromium's VP8: {} frames",
        counting.video_frames.load(Ordering::Relaxed)
    );
}

/// The answer as a browser that hides its local addresses writes it (what
/// Chromium does for a page without camera or microphone permission; this
/// one has permission, so the test hides them): each host candidate's
/// address becomes a `.local` name, which only multicast DNS on the
/// browser's own network resolves.
fn hide_addresses_behind_mdns(sdp: &str) -> String {
    sdp.lines()
        .enumerate()
        .map(|(n, line)| {
            let fields: Vec<&str> = line.split(' ').collect();
            if line.starts_with("a=candidate") && fields.len() > 7 && fields[7] == "host" {
                let mut hidden: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
                hidden[4] = format!("9b3c41d2-7e0a-4c1f-8d6b-{n:012x}.local");
                hidden.join(" ")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n"
}
