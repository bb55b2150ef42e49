//! The camera path on a real PipeWire: a private `pipewire` daemon with
//! WirePlumber as its session manager (which links a camera stream to the
//! default camera, as on a desktop) and PipeWire's own video test source
//! registered as a `Video/Source` node, the way a V4L2 or libcamera device
//! appears. Needs the `pipewire` and `wireplumber` packages
//! (./scripts/setup.sh).

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use convene_media::camera::{list_cameras, CameraRequest, PipewireCamera};
use convene_media::{MediaError, VideoSource};
use convene_test_support::pipewire::Session;
use convene_test_support::wait::wait_for;

/// This process's PipeWire clients find the daemon through this variable
/// (one test in this binary, so nothing else reads it meanwhile).
fn use_session(session: &Session) {
    std::env::set_var("PIPEWIRE_RUNTIME_DIR", session.runtime_dir());
}

/// Waits until `f` returns `Some`, for up to ten seconds (WirePlumber
/// takes a moment to find the camera and choose a default).
fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    wait_for(Duration::from_secs(10), f).unwrap_or_else(|| panic!("{what}"))
}

#[test]
fn a_pipewire_camera_is_listed_and_delivers_colour_frames_until_closed() {
    // No PipeWire at all: a clear error, at once.
    std::env::set_var("PIPEWIRE_RUNTIME_DIR", "/nonexistent");
    let started = Instant::now();
    assert!(list_cameras().is_err(), "no PipeWire to reach");
    assert!(PipewireCamera::open(None, CameraRequest::default()).is_err());
    assert!(started.elapsed() < Duration::from_secs(7));

    // PipeWire without a camera: an empty list, and opening fails.
    {
        let session = Session::start(false);
        use_session(&session);
        let cameras = eventually("PipeWire answers", || list_cameras().ok());
        assert_eq!(cameras, []);
        // At once, so that a call without a camera falls back without delay.
        let started = Instant::now();
        assert!(matches!(
            PipewireCamera::open(None, CameraRequest::default()),
            Err(MediaError::DeviceNotFound(_))
        ));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    let session = Session::start(true);
    use_session(&session);
    let cameras = eventually("the test camera is listed", || {
        list_cameras().ok().filter(|c| !c.is_empty())
    });
    assert_eq!(cameras.len(), 1, "{cameras:?}");
    assert_eq!(cameras[0].name, "convene-test-camera");
    assert_eq!(cameras[0].description, "Test Camera");

    let mut camera = eventually("the camera opens", || {
        PipewireCamera::open(Some("convene-test-camera"), CameraRequest::default()).ok()
    });
    // A camera chosen earlier and since unplugged: the default one opens.
    drop(PipewireCamera::open(Some("unplugged-webcam"), CameraRequest::default()).unwrap());
    let (width, height) = camera.size();
    assert!(width >= 2 && height >= 2 && width % 2 == 0 && height % 2 == 0);
    assert!(camera.fps() >= 1);
    println!("camera agreed on {width}x{height} at {} fps", camera.fps());

    // Frames keep coming, at the size agreed, and carry the test source's
    // colour bars through the conversion to I420.
    let started = Instant::now();
    let mut frames = Vec::new();
    while frames.len() < 20 {
        let frame = camera.next_frame().expect("the camera keeps delivering");
        assert_eq!((frame.width, frame.height), (width, height));
        frames.push(frame);
    }
    let seconds = started.elapsed().as_secs_f64();
    assert!(seconds < 5.0, "20 frames took {seconds:.1} s");
    let last = frames.last().unwrap();
    let row = &last.y()[(height as usize / 4) * width as usize..][..width as usize];
    let mut levels: Vec<u8> = row.to_vec();
    levels.sort_unstable();
    levels.dedup_by(|a, b| a.abs_diff(*b) < 8);
    println!("20 frames in {seconds:.2} s; luma levels across a row: {levels:?}");
    assert!(
        levels.len() >= 4,
        "bars of different brightness: {levels:?}"
    );
    assert!(
        last.u()
            .iter()
            .chain(last.v())
            .any(|&c| c.abs_diff(128) > 40),
        "some bars are strongly coloured"
    );

    // Closing stops the stream and frees the thread promptly.
    let closing = Instant::now();
    drop(camera);
    assert!(closing.elapsed() < Duration::from_secs(2));
}
