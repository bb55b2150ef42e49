//! A private PipeWire session for tests: the `pipewire` daemon with
//! WirePlumber as its session manager (which links a camera stream to the
//! default camera, as on a desktop), optionally with PipeWire's own video
//! test source registered as a `Video/Source` node, the way a V4L2 or
//! libcamera device appears. Needs the `pipewire` and `wireplumber`
//! packages (./scripts/setup.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::wait_until;

/// pipewire and wireplumber with their sockets and state in one directory.
pub struct Session {
    daemons: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Session {
    /// Starts the daemons; `with_camera` registers PipeWire's video test
    /// source as a camera named `convene-test-camera` ("Test Camera").
    pub fn start(with_camera: bool) -> Session {
        let cameras: &[(&str, &str)] = if with_camera {
            &[("convene-test-camera", "Test Camera")]
        } else {
            &[]
        };
        Self::start_with_cameras(cameras)
    }

    /// Starts the daemons with a video test source as a camera for each
    /// `(node name, description)`.
    pub fn start_with_cameras(cameras: &[(&str, &str)]) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let (runtime, config) = (dir.path().join("run"), dir.path().join("config"));
        std::fs::create_dir_all(&runtime).unwrap();
        let drop_in = config.join("pipewire/pipewire.conf.d");
        std::fs::create_dir_all(&drop_in).unwrap();
        if !cameras.is_empty() {
            std::fs::write(drop_in.join("test-cameras.conf"), test_cameras(cameras)).unwrap();
        }
        let daemon = |program: &str| {
            Command::new(program)
                .env("XDG_RUNTIME_DIR", &runtime)
                .env("PIPEWIRE_RUNTIME_DIR", &runtime)
                .env("XDG_CONFIG_HOME", &config)
                .env("XDG_STATE_HOME", dir.path().join("state"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {program} (./scripts/setup.sh installs it): {e}"))
        };
        let pipewire = daemon("pipewire");
        wait_for_socket(&runtime.join("pipewire-0"));
        let wireplumber = daemon("wireplumber");
        Session {
            daemons: vec![wireplumber, pipewire],
            dir,
        }
    }
}

impl Session {
    /// Plugs in one more camera (a video test source) while running, as
    /// a webcam plugged into a USB port appears. Only for a session
    /// started with cameras, whose configuration names the test source.
    pub fn add_camera(&self, name: &str, description: &str) {
        let properties = format!(
            "{{ factory.name = videotestsrc node.name = {name} \
             node.description = \"{description}\" media.class = Video/Source \
             object.linger = true }}"
        );
        let status = Command::new("pw-cli")
            .args(["create-node", "spa-node-factory", &properties])
            .env("PIPEWIRE_RUNTIME_DIR", self.runtime_dir())
            .stdout(Stdio::null())
            .status()
            .expect("run pw-cli (pipewire-bin)");
        assert!(status.success(), "pw-cli create-node {name}: {status}");
        self.wait_for_node(name, true);
    }

    /// Whether a node of this name (a device, or a client's stream) exists.
    pub fn has_node(&self, name: &str) -> bool {
        let out = Command::new("pw-cli")
            .args(["ls", "Node"])
            .env("PIPEWIRE_RUNTIME_DIR", self.runtime_dir())
            .output()
            .expect("run pw-cli (pipewire-bin)");
        String::from_utf8_lossy(&out.stdout).contains(&format!("node.name = \"{name}\""))
    }

    /// Whether the output of node `from` is linked to node `to` (a camera
    /// to the stream capturing it).
    pub fn is_linked(&self, from: &str, to: &str) -> bool {
        let out = Command::new("pw-link")
            .args(["--links", "--output"])
            .env("PIPEWIRE_RUNTIME_DIR", self.runtime_dir())
            .output()
            .expect("run pw-link (pipewire-bin)");
        // An output port, then the ports it feeds: "node:port" and
        // "  |-> node:port" lines.
        let mut current = String::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match line.trim_start().strip_prefix("|->") {
                Some(target) => {
                    if current.starts_with(&format!("{from}:"))
                        && target.trim().starts_with(&format!("{to}:"))
                    {
                        return true;
                    }
                }
                None => current = line.trim().to_owned(),
            }
        }
        false
    }

    /// Waits up to ten seconds for `from` to feed `to`.
    pub fn wait_for_link(&self, from: &str, to: &str) {
        assert!(
            wait_until(Duration::from_secs(10), || self.is_linked(from, to)),
            "{from} never fed {to}"
        );
    }

    /// Waits up to ten seconds for the node to be there, or not.
    pub fn wait_for_node(&self, name: &str, present: bool) {
        assert!(
            wait_until(Duration::from_secs(10), || self.has_node(name) == present),
            "node {name} still {}",
            if present { "missing" } else { "there" }
        );
    }

    /// What a client's `PIPEWIRE_RUNTIME_DIR` must be to reach this daemon.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for daemon in &mut self.daemons {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

/// PipeWire's video test source registered as a `Video/Source` node for
/// each camera.
fn test_cameras(cameras: &[(&str, &str)]) -> String {
    let objects: String = cameras
        .iter()
        .map(|(name, description)| {
            format!(
                "    {{ factory = spa-node-factory\n      args = {{\n          \
                 factory.name = videotestsrc\n          node.name = {name}\n          \
                 node.description = \"{description}\"\n          \
                 media.class = Video/Source\n      }}\n    }}\n"
            )
        })
        .collect();
    format!(
        "context.spa-libs = {{ videotestsrc = videotestsrc/libspa-videotestsrc }}\n\
         context.objects = [\n{objects}]\n"
    )
}

fn wait_for_socket(path: &Path) {
    assert!(
        wait_until(Duration::from_secs(10), || path.exists()),
        "pipewire did not start"
    );
}
