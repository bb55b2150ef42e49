//! Codec and conversion costs on this machine, printed as figures:
//! `cargo bench -p convene-media --bench codecs`.

use std::time::{Duration, Instant};

use convene_media::{
    pattern_index, psnr, scale_to_rgba, AudioFormat, AudioSource, OpusDecoder, OpusEncoder,
    PatternSource, ToneSource, VideoFrame, Vp8Config, Vp8Decoder, Vp8Encoder, OPUS_DEFAULT_BITRATE,
};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the encoder is given.
#[derive(Clone, Copy)]
enum Content {
    /// The CLI's synthetic pattern: still bars, one moving block.
    Pattern,
    /// Closer to a webcam: a detailed scene, a slow hand-held pan and
    /// sensor noise on every pixel, so no block is ever exactly still.
    CameraLike,
}

fn frames_of(content: Content, width: u32, height: u32, frames: u64) -> Vec<VideoFrame> {
    match content {
        Content::Pattern => (0..frames)
            .map(|i| PatternSource::frame(width, height, i))
            .collect(),
        Content::CameraLike => camera_like(width, height, frames),
    }
}

/// A textured scene wider and taller than the frame, panned a pixel a
/// frame to and fro, with ±4 levels of noise.
fn camera_like(width: u32, height: u32, frames: u64) -> Vec<VideoFrame> {
    const MARGIN: usize = 48;
    let (w, h) = (width as usize, height as usize);
    let (sw, sh) = (w + MARGIN, h + MARGIN);
    let luma: Vec<u8> = (0..sw * sh)
        .map(|i| {
            let (x, y) = ((i % sw) as f64, (i / sw) as f64);
            let broad = 50.0 * (x / 37.0 + y / 53.0).sin();
            let detail = 25.0 * (x / 3.1).sin() * (y / 4.3).sin();
            let object = if ((x / 160.0) as u32 + (y / 120.0) as u32).is_multiple_of(3) {
                30.0
            } else {
                0.0
            };
            (110.0 + broad + detail + object).clamp(16.0, 235.0) as u8
        })
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 9) as i16 - 4
    };
    (0..frames)
        .map(|i| {
            let step = (i as usize) % (2 * MARGIN);
            let dx = if step < MARGIN {
                step
            } else {
                2 * MARGIN - step
            };
            let dy = dx / 3;
            let mut frame = VideoFrame::black(width, height);
            let (y_plane, chroma) = frame.data.split_at_mut(w * h);
            for row in 0..h {
                let src = &luma[(row + dy) * sw + dx..][..w];
                for (out, &v) in y_plane[row * w..][..w].iter_mut().zip(src) {
                    *out = (v as i16 + noise()).clamp(0, 255) as u8;
                }
            }
            let (u, v) = chroma.split_at_mut(w * h / 4);
            for (j, (u, v)) in u.iter_mut().zip(v.iter_mut()).enumerate() {
                let (x, y) = (j % (w / 2) + dx / 2, j / (w / 2) + dy / 2);
                *u = (128 + (x * 40 / w) as i16 - 20 + noise() / 2) as u8;
                *v = (128 + (y * 40 / h) as i16 - 20 + noise() / 2) as u8;
            }
            frame
        })
        .collect()
}

fn vp8(width: u32, height: u32, kbps: u32, frames: u64) {
    vp8_at(Content::Pattern, width, height, kbps, frames, None);
}

fn vp8_at(content: Content, width: u32, height: u32, kbps: u32, frames: u64, speed: Option<i32>) {
    // Frames made up front: the generator is not what is measured.
    let input = frames_of(content, width, height, frames);
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
    let (mut bytes, mut worst_psnr, mut psnr_sum, mut misread) = (0usize, f64::INFINITY, 0.0, 0);
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
                let quality = psnr(frame, &decoded);
                worst_psnr = worst_psnr.min(quality);
                psnr_sum += quality;
            }
            if matches!(content, Content::Pattern) && pattern_index(&decoded) != Some(i as u64) {
                misread += 1;
            }
        }
    }
    let mean = |v: &[Duration]| ms(v.iter().sum::<Duration>() / v.len() as u32);
    let kbps_used = bytes as f64 * 8.0 / 1000.0 / (frames as f64 / 30.0);
    let label = match content {
        Content::Pattern => "pattern",
        Content::CameraLike => "camera-like",
    };
    println!(
        "VP8 {width}x{height} {label} @ {kbps} kbps{}, {frames} frames: encode {:.2} ms/frame (p95 {:.2}), \
         decode {:.2} ms/frame (p95 {:.2}); {kbps_used:.0} kbps used, PSNR mean {:.1} worst {worst_psnr:.1} dB, \
         {misread} frame numbers misread",
        speed.map(|s| format!(" cpu-used {s}")).unwrap_or_default(),
        mean(&enc),
        ms(percentile(&mut enc, 0.95)),
        mean(&dec),
        ms(percentile(&mut dec, 0.95)),
        psnr_sum / (frames.saturating_sub(5).max(1)) as f64,
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
    // What the speed settings buy at 720p, on content closer to a webcam
    // and on the pattern (the default is -12 on 3 cores or fewer, else -6).
    for content in [Content::CameraLike, Content::Pattern] {
        for speed in [-6, -10, -12, -16] {
            vp8_at(content, 1280, 720, 1500, frames.min(150), Some(speed));
        }
    }
    opus(opus_frames);
    rgba(runs);
}
