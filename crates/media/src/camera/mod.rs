//! Cameras through PipeWire, as desktops now route them (the session
//! manager exposes each V4L2 or libcamera device as a `Video/Source` node,
//! and sandboxed apps reach them the same way). A camera runs on its own
//! thread with its own PipeWire loop; the call's capture thread takes the
//! newest frame, so a slow encoder never builds a backlog.

mod convert;

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipewire as pw;
use pw::spa;
use pw::spa::param::video::{VideoFormat, VideoInfoRaw};
use pw::spa::pod::Pod;

pub use convert::{to_i420, PixelFormat, ShortFrame};

use crate::video::{VideoFrame, VideoSource};
use crate::MediaError;

/// A camera the session offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// The node's name, stable across restarts: what a setting stores.
    pub name: String,
    /// What a person reads ("Integrated Camera").
    pub description: String,
}

/// What to ask the camera for; it may offer something else close to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraRequest {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CameraRequest {
    fn default() -> Self {
        Self {
            width: 640,
            height: 360,
            fps: 30,
        }
    }
}

/// The PipeWire node a running capture shows up as (in `pw-cli ls Node`,
/// or a desktop's privacy indicator).
pub const CAPTURE_NODE_NAME: &str = "convene-camera";

/// How long a camera may take to agree on a format, and how long a running
/// one may go without a frame before it counts as gone.
const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(3);
const FRAME_TIMEOUT: Duration = Duration::from_secs(2);

fn device_error(reason: impl std::fmt::Display) -> MediaError {
    MediaError::Device {
        device: "camera".into(),
        reason: reason.to_string(),
    }
}

/// An error of the step `what`, saying which step failed.
fn failed<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> MediaError {
    move |error| device_error(format!("{what}: {error}"))
}

/// The cameras PipeWire offers now. Empty when there is none; an error when
/// PipeWire itself cannot be reached.
pub fn list_cameras() -> Result<Vec<CameraInfo>, MediaError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("convene-camera-list".into())
        .spawn(move || {
            let _ = tx.send(enumerate_cameras());
        })
        .map_err(device_error)?;
    rx.recv_timeout(NEGOTIATION_TIMEOUT)
        .map_err(|_| device_error("PipeWire did not answer"))?
}

fn enumerate_cameras() -> Result<Vec<CameraInfo>, MediaError> {
    pw::init();
    let mainloop = pw::main_loop::MainLoop::new(None).map_err(failed("PipeWire main loop"))?;
    let context = pw::context::Context::new(&mainloop).map_err(failed("PipeWire context"))?;
    let core = context
        .connect(None)
        .map_err(failed("connect to PipeWire"))?;
    let registry = core.get_registry().map_err(failed("PipeWire registry"))?;

    let found = Arc::new(Mutex::new(Vec::new()));
    let _registry_listener = registry
        .add_listener_local()
        .global({
            let found = Arc::clone(&found);
            move |global| {
                let Some(props) = global.props else { return };
                if global.type_ != pw::types::ObjectType::Node
                    || props.get("media.class") != Some("Video/Source")
                {
                    return;
                }
                let name = props.get("node.name").unwrap_or_default().to_owned();
                let description = props
                    .get("node.description")
                    .or_else(|| props.get("node.nick"))
                    .unwrap_or(&name)
                    .to_owned();
                found.lock().unwrap().push(CameraInfo { name, description });
            }
        })
        .register();

    // Every global has been announced once the server answers a sync.
    let pending = core.sync(0).map_err(failed("PipeWire sync"))?;
    let _core_listener = core
        .add_listener_local()
        .done({
            let mainloop = mainloop.clone();
            move |id, seq| {
                if id == pw::core::PW_ID_CORE && seq == pending {
                    mainloop.quit();
                }
            }
        })
        .register();
    mainloop.run();
    let cameras = std::mem::take(&mut *found.lock().unwrap());
    Ok(cameras)
}

/// The newest frame, handed from the PipeWire thread to the capture thread.
#[derive(Default)]
struct FrameSlot {
    frame: Mutex<(Option<VideoFrame>, u64)>,
    arrived: Condvar,
}

/// A running camera, as a [`VideoSource`] that keeps time itself.
pub struct PipewireCamera {
    size: (u32, u32),
    fps: u32,
    slot: Arc<FrameSlot>,
    taken: u64,
    quit: pw::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl PipewireCamera {
    /// Opens the camera named `name` (a [`CameraInfo::name`]), or the
    /// session's default one when that is `None` or gone, and waits until it
    /// has agreed on a format. Fails at once when PipeWire offers no camera
    /// (rather than after waiting for one to answer).
    pub fn open(name: Option<&str>, request: CameraRequest) -> Result<Self, MediaError> {
        let cameras = list_cameras()?;
        if cameras.is_empty() {
            return Err(MediaError::DeviceNotFound("no camera".into()));
        }
        let name = name.filter(|wanted| cameras.iter().any(|c| c.name == *wanted));
        let slot = Arc::new(FrameSlot::default());
        let (ready_tx, ready_rx) = mpsc::channel();
        let (quit, quit_rx) = pw::channel::channel();
        let thread = std::thread::Builder::new()
            .name("convene-camera".into())
            .spawn({
                let slot = Arc::clone(&slot);
                let name = name.map(str::to_owned);
                move || {
                    if let Err(error) = run_camera(name, request, slot, ready_tx.clone(), quit_rx) {
                        let _ = ready_tx.send(Err(error));
                    }
                }
            })
            .map_err(device_error)?;
        let stop = |quit: pw::channel::Sender<()>, thread: JoinHandle<()>| {
            let _ = quit.send(());
            let _ = thread.join();
        };
        match ready_rx.recv_timeout(NEGOTIATION_TIMEOUT) {
            Ok(Ok((width, height, fps))) => Ok(Self {
                size: (width & !1, height & !1),
                fps,
                slot,
                taken: 0,
                quit,
                thread: Some(thread),
            }),
            Ok(Err(error)) => {
                stop(quit, thread);
                Err(error)
            }
            Err(_) => {
                stop(quit, thread);
                Err(device_error("no camera agreed on a video format"))
            }
        }
    }
}

impl VideoSource for PipewireCamera {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn fps(&self) -> u32 {
        self.fps
    }

    /// Waits for a frame newer than the last one taken; `None` when the
    /// camera has stopped delivering (unplugged, or taken by the system).
    fn next_frame(&mut self) -> Option<VideoFrame> {
        let deadline = Instant::now() + FRAME_TIMEOUT;
        let mut guard = self.slot.frame.lock().unwrap();
        while guard.1 == self.taken {
            let left = deadline.checked_duration_since(Instant::now())?;
            guard = self.slot.arrived.wait_timeout(guard, left).unwrap().0;
        }
        self.taken = guard.1;
        // Moved out, not copied: the slot counts frames, so a newer one is
        // all the next call waits for.
        guard.0.take()
    }
}

impl Drop for PipewireCamera {
    fn drop(&mut self) {
        let _ = self.quit.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Ready = mpsc::Sender<Result<(u32, u32, u32), MediaError>>;

/// What the stream's callbacks share on the PipeWire thread.
struct StreamState {
    format: Option<(PixelFormat, u32, u32)>,
    ready: Option<Ready>,
    slot: Arc<FrameSlot>,
    size: Option<(u32, u32)>,
}

fn run_camera(
    name: Option<String>,
    request: CameraRequest,
    slot: Arc<FrameSlot>,
    ready: Ready,
    quit: pw::channel::Receiver<()>,
) -> Result<(), MediaError> {
    pw::init();
    let mainloop = pw::main_loop::MainLoop::new(None).map_err(failed("PipeWire main loop"))?;
    let _quit = quit.attach(mainloop.loop_(), {
        let mainloop = mainloop.clone();
        move |()| mainloop.quit()
    });
    let context = pw::context::Context::new(&mainloop).map_err(failed("PipeWire context"))?;
    let core = context
        .connect(None)
        .map_err(failed("connect to PipeWire"))?;

    let mut props = pw::properties::properties! {
        *pw::keys::MEDIA_TYPE => "Video",
        *pw::keys::MEDIA_CATEGORY => "Capture",
        *pw::keys::MEDIA_ROLE => "Camera",
        *pw::keys::APP_NAME => "Convene",
        *pw::keys::NODE_NAME => CAPTURE_NODE_NAME,
    };
    if let Some(name) = &name {
        props.insert("target.object", name.as_str());
    }
    let stream =
        pw::stream::Stream::new(&core, "Convene camera", props).map_err(failed("camera stream"))?;
    let state = StreamState {
        format: None,
        ready: Some(ready),
        slot,
        size: None,
    };
    let _listener = stream
        .add_local_listener_with_user_data(state)
        .param_changed(|_, state, id, param| {
            let Some(param) = param else { return };
            if id != spa::param::ParamType::Format.as_raw() {
                return;
            }
            on_format(state, param);
        })
        .process(|stream, state| {
            if let Some(mut buffer) = stream.dequeue_buffer() {
                on_frame(state, buffer.datas_mut());
            }
        })
        .register()
        .map_err(failed("camera stream listener"))?;

    let formats = enum_formats(request).map_err(failed("camera formats"))?;
    let mut params = [Pod::from_bytes(&formats).ok_or_else(|| device_error("bad format pod"))?];
    stream
        .connect(
            spa::utils::Direction::Input,
            None,
            pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS,
            &mut params,
        )
        .map_err(failed("connect the camera stream"))?;
    mainloop.run();
    let _ = stream.disconnect();
    Ok(())
}

fn on_format(state: &mut StreamState, param: &Pod) {
    let mut info = VideoInfoRaw::default();
    if info.parse(param).is_err() {
        return;
    }
    let format = match info.format() {
        VideoFormat::YUY2 => PixelFormat::Yuy2,
        VideoFormat::UYVY => PixelFormat::Uyvy,
        VideoFormat::I420 => PixelFormat::I420,
        VideoFormat::NV12 => PixelFormat::Nv12,
        VideoFormat::RGB => PixelFormat::Rgb,
        VideoFormat::BGR => PixelFormat::Bgr,
        VideoFormat::RGBx | VideoFormat::RGBA => PixelFormat::Rgbx,
        VideoFormat::BGRx | VideoFormat::BGRA => PixelFormat::Bgrx,
        _ => return,
    };
    let (width, height) = (info.size().width, info.size().height);
    let rate = info.framerate();
    let fps = if rate.denom > 0 && rate.num > 0 {
        (rate.num / rate.denom).clamp(1, 60)
    } else {
        30
    };
    state.format = Some((format, width, height));
    if let Some(ready) = state.ready.take() {
        state.size = Some((width, height));
        let _ = ready.send(Ok((width, height, fps)));
    }
}

fn on_frame(state: &mut StreamState, datas: &mut [spa::buffer::Data]) {
    let (Some((format, width, height)), Some(size)) = (state.format, state.size) else {
        return;
    };
    // The encoder was set up for the first size; a camera that switches
    // mid-call is ignored until it switches back.
    if (width, height) != size {
        return;
    }
    let Some(data) = datas.first_mut() else {
        return;
    };
    let chunk = data.chunk();
    let (offset, len) = (chunk.offset() as usize, chunk.size() as usize);
    let stride = match chunk.stride() {
        s if s > 0 => s as usize,
        _ => width as usize * format.packed_bytes_per_pixel(),
    };
    let Some(bytes) = data.data() else { return };
    let Some(bytes) = bytes.get(offset..offset + len) else {
        return;
    };
    // A malformed buffer is dropped; the next one may be whole.
    if let Ok(frame) = to_i420(format, width, height, stride, bytes) {
        let mut guard = state.slot.frame.lock().unwrap();
        guard.0 = Some(frame);
        guard.1 += 1;
        state.slot.arrived.notify_one();
    }
}

/// The formats this side converts, with the wanted size and rate first.
fn enum_formats(request: CameraRequest) -> Result<Vec<u8>, pw::spa::pod::serialize::GenError> {
    use pw::spa::param::format::{FormatProperties, MediaSubtype, MediaType};
    use pw::spa::pod::{property, Value};
    use pw::spa::utils::{Fraction, Rectangle, SpaTypes};

    let object = pw::spa::pod::object!(
        SpaTypes::ObjectParamFormat,
        spa::param::ParamType::EnumFormat,
        property!(FormatProperties::MediaType, Id, MediaType::Video),
        property!(FormatProperties::MediaSubtype, Id, MediaSubtype::Raw),
        property!(
            FormatProperties::VideoFormat,
            Choice,
            Enum,
            Id,
            VideoFormat::YUY2,
            VideoFormat::YUY2,
            VideoFormat::NV12,
            VideoFormat::I420,
            VideoFormat::UYVY,
            VideoFormat::RGBx,
            VideoFormat::BGRx,
            VideoFormat::RGBA,
            VideoFormat::BGRA,
            VideoFormat::RGB,
            VideoFormat::BGR
        ),
        property!(
            FormatProperties::VideoSize,
            Choice,
            Range,
            Rectangle,
            Rectangle {
                width: request.width,
                height: request.height
            },
            Rectangle {
                width: 2,
                height: 2
            },
            Rectangle {
                width: 1920,
                height: 1080
            }
        ),
        property!(
            FormatProperties::VideoFramerate,
            Choice,
            Range,
            Fraction,
            Fraction {
                num: request.fps,
                denom: 1
            },
            Fraction { num: 1, denom: 1 },
            Fraction { num: 60, denom: 1 }
        ),
    );
    Ok(pw::spa::pod::serialize::PodSerializer::serialize(
        std::io::Cursor::new(Vec::new()),
        &Value::Object(object),
    )?
    .0
    .into_inner())
}
