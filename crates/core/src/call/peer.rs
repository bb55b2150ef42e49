//! One WebRTC peer connection for a 1:1 call: the codecs and interceptors
//! Convene speaks, timers tuned for fast setup, and the connection's events
//! turned into [`PeerEvent`]s on a channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use convene_proto::call::{IceCandidate, IceServer};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::interceptor::{BandwidthEstimator, EstimatorStats, Gcc, PacketReport, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::PayloadType;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::media_stream::Track;
use webrtc::peer_connection::{
    configure_congestion_control, register_default_interceptors, CongestionFeedback, MediaEngine,
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer, RTCIceTransportPolicy,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription, Registry,
    SettingEngineBuilder, StatsSelector,
};
use webrtc::rtp_transceiver::RtpSender;

use super::keyframe::{KeyframeRequests, KEYFRAME_REQUESTS_SLOT};
use super::quality::{snapshot, StatsSnapshot};

/// The connection's state, as the W3C names it.
pub use webrtc::peer_connection::RTCPeerConnectionState as PeerState;

/// Opus as browsers offer it: stereo in the SDP (RFC 7587), in-band FEC
/// and DTX on.
pub const OPUS_PAYLOAD_TYPE: PayloadType = 111;
pub const VP8_PAYLOAD_TYPE: PayloadType = 96;
const OPUS_FMTP: &str = "minptime=10;useinbandfec=1;usedtx=1";

/// Where the congestion controller starts and how far it may go, in bits
/// per second (audio and video together).
const START_BITRATE: f64 = 800_000.0;
const MIN_BITRATE: f64 = 100_000.0;
const MAX_BITRATE: f64 = 2_500_000.0;

/// How a peer connection is set up.
#[derive(Debug, Clone, Default)]
pub struct PeerSettings {
    pub ice_servers: Vec<IceServer>,
    /// Use TURN relays only (a test of the relay path, or a privacy choice).
    pub relay_only: bool,
}

/// What the peer connection reports.
#[derive(Clone)]
pub enum PeerEvent {
    /// A local candidate to trickle to the other side.
    Candidate(IceCandidate),
    /// Gathering is complete: no more candidates until an ICE restart.
    GatheringComplete,
    State(RTCPeerConnectionState),
    Track(Arc<dyn TrackRemote>),
}

impl std::fmt::Debug for PeerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerEvent::Candidate(c) => f.debug_tuple("Candidate").field(c).finish(),
            PeerEvent::GatheringComplete => f.write_str("GatheringComplete"),
            PeerEvent::State(s) => f.debug_tuple("State").field(s).finish(),
            PeerEvent::Track(_) => f.write_str("Track"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("WebRTC: {0}")]
pub struct PeerError(String);

impl From<rtc::shared::error::Error> for PeerError {
    fn from(error: rtc::shared::error::Error) -> Self {
        PeerError(error.to_string())
    }
}

/// A track this side sends, with what `write_sample` needs.
#[derive(Clone)]
pub struct LocalTrack {
    pub track: Arc<TrackLocalStaticSample>,
    pub ssrc: u32,
    pub payload_type: PayloadType,
}

pub struct Peer {
    pc: Arc<dyn PeerConnection>,
    audio_sender: Arc<dyn RtpSender>,
    audio_track: Arc<TrackLocalStaticSample>,
    video_sender: Arc<dyn RtpSender>,
    video_track: Arc<TrackLocalStaticSample>,
    /// The congestion controller's target, as f64 bits.
    target_bitrate: Arc<AtomicU64>,
    /// The m-line this side's candidates belong to, shared with the
    /// handler that trickles them.
    candidate_tag: Arc<Mutex<CandidateTag>>,
}

impl Peer {
    /// A connection with one audio and one video sender. Video is always
    /// negotiated (`sendrecv`, even for an audio-only call) so that turning
    /// the camera on later needs no new offer; with the camera off it
    /// simply sends nothing (docs/protocol.md, "Media a peer should
    /// expect").
    pub async fn new(
        settings: &PeerSettings,
        events: mpsc::UnboundedSender<PeerEvent>,
    ) -> Result<Self, PeerError> {
        let mut media_engine = MediaEngine::default();
        media_engine.register_codec(opus_codec(), RtpCodecKind::Audio)?;
        media_engine.register_codec(vp8_codec(), RtpCodecKind::Video)?;
        let (estimator, target_bitrate) =
            PublishingEstimator::new(Gcc::new(START_BITRATE, MIN_BITRATE, MAX_BITRATE));
        let registry = configure_congestion_control(
            Registry::new(),
            estimator,
            CongestionFeedback::Twcc,
            &mut media_engine,
        )?;
        let registry = register_default_interceptors(registry, &mut media_engine)?.with(
            Slot::from(KEYFRAME_REQUESTS_SLOT),
            KeyframeRequests::default(),
        );

        let ice_servers = settings
            .ice_servers
            .iter()
            .map(|server| RTCIceServer {
                urls: server.urls.clone(),
                username: server.username.clone().unwrap_or_default(),
                credential: server.credential.clone().unwrap_or_default(),
            })
            .collect();
        let mut config = RTCConfigurationBuilder::new().with_ice_servers(ice_servers);
        if settings.relay_only {
            config = config.with_ice_transport_policy(RTCIceTransportPolicy::Relay);
        }
        // Default ICE timers put 200 ms between checks and hold relayed
        // pairs back for seconds; a call should connect as fast as the
        // path allows. A check every 10 ms (for up to 1.5 s a pair, as the
        // default) took answer → connected from ~45 to ~20 ms on loopback;
        // checks stop once a pair is chosen.
        let setting_engine = SettingEngineBuilder::default()
            .with_ice_connection_attempts(Some(Duration::from_millis(10)), Some(150))
            .with_relay_acceptance_min_wait(Some(Duration::ZERO))
            .with_srflx_acceptance_min_wait(Some(Duration::ZERO))
            .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
            .with_ice_timeouts(
                Some(Duration::from_secs(3)),
                Some(Duration::from_secs(15)),
                Some(Duration::from_secs(1)),
            )
            // mDNS needs multicast, which containers and test namespaces
            // lack; host candidates carry plain addresses instead. A
            // browser's `.local` candidates are skipped, and its checks
            // still reach us (peer-reflexive; crates/e2e/tests/browser_peer.rs).
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(true)
            .build();

        let candidate_tag = Arc::new(Mutex::new(CandidateTag::default()));
        let handler = Handler {
            events,
            candidate_tag: Arc::clone(&candidate_tag),
        };
        let pc = PeerConnectionBuilder::new()
            .with_configuration(config.build())
            .with_media_engine(media_engine)
            .with_setting_engine(setting_engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(handler))
            .with_udp_addrs(vec!["0.0.0.0:0"])
            .build()
            .await?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);

        let audio_track = new_track(RtpCodecKind::Audio, opus_codec().rtp_codec)?;
        let audio_sender = pc
            .add_track(Arc::clone(&audio_track) as Arc<dyn TrackLocal>)
            .await?;
        let video_track = new_track(RtpCodecKind::Video, vp8_codec().rtp_codec)?;
        let video_sender = pc
            .add_track(Arc::clone(&video_track) as Arc<dyn TrackLocal>)
            .await?;
        Ok(Self {
            pc,
            audio_sender,
            audio_track,
            video_sender,
            video_track,
            target_bitrate,
            candidate_tag,
        })
    }

    /// Creates an offer and sets it locally; returns its SDP.
    pub async fn offer(&self) -> Result<String, PeerError> {
        let offer = self.pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        self.set_local(offer).await?;
        Ok(sdp)
    }

    /// Sets a local description; the candidates gathered for it (which
    /// start coming once it is set) are tagged with its transport's m-line.
    async fn set_local(&self, description: RTCSessionDescription) -> Result<(), PeerError> {
        *self
            .candidate_tag
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = candidate_tag(&description.sdp);
        self.pc.set_local_description(description).await?;
        Ok(())
    }

    /// An offer with fresh ICE credentials: after a path change or outage.
    pub async fn restart_offer(&self) -> Result<String, PeerError> {
        self.pc.restart_ice().await?;
        self.offer().await
    }

    /// Takes the other side's offer; returns the answer's SDP.
    pub async fn answer(&self, remote_offer: &str) -> Result<String, PeerError> {
        self.take_offer(remote_offer).await?;
        self.answer_offer().await
    }

    /// Takes the other side's offer without answering yet (a call that
    /// rings). Gathering starts only with the answer, so nothing is sent.
    pub async fn take_offer(&self, remote_offer: &str) -> Result<(), PeerError> {
        let offer = RTCSessionDescription::offer(remote_offer.to_owned())?;
        self.pc.set_remote_description(offer).await?;
        Ok(())
    }

    /// Answers the offer taken before; returns the answer's SDP.
    pub async fn answer_offer(&self) -> Result<String, PeerError> {
        let answer = self.pc.create_answer(None).await?;
        let sdp = answer.sdp.clone();
        self.set_local(answer).await?;
        Ok(sdp)
    }

    /// Takes the other side's answer to our offer.
    pub async fn accept_answer(&self, remote_answer: &str) -> Result<(), PeerError> {
        let answer = RTCSessionDescription::answer(remote_answer.to_owned())?;
        self.pc.set_remote_description(answer).await?;
        Ok(())
    }

    pub async fn add_candidate(&self, candidate: &IceCandidate) -> Result<(), PeerError> {
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate: candidate.candidate.clone(),
                sdp_mid: candidate.sdp_mid.clone(),
                sdp_mline_index: candidate.sdp_m_line_index,
                ..Default::default()
            })
            .await?;
        Ok(())
    }

    /// The longest audio packet the other side accepts, in milliseconds:
    /// the `a=maxptime` of the audio m-line of its current description
    /// (offer or answer). `None` if it sets none (or there is no remote
    /// description yet). Read again after each renegotiation.
    pub async fn remote_max_packet_ms(&self) -> Option<u32> {
        let remote = self.pc.remote_description().await?;
        audio_max_packet_ms(&remote.sdp)
    }

    pub async fn audio_track(&self) -> Result<LocalTrack, PeerError> {
        local_track(&self.audio_track, &self.audio_sender).await
    }

    pub async fn video_track(&self) -> Result<LocalTrack, PeerError> {
        local_track(&self.video_track, &self.video_sender).await
    }

    /// What the congestion controller allows now, bits per second.
    pub fn target_bitrate(&self) -> f64 {
        f64::from_bits(self.target_bitrate.load(Ordering::Relaxed))
    }

    pub async fn stats(&self) -> StatsSnapshot {
        let report = self.pc.get_stats(Instant::now(), StatsSelector::None).await;
        snapshot(&report, self.target_bitrate())
    }

    pub async fn close(&self) {
        if let Err(error) = self.pc.close().await {
            tracing::debug!(%error, "closing the peer connection");
        }
    }
}

fn opus_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS.to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: OPUS_FMTP.to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: OPUS_PAYLOAD_TYPE,
    }
}

pub(super) fn vp8_codec() -> RTCRtpCodecParameters {
    let feedback = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    };
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: rtc::peer_connection::configuration::media_engine::MIME_TYPE_VP8.to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![
                feedback("nack", ""),
                feedback("nack", "pli"),
                feedback("ccm", "fir"),
            ],
        },
        payload_type: VP8_PAYLOAD_TYPE,
    }
}

pub(super) fn new_track(
    kind: RtpCodecKind,
    codec: RTCRtpCodec,
) -> Result<Arc<TrackLocalStaticSample>, PeerError> {
    let id = uuid::Uuid::new_v4().to_string();
    let track = MediaStreamTrack::new(
        format!("convene-{id}"),
        format!("convene-{kind}-{id}"),
        format!("convene-{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(rand::random::<u32>()),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    );
    Ok(Arc::new(TrackLocalStaticSample::new(
        Instant::now(),
        track,
    )?))
}

async fn local_track(
    track: &Arc<TrackLocalStaticSample>,
    sender: &Arc<dyn RtpSender>,
) -> Result<LocalTrack, PeerError> {
    let ssrc = *track
        .ssrcs()
        .await
        .first()
        .ok_or_else(|| PeerError("the track has no SSRC".into()))?;
    let payload_type = sender
        .get_parameters()
        .await?
        .rtp_parameters
        .codecs
        .first()
        .map(|codec| codec.payload_type)
        .ok_or_else(|| PeerError("no codec was negotiated for the track".into()))?;
    Ok(LocalTrack {
        track: Arc::clone(track),
        ssrc,
        payload_type,
    })
}

/// The m-line that a local candidate belongs to, as `sdpMid` and
/// `sdpMLineIndex` name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CandidateTag {
    mid: Option<String>,
    m_line_index: u16,
}

/// Where a description's candidates go. All media share one transport
/// (BUNDLE), which is the first m-line of the BUNDLE group (RFC 8843's
/// tagged m-line; webrtc-rs writes its own candidates there too), or the
/// first m-line without a group. Its mid is read, not assumed: webrtc-rs
/// numbers its own offers' mids from "0", but an answer takes the
/// offer's, which another stack may spell otherwise ("audio", a UUID).
fn candidate_tag(sdp: &str) -> CandidateTag {
    let mut mids: Vec<Option<String>> = Vec::new();
    let mut bundle_tag: Option<&str> = None;
    for line in sdp.lines() {
        if line.starts_with("m=") {
            mids.push(None);
        } else if let Some(mid) = line.strip_prefix("a=mid:") {
            if let Some(current @ None) = mids.last_mut() {
                *current = Some(mid.trim().to_owned());
            }
        } else if let Some(group) = line.strip_prefix("a=group:BUNDLE") {
            if mids.is_empty() && bundle_tag.is_none() {
                bundle_tag = group.split_whitespace().next();
            }
        }
    }
    let index = bundle_tag
        .and_then(|tag| mids.iter().position(|mid| mid.as_deref() == Some(tag)))
        .unwrap_or(0);
    CandidateTag {
        mid: mids.get(index).cloned().flatten(),
        m_line_index: u16::try_from(index).unwrap_or(0),
    }
}

/// The `a=maxptime` (milliseconds) of a description's audio m-line: the
/// first `m=audio` that is not rejected (port 0). The attribute is
/// media-level (RFC 8866 §6.5); `None` when that m-line has none, or a
/// value that is not a positive number of milliseconds.
pub fn audio_max_packet_ms(sdp: &str) -> Option<u32> {
    let mut in_audio = false;
    for line in sdp.lines() {
        if let Some(media) = line.strip_prefix("m=") {
            if in_audio {
                return None;
            }
            let mut fields = media.split_whitespace();
            in_audio = fields.next() == Some("audio") && fields.next() != Some("0");
        } else if let Some(value) = line.strip_prefix("a=maxptime:").filter(|_| in_audio) {
            // An integer by the RFC; a decimal is taken whole.
            return value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|ms| ms.is_finite() && *ms >= 1.0)
                .map(|ms| ms as u32);
        }
    }
    None
}

struct Handler {
    events: mpsc::UnboundedSender<PeerEvent>,
    candidate_tag: Arc<Mutex<CandidateTag>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        // webrtc-rs leaves the mid empty (""), which a W3C peer refuses:
        // the candidate is tagged with its m-line here.
        match event.candidate.to_json() {
            Ok(init) => {
                let tag = self
                    .candidate_tag
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone();
                let _ = self.events.send(PeerEvent::Candidate(IceCandidate {
                    candidate: init.candidate,
                    sdp_mid: tag.mid,
                    sdp_m_line_index: Some(tag.m_line_index),
                }));
            }
            Err(error) => tracing::debug!(%error, "local candidate not sent"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(PeerEvent::State(state));
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.events.send(PeerEvent::GatheringComplete);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(PeerEvent::Track(track));
    }
}

/// Wraps the congestion controller to publish its target where the
/// encoders can read it (it is the one part of the loop the application
/// supplies, so watching it reaches into nothing internal).
struct PublishingEstimator<E> {
    inner: E,
    target: Arc<AtomicU64>,
}

impl<E: BandwidthEstimator> PublishingEstimator<E> {
    fn new(inner: E) -> (Self, Arc<AtomicU64>) {
        let target = Arc::new(AtomicU64::new(inner.target_bitrate().to_bits()));
        (
            Self {
                inner,
                target: Arc::clone(&target),
            },
            target,
        )
    }

    fn publish(&self) {
        self.target
            .store(self.inner.target_bitrate().to_bits(), Ordering::Relaxed);
    }
}

impl<E: BandwidthEstimator> BandwidthEstimator for PublishingEstimator<E> {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        self.inner.on_reports(now, reports);
        self.publish();
    }

    fn target_bitrate(&self) -> f64 {
        self.inner.target_bitrate()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now);
        self.publish();
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }

    fn stats(&self) -> EstimatorStats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_M_LINES: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE audio video\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:audio\r\n\
        a=rtpmap:111 opus/48000/2\r\na=maxptime:20\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:video\r\n\
        a=rtpmap:96 VP8/90000\r\na=maxptime:60\r\n";

    fn tag(mid: Option<&str>, m_line_index: u16) -> CandidateTag {
        CandidateTag {
            mid: mid.map(str::to_owned),
            m_line_index,
        }
    }

    #[test]
    fn candidates_belong_to_the_bundles_first_m_line_by_its_own_mid() {
        assert_eq!(candidate_tag(TWO_M_LINES), tag(Some("audio"), 0));
        // As webrtc-rs numbers its own.
        let numbered = TWO_M_LINES
            .replace("BUNDLE audio video", "BUNDLE 0 1")
            .replace("a=mid:audio", "a=mid:0")
            .replace("a=mid:video", "a=mid:1");
        assert_eq!(candidate_tag(&numbered), tag(Some("0"), 0));
        // A first m-line left out of the bundle (rejected): the transport
        // is the bundle's.
        let first_rejected = TWO_M_LINES
            .replace("BUNDLE audio video", "BUNDLE video")
            .replace("m=audio 9", "m=audio 0");
        assert_eq!(candidate_tag(&first_rejected), tag(Some("video"), 1));
        // No BUNDLE: the first m-line; no mid at all: the index alone.
        let unbundled = TWO_M_LINES.replace("a=group:BUNDLE audio video\r\n", "");
        assert_eq!(candidate_tag(&unbundled), tag(Some("audio"), 0));
        let no_mids = unbundled
            .replace("a=mid:audio\r\n", "")
            .replace("a=mid:video\r\n", "");
        assert_eq!(candidate_tag(&no_mids), tag(None, 0));
        assert_eq!(candidate_tag(""), tag(None, 0));
    }

    #[test]
    fn the_audio_m_lines_maxptime_is_read_and_no_other() {
        assert_eq!(audio_max_packet_ms(TWO_M_LINES), Some(20));
        assert_eq!(
            audio_max_packet_ms(&TWO_M_LINES.replace("a=maxptime:20\r\n", "")),
            None,
            "the video m-line's does not count"
        );
        assert_eq!(
            audio_max_packet_ms(&TWO_M_LINES.replace("maxptime:20", "maxptime:40")),
            Some(40)
        );
        assert_eq!(
            audio_max_packet_ms(&TWO_M_LINES.replace("maxptime:20", "maxptime: 120.5")),
            Some(120)
        );
        for junk in ["0", "-20", "soon", ""] {
            let sdp = TWO_M_LINES.replace("maxptime:20", &format!("maxptime:{junk}"));
            assert_eq!(audio_max_packet_ms(&sdp), None, "maxptime:{junk}");
        }
        // A rejected audio m-line, then the one in use.
        let second = TWO_M_LINES.replace(
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:video\r\n\
             a=rtpmap:96 VP8/90000\r\na=maxptime:60",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\na=maxptime:40",
        );
        assert_eq!(audio_max_packet_ms(&second), Some(20));
        let first_rejected = second.replace(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=",
            "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=",
        );
        assert_eq!(audio_max_packet_ms(&first_rejected), Some(40));
        assert_eq!(audio_max_packet_ms(""), None);
    }

    /// The first local candidate a peer trickles.
    async fn first_candidate(events: &mut mpsc::UnboundedReceiver<PeerEvent>) -> IceCandidate {
        let wait = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match events.recv().await {
                    Some(PeerEvent::Candidate(candidate)) => return candidate,
                    Some(_) => {}
                    None => panic!("the peer closed before a candidate"),
                }
            }
        });
        wait.await.expect("a local candidate within 10 s")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn trickled_candidates_name_the_m_line_of_the_local_description() {
        let settings = PeerSettings::default();
        let (caller_tx, mut caller_events) = mpsc::unbounded_channel();
        let caller = Peer::new(&settings, caller_tx).await.unwrap();
        let offer = caller.offer().await.unwrap();
        assert_eq!(caller.remote_max_packet_ms().await, None, "no answer yet");

        // webrtc-rs's own offer: mids from "0", the first bundled.
        let offered = candidate_tag(&offer);
        assert_eq!(offered, tag(Some("0"), 0), "{offer}");
        let candidate = first_candidate(&mut caller_events).await;
        assert_eq!(candidate.sdp_mid.as_deref(), Some("0"), "{candidate:?}");
        assert_eq!(candidate.sdp_m_line_index, Some(0));
        // Convene's own offer sets no packet-time limit, so its 40 ms
        // packets break none it advertises; video is negotiated for
        // sending even before any camera is on (docs/protocol.md).
        assert!(
            !offer.contains("maxptime") && !offer.contains("a=ptime"),
            "{offer}"
        );
        let video = &offer[offer.find("m=video").expect("a video m-line")..];
        assert!(video.contains("a=sendrecv"), "{video}");

        // Another stack's offer, with mids of its own and a packet-time
        // limit: the answer's candidates carry the offer's mid.
        let foreign = offer
            .replace("a=group:BUNDLE 0 1", "a=group:BUNDLE sound picture")
            .replace("a=mid:0", "a=mid:sound\r\na=maxptime:20")
            .replace("a=mid:1", "a=mid:picture");
        let (callee_tx, mut callee_events) = mpsc::unbounded_channel();
        let callee = Peer::new(&settings, callee_tx).await.unwrap();
        let answer = callee.answer(&foreign).await.unwrap();
        assert_eq!(candidate_tag(&answer), tag(Some("sound"), 0), "{answer}");
        let candidate = first_candidate(&mut callee_events).await;
        assert_eq!(candidate.sdp_mid.as_deref(), Some("sound"), "{candidate:?}");
        assert_eq!(candidate.sdp_m_line_index, Some(0));
        assert_eq!(callee.remote_max_packet_ms().await, Some(20));

        caller.close().await;
        callee.close().await;
    }
}
