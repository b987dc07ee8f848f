//! Sigchains: links, the five ops, replay into typed state, fork detection (SPEC.md §14).
//!
//! A [`Replay`] takes a bundle one line at a time and keeps only what the state needs (keys,
//! devices, claims, the head), so memory grows with the number of claims, never with the number
//! of links or bytes. Where the state lives is the caller's choice through [`Store`]: fixed
//! `heapless::Vec`s on a device, `Vec`s under `alloc`.

use core::fmt::{self, Write as _};

use sha2::{Digest, Sha256};

use crate::claim::{CLAIM_TAG, FmtSink, MAX_INT, signing_digest, write_claim_fields};
use crate::error::Error;
use crate::jcs::{self, CompareSink, Sink};
use crate::keys::{KeyRef, SecretKey, Verifier, decode_hex_lower, write_hex};

use crate::status::Status;
use crate::subject::{self, MAX_SUBJECT};

/// The value of a link's `type` member.
pub const LINK_TYPE: &str = "kez-link-v1";
/// Domain tag of a link's signing input.
pub const LINK_TAG: &[u8] = b"kez/link/v1";
/// Domain tag of the new key's proof in a `rotate` link.
pub const ROTATE_TAG: &[u8] = b"kez/rotate/v1";
/// Domain tag of the device's proof in an `add_device` link.
pub const DEVICE_TAG: &[u8] = b"kez/device/v1";
/// Largest accepted link line (without its "\n"), in bytes.
pub const MAX_LINK_JSON: usize = 16_384;

/// The five sigchain operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Records a claim (signer: primary or device).
    AddClaim,
    /// Revokes an earlier claim (signer: primary, or the device that added it).
    Revoke,
    /// Replaces the primary key (signer: current primary; proven by the new key).
    Rotate,
    /// Authorizes a device key (signer: primary; proven by the device key).
    AddDevice,
    /// Withdraws a device key (signer: primary, or that device itself).
    RemoveDevice,
}

impl Op {
    /// The op's wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AddClaim => "add_claim",
            Self::Revoke => "revoke",
            Self::Rotate => "rotate",
            Self::AddDevice => "add_device",
            Self::RemoveDevice => "remove_device",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::AddClaim,
            Self::Revoke,
            Self::Rotate,
            Self::AddDevice,
            Self::RemoveDevice,
        ]
        .into_iter()
        .find(|op| op.as_str() == s)
    }
}

/// A link's op-specific body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// `{"subject":S[,"exp":N]}`: the claim (signer, subject, the link's iat, exp).
    AddClaim {
        /// Normalized subject.
        subject: &'a str,
        /// Optional expiry of the claim.
        exp: Option<u64>,
    },
    /// `{"claim":ID}`: the claim id (hex of the claim's signing digest) to revoke.
    Revoke {
        /// The claim id.
        claim: [u8; 32],
    },
    /// `{"key":K,"proof":SIG}`: the new primary key and its proof.
    Rotate {
        /// The new primary key.
        key: KeyRef,
        /// The new key's signature over the rotate proof digest.
        proof: [u8; 64],
    },
    /// `{"device":K,"proof":SIG}`: the device key and its proof.
    AddDevice {
        /// The device key.
        device: KeyRef,
        /// The device key's signature over the device proof digest.
        proof: [u8; 64],
    },
    /// `{"device":K}`: the device key to withdraw.
    RemoveDevice {
        /// The device key.
        device: KeyRef,
    },
}

impl Body<'_> {
    /// The op of this body.
    #[must_use]
    pub const fn op(&self) -> Op {
        match self {
            Self::AddClaim { .. } => Op::AddClaim,
            Self::Revoke { .. } => Op::Revoke,
            Self::Rotate { .. } => Op::Rotate,
            Self::AddDevice { .. } => Op::AddDevice,
            Self::RemoveDevice { .. } => Op::RemoveDevice,
        }
    }
}

/// A parsed link, borrowing from its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link<'a> {
    chain: KeyRef,
    seq: u64,
    prev: Option<[u8; 32]>,
    iat: u64,
    body: Body<'a>,
    signer: KeyRef,
    sig: [u8; 64],
    digest: [u8; 32],
    hash: [u8; 32],
}

impl<'a> Link<'a> {
    /// Parses one bundle line (without its "\n"). The line must be canonical JCS.
    ///
    /// # Errors
    /// A JSON class; [`Error::NonCanonical`]; [`Error::BadLink`] for a wrong shape;
    /// [`Error::UnknownOp`]; [`Error::BadKey`] / [`Error::BadSubject`] inside the link;
    /// [`Error::TooLarge`] above [`MAX_LINK_JSON`].
    pub fn parse(line: &'a [u8]) -> Result<Self, Error> {
        if line.len() > MAX_LINK_JSON {
            return Err(Error::TooLarge {
                limit: MAX_LINK_JSON,
            });
        }
        let mut cmp = CompareSink::new(line);
        jcs::canonicalize(line, &mut cmp)?;
        if !cmp.matches() {
            return Err(Error::NonCanonical);
        }
        let digest = signing_digest(LINK_TAG, line)?;
        let hash: [u8; 32] = Sha256::digest(line).into();
        let mut f = Fields::default();
        for m in jcs::Members::new(line, 0).ok_or(Error::BadLink)? {
            let m = m?;
            let slot = [
                ("type", &mut f.ty),
                ("chain", &mut f.chain),
                ("seq", &mut f.seq),
                ("prev", &mut f.prev),
                ("iat", &mut f.iat),
                ("op", &mut f.op),
                ("body", &mut f.body),
                ("signer", &mut f.signer),
                ("sig", &mut f.sig),
            ]
            .into_iter()
            .find(|(name, _)| m.name_is(name))
            .map(|(_, slot)| slot)
            .ok_or(Error::BadLink)?;
            *slot = Some(m.value);
        }
        if string(f.ty)? != LINK_TYPE {
            return Err(Error::BadLink);
        }
        // `chain` and `signer` are checked for syntax here; the replay decodes the points (once
        // per key, not once per link)
        let chain = KeyRef::parse_unchecked(string(f.chain)?)?;
        let seq = integer(f.seq)?;
        let prev = match (seq, f.prev) {
            (0, _) => return Err(Error::BadLink),
            (1, None) => None,
            (1, Some(_)) | (_, None) => return Err(Error::BadLink),
            (_, Some(p)) => Some(hex32(p)?),
        };
        let iat = integer(f.iat)?;
        let op = Op::parse(string(f.op)?).ok_or(Error::UnknownOp)?;
        let body = parse_body(op, f.body.ok_or(Error::BadLink)?)?;
        if let Body::AddClaim { exp: Some(exp), .. } = body {
            if exp <= iat {
                return Err(Error::BadLink);
            }
        }
        let signer = KeyRef::parse_unchecked(string(f.signer)?)?;
        let sig = hex64(f.sig)?;
        Ok(Self {
            chain,
            seq,
            prev,
            iat,
            body,
            signer,
            sig,
            digest,
            hash,
        })
    }

    /// The chain id (the chain's first primary key).
    #[must_use]
    pub const fn chain(&self) -> &KeyRef {
        &self.chain
    }

    /// Position in the chain, from 1.
    #[must_use]
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// SHA-256 of the previous link's line (absent at seq 1).
    #[must_use]
    pub const fn prev(&self) -> Option<&[u8; 32]> {
        self.prev.as_ref()
    }

    /// Issued-at, Unix seconds.
    #[must_use]
    pub const fn iat(&self) -> u64 {
        self.iat
    }

    /// The op and its body.
    #[must_use]
    pub const fn body(&self) -> &Body<'a> {
        &self.body
    }

    /// The key that signed the link.
    #[must_use]
    pub const fn signer(&self) -> &KeyRef {
        &self.signer
    }

    /// SHA-256 of the line: what the next link's `prev` holds and how evidence names a link.
    #[must_use]
    pub const fn hash(&self) -> &[u8; 32] {
        &self.hash
    }
}

#[derive(Default)]
struct Fields<'a> {
    ty: Option<&'a [u8]>,
    chain: Option<&'a [u8]>,
    seq: Option<&'a [u8]>,
    prev: Option<&'a [u8]>,
    iat: Option<&'a [u8]>,
    op: Option<&'a [u8]>,
    body: Option<&'a [u8]>,
    signer: Option<&'a [u8]>,
    sig: Option<&'a [u8]>,
}

fn string(v: Option<&[u8]>) -> Result<&str, Error> {
    let inner = v
        .ok_or(Error::BadLink)?
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .ok_or(Error::BadLink)?;
    if inner.contains(&b'\\') {
        return Err(Error::BadLink);
    }
    core::str::from_utf8(inner).map_err(|_| Error::BadLink)
}

fn integer(v: Option<&[u8]>) -> Result<u64, Error> {
    let v = v.ok_or(Error::BadLink)?;
    let ok = !v.is_empty()
        && v.len() <= 16
        && v.iter().all(u8::is_ascii_digit)
        && (v == b"0" || v.first() != Some(&b'0'));
    if !ok {
        return Err(Error::BadLink);
    }
    let n = v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    if n > MAX_INT {
        Err(Error::BadLink)
    } else {
        Ok(n)
    }
}

fn hex32(v: &[u8]) -> Result<[u8; 32], Error> {
    let mut out = [0u8; 32];
    decode_hex_lower(string(Some(v))?.as_bytes(), &mut out).map_err(|()| Error::BadLink)?;
    Ok(out)
}

fn hex64(v: Option<&[u8]>) -> Result<[u8; 64], Error> {
    let mut out = [0u8; 64];
    decode_hex_lower(string(v)?.as_bytes(), &mut out).map_err(|()| Error::BadLink)?;
    Ok(out)
}

fn parse_body(op: Op, raw: &[u8]) -> Result<Body<'_>, Error> {
    let mut members: [(&str, Option<&[u8]>); 4] = [
        ("subject", None),
        ("exp", None),
        ("claim", None),
        ("key", None),
    ];
    let mut extra: [(&str, Option<&[u8]>); 2] = [("device", None), ("proof", None)];
    for m in jcs::Members::new(raw, 0).ok_or(Error::BadLink)? {
        let m = m?;
        let slot = members
            .iter_mut()
            .chain(extra.iter_mut())
            .find(|(name, _)| m.name_is(name))
            .ok_or(Error::BadLink)?;
        slot.1 = Some(m.value);
    }
    let [(_, subject), (_, exp), (_, claim), (_, key)] = members;
    let [(_, device), (_, proof)] = extra;
    let present = [
        subject.is_some(),
        exp.is_some(),
        claim.is_some(),
        key.is_some(),
        device.is_some(),
        proof.is_some(),
    ];
    // exactly the members each op allows (exp is optional for add_claim)
    let allowed: [bool; 6] = match op {
        Op::AddClaim => [true, exp.is_some(), false, false, false, false],
        Op::Revoke => [false, false, true, false, false, false],
        Op::Rotate => [false, false, false, true, false, true],
        Op::AddDevice => [false, false, false, false, true, true],
        Op::RemoveDevice => [false, false, false, false, true, false],
    };
    if present != allowed {
        return Err(Error::BadLink);
    }
    Ok(match op {
        Op::AddClaim => {
            let subject = string(subject)?;
            subject::check_normalized(subject)?;
            Body::AddClaim {
                subject,
                exp: exp.map(|e| integer(Some(e))).transpose()?,
            }
        }
        Op::Revoke => Body::Revoke {
            claim: hex32(claim.ok_or(Error::BadLink)?)?,
        },
        Op::Rotate => Body::Rotate {
            key: KeyRef::parse(string(key)?)?,
            proof: hex64(proof)?,
        },
        Op::AddDevice => Body::AddDevice {
            device: KeyRef::parse(string(device)?)?,
            proof: hex64(proof)?,
        },
        Op::RemoveDevice => Body::RemoveDevice {
            device: KeyRef::parse_unchecked(string(device)?)?,
        },
    })
}

/// Digest a new key (rotate) or a device key (add_device) signs to prove it holds the secret:
/// SHA-256(tag || 0x00 || JCS({"chain":C,"key":K[,"prev":P],"seq":N})).
fn proof_digest(
    tag: &[u8],
    chain: &KeyRef,
    key: &KeyRef,
    prev: Option<&[u8; 32]>,
    seq: u64,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag);
    h.update([0u8]);
    let mut w = FmtSink {
        sink: &mut h,
        err: None,
    };
    let _ = (|| -> fmt::Result {
        write!(w, "{{\"chain\":\"{chain}\",\"key\":\"{key}\",")?;
        if let Some(p) = prev {
            w.write_str("\"prev\":\"")?;
            write_hex(&mut w, p)?;
            w.write_str("\",")?;
        }
        write!(w, "\"seq\":{seq}}}")
    })();
    h.finalize().into()
}

/// A claim's id: the hex of its signing digest, computed from the link that records it.
#[must_use]
pub fn claim_id(key: &KeyRef, subject: &str, iat: u64, exp: Option<u64>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CLAIM_TAG);
    h.update([0u8]);
    // the fields are plain ASCII: writing cannot fail for a hasher
    let _ = write_claim_fields(&mut h, key, subject, iat, exp, None);
    h.finalize().into()
}

// ---------------------------------------------------------------------------------------------
// Replay state
// ---------------------------------------------------------------------------------------------

/// Where a [`Replay`] keeps its entries: a growable `Vec` or a fixed `heapless::Vec`.
pub trait Store<T> {
    /// Appends `item`, or hands it back when full.
    ///
    /// # Errors
    /// Returns the item when there is no room.
    fn push(&mut self, item: T) -> Result<(), T>;
    /// The entries, oldest first.
    fn items(&self) -> &[T];
    /// The entries, mutable.
    fn items_mut(&mut self) -> &mut [T];
    /// Appends all of `items`, or fails when they do not fit (what fitted stays).
    ///
    /// # Errors
    /// [`Error::Full`] when the store is full.
    fn extend_from(&mut self, items: &[T]) -> Result<(), Error>
    where
        T: Copy,
    {
        for &item in items {
            self.push(item).map_err(store_full)?;
        }
        Ok(())
    }
}

impl<T, const N: usize> Store<T> for heapless::Vec<T, N> {
    fn push(&mut self, item: T) -> Result<(), T> {
        heapless::Vec::push(self, item)
    }
    fn items(&self) -> &[T] {
        self.as_slice()
    }
    fn items_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

#[cfg(feature = "alloc")]
impl<T> Store<T> for alloc::vec::Vec<T> {
    fn push(&mut self, item: T) -> Result<(), T> {
        alloc::vec::Vec::push(self, item);
        Ok(())
    }
    fn items(&self) -> &[T] {
        self.as_slice()
    }
    fn items_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
    fn extend_from(&mut self, items: &[T]) -> Result<(), Error>
    where
        T: Copy,
    {
        self.extend_from_slice(items);
        Ok(())
    }
}

/// A primary key and the seqs it may sign: `from < seq <= until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key.
    pub key: KeyRef,
    /// The seq of the rotate link that made it primary (0 for the chain's first key).
    pub from: u64,
    /// The seq of the rotate link that replaced it, if any.
    pub until: Option<u64>,
}

/// A device key and the seqs it may sign: `added < seq <= removed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceEntry {
    /// The device key.
    pub key: KeyRef,
    /// The seq of the add_device link.
    pub added: u64,
    /// The seq of the remove_device link, if any.
    pub removed: Option<u64>,
}

/// A claim recorded in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimEntry {
    /// The claim id (its signing digest).
    pub id: [u8; 32],
    // where the subject's bytes sit in the replay's subject store (see `Replay::subject`)
    subject_at: u32,
    subject_len: u16,
    /// The key that signed the claim (primary or device at the time).
    pub signer: KeyRef,
    /// The seq of the add_claim link.
    pub added: u64,
    /// The claim's iat (the add_claim link's iat).
    pub iat: u64,
    /// The claim's expiry, if any.
    pub exp: Option<u64>,
    /// The seq of the revoke link, if revoked.
    pub revoked: Option<u64>,
}

impl ClaimEntry {
    /// The claim's state at `now`, and the seq of the link that decided it.
    #[must_use]
    pub fn state(&self, now: u64) -> (Status, u64) {
        match (self.revoked, self.exp) {
            (Some(seq), _) => (Status::Revoked, seq),
            (None, Some(exp)) if now >= exp => (Status::Expired, self.added),
            _ => (Status::Valid, self.added),
        }
    }
}

/// What happened to a line pushed into a [`Replay`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The link extended the chain.
    Applied,
    /// The line is byte-identical to the head link (another source had it too).
    Duplicate,
    /// A different, validly signed link at the head's seq: the chain has forked. The replay
    /// keeps the state before the fork is seen and ignores later lines.
    Fork(Fork),
    /// Ignored: the replay already saw a fork.
    AfterFork,
}

/// Evidence of a fork: two different, validly signed links at one seq, named by their hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fork {
    /// The seq both links claim.
    pub seq: u64,
    /// SHA-256 of the link replayed first.
    pub first: [u8; 32],
    /// SHA-256 of the conflicting link.
    pub second: [u8; 32],
}

/// Replays a chain link by link into its state.
#[derive(Clone, Debug)]
pub struct Replay<C, D, K, S> {
    chain: Option<KeyRef>,
    head_seq: u64,
    head_hash: [u8; 32],
    head_prev: Option<[u8; 32]>,
    head_iat: u64,
    fork: Option<Fork>,
    // the last signer's decoded point: chains are signed by few keys, so decode each once
    cache: Option<(KeyRef, Verifier)>,
    claims: C,
    devices: D,
    keys: K,
    // the claims' subjects, back to back: entries stay small and fixed-size
    subjects: S,
}

/// A replay whose state lives in `Vec`s.
#[cfg(feature = "alloc")]
pub type VecReplay = Replay<
    alloc::vec::Vec<ClaimEntry>,
    alloc::vec::Vec<DeviceEntry>,
    alloc::vec::Vec<KeyEntry>,
    alloc::vec::Vec<u8>,
>;

#[cfg(feature = "alloc")]
impl VecReplay {
    /// A replay with growable storage.
    #[must_use]
    pub fn new_vec() -> Self {
        Self::new(
            alloc::vec::Vec::new(),
            alloc::vec::Vec::new(),
            alloc::vec::Vec::new(),
            alloc::vec::Vec::new(),
        )
    }
}

impl<C: Store<ClaimEntry>, D: Store<DeviceEntry>, K: Store<KeyEntry>, S: Store<u8>>
    Replay<C, D, K, S>
{
    /// A replay of an empty chain, keeping its state in the given (empty) stores: claims,
    /// devices, primary keys, and the claims' subject bytes.
    pub fn new(claims: C, devices: D, keys: K, subjects: S) -> Self {
        Self {
            chain: None,
            head_seq: 0,
            head_hash: [0; 32],
            head_prev: None,
            head_iat: 0,
            fork: None,
            cache: None,
            claims,
            devices,
            keys,
            subjects,
        }
    }

    /// The normalized subject of a claim entry of this replay.
    #[must_use]
    pub fn subject(&self, entry: &ClaimEntry) -> &str {
        let start = entry.subject_at as usize;
        self.subjects
            .items()
            .get(start..start + usize::from(entry.subject_len))
            .and_then(|s| core::str::from_utf8(s).ok())
            .unwrap_or_default()
    }

    /// Feeds one bundle line (without its "\n").
    ///
    /// Checks, in this order: the line parses and is canonical; its chain; its seq (the head's
    /// seq + 1, or the head's seq for a duplicate or a fork); `prev`; `iat` not before the
    /// head's; that the signer may sign this op; the signature; the op's own rules.
    ///
    /// # Errors
    /// [`Error::WrongChain`], [`Error::SeqGap`], [`Error::PrevMismatch`], [`Error::BadLink`],
    /// [`Error::OldKey`], [`Error::WrongSigner`], [`Error::BadSignature`], [`Error::BadTarget`],
    /// [`Error::Full`] when a fixed store is full, or any parse error of [`Link::parse`].
    pub fn push(&mut self, line: &[u8]) -> Result<Pushed, Error> {
        if self.fork.is_some() {
            return Ok(Pushed::AfterFork);
        }
        let link = Link::parse(line)?;
        match self.chain {
            Some(c) if c != link.chain => return Err(Error::WrongChain),
            _ => {}
        }
        if self.head_seq > 0 && link.seq == self.head_seq {
            if link.hash == self.head_hash {
                return Ok(Pushed::Duplicate);
            }
            // a conflicting link at the head's seq: valid evidence only if it would have been
            // accepted in place of the head
            if link.prev != self.head_prev {
                return Err(Error::PrevMismatch { seq: link.seq });
            }
            self.authorize(&link)?;
            self.check_signature(&link)?;
            let fork = Fork {
                seq: link.seq,
                first: self.head_hash,
                second: link.hash,
            };
            self.fork = Some(fork);
            return Ok(Pushed::Fork(fork));
        }
        if link.seq != self.head_seq + 1 {
            return Err(Error::SeqGap {
                expected: self.head_seq + 1,
                got: link.seq,
            });
        }
        if self.head_seq == 0 && link.chain != link.signer {
            // the first link is signed by the key the chain is named after
            return Err(Error::WrongSigner { seq: link.seq });
        }
        if self.head_seq > 0 && link.prev != Some(self.head_hash) {
            return Err(Error::PrevMismatch { seq: link.seq });
        }
        if link.iat < self.head_iat {
            return Err(Error::BadLink);
        }
        self.authorize(&link)?;
        self.check_signature(&link)?;
        self.apply(&link)?;
        self.chain = Some(link.chain);
        self.head_seq = link.seq;
        self.head_hash = link.hash;
        self.head_prev = link.prev;
        self.head_iat = link.iat;
        Ok(Pushed::Applied)
    }

    fn check_signature(&mut self, link: &Link<'_>) -> Result<(), Error> {
        let verifier = match self.cache {
            Some((key, v)) if key == link.signer => v,
            _ => {
                // only the chain id (at link 1) can reach here undecoded: rotate and add_device
                // keys were decoded when they entered the chain
                let (_, v) =
                    KeyRef::parse_verifier_bytes(link.signer.alg(), *link.signer.as_bytes())?;
                self.cache = Some((link.signer, v));
                v
            }
        };
        if verifier.verify(&link.digest, &link.sig) {
            Ok(())
        } else {
            Err(Error::BadSignature { seq: link.seq })
        }
    }

    /// The primary key that may sign the link at `seq`.
    fn primary_at(&self, chain: &KeyRef, seq: u64) -> KeyRef {
        self.keys
            .items()
            .iter()
            .find(|k| k.from < seq && k.until.is_none_or(|u| seq <= u))
            .map_or(*chain, |k| k.key)
    }

    fn device_at(&self, key: &KeyRef, seq: u64) -> bool {
        self.devices
            .items()
            .iter()
            .any(|d| &d.key == key && d.added < seq && d.removed.is_none_or(|r| seq <= r))
    }

    /// Is the link's signer allowed to sign its op at its seq?
    fn authorize(&self, link: &Link<'_>) -> Result<(), Error> {
        let seq = link.seq;
        let signer = &link.signer;
        let is_primary = *signer == self.primary_at(&link.chain, seq);
        let is_device = self.device_at(signer, seq);
        let ok = match link.body {
            Body::AddClaim { .. } => is_primary || is_device,
            Body::Revoke { claim } => {
                is_primary
                    || (is_device
                        && self
                            .claims
                            .items()
                            .iter()
                            .any(|c| c.id == claim && c.signer == *signer && c.added < seq))
            }
            Body::Rotate { .. } | Body::AddDevice { .. } => is_primary,
            Body::RemoveDevice { device } => is_primary || (is_device && device == *signer),
        };
        if ok {
            return Ok(());
        }
        // only what precedes `seq` counts, so a fork candidate at the head's seq is judged as
        // if it stood in the head's place
        let former_primary = *signer == link.chain
            || self
                .keys
                .items()
                .iter()
                .any(|k| k.key == *signer && k.from < seq);
        if former_primary && !is_primary {
            Err(Error::OldKey { seq })
        } else {
            Err(Error::WrongSigner { seq })
        }
    }

    fn current_primary(&self, chain: &KeyRef) -> KeyRef {
        self.keys
            .items()
            .iter()
            .find(|k| k.until.is_none())
            .map_or(*chain, |k| k.key)
    }

    fn is_known_key(&self, chain: &KeyRef, key: &KeyRef) -> bool {
        key == chain
            || self.keys.items().iter().any(|k| k.key == *key)
            || self.devices.items().iter().any(|d| d.key == *key)
    }

    fn apply(&mut self, link: &Link<'_>) -> Result<(), Error> {
        let seq = link.seq;
        match link.body {
            Body::AddClaim { subject, exp } => {
                let id = claim_id(&link.signer, subject, link.iat, exp);
                // claims are recorded in iat order, and equal ids have equal iats
                if self
                    .claims
                    .items()
                    .iter()
                    .rev()
                    .take_while(|c| c.iat == link.iat)
                    .any(|c| c.id == id)
                {
                    return Err(Error::BadTarget { seq });
                }
                let subject_at = u32::try_from(self.subjects.items().len()).map_err(store_full)?;
                let subject_len = u16::try_from(subject.len()).map_err(|_| Error::BadSubject)?;
                self.subjects.extend_from(subject.as_bytes())?;
                let entry = ClaimEntry {
                    id,
                    subject_at,
                    subject_len,
                    signer: link.signer,
                    added: seq,
                    iat: link.iat,
                    exp,
                    revoked: None,
                };
                self.claims.push(entry).map_err(store_full)?;
            }
            Body::Revoke { claim } => {
                let target = self
                    .claims
                    .items_mut()
                    .iter_mut()
                    .find(|c| c.id == claim && c.revoked.is_none())
                    .ok_or(Error::BadTarget { seq })?;
                target.revoked = Some(seq);
            }
            Body::Rotate { key, proof } => {
                if self.is_known_key(&link.chain, &key) {
                    return Err(Error::BadTarget { seq });
                }
                let digest = proof_digest(ROTATE_TAG, &link.chain, &key, link.prev.as_ref(), seq);
                if !key.verify_digest(&digest, &proof) {
                    return Err(Error::BadSignature { seq });
                }
                let old = self.current_primary(&link.chain);
                if let Some(e) = self.keys.items_mut().iter_mut().find(|k| k.until.is_none()) {
                    e.until = Some(seq);
                } else {
                    // the chain's first key enters the history when it is first replaced
                    self.keys
                        .push(KeyEntry {
                            key: old,
                            from: 0,
                            until: Some(seq),
                        })
                        .map_err(store_full)?;
                }
                self.keys
                    .push(KeyEntry {
                        key,
                        from: seq,
                        until: None,
                    })
                    .map_err(store_full)?;
            }
            Body::AddDevice { device, proof } => {
                if self.is_known_key(&link.chain, &device) {
                    return Err(Error::BadTarget { seq });
                }
                let digest =
                    proof_digest(DEVICE_TAG, &link.chain, &device, link.prev.as_ref(), seq);
                if !device.verify_digest(&digest, &proof) {
                    return Err(Error::BadSignature { seq });
                }
                self.devices
                    .push(DeviceEntry {
                        key: device,
                        added: seq,
                        removed: None,
                    })
                    .map_err(store_full)?;
            }
            Body::RemoveDevice { device } => {
                let d = self
                    .devices
                    .items_mut()
                    .iter_mut()
                    .find(|d| d.key == device && d.removed.is_none())
                    .ok_or(Error::BadTarget { seq })?;
                d.removed = Some(seq);
            }
        }
        Ok(())
    }

    /// The chain id, once a link has been applied.
    #[must_use]
    pub const fn chain(&self) -> Option<&KeyRef> {
        self.chain.as_ref()
    }

    /// The seq and hash of the last applied link (0 and zeros for an empty chain).
    #[must_use]
    pub const fn head(&self) -> (u64, [u8; 32]) {
        (self.head_seq, self.head_hash)
    }

    /// The iat of the last applied link.
    #[must_use]
    pub const fn head_iat(&self) -> u64 {
        self.head_iat
    }

    /// The fork seen, if any.
    #[must_use]
    pub const fn fork(&self) -> Option<&Fork> {
        self.fork.as_ref()
    }

    /// `valid`, or `fork` once a fork has been seen.
    #[must_use]
    pub const fn status(&self) -> Status {
        if self.fork.is_some() {
            Status::Fork
        } else {
            Status::Valid
        }
    }

    /// The current primary key (`None` for an empty chain).
    #[must_use]
    pub fn primary(&self) -> Option<KeyRef> {
        self.chain.map(|c| self.current_primary(&c))
    }

    /// Every primary key the chain has had, oldest first (empty until the first rotation,
    /// when the chain id is the only key).
    #[must_use]
    pub fn keys(&self) -> &[KeyEntry] {
        self.keys.items()
    }

    /// Every device the chain has authorized, with removal seqs.
    #[must_use]
    pub fn devices(&self) -> &[DeviceEntry] {
        self.devices.items()
    }

    /// Every claim the chain has recorded.
    #[must_use]
    pub fn claims(&self) -> &[ClaimEntry] {
        self.claims.items()
    }

    /// What this chain says of a standalone claim (already verified on its own):
    /// `revoked` if the chain revokes it, or if its key was rotated out or removed and the chain
    /// did not record the claim before that; `invalid` if its key is not one of the chain's;
    /// `fork` if the chain forked; otherwise `valid`.
    #[must_use]
    pub fn judge(&self, key: &KeyRef, claim_digest: &[u8; 32]) -> Status {
        let Some(chain) = self.chain else {
            return Status::Invalid;
        };
        if self.fork.is_some() {
            return Status::Fork;
        }
        if let Some(entry) = self.claims.items().iter().find(|c| &c.id == claim_digest) {
            return if entry.revoked.is_some() {
                Status::Revoked
            } else {
                Status::Valid
            };
        }
        let next = self.head_seq + 1;
        if *key == self.primary_at(&chain, next) || self.device_at(key, next) {
            Status::Valid
        } else if self.is_known_key(&chain, key) {
            Status::Revoked
        } else {
            Status::Invalid
        }
    }
}

/// A fixed store ran out of room.
fn store_full<T>(_: T) -> Error {
    Error::Full
}

// ---------------------------------------------------------------------------------------------
// Writing links
// ---------------------------------------------------------------------------------------------

/// What the next link says, before signing.
#[derive(Clone, Copy, Debug)]
pub enum Draft<'a> {
    /// Record a claim for `subject` (any accepted input form; normalized here).
    AddClaim {
        /// The subject.
        subject: &'a str,
        /// Optional expiry.
        exp: Option<u64>,
    },
    /// Revoke the claim with this id.
    Revoke {
        /// The claim id.
        claim: [u8; 32],
    },
    /// Make `new_key` the primary key (it signs the proof).
    Rotate {
        /// The new primary key.
        new_key: &'a SecretKey,
    },
    /// Authorize `device` (it signs the proof).
    AddDevice {
        /// The device key.
        device: &'a SecretKey,
    },
    /// Withdraw a device.
    RemoveDevice {
        /// The device key.
        device: KeyRef,
    },
}

/// Where a new link goes: the chain and its head (from a [`Replay`]).
#[derive(Clone, Copy, Debug)]
pub struct Position {
    /// The chain id; `None` starts a new chain named after the signer.
    pub chain: Option<KeyRef>,
    /// The seq of the head (0 for an empty chain).
    pub head_seq: u64,
    /// The head's hash (ignored when `head_seq` is 0).
    pub head_hash: [u8; 32],
}

/// Signs the next link and writes its line (JCS, without "\n") into `sink`.
///
/// # Errors
/// [`Error::BadSubject`], [`Error::BadLink`] (`exp <= iat`, integers above 2^53 - 1), or the
/// sink's [`Error::TooLarge`].
pub fn sign_link<S: Sink + ?Sized>(
    pos: &Position,
    iat: u64,
    draft: &Draft<'_>,
    signer: &SecretKey,
    aux: &[u8; 32],
    sink: &mut S,
) -> Result<(), Error> {
    let chain = pos.chain.unwrap_or(*signer.public());
    let seq = pos.head_seq + 1;
    let prev = if pos.head_seq == 0 {
        None
    } else {
        Some(&pos.head_hash)
    };
    let mut subject_buf = [0u8; MAX_SUBJECT];
    let body = match *draft {
        Draft::AddClaim { subject, exp } => {
            if exp.is_some_and(|e| e <= iat || e > MAX_INT) {
                return Err(Error::BadLink);
            }
            Body::AddClaim {
                subject: subject::normalize(subject, &mut subject_buf)?,
                exp,
            }
        }
        Draft::Revoke { claim } => Body::Revoke { claim },
        Draft::Rotate { new_key } => {
            let digest = proof_digest(ROTATE_TAG, &chain, new_key.public(), prev, seq);
            Body::Rotate {
                key: *new_key.public(),
                proof: new_key.sign_raw(&digest, aux)?,
            }
        }
        Draft::AddDevice { device } => {
            let digest = proof_digest(DEVICE_TAG, &chain, device.public(), prev, seq);
            Body::AddDevice {
                device: *device.public(),
                proof: device.sign_raw(&digest, aux)?,
            }
        }
        Draft::RemoveDevice { device } => Body::RemoveDevice { device },
    };
    if iat > MAX_INT {
        return Err(Error::BadLink);
    }
    let fields = LinkFields {
        chain: &chain,
        seq,
        prev,
        iat,
        body: &body,
        signer: signer.public(),
    };
    let mut h = Sha256::new();
    h.update(LINK_TAG);
    h.update([0u8]);
    fields.write(None, &mut h)?;
    let digest: [u8; 32] = h.finalize().into();
    let sig = signer.sign_raw(&digest, aux)?;
    fields.write(Some(&sig), sink)
}

struct LinkFields<'a> {
    chain: &'a KeyRef,
    seq: u64,
    prev: Option<&'a [u8; 32]>,
    iat: u64,
    body: &'a Body<'a>,
    signer: &'a KeyRef,
}

impl LinkFields<'_> {
    /// Members in JCS order: body, chain, iat, op, prev, seq, sig, signer, type. All strings are
    /// plain ASCII, so this is exactly the canonical form (tests check it).
    fn write<S: Sink + ?Sized>(&self, sig: Option<&[u8; 64]>, sink: &mut S) -> Result<(), Error> {
        let mut w = FmtSink { sink, err: None };
        let r = self.write_fmt(sig, &mut w);
        match (r, w.err) {
            (_, Some(e)) => Err(e),
            (Err(_), None) => Err(Error::BadLink),
            (Ok(()), None) => Ok(()),
        }
    }

    fn write_fmt(&self, sig: Option<&[u8; 64]>, w: &mut dyn fmt::Write) -> fmt::Result {
        w.write_str("{\"body\":{")?;
        match self.body {
            Body::AddClaim { subject, exp } => {
                if let Some(exp) = exp {
                    write!(w, "\"exp\":{exp},")?;
                }
                write!(w, "\"subject\":\"{subject}\"")?;
            }
            Body::Revoke { claim } => {
                w.write_str("\"claim\":\"")?;
                write_hex(w, claim)?;
                w.write_char('"')?;
            }
            Body::Rotate { key, proof } => {
                write!(w, "\"key\":\"{key}\",\"proof\":\"")?;
                write_hex(w, proof)?;
                w.write_char('"')?;
            }
            Body::AddDevice { device, proof } => {
                write!(w, "\"device\":\"{device}\",\"proof\":\"")?;
                write_hex(w, proof)?;
                w.write_char('"')?;
            }
            Body::RemoveDevice { device } => write!(w, "\"device\":\"{device}\"")?,
        }
        write!(
            w,
            "}},\"chain\":\"{}\",\"iat\":{},\"op\":\"{}\",",
            self.chain,
            self.iat,
            self.body.op().as_str()
        )?;
        if let Some(prev) = self.prev {
            w.write_str("\"prev\":\"")?;
            write_hex(w, prev)?;
            w.write_str("\",")?;
        }
        write!(w, "\"seq\":{},", self.seq)?;
        if let Some(sig) = sig {
            w.write_str("\"sig\":\"")?;
            write_hex(w, sig)?;
            w.write_str("\",")?;
        }
        write!(
            w,
            "\"signer\":\"{}\",\"type\":\"{LINK_TYPE}\"}}",
            self.signer
        )
    }
}

/// Splits a bundle into its lines: every line ends with "\n"; an empty bundle has no lines.
///
/// # Errors
/// Yields [`Error::BadLink`] for a missing final "\n" or an empty line.
pub fn bundle_lines(bundle: &[u8]) -> impl Iterator<Item = Result<&[u8], Error>> {
    let mut rest = bundle;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            rest = &[];
            return Some(Err(Error::BadLink));
        };
        let (line, after) = rest.split_at(nl);
        rest = after.get(1..).unwrap_or_default();
        if line.is_empty() {
            rest = &[];
            return Some(Err(Error::BadLink));
        }
        Some(Ok(line))
    })
}
