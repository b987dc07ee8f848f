//! A separate relay process: nostr-rs-relay (a widely deployed relay with its own SQLite store
//! and its default 128 KiB message limit), on 127.0.0.1, in memory, killed when dropped.
//!
//! The binary comes from `KEZ_NOSTR_RS_RELAY`, else `PATH`, else `$CARGO_HOME/bin`;
//! `scripts/install-nostr-rs-relay` builds it (.ci/run does). Without it [`NostrRsRelay::start`]
//! panics with those instructions: a test that needs it fails rather than pass unchecked.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nostr-rs-relay process.
#[derive(Debug)]
pub struct NostrRsRelay {
    /// Its `ws://127.0.0.1:PORT` URL.
    pub url: String,
    child: Child,
    dir: PathBuf,
}

impl NostrRsRelay {
    /// Where the binary is, if anywhere.
    #[must_use]
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("KEZ_NOSTR_RS_RELAY") {
            return Some(PathBuf::from(path));
        }
        let on_path = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("nostr-rs-relay"))
                .find(|p| p.is_file())
        });
        on_path.or_else(|| {
            let home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
            Some(home.join("bin").join("nostr-rs-relay")).filter(|p| p.is_file())
        })
    }

    /// Starts a relay whose event, WebSocket message and frame limits are `max_bytes`, and
    /// waits until it accepts connections.
    ///
    /// # Panics
    /// When the binary is missing or the relay does not come up within 30 s.
    pub async fn start(max_bytes: usize) -> Self {
        let binary = Self::binary().unwrap_or_else(|| {
            panic!(
                "nostr-rs-relay not found (KEZ_NOSTR_RS_RELAY, PATH, $CARGO_HOME/bin): \
                 run scripts/install-nostr-rs-relay"
            )
        });
        // a free port is picked, then the relay binds it: another test can take it in between,
        // and the relay then exits at once; so a few attempts
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut relay = Self::spawn(&binary, port, max_bytes);
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let start = Instant::now();
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return relay;
                }
                if let Ok(Some(status)) = relay.child.try_wait() {
                    assert!(attempt < 5, "nostr-rs-relay exited ({status}) five times");
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "nostr-rs-relay did not listen on {addr} within 30 s"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    fn spawn(binary: &std::path::Path, port: u16, max_bytes: usize) -> Self {
        let dir =
            std::env::temp_dir().join(format!("kez-nostr-rs-relay-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "[info]\nrelay_url = \"ws://127.0.0.1:{port}/\"\nname = \"kez test relay\"\n\n\
             [database]\nin_memory = true\n\n\
             [network]\naddress = \"127.0.0.1\"\nport = {port}\n\n\
             [limits]\nmax_event_bytes = {max_bytes}\nmax_ws_message_bytes = {max_bytes}\n\
             max_ws_frame_bytes = {max_bytes}\n"
        );
        let config_path = dir.join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config_path)
            .arg("--db")
            .arg(&dir)
            .current_dir(&dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Self {
            url: format!("ws://127.0.0.1:{port}"),
            child,
            dir,
        }
    }
}

impl Drop for NostrRsRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
