//! `kez chat` end to end through the binary: two identities, local relays (five in this process,
//! and a separate nostr-rs-relay process), files checked by hash. SPEC.md §16.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Run, kez_env, scratch};
use kez_testkit::nostr::{LocalRelays, RelayOptions};
use kez_testkit::nostr_rs_relay::NostrRsRelay;
use sha2::{Digest as _, Sha256};

/// An identity: its key file, its store and its key reference.
struct Person {
    key: String,
    store: String,
    keyref: String,
}

fn person(dir: &Path, name: &str, seed: u8) -> Person {
    let key = dir.join(format!("{name}.key"));
    let seed = format!("{seed:02x}").repeat(32);
    let key = key.to_str().unwrap().to_owned();
    let run = kez(
        &[
            "identity", "new", "--alg", "nostr", "--seed", &seed, "--out", &key,
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = kez(&["identity", "show", "--key", &key], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    Person {
        key,
        store: dir
            .join(format!("{name}-store"))
            .to_str()
            .unwrap()
            .to_owned(),
        keyref: run.stdout.trim().to_owned(),
    }
}

fn kez(args: &[&str], env: &[(&str, &str)]) -> Run {
    kez_env(args, b"", None, env)
}

/// `kez chat SUB --key --store --relay…` plus `rest`.
fn chat_args(sub: &str, who: &Person, relays: &[String], rest: &[&str]) -> Vec<String> {
    let mut args = vec![
        "chat".to_owned(),
        sub.to_owned(),
        "--key".to_owned(),
        who.key.clone(),
        "--store".to_owned(),
        who.store.clone(),
    ];
    for r in relays {
        args.push("--relay".to_owned());
        args.push(r.clone());
    }
    args.extend(rest.iter().map(|s| (*s).to_owned()));
    args
}

fn run_chat(sub: &str, who: &Person, relays: &[String], rest: &[&str]) -> Run {
    let args = chat_args(sub, who, relays, rest);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    kez(&args, &[])
}

/// A scratch directory with two people, alice (sender) and bob, and a file of `len` bytes
/// (pseudo-random from `seed`) written under `name` for alice to send.
struct Scene {
    alice: Person,
    bob: Person,
    file: Vec<u8>,
    path: PathBuf,
}

fn scene(test: &str, name: &str, len: usize, seed: u64) -> Scene {
    let dir = scratch(test);
    let alice = person(&dir, "alice", 0x11);
    let bob = person(&dir, "bob", 0x22);
    let file = data(len, seed);
    let path = dir.join(name);
    std::fs::write(&path, &file).unwrap();
    Scene {
        alice,
        bob,
        file,
        path,
    }
}

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed + 1;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as u8
        })
        .collect()
}

fn saved_path(stdout: &str) -> PathBuf {
    let line = stdout
        .lines()
        .find(|l| l.contains("file saved: "))
        .unwrap_or_else(|| panic!("no saved file in:\n{stdout}"));
    let rest = line.split("file saved: ").nth(1).unwrap();
    PathBuf::from(rest.rsplit_once(" (").unwrap().0)
}

fn sha(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_file_5_mb_through_five_relays() {
    let relays = LocalRelays::start_with(5, RelayOptions::default()).await;
    let urls = relays.urls.clone();
    tokio::task::spawn_blocking(move || {
        let Scene {
            alice,
            bob,
            file,
            path,
        } = scene("chat-5mb", "report.bin", 5_000_000, 1);
        let sent = run_chat(
            "send-file",
            &alice,
            &urls,
            &["--rate", "0", "--to", &bob.keyref, path.to_str().unwrap()],
        );
        assert_eq!(sent.code, 0, "{}", sent.stderr);
        assert!(sent.stdout.contains("chunks of"), "{}", sent.stdout);
        let got = run_chat("listen", &bob, &urls, &["--count", "1", "--for", "120"]);
        assert_eq!(got.code, 0, "{}", got.stderr);
        let saved = saved_path(&got.stdout);
        assert!(saved.starts_with(&bob.store), "{}", saved.display());
        assert_eq!(sha(&std::fs::read(&saved).unwrap()), sha(&file));
        assert!(got.stdout.contains("Receiving "), "{}", got.stdout);
        let inbox = run_chat("inbox", &bob, &[], &[]);
        assert!(
            inbox
                .stdout
                .contains("[ready]  file report.bin (5000000 bytes)"),
            "{}",
            inbox.stdout
        );
        // alice hears bob's receipt
        let heard = run_chat("listen", &alice, &urls, &["--for", "3"]);
        assert!(
            heard.stdout.contains("delivered: message"),
            "{}",
            heard.stdout
        );
        let inbox = run_chat("inbox", &alice, &[], &[]);
        assert!(
            inbox.stdout.contains("[delivered]  file report.bin"),
            "{}",
            inbox.stdout
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_killed_mid_transfer_then_restarted() {
    let relays = LocalRelays::start_with(3, RelayOptions::default()).await;
    let urls = relays.urls.clone();
    tokio::task::spawn_blocking(move || {
        let Scene {
            alice,
            bob,
            file,
            path,
        } = scene("chat-kill-receiver", "long.bin", 900_000, 2);
        // bob listens; alice sends at 10 events/s, so the transfer takes a few seconds
        let args = chat_args("listen", &bob, &urls, &["--for", "120"]);
        let mut listener = Command::new(env!("CARGO_BIN_EXE_kez"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sender = {
            let args = chat_args(
                "send-file",
                &alice,
                &urls,
                &["--rate", "10", "--to", &bob.keyref, path.to_str().unwrap()],
            );
            Command::new(env!("CARGO_BIN_EXE_kez"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let mut lines = BufReader::new(listener.stdout.take().unwrap()).lines();
        let start = Instant::now();
        loop {
            let line = lines.next().unwrap().unwrap();
            if line.contains("Receiving 3/") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        }
        // SIGKILL: no chance to clean up
        listener.kill().unwrap();
        listener.wait().unwrap();
        let sent = sender.wait_with_output().unwrap();
        assert!(
            sent.status.success(),
            "{}",
            String::from_utf8_lossy(&sent.stderr)
        );
        let got = run_chat("listen", &bob, &urls, &["--count", "1", "--for", "120"]);
        assert_eq!(got.code, 0, "{}", got.stderr);
        let saved = saved_path(&got.stdout);
        assert_eq!(sha(&std::fs::read(saved).unwrap()), sha(&file));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_killed_mid_send_then_restarted() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let urls = relays.urls.clone();
    let Scene {
        alice,
        bob,
        file,
        path,
    } = scene("chat-kill-sender", "interrupted.bin", 700_000, 4);
    // 33 chunks and the pointer at 5 events/s: killed when 20 have reached the relay
    let args = chat_args(
        "send-file",
        &alice,
        &urls,
        &["--rate", "5", "--to", &bob.keyref, path.to_str().unwrap()],
    );
    let mut sender = Command::new(env!("CARGO_BIN_EXE_kez"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while relays.stats(0).received < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "nothing published"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sender.kill().unwrap();
    sender.wait().unwrap();
    let before = relays.stats(0).received;
    tokio::task::spawn_blocking(move || {
        // the sender's next run finishes the transfer from its store
        let resumed = run_chat("listen", &alice, &urls, &["--count", "1", "--for", "120"]);
        assert_eq!(resumed.code, 0, "{}", resumed.stderr);
        assert!(
            resumed.stdout.contains("finished sending message"),
            "{}",
            resumed.stdout
        );
        let got = run_chat("listen", &bob, &urls, &["--count", "1", "--for", "120"]);
        assert_eq!(got.code, 0, "{}", got.stderr);
        let saved = saved_path(&got.stdout);
        assert_eq!(sha(&std::fs::read(saved).unwrap()), sha(&file));
    })
    .await
    .unwrap();
    // not everything went out again: only chunks without an accepting relay (those in flight
    // at the kill included), the pointer and bob's receipt
    let after = relays.stats(0).received;
    assert!(after - before < 30, "{before} then {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_relay_process() {
    let relay = NostrRsRelay::start(131_072).await;
    let urls = vec![relay.url.clone()];
    tokio::task::spawn_blocking(move || {
        let Scene {
            alice,
            bob,
            file,
            path,
        } = scene("chat-nostr-rs-relay", "via-relay.bin", 300_000, 3);
        let sent = run_chat(
            "send",
            &alice,
            &urls,
            &["--to", &bob.keyref, "over a real relay"],
        );
        assert_eq!(sent.code, 0, "{}", sent.stderr);
        let sent = run_chat(
            "send-file",
            &alice,
            &urls,
            &["--to", &bob.keyref, path.to_str().unwrap()],
        );
        assert_eq!(sent.code, 0, "{}", sent.stderr);
        let got = run_chat("listen", &bob, &urls, &["--count", "2", "--for", "120"]);
        assert_eq!(got.code, 0, "{}", got.stderr);
        assert!(got.stdout.contains(": over a real relay"), "{}", got.stdout);
        let saved = saved_path(&got.stdout);
        assert_eq!(sha(&std::fs::read(saved).unwrap()), sha(&file));
    })
    .await
    .unwrap();
    drop(relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_10_mib_is_a_friendly_error() {
    let relays = LocalRelays::start_with(1, RelayOptions::default()).await;
    let urls = relays.urls.clone();
    tokio::task::spawn_blocking(move || {
        let dir = scratch("chat-too-large");
        let alice = person(&dir, "alice", 0x11);
        let bob = person(&dir, "bob", 0x22);
        let path = dir.join("huge.bin");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(10_485_761)
            .unwrap();
        let run = run_chat(
            "send-file",
            &alice,
            &urls,
            &["--to", &bob.keyref, path.to_str().unwrap()],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("10 MiB"), "{}", run.stderr);
        assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
        let inbox = run_chat("inbox", &alice, &[], &[]);
        assert_eq!(inbox.stdout, "");
    })
    .await
    .unwrap();
    assert_eq!(relays.stats(0).received, 0);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = scratch("chat-bad-args");
    let alice = person(&dir, "alice", 0x11);
    // a recipient that is not a key
    let run = run_chat("send", &alice, &[], &["--to", "npub1garbage", "hi"]);
    run.assert_error("usage");
    assert!(run.stderr.contains("--to"), "{}", run.stderr);
    // a relay that is not a WebSocket URL
    let run = run_chat(
        "send",
        &alice,
        &["https://relay.example".to_owned()],
        &["--to", &alice.keyref, "hi"],
    );
    run.assert_error("usage");
    // a config file with an unknown setting, and one with a bad rate
    for (text, expect) in [
        ("relay = ws://127.0.0.1:1\nspeed = 3\n", "unknown setting"),
        ("rate = fast\n", "rate: expected a number"),
    ] {
        let config = dir.join("chat.conf");
        std::fs::write(&config, text).unwrap();
        let run = run_chat(
            "send",
            &alice,
            &[],
            &[
                "--config",
                config.to_str().unwrap(),
                "--to",
                &alice.keyref,
                "hi",
            ],
        );
        run.assert_error("usage");
        assert!(run.stderr.contains(expect), "{}", run.stderr);
    }
    // an Ed25519 key cannot chat
    let ed = dir.join("ed.key");
    let ed = ed.to_str().unwrap();
    let made = kez(&["identity", "new", "--alg", "ed25519", "--out", ed], &[]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let run = kez(&["chat", "inbox", "--key", ed], &[]);
    run.assert_error("usage");
    assert!(run.stderr.contains("nostr key"), "{}", run.stderr);
    // nothing was stored for any of them
    let inbox = run_chat("inbox", &alice, &[], &[]);
    assert_eq!(inbox.stdout, "");
}
