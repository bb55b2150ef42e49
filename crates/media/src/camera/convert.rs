//! Camera pixel formats to I420, the encoder's input. Cameras deliver
//! packed YUV 4:2:2 (YUY2, UYVY), NV12, I420 or RGB; each row may carry
//! padding (`stride`). Odd sizes lose their last column or row, since I420
//! halves both.

use crate::video::VideoFrame;

/// The raw formats a camera stream may be negotiated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Yuy2,
    Uyvy,
    I420,
    Nv12,
    Rgb,
    Bgr,
    /// Four bytes a pixel, red first; the fourth is padding or alpha.
    Rgbx,
    Bgrx,
}

impl PixelFormat {
    /// Bytes a pixel takes in a packed row (planar formats: the luma row).
    pub fn packed_bytes_per_pixel(self) -> usize {
        match self {
            Self::Yuy2 | Self::Uyvy => 2,
            Self::I420 | Self::Nv12 => 1,
            Self::Rgb | Self::Bgr => 3,
            Self::Rgbx | Self::Bgrx => 4,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a {width}x{height} {format:?} frame needs {needed} bytes at stride {stride}, got {got}")]
pub struct ShortFrame {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub needed: usize,
    pub got: usize,
}

/// Converts one frame. `stride` is the bytes from one row to the next (for
/// planar formats, of the luma plane; chroma rows are half of it).
pub fn to_i420(
    format: PixelFormat,
    width: u32,
    height: u32,
    stride: usize,
    data: &[u8],
) -> Result<VideoFrame, ShortFrame> {
    let (w, h) = ((width & !1) as usize, (height & !1) as usize);
    let needed = match format {
        PixelFormat::I420 => stride * h + 2 * (stride / 2) * (h / 2),
        PixelFormat::Nv12 => stride * h + stride * (h / 2),
        _ => stride * h,
    };
    if data.len() < needed || stride < width as usize * format.packed_bytes_per_pixel() {
        return Err(ShortFrame {
            format,
            width,
            height,
            stride,
            needed,
            got: data.len(),
        });
    }
    let mut frame = VideoFrame::black(w as u32, h as u32);
    let (y, chroma_planes) = frame.data.split_at_mut(w * h);
    let (u, v) = chroma_planes.split_at_mut((w / 2) * (h / 2));
    match format {
        PixelFormat::Yuy2 | PixelFormat::Uyvy => {
            // 4:2:2 → 4:2:0: chroma from the even rows.
            let (y0, u0, v0) = if format == PixelFormat::Yuy2 {
                (0, 1, 3)
            } else {
                (1, 0, 2)
            };
            for row in 0..h {
                let src = &data[row * stride..row * stride + w * 2];
                for (col, pair) in src.chunks_exact(4).enumerate() {
                    y[row * w + 2 * col] = pair[y0];
                    y[row * w + 2 * col + 1] = pair[y0 + 2];
                    if row % 2 == 0 {
                        let at = (row / 2) * (w / 2) + col;
                        u[at] = pair[u0];
                        v[at] = pair[v0];
                    }
                }
            }
        }
        PixelFormat::I420 => {
            let chroma_stride = stride / 2;
            let u_plane = stride * h;
            let v_plane = u_plane + chroma_stride * (h / 2);
            for row in 0..h {
                y[row * w..(row + 1) * w].copy_from_slice(&data[row * stride..row * stride + w]);
            }
            for row in 0..h / 2 {
                let (dst, n) = (row * (w / 2), w / 2);
                let src_u = u_plane + row * chroma_stride;
                let src_v = v_plane + row * chroma_stride;
                u[dst..dst + n].copy_from_slice(&data[src_u..src_u + n]);
                v[dst..dst + n].copy_from_slice(&data[src_v..src_v + n]);
            }
        }
        PixelFormat::Nv12 => {
            for row in 0..h {
                y[row * w..(row + 1) * w].copy_from_slice(&data[row * stride..row * stride + w]);
            }
            let uv_plane = stride * h;
            for row in 0..h / 2 {
                let src = &data[uv_plane + row * stride..uv_plane + row * stride + w];
                for (col, uv) in src.chunks_exact(2).enumerate() {
                    u[row * (w / 2) + col] = uv[0];
                    v[row * (w / 2) + col] = uv[1];
                }
            }
        }
        PixelFormat::Rgb | PixelFormat::Bgr | PixelFormat::Rgbx | PixelFormat::Bgrx => {
            let bytes = format.packed_bytes_per_pixel();
            let red_first = matches!(format, PixelFormat::Rgb | PixelFormat::Rgbx);
            let rgb_at = |row: usize, col: usize| {
                let p = &data[row * stride + col * bytes..];
                if red_first {
                    (p[0], p[1], p[2])
                } else {
                    (p[2], p[1], p[0])
                }
            };
            for row in 0..h {
                for col in 0..w {
                    let (r, g, b) = rgb_at(row, col);
                    y[row * w + col] = luma(r, g, b);
                }
            }
            // Chroma from the mean of each 2×2 block.
            for row in 0..h / 2 {
                for col in 0..w / 2 {
                    let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
                    for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let (pr, pg, pb) = rgb_at(2 * row + dr, 2 * col + dc);
                        r += u32::from(pr);
                        g += u32::from(pg);
                        b += u32::from(pb);
                    }
                    let (r, g, b) = ((r / 4) as u8, (g / 4) as u8, (b / 4) as u8);
                    let (cb, cr) = chroma(r, g, b);
                    u[row * (w / 2) + col] = cb;
                    v[row * (w / 2) + col] = cr;
                }
            }
        }
    }
    Ok(frame)
}

// BT.601 limited range, in integers (as libyuv does), which is what VP8
// and the decoders on the other side assume.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    ((66 * r + 129 * g + 25 * b + 128) >> 8) as u8 + 16
}

fn chroma(r: u8, g: u8, b: u8) -> (u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let cb = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let cr = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    (cb.clamp(0, 255) as u8, cr.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4×2 image: left half pure red, right half pure blue, in `format`,
    /// each row padded to `stride`.
    fn red_blue(format: PixelFormat, stride: usize) -> Vec<u8> {
        let (red, blue) = ((255u8, 0u8, 0u8), (0u8, 0u8, 255u8));
        let mut data = vec![0xEE; stride * 2];
        for row in 0..2 {
            let line = &mut data[row * stride..];
            match format {
                PixelFormat::Yuy2 | PixelFormat::Uyvy => {
                    for (pair, (r, g, b)) in [red, blue].into_iter().enumerate() {
                        let (yy, (cb, cr)) = (luma(r, g, b), chroma(r, g, b));
                        let bytes = if format == PixelFormat::Yuy2 {
                            [yy, cb, yy, cr]
                        } else {
                            [cb, yy, cr, yy]
                        };
                        line[pair * 4..pair * 4 + 4].copy_from_slice(&bytes);
                    }
                }
                _ => {
                    let bytes = format.packed_bytes_per_pixel();
                    for col in 0..4 {
                        let (r, g, b) = if col < 2 { red } else { blue };
                        let px = match format {
                            PixelFormat::Rgb | PixelFormat::Rgbx => [r, g, b, 0xFF],
                            _ => [b, g, r, 0xFF],
                        };
                        line[col * bytes..(col + 1) * bytes].copy_from_slice(&px[..bytes]);
                    }
                }
            }
        }
        data
    }

    fn assert_red_then_blue(frame: &VideoFrame) {
        assert_eq!((frame.width, frame.height), (4, 2));
        let (red_y, (red_u, red_v)) = (luma(255, 0, 0), chroma(255, 0, 0));
        let (blue_y, (blue_u, blue_v)) = (luma(0, 0, 255), chroma(0, 0, 255));
        assert_eq!(
            frame.y(),
            [red_y, red_y, blue_y, blue_y, red_y, red_y, blue_y, blue_y]
        );
        assert_eq!(frame.u(), [red_u, blue_u]);
        assert_eq!(frame.v(), [red_v, blue_v]);
    }

    #[test]
    fn packed_and_rgb_formats_keep_their_colours_and_skip_row_padding() {
        for format in [
            PixelFormat::Yuy2,
            PixelFormat::Uyvy,
            PixelFormat::Rgb,
            PixelFormat::Bgr,
            PixelFormat::Rgbx,
            PixelFormat::Bgrx,
        ] {
            let stride = 4 * format.packed_bytes_per_pixel() + 8;
            let frame = to_i420(format, 4, 2, stride, &red_blue(format, stride)).unwrap();
            assert_red_then_blue(&frame);
        }
    }

    #[test]
    fn planar_formats_copy_through() {
        // I420 with a stride of 6 for 4 pixels: planes padded too.
        let stride = 6;
        let mut i420 = vec![0u8; stride * 2 + 2 * (stride / 2)];
        i420[..4].copy_from_slice(&[1, 2, 3, 4]);
        i420[stride..stride + 4].copy_from_slice(&[5, 6, 7, 8]);
        i420[2 * stride..2 * stride + 2].copy_from_slice(&[10, 11]);
        i420[2 * stride + 3..2 * stride + 5].copy_from_slice(&[20, 21]);
        let frame = to_i420(PixelFormat::I420, 4, 2, stride, &i420).unwrap();
        assert_eq!(frame.y(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!((frame.u(), frame.v()), (&[10, 11][..], &[20, 21][..]));

        let mut nv12 = vec![0u8; stride * 3];
        nv12[..4].copy_from_slice(&[1, 2, 3, 4]);
        nv12[stride..stride + 4].copy_from_slice(&[5, 6, 7, 8]);
        nv12[2 * stride..2 * stride + 4].copy_from_slice(&[10, 20, 11, 21]);
        let frame = to_i420(PixelFormat::Nv12, 4, 2, stride, &nv12).unwrap();
        assert_eq!(frame.y(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!((frame.u(), frame.v()), (&[10, 11][..], &[20, 21][..]));
    }

    #[test]
    fn odd_sizes_lose_the_last_column_and_row() {
        let stride = 5 * 3;
        let frame = to_i420(PixelFormat::Rgb, 5, 3, stride, &vec![128; stride * 3]).unwrap();
        assert_eq!((frame.width, frame.height), (4, 2));
    }

    #[test]
    fn a_short_buffer_is_an_error_not_a_panic() {
        let error = to_i420(PixelFormat::Yuy2, 640, 480, 1280, &[0; 1000]).unwrap_err();
        assert_eq!(error.needed, 1280 * 480);
        assert!(
            to_i420(PixelFormat::Rgb, 4, 2, 8, &[0; 64]).is_err(),
            "stride under a row"
        );
    }
}
