//! Areas reserved for later revisions (SPEC.md §13.3): the files exist, with zero tests, so
//! runners and ports can already look for them.

use crate::envelope::Area;

pub(crate) fn dm() -> Area {
    Area::new(
        "dm",
        &[(
            "Placeholder",
            "No tests yet: direct-message envelopes (NIP-44 v2 including its large-payload form, \
             NIP-59 gift wraps, NIP-17 rumors) land with the messaging revision (SPEC.md §13.3).",
        )],
    )
}

pub(crate) fn files() -> Area {
    Area::new(
        "files",
        &[(
            "Placeholder",
            "No tests yet: file bodies (kez-file-v1 inline and pointer bodies, kez-file-chunk-v1 \
             chunks, requests for missing chunks) land with the messaging revision \
             (SPEC.md §13.3).",
        )],
    )
}
