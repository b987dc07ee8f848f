//! `kez-conformance`: see the library docs and `conformance/README.md`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(kez_conformance::main(std::env::args_os()))
}
