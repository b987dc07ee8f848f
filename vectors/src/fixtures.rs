//! Fixed keys, signed objects and hand-built byte strings the areas share. Nothing here reads a
//! clock or an RNG: every key comes from a fixed seed and every BIP-340 signature from a fixed
//! aux.

use kez_core::chain::{self, Draft, Position};
use kez_core::jcs;
use kez_core::{Alg, ClaimDraft, SecretKey};
use sha2::{Digest, Sha256};

/// Result type of the generator.
pub(crate) type R<T> = Result<T, String>;

/// Maps a core error into the generator's error, naming what was being built.
pub(crate) fn ctx<T>(what: &str, r: Result<T, kez_core::Error>) -> R<T> {
    r.map_err(|e| format!("{what}: {e} [{}]", e.kind()))
}

/// The fixed `now` of most verify cases: 2025-11-26T00:00:00Z + 100 s.
pub(crate) const NOW: u64 = 1_764_115_300;
/// The `iat` of the claims and first links: 2025-11-26T00:00:00Z (the §5.6 example).
pub(crate) const T0: u64 = 1_764_115_200;
/// 2^53 - 1.
pub(crate) const MAX_INT: u64 = 9_007_199_254_740_991;
/// The order n of secp256k1, big-endian.
pub(crate) const SECP_N: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
/// The field prime p of secp256k1, big-endian.
pub(crate) const SECP_P: &str = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f";
/// The Ed25519 group order L, little-endian.
pub(crate) const ED_L_LE: &str = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

/// Bytes `start, start+1, ..., start+31`.
pub(crate) fn counting(start: u8) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = start.wrapping_add(u8::try_from(i).unwrap_or(0));
    }
    out
}

/// SHA-256 of a label: fixed, unremarkable 32-byte seeds.
pub(crate) fn seed_of(label: &str) -> [u8; 32] {
    Sha256::digest(format!("kez-vectors/{label}").as_bytes()).into()
}

/// 32 bytes all equal to `b`.
pub(crate) const fn fill(b: u8) -> [u8; 32] {
    [b; 32]
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nib in [b >> 4, b & 0xf] {
            s.push(char::from(
                DIGITS.get(usize::from(nib)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// Decodes hex digits of either case (an even number of them).
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let nib = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| match p {
            [h, l] => Some((nib(*h)? << 4) | nib(*l)?),
            _ => None,
        })
        .collect()
}

pub(crate) fn unhex32(s: &str) -> R<[u8; 32]> {
    unhex(s)
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| format!("not 64 hex digits: {s}"))
}

/// Unpadded base64url (RFC 4648 §5).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        if chunk.len() > 1 {
            out.push(sym(n >> 6));
        }
        if chunk.len() > 2 {
            out.push(sym(n));
        }
    }
    out
}

pub(crate) fn key(alg: Alg, seed: &[u8; 32]) -> R<SecretKey> {
    ctx("secret key", SecretKey::from_bytes(alg, seed))
}

/// The key file text of `key` (SPEC.md §3.3).
pub(crate) fn keyfile(key: &SecretKey) -> R<String> {
    let mut out = Vec::new();
    ctx("key file", kez_core::write_keyfile(key, &mut out))?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// The fixed keys of the vectors.
#[derive(Debug)]
pub(crate) struct Keys {
    /// Ed25519, seed 000102…1f: the key of SPEC.md §5.6 and §14.10.
    pub(crate) a: SecretKey,
    /// Ed25519, seed 202122…3f: `B` of §14.10.
    pub(crate) b: SecretKey,
    /// Ed25519, seed 404142…5f: a device key.
    pub(crate) d: SecretKey,
    /// nostr, secret 000102…1f: the nostr key of §3.3 (its `d·G` has odd y).
    pub(crate) n: SecretKey,
    /// nostr, secret 202122…3f: a nostr device or rotation target.
    pub(crate) m: SecretKey,
    /// Ed25519, seed 606162…7f: a key no chain knows.
    pub(crate) x: SecretKey,
}

impl Keys {
    pub(crate) fn new() -> R<Self> {
        Ok(Self {
            a: key(Alg::Ed25519, &counting(0x00))?,
            b: key(Alg::Ed25519, &counting(0x20))?,
            d: key(Alg::Ed25519, &counting(0x40))?,
            n: key(Alg::Bip340, &counting(0x00))?,
            m: key(Alg::Bip340, &counting(0x20))?,
            x: key(Alg::Ed25519, &counting(0x60))?,
        })
    }
}

/// The all-zero aux of the §5.6 nostr example.
pub(crate) const AUX0: [u8; 32] = [0; 32];

/// A signed claim in canonical JSON (no LF).
pub(crate) fn claim(
    key: &SecretKey,
    subject: &str,
    iat: u64,
    exp: Option<u64>,
    aux: &[u8; 32],
) -> R<String> {
    let mut out = Vec::new();
    ctx(
        "claim",
        ClaimDraft { subject, iat, exp }.sign(key, aux, &mut out),
    )?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// The reference compact string of a JSON claim text (canonicalized first).
pub(crate) fn compact(json: &str) -> R<String> {
    let canonical = ctx("canonical", jcs::canonicalize_to_vec(json.as_bytes()))?;
    Ok(kez_core::encode_compact(&canonical))
}

/// The Markdown encoding of a claim (§9.3 emit).
pub(crate) fn markdown(json: &str) -> R<String> {
    let mut out = Vec::new();
    ctx(
        "markdown",
        kez_core::write_markdown(&compact(json)?, &mut out),
    )?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// The DNS encoding of a claim (§9.4 emit): a zone line for `dns:` subjects, RDATA otherwise.
pub(crate) fn dns(json: &str) -> R<String> {
    let c = compact(json)?;
    let parsed = ctx("claim", kez_core::Claim::parse(json.as_bytes()))?;
    let mut out = Vec::new();
    ctx(
        "txt",
        kez_core::write_txt(parsed.subject().strip_prefix("dns:"), &c, &mut out),
    )?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// The compact string of a hand-built zstd frame.
pub(crate) fn compact_of(frame: &[u8]) -> String {
    format!("kez:z1:{}", b64url(frame))
}

/// A zstd block header: Last_Block, Block_Type (0 raw, 1 RLE, 2 compressed, 3 reserved),
/// Block_Size (RFC 8878 §3.1.1.2).
pub(crate) fn block(last: bool, ty: u32, size: u32, payload: &[u8]) -> Vec<u8> {
    let header = u32::from(last) | (ty << 1) | (size << 3);
    let mut out: Vec<u8> = header.to_le_bytes().into_iter().take(3).collect();
    out.extend_from_slice(payload);
    out
}

/// A raw-block frame holding `content`: magic, the descriptor and header bytes given, one raw
/// block (several when longer than 128 KiB is never needed here).
pub(crate) fn raw_frame(header: &[u8], content: &[u8]) -> R<Vec<u8>> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD];
    f.extend_from_slice(header);
    let size = u32::try_from(content.len()).map_err(|e| e.to_string())?;
    f.extend(block(true, 0, size, content));
    Ok(f)
}

/// Flips the lowest bit of the hex digit at `at` in `s` (a hex string stays hex).
pub(crate) fn flip_hex_digit(s: &str, at: usize) -> R<String> {
    let mut bytes = s.as_bytes().to_vec();
    let d = bytes.get_mut(at).ok_or("flip_hex_digit: out of range")?;
    *d = match *d {
        b'0' => b'1',
        b'1' => b'0',
        b'2' => b'3',
        b'3' => b'2',
        b'4' => b'5',
        b'5' => b'4',
        b'6' => b'7',
        b'7' => b'6',
        b'8' => b'9',
        b'9' => b'8',
        b'a' => b'b',
        b'b' => b'a',
        b'c' => b'd',
        b'd' => b'c',
        b'e' => b'f',
        b'f' => b'e',
        other => return Err(format!("flip_hex_digit: {} is not hex", char::from(other))),
    };
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Replaces exactly one occurrence of `from` in `s`.
pub(crate) fn replace_once(s: &str, from: &str, to: &str) -> R<String> {
    if s.matches(from).count() != 1 {
        return Err(format!("`{from}` does not occur exactly once in `{s}`"));
    }
    Ok(s.replacen(from, to, 1))
}

/// The value of the member `"name":"…"` of a canonical line (its first occurrence).
pub(crate) fn string_member<'a>(line: &'a str, name: &str) -> R<&'a str> {
    let tag = format!("\"{name}\":\"");
    let start = line.find(&tag).ok_or(format!("no member {name}"))? + tag.len();
    let rest = line.get(start..).ok_or("cut")?;
    let end = rest.find('"').ok_or("unterminated")?;
    rest.get(..end).ok_or_else(|| "cut".to_owned())
}

/// A sigchain being written: the position of its head, and its lines. Signing does not replay,
/// so a test can write links that break the chain's rules.
#[derive(Clone, Debug)]
pub(crate) struct ChainBuilder {
    pub(crate) pos: Position,
    pub(crate) lines: Vec<String>,
}

impl ChainBuilder {
    pub(crate) const fn new() -> Self {
        Self {
            pos: Position {
                chain: None,
                head_seq: 0,
                head_hash: [0; 32],
            },
            lines: Vec::new(),
        }
    }

    /// Signs the next link and appends it.
    pub(crate) fn push(
        &mut self,
        iat: u64,
        draft: &Draft<'_>,
        signer: &SecretKey,
        aux: &[u8; 32],
    ) -> R<String> {
        let line = sign_at(&self.pos, iat, draft, signer, aux)?;
        self.append(line.clone(), signer);
        Ok(line)
    }

    /// Appends an already written line as the next link.
    pub(crate) fn append(&mut self, line: String, signer: &SecretKey) {
        self.pos = Position {
            chain: Some(self.pos.chain.unwrap_or(*signer.public())),
            head_seq: self.pos.head_seq + 1,
            head_hash: Sha256::digest(line.as_bytes()).into(),
        };
        self.lines.push(line);
    }

    /// The bundle: every line followed by LF.
    pub(crate) fn bundle(&self) -> String {
        bundle(&self.lines)
    }

    /// The hash of line `i` (0-based) in hex.
    pub(crate) fn hash(&self, i: usize) -> R<String> {
        let line = self.lines.get(i).ok_or("no such line")?;
        Ok(hex(&Sha256::digest(line.as_bytes())))
    }
}

/// Signs one link at `pos` (which need not be a real head).
pub(crate) fn sign_at(
    pos: &Position,
    iat: u64,
    draft: &Draft<'_>,
    signer: &SecretKey,
    aux: &[u8; 32],
) -> R<String> {
    let mut out = Vec::new();
    ctx(
        "link",
        chain::sign_link(pos, iat, draft, signer, aux, &mut out),
    )?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Re-signs a hand-edited canonical link line with `signer` (its `sig` member is replaced).
pub(crate) fn resign(line: &str, signer: &SecretKey, aux: &[u8; 32]) -> R<String> {
    let old = string_member(line, "sig")?;
    let digest = ctx(
        "link digest",
        kez_core::signing_digest(chain::LINK_TAG, line.as_bytes()),
    )?;
    let sig = ctx("sign", signer.sign_raw(&digest, aux))?;
    replace_once(line, old, &hex(&sig))
}

/// Lines joined into a bundle (each followed by LF).
pub(crate) fn bundle<S: AsRef<str>>(lines: &[S]) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(l.as_ref());
        out.push('\n');
    }
    out
}

/// The claim id (hex) of the claim an `add_claim` link signed by `key` records.
pub(crate) fn claim_id(key: &SecretKey, subject: &str, iat: u64, exp: Option<u64>) -> [u8; 32] {
    chain::claim_id(key.public(), subject, iat, exp)
}

/// BIP-173 checksum constant (bech32).
pub(crate) const BECH32: u32 = 1;
/// BIP-350 checksum constant (bech32m), invalid for npubs.
pub(crate) const BECH32M: u32 = 0x2bc8_30a3;

fn polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(*v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Encodes 32 bytes as `npub1…` with the given checksum constant; `pad` is ORed into the four
/// padding bits of the last group (0 for a correct encoding).
pub(crate) fn npub(bytes: &[u8; 32], constant: u32, pad: u8) -> String {
    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut data = Vec::with_capacity(58);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            data.push(u8::try_from((acc >> bits) & 31).unwrap_or(0));
        }
    }
    if bits > 0 {
        let last = u8::try_from((acc << (5 - bits)) & 31).unwrap_or(0);
        data.push(last | (pad & 0x0f));
    }
    let hrp = b"npub";
    let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|c| c & 31));
    values.extend_from_slice(&data);
    values.extend_from_slice(&[0; 6]);
    let m = polymod(&values) ^ constant;
    for i in 0..6u32 {
        data.push(u8::try_from((m >> (5 * (5 - i))) & 31).unwrap_or(0));
    }
    let mut out = String::from("npub1");
    for d in data {
        out.push(char::from(
            CHARSET.get(usize::from(d)).copied().unwrap_or(b'q'),
        ));
    }
    out
}
