//! Video frames (planar I420) and what makes, measures and shows them: a
//! deterministic test pattern that carries its own frame number, luma PSNR,
//! and conversion to RGBA for the UI's tiles.

/// One picture in planar I420 (BT.601, limited range): the full-size Y
/// plane, then the quarter-size U and V planes. Sizes are even.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoFrame {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// Bytes in an I420 frame of this size.
pub fn i420_len(width: u32, height: u32) -> usize {
    let luma = width as usize * height as usize;
    luma + 2 * (luma / 4)
}

/// I420 halves both sizes for chroma, so both must be even (and not zero).
pub(crate) fn even_size(width: u32, height: u32) -> bool {
    width > 0 && height > 0 && width.is_multiple_of(2) && height.is_multiple_of(2)
}

impl VideoFrame {
    /// A black frame. Panics if a dimension is odd or zero: I420 halves
    /// both for chroma.
    pub fn black(width: u32, height: u32) -> Self {
        assert!(
            even_size(width, height),
            "I420 needs even, non-zero sizes, got {width}x{height}"
        );
        let luma = width as usize * height as usize;
        let mut data = vec![16u8; i420_len(width, height)];
        data[luma..].fill(128);
        Self {
            width,
            height,
            data,
        }
    }

    /// Checks that `data` is a whole I420 frame of this size.
    pub fn from_i420(width: u32, height: u32, data: Vec<u8>) -> Result<Self, crate::MediaError> {
        if !even_size(width, height) {
            return Err(crate::MediaError::InvalidInput {
                what: "frame size",
                reason: format!("{width}x{height}: I420 needs even, non-zero sizes"),
            });
        }
        if data.len() != i420_len(width, height) {
            return Err(crate::MediaError::InvalidInput {
                what: "I420 frame",
                reason: format!(
                    "{} bytes for {width}x{height}, expected {}",
                    data.len(),
                    i420_len(width, height)
                ),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    fn luma_len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    pub fn y(&self) -> &[u8] {
        &self.data[..self.luma_len()]
    }

    pub fn u(&self) -> &[u8] {
        let l = self.luma_len();
        &self.data[l..l + l / 4]
    }

    pub fn v(&self) -> &[u8] {
        let l = self.luma_len();
        &self.data[l + l / 4..l + l / 2]
    }
}

/// Something that produces pictures at a steady rate: a camera, the
/// screen, a test pattern.
pub trait VideoSource: Send {
    fn size(&self) -> (u32, u32);
    fn fps(&self) -> u32;
    /// The next frame; `None` when the source has ended. Does not pace
    /// itself: the caller ticks at `fps()`.
    fn next_frame(&mut self) -> Option<VideoFrame>;
}

// ---- the test pattern ------------------------------------------------------

/// Bits of the frame number carried in the top strip.
const INDEX_BITS: u32 = 32;
const BLACK_Y: u8 = 16;
const WHITE_Y: u8 = 235;

/// Where the frame-number strip sits: two rows of `INDEX_BITS` square
/// cells, the second the complement of the first so a reader can tell a
/// real number from a smudge.
#[derive(Clone, Copy)]
struct Strip {
    cell: u32,
}

impl Strip {
    /// 16 px cells (one VP8 macroblock, so each cell is coded on its own)
    /// when the frame is wide enough, smaller ones on small frames.
    fn for_size(width: u32, height: u32) -> Option<Self> {
        let cell = (width / INDEX_BITS).min(16) & !1;
        if cell < 4 || height < cell * 4 {
            return None;
        }
        Some(Self { cell })
    }

    fn height(&self) -> u32 {
        self.cell * 2
    }
}

const BARS: [[u8; 3]; 8] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
    [16, 16, 16],
];
const BLOCK_RGB: [u8; 3] = [255, 140, 0];

fn rgb_to_yuv([r, g, b]: [u8; 3]) -> (u8, u8, u8) {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    (y as u8, u as u8, v as u8)
}

/// A synthetic camera: colour bars, a luma ramp and a block that moves
/// across them, with the frame number written in a strip at the top.
/// Frame N depends only on (width, height, N), so a receiver can
/// regenerate what was sent and compare.
pub struct PatternSource {
    width: u32,
    height: u32,
    fps: u32,
    index: u64,
    /// The still part, drawn once: each frame copies it and draws the
    /// block and the number on top, as cheap as a camera handing over a
    /// buffer.
    background: Option<VideoFrame>,
}

/// Where the pattern's parts go in a frame of one size.
struct PatternLayout {
    w: usize,
    h: usize,
    strip: Option<Strip>,
    /// First row below the strip.
    top: usize,
    /// First row of the ramp; the bars are above it.
    ramp_top: usize,
    /// The moving block's side.
    block: usize,
}

impl PatternLayout {
    fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width as usize, height as usize);
        let strip = Strip::for_size(width, height);
        let top = strip.map_or(0, |s| s.height() as usize);
        Self {
            w,
            h,
            strip,
            top,
            ramp_top: top + (h - top) * 2 / 3,
            block: (h / 5).max(2) & !1,
        }
    }
}

impl PatternSource {
    pub fn new(width: u32, height: u32, fps: u32) -> Self {
        Self {
            width,
            height,
            fps,
            index: 0,
            background: None,
        }
    }

    /// Frame `index` of the pattern. Panics on odd or zero sizes, as
    /// [`VideoFrame::black`] does.
    pub fn frame(width: u32, height: u32, index: u64) -> VideoFrame {
        let mut frame = Self::background(width, height);
        Self::draw_moving_parts(&mut frame, index);
        frame
    }

    /// Bars on the upper two thirds below the strip, a ramp beneath.
    fn background(width: u32, height: u32) -> VideoFrame {
        let mut frame = VideoFrame::black(width, height);
        let PatternLayout {
            w,
            h,
            top,
            ramp_top,
            ..
        } = PatternLayout::new(width, height);
        // Each region's colour depends on x only: build one row of each and
        // copy it down (per-pixel colour conversion cost 4 ms a 720p frame).
        let row_of = |colour: &dyn Fn(usize) -> (u8, u8, u8)| -> Vec<(u8, u8, u8)> {
            (0..w).map(colour).collect()
        };
        let bars = row_of(&|x| rgb_to_yuv(BARS[x * BARS.len() / w]));
        let ramp = row_of(&|x| ((16 + x * 219 / w.max(1)) as u8, 128, 128));

        let (luma, chroma) = frame.data.split_at_mut(w * h);
        let (u_plane, v_plane) = chroma.split_at_mut(w * h / 4);
        for y in top..h {
            let row = if y >= ramp_top { &ramp } else { &bars };
            let luma_row = &mut luma[y * w..(y + 1) * w];
            for (out, &(yy, _, _)) in luma_row.iter_mut().zip(row) {
                *out = yy;
            }
            if y % 2 == 0 {
                let c = (y / 2) * (w / 2);
                for x in (0..w).step_by(2) {
                    u_plane[c + x / 2] = row[x].1;
                    v_plane[c + x / 2] = row[x].2;
                }
            }
        }
        frame
    }

    /// The block at its place for frame `index`, and the number strip.
    fn draw_moving_parts(frame: &mut VideoFrame, index: u64) {
        let PatternLayout {
            w,
            h,
            strip,
            top,
            ramp_top,
            block,
        } = PatternLayout::new(frame.width, frame.height);
        let travel = w.saturating_sub(block).max(1);
        // Bounce back and forth, 8 px per frame, so consecutive frames
        // differ the way a moving subject does.
        let step = (index.wrapping_mul(8) % (2 * travel as u64)) as usize;
        let block_x = (if step < travel {
            step
        } else {
            2 * travel - step
        }) & !1;
        let block_y = (top + (ramp_top - top).saturating_sub(block) / 2) & !1;
        let block_yuv = rgb_to_yuv(BLOCK_RGB);

        let (luma, chroma) = frame.data.split_at_mut(w * h);
        let (u_plane, v_plane) = chroma.split_at_mut(w * h / 4);
        for y in block_y..(block_y + block).min(h) {
            luma[y * w + block_x..y * w + (block_x + block).min(w)].fill(block_yuv.0);
            if y % 2 == 0 {
                let c = (y / 2) * (w / 2);
                let (from, to) = (block_x / 2, (block_x + block).min(w) / 2);
                u_plane[c + from..c + to].fill(block_yuv.1);
                v_plane[c + from..c + to].fill(block_yuv.2);
            }
        }

        if let Some(strip) = strip {
            let bits = (index & u32::MAX as u64) as u32;
            let cell = strip.cell as usize;
            for bit in 0..INDEX_BITS as usize {
                let one = bits >> (INDEX_BITS as usize - 1 - bit) & 1 == 1;
                let (first, second) = if one {
                    (WHITE_Y, BLACK_Y)
                } else {
                    (BLACK_Y, WHITE_Y)
                };
                for row in 0..cell {
                    let x0 = bit * cell;
                    luma[row * w + x0..row * w + x0 + cell].fill(first);
                    let r2 = row + cell;
                    luma[r2 * w + x0..r2 * w + x0 + cell].fill(second);
                }
            }
        }
    }
}

impl VideoSource for PatternSource {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn fps(&self) -> u32 {
        self.fps
    }

    fn next_frame(&mut self) -> Option<VideoFrame> {
        let (width, height) = (self.width, self.height);
        let mut frame = self
            .background
            .get_or_insert_with(|| Self::background(width, height))
            .clone();
        Self::draw_moving_parts(&mut frame, self.index);
        self.index += 1;
        Some(frame)
    }
}

/// Reads the frame number back from a [`PatternSource`] frame, also after
/// lossy compression. Only the low 32 bits are carried, so numbers wrap
/// after 2³² frames. `None` if the strip is missing or unreadable (a
/// frame from another source, or one too damaged to trust).
pub fn pattern_index(frame: &VideoFrame) -> Option<u64> {
    let strip = Strip::for_size(frame.width, frame.height)?;
    if frame.data.len() != i420_len(frame.width, frame.height) {
        return None;
    }
    let (w, cell) = (frame.width as usize, strip.cell as usize);
    let luma = frame.y();
    // Average the middle half of a cell: edges blur under compression.
    let mean = |x0: usize, y0: usize| -> u32 {
        let (a, b) = (cell / 4, cell - cell / 4);
        let mut sum = 0u32;
        for y in y0 + a..y0 + b {
            sum += luma[y * w + x0 + a..y * w + x0 + b]
                .iter()
                .map(|&v| v as u32)
                .sum::<u32>();
        }
        sum / ((b - a) * (b - a)) as u32
    };
    let threshold = (BLACK_Y as u32 + WHITE_Y as u32) / 2;
    let mut bits = 0u32;
    for bit in 0..INDEX_BITS as usize {
        let first = mean(bit * cell, 0);
        let second = mean(bit * cell, cell);
        // A cell and its complement must sit on opposite sides, with a
        // clear margin, or the strip is not ours.
        let one = first > threshold + 40 && second + 40 < threshold;
        let zero = second > threshold + 40 && first + 40 < threshold;
        if one == zero {
            return None;
        }
        bits = bits << 1 | one as u32;
    }
    Some(bits as u64)
}

// ---- measuring and showing -------------------------------------------------

/// Luma PSNR in dB between two frames of the same size; `f64::INFINITY`
/// when they are identical. Panics if the sizes differ: comparing
/// different pictures is a caller's bug, not a low score.
pub fn psnr(a: &VideoFrame, b: &VideoFrame) -> f64 {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "psnr needs frames of the same size"
    );
    let squared: u64 = a
        .y()
        .iter()
        .zip(b.y())
        .map(|(&p, &q)| {
            let d = p as i32 - q as i32;
            (d * d) as u64
        })
        .sum();
    if squared == 0 {
        return f64::INFINITY;
    }
    let mse = squared as f64 / a.y().len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// I420 to RGBA (BT.601 limited range, alpha 255), scaled by nearest
/// neighbour to exactly `width` x `height`; the picture is stretched, so
/// the caller picks a size with the right aspect. Nearest keeps a 720p to
/// tile conversion around a millisecond, which matters more for a live
/// grid than smooth edges.
pub fn scale_to_rgba(frame: &VideoFrame, width: u32, height: u32) -> Vec<u8> {
    let (dw, dh) = (width as usize, height as usize);
    let (sw, sh) = (frame.width as usize, frame.height as usize);
    let mut out = vec![0u8; dw * dh * 4];
    if dw == 0 || dh == 0 || sw == 0 || sh == 0 {
        return out;
    }
    let (y_plane, u_plane, v_plane) = (frame.y(), frame.u(), frame.v());
    let cw = sw / 2;
    // Source column of each output column, worked out once per call.
    let xs: Vec<usize> = (0..dw).map(|x| x * sw / dw).collect();
    for (oy, row) in out.chunks_exact_mut(dw * 4).enumerate() {
        let sy = oy * sh / dh;
        let y_row = &y_plane[sy * sw..(sy + 1) * sw];
        let u_row = &u_plane[(sy / 2) * cw..(sy / 2 + 1) * cw];
        let v_row = &v_plane[(sy / 2) * cw..(sy / 2 + 1) * cw];
        for (px, &sx) in row.chunks_exact_mut(4).zip(&xs) {
            let c = 298 * (y_row[sx] as i32 - 16);
            let d = u_row[sx / 2] as i32 - 128;
            let e = v_row[sx / 2] as i32 - 128;
            px[0] = ((c + 409 * e + 128) >> 8).clamp(0, 255) as u8;
            px[1] = ((c - 100 * d - 208 * e + 128) >> 8).clamp(0, 255) as u8;
            px[2] = ((c + 516 * d + 128) >> 8).clamp(0, 255) as u8;
            px[3] = 255;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_have_i420_sizes_and_black_is_black() {
        let f = VideoFrame::black(64, 48);
        assert_eq!(f.data.len(), 64 * 48 * 3 / 2);
        assert_eq!(f.y().len(), 64 * 48);
        assert_eq!(f.u().len(), 32 * 24);
        assert_eq!(f.v().len(), 32 * 24);
        assert!(f.y().iter().all(|&v| v == 16));
        assert!(f.u().iter().chain(f.v()).all(|&v| v == 128));
        assert!(VideoFrame::from_i420(64, 48, vec![0; 10]).is_err());
        assert!(VideoFrame::from_i420(63, 48, vec![0; i420_len(63, 48)]).is_err());
    }

    #[test]
    #[should_panic(expected = "even")]
    fn odd_sizes_are_refused() {
        VideoFrame::black(641, 360);
    }

    #[test]
    fn the_pattern_is_deterministic_and_moves() {
        let a = PatternSource::frame(640, 360, 7);
        assert_eq!(a, PatternSource::frame(640, 360, 7));
        assert_ne!(a, PatternSource::frame(640, 360, 8));
        let mut source = PatternSource::new(640, 360, 30);
        assert_eq!(source.size(), (640, 360));
        assert_eq!(source.fps(), 30);
        assert_eq!(
            source.next_frame().unwrap(),
            PatternSource::frame(640, 360, 0)
        );
        assert_eq!(
            source.next_frame().unwrap(),
            PatternSource::frame(640, 360, 1)
        );
    }

    #[test]
    fn the_source_sends_the_frames_a_receiver_regenerates() {
        let mut source = PatternSource::new(320, 180, 30);
        for index in 0..40 {
            let frame = source.next_frame().unwrap();
            assert_eq!(
                frame,
                PatternSource::frame(320, 180, index),
                "frame {index}"
            );
        }
    }

    #[test]
    fn the_frame_number_reads_back_from_an_exact_frame() {
        for (w, h) in [(640, 360), (1280, 720), (320, 180), (160, 120)] {
            for index in [0, 1, 2, 255, 65_537, u32::MAX as u64] {
                let frame = PatternSource::frame(w, h, index);
                assert_eq!(pattern_index(&frame), Some(index), "{w}x{h} #{index}");
            }
        }
        // Numbers wrap at 32 bits.
        let wrapped = PatternSource::frame(640, 360, (1u64 << 32) + 5);
        assert_eq!(pattern_index(&wrapped), Some(5));
    }

    #[test]
    fn other_pictures_have_no_frame_number() {
        assert_eq!(pattern_index(&VideoFrame::black(640, 360)), None);
        let mut grey = VideoFrame::black(640, 360);
        grey.data.fill(128);
        assert_eq!(pattern_index(&grey), None);
        // Too small to carry a strip.
        assert_eq!(pattern_index(&VideoFrame::black(64, 64)), None);
    }

    #[test]
    fn psnr_is_infinite_for_equal_frames_and_drops_with_noise() {
        let a = PatternSource::frame(320, 180, 3);
        assert_eq!(psnr(&a, &a), f64::INFINITY);
        let mut b = a.clone();
        // Every luma sample off by 4: MSE 16, PSNR = 10·log10(255²/16).
        for v in &mut b.data[..320 * 180] {
            *v = v.saturating_add(4);
        }
        let expected = 10.0 * (255.0f64 * 255.0 / 16.0).log10();
        assert!((psnr(&a, &b) - expected).abs() < 0.01);
    }

    #[test]
    fn rgba_conversion_gives_the_bar_colours_at_the_requested_size() {
        let frame = PatternSource::frame(640, 360, 0);
        let rgba = scale_to_rgba(&frame, 320, 180);
        assert_eq!(rgba.len(), 320 * 180 * 4);
        // Row 40 crosses the bars; the first bar is 75 % white, the
        // second yellow, the seventh blue. Allow rounding from BT.601.
        let px = |x: usize| &rgba[(40 * 320 + x) * 4..(40 * 320 + x) * 4 + 4];
        let close = |p: &[u8], rgb: [u8; 3]| {
            p.iter()
                .zip(rgb)
                .all(|(&a, b)| (a as i32 - b as i32).abs() <= 3)
                && p[3] == 255
        };
        assert!(close(px(10), [191, 191, 191]), "{:?}", px(10));
        assert!(close(px(50), [191, 191, 0]), "{:?}", px(50));
        assert!(close(px(250), [0, 0, 191]), "{:?}", px(250));
        // Upscaling works too.
        assert_eq!(scale_to_rgba(&frame, 1280, 720).len(), 1280 * 720 * 4);
    }
}
