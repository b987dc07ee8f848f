//! Case selection (`--filter`) and exception patterns: `*` and `?` wildcards over case ids
//! such as `jcs#12` or `upstream-bip340#5`.

/// Whether `pattern` has a wildcard (`*` or `?`).
#[must_use]
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Whether the whole of `text` matches `pattern`, where `*` is any run of characters (also
/// none) and `?` any one character.
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // where the last `*` was, and the text position it currently stands for the end of
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (p.get(pi), t.get(ti)) {
            (Some('*'), _) => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some('?'), _) => {
                pi += 1;
                ti += 1;
            }
            (Some(a), Some(b)) if a == b => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // let the last `*` swallow one more character and retry
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// `--filter` semantics: a pattern with a wildcard must match the whole id (`'sig#*'`); a
/// pattern with `#` is one case id (`jcs#12`, not `jcs#123`); any other pattern selects the
/// ids that contain it (`jcs` selects `jcs#…` and `upstream-jcs#…`).
#[must_use]
pub fn filter_match(pattern: &str, id: &str) -> bool {
    if is_glob(pattern) {
        glob_match(pattern, id)
    } else if pattern.contains('#') {
        id == pattern
    } else {
        id.contains(pattern)
    }
}
