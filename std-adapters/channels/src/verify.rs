//! Verifying an account (SPEC.md §15.1): fetch the channel's proofs, then judge each one like an
//! offline claim (§7) plus the account checks: the claim's subject is the account asked about,
//! the service says the account published it, the key is the expected one, and the sigchain
//! (§14.8) has not revoked it.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use kez_core::chain::VecReplay;
use kez_core::{Claim, KeyRef, Status, decode_any, verify_json};

use crate::{Ap, Bluesky, Channel, ChannelError, Config, Dns, Github, Nostr, Proof};

/// What a sigchain says of a claim that verified on its own.
pub trait ChainJudge {
    /// The claim's status once the chain has a say (`own` is its offline status, `valid` or
    /// `expired`), and why.
    fn judge(&self, claim: &Claim<'_>, own: Status, now: u64) -> (Status, String);
}

impl ChainJudge for VecReplay {
    fn judge(&self, claim: &Claim<'_>, own: Status, now: u64) -> (Status, String) {
        match VecReplay::judge(self, claim.key(), claim.digest()) {
            Status::Valid => own_verdict(claim, own, now),
            Status::Revoked => (Status::Revoked, "revoked by the sigchain".to_owned()),
            Status::Fork => (Status::Fork, "the sigchain forked".to_owned()),
            other => (
                other,
                "its key is not one of the sigchain's keys".to_owned(),
            ),
        }
    }
}

/// The verdict on one proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofVerdict {
    /// The proof's status.
    pub status: Status,
    /// Why, human-readable.
    pub reason: String,
    /// The claim's key reference, when the proof decoded to a claim.
    pub key: Option<String>,
    /// The claim's subject, when the proof decoded to a claim.
    pub subject: Option<String>,
    /// Where the proof was found.
    pub location: String,
}

/// The verdict on an account: one per proof, and the overall status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The normalized subject asked about.
    pub subject: String,
    /// `valid` if any proof is valid; else the most specific failure; `not_found` or
    /// `unreachable` when the channel gave no proofs.
    pub status: Status,
    /// Why, human-readable.
    pub reason: String,
    /// One verdict per proof, in the channel's order.
    pub proofs: Vec<ProofVerdict>,
}

/// Why an account could not be verified at all.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The subject is malformed (`bad_subject`).
    Subject(kez_core::Error),
    /// No async runtime could be started.
    Runtime(String),
}

impl VerifyError {
    /// The error class (SPEC.md §10): `bad_subject` or `io`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Subject(e) => e.kind(),
            Self::Runtime(_) => "io",
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Subject(e) => write!(f, "subject: {e}"),
            Self::Runtime(e) => write!(f, "cannot start the network runtime: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Checks accounts: one instance of each channel, shared by every verification, so that HTTP
/// connections and the resolver are reused.
#[derive(Debug, Clone)]
pub struct Verifier {
    dns: Dns,
    github: Github,
    nostr: Nostr,
    bluesky: Bluesky,
    ap: Ap,
}

/// How many accounts [`Verifier::verify_many`] checks at the same time.
pub const CONCURRENCY: usize = 32;

impl Verifier {
    /// The channels with `config`'s endpoints, timeouts, caps and cache.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            dns: Dns::new(config),
            github: Github::new(config),
            nostr: Nostr::new(config),
            bluesky: Bluesky::new(config),
            ap: Ap::new(config),
        }
    }

    /// Checks one account: the subject is normalized, its channel asked, its proofs judged.
    ///
    /// # Errors
    ///
    /// [`VerifyError::Subject`] for a malformed subject. Network failures are not errors: they
    /// are the report's `unreachable` status.
    pub async fn verify(
        &self,
        subject: &str,
        now: u64,
        key: Option<&KeyRef>,
        chain: Option<&(dyn ChainJudge + Sync)>,
    ) -> Result<Report, VerifyError> {
        let mut buf = [0u8; kez_core::MAX_SUBJECT];
        let normalized =
            kez_core::normalize_subject(subject, &mut buf).map_err(VerifyError::Subject)?;
        let (channel, handle) =
            kez_core::check_normalized(normalized).map_err(VerifyError::Subject)?;
        let fetched = match channel {
            kez_core::Channel::Dns => self.dns.fetch(handle).await,
            kez_core::Channel::Github => self.github.fetch(handle).await,
            kez_core::Channel::Nostr => self.nostr.fetch(handle).await,
            kez_core::Channel::Bluesky => self.bluesky.fetch(handle).await,
            kez_core::Channel::Ap => self.ap.fetch(handle).await,
        };
        Ok(judge_proofs(normalized, fetched, now, key, chain))
    }

    /// Checks several accounts concurrently (at most [`CONCURRENCY`] at a time; each channel's
    /// requests run in parallel with the others'). The results are in `subjects`' order.
    pub async fn verify_many(
        &self,
        subjects: &[String],
        now: u64,
        key: Option<&KeyRef>,
        chain: Option<&(dyn ChainJudge + Sync)>,
    ) -> Vec<Result<Report, VerifyError>> {
        let permits = tokio::sync::Semaphore::new(CONCURRENCY);
        let permits = &permits;
        let jobs = subjects.iter().map(|subject| async move {
            // the semaphore is never closed, so a permit always comes
            let _permit = permits.acquire().await.ok();
            self.verify(subject, now, key, chain).await
        });
        join_all(jobs.collect()).await
    }
}

/// Runs `futures` concurrently on the current task and returns their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (future, slot) in pending.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(output) => *slot = Some(output),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// Checks one account with a [`Verifier`] of its own.
///
/// # Errors
///
/// As [`Verifier::verify`].
pub async fn verify_id(
    config: &Config,
    subject: &str,
    now: u64,
    key: Option<&KeyRef>,
    chain: Option<&(dyn ChainJudge + Sync)>,
) -> Result<Report, VerifyError> {
    Verifier::new(config).verify(subject, now, key, chain).await
}

/// [`Verifier::verify_many`] on a runtime of its own, for synchronous callers such as the CLI.
///
/// # Errors
///
/// [`VerifyError::Runtime`] when no runtime can be started; per account, as
/// [`Verifier::verify`].
pub fn verify_many_blocking(
    config: &Config,
    subjects: &[String],
    now: u64,
    key: Option<&KeyRef>,
    chain: Option<&(dyn ChainJudge + Sync)>,
) -> Result<Vec<Result<Report, VerifyError>>, VerifyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VerifyError::Runtime(e.to_string()))?;
    let verifier = Verifier::new(config);
    Ok(runtime.block_on(verifier.verify_many(subjects, now, key, chain)))
}

/// [`verify_id`] on a runtime of its own, for synchronous callers such as the CLI.
///
/// # Errors
///
/// As [`verify_id`], and [`VerifyError::Runtime`] when no runtime can be started.
pub fn verify_id_blocking(
    config: &Config,
    subject: &str,
    now: u64,
    key: Option<&KeyRef>,
    chain: Option<&(dyn ChainJudge + Sync)>,
) -> Result<Report, VerifyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VerifyError::Runtime(e.to_string()))?;
    runtime.block_on(verify_id(config, subject, now, key, chain))
}

/// Judges the proofs a channel gave for `subject` (normalized) at `now`.
#[must_use]
pub fn judge_proofs(
    subject: &str,
    fetched: Result<Vec<Proof>, ChannelError>,
    now: u64,
    key: Option<&KeyRef>,
    chain: Option<&(dyn ChainJudge + Sync)>,
) -> Report {
    let proofs = match fetched {
        Ok(proofs) => proofs,
        Err(e) => {
            return Report {
                subject: subject.to_owned(),
                status: e.status(),
                reason: e.reason().to_owned(),
                proofs: Vec::new(),
            };
        }
    };
    let handle = subject.split_once(':').map_or("", |(_, h)| h);
    let verdicts: Vec<ProofVerdict> = proofs
        .iter()
        .map(|p| judge_one(subject, handle, p, now, key, chain))
        .collect();
    let valid = verdicts
        .iter()
        .filter(|v| v.status == Status::Valid)
        .count();
    let (status, reason) = if valid > 0 {
        (
            Status::Valid,
            format!("{valid} of {} proofs valid", verdicts.len()),
        )
    } else {
        verdicts
            .iter()
            .max_by_key(|v| rank(v.status))
            .map_or((Status::NotFound, "no proof".to_owned()), |v| {
                (v.status, v.reason.clone())
            })
    };
    Report {
        subject: subject.to_owned(),
        status,
        reason,
        proofs: verdicts,
    }
}

/// How specific a failure is: the overall status of an account without a valid proof is its
/// most specific proof status.
const fn rank(status: Status) -> u8 {
    match status {
        Status::Fork => 5,
        Status::Revoked => 4,
        Status::Expired => 3,
        Status::Invalid => 2,
        _ => 1,
    }
}

fn judge_one(
    subject: &str,
    handle: &str,
    proof: &Proof,
    now: u64,
    key: Option<&KeyRef>,
    chain: Option<&(dyn ChainJudge + Sync)>,
) -> ProofVerdict {
    let verdict = |status, reason: String, claim: Option<&Claim<'_>>| ProofVerdict {
        status,
        reason,
        key: claim.map(|c| c.key().to_string()),
        subject: claim.map(|c| c.subject().to_owned()),
        location: proof.location.clone(),
    };
    let json = match decode_any(proof.text.as_bytes()) {
        Ok((_, json)) => json,
        Err(e) => {
            return verdict(
                Status::Invalid,
                format!("not a claim: {e} [{}]", e.kind()),
                None,
            );
        }
    };
    let (claim, own) = match verify_json(&json, now) {
        Ok(v) => v,
        Err(e) => {
            return verdict(
                Status::Invalid,
                format!("not a claim: {e} [{}]", e.kind()),
                None,
            );
        }
    };
    let c = Some(&claim);
    if own == Status::Invalid {
        return verdict(own, "signature does not verify".to_owned(), c);
    }
    if claim.subject() != subject {
        return verdict(
            Status::Invalid,
            format!("claim is for another account ({})", claim.subject()),
            c,
        );
    }
    if !proof.publisher.eq_ignore_ascii_case(handle) {
        return verdict(
            Status::Invalid,
            format!("published by another account ({})", proof.publisher),
            c,
        );
    }
    if key.is_some_and(|k| k != claim.key()) {
        return verdict(Status::Invalid, "signed by another key".to_owned(), c);
    }
    let (status, reason) = match chain {
        Some(judge) => judge.judge(&claim, own, now),
        None => own_verdict(&claim, own, now),
    };
    verdict(status, reason, c)
}

fn own_verdict(claim: &Claim<'_>, own: Status, now: u64) -> (Status, String) {
    match own {
        Status::Expired => (own, format!("expired at {}", claim.exp().unwrap_or(now))),
        Status::Valid => (
            own,
            "signature verified, published by the account".to_owned(),
        ),
        _ => (own, "signature does not verify".to_owned()),
    }
}
