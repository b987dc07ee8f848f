//! `kez jcs`: the RFC 8785 canonical bytes of a JSON text, plus "\n" (SPEC.md §2).

use crate::cli::InputArg;
use crate::input::read_input;
use crate::output::{Done, Failure};

pub(super) fn run(args: &InputArg) -> Result<Done, Failure> {
    let text = read_input(&args.input)?;
    let mut out = kez_core::jcs::canonicalize_to_vec(&text)?;
    out.push(b'\n');
    Ok(Done::yes(out))
}
