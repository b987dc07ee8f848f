//! The `nostr` channel's harness and its own cases (SPEC.md §15.4): real relays in the test
//! process (rust-nostr's `LocalRelay`, in-memory), events built and signed by the `nostr` crate,
//! and a raw WebSocket relay for canned and misbehaving answers.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use kez_channels::{Config, Credentials, Publication, PublishError, ToPublish, publish, verify_id};
use kez_core::{Alg, SecretKey, Status, decode_any};
use nostr_relay_builder::prelude::{
    Event as NostrEvent, EventBuilder, JsonUtil as _, Keys, Kind, LocalRelay, MemoryDatabase,
    MemoryDatabaseOptions, NostrDatabase as _, RelayBuilder, Tag, Timestamp,
};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;
use crate::suite::*;

/// The account's nostr secret key; `SUBJECT` is its npub.
const ACCOUNT: [u8; 32] = [0x11; 32];
/// Another account's nostr secret key.
const MALLORY: [u8; 32] = [0x22; 32];
const SUBJECT: &str = "nostr:npub1fu64hh9hes90w2808n8tjc2ajp5yhddjef0ctx4s7zmsgp6cwx4qgy4eg9";

fn nostr_keys(secret: &[u8; 32]) -> Keys {
    Keys::new(nostr_relay_builder::prelude::SecretKey::from_slice(secret).unwrap())
}

fn kez_nostr_key(secret: &[u8; 32]) -> SecretKey {
    SecretKey::from_bytes(Alg::Bip340, secret).unwrap()
}

/// The `d` tag of a proof: `kez-proof:` and the claim's key, or a made-up suffix for a text that
/// is not a claim.
fn d_tag(text: &str, fallback: usize) -> String {
    let key = decode_any(text.as_bytes())
        .ok()
        .and_then(|(_, json)| {
            kez_core::verify_json(&json, 0)
                .ok()
                .map(|(c, _)| c.key().to_string())
        })
        .unwrap_or_else(|| format!("test-{fallback}"));
    format!("kez-proof:{key}")
}

/// A kind-30078 proof event, built and signed by the `nostr` crate.
fn proof_event(secret: &[u8; 32], d: &str, text: &str, created_at: u64) -> NostrEvent {
    EventBuilder::new(Kind::Custom(30078), text)
        .tag(Tag::identifier(d))
        .custom_created_at(Timestamp::from(created_at))
        .sign_with_keys(&nostr_keys(secret))
        .unwrap()
}

/// Events that are not proofs of the account: a text note and another application's data by
/// the account, a proof by another account (which the relay's author filter leaves out).
fn unrelated_events() -> Vec<NostrEvent> {
    let keys = nostr_keys(&ACCOUNT);
    vec![
        EventBuilder::text_note("hello")
            .custom_created_at(Timestamp::from(IAT))
            .sign_with_keys(&keys)
            .unwrap(),
        EventBuilder::new(Kind::Custom(30078), "{\"theme\":\"dark\"}")
            .tag(Tag::identifier("some-app/settings"))
            .custom_created_at(Timestamp::from(IAT))
            .sign_with_keys(&keys)
            .unwrap(),
        proof_event(&MALLORY, "kez-proof:x", &claim(&key(1), SUBJECT, None), IAT),
    ]
}

/// A running `LocalRelay` holding `events`; stopped when dropped.
async fn local_relay(events: &[NostrEvent]) -> (String, LocalRelay) {
    let db = MemoryDatabase::with_opts(MemoryDatabaseOptions {
        events: true,
        max_events: Some(1000),
    });
    for event in events {
        db.save_event(event).await.unwrap();
    }
    let relay = LocalRelay::new(RelayBuilder::default().database(db));
    relay.run().await.unwrap();
    let url = relay.url().await.to_string();
    (url, relay)
}

/// A raw relay's task, stopped when dropped.
struct RawTask(tokio::task::JoinHandle<()>);

impl Drop for RawTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the raw relay answers to each client message (a parsed JSON array).
type Script = Arc<dyn Fn(&[Value]) -> Vec<Message> + Send + Sync>;

/// A WebSocket server answering each text message with `script`'s messages.
async fn raw_relay(script: Script) -> (String, RawTask) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let script = Arc::clone(&script);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let Ok(Value::Array(items)) = serde_json::from_str(text.as_str()) else {
                        continue;
                    };
                    for reply in script(&items) {
                        if ws.send(reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, RawTask(task))
}

/// A raw relay answering every `REQ` with `events` (whatever the filter), then `EOSE`.
async fn relay_with(events: Vec<NostrEvent>) -> (String, RawTask) {
    raw_relay(Arc::new(move |msg: &[Value]| {
        let Some(sub) = req_sub(msg) else {
            return Vec::new();
        };
        events
            .iter()
            .map(|e| text(format!("[\"EVENT\",\"{sub}\",{}]", e.as_json())))
            .chain([text(format!("[\"EOSE\",\"{sub}\"]"))])
            .collect()
    }))
    .await
}

/// A raw relay answering every `REQ` with one canned message (`{sub}` is replaced).
async fn relay_saying(canned: String) -> (String, RawTask) {
    raw_relay(Arc::new(move |msg: &[Value]| match req_sub(msg) {
        Some(sub) => vec![text(canned.replace("{sub}", &sub))],
        None => Vec::new(),
    }))
    .await
}

fn req_sub(msg: &[Value]) -> Option<String> {
    (msg.first()?.as_str()? == "REQ").then(|| msg.get(1)?.as_str().map(str::to_owned))?
}

fn text(s: String) -> Message {
    Message::text(s)
}

/// An HTTP server answering the WebSocket upgrade request with `reply`.
async fn http_relay(reply: Reply) -> (String, HttpServer) {
    let server = HttpServer::start().await;
    server.route("/", reply);
    let url = server.base.replace("http://", "ws://");
    (url, server)
}

fn config_with(relays: Vec<String>) -> Config {
    Config {
        relays,
        ..base_config()
    }
}

struct NostrHarness;

impl Harness for NostrHarness {
    const SUBJECT: &'static str = SUBJECT;

    async fn start(setup: Setup) -> Running {
        let mut guards: Vec<Box<dyn Any + Send>> = Vec::new();
        let url = match setup {
            Setup::Publish(proofs) if proofs.iter().all(|p| p.owner.is_none()) => {
                let events: Vec<NostrEvent> = proofs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| proof_event(&ACCOUNT, &d_tag(&p.text, i), &p.text, IAT))
                    .collect();
                let (url, relay) = local_relay(&events).await;
                guards.push(Box::new(relay));
                url
            }
            // another account's event can only come from a relay that ignores the author
            // filter
            Setup::Publish(proofs) => {
                let events = proofs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let secret = if p.owner.is_some() {
                            &MALLORY
                        } else {
                            &ACCOUNT
                        };
                        proof_event(secret, &d_tag(&p.text, i), &p.text, IAT)
                    })
                    .collect();
                let (url, task) = relay_with(events).await;
                guards.push(Box::new(task));
                url
            }
            Setup::Empty => {
                let (url, relay) = local_relay(&unrelated_events()).await;
                guards.push(Box::new(relay));
                url
            }
            Setup::Refused => format!("ws://{}", refused_addr().await),
            Setup::Silent => {
                let (base, task) = silent_http().await;
                guards.push(Box::new(task));
                base.replace("http://", "ws://")
            }
            Setup::ServerError => {
                let (url, server) =
                    http_relay(Reply::new(500, "<html>Internal Server Error</html>")).await;
                guards.push(Box::new(server));
                url
            }
            Setup::RateLimited => {
                let (url, task) =
                    relay_saying(r#"["CLOSED","{sub}","rate-limited: slow down"]"#.to_owned())
                        .await;
                guards.push(Box::new(task));
                url
            }
            Setup::Malformed(Bad::TruncatedJson) => {
                let event = proof_event(&ACCOUNT, "kez-proof:x", "kez:z1:abc", IAT).as_json();
                let full = format!("[\"EVENT\",\"{{sub}}\",{event}]");
                let (url, task) = relay_saying(full[..full.len() / 2].to_owned()).await;
                guards.push(Box::new(task));
                url
            }
            Setup::Malformed(Bad::Html) => {
                let (url, server) = http_relay(
                    Reply::new(200, "<!DOCTYPE html><html><body>relay</body></html>")
                        .header("content-type", "text/html"),
                )
                .await;
                guards.push(Box::new(server));
                url
            }
            Setup::Malformed(Bad::Huge) => {
                let huge = format!("[\"NOTICE\",\"{}\"]", "x".repeat(10 << 20));
                let (url, task) = relay_saying(huge).await;
                guards.push(Box::new(task));
                url
            }
        };
        Running {
            config: config_with(vec![url]),
            _guards: guards,
        }
    }

    fn other_account(key: &SecretKey) -> Vec<Published> {
        vec![Published {
            text: claim(key, SUBJECT, None),
            owner: Some("mallory"),
        }]
    }
}

crate::channel_suite!(nostr, NostrHarness);

async fn verify(config: &Config) -> kez_channels::Report {
    verify_id(config, SUBJECT, NOW, None, None).await.unwrap()
}

#[test]
fn subject_is_the_account_npub() {
    assert_eq!(kez_nostr_key(&ACCOUNT).public().to_string(), SUBJECT);
    assert_eq!(
        nostr_keys(&ACCOUNT).public_key().to_hex(),
        kez_channels_hex(kez_nostr_key(&ACCOUNT).public().as_bytes())
    );
}

fn kez_channels_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn nostr_one_relay_down_still_valid() {
    let good = proof_event(&ACCOUNT, "kez-proof:a", &claim(&key(1), SUBJECT, None), IAT);
    let (url, _relay) = local_relay(&[good]).await;
    let down = format!("ws://{}", refused_addr().await);
    let report = verify(&config_with(vec![down, url])).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn nostr_garbage_relay_loses_to_a_proper_one() {
    let (garbage, _g) = relay_saying("<html>".to_owned()).await;
    let (empty, _e) = local_relay(&unrelated_events()).await;
    let report = verify(&config_with(vec![garbage.clone(), empty])).await;
    assert_status(&report, Status::NotFound, "1 of 2 relays that answered");

    let good = proof_event(&ACCOUNT, "kez-proof:a", &claim(&key(1), SUBJECT, None), IAT);
    let (url, _relay) = local_relay(&[good]).await;
    let report = verify(&config_with(vec![garbage, url])).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn nostr_all_relays_down_lists_each_reason() {
    let refused = format!("ws://{}", refused_addr().await);
    let (limited, _l) = http_relay(Reply::new(429, "slow down").header("retry-after", "30")).await;
    let report = verify(&config_with(vec![refused.clone(), limited.clone()])).await;
    assert_status(
        &report,
        Status::Unreachable,
        "rate limited (HTTP 429, retry after 30)",
    );
    assert!(report.reason.contains(&refused), "{}", report.reason);
    assert!(report.reason.contains(&limited), "{}", report.reason);
    assert!(
        report.reason.contains("cannot connect"),
        "{}",
        report.reason
    );
}

#[tokio::test]
async fn nostr_duplicates_across_relays_count_once() {
    let event = proof_event(&ACCOUNT, "kez-proof:a", &claim(&key(1), SUBJECT, None), IAT);
    let (a, _a) = local_relay(std::slice::from_ref(&event)).await;
    let (b, _b) = local_relay(&[event]).await;
    let report = verify(&config_with(vec![a, b])).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(report.proofs.len(), 1);
}

#[tokio::test]
async fn nostr_newer_event_replaces_older_with_same_d() {
    let d = d_tag(&claim(&key(1), SUBJECT, None), 0);
    let old = proof_event(&ACCOUNT, &d, &claim(&key(1), SUBJECT, Some(NOW)), IAT);
    let new = proof_event(&ACCOUNT, &d, &claim(&key(1), SUBJECT, None), IAT + 10);
    // each relay holds one of them (a relay itself would keep only the newer)
    let (a, _a) = local_relay(std::slice::from_ref(&old)).await;
    let (b, _b) = local_relay(std::slice::from_ref(&new)).await;
    let report = verify(&config_with(vec![a.clone(), b.clone()])).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert!(report.proofs[0].location.contains(&new.id.to_hex()));

    // the newer one wins even when it is the worse proof
    let old = proof_event(&ACCOUNT, &d, &claim(&key(1), SUBJECT, None), IAT);
    let new = proof_event(&ACCOUNT, &d, &claim(&key(1), SUBJECT, Some(NOW)), IAT + 10);
    let (a, _a) = relay_with(vec![old.clone(), new]).await;
    let (b, _b) = relay_with(vec![old]).await;
    let report = verify(&config_with(vec![a, b])).await;
    assert_status(&report, Status::Expired, "expired");
    assert_eq!(report.proofs.len(), 1);

    // different d tags are different proofs
    let one = proof_event(
        &ACCOUNT,
        "kez-proof:one",
        &claim(&key(1), SUBJECT, None),
        IAT,
    );
    let two = proof_event(
        &ACCOUNT,
        "kez-proof:two",
        &claim(&key(2), SUBJECT, None),
        IAT,
    );
    let (a, _a) = local_relay(&[one, two]).await;
    let report = verify(&config_with(vec![a])).await;
    assert_status(&report, Status::Valid, "2 of 2 proofs valid");
}

/// `event` as JSON with `member` replaced.
fn tampered(event: &NostrEvent, member: &str, value: Value) -> Value {
    let mut json: Value = serde_json::from_str(&event.as_json()).unwrap();
    json[member] = value;
    json
}

async fn relay_with_json(events: Vec<Value>) -> (String, RawTask) {
    raw_relay(Arc::new(move |msg: &[Value]| {
        let Some(sub) = req_sub(msg) else {
            return Vec::new();
        };
        events
            .iter()
            .map(|e| text(serde_json::json!(["EVENT", sub, e]).to_string()))
            .chain([text(format!("[\"EOSE\",\"{sub}\"]"))])
            .collect()
    }))
    .await
}

#[tokio::test]
async fn nostr_forged_events_are_dropped() {
    let event = proof_event(&ACCOUNT, "kez-proof:a", &claim(&key(1), SUBJECT, None), IAT);
    // another claim under the original id and signature
    let forged_content = tampered(
        &event,
        "content",
        Value::String(claim(&key(2), SUBJECT, None)),
    );
    // the right id, someone else's signature
    let other = proof_event(&MALLORY, "kez-proof:a", "x", IAT);
    let bad_sig = tampered(&event, "sig", Value::String(other.sig.to_string()));
    // a consistent id and signature, but over another author (the signature is by mallory)
    let wrong_author = tampered(
        &other,
        "pubkey",
        Value::String(nostr_keys(&ACCOUNT).public_key().to_hex()),
    );
    let (url, _t) = relay_with_json(vec![forged_content, bad_sig, wrong_author]).await;
    let report = verify(&config_with(vec![url.clone()])).await;
    assert_status(
        &report,
        Status::NotFound,
        "3 events dropped (malformed, or id or signature does not verify)",
    );

    // beside a good event, the forged ones change nothing
    let good = serde_json::from_str(&event.as_json()).unwrap();
    let forged = tampered(&event, "created_at", Value::from(IAT + 1));
    let (url, _t) = relay_with_json(vec![forged, good]).await;
    let report = verify(&config_with(vec![url])).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn nostr_crate_events_with_escapes_verify() {
    // a Markdown proof whose text needs every escape of the serialization (SPEC.md §15.4)
    let compact = claim(&key(1), SUBJECT, None);
    let text = format!(
        "Proof \"quoted\" back\\slash\ttab\r\n\u{8}\u{c}\u{1}\u{1f}\u{7f} é ∑ 😀 \u{2028} </script>\n\n```kez\n{compact}\n```\n"
    );
    let event = proof_event(&ACCOUNT, "kez-proof:md", &text, IAT);
    let (url, _relay) = local_relay(&[event]).await;
    let report = verify(&config_with(vec![url])).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn nostr_ignores_unrelated_events_from_a_careless_relay() {
    // a relay that ignores the filter: another kind, another application's d tag
    let (url, _t) = relay_with(unrelated_events()[..2].to_vec()).await;
    let report = verify(&config_with(vec![url])).await;
    assert_status(&report, Status::NotFound, "no kez proof event");
    assert!(!report.reason.contains("dropped"), "{}", report.reason);
}

#[tokio::test]
async fn nostr_closed_without_refusal_is_an_answer() {
    let (url, _t) = relay_saying(r#"["CLOSED","{sub}","unsupported: filter"]"#.to_owned()).await;
    let report = verify(&config_with(vec![url])).await;
    assert_status(&report, Status::NotFound, "1 of 1 relays that answered");
    for refusal in [
        "error: db down",
        "auth-required: sign in",
        "restricted: paid",
    ] {
        let (url, _t) = relay_saying(format!(r#"["CLOSED","{{sub}}","{refusal}"]"#)).await;
        let report = verify(&config_with(vec![url])).await;
        assert_status(&report, Status::Unreachable, refusal);
    }
}

#[tokio::test]
async fn nostr_no_eose_is_unreachable_in_time() {
    // handshakes, then never answers the REQ
    let (url, _t) = raw_relay(Arc::new(|_: &[Value]| Vec::new())).await;
    let start = Instant::now();
    let report = verify(&config_with(vec![url])).await;
    assert_status(&report, Status::Unreachable, "no EOSE within");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn nostr_binary_and_bad_urls_are_unreachable() {
    let (url, _t) = raw_relay(Arc::new(|_: &[Value]| vec![Message::binary(vec![1, 2, 3])])).await;
    let report = verify(&config_with(vec![url, "https://relay.example".to_owned()])).await;
    assert_status(&report, Status::Unreachable, "binary frame");
    assert!(
        report.reason.contains("not a ws:// or wss:// URL"),
        "{}",
        report.reason
    );
    let report = verify(&config_with(Vec::new())).await;
    assert_status(&report, Status::Unreachable, "no nostr relays configured");
}

#[tokio::test]
async fn nostr_wss_needs_tls() {
    // a plain HTTP server behind a wss:// URL: the TLS handshake fails, nothing panics
    let (url, _server) = http_relay(Reply::new(200, "hello")).await;
    let report = verify(&config_with(vec![url.replace("ws://", "wss://")])).await;
    assert_status(&report, Status::Unreachable, "corrupt message");
}

#[tokio::test]
async fn nostr_offline_asks_nothing() {
    let (url, _relay) = local_relay(&[]).await;
    let config = Config {
        offline: true,
        ..config_with(vec![url])
    };
    let report = verify(&config).await;
    assert_status(&report, Status::Unreachable, "offline");
}

#[tokio::test]
async fn nostr_request_is_the_documented_filter() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let (url, _t) = raw_relay(Arc::new(move |msg: &[Value]| {
        log.lock().unwrap().push(Value::Array(msg.to_vec()));
        match req_sub(msg) {
            Some(sub) => vec![text(format!("[\"EOSE\",\"{sub}\"]"))],
            None => Vec::new(),
        }
    }))
    .await;
    let report = verify(&config_with(vec![url])).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    // the CLOSE may still be on its way
    for _ in 0..50 {
        if seen.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let pubkey = nostr_keys(&ACCOUNT).public_key().to_hex();
    assert_eq!(
        seen[0],
        serde_json::json!(["REQ", "kez", {"authors": [pubkey], "kinds": [30078], "limit": 100}])
    );
    assert_eq!(seen.get(1), Some(&serde_json::json!(["CLOSE", "kez"])));
}

// ---------------------------------------------------------------------------------------------
// publishing
// ---------------------------------------------------------------------------------------------

fn to_publish(claim_key: &SecretKey) -> ToPublish {
    let (_, json) = decode_any(claim(claim_key, SUBJECT, None).as_bytes()).unwrap();
    ToPublish::new(std::str::from_utf8(&json).unwrap()).unwrap()
}

fn signer(secret: &[u8; 32]) -> Credentials {
    Credentials {
        nostr_key: Some(kez_nostr_key(secret)),
        ..Credentials::default()
    }
}

#[tokio::test]
async fn nostr_publish_then_verify() {
    let (a, _a) = local_relay(&[]).await;
    let (b, _b) = local_relay(&[]).await;
    let config = config_with(vec![a, b]);
    let published = publish(&config, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(1)))
        .await
        .unwrap();
    let Publication::Posted { location, detail } = published else {
        panic!("{published:?}")
    };
    assert!(
        location.starts_with("nostr:") && location.len() == 6 + 64,
        "{location}"
    );
    assert!(detail.starts_with("accepted by 2 of 2 relays"), "{detail}");
    // the relays (rust-nostr) checked our id and signature; and so does the channel
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert!(
        report.proofs[0]
            .location
            .contains(&location["nostr:".len()..])
    );

    // publishing again replaces the event (same d tag): still one proof
    tokio::time::sleep(Duration::from_millis(1100)).await;
    publish(&config, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(1)))
        .await
        .unwrap();
    let report = verify(&config).await;
    assert_eq!(report.proofs.len(), 1, "{report:#?}");
    // another claim key is another proof
    publish(&config, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(2)))
        .await
        .unwrap();
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "2 of 2 proofs valid");
}

#[tokio::test]
async fn nostr_publish_needs_the_account_key() {
    let (a, _a) = local_relay(&[]).await;
    let config = config_with(vec![a]);
    let proof = to_publish(&key(1));
    let err = publish(&config, &Credentials::default(), SUBJECT, &proof)
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::MissingCredential(_)), "{err:?}");
    let err = publish(&config, &signer(&MALLORY), SUBJECT, &proof)
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Rejected(_)), "{err:?}");
    // an ed25519 key is not a nostr key, even the claim's own
    let ed = Credentials {
        nostr_key: Some(key(1)),
        ..Credentials::default()
    };
    let err = publish(&config, &ed, SUBJECT, &proof).await.unwrap_err();
    assert!(matches!(err, PublishError::Rejected(_)), "{err:?}");
    // nothing was published
    let report = verify(&config).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
}

#[tokio::test]
async fn nostr_publish_with_one_relay_down() {
    let (a, _a) = local_relay(&[]).await;
    let down = format!("ws://{}", refused_addr().await);
    let config = config_with(vec![down.clone(), a]);
    let published = publish(&config, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(1)))
        .await
        .unwrap();
    let Publication::Posted { detail, .. } = published else {
        panic!("{published:?}")
    };
    assert!(detail.starts_with("accepted by 1 of 2 relays"), "{detail}");
    assert!(
        detail.contains(&format!("no answer from {down}")),
        "{detail}"
    );
}

#[tokio::test]
async fn nostr_publish_refused_or_unanswered() {
    let refusing = |msg: &[Value]| -> Vec<Message> {
        let id = msg
            .get(1)
            .and_then(|e| e.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if msg.first().and_then(Value::as_str) == Some("EVENT") {
            vec![text(
                serde_json::json!(["OK", id, false, "blocked: not on the allow list"]).to_string(),
            )]
        } else {
            Vec::new()
        }
    };
    let (r, _r) = raw_relay(Arc::new(refusing)).await;
    let down = format!("ws://{}", refused_addr().await);
    let config = config_with(vec![r, down.clone()]);
    let err = publish(&config, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(1)))
        .await
        .unwrap_err();
    let PublishError::Rejected(reason) = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("blocked: not on the allow list"),
        "{reason}"
    );

    let config = config_with(vec![down]);
    let err = publish(&config, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Unreachable(_)), "{err:?}");
    let offline = Config {
        offline: true,
        ..config_with(vec!["ws://127.0.0.1:9".to_owned()])
    };
    let err = publish(&offline, &signer(&ACCOUNT), SUBJECT, &to_publish(&key(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Unreachable(_)), "{err:?}");
}
