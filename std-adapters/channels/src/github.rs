//! The `github` channel (SPEC.md §15.3): the account's public gists, listed through the REST API
//! (`GET /users/{login}/gists`, paginated by `Link: rel="next"`), each file read from its
//! `raw_url`. A gist counts as published by the account iff its `owner.login` equals the login
//! (ASCII case-insensitively); files of other owners are handed over marked with their owner,
//! so that verification reports them as another account's.

use serde_json::Value;

use tokio::task::JoinSet;

use crate::http::{Fetcher, Response, unreachable_status};
use crate::{Channel, ChannelError, Config, Proof};

/// The headers the REST API documents: its JSON media type and the API version.
const API_HEADERS: &[(&str, &str)] = &[
    ("accept", "application/vnd.github+json"),
    ("x-github-api-version", "2022-11-28"),
];
/// Gists per page (the API's maximum).
const PER_PAGE: u32 = 100;
/// Raw files fetched at the same time.
const RAW_CONCURRENCY: usize = 8;

/// The `github` channel.
#[derive(Clone)]
pub struct Github {
    fetcher: Fetcher,
    api: String,
    token: Option<String>,
    max_pages: usize,
    max_proofs: usize,
}

impl std::fmt::Debug for Github {
    // by hand, so the token never reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Github")
            .field("api", &self.api)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// A file of a gist listing: where to read it and who owns the gist.
struct Candidate {
    owner: String,
    raw_url: String,
}

impl Github {
    /// The channel with `config`'s API base URL, token, timeout, caps and cache.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            fetcher: Fetcher::new(config),
            api: config.github_api.trim_end_matches('/').to_owned(),
            token: config.github_token.clone().filter(|t| !t.is_empty()),
            max_pages: config.max_pages.max(1),
            max_proofs: config.max_proofs,
        }
    }

    /// Lists the candidate files of `login`'s gists, following `rel="next"` up to the page cap.
    async fn candidates(&self, login: &str) -> Result<Vec<Candidate>, ChannelError> {
        let mut url = format!(
            "{}/users/{login}/gists?per_page={PER_PAGE}&page=1",
            self.api
        );
        let mut out = Vec::new();
        for _ in 0..self.max_pages {
            let response = self
                .fetcher
                .get(&url, API_HEADERS, self.token.as_deref())
                .await?;
            match response.status {
                200 => {}
                404 => {
                    return Err(ChannelError::not_found(format!(
                        "no GitHub account {login}"
                    )));
                }
                403 if response.ratelimit_remaining.as_deref() == Some("0") => {
                    return Err(ChannelError::unreachable(format!(
                        "{url}: rate limited (HTTP 403, x-ratelimit-remaining: 0)"
                    )));
                }
                status => {
                    return Err(unreachable_status(&url, &response).unwrap_or_else(|| {
                        ChannelError::unreachable(format!("{url}: unexpected HTTP {status}"))
                    }));
                }
            }
            let gists: Value = serde_json::from_slice(&response.body).map_err(|e| {
                ChannelError::unreachable(format!("{url}: malformed response (not JSON: {e})"))
            })?;
            let Some(gists) = gists.as_array() else {
                return Err(ChannelError::unreachable(format!(
                    "{url}: malformed response (not a JSON array of gists)"
                )));
            };
            for gist in gists {
                let Some(owner) = gist
                    .get("owner")
                    .and_then(|o| o.get("login"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                let Some(files) = gist.get("files").and_then(Value::as_object) else {
                    continue;
                };
                for file in files.values() {
                    if let Some(raw_url) = file.get("raw_url").and_then(Value::as_str) {
                        if out.len() >= self.max_proofs {
                            return Ok(out);
                        }
                        out.push(Candidate {
                            owner: owner.to_owned(),
                            raw_url: raw_url.to_owned(),
                        });
                    }
                }
            }
            match response.link.as_deref().and_then(next_link) {
                Some(next) => url = next,
                None => break,
            }
        }
        Ok(out)
    }
}

impl Channel for Github {
    fn name(&self) -> &'static str {
        "github"
    }

    async fn fetch(&self, handle: &str) -> Result<Vec<Proof>, ChannelError> {
        let candidates = self.candidates(handle).await?;
        // raw files are fetched a few at a time; only the texts that hold a proof are kept
        let mut pending = candidates.into_iter().enumerate();
        let mut running = JoinSet::new();
        let mut proofs = Vec::new();
        let mut failure = None;
        loop {
            while running.len() < RAW_CONCURRENCY {
                let Some((i, c)) = pending.next() else { break };
                let fetcher = self.fetcher.clone();
                running.spawn(async move {
                    let got = fetcher
                        .get(&c.raw_url, &[("accept", "text/plain")], None)
                        .await;
                    (i, c, got)
                });
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            let (i, c, got) = match joined {
                Ok(done) => done,
                Err(e) => {
                    failure.get_or_insert(ChannelError::unreachable(format!(
                        "a raw file fetch failed: {e}"
                    )));
                    continue;
                }
            };
            match raw_proof(&c, got) {
                Ok(Some(text)) => proofs.push((
                    i,
                    Proof {
                        publisher: c.owner.to_ascii_lowercase(),
                        location: c.raw_url,
                        text,
                    },
                )),
                Ok(None) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        proofs.sort_by_key(|(i, _)| *i);
        match (proofs.is_empty(), failure) {
            (false, _) => Ok(proofs.into_iter().map(|(_, p)| p).collect()),
            (true, Some(e)) => Err(e),
            (true, None) => Err(ChannelError::not_found(format!(
                "no public gist of {handle} holds a kez proof"
            ))),
        }
    }
}

/// The proof text of a fetched raw file: `None` for a file that holds none (or is not UTF-8, or
/// a 4xx), an error when the file could not be fetched.
fn raw_proof(
    c: &Candidate,
    got: Result<Response, ChannelError>,
) -> Result<Option<String>, ChannelError> {
    let response = got?;
    if response.status != 200 {
        return match unreachable_status(&c.raw_url, &response) {
            Some(e) => Err(e),
            None => Ok(None),
        };
    }
    let Ok(text) = String::from_utf8(response.body) else {
        return Ok(None);
    };
    let holds_proof = text.contains("```kez") || text.contains(kez_core::COMPACT_PREFIX);
    Ok(holds_proof.then_some(text))
}

/// The `rel="next"` target of a `Link` header (RFC 8288), if any.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        let url = target.strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn link_header() {
        let h = "<https://a.example/x?page=2>; rel=\"next\", <https://a.example/x?page=5>; rel=\"last\"";
        assert_eq!(next_link(h).as_deref(), Some("https://a.example/x?page=2"));
        assert_eq!(
            next_link("<https://a.example/x?page=1>; rel=\"prev\""),
            None
        );
        assert_eq!(next_link("garbage"), None);
    }
}
