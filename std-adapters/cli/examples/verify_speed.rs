//! How fast `kez verify id` checks many accounts: N identities, each with a proof on every
//! channel (dns, github, nostr on two relays, bluesky, ap), served by local services
//! (kez-testkit) on 127.0.0.1; one `kez verify id` run over all N x 5 subjects with a cold cache,
//! then the same run again with the warm cache.
//!
//! ```text
//! cargo build --release -p kez-cli
//! cargo run --release -p kez-cli --example verify_speed -- [--kez PATH] [--identities N]
//! ```
//!
//! PATH defaults to `$CARGO_TARGET_DIR/release/kez` (or `target/release/kez`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use std::sync::Arc;

use kez_core::{Alg, ClaimDraft, SecretKey, encode_compact};
use kez_testkit::atproto::{Atproto, PLC_HOST};
use kez_testkit::dns::LocalDns;
use kez_testkit::github::LocalGithub;
use kez_testkit::mastodon::Mastodon;
use kez_testkit::nostr::{LocalRelays, proof_event};
use kez_testkit::web::{LocalWeb, Site};

const IAT: u64 = 1_764_115_200;

fn claim(key: &SecretKey, subject: &str) -> String {
    let mut json = Vec::new();
    ClaimDraft {
        subject,
        iat: IAT,
        exp: None,
    }
    .sign(key, &[7; 32], &mut json)
    .unwrap();
    encode_compact(&json)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut kez = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| PathBuf::from("target"), PathBuf::from)
        .join("release")
        .join("kez");
    let mut identities = 100usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kez" => kez = PathBuf::from(args.next().expect("--kez PATH")),
            "--identities" => identities = args.next().expect("--identities N").parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(kez.exists(), "no kez binary at {}", kez.display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dns = runtime.block_on(LocalDns::start("example."));
    let github = runtime.block_on(LocalGithub::start());
    let atproto = Atproto::new();
    let mastodon = Mastodon::new("social.example");
    let sites: Vec<Arc<dyn Site>> = vec![atproto.clone(), mastodon.clone()];
    let web = runtime.block_on(LocalWeb::start(sites));
    let mut subjects = Vec::new();
    let mut events = Vec::new();
    for i in 0..identities {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        // one nostr key per identity: it signs the claims and is the nostr account
        let key = SecretKey::from_bytes(Alg::Bip340, &seed).unwrap();
        let subject = key.public().to_string();
        let compact = claim(&key, &subject);
        events.push(proof_event(&seed, &subject, &compact, IAT));
        subjects.push(subject);
        let handle = format!("user{i}.bsky.example");
        let subject = format!("bluesky:{handle}");
        atproto.add_account(&handle, None);
        atproto.post(&handle, "KEZ identity proof", Some(&claim(&key, &subject)));
        subjects.push(subject);
        let subject = format!("ap:@user{i}@social.example");
        mastodon.add_user(&format!("user{i}"), None);
        mastodon.post(
            &format!("user{i}"),
            &format!("KEZ identity proof\n\n{}", claim(&key, &subject)),
        );
        subjects.push(subject);
        let domain = format!("user{i}.example");
        let subject = format!("dns:{domain}");
        let strings = kez_core::txt_strings(&claim(&key, &subject))
            .map(|s| String::from_utf8(s.to_vec()).unwrap())
            .collect();
        runtime.block_on(dns.add_txt(&format!("_kez.{domain}."), strings));
        subjects.push(subject);
        let login = format!("user{i}");
        let subject = format!("github:{login}");
        github.add_user(&login, None);
        github.add_gist(
            &login,
            "kez.md",
            &format!("```kez\n{}\n```\n", claim(&key, &subject)),
        );
        subjects.push(subject);
    }
    let relays = runtime.block_on(LocalRelays::start(2, &events));
    let cache = std::env::temp_dir().join(format!("kez-verify-speed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let run = |label: &str, only: Option<&str>| {
        let subjects: Vec<&String> = subjects
            .iter()
            .filter(|s| only.is_none_or(|ch| s.starts_with(ch)))
            .collect();
        let start = Instant::now();
        let out = Command::new(&kez)
            .args(["verify", "id", "--json", "--now", "1764200000"])
            .args(&subjects)
            .args(["--dns-server", &dns.addr.to_string()])
            .args(["--github-api", &github.base])
            .args(["--cache-dir", cache.to_str().unwrap()])
            .args(["--web-origin", &web.origin])
            .args(["--plc-directory", &format!("https://{PLC_HOST}")])
            .args(relays.urls.iter().flat_map(|u| ["--relay", u.as_str()]))
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let valid = stdout
            .lines()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .is_ok_and(|v| v.get("status").is_some_and(|s| s == "valid"))
            })
            .count();
        assert_eq!(
            valid,
            subjects.len(),
            "{label}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!(
            "{label}: {} accounts in {:.3} s, {:.0} proofs/s",
            subjects.len(),
            elapsed.as_secs_f64(),
            subjects.len() as f64 / elapsed.as_secs_f64()
        );
    };
    run("cold cache", None);
    run("warm cache", None);
    for ch in ["dns:", "github:", "nostr:", "bluesky:", "ap:"] {
        run(&format!("warm cache, {ch} only"), Some(ch));
    }
    let _ = std::fs::remove_dir_all(&cache);
}
