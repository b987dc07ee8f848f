//! The `dns` channel's harness and its own cases.

use std::any::Any;

use kez_channels::{Config, verify_id};
use kez_core::{SecretKey, Status};

use crate::common::*;
use crate::suite::*;
// ---------------------------------------------------------------------------------------------
// dns
// ---------------------------------------------------------------------------------------------

struct DnsHarness;

const DNS_NAME: &str = "_kez.alice.example.";

/// A TXT record's strings for `text`, split as encoders split them (SPEC.md §9.4).
fn txt(text: &str) -> Vec<String> {
    kez_core::txt_strings(text)
        .map(|s| String::from_utf8(s.to_vec()).unwrap())
        .collect()
}

impl Harness for DnsHarness {
    const SUBJECT: &'static str = "dns:alice.example";

    async fn start(setup: Setup) -> Running {
        let mut config = base_config();
        let mut guards: Vec<Box<dyn Any + Send>> = Vec::new();
        let addr = match setup {
            Setup::Publish(proofs) => {
                let records: Vec<(String, Vec<String>)> = proofs
                    .iter()
                    .map(|p| (DNS_NAME.to_owned(), txt(&p.text)))
                    .collect();
                let (addr, task) = dns_server(&records).await;
                guards.push(Box::new(task));
                addr
            }
            Setup::Empty => {
                // the zone exists, with another name's record only
                let other = vec![("_kez.bob.example.".to_owned(), vec!["x".to_owned()])];
                let (addr, task) = dns_server(&other).await;
                guards.push(Box::new(task));
                addr
            }
            Setup::Refused => refused_addr().await,
            other => {
                let kind = match other {
                    Setup::Silent => RawDns::Silent,
                    Setup::ServerError => RawDns::Rcode(2),
                    Setup::RateLimited => RawDns::Rcode(5),
                    _ => RawDns::Garbage,
                };
                let (addr, task) = raw_dns(kind).await;
                guards.push(Box::new(task));
                addr
            }
        };
        config.dns_server = Some(addr);
        Running {
            config,
            _guards: guards,
        }
    }

    fn other_account(key: &SecretKey) -> Vec<Published> {
        // at alice's name, a proof of bob's domain
        vec![own(claim(key, "dns:bob.example", None))]
    }
}

crate::channel_suite!(dns, DnsHarness);

#[tokio::test]
async fn dns_nxdomain_is_not_found() {
    let (addr, _task) = dns_server(&[]).await;
    let config = Config {
        dns_server: Some(addr),
        ..base_config()
    };
    let report = verify_id(&config, "dns:nobody.example", NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert!(report.reason.contains("NXDOMAIN"), "{report:#?}");
}

#[tokio::test]
async fn dns_many_records_fall_back_to_tcp() {
    // five proofs of ~450 bytes do not fit a UDP answer: the truncated answer is retried on TCP
    let k = key(1);
    let proofs: Vec<Published> = (0..5)
        .map(|i| own(claim(&k, DnsHarness::SUBJECT, Some(NOW + 1 + i))))
        .collect();
    let running = DnsHarness::start(Setup::Publish(proofs)).await;
    let report = verify_id(&running.config, DnsHarness::SUBJECT, NOW, None, None)
        .await
        .unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    assert_eq!(report.proofs.len(), 5);
}

#[tokio::test]
async fn dns_offline_is_unreachable() {
    let running = DnsHarness::start(Setup::Empty).await;
    let config = Config {
        offline: true,
        ..running.config.clone()
    };
    let report = verify_id(&config, DnsHarness::SUBJECT, NOW, None, None)
        .await
        .unwrap();
    assert_status(&report, Status::Unreachable, "offline, not cached");
}
