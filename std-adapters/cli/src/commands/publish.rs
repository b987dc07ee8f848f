//! `kez claim publish CH:HANDLE [FILE|-]`: publish a claim where its account lives (SPEC.md
//! §15.7), or print exactly what to put where. Credentials come from the environment or a
//! credentials file; they are never printed.

use std::path::{Path, PathBuf};

use kez_channels::{Credentials, Publication, PublishError, ToPublish, publish_blocking};
use kez_core::decode_any;

use super::{endpoints, identity};
use crate::cli::ClaimPublish;
use crate::input::read_input;
use crate::output::{self, Done, Failure};

/// Largest credentials file read, in bytes.
const MAX_CREDENTIALS: usize = 64 << 10;

/// The credential variables, in the environment and in the credentials file.
const NAMES: [&str; 3] = [
    "GITHUB_TOKEN",
    "KEZ_BLUESKY_APP_PASSWORD",
    "KEZ_AP_ACCESS_TOKEN",
];

pub(super) fn publish(args: &ClaimPublish, json: bool) -> Result<Done, Failure> {
    let text = read_input(&args.input.input)?;
    let (_, claim_json) = decode_any(&text)?;
    let claim_json =
        String::from_utf8(claim_json).map_err(|_| Failure::usage("the claim is not UTF-8"))?;
    let proof = ToPublish::new(&claim_json)?;
    let config = endpoints::config(&args.endpoints, false)?;
    let mut credentials = credentials(args.credentials.as_deref())?;
    if let Some(path) = &args.nostr_key {
        credentials.nostr_key = Some(identity::load(path)?);
    }
    let publication =
        publish_blocking(&config, &credentials, &args.subject, &proof).map_err(failure)?;
    let stdout = match (&publication, json) {
        (Publication::Posted { location, detail }, true) => {
            output::canonical_line(&output::object_text(&[
                ("detail", detail),
                ("location", location),
                ("status", "posted"),
                ("subject", &proof.subject),
            ]))
        }
        (Publication::Manual { instructions }, true) => {
            output::canonical_line(&output::object_text(&[
                ("instructions", instructions),
                ("status", "manual"),
                ("subject", &proof.subject),
            ]))
        }
        (Publication::Posted { location, detail }, false) => {
            format!("published: {location} ({detail})\n").into_bytes()
        }
        (Publication::Manual { instructions }, false) => {
            let mut text = instructions.clone();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.into_bytes()
        }
    };
    Ok(Done::yes(stdout))
}

fn failure(e: PublishError) -> Failure {
    match e {
        PublishError::Subject(_) | PublishError::MissingCredential(_) => {
            Failure::usage(e.to_string())
        }
        _ => Failure::io_msg(e.to_string()).answer_no(),
    }
}

/// The credentials: each variable from the environment, else from the credentials file
/// (`--credentials`, else `$XDG_CONFIG_HOME/kez/credentials` or `~/.config/kez/credentials` if
/// it exists).
fn credentials(file: Option<&Path>) -> Result<Credentials, Failure> {
    let default = endpoints::env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| endpoints::env("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("kez").join("credentials"))
        .filter(|p| p.exists());
    let from_file = match file.map(Path::to_path_buf).or(default) {
        Some(path) => read_credentials(&path)?,
        None => Vec::new(),
    };
    let get = |name: &str| {
        endpoints::env(name).or_else(|| {
            from_file
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        })
    };
    Ok(Credentials {
        github_token: get("GITHUB_TOKEN"),
        bluesky_app_password: get("KEZ_BLUESKY_APP_PASSWORD"),
        ap_access_token: get("KEZ_AP_ACCESS_TOKEN"),
        nostr_key: None,
    })
}

/// Parses `NAME=VALUE` lines (blank lines and `#` comments allowed; one pair of surrounding
/// quotes is removed). The file must not be readable by others. Values never reach an error.
fn read_credentials(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let name = path.display();
    check_private(path)?;
    let bytes = crate::input::read_input_up_to(path, MAX_CREDENTIALS)?;
    let text =
        String::from_utf8(bytes).map_err(|_| Failure::usage(format!("{name}: not UTF-8")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Failure::usage(format!(
                "{name}:{}: expected NAME=VALUE",
                i + 1
            )));
        };
        let key = key.trim();
        if !NAMES.contains(&key) {
            return Err(Failure::usage(format!(
                "{name}:{}: unknown name {key:?} (known: {})",
                i + 1,
                NAMES.join(", ")
            )));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path)
        .map_err(|e| Failure::io(format!("cannot read {}", path.display()), &e))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Failure::usage(format!(
            "{}: readable by others; run chmod 600 on it",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), Failure> {
    Ok(())
}
