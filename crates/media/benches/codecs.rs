//! Codec and conversion costs on this machine, printed as figures:
//! `cargo bench -p convene-media --bench codecs`.

use std::time::{Duration, Instant};

use convene_media::{
    pattern_index, psnr, scale_to_rgba, AudioFormat, AudioSource, OpusDecoder, OpusEncoder,
    PatternSource, ToneSource, Vp8Config, Vp8Decoder, Vp8Encoder, OPUS_DEFAULT_BITRATE,
};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn vp8(width: u32, height: u32, kbps: u32, frames: u64) {
    vp8_at(width, height, kbps, frames, None);
}

fn vp8_at(width: u32, height: u32, kbps: u32, frames: u64, speed: Option<i32>) {
    // Frames made up front: the pattern generator is not what is measured.
    let input: Vec<_> = (0..frames)
        .map(|i| PatternSource::frame(width, height, i))
        .collect();
    let mut encoder = Vp8Encoder::new(Vp8Config {
        width,
        height,
        fps: 30,
        bitrate_kbps: kbps,
    })
    .unwrap();
    if let Some(speed) = speed {
        encoder.set_speed(speed).unwrap();
    }
    let mut decoder = Vp8Decoder::new().unwrap();
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    let (mut bytes, mut worst_psnr, mut misread) = (0usize, f64::INFINITY, 0);
    for (i, frame) in input.iter().enumerate() {
        let t = Instant::now();
        let out = encoder.encode(frame, false).unwrap();
        enc.push(t.elapsed());
        for packet in out {
            bytes += packet.data.len();
            let t = Instant::now();
            let decoded = decoder.decode(&packet.data).unwrap().unwrap();
            dec.push(t.elapsed());
            if i >= 5 {
                worst_psnr = worst_psnr.min(psnr(frame, &decoded));
            }
            if pattern_index(&decoded) != Some(i as u64) {
                misread += 1;
            }
        }
    }
    let mean = |v: &[Duration]| ms(v.iter().sum::<Duration>() / v.len() as u32);
    let kbps_used = bytes as f64 * 8.0 / 1000.0 / (frames as f64 / 30.0);
    println!(
        "VP8 {width}x{height} @ {kbps} kbps{}, {frames} frames: encode {:.2} ms/frame (p95 {:.2}), \
         decode {:.2} ms/frame (p95 {:.2}); {kbps_used:.0} kbps used, worst PSNR {worst_psnr:.1} dB, \
         {misread} frame numbers misread",
        speed.map(|s| format!(" cpu-used {s}")).unwrap_or_default(),
        mean(&enc),
        ms(percentile(&mut enc, 0.95)),
        mean(&dec),
        ms(percentile(&mut dec, 0.95)),
    );
}

fn opus(frames: usize) {
    let mut tone = ToneSource::new(AudioFormat::OPUS_MONO, 440.0, 0.5);
    let pcm: Vec<Vec<i16>> = (0..frames)
        .map(|_| tone.next_frame(20).unwrap().samples)
        .collect();
    // The call sets the expected loss from the path's measured loss: with
    // none, Opus codes no in-band FEC.
    for loss_percent in [0, 10] {
        let mut encoder = OpusEncoder::new(OPUS_DEFAULT_BITRATE).unwrap();
        encoder.set_packet_loss_percent(loss_percent).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        let t = Instant::now();
        let packets: Vec<Vec<u8>> = pcm.iter().map(|f| encoder.encode(f).unwrap()).collect();
        let enc = t.elapsed();
        let t = Instant::now();
        for p in &packets {
            decoder.decode(p).unwrap();
        }
        let dec = t.elapsed();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / frames as f64;
        println!(
            "Opus 48 kHz mono @ 32 kbps, expected loss {loss_percent} %, {frames} frames of \
             20 ms: encode {:.1} µs/frame, decode {:.1} µs/frame",
            per(enc),
            per(dec)
        );
    }
}

fn rgba(runs: usize) {
    let frame = PatternSource::frame(1280, 720, 42);
    let mut times = Vec::with_capacity(runs);
    let mut checksum = 0u64;
    for _ in 0..runs {
        let t = Instant::now();
        let out = scale_to_rgba(&frame, 640, 360);
        times.push(t.elapsed());
        checksum += out[out.len() / 2] as u64;
    }
    let mean = ms(times.iter().sum::<Duration>() / runs as u32);
    println!(
        "scale_to_rgba 1280x720 -> 640x360: {mean:.3} ms (p95 {:.3}) [{checksum}]",
        ms(percentile(&mut times, 0.95))
    );
    let t = Instant::now();
    let out = scale_to_rgba(&frame, 1280, 720);
    println!(
        "scale_to_rgba 1280x720 -> 1280x720: {:.3} ms [{}]",
        ms(t.elapsed()),
        out[0]
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not and
    // only wants to know that this runs, so keep that pass short.
    let full = std::env::args().any(|a| a == "--bench");
    let (frames, opus_frames, runs) = if full { (300, 5000, 200) } else { (10, 50, 3) };
    vp8(1280, 720, 1500, frames);
    vp8(640, 360, 800, frames);
    // Where congestion control may push a call: the frame numbers must
    // still read back.
    vp8(640, 360, 150, frames);
    // What faster settings buy at 720p (the default is -6).
    for speed in [-8, -10, -12] {
        vp8_at(1280, 720, 1500, frames, Some(speed));
    }
    opus(opus_frames);
    rgba(runs);
}
