//! The `ap` channel (SPEC.md §15.6): an ActivityPub account `@user@host`. WebFinger on `host`
//! names the account's actor; the actor document (its profile summary and profile fields), its
//! `featured` collection (pinned posts) and its `outbox` hold the proofs. A post counts only if it
//! is public and attributed to the actor; posts attributed to someone else are handed over marked
//! with their author, so that verification reports them as another account's. Post and field
//! texts are HTML: they are turned into plain text (tags dropped, line-breaking tags turned into
//! line breaks, entities decoded) before the proof is looked for.
//!
//! Publishing posts a public status through the Mastodon client API of the account's server.

use serde_json::{Map, Value};

use crate::http::{Fetcher, Response, unreachable_status};
use crate::publish::{Credentials, Publication, PublishError, ToPublish};
use crate::{Channel, ChannelError, Config, Proof};

/// What a WebFinger request accepts (RFC 7033 §10.2, and plain JSON for older servers).
const JRD_ACCEPT: &str = "application/jrd+json, application/json";
/// What an ActivityPub object request accepts (ActivityPub §3.2).
const AS_ACCEPT: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
/// The two media types of a WebFinger `self` link to an actor, spaces removed, lowercase.
const AS_TYPES: &[&str] = &[
    "application/activity+json",
    "application/ld+json;profile=\"https://www.w3.org/ns/activitystreams\"",
];
/// The actor types an account may have (ActivityStreams 2.0 vocabulary §3.2).
const ACTOR_TYPES: &[&str] = &["Person", "Service", "Application", "Group", "Organization"];
/// The forms of the public collection in `to` and `cc` (ActivityPub §5.6).
const PUBLIC: &[&str] = &[
    "https://www.w3.org/ns/activitystreams#Public",
    "as:Public",
    "Public",
];
/// The text before the compact string in a published status.
const STATUS_INTRO: &str = "KEZ identity proof";
/// HTML elements whose start or end breaks a line of the plain text.
const LINE_BREAKING: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "tr",
    "table",
];
/// The longest entity looked at after `&` (`&#x10FFFF;` and the named ones fit).
const MAX_ENTITY: usize = 10;

/// The `ap` channel.
#[derive(Debug, Clone)]
pub struct Ap {
    fetcher: Fetcher,
    max_pages: usize,
    max_proofs: usize,
}

/// An account `@user@host`, split.
#[derive(Clone, Copy)]
struct Account<'a> {
    user: &'a str,
    host: &'a str,
}

impl<'a> Account<'a> {
    /// `handle` is normalized (SPEC.md §6.3): `@user@host`.
    fn parse(handle: &'a str) -> Result<Self, String> {
        handle
            .strip_prefix('@')
            .and_then(|h| h.split_once('@'))
            .filter(|(u, h)| !u.is_empty() && !h.is_empty() && !h.contains('@'))
            .map(|(user, host)| Self { user, host })
            .ok_or_else(|| format!("not an ActivityPub account: {handle}"))
    }
}

/// What the walk over an account's documents found.
struct Found<'a> {
    /// The handle, publisher of the account's own proofs.
    handle: &'a str,
    /// The actor id; posts attributed to it are the account's.
    actor: &'a str,
    proofs: Vec<Proof>,
    max: usize,
}

impl Found<'_> {
    fn full(&self) -> bool {
        self.proofs.len() >= self.max
    }

    /// Adds the proof texts held by `html`.
    fn scan(&mut self, html: &str, publisher: &str, location: &str) {
        let text = html_to_text(html);
        for text in proof_texts(&text) {
            if self.full() {
                return;
            }
            let proof = Proof {
                publisher: publisher.to_owned(),
                location: location.to_owned(),
                text: text.to_owned(),
            };
            // a pinned post is in the outbox too
            if !self.proofs.contains(&proof) {
                self.proofs.push(proof);
            }
        }
    }

    /// Scans one item of a collection: a `Create` activity with an embedded `Note`, or a `Note`.
    fn item(&mut self, item: &Value) {
        let (note, activity_actor) = if has_type(item, "Create") {
            match item.get("object") {
                Some(object) => (object, item.get("actor")),
                None => return,
            }
        } else {
            (item, None)
        };
        // a bare object URL is not followed (SPEC.md §15.6)
        if !has_type(note, "Note") || !is_public(note) {
            return;
        }
        let Some(html) = note_content(note) else {
            return;
        };
        let mut authors = ids(note.get("attributedTo"));
        authors.extend(ids(activity_actor));
        let publisher = match authors.iter().find(|a| **a != self.actor) {
            Some(other) => (*other).to_owned(),
            None if authors.is_empty() => "an unknown author".to_owned(),
            None => self.handle.to_owned(),
        };
        let location = ["url", "id"]
            .iter()
            .find_map(|k| note.get(*k).and_then(Value::as_str))
            .unwrap_or(self.actor)
            .to_owned();
        self.scan(html, &publisher, &location);
    }

    /// Scans the items of a collection or collection page.
    fn items(&mut self, page: &Map<String, Value>) {
        for key in ["orderedItems", "items"] {
            let items = match page.get(key) {
                Some(Value::Array(items)) => items.as_slice(),
                Some(one @ Value::Object(_)) => std::slice::from_ref(one),
                _ => continue,
            };
            for item in items {
                if self.full() {
                    return;
                }
                self.item(item);
            }
        }
    }
}

impl Ap {
    /// The channel with `config`'s timeout, caps, cache and web origin override.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        Self {
            fetcher: Fetcher::new(config),
            max_pages: config.max_pages.max(1),
            max_proofs: config.max_proofs,
        }
    }

    /// GETs `url` as JSON: `None` for 404 and 410 (no such document), the object for 200.
    async fn get_object(
        &self,
        url: &str,
        accept: &str,
        what: &str,
    ) -> Result<Option<Map<String, Value>>, ChannelError> {
        let response = self.fetcher.get(url, &[("accept", accept)], None).await?;
        match response.status {
            200 => {}
            404 | 410 => return Ok(None),
            401 | 403 => {
                return Err(ChannelError::unreachable(format!(
                    "{url}: access refused (HTTP {}; the server may require signed requests)",
                    response.status
                )));
            }
            status => {
                return Err(unreachable_status(url, &response).unwrap_or_else(|| {
                    ChannelError::unreachable(format!("{url}: unexpected HTTP {status}"))
                }));
            }
        }
        match serde_json::from_slice::<Value>(&response.body) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(ChannelError::unreachable(format!(
                "{url}: malformed response (not a JSON object: {what})"
            ))),
            Err(e) => Err(ChannelError::unreachable(format!(
                "{url}: malformed response (not JSON: {e})"
            ))),
        }
    }

    /// The actor URL that WebFinger on the account's host gives for it.
    async fn webfinger(&self, account: Account<'_>) -> Result<String, ChannelError> {
        let Account { user, host } = account;
        let url = format!("https://{host}/.well-known/webfinger?resource=acct:{user}@{host}");
        let Some(jrd) = self.get_object(&url, JRD_ACCEPT, "a JRD").await? else {
            return Err(ChannelError::not_found(format!(
                "no account @{user}@{host} (WebFinger: not found)"
            )));
        };
        let links = jrd.get("links").and_then(Value::as_array);
        let href = links.into_iter().flatten().find_map(|link| {
            let rel = link.get("rel").and_then(Value::as_str)?;
            let media = link.get("type").and_then(Value::as_str)?;
            let media: String = media
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            (rel == "self" && AS_TYPES.contains(&media.as_str()))
                .then(|| link.get("href").and_then(Value::as_str))
                .flatten()
        });
        match href {
            Some(href) if href.starts_with("https://") => Ok(href.to_owned()),
            Some(href) => Err(ChannelError::unreachable(format!(
                "{url}: malformed response (the actor link is not an https URL: {href})"
            ))),
            None => Err(ChannelError::not_found(format!(
                "@{user}@{host} has no ActivityPub actor (no WebFinger self link)"
            ))),
        }
    }

    /// The actor document at `url`, checked to be the account's actor.
    async fn actor(
        &self,
        url: &str,
        account: Account<'_>,
    ) -> Result<Map<String, Value>, ChannelError> {
        let Some(actor) = self.get_object(url, AS_ACCEPT, "an actor").await? else {
            return Err(ChannelError::not_found(format!(
                "no actor at {url} (the account is gone)"
            )));
        };
        let id = actor.get("id").and_then(Value::as_str).unwrap_or_default();
        if id != url {
            return Err(ChannelError::unreachable(format!(
                "{url}: inconsistent answer (the actor's id is {id:?}, not the URL asked for)"
            )));
        }
        let kind = actor.get("type");
        if !ACTOR_TYPES.iter().any(|t| type_is(kind, t)) {
            let kind = kind.map(Value::to_string).unwrap_or_default();
            return Err(ChannelError::unreachable(format!(
                "{url}: malformed response (type {kind} is not an actor type)"
            )));
        }
        let name = actor.get("preferredUsername").and_then(Value::as_str);
        match name {
            Some(name) if name.eq_ignore_ascii_case(account.user) => Ok(actor),
            Some(name) => Err(ChannelError::unreachable(format!(
                "{url}: inconsistent answer (the actor is {name}, not {})",
                account.user
            ))),
            None => Err(ChannelError::unreachable(format!(
                "{url}: malformed response (an actor without preferredUsername; the server may \
                 require signed requests)"
            ))),
        }
    }

    /// Reads the collection at `url` (its own items, then its pages from `first` along `next`,
    /// at most `max_pages` pages) into `found`. A collection that is gone holds nothing.
    async fn walk(&self, url: &str, found: &mut Found<'_>) -> Result<(), ChannelError> {
        if !url.starts_with("https://") {
            return Err(ChannelError::unreachable(format!(
                "malformed actor (the collection {url} is not an https URL)"
            )));
        }
        let Some(collection) = self.get_object(url, AS_ACCEPT, "a collection").await? else {
            return Ok(());
        };
        found.items(&collection);
        let mut next = collection.get("first").cloned();
        let mut fetched = vec![url.to_owned()];
        for _ in 0..self.max_pages {
            if found.full() {
                break;
            }
            let page = match next.take() {
                Some(Value::String(page_url)) => {
                    if fetched.contains(&page_url) {
                        break;
                    }
                    if !page_url.starts_with("https://") {
                        return Err(ChannelError::unreachable(format!(
                            "{url}: malformed collection (the page {page_url} is not an https URL)"
                        )));
                    }
                    let got = self.get_object(&page_url, AS_ACCEPT, "a page").await?;
                    fetched.push(page_url);
                    match got {
                        Some(page) => page,
                        None => break,
                    }
                }
                // an embedded page
                Some(Value::Object(page)) => page,
                Some(Value::Null) | None => break,
                Some(_) => {
                    return Err(ChannelError::unreachable(format!(
                        "{url}: malformed collection (a page link is neither a URL nor a page)"
                    )));
                }
            };
            found.items(&page);
            next = page.get("next").cloned();
            // an embedded link object names its page by id
            if let Some(Value::Object(link)) = &next {
                if !link.contains_key("orderedItems") && !link.contains_key("items") {
                    next = link.get("id").cloned();
                }
            }
        }
        Ok(())
    }
}

impl Channel for Ap {
    fn name(&self) -> &'static str {
        "ap"
    }

    async fn fetch(&self, handle: &str) -> Result<Vec<Proof>, ChannelError> {
        let account = Account::parse(handle).map_err(ChannelError::unreachable)?;
        let url = self.webfinger(account).await?;
        let actor = self.actor(&url, account).await?;
        let mut found = Found {
            handle,
            actor: &url,
            proofs: Vec::new(),
            max: self.max_proofs,
        };
        if let Some(summary) = actor.get("summary").and_then(Value::as_str) {
            found.scan(summary, handle, &format!("{url} (profile summary)"));
        }
        let fields = match actor.get("attachment") {
            Some(Value::Array(fields)) => fields.as_slice(),
            Some(one @ Value::Object(_)) => std::slice::from_ref(one),
            _ => &[],
        };
        for field in fields.iter().filter(|f| has_type(f, "PropertyValue")) {
            let Some(value) = field.get("value").and_then(Value::as_str) else {
                continue;
            };
            let name = field.get("name").and_then(Value::as_str).unwrap_or("");
            let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
            found.scan(value, handle, &format!("{url} (profile field {name:?})"));
        }
        let mut failure = None;
        for key in ["featured", "outbox"] {
            let Some(collection) = actor.get(key).and_then(Value::as_str) else {
                continue;
            };
            if found.full() {
                break;
            }
            if let Err(e) = self.walk(collection, &mut found).await {
                failure.get_or_insert(e);
            }
        }
        match (found.proofs.is_empty(), failure) {
            (false, _) => Ok(found.proofs),
            (true, Some(e)) => Err(e),
            (true, None) => Err(ChannelError::not_found(format!(
                "no public post or profile field of {handle} holds a kez proof"
            ))),
        }
    }
}

impl Ap {
    /// Posts the proof as a public status through the Mastodon client API of the account's
    /// server (the origin of its actor), after checking that the token is the account's.
    pub(crate) async fn publish(
        &self,
        handle: &str,
        proof: &ToPublish,
        credentials: &Credentials,
    ) -> Result<Publication, PublishError> {
        let Some(token) = credentials
            .ap_access_token
            .as_deref()
            .filter(|t| !t.is_empty())
        else {
            return Err(PublishError::MissingCredential("KEZ_AP_ACCESS_TOKEN"));
        };
        let account = Account::parse(handle).map_err(PublishError::Subject)?;
        let actor = self.webfinger(account).await.map_err(|e| match e {
            ChannelError::NotFound { reason } => PublishError::Rejected(reason),
            other => other.into(),
        })?;
        let api = origin(&actor);

        let url = format!("{api}/api/v1/accounts/verify_credentials");
        let me = self
            .fetcher
            .send_json(reqwest::Method::GET, &url, &[], Some(token), None)
            .await?;
        // 403: the token lacks the scope to read its account; the status is checked afterwards
        if me.status != 403 {
            let me = api_object(&url, &me)?;
            let owner = account_name(&me);
            if !owner.eq_ignore_ascii_case(account.user) {
                return Err(PublishError::Rejected(format!(
                    "the token is {owner}'s, not {}'s: nothing was published",
                    account.user
                )));
            }
        }

        let status = format!("{STATUS_INTRO}\n\n{}", proof.compact);
        let body = serde_json::json!({ "status": status, "visibility": "public" });
        let url = format!("{api}/api/v1/statuses");
        let created = self
            .fetcher
            .send_json(reqwest::Method::POST, &url, &[], Some(token), Some(&body))
            .await?;
        let created = api_object(&url, &created)?;
        let location = ["url", "uri"]
            .iter()
            .find_map(|k| created.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let owner = created
            .get("account")
            .and_then(Value::as_object)
            .map(account_name)
            .unwrap_or_default();
        if !owner.eq_ignore_ascii_case(account.user) {
            return Err(PublishError::Rejected(format!(
                "the token is {owner}'s, not {}'s: the status was created on {owner}'s account \
                 ({location}); delete it",
                account.user
            )));
        }
        Ok(Publication::Posted {
            detail: format!(
                "public status of {} characters on {api}",
                status.chars().count()
            ),
            location,
        })
    }
}

/// The `username` of a Mastodon account entity (its `acct` when there is no `username`).
fn account_name(account: &Map<String, Value>) -> String {
    ["username", "acct"]
        .iter()
        .find_map(|k| account.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

/// A 2xx answer's JSON object, or why publishing failed (the API's `error` text included).
fn api_object(url: &str, response: &Response) -> Result<Map<String, Value>, PublishError> {
    if let Some(e) = unreachable_status(url, response) {
        return Err(e.into());
    }
    let parsed = serde_json::from_slice::<Value>(&response.body);
    if !(200..300).contains(&response.status) {
        let error = parsed
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        return Err(PublishError::Rejected(format!(
            "{url}: HTTP {} {error}",
            response.status
        )));
    }
    match parsed {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(PublishError::Unreachable(format!(
            "{url}: malformed response (not a JSON object)"
        ))),
    }
}

/// `https://authority` of an https URL.
fn origin(url: &str) -> String {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!("https://{}", rest.get(..end).unwrap_or(rest))
}

/// Whether `object`'s `type` is `kind`.
fn has_type(object: &Value, kind: &str) -> bool {
    type_is(object.get("type"), kind)
}

/// Whether a `type` member (a string, or an array of strings) is or holds `kind`.
fn type_is(value: Option<&Value>, kind: &str) -> bool {
    match value {
        Some(Value::String(t)) => t == kind,
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(kind)),
        _ => false,
    }
}

/// The ids in a reference: a URL string, an object with an `id`, or an array of those.
fn ids(reference: Option<&Value>) -> Vec<&str> {
    fn one(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("id").and_then(Value::as_str),
            _ => None,
        }
    }
    match reference {
        Some(Value::Array(all)) => all.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Whether `to` or `cc` of `note` names the public collection.
fn is_public(note: &Value) -> bool {
    ["to", "cc"].iter().any(|k| {
        let addressed = match note.get(*k) {
            Some(Value::Array(all)) => all.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        };
        addressed.iter().any(|a| PUBLIC.contains(a))
    })
}

/// The HTML content of a note: `content`, else the first string of `contentMap`.
fn note_content(note: &Value) -> Option<&str> {
    note.get("content").and_then(Value::as_str).or_else(|| {
        note.get("contentMap")
            .and_then(Value::as_object)
            .and_then(|m| m.values().find_map(Value::as_str))
    })
}

/// The proof texts in a plain text: every compact string (`kez:z1:` and the base64url
/// characters after it); without one, the content of a kez Markdown fence (a JSON claim).
fn proof_texts(text: &str) -> Vec<&str> {
    let prefix = kez_core::COMPACT_PREFIX;
    let mut out: Vec<&str> = Vec::new();
    for (start, _) in text.match_indices(prefix) {
        let rest = text.get(start + prefix.len()..).unwrap_or("");
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .count();
        if let Some(token) = text.get(start..start + prefix.len() + len) {
            if !out.contains(&token) {
                out.push(token);
            }
        }
    }
    if out.is_empty() {
        if let Ok(content) = kez_core::find_fence(text) {
            out.push(content);
        }
    }
    out
}

/// The plain text of an HTML fragment: tags are dropped (so a word split by inline markup such
/// as Mastodon's `<span class="invisible">` joins again), the line-breaking elements become a
/// line feed, comments are dropped, and character references are decoded. Linear in the input.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut i = 0usize;
    // the position of the next `>` at or after `i` (or None if there is none), found lazily so
    // that a text full of `<` is still read once
    let mut next_gt: Option<Option<usize>> = None;
    while let Some(rest) = html.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        if c == '<' {
            if let Some(after) = rest.strip_prefix("<!--") {
                i = after.find("-->").map_or(html.len(), |end| i + 4 + end + 3);
                next_gt = None;
                continue;
            }
            let gt = match next_gt {
                Some(Some(gt)) if gt > i => Some(gt),
                Some(None) => None,
                _ => {
                    let found = rest.find('>').map(|off| i + off);
                    next_gt = Some(found);
                    found
                }
            };
            if let (Some(gt), Some(name)) = (gt, tag_name(rest)) {
                if LINE_BREAKING.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    out.push('\n');
                }
                i = gt + 1;
                continue;
            }
            out.push('<');
            i += 1;
        } else if c == '&' {
            let (decoded, used) = entity(rest);
            out.push(decoded);
            i += used;
        } else {
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The element name of a tag that starts `text` (`<p …>`, `</p>`, `<br/>`), if it is one.
fn tag_name(text: &str) -> Option<&str> {
    let body = text.strip_prefix('<')?;
    let body = body.strip_prefix('/').unwrap_or(body);
    if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let len = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
    body.get(..len)
}

/// The character a reference at the start of `text` (which starts with `&`) stands for, and the
/// bytes it takes; an unknown reference is a literal `&`.
fn entity(text: &str) -> (char, usize) {
    let literal = ('&', 1);
    let window = text.get(1..).unwrap_or("");
    let Some(semi) = window.bytes().take(MAX_ENTITY + 1).position(|b| b == b';') else {
        return literal;
    };
    let Some(name) = window.get(..semi) else {
        return literal;
    };
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => name.strip_prefix('#').and_then(|num| {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            }?;
            Some(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER))
        }),
    };
    decoded.map_or(literal, |c| (c, semi + 2))
}

#[cfg(test)]
mod tests {
    use super::{entity, html_to_text, origin, proof_texts};

    #[test]
    fn html_text() {
        assert_eq!(
            html_to_text("<p>a<br />b</p><p>c &amp; d &#39;e&#x27; &lt;f&gt;</p>"),
            "\na\nb\n\nc & d 'e' <f>\n"
        );
        assert_eq!(
            html_to_text(
                "<p><span class=\"invisible\">kez:z1:</span><span class=\"ellipsis\">AB</span>\
                 <span class=\"invisible\">CD</span></p>"
            ),
            "\nkez:z1:ABCD\n"
        );
        assert_eq!(html_to_text("a < b > c <3 <!-- x --> d"), "a < b > c <3  d");
        assert_eq!(html_to_text("x <!-- never closed"), "x ");
        assert_eq!(html_to_text("<<<<"), "<<<<");
        assert_eq!(
            html_to_text("&unknown; &; &#xZZ; &"),
            "&unknown; &; &#xZZ; &"
        );
        assert_eq!(html_to_text("é<b>ü</b>"), "éü");
        let many = "<".repeat(100_000);
        assert_eq!(html_to_text(&format!("{many}>")), format!("{many}>"));
    }

    #[test]
    fn entities() {
        assert_eq!(entity("&#128512;x"), ('😀', 9));
        assert_eq!(entity("&#xD800;"), (char::REPLACEMENT_CHARACTER, 8));
        assert_eq!(entity("&amp"), ('&', 1));
    }

    #[test]
    fn proof_text_extraction() {
        assert_eq!(
            proof_texts("see kez:z1:AB-_9. and kez:z1:CD\nkez:z1:AB-_9"),
            vec!["kez:z1:AB-_9", "kez:z1:CD"]
        );
        assert_eq!(
            proof_texts("x\n```kez\n{\"a\":1}\n```\n"),
            vec!["{\"a\":1}"]
        );
        assert!(proof_texts("nothing here").is_empty());
    }

    #[test]
    fn origins() {
        assert_eq!(origin("https://a.example/users/x"), "https://a.example");
        assert_eq!(origin("https://a.example:8443"), "https://a.example:8443");
    }
}
