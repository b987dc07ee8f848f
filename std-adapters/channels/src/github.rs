//! The `github` channel (SPEC.md §15.3): the account's public gists, listed through the REST API
//! (`GET /users/{login}/gists`, paginated by `Link: rel="next"`), each file read from its
//! `raw_url`. A gist counts as published by the account iff its `owner.login` equals the login
//! (ASCII case-insensitively); files of other owners are handed over marked with their owner,
//! so that verification reports them as another account's.

use serde_json::Value;

use tokio::task::JoinSet;

use crate::http::{Fetcher, Response, unreachable_status};
use crate::publish::{Credentials, Publication, PublishError, ToPublish};
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

impl Github {
    /// With a token: checks that it is `login`'s, then creates a public gist holding the proof
    /// (`POST {api}/gists`). Without one: the gist text to publish by hand.
    pub(crate) async fn publish(
        &self,
        login: &str,
        proof: &ToPublish,
        credentials: &Credentials,
    ) -> Result<Publication, PublishError> {
        let markdown = proof.markdown();
        let Some(token) = credentials
            .github_token
            .as_deref()
            .filter(|t| !t.is_empty())
        else {
            return Ok(Publication::Manual {
                instructions: format!(
                    "Create a public gist as {login} (https://gist.github.com) with one file named \
                     {GIST_FILE} holding this text (or set GITHUB_TOKEN to a token with the gist \
                     scope and run this again):\n\n{markdown}"
                ),
            });
        };
        let url = format!("{}/user", self.api);
        let me = self
            .fetcher
            .send_json(reqwest::Method::GET, &url, API_HEADERS, Some(token), None)
            .await?;
        let me = api_object(&url, &me)?;
        let owner = me.get("login").and_then(Value::as_str).unwrap_or_default();
        if !owner.eq_ignore_ascii_case(login) {
            return Err(PublishError::Rejected(format!(
                "the token is {owner}'s, not {login}'s: nothing was published"
            )));
        }
        let url = format!("{}/gists", self.api);
        let body = serde_json::json!({
            "description": format!("KEZ identity proof for {}", proof.subject),
            "public": true,
            "files": { GIST_FILE: { "content": markdown } },
        });
        let created = self
            .fetcher
            .send_json(
                reqwest::Method::POST,
                &url,
                API_HEADERS,
                Some(token),
                Some(&body),
            )
            .await?;
        let created = api_object(&url, &created)?;
        let location = created
            .get("html_url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Publication::Posted {
            detail: format!("public gist with {GIST_FILE}"),
            location,
        })
    }
}

/// The file name of a published proof gist.
const GIST_FILE: &str = "kez-proof.md";

/// A 2xx answer's JSON object, or why publishing failed.
fn api_object(
    url: &str,
    response: &Response,
) -> Result<serde_json::Map<String, Value>, PublishError> {
    if let Some(e) = unreachable_status(url, response) {
        return Err(e.into());
    }
    let message = || {
        serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()
    };
    if !(200..300).contains(&response.status) {
        return Err(PublishError::Rejected(format!(
            "{url}: HTTP {} {}",
            response.status,
            message()
        )));
    }
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(PublishError::Unreachable(format!(
            "{url}: malformed response (not a JSON object)"
        ))),
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
