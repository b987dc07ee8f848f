#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ap;
mod bluesky;
mod config;
mod dns;
mod github;
mod http;
mod nostr;
mod publish;
mod relay;
mod verify;

/// NIP-01 events: the one implementation, in `kez-nostr`, re-exported at its old path.
pub use kez_nostr::event;

use std::future::Future;

pub use ap::Ap;
pub use bluesky::Bluesky;
pub use config::{
    Config, DEFAULT_MAX_BODY, DEFAULT_RELAYS, DEFAULT_TIMEOUT, GITHUB_API, PLC_DIRECTORY,
};
pub use dns::Dns;
pub use github::Github;
pub use nostr::Nostr;
pub use publish::{Credentials, Publication, PublishError, ToPublish, publish, publish_blocking};
pub use verify::{
    CONCURRENCY, ChainJudge, ProofVerdict, Report, Verifier, VerifyError, judge_proofs, verify_id,
    verify_id_blocking, verify_many_blocking,
};

/// One published proof, as the channel found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The account the service says published it (the gist's owner login, the DNS domain).
    pub publisher: String,
    /// Where it was found (a URL or a DNS name), for reports.
    pub location: String,
    /// The text handed to the claim decoder (any encoding of SPEC.md §9).
    pub text: String,
}

/// Why a channel gave no proofs.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelError {
    /// The service answered, and it holds no proof for the handle.
    NotFound {
        /// What the service said.
        reason: String,
    },
    /// The service could not be asked or did not answer usefully: DNS failure, refused, timeout,
    /// HTTP 5xx, rate limit, a malformed or oversized response, offline and not cached.
    Unreachable {
        /// What went wrong.
        reason: String,
    },
}

impl ChannelError {
    /// The status this error stands for (`not_found` or `unreachable`).
    #[must_use]
    pub const fn status(&self) -> kez_core::Status {
        match self {
            Self::NotFound { .. } => kez_core::Status::NotFound,
            Self::Unreachable { .. } => kez_core::Status::Unreachable,
        }
    }

    /// The reason, human-readable.
    #[must_use]
    pub fn reason(&self) -> &str {
        match self {
            Self::NotFound { reason } | Self::Unreachable { reason } => reason,
        }
    }

    pub(crate) fn unreachable(reason: impl Into<String>) -> Self {
        Self::Unreachable {
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(reason: impl Into<String>) -> Self {
        Self::NotFound {
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status(), self.reason())
    }
}

impl std::error::Error for ChannelError {}

/// A service where accounts publish proofs (SPEC.md §15).
pub trait Channel {
    /// The channel's name in subjects (`dns`, `github`).
    fn name(&self) -> &'static str;

    /// Fetches the proofs published for `handle`, a handle already normalized (SPEC.md §6.3).
    /// Never panics; every response is bounded in time and size.
    ///
    /// # Errors
    ///
    /// [`ChannelError::NotFound`] when the service answered that there is no proof,
    /// [`ChannelError::Unreachable`] when it could not be asked.
    fn fetch(&self, handle: &str) -> impl Future<Output = Result<Vec<Proof>, ChannelError>> + Send;
}

/// Fetches a public document, such as a sigchain bundle, with the channels' timeout, cache and
/// offline rules, reading at most `max` bytes of body.
///
/// # Errors
///
/// [`ChannelError::NotFound`] for HTTP 404 or 410, [`ChannelError::Unreachable`] for any other
/// failure (see SPEC.md §15.1).
pub async fn fetch_document(
    config: &Config,
    url: &str,
    max: usize,
) -> Result<Vec<u8>, ChannelError> {
    let config = Config {
        max_body: max,
        ..config.clone()
    };
    let response = http::Fetcher::new(&config).get(url, &[], None).await?;
    if let Some(e) = http::unreachable_status(url, &response) {
        return Err(e);
    }
    match response.status {
        200 => Ok(response.body),
        404 | 410 => Err(ChannelError::not_found(format!(
            "{url}: HTTP {}",
            response.status
        ))),
        status => Err(ChannelError::unreachable(format!("{url}: HTTP {status}"))),
    }
}

/// [`fetch_document`] on a runtime of its own, for synchronous callers such as the CLI.
///
/// # Errors
///
/// As [`fetch_document`]; a runtime that cannot start is `Unreachable`.
pub fn fetch_document_blocking(
    config: &Config,
    url: &str,
    max: usize,
) -> Result<Vec<u8>, ChannelError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ChannelError::unreachable(format!("no runtime: {e}")))?;
    runtime.block_on(fetch_document(config, url, max))
}
