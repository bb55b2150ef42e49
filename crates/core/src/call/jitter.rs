//! A small jitter buffer for Opus: puts packets back in order, recovers a
//! single lost packet from the next one's in-band FEC, conceals longer
//! gaps, and catches up when the sender's clock runs ahead of ours.

use std::collections::BTreeMap;

use bytes::Bytes;
use convene_media::{opus_packet_samples, OPUS_FRAME_SAMPLES};

use super::dtx::is_toc_only;

/// More than this much audio waiting (100 ms at 48 kHz: five 20 ms
/// packets, two 40 ms ones) means playout lags: drop the oldest rather
/// than let the delay grow.
const MAX_WAITING: usize = 5 * OPUS_FRAME_SAMPLES;
/// After this many concealed frames in a row, play silence: Opus PLC turns
/// to a drone when nothing arrives (the sender stopped). Not in a silence
/// the sender announced (DTX): there concealment is Opus's comfort noise,
/// which lasts until the sender speaks again.
const MAX_CONCEAL: u32 = 5;

/// What to play for the next 20 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    Packet(Bytes),
    /// The packet is missing; the next one carries it as FEC.
    Recover(Bytes),
    Conceal,
    Silence,
}

#[derive(Debug, Default)]
pub struct AudioJitter {
    /// Keyed by extended sequence number (no wrap at 65 535), with the
    /// samples each holds.
    packets: BTreeMap<u64, (Bytes, usize)>,
    next: Option<u64>,
    newest: Option<u64>,
    concealed: u32,
    /// The last packet played announced a silence (DTX).
    in_dtx: bool,
}

impl AudioJitter {
    /// Takes a packet in; returns the samples at 48 kHz it holds (read from
    /// its Opus header; 20 ms for a packet that is not valid Opus).
    pub fn push(&mut self, sequence: u16, payload: Bytes) -> usize {
        let samples = opus_packet_samples(&payload).unwrap_or(OPUS_FRAME_SAMPLES);
        let extended = self.extend(sequence);
        if self.next.is_some_and(|next| extended < next) {
            return samples; // too late: its time has passed
        }
        self.next.get_or_insert(extended);
        self.newest = Some(self.newest.map_or(extended, |n| n.max(extended)));
        self.packets.insert(extended, (payload, samples));
        samples
    }

    /// Unwraps a 16-bit sequence number next to the newest one seen.
    fn extend(&self, sequence: u16) -> u64 {
        let Some(newest) = self.newest else {
            // Start high so that reordering before the first packet
            // cannot go below zero.
            return (1 << 32) + sequence as u64;
        };
        let cycle = newest & !0xFFFF;
        let candidates = [
            cycle.wrapping_sub(1 << 16) + sequence as u64,
            cycle + sequence as u64,
            cycle + (1 << 16) + sequence as u64,
        ];
        *candidates
            .iter()
            .min_by_key(|c| c.abs_diff(newest))
            .expect("three candidates")
    }

    /// Samples in the packets waiting.
    fn waiting(&self) -> usize {
        self.packets.values().map(|&(_, samples)| samples).sum()
    }

    pub fn pop(&mut self) -> Playout {
        let Some(mut next) = self.next else {
            return Playout::Silence;
        };
        let mut trimmed = false;
        while self.waiting() > MAX_WAITING {
            self.packets.pop_first();
            trimmed = true;
        }
        if let Some((&first, _)) = self.packets.first_key_value() {
            // A gap longer than FEC can bridge (DTX, an outage): skip it.
            // Packets trimmed just now were dropped on purpose, not lost:
            // recovering them from FEC would only replay the drop on every
            // pop while the backlog lasts.
            if first > next + 1 || (trimmed && first > next) {
                next = first;
            }
        }
        let playout = if let Some((packet, _)) = self.packets.remove(&next) {
            self.concealed = 0;
            self.in_dtx = is_toc_only(&packet);
            Playout::Packet(packet)
        } else if let Some((following, _)) = self.packets.get(&(next + 1)) {
            self.concealed = 0;
            Playout::Recover(following.clone())
        } else {
            self.concealed += 1;
            if self.concealed > MAX_CONCEAL && !self.in_dtx {
                Playout::Silence
            } else {
                Playout::Conceal
            }
        };
        // Nothing past `next` has come: its packet is late, not lost (a
        // loss shows as later packets waiting). Keep its place so it still
        // plays when it comes; playout is then 20 ms later for good, which
        // is how the buffer grows to the path's jitter (a relay's, a busy
        // machine's) instead of concealing every late packet and dropping
        // it. MAX_WAITING trims the delay again if it overshoots.
        let late =
            self.packets.is_empty() && matches!(playout, Playout::Conceal | Playout::Silence);
        if !late {
            self.next = Some(next + 1);
        }
        playout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20 ms packet of speech (longer than a TOC byte), told apart by `n`.
    fn packet(n: u8) -> Bytes {
        Bytes::from(vec![0x78, n, 0xAA])
    }

    /// A 40 ms one (SILK wideband), told apart by `n`.
    fn long_packet(n: u8) -> Bytes {
        Bytes::from(vec![0x50, n, 0xAA])
    }

    #[test]
    fn reordered_packets_play_in_order() {
        let mut jitter = AudioJitter::default();
        jitter.push(10, packet(10));
        jitter.push(12, packet(12));
        jitter.push(11, packet(11));
        assert_eq!(jitter.pop(), Playout::Packet(packet(10)));
        assert_eq!(jitter.pop(), Playout::Packet(packet(11)));
        assert_eq!(jitter.pop(), Playout::Packet(packet(12)));
        assert_eq!(jitter.pop(), Playout::Conceal);
    }

    #[test]
    fn one_lost_packet_is_recovered_from_the_next() {
        let mut jitter = AudioJitter::default();
        jitter.push(1, packet(1));
        jitter.push(3, packet(3));
        assert_eq!(jitter.pop(), Playout::Packet(packet(1)));
        assert_eq!(jitter.pop(), Playout::Recover(packet(3)));
        assert_eq!(jitter.pop(), Playout::Packet(packet(3)));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut jitter = AudioJitter::default();
        jitter.push(65_535, packet(1));
        jitter.push(0, packet(2));
        assert_eq!(jitter.pop(), Playout::Packet(packet(1)));
        assert_eq!(jitter.pop(), Playout::Packet(packet(2)));
    }

    #[test]
    fn late_packets_are_dropped_and_long_gaps_skipped() {
        let mut jitter = AudioJitter::default();
        jitter.push(100, packet(1));
        assert_eq!(jitter.pop(), Playout::Packet(packet(1)));
        jitter.push(99, packet(9)); // already played past
        jitter.push(150, packet(2)); // after a DTX pause
        assert_eq!(jitter.pop(), Playout::Packet(packet(2)));
    }

    #[test]
    fn a_late_packet_is_waited_for_and_played() {
        let mut jitter = AudioJitter::default();
        jitter.push(1, packet(1));
        assert_eq!(jitter.pop(), Playout::Packet(packet(1)));
        assert_eq!(jitter.pop(), Playout::Conceal); // 2 is late
        jitter.push(2, packet(2));
        jitter.push(3, packet(3));
        assert_eq!(jitter.pop(), Playout::Packet(packet(2)));
        assert_eq!(jitter.pop(), Playout::Packet(packet(3)));
    }

    #[test]
    fn a_silent_sender_becomes_silence() {
        let mut jitter = AudioJitter::default();
        jitter.push(1, packet(1));
        jitter.pop();
        let plays: Vec<_> = (0..7).map(|_| jitter.pop()).collect();
        assert_eq!(plays[..5], [const { Playout::Conceal }; 5]);
        assert_eq!(plays[5..], [Playout::Silence, Playout::Silence]);
    }

    #[test]
    fn an_announced_silence_is_comfort_noise_until_speech_comes_back() {
        let mut jitter = AudioJitter::default();
        jitter.push(1, Bytes::from_static(&[0x78, 1, 2, 3]));
        jitter.push(2, Bytes::from_static(&[0x78])); // DTX begins
        jitter.pop();
        jitter.pop();
        for _ in 0..19 {
            assert_eq!(jitter.pop(), Playout::Conceal);
        }
        // A comfort-noise update, then DTX again, then speech.
        jitter.push(3, Bytes::from_static(&[0x78, 9, 9]));
        jitter.push(4, Bytes::from_static(&[0x78]));
        jitter.push(5, Bytes::from_static(&[0x78, 5, 5, 5]));
        assert_eq!(
            jitter.pop(),
            Playout::Packet(Bytes::from_static(&[0x78, 9, 9]))
        );
        assert_eq!(jitter.pop(), Playout::Packet(Bytes::from_static(&[0x78])));
        assert_eq!(
            jitter.pop(),
            Playout::Packet(Bytes::from_static(&[0x78, 5, 5, 5]))
        );
        // Speech that stops without a word of DTX is a sender gone quiet.
        let plays: Vec<_> = (0..7).map(|_| jitter.pop()).collect();
        assert_eq!(plays[5..], [Playout::Silence, Playout::Silence]);
    }

    #[test]
    fn a_trimmed_backlog_goes_on_playing_packets() {
        let mut jitter = AudioJitter::default();
        // Full to the brim: one in, one out, 100 ms behind.
        for n in 0..5u16 {
            jitter.push(n, packet(n as u8));
        }
        assert_eq!(jitter.pop(), Playout::Packet(packet(0)));
        // A busy machine delivers two packets in one tick: one too many,
        // so 1 is dropped.
        jitter.push(5, packet(5));
        jitter.push(6, packet(6));
        assert_eq!(jitter.pop(), Playout::Packet(packet(2)));
        // Then one in, one out again, as the sender paces them.
        for n in 7..20u16 {
            jitter.push(n, packet(n as u8));
            assert_eq!(jitter.pop(), Playout::Packet(packet(n as u8 - 4)));
        }
    }

    #[test]
    fn a_backlog_is_trimmed() {
        let mut jitter = AudioJitter::default();
        for n in 0..20u16 {
            jitter.push(n, packet(n as u8));
        }
        assert_eq!(jitter.pop(), Playout::Packet(packet(15)));
    }

    #[test]
    fn a_backlog_of_longer_packets_is_trimmed_to_as_much_delay() {
        let mut jitter = AudioJitter::default();
        for n in 0..5u16 {
            jitter.push(n, long_packet(n as u8));
        }
        // 200 ms waiting: two packets (80 ms) are kept.
        assert_eq!(jitter.pop(), Playout::Packet(long_packet(3)));
        assert_eq!(jitter.pop(), Playout::Packet(long_packet(4)));
    }
}
