//! The relay pool (SPEC.md §16.6) against real relays on 127.0.0.1 with real-world limits:
//! size caps, rate limits, relays that are down or restart, NIP-11 documents.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kez_chat::event::Event;
use kez_chat::pool::{PoolConfig, RelayPool, Subscription};
use kez_core::{Alg, SecretKey};
use kez_testkit::nostr::{LocalRelays, RelayOptions};
use serde_json::json;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(Alg::Bip340, &[seed; 32]).unwrap()
}

fn note(key: &SecretKey, created_at: u64, content: &str) -> Event {
    Event::sign(key, created_at, 1, vec![], content.to_owned()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn config(urls: &[String]) -> PoolConfig {
    PoolConfig {
        relays: urls.to_vec(),
        timeout: Duration::from_secs(5),
        ..PoolConfig::default()
    }
}

/// The next event, failing the test if none comes within `secs`.
async fn next(sub: &mut Subscription, secs: u64) -> Event {
    tokio::time::timeout(Duration::from_secs(secs), sub.next())
        .await
        .expect("no event in time")
        .expect("subscription ended")
}

/// Nothing more arrives within `ms` (absence can only be observed by waiting).
async fn nothing_more(sub: &mut Subscription, ms: u64) {
    if let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(ms), sub.next()).await {
        panic!("unexpected event {}", event.id_hex());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_to_five_relays_counts_oks() {
    let relays = LocalRelays::start_with(5, RelayOptions::default()).await;
    let pool = RelayPool::new(config(&relays.urls));
    let sk = key(1);
    let event = note(&sk, now(), "hello");
    let published = pool.publish(&event).await;
    assert_eq!(published.id, event.id);
    assert_eq!(published.accepted.len(), 5, "{published:?}");
    assert!(published.rejected.is_empty());
    let mut accepted = published.accepted.clone();
    accepted.sort();
    let mut urls = relays.urls.clone();
    urls.sort();
    assert_eq!(accepted, urls);

    // the same event again: the relays say they have it, which counts as accepted
    let again = pool.publish(&event).await;
    assert_eq!(again.accepted.len(), 5, "{again:?}");

    // an event whose id does not match its content is refused by every relay, with its reason
    let mut forged = note(&sk, now(), "original");
    forged.content = "changed".to_owned();
    let refused = pool.publish(&forged).await;
    assert!(refused.accepted.is_empty(), "{refused:?}");
    assert_eq!(refused.rejected.len(), 5);
    for (_, reason) in &refused.rejected {
        assert!(reason.starts_with("invalid:"), "{reason}");
    }
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_is_pipelined_at_the_paced_rate() {
    let relays = LocalRelays::start_with(1, RelayOptions::default()).await;
    let pool = RelayPool::new(PoolConfig {
        rate: Some(10.0),
        burst: 5,
        ..config(&relays.urls)
    });
    assert!(pool.info().await[0].reachable);
    let sk = key(2);
    let events: Vec<Event> = (0..20)
        .map(|i| note(&sk, now(), &format!("event {i}")))
        .collect();
    let start = Instant::now();
    let results =
        futures_util::future::join_all(events.iter().map(|event| pool.publish(event))).await;
    let elapsed = start.elapsed();
    for published in &results {
        assert_eq!(published.accepted.len(), 1, "{published:?}");
    }
    // 5 at once, then 15 at 10/s: 1.5 s of pacing; one round trip per event would not fit in
    // the upper bound either way, and an unpaced pool would be far below the lower one
    assert!(elapsed >= Duration::from_millis(1300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(relays.stats(0).forwarded, 20);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_relay_is_backed_off_and_accepts_eventually() {
    // a burst of 2, then one event per second: like a strict public relay
    let relays = LocalRelays::start_with(
        1,
        RelayOptions {
            rate_limit: Some((2, 60)),
            ..RelayOptions::default()
        },
    )
    .await;
    let pool = RelayPool::new(PoolConfig {
        rate: Some(20.0),
        burst: 10,
        ..config(&relays.urls)
    });
    let sk = key(3);
    let events: Vec<Event> = (0..5).map(|i| note(&sk, now(), &format!("r{i}"))).collect();
    let start = Instant::now();
    let results = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(events.iter().map(|event| pool.publish(event))),
    )
    .await
    .expect("publishing a rate-limited relay must end");
    for published in &results {
        assert_eq!(published.accepted.len(), 1, "{published:?}");
    }
    let stats = relays.stats(0);
    assert!(stats.rate_limited > 0, "{stats:?}");
    assert_eq!(stats.forwarded, 5, "{stats:?}");
    // three events beyond the burst at one per second
    assert!(start.elapsed() >= Duration::from_millis(2500));
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_event_is_rejected_by_a_64k_relay_and_accepted_by_the_others() {
    let strict = LocalRelays::start_with(
        1,
        RelayOptions {
            max_event_bytes: Some(65_536),
            ..RelayOptions::default()
        },
    )
    .await;
    // the same cap, advertised in NIP-11: the pool does not even send it there
    let advertised = LocalRelays::start_with(
        1,
        RelayOptions {
            max_event_bytes: Some(65_536),
            nip11_max_message: Some(65_536),
            ..RelayOptions::default()
        },
    )
    .await;
    let open = LocalRelays::start_with(3, RelayOptions::default()).await;
    let mut urls = strict.urls.clone();
    urls.extend(advertised.urls.iter().cloned());
    urls.extend(open.urls.iter().cloned());
    let pool = RelayPool::new(config(&urls));
    pool.info().await;
    let sk = key(4);

    let big = note(&sk, now(), &"x".repeat(70_000));
    let published = pool.publish(&big).await;
    assert_eq!(published.accepted.len(), 3, "{published:?}");
    assert_eq!(published.rejected.len(), 2);
    let reason = |url: &str| {
        published
            .rejected
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, r)| r.clone())
            .unwrap()
    };
    assert!(
        reason(&strict.urls[0]).starts_with("invalid: event too large"),
        "{published:?}"
    );
    assert!(
        reason(&advertised.urls[0]).starts_with("too large for this relay"),
        "{published:?}"
    );
    assert_eq!(advertised.stats(0).received, 0);

    // an event under the cap goes everywhere
    let small = note(&sk, now(), &"y".repeat(60_000));
    assert_eq!(pool.publish(&small).await.accepted.len(), 5);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_never_answers_is_rejected_after_the_timeout_with_its_notice() {
    // nostr-rs-relay's way with oversize events: a NOTICE and no OK
    let relays = LocalRelays::start_with(
        1,
        RelayOptions {
            max_event_bytes: Some(1000),
            silent_oversize: true,
            ..RelayOptions::default()
        },
    )
    .await;
    let pool = RelayPool::new(PoolConfig {
        timeout: Duration::from_millis(800),
        ..config(&relays.urls)
    });
    let sk = key(10);
    // an event under the cap is answered; one over it gets the NOTICE as its reason
    assert_eq!(
        pool.publish(&note(&sk, now(), "ok")).await.accepted.len(),
        1
    );
    let start = Instant::now();
    let published = pool.publish(&note(&sk, now(), &"z".repeat(2000))).await;
    assert!(start.elapsed() >= Duration::from_millis(750));
    assert_eq!(published.rejected.len(), 1, "{published:?}");
    let reason = &published.rejected[0].1;
    assert!(reason.starts_with("no OK within 800 ms"), "{reason}");
    assert!(reason.contains("last NOTICE \"event too large"), "{reason}");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_is_down_does_not_block_the_others() {
    let relays = LocalRelays::start_with(5, RelayOptions::default()).await;
    relays.stop(2);
    let pool = RelayPool::new(config(&relays.urls));
    let sk = key(5);
    let start = Instant::now();
    let published = pool.publish(&note(&sk, now(), "one down")).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(published.accepted.len(), 4, "{published:?}");
    assert_eq!(published.rejected.len(), 1);
    assert_eq!(published.rejected[0].0, relays.urls[2]);
    assert!(
        published.rejected[0].1.starts_with("unreachable:"),
        "{published:?}"
    );

    // a relay that goes down while the pool is connected
    relays.stop(4);
    let published = pool.publish(&note(&sk, now(), "two down")).await;
    assert_eq!(published.accepted.len(), 3, "{published:?}");
    let info = pool.info().await;
    assert!(!info[2].reachable && info[4].reachable);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_delivers_each_event_once_from_five_relays() {
    let relays = LocalRelays::start_with(5, RelayOptions::default()).await;
    let pool = RelayPool::new(config(&relays.urls));
    let sk = key(6);
    let author = hex(sk.public().as_bytes());
    let mut sub = pool.subscribe(json!({ "authors": [author] })).await;

    // one event stored before the subscription ran everywhere, two live
    let stored = note(&sk, now(), "a");
    assert_eq!(pool.publish(&stored).await.accepted.len(), 5);
    let mut got = vec![next(&mut sub, 10).await.id];
    for content in ["b", "c"] {
        let event = note(&sk, now(), content);
        assert_eq!(pool.publish(&event).await.accepted.len(), 5);
    }
    got.push(next(&mut sub, 10).await.id);
    got.push(next(&mut sub, 10).await.id);
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 3);
    nothing_more(&mut sub, 1500).await;
    assert_eq!(sub.eose_count(), 5);
    assert_eq!(sub.invalid_count(), 0);
    pool.shutdown().await;
    // the relay tasks are gone: the subscription ends
    assert!(sub.next().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_resumes_after_the_relay_restarts() {
    let relays = LocalRelays::start_with(1, RelayOptions::default()).await;
    let listener = RelayPool::new(config(&relays.urls));
    let sender = RelayPool::new(config(&relays.urls));
    let sk = key(7);
    let author = hex(sk.public().as_bytes());
    let mut sub = listener.subscribe(json!({ "authors": [author] })).await;

    let first = note(&sk, now(), "before");
    assert_eq!(sender.publish(&first).await.accepted.len(), 1);
    assert_eq!(next(&mut sub, 10).await.id, first.id);

    relays.stop(0);
    relays.restart(0).await;

    // published after the restart: one now, one backdated by a day as gift wraps are
    let live = note(&sk, now(), "after");
    let backdated = note(&sk, now() - 24 * 60 * 60, "backdated");
    for event in [&live, &backdated] {
        let published = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let published = sender.publish(event).await;
                if !published.accepted.is_empty() {
                    break published;
                }
                // the sender's own connection is coming back: its next attempt is due soon
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await
        .expect("the restarted relay accepts again");
        assert_eq!(published.accepted.len(), 1);
    }
    let mut got = vec![next(&mut sub, 20).await.id, next(&mut sub, 20).await.id];
    got.sort_unstable();
    let mut want = vec![live.id, backdated.id];
    want.sort_unstable();
    assert_eq!(got, want);
    // the first event came again with the resumed request and was dropped as seen
    nothing_more(&mut sub, 1500).await;
    assert!(sub.eose_count() >= 2, "{}", sub.eose_count());
    listener.shutdown().await;
    sender.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nip11_limits_are_read() {
    let strfry_like = LocalRelays::start_with(
        2,
        RelayOptions {
            nip11_max_message: Some(65_536),
            ..RelayOptions::default()
        },
    )
    .await;
    let larger = LocalRelays::start_with(
        1,
        RelayOptions {
            nip11_max_message: Some(131_072),
            ..RelayOptions::default()
        },
    )
    .await;
    let silent = LocalRelays::start_with(1, RelayOptions::default()).await;
    let mut urls = strfry_like.urls.clone();
    urls.extend(larger.urls.iter().cloned());
    urls.extend(silent.urls.iter().cloned());
    urls.push("ws://127.0.0.1:1".to_owned());
    let pool = RelayPool::new(PoolConfig {
        default_max_event: 200_000,
        ..config(&urls)
    });
    let info = pool.info().await;
    assert_eq!(info.len(), 5);
    for (info, url) in info.iter().zip(&urls) {
        assert_eq!(&info.url, url);
    }
    assert_eq!(info[0].max_message_length, Some(65_536));
    assert_eq!(info[0].name.as_deref(), Some("kez-testkit relay 0"));
    assert_eq!(info[2].max_message_length, Some(131_072));
    assert_eq!(info[3].max_message_length, None);
    assert!(info[3].name.is_some());
    assert!(info[..4].iter().all(|i| i.reachable));
    assert!(!info[4].reachable);
    assert_eq!(info[4].name, None);
    // the smallest advertised limit less the EVENT framing; the silent relay's default is larger
    assert_eq!(pool.max_event_len().await, 65_536 - 10);

    // only unreachable or silent relays: the default
    let pool2 = RelayPool::new(PoolConfig {
        default_max_event: 70_000,
        ..config(&[silent.urls[0].clone(), "ws://127.0.0.1:1".to_owned()])
    });
    assert_eq!(pool2.max_event_len().await, 70_000);
    pool.shutdown().await;
    pool2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_relay_says_ok_and_keeps_only_some() {
    let relays = LocalRelays::start_with(
        1,
        RelayOptions {
            drop_every: Some(2),
            ..RelayOptions::default()
        },
    )
    .await;
    let pool = RelayPool::new(config(&relays.urls));
    let sk = key(8);
    let author = hex(sk.public().as_bytes());
    for i in 0..4 {
        let published = pool.publish(&note(&sk, now(), &format!("l{i}"))).await;
        assert_eq!(published.accepted.len(), 1);
    }
    let mut sub = pool.subscribe(json!({ "authors": [author] })).await;
    next(&mut sub, 10).await;
    next(&mut sub, 10).await;
    nothing_more(&mut sub, 1000).await;
    assert_eq!(relays.stats(0).dropped, 2);
    pool.shutdown().await;
}

#[tokio::test]
async fn a_pool_without_relays_or_with_bad_urls_answers_at_once() {
    let empty = RelayPool::new(PoolConfig::default());
    let sk = key(9);
    let event = note(&sk, now(), "nowhere");
    let published = empty.publish(&event).await;
    assert!(published.accepted.is_empty() && published.rejected.is_empty());
    assert_eq!(empty.max_event_len().await, 65_536);

    let bad = RelayPool::new(config(&["http://127.0.0.1:1".to_owned()]));
    let published = bad.publish(&event).await;
    assert_eq!(published.rejected.len(), 1);
    assert!(
        published.rejected[0]
            .1
            .contains("not a ws:// or wss:// URL"),
        "{published:?}"
    );
    empty.shutdown().await;
    bad.shutdown().await;
}
