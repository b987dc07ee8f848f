//! Publishing a proof (SPEC.md §15.7): where the channel has an API for it and credentials are
//! given, KEZ posts the proof itself; otherwise it says exactly what to put where.

use kez_core::SecretKey;

use crate::{Ap, Bluesky, ChannelError, Config, Dns, Github, Nostr};

/// Credentials for publishing. Verification never uses them (except the optional GitHub token,
/// which only raises the rate limit). They are never printed: `Debug` shows only whether each
/// is set.
#[derive(Clone, Default)]
pub struct Credentials {
    /// A GitHub token with the `gist` scope (`GITHUB_TOKEN`).
    pub github_token: Option<String>,
    /// A Bluesky app password (`KEZ_BLUESKY_APP_PASSWORD`).
    pub bluesky_app_password: Option<String>,
    /// An ActivityPub server (Mastodon API) access token with `write:statuses`
    /// (`KEZ_AP_ACCESS_TOKEN`).
    pub ap_access_token: Option<String>,
    /// The secret key of the npub, for the `nostr` channel: the proof event must be signed by it.
    pub nostr_key: Option<SecretKey>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: bool| if v { "<set>" } else { "<unset>" };
        f.debug_struct("Credentials")
            .field("github_token", &set(self.github_token.is_some()))
            .field(
                "bluesky_app_password",
                &set(self.bluesky_app_password.is_some()),
            )
            .field("ap_access_token", &set(self.ap_access_token.is_some()))
            .field("nostr_key", &set(self.nostr_key.is_some()))
            .finish()
    }
}

/// A claim ready to publish, in the encodings the channels use.
#[derive(Debug, Clone)]
pub struct ToPublish {
    /// The claim's subject, normalized.
    pub subject: String,
    /// The claim's canonical JSON text.
    pub json: String,
    /// The claim's compact string (`kez:z1:…`).
    pub compact: String,
}

impl ToPublish {
    /// The claim in `json` (canonical, any valid claim), with its compact form.
    ///
    /// # Errors
    ///
    /// The core's error when `json` is not a valid claim.
    pub fn new(json: &str) -> Result<Self, kez_core::Error> {
        let (claim, _) = kez_core::verify_json(json.as_bytes(), 0)?;
        Ok(Self {
            subject: claim.subject().to_owned(),
            json: json.to_owned(),
            compact: kez_core::encode_compact(json.as_bytes()),
        })
    }

    /// The Markdown encoding of the compact string, with a line saying what it is.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out =
            format!("This is a KEZ identity proof for {}.\n\n", self.subject).into_bytes();
        // writing to a Vec cannot fail
        let _ = kez_core::write_markdown(&self.compact, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publication {
    /// The proof is published; where it can be seen.
    Posted {
        /// A URL, an event id with its relays, a record URI.
        location: String,
        /// Details for the user (relays that accepted it, …).
        detail: String,
    },
    /// KEZ cannot publish here (or has no credentials): what to put where, exactly.
    Manual {
        /// The instructions, ready to print.
        instructions: String,
    },
}

/// Why publishing failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishError {
    /// The subject is malformed, or the claim is not for it.
    Subject(String),
    /// A credential the channel needs is missing (the name of the variable to set).
    MissingCredential(&'static str),
    /// The service refused (bad credentials, validation, rejected event).
    Rejected(String),
    /// The service could not be asked.
    Unreachable(String),
}

impl PublishError {
    /// The error class (SPEC.md §10).
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Subject(_) => "bad_subject",
            Self::MissingCredential(_) => "usage",
            Self::Rejected(_) => "rejected",
            Self::Unreachable(_) => "unreachable",
        }
    }
}

impl From<ChannelError> for PublishError {
    fn from(e: ChannelError) -> Self {
        Self::Unreachable(e.reason().to_owned())
    }
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subject(e) => write!(f, "subject: {e}"),
            Self::MissingCredential(var) => write!(f, "missing credential: set {var}"),
            Self::Rejected(e) => write!(f, "the service refused: {e}"),
            Self::Unreachable(e) => write!(f, "cannot reach the service: {e}"),
        }
    }
}

impl std::error::Error for PublishError {}

/// Publishes `proof` for `subject` (which must be the claim's subject once normalized).
///
/// # Errors
///
/// See [`PublishError`].
pub async fn publish(
    config: &Config,
    credentials: &Credentials,
    subject: &str,
    proof: &ToPublish,
) -> Result<Publication, PublishError> {
    let mut buf = [0u8; kez_core::MAX_SUBJECT];
    let normalized = kez_core::normalize_subject(subject, &mut buf)
        .map_err(|e| PublishError::Subject(e.to_string()))?;
    if normalized != proof.subject {
        return Err(PublishError::Subject(format!(
            "the claim is for {}, not {normalized}",
            proof.subject
        )));
    }
    let (channel, handle) =
        kez_core::check_normalized(normalized).map_err(|e| PublishError::Subject(e.to_string()))?;
    match channel {
        kez_core::Channel::Dns => Ok(Dns::new(config).publish(handle, proof)),
        kez_core::Channel::Github => {
            Github::new(config)
                .publish(handle, proof, credentials)
                .await
        }
        kez_core::Channel::Nostr => Nostr::new(config).publish(handle, proof, credentials).await,
        kez_core::Channel::Bluesky => {
            Bluesky::new(config)
                .publish(handle, proof, credentials)
                .await
        }
        kez_core::Channel::Ap => Ap::new(config).publish(handle, proof, credentials).await,
    }
}

/// [`publish`] on a runtime of its own, for synchronous callers such as the CLI.
///
/// # Errors
///
/// As [`publish`]; a runtime that cannot start is `Unreachable`.
pub fn publish_blocking(
    config: &Config,
    credentials: &Credentials,
    subject: &str,
    proof: &ToPublish,
) -> Result<Publication, PublishError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PublishError::Unreachable(format!("no runtime: {e}")))?;
    runtime.block_on(publish(config, credentials, subject, proof))
}
