//! dunst, a real freedesktop.org notification service, on this test's
//! session bus and X display. Its context menu (`dunstctl context`) is what a
//! person would use to press a notification's button without a mouse: dunst
//! pipes the buttons to a "dmenu" program, which here is a script that
//! records the menu and picks the button the test asked for.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::{wait_for, wait_until};

pub struct Dunst {
    child: Child,
    dir: tempfile::TempDir,
}

impl Dunst {
    /// Starts dunst and waits until it owns the notification service name.
    /// Needs `DISPLAY` and `DBUS_SESSION_BUS_ADDRESS` (./scripts/test.sh
    /// provides both) and the `dunst` package (./scripts/setup.sh).
    pub fn start() -> Dunst {
        let dir = tempfile::tempdir().expect("a directory for dunst");
        let picker = dir.path().join("pick.sh");
        std::fs::write(
            &picker,
            format!(
                "#!/bin/sh\n\
                 # dunst writes one line per button: #Label (summary) [id,key]\n\
                 cat > '{menu}.part'\n\
                 grep -m1 -F \"#$(cat '{choice}') (\" '{menu}.part'\n\
                 mv '{menu}.part' '{menu}'\n",
                menu = dir.path().join("menu.txt").display(),
                choice = dir.path().join("choice").display(),
            ),
        )
        .unwrap();
        make_executable(&picker);
        let config = dir.path().join("dunstrc");
        std::fs::write(
            &config,
            format!("[global]\n    dmenu = {}\n", picker.display()),
        )
        .unwrap();
        let spawn = || {
            Command::new("dunst")
                .arg("-config")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start dunst (./scripts/setup.sh installs it)")
        };
        let mut dunst = Dunst {
            child: spawn(),
            dir,
        };
        // D-Bus activation may have started another notification service on
        // this private bus (an earlier test's app notified): it goes, so
        // that the test talks to the dunst it configured.
        let took_it = wait_until(Duration::from_secs(10), || {
            match service_owner_pid() {
                Some(pid) if pid == dunst.child.id() => return true,
                Some(other) => {
                    let _ = Command::new("kill").arg(other.to_string()).status();
                }
                None => {}
            }
            if dunst.child.try_wait().ok().flatten().is_some() {
                dunst.child = spawn();
            }
            false
        });
        assert!(took_it, "dunst did not take the notification service");
        dunst
    }

    /// Notifications on screen now.
    pub fn displayed(&self) -> usize {
        let out = Command::new("dunstctl")
            .args(["count", "displayed"])
            .output()
            .expect("run dunstctl");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("dunstctl count: {out:?}"))
    }

    /// Waits until `count` notifications are on screen.
    pub fn wait_displayed(&self, count: usize, timeout: Duration) {
        let mut now = 0;
        let shown = wait_until(timeout, || {
            now = self.displayed();
            now == count
        });
        assert!(shown, "{now} notifications on screen, expected {count}");
    }

    /// Closes every notification, as a person dismissing them would.
    pub fn close_all(&self) {
        let status = Command::new("dunstctl")
            .arg("close-all")
            .status()
            .expect("run dunstctl");
        assert!(status.success(), "dunstctl close-all: {status}");
    }

    /// Presses the button labelled `label` through the context menu, and
    /// returns the buttons the menu offered (their labels, sorted: dunst
    /// keeps them in a hash table).
    pub fn press(&self, label: &str) -> Vec<String> {
        std::fs::write(self.dir.path().join("choice"), label).unwrap();
        let menu = self.dir.path().join("menu.txt");
        let _ = std::fs::remove_file(&menu);
        let status = Command::new("dunstctl")
            .arg("context")
            .status()
            .expect("run dunstctl");
        assert!(status.success(), "dunstctl context: {status}");
        // dunst runs the menu on its own thread; wait for it to be read.
        let text = wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(&menu).ok()
        })
        .expect("dunst showed no menu");
        let mut labels: Vec<String> = text
            .lines()
            .filter_map(|line| line.strip_prefix('#'))
            .filter_map(|line| line.split(" (").next())
            .map(str::to_owned)
            .collect();
        labels.sort();
        labels
    }
}

impl Drop for Dunst {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The process that owns the notification service name, if any. Asks the
/// bus without activating anything.
fn service_owner_pid() -> Option<u32> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.Notifications",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}
