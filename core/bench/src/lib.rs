//! Inputs shared by the kez-core criterion benches (the benches themselves are in `benches/`).

use std::fmt::Write as _;

/// A deterministic JSON object of roughly `target` bytes: records with strings (some escaped,
/// some non-ASCII), integers, decimals, booleans and nested arrays, members in non-sorted order.
#[must_use]
pub fn json_object(target: usize) -> String {
    let mut s = String::from("{\"records\":[");
    let mut i = 0u64;
    while s.len() < target.saturating_sub(120) {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"zeta\":{i},\"name\":\"user-{i} \\u00e9t\\u00e9 \\\"q\\\"\",\"active\":{},\"score\":{}.{},\"tags\":[\"a\",\"bé\",{}],\"id\":\"{:016x}\"}}",
            i % 2 == 0,
            i * 37 % 1000,
            i % 97,
            i * 1_000_003,
            i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
        i += 1;
    }
    let _ = write!(
        s,
        "],\"count\":{i},\"version\":\"0.2\",\"big\":1e21,\"small\":5e-7}}"
    );
    s
}
