//! A private PulseAudio daemon with a null sink (the "speaker") and a
//! source remapped from its monitor (the "microphone"), which cpal reaches
//! through ALSA's pulse plugin. Needs pulseaudio, pulseaudio-utils and
//! libasound2-plugins (./scripts/setup.sh).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::wait_until;

pub struct Pulse {
    child: Child,
    server: String,
    _dir: tempfile::TempDir,
}

impl Pulse {
    /// Another speaker (a null sink) and a microphone hearing it, as a
    /// plugged-in headset would add.
    pub fn add_speaker_and_mic(&self, speaker: &str, mic: &str) {
        for args in [
            vec![
                "load-module".to_owned(),
                "module-null-sink".to_owned(),
                format!("sink_name={speaker}"),
                "rate=48000".to_owned(),
            ],
            vec![
                "load-module".to_owned(),
                "module-remap-source".to_owned(),
                format!("master={speaker}.monitor"),
                format!("source_name={mic}"),
            ],
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = pactl(&self.server, &args).expect("run pactl");
            assert!(out.status.success(), "pactl {args:?}: {out:?}");
        }
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pactl(server: &str, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("pactl")
        .args(args)
        .env("PULSE_SERVER", server)
        .output()
}

/// Starts the daemon and points this process's PulseAudio clients (the
/// ALSA plugin inside cpal) at it. Only for a test binary with one test:
/// it sets an environment variable other threads may be reading.
pub fn start_pulse() -> Pulse {
    let pulse = Pulse::start();
    // Edition 2021: set_var is safe; each file using this has one test, so
    // no other thread reads the environment meanwhile.
    std::env::set_var("PULSE_SERVER", &pulse.server);
    pulse
}

impl Pulse {
    /// What a client's `PULSE_SERVER` must be to reach this daemon.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Plays a WAV file on the speaker (the null sink the microphone
    /// hears), as someone talking into the microphone would.
    pub fn play(&self, wav: &Path) -> Child {
        Command::new("paplay")
            .arg("--device=convene_speaker")
            .arg(wav)
            .env("PULSE_SERVER", &self.server)
            .stdout(Stdio::null())
            .spawn()
            .expect("run paplay (pulseaudio-utils)")
    }

    /// Records what the microphone hears (which is what the speaker plays)
    /// into `raw`: 48 kHz mono s16le samples with no header, so a recorder
    /// killed at any moment leaves a file that reads. Read it with
    /// [`read_raw`].
    pub fn record(&self, raw: &Path) -> Child {
        let file = std::fs::File::create(raw).expect("create the recording");
        Command::new("pacat")
            .args([
                "--record",
                "--raw",
                "--device=convene_mic",
                "--rate=48000",
                "--channels=1",
                "--format=s16le",
                "--latency-msec=20",
            ])
            .env("PULSE_SERVER", &self.server)
            .stdout(file)
            .spawn()
            .expect("run pacat (pulseaudio-utils)")
    }

    /// Starts the daemon with a null sink as the default speaker and its
    /// monitor as the default microphone; this process's environment is
    /// left alone (children get [`Pulse::server`]).
    pub fn start() -> Pulse {
        let installed = Command::new("pulseaudio")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "pulseaudio is not installed; this test needs it (and pulseaudio-utils, \
         libasound2-plugins): run scripts/setup.sh"
        );
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("native");
        let server = format!("unix:{}", socket.display());
        // -n: no default.pa, only these modules. Running as root only draws a
        // warning when not in --system mode. HOME and XDG_RUNTIME_DIR keep
        // the daemon's cookie and state inside the temp dir.
        let child = Command::new("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disallow-exit",
                "-n",
                "--log-target=stderr",
                "--log-level=error",
            ])
            .arg(format!(
                "--load=module-native-protocol-unix socket={} auth-anonymous=1",
                socket.display()
            ))
            .arg("--load=module-null-sink sink_name=convene_speaker rate=48000")
            .arg(
                "--load=module-remap-source master=convene_speaker.monitor \
             source_name=convene_mic",
            )
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env_remove("PULSE_SERVER")
            .stdin(Stdio::null())
            .spawn()
            .expect("start pulseaudio");
        let pulse = Pulse {
            child,
            server: server.clone(),
            _dir: dir,
        };
        wait_until_ready(&server, &socket);
        for args in [
            ["set-default-sink", "convene_speaker"],
            ["set-default-source", "convene_mic"],
        ] {
            let out = pactl(&server, &args).expect("run pactl");
            assert!(out.status.success(), "pactl {args:?}: {out:?}");
        }
        pulse
    }
}

fn wait_until_ready(server: &str, socket: &Path) {
    let up = wait_until(Duration::from_secs(15), || {
        socket.exists() && pactl(server, &["info"]).is_ok_and(|o| o.status.success())
    });
    assert!(
        up,
        "the private PulseAudio daemon did not come up on {server}"
    );
}

/// The samples [`Pulse::record`] wrote.
pub fn read_raw(raw: &Path) -> Vec<i16> {
    let bytes = std::fs::read(raw).expect("read the recording");
    bytes
        .chunks_exact(2)
        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
        .collect()
}
