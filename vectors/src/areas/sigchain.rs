//! `sigchain.json`: sigchain replay (SPEC.md §14) through `kez sigchain verify` (§11.7): valid
//! chains with their exact state, every chain rule (exit 1, status invalid, the rule's class),
//! forks within one bundle and across sources, merging, and malformed input (exit 2).

use kez_core::SecretKey;
use kez_core::chain::{Draft, Position};
use serde_json::{Value, json};

use crate::envelope::{Area, Group, Op, Want};
use crate::fixtures::{
    AUX0, ChainBuilder, Keys, R, T0, bundle, claim_id, flip_hex_digit, replace_once, resign,
    seed_of, sign_at, string_member,
};

const NOTES: &[(&str, &str)] = &[
    ("Example", "The worked example of SPEC.md §14.10."),
    (
        "State",
        "A valid chain: stdout_json is the whole state object of §11.7.",
    ),
    ("Ops", "The five ops and who may sign them (§14.3)."),
    ("MixedSuites", "A chain whose keys are of both suites."),
    (
        "ClaimState",
        "Claim states at now: valid, expired (at exactly exp), revoked (whatever now).",
    ),
    (
        "Rule",
        "A broken chain rule: exit 1, status invalid, error_class is the rule's class (stdout's error.code); stdout_json is the state of the valid prefix.",
    ),
    (
        "Fork",
        "Two validly signed, different links at one seq (§14.9): status fork, exit 1, the evidence and the state before the conflicting link.",
    ),
    (
        "Merge",
        "Several sources merged by seq (§14.9): stale copies, overlaps, ties.",
    ),
    (
        "Malformed",
        "Malformed input (a bad bundle or a line that does not parse, or a decreasing iat): exit 2 with its class, no state.",
    ),
    (
        "LinkLimit",
        "MAX_LINK_JSON = 16384 bytes per line, both sides.",
    ),
    (
        "Usage",
        "An N argument that is not a decimal integer below 2^64: usage (§11.2).",
    ),
    (
        "Precedence",
        "Malformed input anywhere wins over a fork or a broken rule earlier in the input.",
    ),
];

fn sv(sources: &[&str], now: u64) -> Value {
    json!({"sources": sources, "now": now})
}

fn line(b: &ChainBuilder, i: usize) -> R<String> {
    b.lines
        .get(i)
        .cloned()
        .ok_or_else(|| format!("no line {i}"))
}

/// The bundle of the given lines of `b` (0-based).
fn pick(b: &ChainBuilder, idx: &[usize]) -> R<String> {
    let lines = idx.iter().map(|&i| line(b, i)).collect::<R<Vec<_>>>()?;
    Ok(bundle(&lines))
}

/// A builder holding the first `n` links of `b`.
fn prefix(b: &ChainBuilder, n: usize) -> R<ChainBuilder> {
    let mut p = ChainBuilder::new();
    for i in 0..n {
        let l = line(b, i)?;
        p.pos = Position {
            chain: b.pos.chain,
            head_seq: p.pos.head_seq + 1,
            head_hash: sha(&l),
        };
        p.lines.push(l);
    }
    Ok(p)
}

fn sha(line: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(line.as_bytes()).into()
}

pub(crate) fn area(keys: &Keys) -> R<Area> {
    let mut area = Area::new("sigchain", NOTES);
    let s = Scenarios::new(keys)?;
    area.push(valid(keys, &s)?);
    area.push(rules(keys, &s)?);
    area.push(forks(keys, &s)?);
    area.push(merging(&s)?);
    area.push(malformed(keys, &s)?);
    Ok(area)
}

/// The chains most cases start from.
struct Scenarios {
    /// §14.10: A add_claim, A rotate to B, B revoke.
    worked: ChainBuilder,
    /// Twelve links over every op, devices of both suites, a rotation to a nostr key.
    full: ChainBuilder,
    /// A add_claim github:alice, A add_device D.
    with_device: ChainBuilder,
}

const DAY: u64 = 86_400;

impl Scenarios {
    fn new(k: &Keys) -> R<Self> {
        let mut worked = ChainBuilder::new();
        worked.push(
            T0,
            &Draft::AddClaim {
                subject: "github:alice",
                exp: None,
            },
            &k.a,
            &AUX0,
        )?;
        worked.push(T0 + DAY, &Draft::Rotate { new_key: &k.b }, &k.a, &AUX0)?;
        worked.push(
            T0 + 2 * DAY,
            &Draft::Revoke {
                claim: claim_id(&k.a, "github:alice", T0, None),
            },
            &k.b,
            &AUX0,
        )?;

        let aux = seed_of("sigchain/aux");
        let mut full = ChainBuilder::new();
        full.push(
            T0,
            &Draft::AddClaim {
                subject: "GitHub:@Alice",
                exp: None,
            },
            &k.a,
            &aux,
        )?;
        full.push(
            T0,
            &Draft::AddClaim {
                subject: "dns:alice.example",
                exp: Some(T0 + 1000),
            },
            &k.a,
            &aux,
        )?;
        full.push(T0 + 10, &Draft::AddDevice { device: &k.d }, &k.a, &aux)?;
        full.push(
            T0 + 20,
            &Draft::AddClaim {
                subject: "bluesky:alice.example",
                exp: None,
            },
            &k.d,
            &aux,
        )?;
        full.push(
            T0 + 30,
            &Draft::Revoke {
                claim: claim_id(&k.d, "bluesky:alice.example", T0 + 20, None),
            },
            &k.d,
            &aux,
        )?;
        full.push(T0 + 40, &Draft::AddDevice { device: &k.m }, &k.a, &aux)?;
        full.push(T0 + 50, &Draft::Rotate { new_key: &k.n }, &k.a, &aux)?;
        full.push(
            T0 + 60,
            &Draft::RemoveDevice {
                device: *k.d.public(),
            },
            &k.n,
            &aux,
        )?;
        full.push(
            T0 + 70,
            &Draft::AddClaim {
                subject: "ap:@alice@social.example",
                exp: None,
            },
            &k.m,
            &aux,
        )?;
        full.push(
            T0 + 80,
            &Draft::RemoveDevice {
                device: *k.m.public(),
            },
            &k.m,
            &aux,
        )?;
        full.push(
            T0 + 90,
            &Draft::Revoke {
                claim: claim_id(&k.a, "github:alice", T0, None),
            },
            &k.n,
            &aux,
        )?;
        full.push(
            T0 + 100,
            &Draft::AddClaim {
                subject: "github:alice",
                exp: None,
            },
            &k.n,
            &aux,
        )?;

        let mut with_device = ChainBuilder::new();
        with_device.push(
            T0,
            &Draft::AddClaim {
                subject: "github:alice",
                exp: None,
            },
            &k.a,
            &AUX0,
        )?;
        with_device.push(T0 + 10, &Draft::AddDevice { device: &k.d }, &k.a, &AUX0)?;
        Ok(Self {
            worked,
            full,
            with_device,
        })
    }
}

#[allow(clippy::too_many_lines)]
fn valid(k: &Keys, s: &Scenarios) -> R<Group> {
    let mut g = Group::new(
        Op::SigchainVerify,
        "Valid chains and their state (§14.7, §14.8)",
    );
    g.case(
        "the empty bundle is a valid empty chain",
        "§14.6",
        &["State"],
        sv(&[""], T0),
        Want::Ok,
    );
    let wb = s.worked.bundle();
    g.case(
        "§14.10: the worked example at now = 1764288000",
        "§14.10",
        &["Example", "State", "Ops"],
        sv(&[&wb], T0 + 2 * DAY),
        Want::Ok,
    );
    g.case(
        "§14.10: the revoked claim stays revoked at any now",
        "§14.8",
        &["Example", "State", "ClaimState"],
        sv(&[&wb], 0),
        Want::Ok,
    );
    g.case(
        "§14.10: link 1 alone (no prev at seq 1)",
        "§14.1",
        &["Example", "State"],
        sv(&[&pick(&s.worked, &[0])?], T0),
        Want::Ok,
    );
    g.case(
        "§14.10: links 1 and 2",
        "§14.8",
        &["Example", "State"],
        sv(&[&pick(&s.worked, &[0, 1])?], T0),
        Want::Ok,
    );
    let fb = s.full.bundle();
    g.case(
        "every op, devices of both suites, rotation to a nostr key, before the exp of link 2",
        "§14.7",
        &["State", "Ops", "MixedSuites", "ClaimState"],
        sv(&[&fb], T0 + 999),
        Want::Ok,
    );
    g.case(
        "the same chain at exactly the exp of link 2: that claim is expired",
        "§14.8",
        &["State", "ClaimState"],
        sv(&[&fb], T0 + 1000),
        Want::Ok,
    );
    for n in [3, 5, 7, 9] {
        g.case(
            format!("the first {n} links of that chain"),
            "§14.8",
            &["State", "Ops"],
            sv(
                &[&bundle(s.full.lines.get(..n).unwrap_or_default())],
                T0 + 500,
            ),
            Want::Ok,
        );
    }

    let mut dev1 = ChainBuilder::new();
    dev1.push(0, &Draft::AddDevice { device: &k.d }, &k.a, &AUX0)?;
    dev1.push(
        0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &k.d,
        &AUX0,
    )?;
    g.case(
        "add_device as link 1 (any op may come first), iat 0",
        "§14.3",
        &["State", "Ops"],
        sv(&[&dev1.bundle()], T0),
        Want::Ok,
    );
    let mut rot1 = ChainBuilder::new();
    rot1.push(T0, &Draft::Rotate { new_key: &k.n }, &k.a, &AUX0)?;
    rot1.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &k.n,
        &AUX0,
    )?;
    g.case(
        "rotate as link 1 with its proof by the new nostr key, which signs link 2",
        "§14.2",
        &["State", "Ops", "MixedSuites"],
        sv(&[&rot1.bundle()], T0),
        Want::Ok,
    );
    let mut nostr = ChainBuilder::new();
    let aux = seed_of("sigchain/nostr");
    nostr.push(
        T0,
        &Draft::AddClaim {
            subject: "nostr:npub1d4k24sjg47t0dta8lyz025p98g8naul44gh7dqu2jkepv6g5dr3q97c7ha",
            exp: Some(T0 + 10),
        },
        &k.n,
        &aux,
    )?;
    nostr.push(T0 + 1, &Draft::AddDevice { device: &k.m }, &k.n, &aux)?;
    nostr.push(
        T0 + 2,
        &Draft::RemoveDevice {
            device: *k.m.public(),
        },
        &k.n,
        &aux,
    )?;
    g.case(
        "a nostr-only chain (fixed aux); its claim expired",
        "§14.7",
        &["State", "Ops", "ClaimState"],
        sv(&[&nostr.bundle()], T0 + 10),
        Want::Ok,
    );
    let mut again = ChainBuilder::new();
    again.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    again.push(
        T0,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: Some(T0 + 5),
        },
        &k.a,
        &AUX0,
    )?;
    again.push(
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    g.case(
        "the same subject again with another exp or iat is another claim id",
        "§14.5",
        &["State", "ClaimState"],
        sv(&[&again.bundle()], T0 + 5),
        Want::Ok,
    );
    let dup = pick(&s.worked, &[0, 1, 1, 2])?;
    g.case(
        "a line repeated in one bundle is a duplicate, not a fork",
        "§14.7",
        &["State", "Merge"],
        sv(&[&dup], T0),
        Want::Ok,
    );
    Ok(g)
}

#[allow(clippy::too_many_lines)]
fn rules(k: &Keys, s: &Scenarios) -> R<Group> {
    let mut g = Group::new(
        Op::SigchainVerify,
        "Broken chain rules (§14.3, §14.5, §14.7): exit 1, status invalid",
    );
    let w = &s.worked;
    let now = T0 + 2 * DAY;
    let l1 = line(w, 0)?;
    let mut rule = |comment: &str,
                    spec: &'static str,
                    flags: &[&'static str],
                    lines: Vec<String>,
                    class: &'static str| {
        g.case(
            comment,
            spec,
            flags,
            sv(&[&bundle(&lines)], now),
            Want::Rule(class),
        );
    };
    let w1 = prefix(w, 1)?;
    let w2 = prefix(w, 2)?;
    // seq
    rule(
        "link 3 right after link 1",
        "§14.7",
        &["Rule"],
        vec![l1.clone(), line(w, 2)?],
        "seq_gap",
    );
    rule(
        "a bundle starting at link 2",
        "§14.7",
        &["Rule"],
        vec![line(w, 1)?, line(w, 2)?],
        "seq_gap",
    );
    rule(
        "the links in reverse order",
        "§14.7",
        &["Rule"],
        vec![line(w, 2)?, line(w, 1)?, l1.clone()],
        "seq_gap",
    );
    // prev
    let bad_prev = Position {
        head_hash: [0; 32],
        ..w1.pos
    };
    rule(
        "link 2 whose prev is not the hash of link 1",
        "§14.7",
        &["Rule"],
        vec![
            l1.clone(),
            sign_at(
                &bad_prev,
                T0 + 1,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.a,
                &AUX0,
            )?,
        ],
        "prev_mismatch",
    );
    // chain
    let other_chain = Position {
        chain: Some(*k.b.public()),
        ..w1.pos
    };
    rule(
        "link 2 naming another chain",
        "§14.7",
        &["Rule"],
        vec![
            l1.clone(),
            sign_at(
                &other_chain,
                T0 + 1,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.a,
                &AUX0,
            )?,
        ],
        "wrong_chain",
    );
    // signers
    let first_by_x = Position {
        chain: Some(*k.a.public()),
        head_seq: 0,
        head_hash: [0; 32],
    };
    rule(
        "link 1 not signed by the chain id",
        "§14.3",
        &["Rule", "Ops"],
        vec![sign_at(
            &first_by_x,
            T0,
            &Draft::AddClaim {
                subject: "github:alice",
                exp: None,
            },
            &k.x,
            &AUX0,
        )?],
        "wrong_signer",
    );
    rule(
        "link 2 signed by a key the chain does not know",
        "§14.3",
        &["Rule", "Ops"],
        vec![
            l1.clone(),
            sign_at(
                &w1.pos,
                T0 + 1,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.x,
                &AUX0,
            )?,
        ],
        "wrong_signer",
    );
    rule(
        "§14.10: link 4 signed by A after the rotation to B",
        "§14.3",
        &["Rule", "Example"],
        {
            let mut l = w.lines.clone();
            l.push(sign_at(
                &w.pos,
                T0 + 3 * DAY,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.a,
                &AUX0,
            )?);
            l
        },
        "old_key",
    );
    let mut abn = w2.clone();
    abn.push(T0 + 2 * DAY, &Draft::Rotate { new_key: &k.n }, &k.b, &AUX0)?;
    rule(
        "a key rotated away from two rotations ago (B after B -> N)",
        "§14.3",
        &["Rule", "MixedSuites"],
        {
            let mut l = abn.lines.clone();
            l.push(sign_at(
                &abn.pos,
                T0 + 3 * DAY,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.b,
                &AUX0,
            )?);
            l
        },
        "old_key",
    );
    rule(
        "the chain id adding a device after it was rotated out",
        "§14.3",
        &["Rule", "Ops"],
        {
            let mut l = w2.lines.clone();
            l.push(sign_at(
                &w2.pos,
                T0 + 2 * DAY,
                &Draft::AddDevice { device: &k.d },
                &k.a,
                &AUX0,
            )?);
            l
        },
        "old_key",
    );
    let d = &s.with_device;
    let dev = |draft: &Draft<'_>, signer: &SecretKey| -> R<Vec<String>> {
        let mut l = d.lines.clone();
        l.push(sign_at(&d.pos, T0 + 20, draft, signer, &AUX0)?);
        Ok(l)
    };
    rule(
        "a device may not rotate",
        "§14.3",
        &["Rule", "Ops"],
        dev(&Draft::Rotate { new_key: &k.b }, &k.d)?,
        "wrong_signer",
    );
    rule(
        "a device may not add a device",
        "§14.3",
        &["Rule", "Ops"],
        dev(&Draft::AddDevice { device: &k.m }, &k.d)?,
        "wrong_signer",
    );
    rule(
        "a device may not revoke a claim the primary key recorded",
        "§14.3",
        &["Rule", "Ops"],
        dev(
            &Draft::Revoke {
                claim: claim_id(&k.a, "github:alice", T0, None),
            },
            &k.d,
        )?,
        "wrong_signer",
    );
    rule(
        "a device revoking an unrecorded claim: wrong_signer, not bad_target",
        "§14.3",
        &["Rule", "Ops"],
        dev(&Draft::Revoke { claim: [7; 32] }, &k.d)?,
        "wrong_signer",
    );
    rule(
        "a device may not remove another key",
        "§14.3",
        &["Rule", "Ops"],
        dev(
            &Draft::RemoveDevice {
                device: *k.m.public(),
            },
            &k.d,
        )?,
        "wrong_signer",
    );
    rule(
        "a conflicting line at its add_device seq, signed by that device: not yet active",
        "§14.3",
        &["Rule", "Ops", "Fork"],
        vec![
            line(d, 0)?,
            line(d, 1)?,
            sign_at(
                &prefix(d, 1)?.pos,
                T0 + 10,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.d,
                &AUX0,
            )?,
        ],
        "wrong_signer",
    );
    let mut removed = d.clone();
    removed.push(
        T0 + 20,
        &Draft::RemoveDevice {
            device: *k.d.public(),
        },
        &k.a,
        &AUX0,
    )?;
    rule(
        "a removed device may not sign",
        "§14.3",
        &["Rule", "Ops"],
        {
            let mut l = removed.lines.clone();
            l.push(sign_at(
                &removed.pos,
                T0 + 30,
                &Draft::AddClaim {
                    subject: "github:bob",
                    exp: None,
                },
                &k.d,
                &AUX0,
            )?);
            l
        },
        "wrong_signer",
    );
    // signatures
    let l2 = line(w, 1)?;
    let sig2 = string_member(&l2, "sig")?;
    rule(
        "a link signature digit flipped",
        "§14.2",
        &["Rule"],
        vec![
            l1.clone(),
            replace_once(&l2, sig2, &flip_hex_digit(sig2, 5)?)?,
        ],
        "bad_signature",
    );
    let sig1 = string_member(&l1, "sig")?;
    rule(
        "link 1 with a bad signature",
        "§14.2",
        &["Rule"],
        vec![replace_once(&l1, sig1, &flip_hex_digit(sig1, 127)?)?],
        "bad_signature",
    );
    let proof = string_member(&l2, "proof")?;
    rule(
        "a rotate proof that does not verify (link re-signed)",
        "§14.2",
        &["Rule", "Ops"],
        vec![
            l1.clone(),
            resign(
                &replace_once(&l2, proof, &flip_hex_digit(proof, 3)?)?,
                &k.a,
                &AUX0,
            )?,
        ],
        "bad_signature",
    );
    let dl = line(d, 1)?;
    let dproof = string_member(&dl, "proof")?;
    rule(
        "an add_device proof that does not verify (link re-signed)",
        "§14.2",
        &["Rule", "Ops"],
        vec![
            line(d, 0)?,
            resign(
                &replace_once(&dl, dproof, &flip_hex_digit(dproof, 3)?)?,
                &k.a,
                &AUX0,
            )?,
        ],
        "bad_signature",
    );
    // a device proof does not serve as a rotation proof at the same position (distinct tags)
    let as_device = sign_at(
        &w1.pos,
        T0 + DAY,
        &Draft::AddDevice { device: &k.b },
        &k.a,
        &AUX0,
    )?;
    let device_proof = string_member(&as_device, "proof")?;
    rule(
        "the add_device proof of the same key and position used as a rotate proof",
        "§14.2",
        &["Rule", "Ops"],
        vec![
            l1.clone(),
            resign(&replace_once(&l2, proof, device_proof)?, &k.a, &AUX0)?,
        ],
        "bad_signature",
    );
    // a proof for seq 2 replayed at seq 3
    let mut at3 = prefix(w, 1)?;
    at3.push(
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    let rot3 = sign_at(
        &at3.pos,
        T0 + DAY,
        &Draft::Rotate { new_key: &k.b },
        &k.a,
        &AUX0,
    )?;
    let proof3 = string_member(&rot3, "proof")?;
    rule(
        "a rotate proof made for another seq and prev",
        "§14.2",
        &["Rule", "Ops"],
        vec![
            l1.clone(),
            resign(&replace_once(&l2, proof, proof3)?, &k.a, &AUX0)?,
        ],
        "bad_signature",
    );
    // targets
    let t = |draft: &Draft<'_>, signer: &SecretKey, base: &ChainBuilder| -> R<Vec<String>> {
        let mut l = base.lines.clone();
        l.push(sign_at(&base.pos, T0 + 3 * DAY, draft, signer, &AUX0)?);
        Ok(l)
    };
    rule(
        "revoking an unknown claim id",
        "§14.5",
        &["Rule", "Ops"],
        t(&Draft::Revoke { claim: [7; 32] }, &k.a, &w1)?,
        "bad_target",
    );
    rule(
        "revoking a claim twice",
        "§14.5",
        &["Rule", "Ops"],
        t(
            &Draft::Revoke {
                claim: claim_id(&k.a, "github:alice", T0, None),
            },
            &k.b,
            w,
        )?,
        "bad_target",
    );
    rule(
        "revoke as link 1",
        "§14.5",
        &["Rule", "Ops"],
        t(
            &Draft::Revoke { claim: [7; 32] },
            &k.a,
            &ChainBuilder::new(),
        )?,
        "bad_target",
    );
    rule(
        "recording the same claim id twice",
        "§14.5",
        &["Rule", "Ops"],
        {
            let mut l = vec![l1.clone()];
            l.push(sign_at(
                &w1.pos,
                T0,
                &Draft::AddClaim {
                    subject: "github:alice",
                    exp: None,
                },
                &k.a,
                &AUX0,
            )?);
            l
        },
        "bad_target",
    );
    rule(
        "recording a claim id that was revoked",
        "§14.5",
        &["Rule", "Ops"],
        {
            let mut c = w1.clone();
            c.push(
                T0,
                &Draft::Revoke {
                    claim: claim_id(&k.a, "github:alice", T0, None),
                },
                &k.a,
                &AUX0,
            )?;
            let mut l = c.lines.clone();
            l.push(sign_at(
                &c.pos,
                T0,
                &Draft::AddClaim {
                    subject: "github:alice",
                    exp: None,
                },
                &k.a,
                &AUX0,
            )?);
            l
        },
        "bad_target",
    );
    rule(
        "rotating back to the chain id",
        "§14.3",
        &["Rule", "Ops"],
        t(&Draft::Rotate { new_key: &k.a }, &k.b, &w2)?,
        "bad_target",
    );
    rule(
        "rotating to the current primary key",
        "§14.3",
        &["Rule", "Ops"],
        t(&Draft::Rotate { new_key: &k.a }, &k.a, &w1)?,
        "bad_target",
    );
    rule(
        "rotating to a device key",
        "§14.3",
        &["Rule", "Ops"],
        t(&Draft::Rotate { new_key: &k.d }, &k.a, d)?,
        "bad_target",
    );
    rule(
        "adding the chain id as a device",
        "§14.3",
        &["Rule", "Ops"],
        t(&Draft::AddDevice { device: &k.a }, &k.b, &w2)?,
        "bad_target",
    );
    rule(
        "adding a device twice",
        "§14.3",
        &["Rule", "Ops"],
        t(&Draft::AddDevice { device: &k.d }, &k.a, d)?,
        "bad_target",
    );
    rule(
        "adding again a device that was removed",
        "§14.3",
        &["Rule", "Ops"],
        t(&Draft::AddDevice { device: &k.d }, &k.a, &removed)?,
        "bad_target",
    );
    rule(
        "removing a key that is not a device",
        "§14.7",
        &["Rule", "Ops"],
        t(
            &Draft::RemoveDevice {
                device: *k.x.public(),
            },
            &k.a,
            d,
        )?,
        "bad_target",
    );
    rule(
        "removing a device twice",
        "§14.7",
        &["Rule", "Ops"],
        t(
            &Draft::RemoveDevice {
                device: *k.d.public(),
            },
            &k.a,
            &removed,
        )?,
        "bad_target",
    );
    let small = format!("ed25519:01{}", "00".repeat(31));
    rule(
        "link 2 signed by a key of valid syntax that is not a valid point: wrong_signer",
        "§14.1",
        &["Rule"],
        vec![
            l1.clone(),
            l2.replace(
                &format!("\"signer\":\"{}\"", k.a.public()),
                &format!("\"signer\":\"{small}\""),
            ),
        ],
        "wrong_signer",
    );
    let rm = sign_at(
        &d.pos,
        T0 + 3 * DAY,
        &Draft::RemoveDevice {
            device: *k.x.public(),
        },
        &k.a,
        &AUX0,
    )?;
    let rm = resign(
        &replace_once(&rm, &k.x.public().to_string(), &small)?,
        &k.a,
        &AUX0,
    )?;
    rule(
        "removing a key of valid syntax that is not a valid point: bad_target",
        "§14.1",
        &["Rule", "Ops"],
        [d.lines.clone(), vec![rm]].concat(),
        "bad_target",
    );
    // lines that parse only as far as a chain rule
    let unknown = resign(
        &replace_once(&l2, "\"op\":\"rotate\"", "\"op\":\"retire\"")?,
        &k.a,
        &AUX0,
    )?;
    rule(
        "an unknown op",
        "§14.1",
        &["Rule"],
        vec![l1.clone(), unknown],
        "unknown_op",
    );
    rule(
        "a line with a space: non_canonical",
        "§14.1",
        &["Rule"],
        vec![l1.clone(), l2.replacen(",\"chain\"", ", \"chain\"", 1)],
        "non_canonical",
    );
    rule(
        "a CR before the LF: non_canonical",
        "§14.6",
        &["Rule"],
        vec![l1.clone(), format!("{l2}\r")],
        "non_canonical",
    );
    rule(
        "an escape JCS would not write: non_canonical",
        "§14.1",
        &["Rule"],
        vec![l1.replacen("github:alice", "github:\\u0061lice", 1)],
        "non_canonical",
    );
    rule(
        "a line of exactly 16384 bytes (padded with spaces) passes the limit: non_canonical",
        "§14.1",
        &["Rule", "LinkLimit"],
        vec![pad_line(&l1, 16_384)?],
        "non_canonical",
    );
    Ok(g)
}

/// `line` with spaces after its first `{`, `len` bytes in all.
fn pad_line(line: &str, len: usize) -> R<String> {
    let n = len.checked_sub(line.len()).ok_or("pad_line")?;
    Ok(line.replacen('{', &format!("{{{}", " ".repeat(n)), 1))
}

fn forks(k: &Keys, s: &Scenarios) -> R<Group> {
    let mut g = Group::new(Op::SigchainVerify, "Forks (§14.9)");
    let w = &s.worked;
    let w1 = prefix(w, 1)?;
    let w2 = prefix(w, 2)?;
    let bob = sign_at(
        &w1.pos,
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    let l1 = line(w, 0)?;
    let l2 = line(w, 1)?;
    let l3 = line(w, 2)?;
    let now = T0 + 2 * DAY;
    let one = |lines: &[&str]| bundle(lines);
    g.case(
        "§14.10: chain.jsonl merged with a second bundle holding another link 2",
        "§14.10",
        &["Example", "Fork", "Merge"],
        sv(&[&w.bundle(), &one(&[&l1, &bob])], now),
        Want::No("fork"),
    );
    g.case(
        "the same two sources in the other order name the links the other way round",
        "§14.9",
        &["Fork", "Merge"],
        sv(&[&one(&[&l1, &bob]), &w.bundle()], now),
        Want::No("fork"),
    );
    g.case(
        "a fork within one bundle",
        "§14.9",
        &["Fork"],
        sv(&[&one(&[&l1, &l2, &bob])], now),
        Want::No("fork"),
    );
    g.case(
        "lines after a fork are ignored (a seq gap there is not reached)",
        "§14.9",
        &["Fork"],
        sv(&[&one(&[&l1, &l2, &bob, &l3, &l3])], now),
        Want::No("fork"),
    );
    let other1 = sign_at(
        &ChainBuilder::new().pos,
        T0 + 5,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    g.case(
        "a fork at seq 1",
        "§14.9",
        &["Fork"],
        sv(&[&one(&[&l1, &other1])], now),
        Want::No("fork"),
    );
    let bob_sig = string_member(&bob, "sig")?;
    let bob_bad = replace_once(&bob, bob_sig, &flip_hex_digit(bob_sig, 0)?)?;
    g.case(
        "a conflicting line with a bad signature is not a fork: bad_signature",
        "§14.9",
        &["Fork", "Rule"],
        sv(&[&one(&[&l1, &l2, &bob_bad])], now),
        Want::Rule("bad_signature"),
    );
    let bad_prev = sign_at(
        &Position {
            head_hash: [1; 32],
            ..w1.pos
        },
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    g.case(
        "a conflicting line with another prev is not a fork: prev_mismatch",
        "§14.7",
        &["Fork", "Rule"],
        sv(&[&one(&[&l1, &l2, &bad_prev])], now),
        Want::Rule("prev_mismatch"),
    );
    let by_b = sign_at(
        &w1.pos,
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.b,
        &AUX0,
    )?;
    g.case("a conflicting line signed by the key the head made primary is judged in the head's place: wrong_signer", "§14.7", &["Fork", "Rule"], sv(&[&one(&[&l1, &l2, &by_b])], now), Want::Rule("wrong_signer"));
    let by_x = sign_at(
        &w1.pos,
        T0 + 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.x,
        &AUX0,
    )?;
    g.case(
        "a conflicting line signed by an unknown key: wrong_signer",
        "§14.9",
        &["Fork", "Rule"],
        sv(&[&one(&[&l1, &l2, &by_x])], now),
        Want::Rule("wrong_signer"),
    );
    let early = sign_at(
        &w1.pos,
        0,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    g.case(
        "a conflicting line's iat is not checked: still a fork",
        "§14.7",
        &["Fork"],
        sv(&[&one(&[&l1, &l2, &early])], now),
        Want::No("fork"),
    );
    let fork3 = sign_at(
        &w2.pos,
        T0 + 2 * DAY,
        &Draft::AddClaim {
            subject: "github:carol",
            exp: None,
        },
        &k.b,
        &AUX0,
    )?;
    g.case(
        "a fork at seq 3 after a rotation, signed by the new key",
        "§14.9",
        &["Fork"],
        sv(
            &[
                &w.bundle(),
                &bundle(&[w2.lines.clone(), vec![fork3]].concat()),
            ],
            now,
        ),
        Want::No("fork"),
    );
    Ok(g)
}

/// Comment, sources, SPEC.md section, flags, intended outcome.
type MergeCase = (
    &'static str,
    Vec<String>,
    &'static str,
    &'static [&'static str],
    Want,
);

fn merging(s: &Scenarios) -> R<Group> {
    let mut g = Group::new(Op::SigchainVerify, "Merging several sources (§14.9)");
    let w = &s.worked;
    let now = T0 + 2 * DAY;
    let full = w.bundle();
    let cases: Vec<MergeCase> = vec![
        (
            "§14.10: a stale prefix copy merged with the chain",
            vec![full.clone(), pick(w, &[0, 1])?],
            "§14.10",
            &["Example", "Merge", "State"],
            Want::Ok,
        ),
        (
            "the stale copy given first",
            vec![pick(w, &[0])?, full.clone()],
            "§14.9",
            &["Merge", "State"],
            Want::Ok,
        ),
        (
            "the same bundle twice",
            vec![full.clone(), full.clone()],
            "§14.9",
            &["Merge", "State"],
            Want::Ok,
        ),
        (
            "overlapping pieces: links 1-2 and 2-3",
            vec![pick(w, &[0, 1])?, pick(w, &[1, 2])?],
            "§14.9",
            &["Merge", "State"],
            Want::Ok,
        ),
        (
            "pieces given out of order: links 2-3, then link 1",
            vec![pick(w, &[1, 2])?, pick(w, &[0])?],
            "§14.9",
            &["Merge", "State"],
            Want::Ok,
        ),
        (
            "three sources, one empty",
            vec![String::new(), pick(w, &[2])?, pick(w, &[0, 1])?],
            "§14.9",
            &["Merge", "State"],
            Want::Ok,
        ),
        (
            "a missing link in every source: seq_gap",
            vec![pick(w, &[0])?, pick(w, &[2])?],
            "§14.9",
            &["Merge", "Rule"],
            Want::Rule("seq_gap"),
        ),
        (
            "an unknown-op line takes the merge key of the line before it",
            vec![
                bundle(&[
                    line(w, 0)?,
                    line(w, 1)?.replace("\"op\":\"rotate\"", "\"op\":\"retire\""),
                ]),
                pick(w, &[0, 1, 2])?,
            ],
            "§14.9",
            &["Merge", "Rule"],
            Want::Rule("unknown_op"),
        ),
        (
            "a non-canonical line in the second source, replayed where it stands",
            vec![
                pick(w, &[0, 1, 2])?,
                bundle(&[line(w, 0)?, format!(" {}", line(w, 1)?)]),
            ],
            "§14.9",
            &["Merge", "Rule"],
            Want::Rule("non_canonical"),
        ),
    ];
    for (comment, sources, spec, flags, want) in cases {
        let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
        g.case(comment, spec, flags, sv(&refs, now), want);
    }
    Ok(g)
}

#[allow(clippy::too_many_lines)]
fn malformed(k: &Keys, s: &Scenarios) -> R<Group> {
    let mut g = Group::new(
        Op::SigchainVerify,
        "Malformed input: exit 2 (§14.1, §14.6, §11.7)",
    );
    let w = &s.worked;
    let now = T0 + 2 * DAY;
    let l1 = line(w, 0)?;
    let l2 = line(w, 1)?;
    let full = w.bundle();
    let key_a = k.a.public().to_string();
    let hash1 = w.hash(0)?;
    let small = format!("ed25519:01{}", "00".repeat(31));
    let d = &s.with_device;
    let mut bad = |comment: &str,
                   spec: &'static str,
                   flags: &[&'static str],
                   sources: Vec<String>,
                   class: &'static str| {
        let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
        g.case(comment, spec, flags, sv(&refs, now), Want::Class(class));
    };
    let m: &[&'static str] = &["Malformed"];
    bad(
        "a bundle without its final LF",
        "§14.6",
        m,
        vec![full.trim_end_matches('\n').to_owned()],
        "bad_link",
    );
    bad(
        "a leading LF",
        "§14.6",
        m,
        vec![format!("\n{full}")],
        "bad_link",
    );
    bad(
        "an empty line in the middle",
        "§14.6",
        m,
        vec![format!("{l1}\n\n{l2}\n")],
        "bad_link",
    );
    bad("a lone LF", "§14.6", m, vec!["\n".to_owned()], "bad_link");
    let early = sign_at(
        &prefix(w, 1)?.pos,
        T0 - 1,
        &Draft::AddClaim {
            subject: "github:bob",
            exp: None,
        },
        &k.a,
        &AUX0,
    )?;
    bad(
        "an iat before the previous link's iat (replay step 7)",
        "§14.7",
        m,
        vec![bundle(&[&l1, &early])],
        "bad_link",
    );
    let edits: Vec<(&str, String, &'static str)> = vec![
        (
            "an unknown member",
            replace_once(&l1, "\"op\":", "\"note\":\"x\",\"op\":")?,
            "bad_link",
        ),
        (
            "prev at seq 1",
            replace_once(&l1, "\"seq\":1", &format!("\"prev\":\"{hash1}\",\"seq\":1"))?,
            "bad_link",
        ),
        (
            "prev missing at seq 2",
            replace_once(&l2, &format!("\"prev\":\"{hash1}\","), "")?,
            "bad_link",
        ),
        (
            "prev not lowercase hex",
            replace_once(&l2, &hash1, &hash1.to_uppercase())?,
            "bad_link",
        ),
        (
            "seq 0",
            replace_once(&l1, "\"seq\":1", "\"seq\":0")?,
            "bad_link",
        ),
        (
            "seq as a string",
            replace_once(&l1, "\"seq\":1", "\"seq\":\"1\"")?,
            "bad_link",
        ),
        (
            "iat negative",
            replace_once(&l1, "\"iat\":1764115200", "\"iat\":-1")?,
            "bad_link",
        ),
        (
            "iat 2^53",
            replace_once(&l1, "\"iat\":1764115200", "\"iat\":9007199254740992")?,
            "bad_link",
        ),
        (
            "type kez-link-v2",
            replace_once(&l1, "kez-link-v1", "kez-link-v2")?,
            "bad_link",
        ),
        (
            "type missing",
            replace_once(&l1, ",\"type\":\"kez-link-v1\"", "")?,
            "bad_link",
        ),
        (
            "op not a string",
            replace_once(&l1, "\"op\":\"add_claim\"", "\"op\":1")?,
            "bad_link",
        ),
        (
            "body with a member of another op",
            replace_once(
                &l1,
                "{\"body\":{",
                &format!("{{\"body\":{{\"claim\":\"{hash1}\","),
            )?,
            "bad_link",
        ),
        (
            "body not an object",
            replace_once(&l1, "{\"subject\":\"github:alice\"}", "[\"github:alice\"]")?,
            "bad_link",
        ),
        (
            "add_claim with exp = iat",
            replace_once(&l1, "{\"subject\"", "{\"exp\":1764115200,\"subject\"")?,
            "bad_link",
        ),
        (
            "a canonical escape in a string value",
            replace_once(&l1, "github:alice", "github:alice\\n")?,
            "bad_link",
        ),
        (
            "sig in uppercase hex",
            {
                let sig = string_member(&l1, "sig")?;
                replace_once(&l1, sig, &sig.to_uppercase())?
            },
            "bad_link",
        ),
        ("a link that is a JSON array", "[1]".to_owned(), "bad_link"),
        (
            "a chain that is not a key reference",
            l1.replacen(
                &format!("\"chain\":\"{key_a}\""),
                "\"chain\":\"ed25519:00\"",
                1,
            ),
            "bad_key",
        ),
        (
            "a signer that is not of the key-reference syntax",
            l1.replacen(
                &format!("\"signer\":\"{key_a}\""),
                &format!("\"signer\":\"ed25519:{}\"", "AB".repeat(32)),
                1,
            ),
            "bad_key",
        ),
        (
            "link 1 whose chain and signer are a small-order point (replay step 9)",
            l1.replace(&key_a, &small),
            "bad_key",
        ),
        (
            "an add_device of a small-order key",
            replace_once(&line(d, 1)?, &k.d.public().to_string(), &small)?,
            "bad_key",
        ),
        (
            "a rotate to a non-canonical key",
            replace_once(
                &l2,
                &k.b.public().to_string(),
                &format!("ed25519:f0{}7f", "ff".repeat(30)),
            )?,
            "bad_key",
        ),
        (
            "a subject not in normalized form",
            replace_once(&l1, "github:alice", "github:Alice")?,
            "bad_subject",
        ),
        ("a line that is not JSON", "hello".to_owned(), "json_syntax"),
        (
            "a line with a duplicate member",
            "{\"a\":1,\"a\":1}".to_owned(),
            "duplicate_key",
        ),
        ("a line of 16385 bytes", pad_line(&l1, 16_385)?, "too_large"),
    ];
    for (what, text, class) in edits {
        let flags: &[&'static str] = if what.contains("16385") {
            &["Malformed", "LinkLimit"]
        } else {
            m
        };
        bad(what, "§14.1", flags, vec![bundle(&[&text])], class);
    }
    bad(
        "a malformed line after a fork",
        "§11.7",
        &["Malformed", "Precedence", "Fork"],
        vec![
            format!("{full}hello\n"),
            bundle(&[
                &l1,
                &sign_at(
                    &prefix(w, 1)?.pos,
                    T0 + 1,
                    &Draft::AddClaim {
                        subject: "github:bob",
                        exp: None,
                    },
                    &k.a,
                    &AUX0,
                )?,
            ]),
        ],
        "json_syntax",
    );
    bad(
        "a malformed second source after a broken rule in the first",
        "§11.7",
        &["Malformed", "Precedence", "Rule"],
        vec![pick(w, &[0, 2])?, "x\n".to_owned()],
        "json_syntax",
    );
    g.case(
        "--now that is not a number is a usage error",
        "§11.2",
        &["Usage"],
        json!({"sources": [full.clone()], "now": "soon"}),
        Want::Class("usage"),
    );
    let mut bad = |comment: &str,
                   spec: &'static str,
                   flags: &[&'static str],
                   sources: Vec<String>,
                   class: &'static str| {
        let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
        g.case(comment, spec, flags, sv(&refs, now), Want::Class(class));
    };
    bad(
        "a bundle without its final LF after a broken rule",
        "§11.7",
        &["Malformed", "Precedence", "Rule"],
        vec![format!("{}{}", pick(w, &[0, 2])?, l2)],
        "bad_link",
    );
    Ok(g)
}
