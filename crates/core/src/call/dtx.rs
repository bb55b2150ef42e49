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
    /// Frames left out since the last packet sent.
    held: u32,
}

impl DtxGate {
    /// For a packet to send, how many frames were left out just before it;
    /// `None` to leave this one out.
    pub fn admit(&mut self, packet: &[u8]) -> Option<u32> {
        let toc_only = is_toc_only(packet);
        if toc_only && self.announced {
            self.held += 1;
            return None;
        }
        self.announced = toc_only;
        Some(std::mem::take(&mut self.held))
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
            assert_eq!(gate.admit(SPEECH), Some(0));
        }
    }

    #[test]
    fn a_silence_is_announced_once_and_then_left_out() {
        let mut gate = DtxGate::default();
        assert_eq!(gate.admit(SPEECH), Some(0));
        assert_eq!(
            gate.admit(TOC),
            Some(0),
            "the decoder learns of the silence"
        );
        for _ in 0..19 {
            assert_eq!(gate.admit(TOC), None);
        }
        // A comfort-noise update goes out, after the 19 frames left out.
        assert_eq!(gate.admit(&[0x78, 9, 9]), Some(19));
        assert_eq!(gate.admit(TOC), Some(0));
        assert_eq!(gate.admit(&[0x78, 9]), None, "two bytes are TOC-only too");
        assert_eq!(gate.admit(TOC), None);
        // Speech again: it goes out at once, and the clock skips the gap.
        assert_eq!(gate.admit(SPEECH), Some(2));
        assert_eq!(gate.admit(SPEECH), Some(0));
    }
}
