//! coturn (`turnserver`, Debian package `coturn`) on a loopback port, in
//! the shared-secret (TURN REST API) mode the server's credentials are for.

use std::net::UdpSocket;
use std::process::{Child, Command};
use std::time::Duration;

use crate::wait::wait_until;

/// A running coturn, stopped when dropped.
pub struct Coturn {
    child: Child,
    port: u16,
    secret: String,
    dir: tempfile::TempDir,
}

impl Coturn {
    /// Starts coturn with `secret` and `realm` on a free loopback port and
    /// waits until it answers. Panics, with its log, when it cannot start:
    /// the tests that need it must not pass without it.
    pub fn start(secret: &str, realm: &str) -> Self {
        let port = free_udp_port();
        let dir = tempfile::tempdir().expect("a directory for coturn");
        let log = std::fs::File::create(dir.path().join("turn.log")).expect("coturn's log");
        let child = Command::new("turnserver")
            .arg("-n")
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args(["--listening-port", &port.to_string()])
            .args(["--min-port", "40000", "--max-port", "60000"])
            .arg("--use-auth-secret")
            .arg(format!("--static-auth-secret={secret}"))
            .arg(format!("--realm={realm}"))
            // UDP only, which is all the tests hand out: a TCP listener on
            // the same port number can find it taken by some connection's
            // ephemeral port, and coturn then retries the bind for ever
            // without answering on UDP either.
            .args([
                "--allow-loopback-peers",
                "--no-cli",
                "--no-tcp",
                "--no-tls",
                "--no-dtls",
                "--no-tcp-relay",
            ])
            .arg(format!(
                "--pidfile={}",
                dir.path().join("turn.pid").display()
            ))
            .arg(format!("--db={}", dir.path().join("turndb").display()))
            .args(["--log-file", "stdout"])
            .stdout(log.try_clone().expect("coturn's log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start `turnserver` ({error}): this test needs coturn \
                     (Debian package coturn; scripts/setup.sh installs it)"
                )
            });
        let mut coturn = Self {
            child,
            port,
            secret: secret.to_string(),
            dir,
        };
        coturn.wait_until_it_answers();
        coturn
    }

    /// Its UDP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `convene-server` flags that hand this coturn out: STUN, and
    /// TURN over UDP with credentials from the shared secret.
    pub fn server_flags(&self) -> Vec<String> {
        let port = self.port;
        vec![
            "--stun-url".into(),
            format!("stun:127.0.0.1:{port}"),
            "--turn-url".into(),
            format!("turn:127.0.0.1:{port}?transport=udp"),
            "--turn-secret".into(),
            self.secret.clone(),
        ]
    }

    /// Sends STUN Binding requests until one is answered.
    fn wait_until_it_answers(&mut self) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
        socket
            .connect(("127.0.0.1", self.port))
            .expect("connect to coturn");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("a read timeout");
        let mut binding = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        binding.extend_from_slice(&[7; 12]);
        // Until it listens, the kernel refuses at once (ICMP port
        // unreachable): a deadline, not a count of tries.
        let answered = wait_until(Duration::from_secs(15), || {
            let _ = socket.send(&binding);
            socket.recv(&mut [0; 512]).is_ok()
        });
        if answered {
            return;
        }
        let exited = self.child.try_wait();
        let log = std::fs::read_to_string(self.dir.path().join("turn.log")).unwrap_or_default();
        panic!(
            "turnserver does not answer on 127.0.0.1:{} (exit {exited:?}):\n{log}",
            self.port
        );
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback UDP port that was free a moment ago.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port()
}
