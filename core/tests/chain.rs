//! Sigchains (SPEC.md §14): the acceptance scenario, every typed error, forks, expiry, random
//! valid op sequences, and a snapshot of a bundle.
#![allow(
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kez_core::chain::{Draft, Position, Pushed, VecReplay, bundle_lines, claim_id, sign_link};
use kez_core::{Alg, Error, SecretKey, Status, jcs};
use proptest::prelude::*;

fn key(alg: Alg, b: u8) -> SecretKey {
    SecretKey::from_bytes(alg, &[b; 32]).unwrap()
}

/// A chain under construction: its lines and the replay that checks each as it is added.
struct Chain {
    lines: Vec<Vec<u8>>,
    replay: VecReplay,
}

impl Chain {
    fn new() -> Self {
        Self {
            lines: Vec::new(),
            replay: VecReplay::new_vec(),
        }
    }

    fn position(&self) -> Position {
        let (head_seq, head_hash) = self.replay.head();
        Position {
            chain: self.replay.chain().copied(),
            head_seq,
            head_hash,
        }
    }

    fn draft_line(&self, iat: u64, draft: &Draft<'_>, signer: &SecretKey) -> Vec<u8> {
        let mut line = Vec::new();
        sign_link(&self.position(), iat, draft, signer, &[3; 32], &mut line).unwrap();
        line
    }

    fn add(&mut self, iat: u64, draft: &Draft<'_>, signer: &SecretKey) -> Result<Pushed, Error> {
        let line = self.draft_line(iat, draft, signer);
        let r = self.replay.push(&line);
        if r.is_ok() {
            self.lines.push(line);
        }
        r
    }

    fn bundle(&self) -> Vec<u8> {
        self.lines
            .iter()
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect()
    }
}

fn replay(bundle: &[u8]) -> Result<VecReplay, Error> {
    let mut r = VecReplay::new_vec();
    for line in bundle_lines(bundle) {
        r.push(line?)?;
    }
    Ok(r)
}

/// The scenario: ed25519 identity, three claims, revoke github, rotate to nostr, add a
/// device, the device claims an ap account.
fn scenario() -> (Chain, SecretKey, SecretKey, SecretKey) {
    let ed = key(Alg::Ed25519, 1);
    let nostr = key(Alg::Bip340, 2);
    let device = key(Alg::Ed25519, 3);
    let mut c = Chain::new();
    let t = 1_764_115_200;
    for (i, s) in [
        "github:alice",
        "dns:alice.example",
        "bluesky:alice.bsky.social",
    ]
    .iter()
    .enumerate()
    {
        c.add(
            t + i as u64,
            &Draft::AddClaim {
                subject: s,
                exp: None,
            },
            &ed,
        )
        .unwrap();
    }
    let github = claim_id(ed.public(), "github:alice", t, None);
    c.add(t + 10, &Draft::Revoke { claim: github }, &ed)
        .unwrap();
    c.add(t + 20, &Draft::Rotate { new_key: &nostr }, &ed)
        .unwrap();
    c.add(t + 30, &Draft::AddDevice { device: &device }, &nostr)
        .unwrap();
    c.add(
        t + 40,
        &Draft::AddClaim {
            subject: "ap:@alice@social.example",
            exp: None,
        },
        &device,
    )
    .unwrap();
    (c, ed, nostr, device)
}

#[test]
fn scenario_state() {
    let (c, ed, nostr, device) = scenario();
    let r = replay(&c.bundle()).unwrap();
    assert_eq!(r.status(), Status::Valid);
    assert_eq!(r.chain(), Some(ed.public()));
    assert_eq!(r.primary(), Some(*nostr.public()));
    assert_eq!(r.head().0, 7);
    let keys: Vec<_> = r.keys().iter().map(|k| (k.key, k.from, k.until)).collect();
    assert_eq!(
        keys,
        [(*ed.public(), 0, Some(5)), (*nostr.public(), 5, None)]
    );
    assert_eq!(r.devices().len(), 1);
    assert_eq!(
        (
            r.devices()[0].key,
            r.devices()[0].added,
            r.devices()[0].removed
        ),
        (*device.public(), 6, None)
    );
    let now = 1_764_200_000;
    let states: Vec<_> = r
        .claims()
        .iter()
        .map(|c| (r.subject(c).to_owned(), c.state(now)))
        .collect();
    assert_eq!(
        states,
        [
            ("github:alice".to_owned(), (Status::Revoked, 4)),
            ("dns:alice.example".to_owned(), (Status::Valid, 2)),
            ("bluesky:alice.bsky.social".to_owned(), (Status::Valid, 3)),
            ("ap:@alice@social.example".to_owned(), (Status::Valid, 7)),
        ]
    );
    // every line is exactly its JCS form
    for l in &c.lines {
        assert_eq!(&jcs::canonicalize_to_vec(l).unwrap(), l);
    }
}

#[test]
fn old_key_after_rotation_is_rejected() {
    let (mut c, ed, _, _) = scenario();
    let r = c.add(
        1_764_116_000,
        &Draft::AddClaim {
            subject: "github:mallory",
            exp: None,
        },
        &ed,
    );
    assert_eq!(r, Err(Error::OldKey { seq: 8 }));
    assert_eq!(Error::OldKey { seq: 8 }.kind(), "old_key");
}

#[test]
fn signer_rules() {
    let (mut c, _, nostr, device) = scenario();
    let stranger = key(Alg::Ed25519, 9);
    let t = 1_764_116_000;
    // a stranger may sign nothing; a device may not rotate or add devices
    assert_eq!(
        c.add(
            t,
            &Draft::AddClaim {
                subject: "github:x",
                exp: None
            },
            &stranger
        ),
        Err(Error::WrongSigner { seq: 8 })
    );
    assert_eq!(
        c.add(t, &Draft::Rotate { new_key: &stranger }, &device),
        Err(Error::WrongSigner { seq: 8 })
    );
    assert_eq!(
        c.add(t, &Draft::AddDevice { device: &stranger }, &device),
        Err(Error::WrongSigner { seq: 8 })
    );
    // a device may not revoke a claim the primary made, but may revoke its own
    let dns = claim_id(
        &c.replay.chain().copied().unwrap(),
        "dns:alice.example",
        1_764_115_201,
        None,
    );
    assert_eq!(
        c.add(t, &Draft::Revoke { claim: dns }, &device),
        Err(Error::WrongSigner { seq: 8 })
    );
    let ap = claim_id(
        device.public(),
        "ap:@alice@social.example",
        1_764_115_240,
        None,
    );
    assert_eq!(
        c.add(t, &Draft::Revoke { claim: ap }, &device),
        Ok(Pushed::Applied)
    );
    // targets: revoking twice, removing an unknown device
    assert_eq!(
        c.add(t, &Draft::Revoke { claim: ap }, &nostr),
        Err(Error::BadTarget { seq: 9 })
    );
    assert_eq!(
        c.add(
            t,
            &Draft::RemoveDevice {
                device: *stranger.public()
            },
            &nostr
        ),
        Err(Error::BadTarget { seq: 9 })
    );
    // a device may remove itself, then it may sign nothing more
    assert_eq!(
        c.add(
            t,
            &Draft::RemoveDevice {
                device: *device.public()
            },
            &device
        ),
        Ok(Pushed::Applied)
    );
    assert_eq!(
        c.add(
            t,
            &Draft::AddClaim {
                subject: "github:x",
                exp: None
            },
            &device
        ),
        Err(Error::WrongSigner { seq: 10 })
    );
    // time does not go backwards
    assert_eq!(
        c.add(
            t - 1,
            &Draft::AddClaim {
                subject: "github:x",
                exp: None
            },
            &nostr
        ),
        Err(Error::BadLink)
    );
}

#[test]
fn export_is_byte_identical_and_fork_names_both_links() {
    let (c, ed, _, _) = scenario();
    assert_eq!(
        c.bundle(),
        scenario().0.bundle(),
        "the same history signs to the same bundle"
    );
    // a second, different, validly signed link at seq 3
    let mut at2 = Chain::new();
    for line in &c.lines[..2] {
        at2.replay.push(line).unwrap();
        at2.lines.push(line.clone());
    }
    let other = at2.draft_line(
        1_764_115_202,
        &Draft::AddClaim {
            subject: "github:eve",
            exp: None,
        },
        &ed,
    );
    let mut lines = c.lines.clone();
    lines.insert(3, other.clone());
    let forked: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    let r = replay(&forked).unwrap();
    assert_eq!(r.status(), Status::Fork);
    let fork = *r.fork().unwrap();
    assert_eq!(fork.seq, 3);
    assert_eq!(
        fork.first,
        kez_core::chain::Link::parse(&c.lines[2])
            .unwrap()
            .hash()
            .to_owned()
    );
    assert_eq!(
        fork.second,
        kez_core::chain::Link::parse(&other)
            .unwrap()
            .hash()
            .to_owned()
    );
    // a strict prefix is stale, not a fork: its lines are duplicates of the head as they come
    let mut merged = VecReplay::new_vec();
    for (a, b) in c.lines.iter().zip(&c.lines[..4]) {
        merged.push(a).unwrap();
        assert_eq!(merged.push(b).unwrap(), Pushed::Duplicate);
    }
    // a conflicting link whose signature is bad is an error, not a fork
    let mut bad = other.clone();
    let sig_at = bad.windows(7).position(|w| w == b"\"sig\":\"").unwrap() + 7;
    bad[sig_at] = if bad[sig_at] == b'0' { b'1' } else { b'0' };
    let mut r = VecReplay::new_vec();
    for l in &c.lines[..3] {
        r.push(l).unwrap();
    }
    assert_eq!(r.push(&bad), Err(Error::BadSignature { seq: 3 }));
}

#[test]
fn expired_claims() {
    let ed = key(Alg::Ed25519, 1);
    let mut c = Chain::new();
    c.add(
        1000,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: Some(2000),
        },
        &ed,
    )
    .unwrap();
    let r = replay(&c.bundle()).unwrap();
    assert_eq!(r.claims()[0].state(1999), (Status::Valid, 1));
    assert_eq!(r.claims()[0].state(2000), (Status::Expired, 1));
}

#[test]
fn swapped_and_dropped_links() {
    let (c, _, _, _) = scenario();
    let join = |ls: &[Vec<u8>]| -> Vec<u8> {
        ls.iter()
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect()
    };
    for i in 0..c.lines.len() {
        for j in i + 1..c.lines.len() {
            let mut ls = c.lines.clone();
            ls.swap(i, j);
            let want = Error::SeqGap {
                expected: i as u64 + 1,
                got: j as u64 + 1,
            };
            assert_eq!(replay(&join(&ls)).err(), Some(want), "swap {i} {j}");
        }
    }
    for i in 1..c.lines.len() - 1 {
        let mut ls = c.lines.clone();
        ls.remove(i);
        assert_eq!(
            replay(&join(&ls)).err(),
            Some(Error::SeqGap {
                expected: i as u64 + 1,
                got: i as u64 + 2
            })
        );
    }
    // structural bundle errors
    let b = c.bundle();
    assert_eq!(
        replay(&b[..b.len() - 1]).err(),
        Some(Error::BadLink),
        "missing final newline"
    );
    assert_eq!(
        replay(&[&b[..], b"\n"].concat()).err(),
        Some(Error::BadLink),
        "empty line"
    );
}

/// The error a flipped byte must produce, from the field it lands in.
#[test]
fn every_flipped_byte_is_caught() {
    let (c, _, _, _) = scenario();
    let lines = &c.lines;
    for (li, line) in lines.iter().enumerate() {
        let mut before = VecReplay::new_vec();
        for l in &lines[..li] {
            before.push(l).unwrap();
        }
        for pos in 0..line.len() {
            let mut m = line.clone();
            // a hex digit stays a hex digit (so the field still parses), anything else becomes 'X'
            m[pos] = match m[pos] {
                b'0' => b'1',
                b'1'..=b'9' | b'a'..=b'f' => b'0',
                _ => b'X',
            };
            let got = before.clone().push(&m);
            assert!(
                got.is_err(),
                "line {li} byte {pos}: accepted {:?}",
                String::from_utf8_lossy(&m)
            );
            let field = field_at(line, pos);
            let e = got.unwrap_err();
            let hex_digit = line[pos].is_ascii_hexdigit() && !line[pos].is_ascii_uppercase();
            let ok = !hex_digit
                || match field.as_str() {
                    "sig" => e == Error::BadSignature { seq: li as u64 + 1 } || e == Error::BadLink,
                    "prev" => e == Error::PrevMismatch { seq: li as u64 + 1 },
                    "seq" => matches!(e, Error::SeqGap { .. } | Error::BadLink),
                    _ => true,
                };
            assert!(ok, "line {li} byte {pos} in {field}: {e:?}");
        }
    }
}

/// The top-level member whose value holds byte `pos` of a canonical link line.
fn field_at(line: &[u8], pos: usize) -> String {
    let s = std::str::from_utf8(line).unwrap();
    let mut best = String::new();
    for name in [
        "body", "chain", "iat", "op", "prev", "seq", "sig", "signer", "type",
    ] {
        let key = format!("\"{name}\":");
        if let Some(at) = s.find(&key) {
            if at + key.len() <= pos {
                let start = at + key.len();
                let end = start + s[start..].find([',', '}']).unwrap_or(0);
                let end = if name == "body" {
                    s.find(",\"chain\"").unwrap()
                } else {
                    end
                };
                if pos < end {
                    best = name.to_owned();
                }
            }
        }
    }
    best
}

#[test]
fn bundle_snapshot() {
    let (c, _, _, _) = scenario();
    insta::assert_snapshot!(String::from_utf8(c.bundle()).unwrap());
}

#[test]
fn fixed_capacity_replay_without_alloc_storage() {
    let (c, _, _, _) = scenario();
    let mut r = kez_core::chain::Replay::new(
        heapless::Vec::<_, 4>::new(),
        heapless::Vec::<_, 1>::new(),
        heapless::Vec::<_, 2>::new(),
        heapless::Vec::<u8, 128>::new(),
    );
    for l in &c.lines {
        r.push(l).unwrap();
    }
    assert_eq!(r.claims().len(), 4);
    let mut small = kez_core::chain::Replay::new(
        heapless::Vec::<_, 2>::new(),
        heapless::Vec::<_, 1>::new(),
        heapless::Vec::<_, 2>::new(),
        heapless::Vec::<u8, 128>::new(),
    );
    let errs: Vec<_> = c.lines.iter().filter_map(|l| small.push(l).err()).collect();
    assert_eq!(errs.first(), Some(&Error::Full));
}

#[derive(Clone, Debug)]
enum Step {
    Claim(u8),
    Revoke(prop::sample::Index),
    Rotate,
    AddDevice,
    RemoveDevice(prop::sample::Index),
    DeviceClaim(prop::sample::Index, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => any::<u8>().prop_map(Step::Claim),
        2 => any::<prop::sample::Index>().prop_map(Step::Revoke),
        1 => Just(Step::Rotate),
        1 => Just(Step::AddDevice),
        1 => any::<prop::sample::Index>().prop_map(Step::RemoveDevice),
        2 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, n)| Step::DeviceClaim(i, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_histories_replay_to_the_model(steps in prop::collection::vec(step(), 1..24)) {
        let mut next_key = 10u8;
        let mut fresh = |alg| { next_key += 1; key(alg, next_key) };
        let mut primary = fresh(Alg::Ed25519);
        let mut devices: Vec<SecretKey> = Vec::new();
        // model: (claim id, signer index, revoked)
        let mut claims: Vec<([u8; 32], kez_core::KeyRef, bool)> = Vec::new();
        let mut c = Chain::new();
        let mut t = 1_700_000_000u64;
        for s in steps {
            t += 1;
            let pushed = match s {
                Step::Claim(n) => {
                    let subject = format!("github:user{n}-{t}");
                    claims.push((claim_id(primary.public(), &subject, t, None), *primary.public(), false));
                    c.add(t, &Draft::AddClaim { subject: &subject, exp: None }, &primary)
                }
                Step::Revoke(i) => {
                    let live: Vec<usize> = (0..claims.len()).filter(|&k| !claims[k].2).collect();
                    if live.is_empty() { continue; }
                    let k = live[i.index(live.len())];
                    claims[k].2 = true;
                    c.add(t, &Draft::Revoke { claim: claims[k].0 }, &primary)
                }
                Step::Rotate => {
                    let alg = if t % 2 == 0 { Alg::Bip340 } else { Alg::Ed25519 };
                    let new = fresh(alg);
                    let r = c.add(t, &Draft::Rotate { new_key: &new }, &primary);
                    primary = new;
                    r
                }
                Step::AddDevice => {
                    let d = fresh(Alg::Ed25519);
                    let r = c.add(t, &Draft::AddDevice { device: &d }, &primary);
                    devices.push(d);
                    r
                }
                Step::RemoveDevice(i) => {
                    if devices.is_empty() { continue; }
                    let d = devices.remove(i.index(devices.len()));
                    c.add(t, &Draft::RemoveDevice { device: *d.public() }, &primary)
                }
                Step::DeviceClaim(i, n) => {
                    if devices.is_empty() { continue; }
                    let d = &devices[i.index(devices.len())];
                    let subject = format!("dns:d{n}-{t}.example");
                    claims.push((claim_id(d.public(), &subject, t, None), *d.public(), false));
                    c.add(t, &Draft::AddClaim { subject: &subject, exp: None }, d)
                }
            };
            prop_assert_eq!(pushed, Ok(Pushed::Applied));
        }
        let r = replay(&c.bundle()).unwrap();
        let expected_primary = if c.lines.is_empty() { None } else { Some(*primary.public()) };
        prop_assert_eq!(r.primary(), expected_primary);
        let live_devices: Vec<_> = r.devices().iter().filter(|d| d.removed.is_none()).map(|d| d.key).collect();
        prop_assert_eq!(live_devices, devices.iter().map(|d| *d.public()).collect::<Vec<_>>());
        let got: Vec<_> = r.claims().iter().map(|e| (e.id, e.signer, e.revoked.is_some())).collect();
        prop_assert_eq!(got, claims);
    }
}

#[test]
fn fork_candidates_are_judged_in_the_heads_place() {
    let ed = key(Alg::Ed25519, 1);
    let nostr = key(Alg::Bip340, 2);
    let mut c = Chain::new();
    c.add(
        10,
        &Draft::AddClaim {
            subject: "github:alice",
            exp: None,
        },
        &ed,
    )
    .unwrap();
    let mut before = VecReplay::new_vec();
    before.push(&c.lines[0]).unwrap();
    c.add(11, &Draft::Rotate { new_key: &nostr }, &ed).unwrap();
    // a link at the rotate's seq signed by the key the rotate introduced: that key could not
    // sign there, and it is not a former primary either
    let pos = Position {
        chain: before.chain().copied(),
        head_seq: 1,
        head_hash: before.head().1,
    };
    let mut line = Vec::new();
    sign_link(
        &pos,
        11,
        &Draft::AddClaim {
            subject: "github:eve",
            exp: None,
        },
        &nostr,
        &[0; 32],
        &mut line,
    )
    .unwrap();
    assert_eq!(c.replay.push(&line), Err(Error::WrongSigner { seq: 2 }));
}
