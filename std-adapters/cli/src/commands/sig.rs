//! `kez sig verify`: a raw signature check for the conformance runner (`design/CLI.md`).
//!
//! Non-hex arguments are usage errors (exit 2); anything else that does not verify, wrong
//! lengths included, is the answer "no" (exit 1).

use kez_core::{Alg, verify_raw};

use crate::cli::{SigAlg, SigVerify};
use crate::input::hex;
use crate::output::{self, Answer, Done, Failure};

pub(super) fn verify(args: &SigVerify, json: bool) -> Result<Done, Failure> {
    let public = hex("--pub", &args.public)?;
    let msg = hex("--msg", &args.msg)?;
    let sig = hex("--sig", &args.sig)?;
    let alg = match args.alg {
        SigAlg::Bip340 => Alg::Bip340,
        SigAlg::Ed25519 => Alg::Ed25519,
    };
    let (status, answer) = if verify_raw(alg, &public, &msg, &sig) {
        ("valid", Answer::Yes)
    } else {
        ("invalid", Answer::No)
    };
    let stdout = if json {
        output::canonical_line(&output::object_text(&[("status", status)]))
    } else {
        format!("{status}\n").into_bytes()
    };
    Ok(Done { stdout, answer })
}
