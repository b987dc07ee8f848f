//! The `bluesky` channel (SPEC.md §15). Being written.

use crate::publish::{Credentials, Publication, PublishError, ToPublish};
use crate::{Channel, ChannelError, Config, Proof};

/// The `bluesky` channel.
#[derive(Debug, Clone)]
pub struct Bluesky {
    _config: Config,
}

impl Bluesky {
    /// The channel with `config`'s endpoints, timeout and caps.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            _config: config.clone(),
        }
    }

    /// Publishes `proof` for `handle`.
    pub(crate) async fn publish(
        &self,
        _handle: &str,
        _proof: &ToPublish,
        _credentials: &Credentials,
    ) -> Result<Publication, PublishError> {
        Err(PublishError::Unreachable("not implemented yet".to_owned()))
    }
}

impl Channel for Bluesky {
    fn name(&self) -> &'static str {
        "bluesky"
    }

    async fn fetch(&self, _handle: &str) -> Result<Vec<Proof>, ChannelError> {
        Err(ChannelError::unreachable("not implemented yet"))
    }
}
