//! The key file (SPEC.md §3.3): `{"key":..,"secret":..,"type":"kez-key-v1"}`.

use core::fmt::Write as _;

use crate::claim::FmtSink;
use crate::error::Error;
use crate::jcs::{self, Sink};
use crate::keys::{KeyRef, SecretKey, decode_hex_lower, write_hex};

/// The value of a key file's `type` member.
pub const KEYFILE_TYPE: &str = "kez-key-v1";
/// Largest accepted key file, in bytes.
pub const MAX_KEYFILE: usize = 4096;

/// Parses a key file and checks that its public key matches its secret.
///
/// # Errors
/// [`Error::BadKeyFile`] for any defect (including ill-formed JSON).
pub fn parse_keyfile(text: &[u8]) -> Result<SecretKey, Error> {
    if text.len() > MAX_KEYFILE {
        return Err(Error::BadKeyFile);
    }
    let start = jcs::check(text).map_err(|_| Error::BadKeyFile)?;
    let (mut key, mut secret, mut ty) = (None, None, None);
    for m in jcs::Members::new(text, start).ok_or(Error::BadKeyFile)? {
        let m = m.map_err(|_| Error::BadKeyFile)?;
        let slot = if m.name_is("key") {
            &mut key
        } else if m.name_is("secret") {
            &mut secret
        } else if m.name_is("type") {
            &mut ty
        } else {
            return Err(Error::BadKeyFile);
        };
        let inner = m
            .value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .ok_or(Error::BadKeyFile)?;
        *slot = Some(core::str::from_utf8(inner).map_err(|_| Error::BadKeyFile)?);
    }
    if ty != Some(KEYFILE_TYPE) {
        return Err(Error::BadKeyFile);
    }
    let public = KeyRef::parse(key.ok_or(Error::BadKeyFile)?).map_err(|_| Error::BadKeyFile)?;
    let mut bytes = [0u8; 32];
    decode_hex_lower(secret.ok_or(Error::BadKeyFile)?.as_bytes(), &mut bytes)
        .map_err(|()| Error::BadKeyFile)?;
    let sk = SecretKey::from_bytes(public.alg(), &bytes).map_err(|_| Error::BadKeyFile)?;
    if sk.public() != &public {
        return Err(Error::BadKeyFile);
    }
    Ok(sk)
}

/// Writes the key file of `key`: its JCS form followed by "\n".
///
/// # Errors
/// The sink's [`Error::TooLarge`].
pub fn write_keyfile<S: Sink + ?Sized>(key: &SecretKey, sink: &mut S) -> Result<(), Error> {
    let mut w = FmtSink { sink, err: None };
    let r = (|| {
        write!(w, "{{\"key\":\"{}\",\"secret\":\"", key.public())?;
        write_hex(&mut w, &key.secret_bytes())?;
        writeln!(w, "\",\"type\":\"{KEYFILE_TYPE}\"}}")
    })();
    match (r, w.err) {
        (_, Some(e)) => Err(e),
        (Err(_), None) => Err(Error::BadKeyFile),
        (Ok(()), None) => Ok(()),
    }
}
