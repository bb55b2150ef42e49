//! Call quality from WebRTC statistics: round-trip time, loss, jitter and
//! bitrates, with a rating the UI shows as bars.

use rtc::peer_connection::transport::RTCIceCandidateType;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde::{Deserialize, Serialize};
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

/// Cumulative counters from one stats report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsSnapshot {
    pub rtt_ms: Option<f64>,
    pub audio_jitter_ms: Option<f64>,
    pub packets_received: u64,
    pub packets_lost: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub video_frames_received: u64,
    pub relayed: bool,
    pub target_bitrate: f64,
    /// The share of our audio the other side reports lost (RTCP receiver
    /// reports), 0 to 1.
    pub audio_sent_fraction_lost: Option<f64>,
}

/// How a call is doing, as the UI and `convene-cli --json` show it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallQuality {
    pub rtt_ms: Option<f64>,
    /// Packets lost of those expected since the previous reading, percent.
    pub loss_percent: f64,
    pub jitter_ms: Option<f64>,
    pub send_kbps: f64,
    pub receive_kbps: f64,
    /// What the congestion controller allows the sender, kbit/s.
    pub target_kbps: f64,
    /// Media goes through a TURN relay.
    pub relayed: bool,
    pub rating: QualityRating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum QualityRating {
    Good,
    Fair,
    Poor,
}

pub fn snapshot(report: &RTCStatsReport, target_bitrate: f64) -> StatsSnapshot {
    let mut snap = StatsSnapshot {
        target_bitrate,
        ..Default::default()
    };
    for inbound in report.inbound_rtp_streams() {
        let received = &inbound.received_rtp_stream_stats;
        snap.packets_received += received.packets_received;
        snap.packets_lost += received.packets_lost.max(0) as u64;
        snap.bytes_received += inbound.bytes_received;
        match received.rtp_stream_stats.kind {
            RtpCodecKind::Audio => {
                // webrtc-rs reports jitter in RTP timestamp units (RFC 3550),
                // not the seconds of the W3C stats; Opus ticks at 48 kHz.
                snap.audio_jitter_ms = Some(received.jitter / 48.0);
            }
            RtpCodecKind::Video => {
                snap.video_frames_received += inbound.frames_received as u64;
            }
            _ => {}
        }
    }
    for outbound in report.outbound_rtp_streams() {
        snap.bytes_sent += outbound.sent_rtp_stream_stats.bytes_sent;
    }
    for entry in report.iter() {
        if let RTCStatsReportEntry::RemoteInboundRtp(remote) = entry {
            if remote.received_rtp_stream_stats.rtp_stream_stats.kind == RtpCodecKind::Audio {
                snap.audio_sent_fraction_lost = Some(remote.fraction_lost);
            }
        }
    }
    let selected = report
        .candidate_pairs()
        .filter(|pair| pair.nominated)
        .max_by_key(|pair| pair.bytes_received + pair.bytes_sent);
    if let Some(pair) = selected {
        if pair.current_round_trip_time > 0.0 {
            snap.rtt_ms = Some(pair.current_round_trip_time * 1000.0);
        }
        // webrtc-rs 0.21 names a pair's candidates by their bare ICE ids,
        // but keys the candidate entries `RTCLocalIceCandidate_{id}` and
        // `RTCRemoteIceCandidate_{id}`: look under both names.
        let candidate = |id: &str, prefix: &str| {
            report
                .get(id)
                .or_else(|| report.get(&format!("{prefix}{id}")))
        };
        snap.relayed = [
            candidate(&pair.local_candidate_id, "RTCLocalIceCandidate_"),
            candidate(&pair.remote_candidate_id, "RTCRemoteIceCandidate_"),
        ]
        .into_iter()
        .any(|entry| match entry {
            Some(RTCStatsReportEntry::LocalCandidate(c))
            | Some(RTCStatsReportEntry::RemoteCandidate(c)) => {
                c.candidate_type == RTCIceCandidateType::Relay
            }
            _ => false,
        });
    }
    snap
}

/// Turns two snapshots `seconds` apart into rates and a rating.
pub fn quality_between(before: &StatsSnapshot, now: &StatsSnapshot, seconds: f64) -> CallQuality {
    let seconds = seconds.max(0.001);
    let received = now.packets_received.saturating_sub(before.packets_received);
    let lost = now.packets_lost.saturating_sub(before.packets_lost);
    let expected = received + lost;
    let loss_percent = if expected == 0 {
        0.0
    } else {
        lost as f64 * 100.0 / expected as f64
    };
    let kbps = |bytes: u64| bytes as f64 * 8.0 / 1000.0 / seconds;
    CallQuality {
        rtt_ms: now.rtt_ms,
        loss_percent,
        jitter_ms: now.audio_jitter_ms,
        send_kbps: kbps(now.bytes_sent.saturating_sub(before.bytes_sent)),
        receive_kbps: kbps(now.bytes_received.saturating_sub(before.bytes_received)),
        target_kbps: now.target_bitrate / 1000.0,
        relayed: now.relayed,
        rating: rate(now.rtt_ms, loss_percent, now.audio_jitter_ms),
    }
}

/// The loss Opus is told to expect, from what the other side reports: it
/// codes in-band FEC (a low-rate copy of the previous frame) only when loss
/// is expected, and that costs a third more encoding time. Steps as
/// WebRTC's, so that small wobbles do not retune the encoder.
pub fn opus_expected_loss_percent(fraction_lost: f64) -> u8 {
    match fraction_lost * 100.0 {
        l if l >= 20.0 => 20,
        l if l >= 10.0 => 10,
        l if l >= 5.0 => 5,
        l if l >= 1.0 => 1,
        _ => 0,
    }
}

/// Thresholds after ITU-T G.114 (one-way delay under 150 ms is good) and
/// common VoIP guidance on loss and jitter.
fn rate(rtt_ms: Option<f64>, loss_percent: f64, jitter_ms: Option<f64>) -> QualityRating {
    let rtt = rtt_ms.unwrap_or(0.0);
    let jitter = jitter_ms.unwrap_or(0.0);
    if rtt > 600.0 || loss_percent > 10.0 || jitter > 80.0 {
        QualityRating::Poor
    } else if rtt > 300.0 || loss_percent > 3.0 || jitter > 30.0 {
        QualityRating::Fair
    } else {
        QualityRating::Good
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_expects_loss_in_steps_and_none_on_a_clean_path() {
        assert_eq!(opus_expected_loss_percent(0.0), 0);
        assert_eq!(opus_expected_loss_percent(0.004), 0);
        assert_eq!(opus_expected_loss_percent(0.03), 1);
        assert_eq!(opus_expected_loss_percent(0.07), 5);
        assert_eq!(opus_expected_loss_percent(0.12), 10);
        assert_eq!(opus_expected_loss_percent(0.6), 20);
    }

    #[test]
    fn loss_and_rates_are_over_the_interval() {
        let before = StatsSnapshot {
            packets_received: 100,
            packets_lost: 10,
            bytes_received: 10_000,
            bytes_sent: 5_000,
            ..Default::default()
        };
        let now = StatsSnapshot {
            packets_received: 190,
            packets_lost: 20,
            bytes_received: 20_000,
            bytes_sent: 10_000,
            rtt_ms: Some(40.0),
            target_bitrate: 600_000.0,
            ..Default::default()
        };
        let q = quality_between(&before, &now, 2.0);
        assert!((q.loss_percent - 10.0).abs() < 1e-9, "{q:?}");
        assert!((q.receive_kbps - 40.0).abs() < 1e-9);
        assert!((q.send_kbps - 20.0).abs() < 1e-9);
        assert_eq!(q.target_kbps, 600.0);
        assert_eq!(q.rating, QualityRating::Fair, "10 % loss is not good");
    }

    #[test]
    fn ratings_follow_the_worst_figure() {
        assert_eq!(rate(Some(50.0), 0.0, Some(5.0)), QualityRating::Good);
        assert_eq!(rate(Some(400.0), 0.0, Some(5.0)), QualityRating::Fair);
        assert_eq!(rate(Some(50.0), 15.0, None), QualityRating::Poor);
        assert_eq!(rate(None, 0.0, Some(100.0)), QualityRating::Poor);
    }
}
