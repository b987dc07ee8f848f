//! Property tests: JCS idempotence and stability, encodings round-trip, sign/verify, mutation.
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kez_core::{Alg, Claim, ClaimDraft, Encoding, SecretKey, Status, jcs};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| numbers_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| numbers_equal(v, w)))
        }
        _ => a == b,
    }
}

fn key(alg: Alg, seed: [u8; 32]) -> Option<SecretKey> {
    SecretKey::from_bytes(alg, &seed).ok()
}

fn subject_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,20}(-[a-z0-9]{1,5})?".prop_map(|h| format!("github:{h}")),
        "[a-z][a-z0-9]{0,10}\\.[a-z]{2,6}".prop_map(|h| format!("dns:{h}")),
        "[a-z][a-z0-9]{0,10}\\.bsky\\.social".prop_map(|h| format!("bluesky:{h}")),
        ("[a-z0-9_]{1,12}", "[a-z]{1,10}\\.[a-z]{2,5}").prop_map(|(u, h)| format!("ap:@{u}@{h}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn jcs_is_idempotent_and_stable(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_vec_pretty(&v).unwrap() } else { serde_json::to_vec(&v).unwrap() };
        let once = jcs::canonicalize_to_vec(&text).unwrap();
        let twice = jcs::canonicalize_to_vec(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        // parse -> canonicalize -> parse gives the same value
        let back: Value = serde_json::from_slice(&once).unwrap();
        prop_assert!(numbers_equal(&v, &back), "{} vs {}", v, back);
    }

    #[test]
    fn sign_verify_and_round_trip_every_encoding(
        ed in any::<bool>(),
        seed in any::<[u8; 32]>(),
        aux in any::<[u8; 32]>(),
        subject in subject_strategy(),
        iat in 0u64..4_000_000_000,
        ttl in proptest::option::of(1u64..1_000_000),
    ) {
        let alg = if ed { Alg::Ed25519 } else { Alg::Bip340 };
        let Some(sk) = key(alg, seed) else { return Ok(()) };
        let exp = ttl.map(|t| iat + t);
        let mut json = Vec::new();
        ClaimDraft { subject: &subject, iat, exp }.sign(&sk, &aux, &mut json).unwrap();
        // the writer's output is exactly JCS
        prop_assert_eq!(&jcs::canonicalize_to_vec(&json).unwrap(), &json);
        let claim = Claim::parse(&json).unwrap();
        prop_assert_eq!(claim.verify(iat), Status::Valid);
        if let Some(e) = exp {
            prop_assert_eq!(claim.verify(e), Status::Expired);
            prop_assert_eq!(claim.verify(e - 1), Status::Valid);
        }
        let compact = kez_core::encode_compact(&json);
        let mut md = Vec::new();
        kez_core::write_markdown(&compact, &mut md).unwrap();
        let mut txt = Vec::new();
        let domain = subject.strip_prefix("dns:");
        kez_core::write_txt(domain, &compact, &mut txt).unwrap();
        for (enc, text) in [
            (Encoding::Json, json.clone()),
            (Encoding::Compact, compact.clone().into_bytes()),
            (Encoding::Markdown, md),
            (Encoding::Dns, txt),
        ] {
            let (got_enc, decoded) = kez_core::decode_any(&text).unwrap();
            prop_assert_eq!(got_enc, enc);
            prop_assert_eq!(&decoded, &json);
        }
    }

    #[test]
    fn any_mutated_byte_fails(
        ed in any::<bool>(),
        seed in any::<[u8; 32]>(),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let alg = if ed { Alg::Ed25519 } else { Alg::Bip340 };
        let Some(sk) = key(alg, seed) else { return Ok(()) };
        let mut json = Vec::new();
        ClaimDraft { subject: "github:alice", iat: 1_764_115_200, exp: None }.sign(&sk, &[7; 32], &mut json).unwrap();
        let i = pos.index(json.len());
        prop_assume!(json[i] != byte);
        json[i] = byte;
        if let Ok((_, status)) = kez_core::verify_json(&json, 1_764_115_300) {
            prop_assert_ne!(status, Status::Valid);
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = jcs::canonicalize_to_vec(&bytes);
        let _ = kez_core::decode_any(&bytes);
        let _ = kez_core::verify_json(&bytes, 0);
    }
}
