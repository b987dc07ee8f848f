//! The `bluesky` channel (SPEC.md §15.5): the handle is resolved to a DID (DNS TXT at
//! `_atproto.<handle>` and `https://<handle>/.well-known/atproto-did`, asked together), the DID
//! to its document (the PLC directory for `did:plc`, `/.well-known/did.json` for `did:web`), which
//! must name the handle back and names the account's PDS; the proofs are the account's posts
//! (`app.bsky.feed.post` records) listed by the PDS. A record counts as published by the account
//! iff its AT URI's authority is the account's DID; records of other repositories are handed over
//! marked with their DID, so that verification reports them as another account's.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::dns::Dns;
use crate::http::{Fetcher, Response, unreachable_status};
use crate::publish::{Credentials, Publication, PublishError, ToPublish};
use crate::{Channel, ChannelError, Config, Proof};

/// The collection of Bluesky posts.
const POST_COLLECTION: &str = "app.bsky.feed.post";
/// The embed type that carries the compact claim of a published proof.
const EXTERNAL_EMBED: &str = "app.bsky.embed.external";
/// The service type of a PDS in a DID document.
const PDS_TYPE: &str = "AtprotoPersonalDataServer";
/// The service id fragment of a PDS in a DID document.
const PDS_FRAGMENT: &str = "#atproto_pds";
/// Records per listing page (the largest `limit` listRecords allows).
const PAGE_LIMIT: u32 = 100;
/// Longest DID accepted (atproto's hard limit).
const MAX_DID: usize = 2048;
/// The `did:plc` identifier length (base32 characters after `did:plc:`).
const PLC_ID_LEN: usize = 24;
/// The header sent with every JSON request.
const JSON_HEADERS: &[(&str, &str)] = &[("accept", "application/json")];
/// The title of the link card of a published proof.
const EMBED_TITLE: &str = "KEZ identity proof";

/// The `bluesky` channel.
#[derive(Debug, Clone)]
pub struct Bluesky {
    fetcher: Fetcher,
    dns: Dns,
    plc: String,
    max_pages: usize,
    max_proofs: usize,
}

/// A resolved account: its DID and the base URL of its PDS (no trailing `/`).
#[derive(Debug)]
struct Account {
    did: String,
    pds: String,
}

/// What one handle resolution method said.
enum Lookup {
    /// It gave this DID.
    Did(String),
    /// It answered: no DID here.
    Nothing(String),
    /// It gave several different DIDs.
    Several(String),
    /// It could not be asked.
    Failed(String),
}

/// A supported DID, and where its document lives.
enum DidMethod<'a> {
    Plc,
    Web(&'a str),
}

impl Bluesky {
    /// The channel with `config`'s resolver, PLC directory, timeout, caps and cache.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            fetcher: Fetcher::new(config),
            dns: Dns::new(config),
            plc: config.plc_directory.trim_end_matches('/').to_owned(),
            max_pages: config.max_pages.max(1),
            max_proofs: config.max_proofs,
        }
    }

    /// Handle → DID → DID document (checked both ways) → PDS.
    async fn resolve(&self, handle: &str) -> Result<Account, ChannelError> {
        let did = self.resolve_handle(handle).await?;
        let method = did_method(&did)?;
        let doc = self.did_document(&did, &method).await?;
        if doc.get("id").and_then(Value::as_str) != Some(did.as_str()) {
            return Err(ChannelError::not_found(format!(
                "the DID document of {did} is for another DID"
            )));
        }
        match primary_handle(&doc) {
            Some(h) if h.eq_ignore_ascii_case(handle) => {}
            Some(h) => {
                return Err(ChannelError::not_found(format!(
                    "the DID document of {did} does not claim the handle {handle} (its handle is {h})"
                )));
            }
            None => {
                return Err(ChannelError::not_found(format!(
                    "the DID document of {did} does not claim the handle {handle} (it names none)"
                )));
            }
        }
        let pds = pds_endpoint(&doc, &did).ok_or_else(|| {
            ChannelError::not_found(format!("the DID document of {did} names no usable PDS"))
        })?;
        Ok(Account { did, pds })
    }

    /// The DID both methods agree on, or the one method that gave a DID.
    async fn resolve_handle(&self, handle: &str) -> Result<String, ChannelError> {
        let (dns, https) = tokio::join!(self.lookup_dns(handle), self.lookup_https(handle));
        let describe = |how: &str, l: &Lookup| match l {
            // DIDs from the network are not checked yet: escaped, so a reason stays one line
            Lookup::Did(d) => format!("{how}: {}", d.escape_debug()),
            Lookup::Nothing(r) | Lookup::Several(r) | Lookup::Failed(r) => format!("{how}: {r}"),
        };
        let both = format!("{}; {}", describe("DNS", &dns), describe("HTTPS", &https));
        match (&dns, &https) {
            (Lookup::Several(_), _) | (_, Lookup::Several(_)) => Err(ChannelError::not_found(
                format!("{handle}: handle resolves to two DIDs ({both})"),
            )),
            (Lookup::Did(a), Lookup::Did(b)) if a != b => Err(ChannelError::not_found(format!(
                "{handle}: handle resolves to two DIDs ({both})"
            ))),
            (Lookup::Did(d), _) | (_, Lookup::Did(d)) => Ok(d.clone()),
            (Lookup::Nothing(_), Lookup::Nothing(_)) => Err(ChannelError::not_found(format!(
                "{handle} does not resolve to a DID ({both})"
            ))),
            _ => Err(ChannelError::unreachable(format!(
                "cannot resolve {handle} ({both})"
            ))),
        }
    }

    /// `_atproto.<handle>` TXT: the records beginning `did=`.
    async fn lookup_dns(&self, handle: &str) -> Lookup {
        let name = format!("_atproto.{handle}.");
        let records = match self.dns.txt(&name).await {
            Ok(records) => records,
            Err(ChannelError::NotFound { reason }) => return Lookup::Nothing(reason),
            Err(e) => return Lookup::Failed(e.reason().to_owned()),
        };
        let mut dids: Vec<String> = Vec::new();
        for record in records {
            if let Some(did) = record.strip_prefix(b"did=") {
                let did = String::from_utf8_lossy(did).into_owned();
                if !dids.contains(&did) {
                    dids.push(did);
                }
            }
        }
        match dids.as_slice() {
            [] => Lookup::Nothing(format!("no did= TXT record at {name}")),
            [one] => Lookup::Did(one.clone()),
            _ => Lookup::Several(format!("{name} holds {}", dids.join(", ").escape_debug())),
        }
    }

    /// `GET https://<handle>/.well-known/atproto-did`: the body, trimmed, if it begins `did:`.
    async fn lookup_https(&self, handle: &str) -> Lookup {
        let url = format!("https://{handle}/.well-known/atproto-did");
        let response = match self
            .fetcher
            .get(&url, &[("accept", "text/plain")], None)
            .await
        {
            Ok(r) => r,
            Err(e) => return Lookup::Failed(e.reason().to_owned()),
        };
        if let Some(e) = unreachable_status(&url, &response) {
            return Lookup::Failed(e.reason().to_owned());
        }
        match response.status {
            200..=299 => {}
            status @ 400..=499 => return Lookup::Nothing(format!("{url}: HTTP {status}")),
            status => return Lookup::Failed(format!("{url}: unexpected HTTP {status}")),
        }
        let text = String::from_utf8_lossy(&response.body);
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.starts_with("did:") {
            Lookup::Did(text.to_owned())
        } else {
            Lookup::Nothing(format!("{url} does not hold a DID"))
        }
    }

    /// The DID document, as a JSON object.
    async fn did_document(
        &self,
        did: &str,
        method: &DidMethod<'_>,
    ) -> Result<Map<String, Value>, ChannelError> {
        let url = match method {
            DidMethod::Plc => format!("{}/{did}", self.plc),
            DidMethod::Web(host) => format!("https://{host}/.well-known/did.json"),
        };
        let response = self.fetcher.get(&url, JSON_HEADERS, None).await?;
        if let Some(e) = unreachable_status(&url, &response) {
            return Err(e);
        }
        match response.status {
            200 => json_object(&url, &response),
            status @ 400..=499 => Err(ChannelError::not_found(format!(
                "{url}: no DID document (HTTP {status}{})",
                service_message(&response.body)
            ))),
            status => Err(ChannelError::unreachable(format!(
                "{url}: unexpected HTTP {status}"
            ))),
        }
    }

    /// The account's posts that hold a proof marker, page by page.
    async fn proofs(&self, handle: &str, account: &Account) -> Result<Vec<Proof>, ChannelError> {
        let base = format!(
            "{}/xrpc/com.atproto.repo.listRecords?repo={}&collection={POST_COLLECTION}&limit={PAGE_LIMIT}",
            account.pds,
            query_escape(&account.did)
        );
        let mut url = base.clone();
        let mut proofs = Vec::new();
        for _ in 0..self.max_pages {
            let response = self.fetcher.get(&url, JSON_HEADERS, None).await?;
            if let Some(e) = unreachable_status(&url, &response) {
                return Err(e);
            }
            match response.status {
                200 => {}
                400 => {
                    return Err(ChannelError::not_found(format!(
                        "the PDS does not serve the repository of {handle} ({}{})",
                        account.did,
                        service_message(&response.body)
                    )));
                }
                status => {
                    return Err(ChannelError::unreachable(format!(
                        "{url}: unexpected HTTP {status}{}",
                        service_message(&response.body)
                    )));
                }
            }
            let page = json_object(&url, &response)?;
            let Some(records) = page.get("records").and_then(Value::as_array) else {
                return Err(ChannelError::unreachable(format!(
                    "{url}: malformed response (no records array)"
                )));
            };
            for record in records {
                if proofs.len() >= self.max_proofs {
                    return Ok(proofs);
                }
                if let Some(proof) = record_proof(record, &account.did, handle) {
                    proofs.push(proof);
                }
            }
            if proofs.len() >= self.max_proofs {
                break;
            }
            match page.get("cursor").and_then(Value::as_str) {
                Some(cursor) if !cursor.is_empty() && !records.is_empty() => {
                    url = format!("{base}&cursor={}", query_escape(cursor));
                }
                _ => break,
            }
        }
        Ok(proofs)
    }
}

impl Channel for Bluesky {
    fn name(&self) -> &'static str {
        "bluesky"
    }

    async fn fetch(&self, handle: &str) -> Result<Vec<Proof>, ChannelError> {
        let account = self.resolve(handle).await?;
        let proofs = self.proofs(handle, &account).await?;
        if proofs.is_empty() {
            return Err(ChannelError::not_found(format!(
                "no post of {handle} ({}) holds a kez proof",
                account.did
            )));
        }
        Ok(proofs)
    }
}

impl Bluesky {
    /// With an app password: resolves the account as verification does, opens a session on its
    /// PDS and creates a post whose link card carries the compact claim.
    pub(crate) async fn publish(
        &self,
        handle: &str,
        proof: &ToPublish,
        credentials: &Credentials,
    ) -> Result<Publication, PublishError> {
        let Some(password) = credentials
            .bluesky_app_password
            .as_deref()
            .filter(|p| !p.is_empty())
        else {
            return Err(PublishError::MissingCredential("KEZ_BLUESKY_APP_PASSWORD"));
        };
        let account = self.resolve(handle).await.map_err(|e| match e {
            ChannelError::NotFound { reason } => PublishError::Rejected(reason),
            other => PublishError::Unreachable(other.reason().to_owned()),
        })?;
        if !account.pds.starts_with("https://") {
            return Err(PublishError::Rejected(format!(
                "the PDS of {handle} ({}) is not reached over HTTPS: the app password is not sent",
                account.pds
            )));
        }

        let url = format!("{}/xrpc/com.atproto.server.createSession", account.pds);
        let body = serde_json::json!({ "identifier": handle, "password": password });
        let session = self
            .fetcher
            .send_json(reqwest::Method::POST, &url, JSON_HEADERS, None, Some(&body))
            .await?;
        let session = xrpc_object(&url, &session, "bad app password")?;
        let session_did = session.get("did").and_then(Value::as_str).unwrap_or("");
        if session_did != account.did {
            return Err(PublishError::Rejected(format!(
                "the app password opened a session for {session_did}, not for {handle} ({}): \
                 nothing was published",
                account.did
            )));
        }
        let Some(token) = session
            .get("accessJwt")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            return Err(PublishError::Unreachable(format!(
                "{url}: malformed response (no accessJwt)"
            )));
        };

        let url = format!("{}/xrpc/com.atproto.repo.createRecord", account.pds);
        let body = serde_json::json!({
            "repo": account.did,
            "collection": POST_COLLECTION,
            "record": post_record(proof, &rfc3339_now()),
        });
        let created = self
            .fetcher
            .send_json(
                reqwest::Method::POST,
                &url,
                JSON_HEADERS,
                Some(token),
                Some(&body),
            )
            .await?;
        let created = xrpc_object(&url, &created, "the PDS refused the session")?;
        let Some(uri) = created.get("uri").and_then(Value::as_str) else {
            return Err(PublishError::Unreachable(format!(
                "{url}: malformed response (no uri)"
            )));
        };
        let rkey = uri.rsplit('/').next().unwrap_or_default();
        Ok(Publication::Posted {
            location: uri.to_owned(),
            detail: format!("Bluesky post https://bsky.app/profile/{handle}/post/{rkey}"),
        })
    }
}

/// The post record of a published proof (SPEC.md §15.5): a short text, and the compact claim
/// as the URI of an external link card (a compact claim is longer than a post's 300 graphemes).
fn post_record(proof: &ToPublish, created_at: &str) -> Value {
    let key = kez_core::verify_json(proof.json.as_bytes(), 0)
        .map(|(claim, _)| claim.key().to_string())
        .unwrap_or_default();
    serde_json::json!({
        "$type": POST_COLLECTION,
        "text": format!("KEZ identity proof for {}", proof.subject),
        "createdAt": created_at,
        "embed": {
            "$type": EXTERNAL_EMBED,
            "external": {
                "uri": proof.compact,
                "title": EMBED_TITLE,
                "description": format!(
                    "Signed KEZ claim: the holder of the key {key} controls {}.",
                    proof.subject
                ),
            },
        },
    })
}

/// The proof of one listed record, if it holds one: own records are published by `handle`,
/// records of another repository by that repository's DID.
fn record_proof(record: &Value, did: &str, handle: &str) -> Option<Proof> {
    let uri = record.get("uri").and_then(Value::as_str)?;
    let (authority, collection, rkey) = split_at_uri(uri)?;
    if collection != POST_COLLECTION || rkey.is_empty() {
        return None;
    }
    let text = proof_text(record.get("value")?)?;
    let publisher = if authority == did {
        handle.to_owned()
    } else if authority.starts_with("did:") {
        authority.to_owned()
    } else {
        // a handle as authority is not a DID; the whole URI can never equal a handle
        uri.to_owned()
    };
    Some(Proof {
        publisher,
        location: uri.to_owned(),
        text,
    })
}

/// `at://AUTHORITY/COLLECTION/RKEY` → its three parts.
fn split_at_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.splitn(3, '/');
    let authority = parts.next()?;
    let collection = parts.next()?;
    let rkey = parts.next()?;
    (!rkey.contains(['/', '?', '#'])).then_some((authority, collection, rkey))
}

/// The proof text of a post record, in this order: `text` (a ```` ```kez ```` fence, or else a
/// compact string in it), `embed.external.uri` (a compact string), `embed.external.description`
/// (as `text`).
fn proof_text(value: &Value) -> Option<String> {
    let in_prose = |text: &str| -> Option<String> {
        if text.contains("```kez") {
            return Some(text.to_owned());
        }
        compact_in(text).map(str::to_owned)
    };
    if let Some(found) = value.get("text").and_then(Value::as_str).and_then(in_prose) {
        return Some(found);
    }
    let embed = value.get("embed")?;
    if embed.get("$type").and_then(Value::as_str) != Some(EXTERNAL_EMBED) {
        return None;
    }
    let external = embed.get("external")?;
    if let Some(uri) = external.get("uri").and_then(Value::as_str) {
        if uri.starts_with(kez_core::COMPACT_PREFIX) {
            return Some(uri.to_owned());
        }
    }
    external
        .get("description")
        .and_then(Value::as_str)
        .and_then(in_prose)
}

/// The first `kez:z1:` in `text` with the base64url characters that follow it.
fn compact_in(text: &str) -> Option<&str> {
    let start = text.find(kez_core::COMPACT_PREFIX)?;
    let rest = text.get(start..)?;
    let body = rest.get(kez_core::COMPACT_PREFIX.len()..)?;
    let len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .count();
    rest.get(..kez_core::COMPACT_PREFIX.len().saturating_add(len))
}

/// Checks a DID's syntax and method: `did:plc:` + 24 of `a-z2-7`, or `did:web:` + a lowercase
/// host name (handle syntax, so no port and no path).
fn did_method(did: &str) -> Result<DidMethod<'_>, ChannelError> {
    if did.len() > MAX_DID || !is_did(did) {
        return Err(ChannelError::not_found(format!(
            "the handle resolves to {did:?}, which is not a DID"
        )));
    }
    if let Some(id) = did.strip_prefix("did:plc:") {
        let ok = id.len() == PLC_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        return if ok {
            Ok(DidMethod::Plc)
        } else {
            Err(ChannelError::not_found(format!(
                "the handle resolves to {did}, which is not a valid did:plc"
            )))
        };
    }
    if let Some(host) = did.strip_prefix("did:web:") {
        let ok = kez_core::is_atproto_handle(host) && !host.bytes().any(|b| b.is_ascii_uppercase());
        return if ok {
            Ok(DidMethod::Web(host))
        } else {
            Err(ChannelError::not_found(format!(
                "the handle resolves to {did}, which is not a supported did:web (a lowercase host \
                 name without port or path)"
            )))
        };
    }
    Err(ChannelError::not_found(format!(
        "the handle resolves to {did}, whose DID method is not supported (only did:plc and \
         did:web)"
    )))
}

/// Generic DID syntax: `did:` method `:` identifier, as atproto restricts it.
fn is_did(did: &str) -> bool {
    let Some(rest) = did.strip_prefix("did:") else {
        return false;
    };
    let Some((method, id)) = rest.split_once(':') else {
        return false;
    };
    !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_lowercase())
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'%' | b'-'))
        && !id.ends_with([':', '%'])
}

/// The first `at://` entry of `alsoKnownAs` that holds a valid handle.
fn primary_handle(doc: &Map<String, Value>) -> Option<&str> {
    doc.get("alsoKnownAs")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|aka| aka.strip_prefix("at://"))
        .find(|h| kez_core::is_atproto_handle(h))
}

/// The `serviceEndpoint` of the first service with id `#atproto_pds` (or `<did>#atproto_pds`)
/// and type `AtprotoPersonalDataServer`, if it is an `https://` or `http://` origin (an optional
/// final `/` is dropped).
fn pds_endpoint(doc: &Map<String, Value>, did: &str) -> Option<String> {
    let full_id = format!("{did}{PDS_FRAGMENT}");
    let service = doc.get("service")?.as_array()?.iter().find(|s| {
        let id = s.get("id").and_then(Value::as_str);
        (id == Some(PDS_FRAGMENT) || id == Some(full_id.as_str()))
            && s.get("type").and_then(Value::as_str) == Some(PDS_TYPE)
    })?;
    let endpoint = service.get("serviceEndpoint")?.as_str()?;
    let endpoint = endpoint.strip_suffix('/').unwrap_or(endpoint);
    let authority = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))?;
    let ok = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then(|| endpoint.to_owned())
}

/// A 200 answer's JSON object, or an `unreachable` error naming what is wrong.
fn json_object(url: &str, response: &Response) -> Result<Map<String, Value>, ChannelError> {
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ChannelError::unreachable(format!(
            "{url}: malformed response (not a JSON object)"
        ))),
        Err(e) => Err(ChannelError::unreachable(format!(
            "{url}: malformed response (not JSON: {e})"
        ))),
    }
}

/// A publishing answer's JSON object, or why publishing failed: 401 is `unauthorized` (with the
/// XRPC error), other 4xx a refusal, 429 and 5xx unreachable.
fn xrpc_object(
    url: &str,
    response: &Response,
    unauthorized: &str,
) -> Result<Map<String, Value>, PublishError> {
    if let Some(e) = unreachable_status(url, response) {
        return Err(PublishError::Unreachable(format!(
            "{}{}",
            e.reason(),
            service_message(&response.body)
        )));
    }
    match response.status {
        200..=299 => json_object(url, response).map_err(PublishError::from),
        401 => Err(PublishError::Rejected(format!(
            "{unauthorized} ({url}: HTTP 401{})",
            service_message(&response.body)
        ))),
        status => Err(PublishError::Rejected(format!(
            "{url}: HTTP {status}{}",
            service_message(&response.body)
        ))),
    }
}

/// What an error body says, as `": Error: message"`: the XRPC `error` and `message` members, or
/// the PLC directory's `message`; empty when the body says nothing readable.
fn service_message(body: &[u8]) -> String {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    let text = |name: &str| {
        map.get(name).and_then(Value::as_str).map(|s| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect::<String>()
        })
    };
    match (text("error"), text("message")) {
        (Some(e), Some(m)) => format!(": {e}: {m}"),
        (Some(one), None) | (None, Some(one)) => format!(": {one}"),
        (None, None) => String::new(),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `:` (for query values).
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The current time as RFC 3339 UTC with milliseconds (`2026-11-26T12:00:00.000Z`).
fn rfc3339_now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_millis(since.as_secs(), since.subsec_millis())
}

/// `secs` since the Unix epoch (and `millis`) as RFC 3339 UTC with milliseconds.
fn rfc3339_millis(secs: u64, millis: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of `days` after 1970-01-01 (days-from-civil, inverted).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days.saturating_add(719_468);
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_millis(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(1_764_115_200, 7), "2025-11-26T00:00:00.007Z");
        assert_eq!(rfc3339_millis(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(4_107_542_399, 999),
            "2100-02-28T23:59:59.999Z"
        );
    }

    #[test]
    fn dids() {
        assert!(matches!(
            did_method("did:plc:a2b3c4d5e6f7g2h3i4j5k6l7"),
            Ok(DidMethod::Plc)
        ));
        assert!(matches!(
            did_method("did:web:alice.example"),
            Ok(DidMethod::Web("alice.example"))
        ));
        for bad in [
            "did:plc:a2b3c4d5e6f7g2h3i4j5k6l",
            "did:plc:a2b3c4d5e6f7g2h3i4j5k6l8",
            "did:plc:A2b3c4d5e6f7g2h3i4j5k6l7",
            "did:web:Alice.example",
            "did:web:localhost%3A2583",
            "did:web:alice.example:path",
            "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
            "did:plc:",
            "DID:plc:a2b3c4d5e6f7g2h3i4j5k6l7",
            "<html>",
        ] {
            assert!(did_method(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compact_in_text() {
        assert_eq!(compact_in("see kez:z1:AbC-_9. ok"), Some("kez:z1:AbC-_9"));
        assert_eq!(compact_in("kez:z1:"), Some("kez:z1:"));
        assert_eq!(compact_in("nothing"), None);
    }

    #[test]
    fn at_uris() {
        assert_eq!(
            split_at_uri("at://did:plc:x/app.bsky.feed.post/3k"),
            Some(("did:plc:x", "app.bsky.feed.post", "3k"))
        );
        assert_eq!(split_at_uri("at://did:plc:x/app.bsky.feed.post"), None);
        assert_eq!(split_at_uri("at://did:plc:x/app.bsky.feed.post/a/b"), None);
        assert_eq!(split_at_uri("https://x/y/z"), None);
    }

    #[test]
    fn pds() {
        let doc = |endpoint: &str, id: &str| {
            serde_json::json!({
                "service": [
                    { "id": "#other", "type": PDS_TYPE, "serviceEndpoint": "https://no.example" },
                    { "id": id, "type": PDS_TYPE, "serviceEndpoint": endpoint },
                ]
            })
            .as_object()
            .cloned()
            .unwrap()
        };
        let did = "did:plc:a2b3c4d5e6f7g2h3i4j5k6l7";
        assert_eq!(
            pds_endpoint(&doc("https://pds.example/", "#atproto_pds"), did).as_deref(),
            Some("https://pds.example")
        );
        assert_eq!(
            pds_endpoint(
                &doc("http://127.0.0.1:2583", &format!("{did}#atproto_pds")),
                did
            )
            .as_deref(),
            Some("http://127.0.0.1:2583")
        );
        assert_eq!(
            pds_endpoint(&doc("https://pds.example/x", "#atproto_pds"), did),
            None
        );
        assert_eq!(
            pds_endpoint(&doc("ftp://pds.example", "#atproto_pds"), did),
            None
        );
        assert_eq!(
            pds_endpoint(&doc("https://u@pds.example", "#atproto_pds"), did),
            None
        );
        assert_eq!(
            pds_endpoint(&doc("https://pds.example", "#atproto_labeler"), did),
            None
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(query_escape("did:plc:abc"), "did:plc:abc");
        assert_eq!(query_escape("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
