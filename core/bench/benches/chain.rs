//! Replay of a 10,000-link chain against 10,000 raw signature verifies in the same run (issue
//! goal: replay under 1.15x the signatures alone), and the heap a streaming replay holds.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::BufRead;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use kez_core::chain::{Draft, Link, Position, VecReplay, claim_id, sign_link};
use kez_core::{Alg, SecretKey, signing_digest, verify_raw};

const LINKS: usize = 10_000;

#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// A chain of mostly add_claim links with a revoke every tenth link, signed by one Ed25519 key.
fn build(alg: Alg) -> Vec<Vec<u8>> {
    let key = SecretKey::from_bytes(alg, &[0x42; 32]).unwrap();
    let mut replay = VecReplay::new_vec();
    let mut lines = Vec::with_capacity(LINKS);
    let mut live = Vec::new();
    for i in 0..LINKS {
        let (head_seq, head_hash) = replay.head();
        let pos = Position {
            chain: replay.chain().copied(),
            head_seq,
            head_hash,
        };
        let iat = 1_700_000_000 + i as u64;
        let subject = format!("github:user{i}");
        let draft = if i % 10 == 9 {
            Draft::Revoke {
                claim: live.pop().unwrap(),
            }
        } else {
            live.push(claim_id(key.public(), &subject, iat, None));
            Draft::AddClaim {
                subject: &subject,
                exp: None,
            }
        };
        let mut line = Vec::new();
        sign_link(&pos, iat, &draft, &key, &[1; 32], &mut line).unwrap();
        replay.push(&line).unwrap();
        lines.push(line);
    }
    lines
}

fn bench(c: &mut Criterion) {
    let ratios = kez_core_bench::Ratios::new();
    let mut g = c.benchmark_group("chain_replay");
    // one iteration is 10,000 links (about half a second): ten samples of one iteration each
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    for (alg, name) in [(Alg::Ed25519, "ed25519"), (Alg::Bip340, "bip340")] {
        let lines = build(alg);
        let bundle: Vec<u8> = lines
            .iter()
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect();
        // the raw work: one signature verify per link over its signing digest
        let raw: Vec<([u8; 32], [u8; 32], [u8; 64])> = lines
            .iter()
            .map(|l| {
                let link = Link::parse(l).unwrap();
                let digest = signing_digest(kez_core::chain::LINK_TAG, l).unwrap();
                let text = std::str::from_utf8(l).unwrap();
                let at = text.find("\"sig\":\"").unwrap() + 7;
                let mut sig = [0u8; 64];
                for (k, b) in sig.iter_mut().enumerate() {
                    *b = u8::from_str_radix(&text[at + 2 * k..at + 2 * k + 2], 16).unwrap();
                }
                (*link.signer().as_bytes(), digest, sig)
            })
            .collect();
        // the heap a streaming replay holds: its state (O(claims)), never the bundle
        let before = HEAP.current_usage();
        HEAP.reset_peak_usage();
        let mut r = VecReplay::new_vec();
        for line in std::io::Cursor::new(&bundle).lines() {
            r.push(line.unwrap().as_bytes()).unwrap();
        }
        let peak = HEAP.peak_usage().saturating_sub(before);
        println!(
            "{name}: streaming replay of {LINKS} links ({} claims): peak heap {} KiB; bundle {} KiB; {} B per claim entry",
            r.claims().len(),
            peak / 1024,
            bundle.len() / 1024,
            std::mem::size_of::<kez_core::chain::ClaimEntry>()
        );
        drop(r);
        g.throughput(Throughput::Elements(LINKS as u64));
        g.bench_function(format!("{name}/raw_verifies"), |b| {
            b.iter(|| raw.iter().all(|(k, d, s)| verify_raw(alg, k, d, s)));
        });
        g.bench_function(format!("{name}/replay_from_reader"), |b| {
            b.iter(|| {
                let mut r = VecReplay::new_vec();
                for line in std::io::Cursor::new(&bundle).lines() {
                    r.push(line.unwrap().as_bytes()).unwrap();
                }
                r.head().0
            });
        });
    }
    g.finish();
    ratios.print(&[
        (
            "ed25519 replay of 10,000 links vs 10,000 raw verifies",
            "chain_replay/ed25519/replay_from_reader",
            "chain_replay/ed25519/raw_verifies",
        ),
        (
            "bip340 replay of 10,000 links vs 10,000 raw verifies",
            "chain_replay/bip340/replay_from_reader",
            "chain_replay/bip340/raw_verifies",
        ),
    ]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
