//! The scenarios every channel runs (SPEC.md §15.1).

use std::any::Any;
use std::time::{Duration, Instant};

use crate::common::{IAT, NOW, claim, key, revoking_chain};
use kez_channels::{ChainJudge, Config, Report, verify_id};
use kez_core::chain::VecReplay;
use kez_core::{KeyRef, SecretKey, Status};

/// Short, so that the unreachable cases stay fast, yet long enough for a loaded 2-core CI box.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(1000);

/// One published proof: its text, and who published it where the service has owners.
pub(crate) struct Published {
    pub(crate) text: String,
    pub(crate) owner: Option<&'static str>,
}

pub(crate) fn own(text: String) -> Published {
    Published { text, owner: None }
}

/// A malformed service response.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Bad {
    TruncatedJson,
    Html,
    Huge,
}

/// The state of the service under test.
pub(crate) enum Setup {
    Publish(Vec<Published>),
    /// The service answers: no proof.
    Empty,
    /// Nothing listens.
    Refused,
    /// Accepts and never answers.
    Silent,
    /// HTTP 500 / DNS SERVFAIL.
    ServerError,
    /// HTTP 429 / DNS REFUSED.
    RateLimited,
    Malformed(Bad),
}

/// A running service; dropping it stops its servers.
pub(crate) struct Running {
    pub(crate) config: Config,
    pub(crate) _guards: Vec<Box<dyn Any + Send>>,
}

pub(crate) fn base_config() -> Config {
    Config {
        timeout: TIMEOUT,
        ..Config::default()
    }
}

#[allow(async_fn_in_trait)]
pub(crate) trait Harness {
    /// The normalized subject of the account under test.
    const SUBJECT: &'static str;
    /// Starts the service in `setup`.
    async fn start(setup: Setup) -> Running;
    /// What the service shows when another account published a proof of `SUBJECT`.
    fn other_account(key: &SecretKey) -> Vec<Published>;
}

pub(crate) async fn check<H: Harness>(
    setup: Setup,
    key: Option<&KeyRef>,
    chain: Option<&VecReplay>,
) -> Report {
    let running = H::start(setup).await;
    let judge = chain.map(|c| c as &(dyn ChainJudge + Sync));
    let report = verify_id(&running.config, H::SUBJECT, NOW, key, judge)
        .await
        .unwrap();
    drop(running);
    report
}

pub(crate) fn assert_status(report: &Report, status: Status, reason: &str) {
    assert_eq!(report.status, status, "{report:#?}");
    let reasons: Vec<&str> = std::iter::once(report.reason.as_str())
        .chain(report.proofs.iter().map(|p| p.reason.as_str()))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains(reason)),
        "no reason contains {reason:?}: {report:#?}"
    );
}

pub(crate) async fn valid<H: Harness>() {
    let k = key(1);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        None,
        None,
    )
    .await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(report.subject, H::SUBJECT);
    let proof = &report.proofs[0];
    assert_eq!(proof.key.as_deref(), Some(k.public().to_string().as_str()));
    assert_eq!(proof.subject.as_deref(), Some(H::SUBJECT));
    // the expected key, given, changes nothing
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        Some(k.public()),
        None,
    )
    .await;
    assert_status(&report, Status::Valid, "signature verified");
}

pub(crate) async fn valid_among_others<H: Harness>() {
    let k = key(1);
    let proofs = vec![
        own("kez:z1:not-a-claim".to_owned()),
        own(claim(&key(2), H::SUBJECT, Some(IAT + 1))),
        own(claim(&k, H::SUBJECT, None)),
    ];
    let report = check::<H>(Setup::Publish(proofs), None, None).await;
    assert_status(&report, Status::Valid, "1 of 3 proofs valid");
    let statuses: Vec<Status> = report.proofs.iter().map(|p| p.status).collect();
    assert!(statuses.contains(&Status::Invalid) && statuses.contains(&Status::Expired));
}

pub(crate) async fn not_found<H: Harness>() {
    let report = check::<H>(Setup::Empty, None, None).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert!(report.proofs.is_empty());
}

pub(crate) async fn unreachable_refused<H: Harness>() {
    let report = check::<H>(Setup::Refused, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
}

pub(crate) async fn unreachable_timeout<H: Harness>() {
    let start = Instant::now();
    let report = check::<H>(Setup::Silent, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

pub(crate) async fn unreachable_server_error<H: Harness>() {
    let report = check::<H>(Setup::ServerError, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
}

pub(crate) async fn unreachable_rate_limited<H: Harness>() {
    let report = check::<H>(Setup::RateLimited, None, None).await;
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
}

pub(crate) async fn other_account<H: Harness>() {
    let report = check::<H>(Setup::Publish(H::other_account(&key(1))), None, None).await;
    assert_status(&report, Status::Invalid, "another account");
}

pub(crate) async fn other_key<H: Harness>() {
    let k = key(1);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        Some(key(2).public()),
        None,
    )
    .await;
    assert_status(&report, Status::Invalid, "signed by another key");
}

pub(crate) async fn revoked<H: Harness>() {
    let k = key(1);
    let chain = revoking_chain(&k, H::SUBJECT);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, None))]),
        None,
        Some(&chain),
    )
    .await;
    assert_status(&report, Status::Revoked, "revoked");
}

pub(crate) async fn expired<H: Harness>() {
    let k = key(1);
    let report = check::<H>(
        Setup::Publish(vec![own(claim(&k, H::SUBJECT, Some(NOW)))]),
        None,
        None,
    )
    .await;
    assert_status(&report, Status::Expired, &format!("expired at {NOW}"));
}

pub(crate) async fn malformed<H: Harness>() {
    for bad in [Bad::TruncatedJson, Bad::Html, Bad::Huge] {
        let report = check::<H>(Setup::Malformed(bad), None, None).await;
        assert_eq!(report.status, Status::Unreachable, "{bad:?}: {report:#?}");
        assert!(!report.reason.is_empty());
    }
}

#[macro_export]
macro_rules! channel_suite {
    ($name:ident, $harness:ty) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn valid() {
                $crate::suite::valid::<$harness>().await;
            }
            #[tokio::test]
            async fn valid_among_others() {
                $crate::suite::valid_among_others::<$harness>().await;
            }
            #[tokio::test]
            async fn not_found() {
                $crate::suite::not_found::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_refused() {
                $crate::suite::unreachable_refused::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_timeout() {
                $crate::suite::unreachable_timeout::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_server_error() {
                $crate::suite::unreachable_server_error::<$harness>().await;
            }
            #[tokio::test]
            async fn unreachable_rate_limited() {
                $crate::suite::unreachable_rate_limited::<$harness>().await;
            }
            #[tokio::test]
            async fn other_account() {
                $crate::suite::other_account::<$harness>().await;
            }
            #[tokio::test]
            async fn other_key() {
                $crate::suite::other_key::<$harness>().await;
            }
            #[tokio::test]
            async fn revoked() {
                $crate::suite::revoked::<$harness>().await;
            }
            #[tokio::test]
            async fn expired() {
                $crate::suite::expired::<$harness>().await;
            }
            #[tokio::test]
            async fn malformed() {
                $crate::suite::malformed::<$harness>().await;
            }
        }
    };
}
