//! How fast `kez verify id` checks many accounts: N identities, each with a proof on every
//! channel, served by local services (kez-testkit) on 127.0.0.1; one `kez verify id` run over all
//! N x channels subjects with a cold cache, then the same run again with the warm cache.
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

use kez_core::{Alg, ClaimDraft, SecretKey, encode_compact};
use kez_testkit::dns::LocalDns;
use kez_testkit::github::LocalGithub;

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
    let mut subjects = Vec::new();
    for i in 0..identities {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        let key = SecretKey::from_bytes(Alg::Ed25519, &seed).unwrap();
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
    let cache = std::env::temp_dir().join(format!("kez-verify-speed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let run = |label: &str| {
        let start = Instant::now();
        let out = Command::new(&kez)
            .args(["verify", "id", "--json", "--now", "1764200000"])
            .args(&subjects)
            .args(["--dns-server", &dns.addr.to_string()])
            .args(["--github-api", &github.base])
            .args(["--cache-dir", cache.to_str().unwrap()])
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
    run("cold cache");
    run("warm cache");
    let _ = std::fs::remove_dir_all(&cache);
}
