//! SPEC.md §16.5: gift wrapping (rumor, seal, wrap), the unwrap checks in their order, the
//! wire sizes, and interop with another NIP-17 implementation (the `nostr` crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use kez_chat::body;
use kez_chat::event::{Event, EventError, hex, json_string_len};
use kez_chat::wrap::{
    BACKDATE_WINDOW, KIND_DM, KIND_FILE_BODY, KIND_GIFT_WRAP, KIND_SEAL, Rumor, UnwrapError,
    WrapError, max_body_len, short_form_max_body_len, unwrap, wrap, wrap_with, wrapped_len,
};
use kez_core::nip44::{self, ConversationKey};
use kez_core::{Alg, FileId, MAX_CHUNKS, SecretKey};
use sha2::{Digest as _, Sha256};

const NOW: u64 = 1_764_115_200;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(Alg::Bip340, &[byte; 32]).unwrap()
}

fn pk(key: &SecretKey) -> [u8; 32] {
    *key.public().as_bytes()
}

/// A deterministic byte source: SHA-256 of (seed, counter) blocks.
fn seeded(seed: u8) -> impl FnMut(&mut [u8]) {
    let mut counter = 0u64;
    move |buf: &mut [u8]| {
        for piece in buf.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update([seed]);
            h.update(counter.to_be_bytes());
            counter += 1;
            piece.copy_from_slice(&h.finalize()[..piece.len()]);
        }
    }
}

/// Encrypts `plaintext` as a NIP-44 envelope from `from` to `to`.
fn seal_text(from: &SecretKey, to: &[u8; 32], plaintext: &str) -> String {
    let ck = ConversationKey::derive(&from.secret_bytes(), to).unwrap();
    let mut out = vec![0u8; nip44::payload_b64_len(plaintext.len())];
    nip44::encrypt_base64(&ck, &[7; 32], plaintext.as_bytes(), &mut out)
        .unwrap()
        .to_owned()
}

/// A wrap built step by step, so tests can break any one step: `rumor_json` sealed by
/// `sealer` (kind `seal_kind`), wrapped by a one-time key for `recipient`.
fn hand_wrap(sealer: &SecretKey, recipient: &[u8; 32], rumor_json: &str, seal_kind: u32) -> Event {
    let seal = Event::sign(
        sealer,
        NOW - 100,
        seal_kind,
        vec![],
        seal_text(sealer, recipient, rumor_json),
    )
    .unwrap();
    wrap_seal_json(recipient, &seal.to_json())
}

fn wrap_seal_json(recipient: &[u8; 32], seal_json: &str) -> Event {
    let one_time = key(0x77);
    Event::sign(
        &one_time,
        NOW - 200,
        KIND_GIFT_WRAP,
        vec![vec!["p".into(), hex(recipient)]],
        seal_text(&one_time, recipient, seal_json),
    )
    .unwrap()
}

/// An event as a relay would deliver it: JSON text, parsed and checked.
fn over_the_wire(event: &Event) -> Event {
    let value: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
    Event::from_value(&value).unwrap()
}

#[test]
fn text_message_round_trip() {
    let (alice, bob) = (key(1), key(2));
    let rumor = Rumor::new(
        &pk(&alice),
        &pk(&bob),
        KIND_DM,
        "hello \"bob\" ✓\n".into(),
        NOW,
    );
    assert_eq!(rumor.tags, vec![vec!["p".to_owned(), hex(&pk(&bob))]]);
    let wrapped = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();

    assert_eq!(wrapped.kind, KIND_GIFT_WRAP);
    assert_eq!(wrapped.tags, vec![vec!["p".to_owned(), hex(&pk(&bob))]]);
    assert_ne!(
        wrapped.pubkey,
        pk(&alice),
        "the wrap is signed by a one-time key"
    );
    assert!(wrapped.created_at <= NOW && wrapped.created_at > NOW - BACKDATE_WINDOW);
    assert!(!wrapped.content.contains("hello"));

    let got = unwrap(&bob, &over_the_wire(&wrapped)).unwrap();
    assert_eq!(got.sender, pk(&alice));
    assert_eq!(got.rumor, rumor);
    assert_eq!(got.wrap_id, wrapped.id);

    // only bob can read it
    assert_eq!(unwrap(&alice, &wrapped), Err(UnwrapError::NotForMe));
    assert_eq!(unwrap(&key(3), &wrapped), Err(UnwrapError::NotForMe));
}

#[test]
fn every_wrap_is_fresh() {
    let (alice, bob) = (key(1), key(2));
    let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, "same".into(), NOW);
    let a = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();
    let b = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();
    assert_ne!(a.pubkey, b.pubkey);
    assert_ne!(a.content, b.content);
    assert_eq!(
        unwrap(&bob, &a).unwrap().rumor,
        unwrap(&bob, &b).unwrap().rumor
    );
}

#[test]
fn deterministic_with_a_byte_source() {
    let (alice, bob) = (key(1), key(2));
    let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, "vector".into(), NOW);
    let a = wrap_with(&alice, &pk(&bob), &rumor, NOW, &mut seeded(9)).unwrap();
    let b = wrap_with(&alice, &pk(&bob), &rumor, NOW, &mut seeded(9)).unwrap();
    let c = wrap_with(&alice, &pk(&bob), &rumor, NOW, &mut seeded(10)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.to_json(), c.to_json());
    assert_eq!(unwrap(&bob, &a).unwrap().rumor, rumor);
}

#[test]
fn backdating_stays_in_the_window() {
    let (alice, bob) = (key(1), key(2));
    let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, "t".into(), NOW);
    // all-ones backdating bytes: the largest offsets the modulo gives are still < window
    let mut ones = |buf: &mut [u8]| buf.fill(0xff);
    // 0xff..ff is not a valid secret: the one-time key draw fails after its tries
    assert_eq!(
        wrap_with(&alice, &pk(&bob), &rumor, NOW, &mut ones),
        Err(WrapError::NoRandomKey)
    );
    let mut zeros = |buf: &mut [u8]| buf.fill(0);
    assert_eq!(
        wrap_with(&alice, &pk(&bob), &rumor, NOW, &mut zeros),
        Err(WrapError::NoRandomKey)
    );
    for seed in 0..64 {
        let w = wrap_with(&alice, &pk(&bob), &rumor, NOW, &mut seeded(seed)).unwrap();
        assert!(w.created_at <= NOW && NOW - w.created_at < BACKDATE_WINDOW);
        let seal = open_seal(&bob, &w);
        assert!(seal.created_at <= NOW && NOW - seal.created_at < BACKDATE_WINDOW);
        assert_eq!(seal.kind, KIND_SEAL);
        assert!(seal.tags.is_empty());
        assert_eq!(seal.pubkey, pk(&alice));
    }
    // near the epoch, backdating saturates at 0
    let w = wrap_with(&alice, &pk(&bob), &rumor, 5, &mut seeded(1)).unwrap();
    assert!(w.created_at <= 5);
}

/// The seal inside a wrap for `me`, decrypted by hand.
fn open_seal(me: &SecretKey, wrapped: &Event) -> Event {
    let ck = ConversationKey::derive(&me.secret_bytes(), &wrapped.pubkey).unwrap();
    let mut buf = wrapped.content.as_bytes().to_vec();
    let plain = nip44::decrypt_in_place(&ck, &mut buf).unwrap();
    Event::from_value(&serde_json::from_slice(plain).unwrap()).unwrap()
}

#[test]
fn bad_keys_refuse_to_wrap() {
    let alice = key(1);
    let rumor = Rumor::new(&pk(&alice), &[2; 32], KIND_DM, "x".into(), NOW);
    let ed = SecretKey::from_bytes(Alg::Ed25519, &[1; 32]).unwrap();
    assert_eq!(wrap(&ed, &pk(&key(2)), &rumor, NOW), Err(WrapError::BadKey));
    // an x coordinate that is not on the curve (x = 5 has no point on secp256k1)
    let mut not_a_point = [0u8; 32];
    not_a_point[31] = 5;
    assert_eq!(
        wrap(&alice, &not_a_point, &rumor, NOW),
        Err(WrapError::BadKey)
    );
    assert_eq!(WrapError::BadKey.kind(), "bad_key");
}

#[test]
fn file_bodies_use_the_kez_kind_and_the_large_form() {
    let (alice, bob) = (key(1), key(2));
    let data: Vec<u8> = (0..81_920u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let chunk = body::chunk(&FileId([5; 16]), 0, 3, &data);
    let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_FILE_BODY, chunk.clone(), NOW);
    let wrapped = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();
    let json = wrapped.to_json();
    assert_eq!(json.len(), wrapped_len(KIND_FILE_BODY, chunk.len()));
    let got = unwrap(&bob, &over_the_wire(&wrapped)).unwrap();
    assert_eq!(got.rumor.kind, KIND_FILE_BODY);
    assert_eq!(got.rumor.content, chunk);
}

#[test]
fn wrapped_len_is_exact() {
    let (alice, bob) = (key(1), key(2));
    let mut contents: Vec<String> = vec![
        "a".into(),
        "quote \" backslash \\ newline \n control \u{1} é 😀".into(),
        "x".repeat(31),
        "x".repeat(65_000),
    ];
    for len in [0usize, 1, 100, 1024, 4096, 30_000, 60_000, 81_920] {
        let data = vec![0xa5u8; len.max(1)];
        contents.push(body::chunk(&FileId([1; 16]), 9, 10, &data));
    }
    contents.push(body::inline("a \"name\"\t.txt", "text/plain", b"hello"));
    for kind in [KIND_DM, KIND_FILE_BODY] {
        for (k, content) in contents.iter().enumerate() {
            let rumor = Rumor::new(&pk(&alice), &pk(&bob), kind, content.clone(), NOW);
            let w = wrap_with(
                &alice,
                &pk(&bob),
                &rumor,
                NOW,
                &mut seeded(u8::try_from(k).unwrap()),
            )
            .unwrap();
            let escaped = json_string_len(content) - 2;
            assert_eq!(w.to_json().len(), wrapped_len(kind, escaped), "{k}");
        }
    }
}

#[test]
fn max_body_len_matches_wrapped_len() {
    for limit in [
        2_000usize,
        65_536 - 10,
        65_536,
        131_072 - 10,
        131_072,
        262_144,
        524_288,
    ] {
        let max = max_body_len(KIND_FILE_BODY, limit).unwrap();
        assert!(wrapped_len(KIND_FILE_BODY, max) <= limit, "{limit}");
        assert!(
            wrapped_len(KIND_FILE_BODY, max + 1) > limit || max >= 130_000,
            "{limit}: {max} is not the largest"
        );
    }
    assert_eq!(max_body_len(KIND_DM, 500), None);
    // a real wrap of the largest body for a strfry-sized relay fits it exactly
    let (alice, bob) = (key(1), key(2));
    let max = max_body_len(KIND_FILE_BODY, 65_536 - 10).unwrap();
    let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_FILE_BODY, "z".repeat(max), NOW);
    let w = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();
    assert!(format!("[\"EVENT\",{}]", w.to_json()).len() <= 65_536);
}

/// The numbers SPEC.md §16.5 quotes (its "Sizes" table).
#[test]
fn spec_size_table() {
    // the widest index and count: 10239 of 10240
    let chunk_body = |data: usize| body::chunk_len(MAX_CHUNKS - 1, MAX_CHUNKS, data);
    let chunk_wrap = |data: usize| wrapped_len(KIND_FILE_BODY, chunk_body(data));
    assert_eq!(body::chunk_len(0, 128, 81_920), 109_325);
    assert_eq!(chunk_body(1_024), 1_471);
    assert_eq!(chunk_body(81_920), 109_331);
    assert_eq!(chunk_wrap(81_920), 218_965);
    assert_eq!(chunk_wrap(1_024), 4_605);
    assert_eq!(wrapped_len(KIND_DM, 0), 1_701);
    assert_eq!(wrapped_len(KIND_DM, 1_000), 3_921);
    assert_eq!(short_form_max_body_len(KIND_DM), 40_682);
    assert_eq!(wrapped_len(KIND_DM, 40_682), 76_965);
    // the formulas of the SPEC, layer by layer: rumor 276 + digits(kind) + b, seal 343 + L,
    // wrap 417 + L
    let l = nip44::payload_b64_len;
    for b in [0usize, 1_000, 28_391, 109_331] {
        assert_eq!(
            wrapped_len(KIND_FILE_BODY, b),
            417 + l(343 + l(276 + 4 + b)),
            "{b}"
        );
    }
    // the largest chunk data for a relay cap on the whole ["EVENT",...] message
    let largest = |cap: usize| {
        let body = max_body_len(KIND_FILE_BODY, cap - 10).unwrap();
        (1..=81_920usize)
            .rev()
            .find(|&d| chunk_body(d) <= body)
            .unwrap()
    };
    for (cap, data, body_len, wrap_len) in [
        (65_536, 21_216, 28_391, 55_121),
        (131_072, 42_720, 57_063, 109_741),
        (262_144, 81_920, 109_331, 218_965),
    ] {
        assert_eq!(largest(cap), data, "{cap}");
        assert_eq!(chunk_body(data), body_len);
        assert_eq!(chunk_wrap(data), wrap_len);
        assert!(chunk_wrap(data) + 10 <= cap);
    }
}

#[test]
fn unwrap_checks_in_order() {
    let (alice, bob, mallory) = (key(1), key(2), key(3));
    let good = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, "hi".into(), NOW);

    // 1. kind
    let note = Event::sign(
        &alice,
        NOW,
        1,
        vec![vec!["p".into(), hex(&pk(&bob))]],
        "x".into(),
    )
    .unwrap();
    assert_eq!(
        unwrap(&bob, &note),
        Err(UnwrapError::NotGiftWrap { kind: 1 })
    );

    // 2. p tag
    let for_mallory = wrap(&alice, &pk(&mallory), &good, NOW).unwrap();
    assert_eq!(unwrap(&bob, &for_mallory), Err(UnwrapError::NotForMe));
    let mut no_tag = wrap(&alice, &pk(&bob), &good, NOW).unwrap();
    no_tag.tags.clear();
    assert_eq!(unwrap(&bob, &no_tag), Err(UnwrapError::NotForMe));

    // 3. the wrap's envelope: altered, or too large (refused before any copy)
    let mut altered = wrap(&alice, &pk(&bob), &good, NOW).unwrap();
    let flip = if altered.content.as_bytes()[200] == b'A' {
        "B"
    } else {
        "A"
    };
    altered.content.replace_range(200..201, flip);
    assert_eq!(
        unwrap(&bob, &altered),
        Err(UnwrapError::WrapEnvelope(kez_core::Error::BadMac))
    );
    let mut huge = wrap(&alice, &pk(&bob), &good, NOW).unwrap();
    huge.content = "A".repeat(nip44::MAX_ENVELOPE_PAYLOAD_B64 + 4);
    assert!(matches!(
        unwrap(&bob, &huge),
        Err(UnwrapError::WrapEnvelope(kez_core::Error::TooLarge { .. }))
    ));
    assert_eq!(unwrap(&bob, &huge).unwrap_err().kind(), "bad_wrap_envelope");

    // 4. the seal: not JSON, not a valid event, a forged id, the wrong kind
    let w = wrap_seal_json(&pk(&bob), "not json");
    assert_eq!(
        unwrap(&bob, &w),
        Err(UnwrapError::BadSeal(EventError::Malformed("json")))
    );
    let w = wrap_seal_json(&pk(&bob), r#"{"kind":13}"#);
    assert!(matches!(
        unwrap(&bob, &w),
        Err(UnwrapError::BadSeal(EventError::Malformed(_)))
    ));
    let seal = Event::sign(
        &alice,
        NOW,
        KIND_SEAL,
        vec![],
        seal_text(&alice, &pk(&bob), &good.to_json()),
    )
    .unwrap();
    let mut forged = seal.clone();
    forged.created_at += 1;
    assert_eq!(
        unwrap(&bob, &wrap_seal_json(&pk(&bob), &forged.to_json())),
        Err(UnwrapError::BadSeal(EventError::BadId))
    );
    let mut bad_sig = seal.clone();
    bad_sig.sig[5] ^= 1;
    assert_eq!(
        unwrap(&bob, &wrap_seal_json(&pk(&bob), &bad_sig.to_json())),
        Err(UnwrapError::BadSeal(EventError::BadSignature))
    );
    assert_eq!(
        unwrap(&bob, &hand_wrap(&alice, &pk(&bob), &good.to_json(), 14)),
        Err(UnwrapError::SealKind { kind: 14 })
    );

    // 5. the seal's envelope: encrypted to someone else
    let sealed_for_mallory = Event::sign(
        &alice,
        NOW,
        KIND_SEAL,
        vec![],
        seal_text(&alice, &pk(&mallory), &good.to_json()),
    )
    .unwrap();
    assert_eq!(
        unwrap(
            &bob,
            &wrap_seal_json(&pk(&bob), &sealed_for_mallory.to_json())
        ),
        Err(UnwrapError::SealEnvelope(kez_core::Error::BadMac))
    );

    // 6. the rumor's shape
    for (json, member) in [
        ("[1]".to_owned(), "id"),
        ("{nope".to_owned(), "json"),
        (good.to_json().replace("\"content\"", "\"body\""), "content"),
        (good.to_json().replace("\"kind\":14", "\"kind\":-1"), "kind"),
    ] {
        assert_eq!(
            unwrap(&bob, &hand_wrap(&alice, &pk(&bob), &json, KIND_SEAL)),
            Err(UnwrapError::BadRumor(member)),
            "{json}"
        );
    }

    // 7. the rumor's id
    let mut wrong_id = good.clone();
    wrong_id.content = "changed".into();
    assert_eq!(
        unwrap(
            &bob,
            &hand_wrap(&alice, &pk(&bob), &wrong_id.to_json(), KIND_SEAL)
        ),
        Err(UnwrapError::RumorId)
    );

    // 8. impersonation: mallory seals a rumor that says it is from alice
    let claims_alice = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, "it's me".into(), NOW);
    let err = unwrap(
        &bob,
        &hand_wrap(&mallory, &pk(&bob), &claims_alice.to_json(), KIND_SEAL),
    )
    .unwrap_err();
    assert_eq!(err, UnwrapError::Impersonation);
    assert!(err.to_string().contains("impersonation"));

    // 9. the rumor's kind
    let note = Rumor::new(&pk(&alice), &pk(&bob), 1, "public?".into(), NOW);
    assert_eq!(
        unwrap(&bob, &wrap(&alice, &pk(&bob), &note, NOW).unwrap()),
        Err(UnwrapError::UnexpectedKind { kind: 1 })
    );

    // the hand-built path itself is sound: it unwraps when nothing is broken
    assert_eq!(
        unwrap(
            &bob,
            &hand_wrap(&alice, &pk(&bob), &good.to_json(), KIND_SEAL)
        )
        .unwrap()
        .rumor,
        good
    );
}

#[test]
fn too_large_rumor_is_refused() {
    let (alice, bob) = (key(1), key(2));
    let rumor = Rumor::new(
        &pk(&alice),
        &pk(&bob),
        KIND_FILE_BODY,
        "x".repeat(nip44::MAX_ENVELOPE_PLAINTEXT),
        NOW,
    );
    assert!(matches!(
        wrap(&alice, &pk(&bob), &rumor, NOW),
        Err(WrapError::TooLarge { .. })
    ));
    // a rumor that fits one envelope but whose seal does not
    let rumor = Rumor::new(
        &pk(&alice),
        &pk(&bob),
        KIND_FILE_BODY,
        "x".repeat(200_000),
        NOW,
    );
    assert!(matches!(
        wrap(&alice, &pk(&bob), &rumor, NOW),
        Err(WrapError::TooLarge { len }) if len > nip44::MAX_ENVELOPE_PLAINTEXT
    ));
}

mod interop {
    //! The `nostr` crate (rust-nostr 0.44) as the other NIP-17 client. Its NIP-44 reads only
    //! the short form, so these are messages under 65,536 bytes.

    use super::*;
    use nostr::nips::nip59::UnwrappedGift;
    use nostr::{EventBuilder, JsonUtil as _, Keys, Kind, PublicKey};

    fn keys(byte: u8) -> Keys {
        Keys::parse(&hex(&[byte; 32])).unwrap()
    }

    #[tokio::test]
    async fn kez_wrap_opens_in_nostr() {
        let (alice, bob) = (key(1), key(2));
        let longest = "y".repeat(short_form_max_body_len(KIND_DM));
        for text in [
            "hello from KEZ",
            "quotes \" and \\ and \n and é 😀",
            &longest,
        ] {
            let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, text.into(), NOW);
            let wrapped = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();
            let event = nostr::Event::from_json(wrapped.to_json()).unwrap();
            event.verify().unwrap();
            let got = UnwrappedGift::from_gift_wrap(&keys(2), &event)
                .await
                .unwrap();
            assert_eq!(got.sender.to_bytes(), pk(&alice));
            assert_eq!(got.rumor.kind, Kind::PrivateDirectMessage);
            assert_eq!(got.rumor.content, text);
            assert_eq!(got.rumor.id.unwrap().to_bytes(), rumor.id);
            assert_eq!(got.rumor.created_at.as_secs(), NOW);
            // someone else's keys cannot open it
            assert!(
                UnwrappedGift::from_gift_wrap(&keys(3), &event)
                    .await
                    .is_err()
            );
        }
        // one byte more needs the large form, which this client cannot read: the bound is
        // tight
        let text = "y".repeat(short_form_max_body_len(KIND_DM) + 1);
        let rumor = Rumor::new(&pk(&alice), &pk(&bob), KIND_DM, text, NOW);
        let wrapped = wrap(&alice, &pk(&bob), &rumor, NOW).unwrap();
        let event = nostr::Event::from_json(wrapped.to_json()).unwrap();
        assert!(
            UnwrappedGift::from_gift_wrap(&keys(2), &event)
                .await
                .is_err()
        );
        assert!(unwrap(&bob, &wrapped).is_ok());
    }

    #[tokio::test]
    async fn nostr_wrap_opens_in_kez() {
        let (alice, bob) = (keys(1), key(2));
        let bob_pk = PublicKey::from_byte_array(pk(&bob));
        for text in [
            "hello from rust-nostr",
            "tab\tquote\"nul\u{0}",
            &"z".repeat(40_000),
        ] {
            let event = EventBuilder::private_msg(&alice, bob_pk, text, [])
                .await
                .unwrap();
            let value: serde_json::Value = serde_json::from_str(&event.as_json()).unwrap();
            let wrapped = Event::from_value(&value).unwrap();
            let got = unwrap(&bob, &wrapped).unwrap();
            assert_eq!(got.sender, pk(&key(1)));
            assert_eq!(got.rumor.kind, KIND_DM);
            assert_eq!(got.rumor.content, text);
            assert_eq!(got.rumor.tag_p(), Some(hex(&pk(&bob))));
            assert_eq!(got.wrap_id, event.id.to_bytes());
            let now = nostr::Timestamp::now().as_secs();
            assert!(wrapped.created_at <= now && now - wrapped.created_at <= BACKDATE_WINDOW);
        }
    }
}

trait TagP {
    fn tag_p(&self) -> Option<String>;
}

impl TagP for Rumor {
    fn tag_p(&self) -> Option<String> {
        kez_chat::event::first_tag_value(&self.tags, "p").map(str::to_owned)
    }
}
