//! How fast and how lean a file transfer is, end to end through five local relays (kez-testkit,
//! rust-nostr's relay in this process, advertising a 512 KiB event limit in NIP-11):
//!
//! 1. 5 MB paced at 5 events/s per relay (SPEC.md §16.6 defaults): the time from the start of
//!    the send until the receiver has the file, against the pacing floor `events / rate`;
//! 2. 10 MiB with pacing off;
//! 3. peak resident memory of the `kez` processes that send and receive 10 MiB.
//!
//! ```text
//! cargo build --release -p kez-cli
//! cargo run --release -p kez-cli --example chat_speed -- [--kez PATH]
//! ```
//!
//! PATH defaults to `$CARGO_TARGET_DIR/release/kez` (or `target/release/kez`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kez_chat::engine::{Chat, ChatEvent, Settings};
use kez_chat::pool::PoolConfig;
use kez_core::{Alg, SecretKey};
use kez_testkit::nostr::{LocalRelays, RelayOptions};

fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(Alg::Bip340, &[seed; 32]).unwrap()
}

fn data(len: usize) -> Vec<u8> {
    let mut state = 7u64;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as u8
        })
        .collect()
}

/// Sends `len` bytes from a fresh Alice to a fresh Bob who is already listening; returns the
/// seconds until Bob has the file, and the events sent.
async fn transfer(relays: &[String], rate: Option<f64>, len: usize, dir: &Path) -> (f64, u32) {
    let config = PoolConfig {
        relays: relays.to_vec(),
        rate,
        ..PoolConfig::default()
    };
    let _ = std::fs::remove_dir_all(dir);
    let alice = Chat::open(
        key(0x11),
        &dir.join("alice"),
        config.clone(),
        Settings::default(),
    )
    .unwrap();
    let bob = Chat::open(key(0x22), &dir.join("bob"), config, Settings::default()).unwrap();
    let file = dir.join("payload.bin");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&file, data(len)).unwrap();
    let listener = tokio::spawn(async move {
        bob.listen(tokio::time::sleep(Duration::from_secs(600)), &mut |e| {
            if matches!(e, ChatEvent::FileReady { .. }) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .unwrap();
    });
    // let the subscription reach the relays before timing
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let report = alice
        .send_file(&alice_peer(), &file, &|_| {})
        .await
        .unwrap();
    listener.await.unwrap();
    (start.elapsed().as_secs_f64(), report.events)
}

fn alice_peer() -> [u8; 32] {
    *key(0x22).public().as_bytes()
}

fn kez_path() -> PathBuf {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--kez") {
        return PathBuf::from(&args[i + 1]);
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    PathBuf::from(target).join("release").join("kez")
}

/// Runs `kez` with `KEZ_REPORT_RSS` and returns its peak RSS in KiB.
fn peak_rss(kez: &Path, args: &[&str]) -> u64 {
    let out = Command::new(kez)
        .args(args)
        .env("KEZ_REPORT_RSS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak_rss_kib in {stderr}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let kez = kez_path();
    let options = RelayOptions {
        nip11_max_message: Some(524_288),
        ..RelayOptions::default()
    };
    let relays = LocalRelays::start_with(5, options.clone()).await;
    let dir = std::env::temp_dir().join(format!("kez-chat-speed-{}", std::process::id()));

    println!("| transfer | events | time | floor | time / floor |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let (secs, events) = transfer(&relays.urls, Some(5.0), 5_000_000, &dir.join("paced")).await;
    let floor = f64::from(events) / 5.0;
    println!(
        "| 5 MB, 5 relays, 5 events/s | {events} | {secs:.2} s | {floor:.2} s | {:.3} |",
        secs / floor
    );
    let fresh = LocalRelays::start_with(5, options).await;
    let (secs, events) = transfer(&fresh.urls, None, 10 << 20, &dir.join("unpaced")).await;
    println!("| 10 MiB, 5 relays, unpaced | {events} | {secs:.2} s | – | – |");

    if kez.is_file() {
        let fresh = LocalRelays::start_with(
            5,
            RelayOptions {
                nip11_max_message: Some(524_288),
                ..RelayOptions::default()
            },
        )
        .await;
        let mut relay_args = Vec::new();
        for url in &fresh.urls {
            relay_args.push("--relay".to_owned());
            relay_args.push(url.clone());
        }
        let d = dir.join("rss");
        std::fs::create_dir_all(&d).unwrap();
        for (name, seed) in [("a", 0x11u8), ("b", 0x22u8)] {
            let seed = format!("{seed:02x}").repeat(32);
            let out = d.join(format!("{name}.key"));
            let status = Command::new(&kez)
                .args([
                    "identity", "new", "--alg", "nostr", "--seed", &seed, "--force", "--out",
                ])
                .arg(&out)
                .output()
                .unwrap();
            assert!(status.status.success());
        }
        let file = d.join("ten.bin");
        std::fs::write(&file, data(10 << 20)).unwrap();
        let to = kez_core::KeyRef::from_bytes(Alg::Bip340, alice_peer())
            .unwrap()
            .to_string();
        let mut send: Vec<String> = vec!["chat".into(), "send-file".into(), "--key".into()];
        send.push(d.join("a.key").display().to_string());
        send.extend(["--store".into(), d.join("a-store").display().to_string()]);
        send.extend(relay_args.iter().cloned());
        send.extend([
            "--rate".into(),
            "0".into(),
            "--to".into(),
            to,
            file.display().to_string(),
        ]);
        let send: Vec<&str> = send.iter().map(String::as_str).collect();
        let sender = peak_rss(&kez, &send);
        let mut listen: Vec<String> = vec!["chat".into(), "listen".into(), "--key".into()];
        listen.push(d.join("b.key").display().to_string());
        listen.extend(["--store".into(), d.join("b-store").display().to_string()]);
        listen.extend(relay_args.iter().cloned());
        listen.extend(["--count".into(), "1".into(), "--for".into(), "120".into()]);
        let listen: Vec<&str> = listen.iter().map(String::as_str).collect();
        let receiver = peak_rss(&kez, &listen);
        let mib = 10.0 * 1024.0;
        println!();
        println!("| process (10 MiB file) | peak RSS | RSS / file size |");
        println!("| --- | ---: | ---: |");
        println!(
            "| kez chat send-file | {:.1} MiB | {:.2} |",
            sender as f64 / 1024.0,
            sender as f64 / mib
        );
        println!(
            "| kez chat listen | {:.1} MiB | {:.2} |",
            receiver as f64 / 1024.0,
            receiver as f64 / mib
        );
    } else {
        println!(
            "\n(no kez binary at {}: build it with `cargo build --release -p kez-cli` for the memory figures)",
            kez.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
