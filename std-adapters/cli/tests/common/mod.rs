//! Shared helpers: run the built `kez` binary, make scratch directories.

#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Ed25519 seed of the fixed test key: bytes 0x00..=0x1f.
pub const ED_SEED: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// BIP-340 secret of the fixed nostr test key.
pub const NOSTR_SEED: &str = "0000000000000000000000000000000000000000000000000000000000000003";
/// Fixed BIP-340 aux randomness.
pub const AUX: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The fixed issued-at of the snapshot claims (2025-11-26T00:00:00Z).
pub const IAT: &str = "1764115200";
/// A verification time just after [`IAT`].
pub const NOW: &str = "1764115300";

/// What a run of `kez` produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the one-line error format with `code`, and no panic.
    pub fn assert_error(&self, code: &str) {
        assert_eq!(self.code, 2, "{self:?}");
        assert_one_line_error(&self.stderr);
        assert!(self.stderr.ends_with(&format!(" [{code}]\n")), "{self:?}");
    }

    /// Asserts the `--json` error object on stdout, plus the stderr line.
    pub fn assert_json_error(&self, code: &str) {
        self.assert_error(code);
        let prefix = format!("{{\"error\":{{\"code\":\"{code}\",\"message\":\"");
        assert!(self.stdout.starts_with(&prefix), "{self:?}");
        assert!(self.stdout.ends_with("\"}}\n"), "{self:?}");
        assert_eq!(self.stdout.lines().count(), 1, "{self:?}");
    }
}

/// Exactly one line `kez: <message> [<code>]`, never a panic or backtrace.
pub fn assert_one_line_error(stderr: &str) {
    assert!(stderr.starts_with("kez: "), "{stderr:?}");
    assert!(stderr.ends_with("]\n"), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    let lower = stderr.to_lowercase();
    assert!(
        !lower.contains("panicked") && !lower.contains("backtrace"),
        "{stderr:?}"
    );
}

/// Runs `kez args` with empty stdin.
pub fn kez(args: &[&str]) -> Run {
    kez_in(args, b"", None)
}

/// Runs `kez args` with `stdin`.
pub fn kez_stdin(args: &[&str], stdin: &[u8]) -> Run {
    kez_in(args, stdin, None)
}

/// Runs `kez args` in `dir` with `stdin`.
pub fn kez_in(args: &[&str], stdin: &[u8], dir: Option<&Path>) -> Run {
    kez_env(args, stdin, dir, &[])
}

/// Runs `kez args` in `dir` with `stdin` and the extra environment `env`.
pub fn kez_env(args: &[&str], stdin: &[u8], dir: Option<&Path>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kez"));
    cmd.envs(env.iter().copied());
    cmd.args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    // kez may stop reading early (size cap): a failed write is expected then
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kez-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the fixed key of `alg` (`nostr` or `ed25519`) into `dir` and returns its path.
pub fn fixed_key(dir: &Path, alg: &str) -> String {
    let seed = if alg == "nostr" { NOSTR_SEED } else { ED_SEED };
    let path = dir.join(format!("{alg}.json"));
    let path = path.to_str().unwrap().to_owned();
    let run = kez(&[
        "identity", "new", "--alg", alg, "--seed", seed, "--out", &path,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    path
}

/// Creates the fixed claim of `key` for `subject` in `format`.
pub fn fixed_claim(key: &str, subject: &str, format: &str) -> String {
    let run = kez(&[
        "claim",
        "create",
        "--key",
        key,
        "--subject",
        subject,
        "--iat",
        IAT,
        "--aux",
        AUX,
        "--format",
        format,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
}
