//! Opus at 48 kHz mono, tuned for calls: speech mode, in-band FEC so one
//! lost packet can be rebuilt from the next, and DTX so silence costs
//! almost nothing. A packet holds 2.5 to 60 ms; the decoder follows
//! whatever the other side sends.

use crate::error::MediaError;

pub const OPUS_SAMPLE_RATE: u32 = 48_000;
/// 20 ms at 48 kHz mono.
pub const OPUS_FRAME_SAMPLES: usize = 960;
/// The frame lengths Opus encodes, in samples at 48 kHz: 2.5 to 60 ms.
const OPUS_FRAME_LENGTHS: [usize; 6] = [120, 240, 480, 960, 1920, 2880];
/// Bitrate when none is asked for.
pub const OPUS_DEFAULT_BITRATE: i32 = 32_000;
/// Large enough for any 20 ms mono packet (Opus caps a frame at 1275 bytes).
const MAX_PACKET: usize = 1500;
/// Opus packs at most 120 ms in one packet.
const MAX_DECODED: usize = OPUS_FRAME_SAMPLES * 6;

fn err(kind: fn(&'static str, String) -> MediaError, e: opus::Error) -> MediaError {
    kind("Opus", e.to_string())
}

fn init(codec: &'static str, reason: String) -> MediaError {
    MediaError::CodecInit { codec, reason }
}
fn enc(codec: &'static str, reason: String) -> MediaError {
    MediaError::Encode { codec, reason }
}
fn dec(codec: &'static str, reason: String) -> MediaError {
    MediaError::Decode { codec, reason }
}

pub struct OpusEncoder {
    inner: opus::Encoder,
}

impl OpusEncoder {
    pub fn new(bitrate_bps: i32) -> Result<Self, MediaError> {
        let mut inner = opus::Encoder::new(
            OPUS_SAMPLE_RATE,
            opus::Channels::Mono,
            opus::Application::Voip,
        )
        .map_err(|e| err(init, e))?;
        inner.set_inband_fec(true).map_err(|e| err(init, e))?;
        inner.set_dtx(true).map_err(|e| err(init, e))?;
        // FEC is only spent when the encoder expects loss; 10 % is a
        // conservative default until the call reports real figures.
        inner.set_packet_loss_perc(10).map_err(|e| err(init, e))?;
        // Complexity 5 of 10 halves the encoder's CPU (in-band FEC makes the
        // default cost 2 % of a core per call alone) for little audible loss
        // at speech bitrates.
        inner.set_complexity(5).map_err(|e| err(init, e))?;
        let mut encoder = Self { inner };
        encoder.set_bitrate(bitrate_bps)?;
        Ok(encoder)
    }

    /// Encodes one frame of 2.5, 5, 10, 20, 40 or 60 ms (960 samples for
    /// 20 ms) into one packet. With DTX on, a packet of a silent stretch
    /// is 1–2 bytes.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, MediaError> {
        if !OPUS_FRAME_LENGTHS.contains(&pcm.len()) {
            return Err(MediaError::InvalidInput {
                what: "Opus frame",
                reason: format!(
                    "{} samples, expected one of {OPUS_FRAME_LENGTHS:?}",
                    pcm.len()
                ),
            });
        }
        self.inner
            .encode_vec(pcm, MAX_PACKET)
            .map_err(|e| err(enc, e))
    }

    /// Opus accepts 500 bps to 512 kbps; values outside are refused.
    pub fn set_bitrate(&mut self, bps: i32) -> Result<(), MediaError> {
        if !(500..=512_000).contains(&bps) {
            return Err(MediaError::InvalidInput {
                what: "Opus bitrate",
                reason: format!("{bps} bps is outside 500..=512000"),
            });
        }
        self.inner
            .set_bitrate(opus::Bitrate::Bits(bps))
            .map_err(|e| err(enc, e))
    }

    pub fn bitrate(&mut self) -> Result<i32, MediaError> {
        match self.inner.get_bitrate().map_err(|e| err(enc, e))? {
            opus::Bitrate::Bits(b) => Ok(b),
            other => Err(MediaError::Encode {
                codec: "Opus",
                reason: format!("unexpected bitrate mode {other:?}"),
            }),
        }
    }

    /// Tells the encoder how much loss to protect against with FEC (0–100).
    pub fn set_packet_loss_percent(&mut self, pct: i32) -> Result<(), MediaError> {
        if !(0..=100).contains(&pct) {
            return Err(MediaError::InvalidInput {
                what: "packet loss percentage",
                reason: format!("{pct} is outside 0..=100"),
            });
        }
        self.inner
            .set_packet_loss_perc(pct)
            .map_err(|e| err(enc, e))
    }
}

pub struct OpusDecoder {
    inner: opus::Decoder,
    out: Vec<i16>,
    /// Samples in the last packet decoded: what a lost one most likely held.
    last_packet: usize,
}

/// Samples at 48 kHz that an Opus packet holds, read from its header;
/// `None` for a packet that is not valid Opus.
pub fn opus_packet_samples(packet: &[u8]) -> Option<usize> {
    opus::packet::get_nb_samples(packet, OPUS_SAMPLE_RATE).ok()
}

impl OpusDecoder {
    pub fn new() -> Result<Self, MediaError> {
        let inner =
            opus::Decoder::new(OPUS_SAMPLE_RATE, opus::Channels::Mono).map_err(|e| err(init, e))?;
        Ok(Self {
            inner,
            out: vec![0; MAX_DECODED],
            last_packet: OPUS_FRAME_SAMPLES,
        })
    }

    /// Decodes one packet into its samples (960 for a 20 ms packet, 1920
    /// for 40 ms).
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<i16>, MediaError> {
        if packet.is_empty() {
            return Err(MediaError::InvalidInput {
                what: "Opus packet",
                reason: "empty packet (use conceal() for a lost one)".into(),
            });
        }
        let n = self
            .inner
            .decode(packet, &mut self.out, false)
            .map_err(|e| err(dec, e))?;
        self.last_packet = n;
        Ok(self.out[..n].to_vec())
    }

    /// Rebuilds the lost packet that came just before `next_packet` from
    /// the FEC data carried in `next_packet` (the lost one is taken to be
    /// as long). Decode `next_packet` itself afterwards as usual. FEC
    /// rebuilds a lost 20 ms packet; whatever it does not carry (no FEC
    /// in it, a longer packet) Opus conceals.
    pub fn decode_fec(&mut self, next_packet: &[u8]) -> Result<Vec<i16>, MediaError> {
        let lost = opus_packet_samples(next_packet)
            .filter(|n| (1..=MAX_DECODED).contains(n))
            .unwrap_or(self.last_packet);
        // The output length tells Opus how much audio was lost.
        let n = self
            .inner
            .decode(next_packet, &mut self.out[..lost], true)
            .map_err(|e| err(dec, e))?;
        Ok(self.out[..n].to_vec())
    }

    /// Packet-loss concealment for a packet that never came, as long as
    /// the last one decoded.
    pub fn conceal(&mut self) -> Result<Vec<i16>, MediaError> {
        let n = self
            .inner
            .decode(&[], &mut self.out[..self.last_packet], false)
            .map_err(|e| err(dec, e))?;
        Ok(self.out[..n].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{AudioFormat, AudioSource};
    use crate::tone::{tone_power, ToneSource};

    fn tone_frames(n: usize) -> Vec<Vec<i16>> {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        (0..n)
            .map(|_| tone.next_frame(20).unwrap().samples)
            .collect()
    }

    #[test]
    fn round_trip_keeps_a_440_hz_tone() {
        let mut encoder = OpusEncoder::new(OPUS_DEFAULT_BITRATE).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        let mut decoded = Vec::new();
        let mut bytes = 0;
        for frame in tone_frames(50) {
            let packet = encoder.encode(&frame).unwrap();
            bytes += packet.len();
            let pcm = decoder.decode(&packet).unwrap();
            assert_eq!(pcm.len(), OPUS_FRAME_SAMPLES);
            decoded.extend(pcm);
        }
        // Skip the codec's start-up (look-ahead and ramp-up).
        let steady = &decoded[9600..];
        let at_440 = tone_power(steady, 48_000, 440.0);
        let at_1000 = tone_power(steady, 48_000, 1000.0);
        assert!(at_440 > 0.15, "power at 440 Hz after Opus: {at_440}");
        assert!(at_1000 < 0.005, "power at 1000 Hz after Opus: {at_1000}");
        // One second at 32 kbps is about 4000 bytes; allow VBR slack.
        assert!((2000..6000).contains(&bytes), "{bytes} bytes for 1 s");
    }

    #[test]
    fn fec_recovers_a_dropped_frame_better_than_concealment() {
        let frames = tone_frames(30);
        let packets: Vec<Vec<u8>> = {
            let mut encoder = OpusEncoder::new(OPUS_DEFAULT_BITRATE).unwrap();
            frames.iter().map(|f| encoder.encode(f).unwrap()).collect()
        };
        let lost = 20;

        // Decode everything before the loss, then rebuild frame `lost`
        // from packet `lost + 1`.
        let recover = |use_fec: bool| {
            let mut decoder = OpusDecoder::new().unwrap();
            for p in &packets[..lost] {
                decoder.decode(p).unwrap();
            }
            let rebuilt = if use_fec {
                decoder.decode_fec(&packets[lost + 1]).unwrap()
            } else {
                decoder.conceal().unwrap()
            };
            assert_eq!(rebuilt.len(), OPUS_FRAME_SAMPLES);
            // The packet that carried the FEC still decodes as itself.
            assert_eq!(decoder.decode(&packets[lost + 1]).unwrap().len(), 960);
            rebuilt
        };
        // What the receiver would have had with no loss at all.
        let reference: Vec<i16> = {
            let mut decoder = OpusDecoder::new().unwrap();
            packets[..=lost]
                .iter()
                .flat_map(|p| decoder.decode(p).unwrap())
                .collect()
        };
        let original = &reference[lost * OPUS_FRAME_SAMPLES..];
        let snr_db = |rebuilt: &[i16]| {
            let error: f64 = rebuilt
                .iter()
                .zip(original)
                .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                .sum::<f64>();
            let signal: f64 = original.iter().map(|&b| (b as f64).powi(2)).sum();
            10.0 * (signal / error).log10()
        };
        let fec = recover(true);
        let concealed = recover(false);
        let (fec_snr, plc_snr) = (snr_db(&fec), snr_db(&concealed));
        eprintln!("Opus lost frame: FEC SNR {fec_snr:.1} dB, concealment {plc_snr:.1} dB");
        assert!(
            tone_power(&fec, 48_000, 440.0) > 0.15,
            "the FEC frame holds the tone"
        );
        // FEC carries a lower-rate copy of the lost frame, so it tracks the
        // real waveform sample by sample; concealment only extrapolates.
        assert!(fec_snr > 15.0, "FEC frame SNR {fec_snr:.1} dB");
        assert!(
            fec_snr > plc_snr + 6.0,
            "FEC {fec_snr:.1} dB is not clearly better than concealment {plc_snr:.1} dB"
        );
    }

    #[test]
    fn concealment_gives_20_ms() {
        let mut encoder = OpusEncoder::new(OPUS_DEFAULT_BITRATE).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        for frame in tone_frames(5) {
            decoder.decode(&encoder.encode(&frame).unwrap()).unwrap();
        }
        let concealed = decoder.conceal().unwrap();
        assert_eq!(concealed.len(), 960);
        // Concealment continues the signal rather than going silent.
        assert!(concealed.iter().any(|&s| s != 0));
    }

    #[test]
    fn forty_ms_packets_decode_and_a_lost_one_is_stood_in_for_as_long() {
        let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
        let mut encoder = OpusEncoder::new(OPUS_DEFAULT_BITRATE).unwrap();
        let packets: Vec<Vec<u8>> = (0..30)
            .map(|_| {
                encoder
                    .encode(&tone.next_frame(40).unwrap().samples)
                    .unwrap()
            })
            .collect();
        assert_eq!(opus_packet_samples(&packets[0]), Some(1920));
        assert_eq!(opus_packet_samples(&[]), None);

        let mut decoder = OpusDecoder::new().unwrap();
        for packet in &packets[..20] {
            assert_eq!(decoder.decode(packet).unwrap().len(), 1920);
        }
        let rebuilt = decoder.decode_fec(&packets[21]).unwrap();
        assert_eq!(rebuilt.len(), 1920);
        // What stands in keeps the tone going rather than a gap.
        assert!(rebuilt.iter().any(|&s| s != 0));
        assert_eq!(decoder.conceal().unwrap().len(), 1920);
    }

    #[test]
    fn settings_are_checked_and_applied() {
        let mut encoder = OpusEncoder::new(OPUS_DEFAULT_BITRATE).unwrap();
        assert_eq!(encoder.bitrate().unwrap(), 32_000);
        encoder.set_bitrate(64_000).unwrap();
        assert_eq!(encoder.bitrate().unwrap(), 64_000);
        assert!(encoder.set_bitrate(10).is_err());
        encoder.set_packet_loss_percent(25).unwrap();
        assert!(encoder.set_packet_loss_percent(101).is_err());
        assert!(matches!(
            encoder.encode(&[0; 100]),
            Err(MediaError::InvalidInput { .. })
        ));
        assert!(OpusDecoder::new().unwrap().decode(&[]).is_err());
    }
}
