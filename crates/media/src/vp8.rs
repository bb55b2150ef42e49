//! VP8 through libvpx (Debian's libvpx, via env-libvpx-sys), set up the
//! way a call wants it: one pass, real-time deadline, constant bitrate, no
//! look-ahead, error-resilient so a lost frame does not poison the
//! following ones, and keyframes on request for a new receiver or a PLI.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_long, c_ulong};
use std::ptr;

use vpx_sys::*;

use crate::error::MediaError;
use crate::video::{even_size, i420_len, VideoFrame};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp8Config {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
}

/// One compressed VP8 frame, ready to be packetised (RFC 7741).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
}

fn error_text(err: vpx_codec_err_t) -> String {
    // SAFETY: libvpx returns a static, NUL-terminated string for any code.
    unsafe { CStr::from_ptr(vpx_codec_err_to_string(err)) }
        .to_string_lossy()
        .into_owned()
}

/// The error code's text plus libvpx's detail for this context, if any.
fn ctx_error(ctx: &mut vpx_codec_ctx_t, err: vpx_codec_err_t) -> String {
    let mut text = error_text(err);
    // SAFETY: ctx is an initialised context; the detail is owned by it.
    let detail = unsafe { vpx_codec_error_detail(ctx) };
    if !detail.is_null() {
        let detail = unsafe { CStr::from_ptr(detail) }.to_string_lossy();
        text.push_str(": ");
        text.push_str(&detail);
    }
    text
}

pub struct Vp8Encoder {
    ctx: Box<vpx_codec_ctx_t>,
    cfg: vpx_codec_enc_cfg_t,
    pts: i64,
}

// SAFETY: a libvpx context has no thread affinity; it is only touched
// through &mut self, so moving it between threads is sound.
unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    pub fn new(cfg: Vp8Config) -> Result<Self, MediaError> {
        let fail = |reason: String| MediaError::CodecInit {
            codec: "VP8 encoder",
            reason,
        };
        if !even_size(cfg.width, cfg.height) {
            return Err(fail(format!(
                "{}x{}: sizes must be even and non-zero",
                cfg.width, cfg.height
            )));
        }
        if cfg.fps == 0 || cfg.bitrate_kbps == 0 {
            return Err(fail("fps and bitrate must be above zero".into()));
        }
        // SAFETY: all-zero is a valid bit pattern for this plain C struct;
        // libvpx fills in its defaults next.
        let mut enc_cfg: vpx_codec_enc_cfg_t = unsafe { MaybeUninit::zeroed().assume_init() };
        let err = unsafe { vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &mut enc_cfg, 0) };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(fail(error_text(err)));
        }
        enc_cfg.g_w = cfg.width;
        enc_cfg.g_h = cfg.height;
        enc_cfg.g_timebase.num = 1;
        enc_cfg.g_timebase.den = cfg.fps as c_int;
        enc_cfg.g_threads = encoder_threads(cfg.width, cfg.height, available_cores());
        enc_cfg.g_pass = vpx_enc_pass::VPX_RC_ONE_PASS;
        enc_cfg.g_lag_in_frames = 0;
        enc_cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
        enc_cfg.rc_end_usage = vpx_rc_mode::VPX_CBR;
        enc_cfg.rc_target_bitrate = cfg.bitrate_kbps;
        // WebRTC's choices for real-time VP8: a wide quantiser range and a
        // short rate-control buffer so the rate follows the target quickly.
        enc_cfg.rc_min_quantizer = 2;
        enc_cfg.rc_max_quantizer = 56;
        enc_cfg.rc_undershoot_pct = 100;
        enc_cfg.rc_overshoot_pct = 15;
        enc_cfg.rc_buf_initial_sz = 500;
        enc_cfg.rc_buf_optimal_sz = 600;
        enc_cfg.rc_buf_sz = 1000;
        // Never drop: every input frame yields one output frame, which
        // keeps the RTP timestamps and the receiver's counters simple.
        enc_cfg.rc_dropframe_thresh = 0;
        enc_cfg.kf_mode = vpx_kf_mode::VPX_KF_AUTO;
        // A periodic keyframe lets a receiver that missed one recover even
        // if its PLI is lost.
        enc_cfg.kf_max_dist = cfg.fps * 10;

        // SAFETY: zeroed is how libvpx expects a fresh context; it lives in
        // a Box because libvpx keeps pointers to it.
        let mut ctx: Box<vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        let err = unsafe {
            vpx_codec_enc_init_ver(
                &mut *ctx,
                vpx_codec_vp8_cx(),
                &enc_cfg,
                0,
                VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(fail(ctx_error(&mut ctx, err)));
        }
        let mut encoder = Self {
            ctx,
            cfg: enc_cfg,
            pts: 0,
        };
        encoder.control(
            vp8e_enc_control_id::VP8E_SET_CPUUSED,
            encoder_speed(available_cores()),
        )?;
        encoder.control(vp8e_enc_control_id::VP8E_SET_NOISE_SENSITIVITY, 0)?;
        // Skip blocks that did not change at all, as WebRTC does for
        // cameras: a call's picture is mostly a still background, and this
        // saves about a quarter of the encode time at 720p (codec bench).
        encoder.control(vp8e_enc_control_id::VP8E_SET_STATIC_THRESHOLD, 1)?;
        // Caps keyframes at three average frames so a forced keyframe does
        // not burst far above the target rate.
        encoder.control(vp8e_enc_control_id::VP8E_SET_MAX_INTRA_BITRATE_PCT, 300)?;
        Ok(encoder)
    }

    /// libvpx's speed/quality trade (`cpu-used`, -16 to 16; further from 0
    /// is faster and coarser). The encoder starts at [`encoder_speed`]'s.
    pub fn set_speed(&mut self, cpu_used: i32) -> Result<(), MediaError> {
        if !(-16..=16).contains(&cpu_used) {
            return Err(MediaError::InvalidInput {
                what: "VP8 speed",
                reason: format!("{cpu_used} is outside -16 to 16"),
            });
        }
        self.control(vp8e_enc_control_id::VP8E_SET_CPUUSED, cpu_used)
    }

    fn control(&mut self, id: vp8e_enc_control_id, value: c_int) -> Result<(), MediaError> {
        // SAFETY: initialised context; these controls take one int.
        let err = unsafe { vpx_codec_control_(&mut *self.ctx, id as c_int, value) };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(MediaError::CodecInit {
                codec: "VP8 encoder",
                reason: format!("control {id:?}: {}", ctx_error(&mut self.ctx, err)),
            });
        }
        Ok(())
    }

    /// Encodes one frame of the configured size. VP8 without look-ahead
    /// gives one compressed frame per input; the Vec is there because
    /// libvpx may in principle return none or several.
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
        force_keyframe: bool,
    ) -> Result<Vec<EncodedFrame>, MediaError> {
        if (frame.width, frame.height) != (self.cfg.g_w, self.cfg.g_h) {
            return Err(MediaError::InvalidInput {
                what: "VP8 input frame",
                reason: format!(
                    "{}x{} given, encoder is {}x{}",
                    frame.width, frame.height, self.cfg.g_w, self.cfg.g_h
                ),
            });
        }
        if frame.data.len() != i420_len(frame.width, frame.height) {
            return Err(MediaError::InvalidInput {
                what: "VP8 input frame",
                reason: format!("{} bytes is not a whole I420 frame", frame.data.len()),
            });
        }
        let mut img = MaybeUninit::<vpx_image_t>::zeroed();
        // SAFETY: wraps (does not copy) our buffer, which is a whole I420
        // frame of this size and outlives the encode call; libvpx only
        // reads input images.
        let wrapped = unsafe {
            vpx_img_wrap(
                img.as_mut_ptr(),
                vpx_img_fmt::VPX_IMG_FMT_I420,
                frame.width,
                frame.height,
                1,
                frame.data.as_ptr() as *mut u8,
            )
        };
        if wrapped.is_null() {
            return Err(MediaError::Encode {
                codec: "VP8",
                reason: "libvpx refused the image".into(),
            });
        }
        let flags: vpx_enc_frame_flags_t = if force_keyframe {
            VPX_EFLAG_FORCE_KF as vpx_enc_frame_flags_t
        } else {
            0
        };
        // SAFETY: initialised context and a valid wrapped image.
        let err = unsafe {
            vpx_codec_encode(
                &mut *self.ctx,
                wrapped,
                self.pts,
                1,
                flags,
                VPX_DL_REALTIME as c_ulong,
            )
        };
        self.pts += 1;
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(MediaError::Encode {
                codec: "VP8",
                reason: ctx_error(&mut self.ctx, err),
            });
        }
        let mut out = Vec::new();
        let mut iter: vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: iterating the packets of the encode just done; each
            // packet's buffer stays valid until the next encode call.
            let pkt = unsafe { vpx_codec_get_cx_data(&mut *self.ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            let pkt = unsafe { &*pkt };
            if pkt.kind != vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                continue;
            }
            let f = unsafe { pkt.data.frame };
            let data = unsafe { std::slice::from_raw_parts(f.buf as *const u8, f.sz as usize) };
            out.push(EncodedFrame {
                data: data.to_vec(),
                keyframe: f.flags & VPX_FRAME_IS_KEY != 0,
            });
        }
        Ok(out)
    }

    /// Changes the target rate from the next frame on (congestion control
    /// calls this).
    pub fn set_bitrate(&mut self, kbps: u32) -> Result<(), MediaError> {
        if kbps == 0 {
            return Err(MediaError::InvalidInput {
                what: "VP8 bitrate",
                reason: "must be above zero".into(),
            });
        }
        self.cfg.rc_target_bitrate = kbps;
        // SAFETY: initialised context and a config it accepted before.
        let err = unsafe { vpx_codec_enc_config_set(&mut *self.ctx, &self.cfg) };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(MediaError::Encode {
                codec: "VP8",
                reason: format!("set bitrate {kbps} kbps: {}", ctx_error(&mut self.ctx, err)),
            });
        }
        Ok(())
    }

    pub fn config(&self) -> Vp8Config {
        Vp8Config {
            width: self.cfg.g_w,
            height: self.cfg.g_h,
            fps: self.cfg.g_timebase.den as u32,
            bitrate_kbps: self.cfg.rc_target_bitrate,
        }
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: initialised in new(), destroyed once.
        unsafe { vpx_codec_destroy(&mut *self.ctx) };
    }
}

/// Encoder threads for a frame size, as WebRTC chooses them. libvpx's
/// threaded VP8 encoder waits for the row above by spinning (`pause`
/// loops), so a thread without a core of its own burns it: on two cores
/// shared with the decoder and the rest of the call, two threads spent over
/// 80 % of a core spinning in a 720p call.
fn encoder_threads(width: u32, height: u32, cores: usize) -> u32 {
    let pixels = width * height;
    if pixels >= 1920 * 1080 && cores > 8 {
        8
    } else if pixels > 1280 * 960 && cores >= 6 {
        3
    } else if pixels > 640 * 480 && cores >= 3 {
        2
    } else {
        1
    }
}

/// libvpx's `cpu-used` for this machine: WebRTC's desktop -6 where cores
/// are plenty, and the -12 WebRTC gives phones of three cores or fewer.
/// On camera-like content (codec bench) -12 encodes 720p in about two
/// thirds of -6's time at the same PSNR, while -10, -11 and -13 onwards
/// lose 2 to 8 dB. Positive values would let libvpx chase a time budget
/// instead; on that content it settled on a slower or a much coarser speed.
fn encoder_speed(cores: usize) -> c_int {
    if cores <= 3 {
        -12
    } else {
        -6
    }
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub struct Vp8Decoder {
    ctx: Box<vpx_codec_ctx_t>,
}

// SAFETY: as for the encoder: no thread affinity, only used via &mut self.
unsafe impl Send for Vp8Decoder {}

impl Vp8Decoder {
    pub fn new() -> Result<Self, MediaError> {
        // One thread: VP8's threaded decoder syncs its rows by spinning, as
        // the encoder does, and a call's decode is cheap (1.5–2 ms a 720p
        // frame).
        let cfg = vpx_codec_dec_cfg_t {
            threads: 1,
            w: 0,
            h: 0,
        };
        // SAFETY: as in Vp8Encoder::new.
        let mut ctx: Box<vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        let err = unsafe {
            vpx_codec_dec_init_ver(
                &mut *ctx,
                vpx_codec_vp8_dx(),
                &cfg,
                0,
                VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(MediaError::CodecInit {
                codec: "VP8 decoder",
                reason: ctx_error(&mut ctx, err),
            });
        }
        Ok(Self { ctx })
    }

    /// Decodes one whole VP8 frame (the RTP payloads reassembled). `None`
    /// when the data held no picture to show. A frame of odd size is
    /// cropped by one row or column, since [`VideoFrame`] is even-sized.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<VideoFrame>, MediaError> {
        if data.is_empty() {
            return Err(MediaError::InvalidInput {
                what: "VP8 frame",
                reason: "empty".into(),
            });
        }
        // SAFETY: initialised context; libvpx reads `data` during the call.
        let err = unsafe {
            vpx_codec_decode(
                &mut *self.ctx,
                data.as_ptr(),
                data.len() as _,
                ptr::null_mut(),
                0 as c_long,
            )
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(MediaError::Decode {
                codec: "VP8",
                reason: ctx_error(&mut self.ctx, err),
            });
        }
        let mut iter: vpx_codec_iter_t = ptr::null();
        let mut last = None;
        loop {
            // SAFETY: images stay valid until the next decode call; we copy.
            let img = unsafe { vpx_codec_get_frame(&mut *self.ctx, &mut iter) };
            if img.is_null() {
                break;
            }
            last = Some(copy_image(unsafe { &*img })?);
        }
        Ok(last)
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        // SAFETY: initialised in new(), destroyed once.
        unsafe { vpx_codec_destroy(&mut *self.ctx) };
    }
}

/// Copies a decoded image's planes, dropping libvpx's row padding.
fn copy_image(img: &vpx_image_t) -> Result<VideoFrame, MediaError> {
    if img.fmt != vpx_img_fmt::VPX_IMG_FMT_I420 {
        return Err(MediaError::Decode {
            codec: "VP8",
            reason: format!("unexpected image format {:?}", img.fmt),
        });
    }
    let (w, h) = (img.d_w & !1, img.d_h & !1);
    if w == 0 || h == 0 {
        return Err(MediaError::Decode {
            codec: "VP8",
            reason: format!("picture of {}x{}", img.d_w, img.d_h),
        });
    }
    let mut data = Vec::with_capacity(i420_len(w, h));
    for (plane, (pw, ph)) in [(w, h), (w / 2, h / 2), (w / 2, h / 2)]
        .into_iter()
        .enumerate()
    {
        let stride = img.stride[plane] as usize;
        for row in 0..ph as usize {
            // SAFETY: libvpx's plane pointer and stride cover d_h rows of
            // at least d_w (or chroma d_w/2 rounded up) bytes.
            let line = unsafe {
                std::slice::from_raw_parts(img.planes[plane].add(row * stride), pw as usize)
            };
            data.extend_from_slice(line);
        }
    }
    Ok(VideoFrame {
        width: w,
        height: h,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::{pattern_index, psnr, PatternSource};

    #[test]
    fn a_two_core_machine_encodes_on_one_thread_and_bigger_ones_share_720p() {
        assert_eq!(encoder_threads(1280, 720, 2), 1);
        assert_eq!(encoder_threads(1280, 720, 4), 2);
        assert_eq!(encoder_threads(640, 360, 16), 1);
        assert_eq!(encoder_threads(1920, 1080, 16), 8);
    }

    #[test]
    fn small_machines_encode_faster() {
        assert_eq!(encoder_speed(2), -12);
        assert_eq!(encoder_speed(3), -12);
        assert_eq!(encoder_speed(8), -6);
    }

    fn round_trip(width: u32, height: u32, kbps: u32) {
        let mut encoder = Vp8Encoder::new(Vp8Config {
            width,
            height,
            fps: 30,
            bitrate_kbps: kbps,
        })
        .unwrap();
        let mut decoder = Vp8Decoder::new().unwrap();
        let mut worst = f64::INFINITY;
        let mut bytes = 0usize;
        let frames = 60u64;
        for index in 0..frames {
            let frame = PatternSource::frame(width, height, index);
            let encoded = encoder.encode(&frame, false).unwrap();
            assert_eq!(encoded.len(), 1, "one output per input, frame {index}");
            assert_eq!(
                encoded[0].keyframe,
                index == 0,
                "only the first is a keyframe"
            );
            bytes += encoded[0].data.len();
            let decoded = decoder
                .decode(&encoded[0].data)
                .unwrap()
                .expect("a picture");
            assert_eq!((decoded.width, decoded.height), (width, height));
            assert_eq!(pattern_index(&decoded), Some(index), "{width}x{height}");
            // The first frames ramp up from a low-quality keyframe.
            if index >= 5 {
                worst = worst.min(psnr(&frame, &decoded));
            }
        }
        eprintln!("VP8 {width}x{height} @ {kbps} kbps: worst PSNR {worst:.1} dB");
        assert!(worst > 30.0, "{width}x{height}: worst PSNR {worst:.1} dB");
        // CBR: two seconds should cost about 2 s × target; allow the
        // keyframe and rate-control slack.
        let kbps_used = bytes as f64 * 8.0 / 1000.0 / (frames as f64 / 30.0);
        assert!(
            kbps_used < kbps as f64 * 1.5,
            "{width}x{height}: {kbps_used:.0} kbps for a {kbps} kbps target"
        );
    }

    #[test]
    fn round_trip_640x360_keeps_quality_and_frame_numbers() {
        round_trip(640, 360, 800);
    }

    #[test]
    fn round_trip_1280x720_keeps_quality_and_frame_numbers() {
        round_trip(1280, 720, 1500);
    }

    #[test]
    fn a_forced_keyframe_is_a_keyframe_and_decodes_on_a_fresh_decoder() {
        let cfg = Vp8Config {
            width: 320,
            height: 180,
            fps: 30,
            bitrate_kbps: 300,
        };
        let mut encoder = Vp8Encoder::new(cfg).unwrap();
        for index in 0..10 {
            let out = encoder
                .encode(&PatternSource::frame(320, 180, index), false)
                .unwrap();
            assert_eq!(out[0].keyframe, index == 0);
        }
        let forced = encoder
            .encode(&PatternSource::frame(320, 180, 10), true)
            .unwrap();
        assert!(forced[0].keyframe);
        // A receiver joining now can start from the forced keyframe.
        let mut late = Vp8Decoder::new().unwrap();
        let picture = late.decode(&forced[0].data).unwrap().unwrap();
        assert_eq!(pattern_index(&picture), Some(10));
        let next = encoder
            .encode(&PatternSource::frame(320, 180, 11), false)
            .unwrap();
        assert!(!next[0].keyframe);
    }

    #[test]
    fn bitrate_changes_follow_through() {
        let cfg = Vp8Config {
            width: 640,
            height: 360,
            fps: 30,
            bitrate_kbps: 1200,
        };
        let mut encoder = Vp8Encoder::new(cfg).unwrap();
        // The pattern under sensor-like noise: the clean pattern is so
        // still that it needs far less than either rate.
        let noisy = |index: u64| {
            let mut frame = PatternSource::frame(640, 360, index);
            let mut state = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for sample in &mut frame.data[..640 * 360] {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *sample = sample.saturating_add((state % 24) as u8);
            }
            frame
        };
        let size_of_second = |encoder: &mut Vp8Encoder, start: u64| -> usize {
            (start..start + 30)
                .map(|i| encoder.encode(&noisy(i), false).unwrap()[0].data.len())
                .sum()
        };
        size_of_second(&mut encoder, 0);
        let high = size_of_second(&mut encoder, 30);
        encoder.set_bitrate(150).unwrap();
        assert_eq!(encoder.config().bitrate_kbps, 150);
        size_of_second(&mut encoder, 60);
        let low = size_of_second(&mut encoder, 90);
        assert!(
            low * 2 < high,
            "150 kbps second {low} B vs 1200 kbps second {high} B"
        );
        assert!(encoder.set_bitrate(0).is_err());
    }

    #[test]
    fn bad_input_is_refused_with_a_clear_error() {
        assert!(matches!(
            Vp8Encoder::new(Vp8Config {
                width: 641,
                height: 360,
                fps: 30,
                bitrate_kbps: 500
            }),
            Err(MediaError::CodecInit { .. })
        ));
        let mut encoder = Vp8Encoder::new(Vp8Config {
            width: 320,
            height: 180,
            fps: 30,
            bitrate_kbps: 300,
        })
        .unwrap();
        let err = encoder
            .encode(&VideoFrame::black(640, 360), false)
            .unwrap_err();
        assert!(err.to_string().contains("encoder is 320x180"), "{err}");
        let mut decoder = Vp8Decoder::new().unwrap();
        assert!(decoder.decode(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).is_err());
    }

    #[test]
    fn codecs_are_send() {
        fn send<T: Send>() {}
        send::<Vp8Encoder>();
        send::<Vp8Decoder>();
    }
}
