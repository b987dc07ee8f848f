//! Subjects `channel:handle` and their normalization (SPEC.md §6).
//!
//! Normalization runs before signing and before comparing; a verifier rejects a claim whose
//! subject is not already normalized, so every subject has one byte form. It writes into a
//! caller's fixed buffer of [`MAX_SUBJECT`] bytes and never allocates.

use crate::error::Error;
use crate::jcs::{Sink, SliceSink};
use crate::keys::{Alg, KeyRef, decode_npub};

/// Maximum length of a normalized subject, in bytes: the longest any channel can produce
/// (`ap:@` + 64-byte user + `@` + 253-byte host).
pub const MAX_SUBJECT: usize = 322;

/// The channels of protocol v0.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A DNS domain; the proof is a TXT record at `_kez.<domain>`.
    Dns,
    /// A GitHub account; the proof is a public gist.
    Github,
    /// A nostr key; the proof is a nostr event by that key.
    Nostr,
    /// A Bluesky (atproto) handle; the proof is a post by the handle's DID.
    Bluesky,
    /// An ActivityPub actor (alias `mastodon`); the proof is a public post or profile field.
    Ap,
}

impl Channel {
    /// The normalized channel name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Github => "github",
            Self::Nostr => "nostr",
            Self::Bluesky => "bluesky",
            Self::Ap => "ap",
        }
    }

    /// Parses a channel name, case-insensitively; `mastodon` is an alias of `ap`.
    ///
    /// # Errors
    /// [`Error::BadSubject`] for an unknown channel.
    pub fn parse(name: &str) -> Result<Self, Error> {
        const NAMES: [(&str, Channel); 6] = [
            ("dns", Channel::Dns),
            ("github", Channel::Github),
            ("nostr", Channel::Nostr),
            ("bluesky", Channel::Bluesky),
            ("ap", Channel::Ap),
            ("mastodon", Channel::Ap),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, c)| c)
            .ok_or(Error::BadSubject)
    }
}

/// Normalizes `input` (`channel:handle`) into `out`, returning the normalized subject.
///
/// # Errors
/// [`Error::BadSubject`] when the channel is unknown or the handle is malformed.
pub fn normalize<'o>(input: &str, out: &'o mut [u8; MAX_SUBJECT]) -> Result<&'o str, Error> {
    let (ch, handle) = input.split_once(':').ok_or(Error::BadSubject)?;
    let channel = Channel::parse(ch)?;
    let mut w = SliceSink::new(out);
    let res = write_normalized(channel, handle, &mut w);
    let len = w.len();
    res.map_err(|_| Error::BadSubject)?;
    let bytes = out.get(..len).ok_or(Error::BadSubject)?;
    core::str::from_utf8(bytes).map_err(|_| Error::BadSubject)
}

/// Splits a normalized subject into its channel and handle.
///
/// # Errors
/// [`Error::BadSubject`] when `subject` is malformed or not in normalized form.
pub fn check_normalized(subject: &str) -> Result<(Channel, &str), Error> {
    let mut buf = [0u8; MAX_SUBJECT];
    if normalize(subject, &mut buf)? != subject {
        return Err(Error::BadSubject);
    }
    let (ch, handle) = subject.split_once(':').ok_or(Error::BadSubject)?;
    Ok((Channel::parse(ch)?, handle))
}

fn write_normalized(channel: Channel, handle: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    w.write(channel.as_str().as_bytes())?;
    w.write(b":")?;
    match channel {
        Channel::Dns => domain(handle, w),
        Channel::Github => github(handle, w),
        Channel::Nostr => nostr(handle, w),
        Channel::Bluesky => bluesky(handle, w),
        Channel::Ap => ap(handle, w),
    }
}

fn github(handle: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    let login = handle.strip_prefix('@').unwrap_or(handle);
    let ok = (1..=39).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.as_bytes().windows(2).any(|w| w == b"--");
    if !ok {
        return Err(Error::BadSubject);
    }
    write_lower(login, w)
}

fn nostr(handle: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    let mut lower = [0u8; 63];
    let src = handle.as_bytes();
    if src.len() != lower.len()
        || (src.iter().any(u8::is_ascii_lowercase) && src.iter().any(u8::is_ascii_uppercase))
    {
        return Err(Error::BadSubject);
    }
    for (d, s) in lower.iter_mut().zip(src) {
        *d = s.to_ascii_lowercase();
    }
    let npub = core::str::from_utf8(&lower).map_err(|_| Error::BadSubject)?;
    let bytes = decode_npub(npub).map_err(|_| Error::BadSubject)?;
    KeyRef::from_bytes(Alg::Bip340, bytes).map_err(|_| Error::BadSubject)?;
    w.write(&lower)
}

fn bluesky(handle: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    let h = handle.strip_prefix('@').unwrap_or(handle);
    if !is_atproto_handle(h) {
        return Err(Error::BadSubject);
    }
    write_lower(h, w)
}

/// atproto handle syntax: ASCII, >= 2 labels of 1..63 `[A-Za-z0-9-]` without a leading or
/// trailing hyphen, at most 253 bytes, last label not starting with a digit.
#[must_use]
pub fn is_atproto_handle(h: &str) -> bool {
    if h.len() > 253 || !h.is_ascii() {
        return false;
    }
    let mut labels = 0usize;
    let mut last = "";
    for label in h.split('.') {
        if !is_ldh_label(label) {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

fn is_ldh_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn ap(handle: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    let h = handle.strip_prefix('@').unwrap_or(handle);
    let (user, host) = h.split_once('@').ok_or(Error::BadSubject)?;
    let ok = (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        return Err(Error::BadSubject);
    }
    w.write(b"@")?;
    write_lower(user, w)?;
    w.write(b"@")?;
    domain(host, w)
}

fn write_lower(s: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    for b in s.bytes() {
        w.write(&[b.to_ascii_lowercase()])?;
    }
    Ok(())
}

/// Writes a normalized domain: lowercase LDH labels, Unicode labels as Punycode A-labels.
fn domain(input: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    let d = input.strip_suffix('.').unwrap_or(input);
    let start = w.len();
    let mut labels = 0usize;
    let mut last_start = start;
    for (i, label) in d.split('.').enumerate() {
        if i > 0 {
            w.write(b".")?;
        }
        last_start = w.len();
        if label.is_ascii() {
            write_lower(label, w)?;
        } else {
            w.write(b"xn--")?;
            punycode_label(label, w)?;
        }
        let written = w.written().get(last_start..).unwrap_or_default();
        if !is_ldh_label(core::str::from_utf8(written).map_err(|_| Error::BadSubject)?) {
            return Err(Error::BadSubject);
        }
        labels += 1;
    }
    let total = w.len() - start;
    let last = w.written().get(last_start..).unwrap_or_default();
    if labels < 2 || total > 253 || last.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadSubject);
    }
    Ok(())
}

/// RFC 3492 Punycode of the lowercased `label` (without the `xn--` prefix).
fn punycode_label(label: &str, w: &mut SliceSink<'_>) -> Result<(), Error> {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    // a label longer than 63 code points can never fit in 63 bytes
    let mut cps = [0u32; 63];
    let mut len = 0usize;
    for c in label.chars().flat_map(char::to_lowercase) {
        *cps.get_mut(len).ok_or(Error::BadSubject)? = u32::from(c);
        len += 1;
    }
    let cps = cps.get(..len).ok_or(Error::BadSubject)?;
    let digit = |d: u32| -> u8 {
        // d < 36 by construction
        let d = u8::try_from(d).unwrap_or(0);
        if d < 26 { b'a' + d } else { b'0' + (d - 26) }
    };
    let mut basic = 0u32;
    for &c in cps.iter().filter(|&&c| c < 0x80) {
        w.write(&[u8::try_from(c).map_err(|_| Error::BadSubject)?])?;
        basic += 1;
    }
    if basic > 0 {
        w.write(b"-")?;
    }
    let total = u32::try_from(cps.len()).map_err(|_| Error::BadSubject)?;
    let (mut n, mut delta, mut bias, mut h) = (0x80u32, 0u32, 72u32, basic);
    while h < total {
        let m = cps
            .iter()
            .copied()
            .filter(|&c| c >= n)
            .min()
            .ok_or(Error::BadSubject)?;
        delta = (m - n)
            .checked_mul(h + 1)
            .and_then(|x| x.checked_add(delta))
            .ok_or(Error::BadSubject)?;
        n = m;
        for &c in cps {
            if c < n {
                delta = delta.checked_add(1).ok_or(Error::BadSubject)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        TMIN
                    } else if k >= bias + TMAX {
                        TMAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    w.write(&[digit(t + (q - t) % (BASE - t))])?;
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                w.write(&[digit(q)])?;
                bias = adapt(delta, h + 1, h == basic);
                delta = 0;
                h += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Ok(())
}

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / 700 } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((36 - 1) * 26) / 2 {
        delta /= 36 - 1;
        k += 36;
    }
    k + (36 * delta) / (delta + 38)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Result<std::string::String, Error> {
        let mut buf = [0u8; MAX_SUBJECT];
        normalize(s, &mut buf).map(std::string::ToString::to_string)
    }
    extern crate std;

    #[test]
    fn channels() {
        assert_eq!(norm("GitHub:@Alice").as_deref(), Ok("github:alice"));
        assert_eq!(
            norm("dns:Alice.Example.").as_deref(),
            Ok("dns:alice.example")
        );
        assert_eq!(
            norm("dns:bücher.example").as_deref(),
            Ok("dns:xn--bcher-kva.example")
        );
        assert_eq!(
            norm("dns:MÜNCHEN.de").as_deref(),
            Ok("dns:xn--mnchen-3ya.de")
        );
        assert_eq!(
            norm("dns:日本語.jp").as_deref(),
            Ok("dns:xn--wgv71a119e.jp")
        );
        assert_eq!(
            norm("mastodon:@Alice@Social.Example").as_deref(),
            Ok("ap:@alice@social.example")
        );
        assert_eq!(
            norm("ap:bob@host.example").as_deref(),
            Ok("ap:@bob@host.example")
        );
        assert_eq!(
            norm("bluesky:@Alice.BSKY.social").as_deref(),
            Ok("bluesky:alice.bsky.social")
        );
        for bad in [
            "github:-a",
            "github:a--b",
            "github:",
            "dns:localhost",
            "dns:a..b",
            "dns:1.2.3.4",
            "bluesky:alice",
            "bluesky:a.1b",
            "ap:alice",
            "ap:@a@b@c.d",
            "web:x",
            "nostr:npub1x",
            "nope",
        ] {
            assert_eq!(norm(bad), Err(Error::BadSubject), "{bad}");
        }
    }
}
