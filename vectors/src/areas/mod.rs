//! One module per vector file. Each builds an [`Area`]: its notes (the flags it uses), and
//! groups of cases with their inputs and intended outcomes.

mod claims_create;
mod claims_verify;
mod encodings;
mod jcs;
mod keys;
mod placeholders;
mod sig;
mod sigchain;
mod subjects;

use crate::envelope::Area;
use crate::fixtures::{Keys, R};

/// Every area, in the order of the SPEC.md table.
pub(crate) fn all() -> R<Vec<Area>> {
    let keys = Keys::new()?;
    Ok(vec![
        jcs::area(),
        keys::area()?,
        sig::area(&keys)?,
        claims_create::area(&keys)?,
        subjects::area(&keys)?,
        claims_verify::area(&keys)?,
        encodings::area(&keys)?,
        sigchain::area(&keys)?,
        placeholders::dm(),
        placeholders::files(),
    ])
}
