//! The `dns` channel (SPEC.md §15.2): TXT records at `_kez.<domain>`, each record's strings
//! joined in order into one proof text.

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, ResolveErrorKind, Resolver};

use crate::publish::{Publication, ToPublish};
use crate::{Channel, ChannelError, Config, Proof};

/// The `dns` channel: asks one resolver configuration for `_kez.<domain>` TXT.
#[derive(Debug, Clone)]
pub struct Dns {
    resolver: Option<Resolver<TokioConnectionProvider>>,
    setup_error: Option<String>,
    offline: bool,
    max_proofs: usize,
    max_body: usize,
}

impl Dns {
    /// The channel with `config`'s nameserver (UDP, then TCP) and timeout; without a nameserver,
    /// the system's resolver configuration.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        let mut opts = ResolverOpts::default();
        opts.timeout = config.timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        opts.try_tcp_on_error = true;
        opts.edns0 = true;
        let builder = match config.dns_server {
            Some(addr) => {
                let mut rc = ResolverConfig::new();
                rc.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                rc.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
                Ok(Resolver::builder_with_config(
                    rc,
                    TokioConnectionProvider::default(),
                ))
            }
            None => Resolver::builder_tokio(),
        };
        let (resolver, setup_error) = match builder {
            Ok(b) => (Some(b.with_options(opts).build()), None),
            Err(e) => (None, Some(format!("no DNS configuration: {e}"))),
        };
        Self {
            resolver,
            setup_error,
            offline: config.offline,
            max_proofs: config.max_proofs,
            max_body: config.max_body,
        }
    }
}

impl Dns {
    /// DNS has no publishing API KEZ speaks: the zone-file line to add (SPEC.md §9.4).
    pub(crate) fn publish(&self, domain: &str, proof: &ToPublish) -> Publication {
        let mut line = Vec::new();
        // the compact alphabet is always TXT-safe and a Vec sink cannot fail
        let _ = kez_core::write_txt(Some(domain), &proof.compact, &mut line);
        Publication::Manual {
            instructions: format!(
                "Add this TXT record to the zone of {domain} (one record; keep the strings in \
                 order):\n\n{}",
                String::from_utf8_lossy(&line)
            ),
        }
    }
}

impl Channel for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }

    async fn fetch(&self, handle: &str) -> Result<Vec<Proof>, ChannelError> {
        let name = format!("_kez.{handle}.");
        let records = self.txt(&name).await?;
        if records.is_empty() {
            return Err(ChannelError::not_found(format!("no TXT record at {name}")));
        }
        Ok(records
            .into_iter()
            .map(|text| Proof {
                publisher: handle.to_owned(),
                location: format!("{name} TXT"),
                // a record that is not text cannot be a claim; the decoder reports it as such
                text: String::from_utf8_lossy(&text).into_owned(),
            })
            .collect())
    }
}

impl Dns {
    /// The TXT records at `name` (fully qualified, ending in `.`), each record's strings joined
    /// in order: at most `max_proofs` records and `max_body` bytes in all. Also used by the
    /// `bluesky` channel for `_atproto.<handle>` (SPEC.md §15.5).
    ///
    /// # Errors
    ///
    /// NXDOMAIN or NOERROR without TXT is `NotFound`; offline, a missing resolver, a timeout,
    /// any other RCODE or an oversized answer is `Unreachable`.
    pub(crate) async fn txt(&self, name: &str) -> Result<Vec<Vec<u8>>, ChannelError> {
        if self.offline {
            return Err(ChannelError::unreachable(format!(
                "offline, not cached: {name} TXT"
            )));
        }
        let Some(resolver) = &self.resolver else {
            return Err(ChannelError::unreachable(
                self.setup_error.clone().unwrap_or_default(),
            ));
        };
        let lookup = resolver
            .txt_lookup(name)
            .await
            .map_err(|e| classify(name, &e))?;
        let mut records = Vec::new();
        let mut total = 0usize;
        for txt in lookup.iter().take(self.max_proofs) {
            let mut text = Vec::new();
            for part in txt.txt_data() {
                text.extend_from_slice(part);
            }
            total = total.saturating_add(text.len());
            if total > self.max_body {
                return Err(ChannelError::unreachable(format!(
                    "{name}: response too large (more than {} bytes)",
                    self.max_body
                )));
            }
            records.push(text);
        }
        Ok(records)
    }
}

/// NXDOMAIN or an empty answer is `not_found`; anything else (timeout, refused, SERVFAIL, no
/// connection) is `unreachable`.
fn classify(name: &str, e: &ResolveError) -> ChannelError {
    if let ResolveErrorKind::Proto(proto) = e.kind() {
        if let ProtoErrorKind::NoRecordsFound { response_code, .. } = proto.kind() {
            return match *response_code {
                ResponseCode::NXDomain => {
                    ChannelError::not_found(format!("{name} does not exist (NXDOMAIN)"))
                }
                ResponseCode::NoError => {
                    ChannelError::not_found(format!("no TXT record at {name}"))
                }
                code => ChannelError::unreachable(format!("{name}: the server answered {code}")),
            };
        }
        if proto.is_busy() || matches!(proto.kind(), ProtoErrorKind::Timeout) {
            return ChannelError::unreachable(format!("{name}: timed out"));
        }
    }
    let text = e.to_string().replace(['\n', '\r'], " ");
    ChannelError::unreachable(format!("{name}: {text}"))
}
