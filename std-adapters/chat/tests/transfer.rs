//! Messages and files end to end between two identities, through real nostr relays running in
//! this process (rust-nostr's relay, with limits like real deployments'): SPEC.md §16.6.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kez_chat::engine::{Chat, ChatError, ChatEvent, Settings};
use kez_chat::pool::{PoolConfig, RelayPool};
use kez_chat::store::{Direction, MessageState, Peer};
use kez_chat::wrap::{self, KIND_FILE_BODY, Rumor};
use kez_chat::{body, engine};
use kez_core::{Alg, FileId, SecretKey};
use kez_testkit::nostr::{LocalRelays, RelayOptions};
use sha2::{Digest as _, Sha256};

const ALICE: [u8; 32] = [0x11; 32];
const BOB: [u8; 32] = [0x22; 32];
const MALLORY: [u8; 32] = [0x33; 32];

/// Long enough for anything here on a loaded 2-core machine; tests end as soon as done.
const DEADLINE: Duration = Duration::from_secs(120);

fn key(seed: [u8; 32]) -> SecretKey {
    SecretKey::from_bytes(Alg::Bip340, &seed).unwrap()
}

fn peer(seed: [u8; 32]) -> Peer {
    *key(seed).public().as_bytes()
}

fn pool(relays: &[String]) -> PoolConfig {
    PoolConfig {
        relays: relays.to_vec(),
        rate: None,
        timeout: Duration::from_secs(10),
        ..PoolConfig::default()
    }
}

fn fast() -> Settings {
    Settings {
        resend_idle: Duration::from_secs(2),
        ..Settings::default()
    }
}

fn open(seed: [u8; 32], dir: &Path, relays: &[String], settings: Settings) -> Chat {
    Chat::open(key(seed), dir, pool(relays), settings).unwrap()
}

fn file(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u64::from(seed) + 1;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as u8
        })
        .collect()
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

struct Dirs {
    _tmp: tempfile::TempDir,
    alice: PathBuf,
    bob: PathBuf,
    files: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let alice = tmp.path().join("alice");
    let bob = tmp.path().join("bob");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    Dirs {
        alice,
        bob,
        files,
        _tmp: tmp,
    }
}

fn write(dirs: &Dirs, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dirs.files.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Listens as `chat` until `done` says so (or the deadline); returns every event seen.
async fn listen_until(
    chat: &Chat,
    mut done: impl FnMut(&ChatEvent) -> bool + Send,
) -> Vec<ChatEvent> {
    let mut seen = Vec::new();
    let result = tokio::time::timeout(
        DEADLINE,
        chat.listen(tokio::time::sleep(DEADLINE), &mut |e: &ChatEvent| {
            seen.push(e.clone());
            if done(e) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }),
    )
    .await;
    assert!(matches!(result, Ok(Ok(()))), "listen: {result:?}");
    seen
}

/// A listener running in the background that passes on every event until `ready`.
struct Live {
    events: tokio::sync::mpsc::UnboundedReceiver<ChatEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl Live {
    /// Starts `chat` listening and returns once its subscription is live on every relay: a
    /// marker message sent through `marker` (the peer's pool) has come back.
    async fn start(chat: &Chat, marker: &Chat) -> Self {
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        let listener = chat.clone();
        let task = tokio::spawn(async move {
            let _ = listener
                .listen(tokio::time::sleep(DEADLINE), &mut |e: &ChatEvent| {
                    let _ = tx.send(e.clone());
                    if ready(e) {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .await;
        });
        let mut live = Self { events, task };
        marker.send_text(&chat.me(), "marker").await.unwrap();
        live.until(|e| matches!(e, ChatEvent::Text { text, .. } if text == "marker"))
            .await;
        live
    }

    /// Events until `done` (included), within the deadline.
    async fn until(&mut self, mut done: impl FnMut(&ChatEvent) -> bool) -> Vec<ChatEvent> {
        let mut seen = Vec::new();
        tokio::time::timeout(DEADLINE, async {
            while let Some(e) = self.events.recv().await {
                let stop = done(&e);
                seen.push(e);
                if stop {
                    return;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("deadline; seen {seen:?}"));
        seen
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn ready(e: &ChatEvent) -> bool {
    matches!(
        e,
        ChatEvent::FileReady { .. } | ChatEvent::FileFailed { .. }
    )
}

fn saved(events: &[ChatEvent]) -> Vec<u8> {
    let path = events
        .iter()
        .find_map(|e| match e {
            ChatEvent::FileReady { path, .. } => Some(path.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no file ready in {events:?}"));
    std::fs::read(path).unwrap()
}

fn failure(events: &[ChatEvent]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            ChatEvent::FileFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no failure in {events:?}"))
}

/// Publishes one KEZ-kind body from `from` to `to` as a real client would (for the hostile and
/// out-of-order cases a KEZ sender never produces).
async fn publish_body(pool: &RelayPool, from: [u8; 32], to: &Peer, text: String) {
    let sender = key(from);
    let rumor = Rumor::new(sender.public().as_bytes(), to, KIND_FILE_BODY, text, now());
    let event = wrap::wrap(&sender, to, &rumor, now()).unwrap();
    let published = pool.publish(&event).await;
    assert!(!published.accepted.is_empty(), "{published:?}");
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The chunk and pointer bodies of a file, as a sender makes them.
fn bodies(data: &[u8], chunk_size: usize, file_id: [u8; 16], name: &str) -> (Vec<String>, String) {
    let n = data.len().div_ceil(chunk_size) as u32;
    let fid = FileId(file_id);
    let chunks = data
        .chunks(chunk_size)
        .zip(0..)
        .map(|(c, i)| body::chunk(&fid, i, n, c))
        .collect();
    let pointer = body::pointer(
        &fid,
        name,
        "application/octet-stream",
        data.len() as u64,
        chunk_size as u32,
        n,
        &sha(data),
    );
    (chunks, pointer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_message_then_receipt() {
    let relays = LocalRelays::start_with(5, RelayOptions::default()).await;
    let d = dirs();
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let report = alice.send_text(&peer(BOB), "hello, bob ✓").await.unwrap();
    assert_eq!(report.accepted_by.len(), 5);
    let events = listen_until(&bob, |e| matches!(e, ChatEvent::Text { .. })).await;
    assert!(events.contains(&ChatEvent::Text {
        from: peer(ALICE),
        text: "hello, bob ✓".to_owned()
    }));
    // bob's receipt makes alice's message delivered
    let events = listen_until(&alice, |e| matches!(e, ChatEvent::Delivered { .. })).await;
    assert!(events.contains(&ChatEvent::Delivered {
        message_id: report.message_id
    }));
    let state = alice
        .with_store(|s| s.message(report.message_id))
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(state, MessageState::Delivered);
    let inbox = bob.with_store(|s| s.messages(&peer(ALICE))).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].state, MessageState::Received);
    assert_eq!(inbox[0].direction, Direction::In);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_60_kb() {
    let relays = LocalRelays::start_with(
        5,
        RelayOptions {
            nip11_max_message: Some(262_144),
            ..RelayOptions::default()
        },
    )
    .await;
    let d = dirs();
    let data = file(60_000, 1);
    let path = write(&d, "photo.bin", &data);
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let report = alice.send_file(&peer(BOB), &path, &|_| {}).await.unwrap();
    assert_eq!((report.events, report.chunk_size), (1, None));
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_mb_chunked_pointer_last() {
    let relays = LocalRelays::start_with(5, RelayOptions::default()).await;
    let d = dirs();
    let data = file(5_000_000, 2);
    let path = write(&d, "video.bin", &data);
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    // bob is live while alice sends: the chunks arrive first, the pointer last
    let mut live = Live::start(&bob, &alice).await;
    let report = alice.send_file(&peer(BOB), &path, &|_| {}).await.unwrap();
    let chunk_size = report.chunk_size.unwrap();
    assert!(report.events > 1);
    let events = live.until(ready).await;
    let got = saved(&events);
    assert_eq!(sha(&got), sha(&data));
    // progress was reported as "Receiving N/M"
    let n = report.events - 1;
    assert!(events.iter().any(
        |e| matches!(e, ChatEvent::Progress { received, total, .. } if *received == n && *total == n)
    ));
    assert!(chunk_size >= kez_core::MIN_CHUNK_SIZE);
    let m = bob
        .with_store(|s| s.messages(&peer(ALICE)))
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(m.state, MessageState::Ready);
    let a = m.attachment.unwrap();
    assert_eq!(
        (a.filename.as_str(), a.size),
        ("video.bin", data.len() as u64)
    );
    assert_eq!((a.received_chunks, a.total_chunks), (n, n));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pointer_before_chunks() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let d = dirs();
    let data = file(10_000, 3);
    let (chunks, pointer) = bodies(&data, 3_000, [7; 16], "early.bin");
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let mut live = Live::start(&bob, &alice).await;
    let sender = alice.pool();
    publish_body(sender, ALICE, &peer(BOB), pointer).await;
    let first = live
        .until(|e| matches!(e, ChatEvent::Progress { .. }))
        .await;
    // the pointer alone: 0 of 4 chunks, the name known
    assert!(matches!(
        first.last(),
        Some(ChatEvent::Progress { received: 0, total: 4, filename: Some(name), .. }) if name == "early.bin"
    ));
    for c in chunks.into_iter().rev() {
        publish_body(sender, ALICE, &peer(BOB), c).await;
    }
    let events = live.until(ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_restarted_mid_transfer() {
    let relays = LocalRelays::start_with(3, RelayOptions::default()).await;
    let d = dirs();
    let data = file(300_000, 4);
    let (chunks, pointer) = bodies(&data, 3_000, [8; 16], "big.bin");
    let sender = RelayPool::new(pool(&relays.urls));
    // the first half arrives while the receiver runs; it stops after a few chunks
    let half = chunks.len() / 2;
    for c in &chunks[..half] {
        publish_body(&sender, ALICE, &peer(BOB), c.clone()).await;
    }
    {
        let bob = open(BOB, &d.bob, &relays.urls, fast());
        let mut seen = 0;
        listen_until(&bob, |e| {
            if matches!(e, ChatEvent::Progress { .. }) {
                seen += 1;
            }
            seen >= 10
        })
        .await;
        let m = bob.with_store(|s| s.messages(&peer(ALICE))).unwrap();
        assert_eq!(m[0].state, MessageState::Pending);
    }
    for c in &chunks[half..] {
        publish_body(&sender, ALICE, &peer(BOB), c.clone()).await;
    }
    publish_body(&sender, ALICE, &peer(BOB), pointer).await;
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_interrupted_then_resumed() {
    let relays = LocalRelays::start_with(3, RelayOptions::default()).await;
    let d = dirs();
    let data = file(400_000, 5);
    let path = write(&d, "resume.bin", &data);
    // slow pacing so the send is still running when it is cut off
    let slow = PoolConfig {
        rate: Some(20.0),
        burst: 1,
        ..pool(&relays.urls)
    };
    {
        let alice = Chat::open(key(ALICE), &d.alice, slow.clone(), fast()).unwrap();
        let progress = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let p = progress.clone();
        let to = peer(BOB);
        let send = tokio::spawn(async move {
            alice
                .send_file(&to, &path, &move |s| {
                    p.store(s.done, std::sync::atomic::Ordering::SeqCst);
                })
                .await
        });
        tokio::time::timeout(DEADLINE, async {
            while progress.load(std::sync::atomic::Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap();
        send.abort();
        assert!(send.await.unwrap_err().is_cancelled());
    }
    // a new run of the sender finishes the transfer from its store
    let alice = Chat::open(key(ALICE), &d.alice, pool(&relays.urls), fast()).unwrap();
    let pending = alice.with_store(|s| s.outgoing_pending()).unwrap();
    assert_eq!(pending.len(), 1);
    let done = alice.resume(&|_| {}).await.unwrap();
    assert_eq!(done.len(), 1);
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_down() {
    // relays that take 256 KiB events: the largest chunks (80 KiB)
    let relays = LocalRelays::start_with(
        5,
        RelayOptions {
            nip11_max_message: Some(262_144),
            ..RelayOptions::default()
        },
    )
    .await;
    relays.stop(0);
    let d = dirs();
    let data = file(200_000, 6);
    let path = write(&d, "down.bin", &data);
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let report = alice.send_file(&peer(BOB), &path, &|_| {}).await.unwrap();
    assert_eq!(report.chunk_size, Some(81_918));
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_relays_complete_through_resend_requests() {
    // every relay accepts but silently loses every third event: only resend requests can
    // complete the file
    let relays = LocalRelays::start_with(
        2,
        RelayOptions {
            drop_every: Some(3),
            ..RelayOptions::default()
        },
    )
    .await;
    let d = dirs();
    let data = file(200_000, 7);
    let path = write(&d, "lossy.bin", &data);
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    alice.send_file(&peer(BOB), &path, &|_| {}).await.unwrap();
    // alice listens too: she answers bob's resend requests
    let alice_listens = {
        let alice = alice.clone();
        tokio::spawn(async move {
            let _ = alice
                .listen(tokio::time::sleep(DEADLINE), &mut |_| {
                    ControlFlow::Continue(())
                })
                .await;
        })
    };
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    alice_listens.abort();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ChatEvent::ResendRequested { .. }))
    );
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lossy_relay_among_five() {
    let relays = LocalRelays::start_with(
        1,
        RelayOptions {
            drop_every: Some(2),
            ..RelayOptions::default()
        },
    )
    .await;
    let good = LocalRelays::start_with(4, RelayOptions::default()).await;
    let all: Vec<String> = relays.urls.iter().chain(&good.urls).cloned().collect();
    let d = dirs();
    let data = file(150_000, 8);
    let path = write(&d, "mixed.bin", &data);
    let alice = open(ALICE, &d.alice, &all, fast());
    alice.send_file(&peer(BOB), &path, &|_| {}).await.unwrap();
    let bob = open(BOB, &d.bob, &all, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_capped_at_64_kib_get_smaller_chunks() {
    let relays = LocalRelays::start_with(
        5,
        RelayOptions {
            max_event_bytes: Some(65_536),
            nip11_max_message: Some(65_536),
            ..RelayOptions::default()
        },
    )
    .await;
    let d = dirs();
    let data = file(500_000, 9);
    let path = write(&d, "capped.bin", &data);
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let report = alice.send_file(&peer(BOB), &path, &|_| {}).await.unwrap();
    let chunk_size = report.chunk_size.unwrap();
    assert!(
        chunk_size < 40_000,
        "chunk size {chunk_size} cannot fit 64 KiB events"
    );
    assert!(
        engine::message_len(&body::chunk(
            &FileId([0; 16]),
            0,
            1,
            &vec![0; chunk_size as usize]
        )) <= 65_536
    );
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(saved(&events), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_10_mib_is_refused_before_anything_is_published() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let d = dirs();
    let path = d.files.join("huge.bin");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(u64::from(kez_core::MAX_FILE_SIZE) + 1).unwrap();
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let err = alice
        .send_file(&peer(BOB), &path, &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, ChatError::TooLarge { size } if size == 10_485_761));
    assert!(err.to_string().contains("10 MiB"), "{err}");
    // nothing stored, nothing on any relay
    assert!(alice.with_store(|s| s.conversations()).unwrap().is_empty());
    for i in 0..2 {
        assert_eq!(relays.stats(i).received, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_of_another_sender_never_join() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let d = dirs();
    let data = file(9_000, 10);
    let file_id = [9; 16];
    let (chunks, pointer) = bodies(&data, 3_000, file_id, "mine.bin");
    let sender = RelayPool::new(pool(&relays.urls));
    // mallory sends a chunk 0 with the same file id and other bytes first
    let (evil, _) = bodies(&file(9_000, 99), 3_000, file_id, "evil.bin");
    publish_body(&sender, MALLORY, &peer(BOB), evil[0].clone()).await;
    for c in chunks {
        publish_body(&sender, ALICE, &peer(BOB), c).await;
    }
    publish_body(&sender, ALICE, &peer(BOB), pointer).await;
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, |e| {
        matches!(
            e,
            ChatEvent::FileReady { .. } | ChatEvent::FileFailed { .. }
        )
    })
    .await;
    assert_eq!(saved(&events), data);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ChatEvent::FileFailed { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_duplicate_fails_with_reason() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let d = dirs();
    let data = file(9_000, 11);
    let (chunks, pointer) = bodies(&data, 3_000, [10; 16], "dup.bin");
    let (other, _) = bodies(&file(9_000, 12), 3_000, [10; 16], "dup.bin");
    let alice = open(ALICE, &d.alice, &relays.urls, fast());
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let mut live = Live::start(&bob, &alice).await;
    let sender = alice.pool();
    publish_body(sender, ALICE, &peer(BOB), chunks[0].clone()).await;
    publish_body(sender, ALICE, &peer(BOB), other[0].clone()).await;
    let events = live.until(ready).await;
    assert_eq!(failure(&events), "bad_chunk (conflict)");
    // never ready, even when the rest arrives
    for c in &chunks[1..] {
        publish_body(sender, ALICE, &peer(BOB), c.clone()).await;
    }
    publish_body(sender, ALICE, &peer(BOB), pointer).await;
    drop(live);
    let more = listen_until(&bob, |_| false);
    let _ = tokio::time::timeout(Duration::from_secs(3), more).await;
    let m = bob.with_store(|s| s.messages(&peer(ALICE))).unwrap();
    let file = m.iter().find(|m| m.attachment.is_some()).unwrap();
    assert_eq!(
        file.state,
        MessageState::Failed("bad_chunk (conflict)".to_owned())
    );
    assert!(std::fs::read_dir(d.bob.join("files")).map_or(true, |mut r| r.next().is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_mismatch_fails_and_saves_nothing() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let d = dirs();
    let data = file(9_000, 13);
    let fid = FileId([11; 16]);
    let (chunks, _) = bodies(&data, 3_000, fid.0, "x.bin");
    let lie = body::pointer(&fid, "x.bin", "text/plain", 9_000, 3_000, 3, &[0xee; 32]);
    let sender = RelayPool::new(pool(&relays.urls));
    for c in chunks {
        publish_body(&sender, ALICE, &peer(BOB), c).await;
    }
    publish_body(&sender, ALICE, &peer(BOB), lie).await;
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let events = listen_until(&bob, ready).await;
    assert_eq!(failure(&events), "hash_mismatch");
    let files = d.bob.join("files");
    let saved: Vec<_> = std::fs::read_dir(&files)
        .map(|r| r.collect())
        .unwrap_or_default();
    assert!(saved.is_empty(), "{saved:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_names_are_sanitized() {
    let relays = LocalRelays::start_with(2, RelayOptions::default()).await;
    let d = dirs();
    let sender = RelayPool::new(pool(&relays.urls));
    let names = [
        "../../x",
        "/etc/passwd",
        "a\u{0}b.txt",
        "C:\\Windows\\evil.dll",
    ];
    for name in names {
        publish_body(
            &sender,
            ALICE,
            &peer(BOB),
            body::inline(name, "text/plain", b"hi"),
        )
        .await;
    }
    // a 4 KB name is not a valid body at all (SPEC.md §16.3: at most 255 bytes): failed
    let long = format!(
        r#"{{"type":"kez-file-v1","filename":"{}","mime":"text/plain","size":2,"sha256":"{}","data":"aGk="}}"#,
        "n".repeat(4096),
        engine::hex(&sha(b"hi"))
    );
    publish_body(&sender, ALICE, &peer(BOB), long).await;
    let bob = open(BOB, &d.bob, &relays.urls, fast());
    let mut done = 0;
    let events = listen_until(&bob, |e| {
        if ready(e) {
            done += 1;
        }
        done == 5
    })
    .await;
    let files = d.bob.join("files");
    let mut saved: Vec<String> = std::fs::read_dir(&files)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    saved.sort();
    assert_eq!(saved, ["ab.txt", "evil.dll", "passwd", "x"]);
    for e in &events {
        if let ChatEvent::FileReady { path, .. } = e {
            assert_eq!(path.parent().unwrap(), files);
        }
    }
    assert!(failure(&events).starts_with("bad_body"));
    // nothing escaped the store
    assert!(!d.bob.parent().unwrap().join("x").exists());
}
