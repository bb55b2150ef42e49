//! One WebRTC peer connection for a 1:1 call: the codecs and interceptors
//! Convene speaks, timers tuned for fast setup, and the connection's events
//! turned into [`PeerEvent`]s on a channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    RTCIceCandidateInit, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState, RTCSessionDescription, Registry, SettingEngineBuilder, StatsSelector,
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
    State(RTCPeerConnectionState),
    Track(Arc<dyn TrackRemote>),
}

impl std::fmt::Debug for PeerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerEvent::Candidate(c) => f.debug_tuple("Candidate").field(c).finish(),
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
}

impl Peer {
    /// A connection with one audio and one video sender. Video is always
    /// negotiated so that turning the camera on later needs no new offer;
    /// with the camera off it simply sends nothing.
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
            // still reach us (peer-reflexive; tests/browser_peer.rs).
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(true)
            .build();

        let pc = PeerConnectionBuilder::new()
            .with_configuration(config.build())
            .with_media_engine(media_engine)
            .with_setting_engine(setting_engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler { events }))
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
        })
    }

    /// Creates an offer and sets it locally; returns its SDP.
    pub async fn offer(&self) -> Result<String, PeerError> {
        let offer = self.pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        self.pc.set_local_description(offer).await?;
        Ok(sdp)
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
        self.pc.set_local_description(answer).await?;
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

struct Handler {
    events: mpsc::UnboundedSender<PeerEvent>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => {
                let _ = self.events.send(PeerEvent::Candidate(IceCandidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_m_line_index: init.sdp_mline_index,
                }));
            }
            Err(error) => tracing::debug!(%error, "local candidate not sent"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(PeerEvent::State(state));
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
