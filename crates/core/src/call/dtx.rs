//! Opus DTX on the wire. In a silence the encoder makes packets of one or
//! two bytes (the TOC byte alone), plus a comfort-noise update every
//! 400 ms. The first TOC-only packet tells the other side's decoder that a
//! silence began; the rest are not sent, so a silent or muted side sends a
//! few packets a second instead of fifty (as libwebrtc does). The RTP
//! clock runs on through the frames left out; sequence numbers do not, so
//! the other side sees a pause, not a loss.

/// Whether an Opus packet is the TOC byte alone (one or two bytes): no
/// audio, the encoder is in DTX.
pub fn is_toc_only(packet: &[u8]) -> bool {
    packet.len() <= 2
}

/// Decides which encoded frames go out.
#[derive(Debug, Default)]
pub struct DtxGate {
    /// The last packet sent was TOC-only: the other side knows.
    announced: bool,
}

impl DtxGate {
    /// Whether this packet goes out.
    pub fn admit(&mut self, packet: &[u8]) -> bool {
        let toc_only = is_toc_only(packet);
        if toc_only && self.announced {
            return false;
        }
        self.announced = toc_only;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEECH: &[u8] = &[0x78, 1, 2, 3, 4, 5, 6, 7];
    const TOC: &[u8] = &[0x78];

    #[test]
    fn speech_always_goes_out() {
        let mut gate = DtxGate::default();
        for _ in 0..5 {
            assert!(gate.admit(SPEECH));
        }
    }

    #[test]
    fn a_silence_is_announced_once_and_then_left_out() {
        let mut gate = DtxGate::default();
        assert!(gate.admit(SPEECH));
        assert!(gate.admit(TOC), "the decoder learns of the silence");
        for _ in 0..19 {
            assert!(!gate.admit(TOC));
        }
        // A comfort-noise update goes out.
        assert!(gate.admit(&[0x78, 9, 9]));
        assert!(gate.admit(TOC));
        assert!(!gate.admit(&[0x78, 9]), "two bytes are TOC-only too");
        assert!(!gate.admit(TOC));
        // Speech again: it goes out at once.
        assert!(gate.admit(SPEECH));
        assert!(gate.admit(SPEECH));
    }
}
