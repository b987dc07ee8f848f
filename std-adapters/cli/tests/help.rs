//! The CLI's shape, reviewable at a glance: snapshots of every `--help` (design/CLI.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::kez;

fn help(args: &[&str]) -> String {
    let mut argv = args.to_vec();
    argv.push("--help");
    let run = kez(&argv);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
    run.stdout
}

#[test]
fn help_root() {
    insta::assert_snapshot!("kez", help(&[]));
}

#[test]
fn help_identity() {
    insta::assert_snapshot!("identity", help(&["identity"]));
    insta::assert_snapshot!("identity_new", help(&["identity", "new"]));
    insta::assert_snapshot!("identity_show", help(&["identity", "show"]));
}

#[test]
fn help_claim() {
    insta::assert_snapshot!("claim", help(&["claim"]));
    insta::assert_snapshot!("claim_create", help(&["claim", "create"]));
    insta::assert_snapshot!("claim_verify", help(&["claim", "verify"]));
    insta::assert_snapshot!("claim_convert", help(&["claim", "convert"]));
}

#[test]
fn help_sigchain() {
    insta::assert_snapshot!("sigchain", help(&["sigchain"]));
    insta::assert_snapshot!("sigchain_new", help(&["sigchain", "new"]));
    insta::assert_snapshot!("sigchain_add", help(&["sigchain", "add"]));
    insta::assert_snapshot!("sigchain_revoke", help(&["sigchain", "revoke"]));
    insta::assert_snapshot!("sigchain_rotate", help(&["sigchain", "rotate"]));
    insta::assert_snapshot!("sigchain_add_device", help(&["sigchain", "add-device"]));
    insta::assert_snapshot!(
        "sigchain_remove_device",
        help(&["sigchain", "remove-device"])
    );
    insta::assert_snapshot!("sigchain_show", help(&["sigchain", "show"]));
    insta::assert_snapshot!("sigchain_export", help(&["sigchain", "export"]));
    insta::assert_snapshot!("sigchain_verify", help(&["sigchain", "verify"]));
}

#[test]
fn help_jcs_and_sig() {
    insta::assert_snapshot!("jcs", help(&["jcs"]));
    insta::assert_snapshot!("sig", help(&["sig"]));
    insta::assert_snapshot!("sig_verify", help(&["sig", "verify"]));
}

#[test]
fn version() {
    let run = kez(&["--version"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, format!("kez {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_are_one_line_exit_2() {
    for args in [
        &[][..],
        &["identity"],
        &["frobnicate"],
        &["jcs", "--jsn"],
        &[
            "claim",
            "create",
            "--format",
            "xml",
            "--key",
            "k",
            "--subject",
            "github:a",
        ],
        &["identity", "new", "--alg", "rsa", "--out", "k"],
        &["sig", "verify", "--alg", "ed25519"],
    ] {
        let run = kez(args);
        run.assert_error("usage");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    kez(&["identity", "new", "--json"]).assert_json_error("usage");
}

#[test]
fn help_verify() {
    insta::assert_snapshot!("verify", help(&["verify"]));
    insta::assert_snapshot!("verify_id", help(&["verify", "id"]));
}
