//! A Mastodon server for one host, reached through KEZ's web origin override (the requests
//! carry `Host: <host>`): WebFinger, actors, the featured and outbox collections in
//! ActivityStreams, and the REST API's `verify_credentials` and `POST /api/v1/statuses`.
//! Accounts and tokens are added by the test; posted statuses appear in the outbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::response::Response;
use serde_json::{Value, json};

use crate::web::{Site, WebRequest};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

#[derive(Debug, Default)]
struct Server {
    host: String,
    users: Vec<String>,
    tokens: HashMap<String, String>,
    /// (author, status id, plain text)
    statuses: Vec<(String, u64, String)>,
    next_id: u64,
}

/// A Mastodon stand-in, served by a [`crate::web::LocalWeb`].
#[derive(Debug)]
pub struct Mastodon {
    /// The host the accounts live on (`ap:@user@<host>`).
    pub host: String,
    state: Mutex<Server>,
}

impl Mastodon {
    /// A server for `host`, with no accounts.
    #[must_use]
    pub fn new(host: &str) -> Arc<Self> {
        Arc::new(Self {
            host: host.to_owned(),
            state: Mutex::new(Server {
                host: host.to_owned(),
                next_id: 113_000_000_000_000_001,
                ..Server::default()
            }),
        })
    }

    /// Adds the account `user`; `token`, if given, is an access token of it with the
    /// `read:accounts` and `write:statuses` scopes.
    pub fn add_user(&self, user: &str, token: Option<&str>) {
        let mut s = self.state.lock().unwrap();
        s.users.push(user.to_owned());
        if let Some(t) = token {
            s.tokens.insert(t.to_owned(), user.to_owned());
        }
    }

    /// Posts a public status of `user`, as if from another client.
    pub fn post(&self, user: &str, text: &str) {
        let mut s = self.state.lock().unwrap();
        let id = s.next_id;
        s.next_id += 1;
        s.statuses.push((user.to_owned(), id, text.to_owned()));
    }

    /// How many statuses are stored.
    pub fn status_count(&self) -> usize {
        self.state.lock().unwrap().statuses.len()
    }
}

impl Site for Mastodon {
    fn serves(&self, host: &str) -> bool {
        host == self.host
    }

    fn handle(&self, request: &WebRequest) -> Response {
        let mut s = self.state.lock().unwrap();
        handle(&mut s, request)
    }
}

/// Mastodon's HTML for a plain-text status: escaped, paragraphs on blank lines, `<br />` for
/// line breaks.
fn html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br />")))
        .collect()
}

fn reply(status: u16, content_type: &str, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn activity(body: &Value) -> Response {
    reply(200, "application/activity+json; charset=utf-8", body)
}

fn api_error(status: u16, error: &str) -> Response {
    reply(
        status,
        "application/json; charset=utf-8",
        &json!({ "error": error }),
    )
}

fn webfinger(host: &str, user: &str) -> Value {
    json!({
        "subject": format!("acct:{user}@{host}"),
        "aliases": [format!("https://{host}/@{user}"), format!("https://{host}/users/{user}")],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
             "href": format!("https://{host}/@{user}")},
            {"rel": "self", "type": "application/activity+json",
             "href": format!("https://{host}/users/{user}")},
            {"rel": "http://ostatus.org/schema/1.0/subscribe",
             "template": format!("https://{host}/authorize_interaction?uri={{uri}}")}
        ]
    })
}

fn actor(host: &str, user: &str) -> Value {
    let id = format!("https://{host}/users/{user}");
    json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            {
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                "toot": "http://joinmastodon.org/ns#",
                "featured": {"@id": "toot:featured", "@type": "@id"},
                "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
                "schema": "http://schema.org#",
                "PropertyValue": "schema:PropertyValue",
                "value": "schema:value",
                "discoverable": "toot:discoverable",
                "indexable": "toot:indexable"
            }
        ],
        "id": id,
        "type": "Person",
        "following": format!("{id}/following"),
        "followers": format!("{id}/followers"),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "featured": format!("{id}/collections/featured"),
        "featuredTags": format!("{id}/collections/tags"),
        "preferredUsername": user,
        "name": user,
        "summary": "",
        "url": format!("https://{host}/@{user}"),
        "manuallyApprovesFollowers": false,
        "discoverable": true,
        "indexable": true,
        "published": "2026-01-12T00:00:00Z",
        "publicKey": {
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n"
        },
        "tag": [],
        "attachment": [],
        "endpoints": {"sharedInbox": format!("https://{host}/inbox")}
    })
}

fn note(host: &str, user: &str, id: u64, text: &str) -> Value {
    let author = format!("https://{host}/users/{user}");
    let content = html(text);
    json!({
        "id": format!("{author}/statuses/{id}"),
        "type": "Note",
        "summary": null,
        "inReplyTo": null,
        "published": "2026-11-26T12:00:00Z",
        "url": format!("https://{host}/@{user}/{id}"),
        "attributedTo": author,
        "to": [PUBLIC],
        "cc": [format!("{author}/followers")],
        "sensitive": false,
        "atomUri": format!("{author}/statuses/{id}"),
        "inReplyToAtomUri": null,
        "conversation": format!("tag:{host},2026-11-26:objectId={id}:objectType=Conversation"),
        "content": content,
        "contentMap": {"en": content},
        "attachment": [],
        "tag": [],
        "replies": {
            "id": format!("{author}/statuses/{id}/replies"),
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "next": format!("{author}/statuses/{id}/replies?only_other_accounts=true&page=true"),
                "partOf": format!("{author}/statuses/{id}/replies"),
                "items": []
            }
        },
        "likes": {"id": format!("{author}/statuses/{id}/likes"), "type": "Collection", "totalItems": 0},
        "shares": {"id": format!("{author}/statuses/{id}/shares"), "type": "Collection", "totalItems": 0}
    })
}

fn account_entity(host: &str, user: &str) -> Value {
    json!({
        "id": format!("{}", 110_000_000_000_000_000u64 + user.len() as u64),
        "username": user,
        "acct": user,
        "display_name": user,
        "locked": false,
        "bot": false,
        "discoverable": true,
        "group": false,
        "created_at": "2026-01-12T00:00:00.000Z",
        "note": "",
        "url": format!("https://{host}/@{user}"),
        "uri": format!("https://{host}/users/{user}"),
        "avatar": format!("https://{host}/avatars/original/missing.png"),
        "avatar_static": format!("https://{host}/avatars/original/missing.png"),
        "header": format!("https://{host}/headers/original/missing.png"),
        "header_static": format!("https://{host}/headers/original/missing.png"),
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 1,
        "last_status_at": "2026-11-26",
        "emojis": [],
        "fields": []
    })
}

fn status_entity(host: &str, user: &str, id: u64, text: &str) -> Value {
    json!({
        "id": id.to_string(),
        "created_at": "2026-11-26T12:00:00.000Z",
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": format!("https://{host}/users/{user}/statuses/{id}"),
        "url": format!("https://{host}/@{user}/{id}"),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": null,
        "content": html(text),
        "reblog": null,
        "application": {"name": "kez", "website": null},
        "account": account_entity(host, user),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": null,
        "poll": null
    })
}

fn handle(s: &mut Server, request: &WebRequest) -> Response {
    let h = s.host.clone();
    let token_user = request.bearer().and_then(|t| s.tokens.get(t).cloned());
    let (method, route, query, body) = (
        request.method.as_str(),
        request.path.as_str(),
        request.query.as_str(),
        &request.body,
    );
    let known = |u: &str| s.users.iter().any(|x| x == u);
    match (method, route) {
        ("GET", "/.well-known/webfinger") => {
            let resource = request.param("resource").unwrap_or_default();
            let user = resource
                .strip_prefix("acct:")
                .and_then(|r| r.strip_suffix(&format!("@{h}")))
                .unwrap_or("");
            if known(user) {
                reply(
                    200,
                    "application/jrd+json; charset=utf-8",
                    &webfinger(&h, user),
                )
            } else {
                Response::builder().status(404).body(Body::empty()).unwrap()
            }
        }
        ("GET", "/api/v1/accounts/verify_credentials") => match token_user {
            Some(user) => reply(
                200,
                "application/json; charset=utf-8",
                &account_entity(&h, &user),
            ),
            None => api_error(401, "The access token is invalid"),
        },
        ("POST", "/api/v1/statuses") => {
            let Some(user) = token_user else {
                return api_error(401, "The access token is invalid");
            };
            let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let text = value["status"].as_str().unwrap_or("").to_owned();
            if text.is_empty() {
                return api_error(422, "Validation failed: Text can't be blank");
            }
            if text.chars().count() > 500 {
                return api_error(
                    422,
                    "Validation failed: Text character limit of 500 exceeded",
                );
            }
            let id = s.next_id;
            s.next_id += 1;
            s.statuses.push((user.clone(), id, text.clone()));
            reply(
                200,
                "application/json; charset=utf-8",
                &status_entity(&h, &user, id, &text),
            )
        }
        ("GET", r) if r.starts_with("/users/") => {
            let rest = &r["/users/".len()..];
            let (user, tail) = rest.split_once('/').unwrap_or((rest, ""));
            if !known(user) {
                return api_error(404, "Record not found");
            }
            let id = format!("https://{h}/users/{user}");
            match tail {
                "" => activity(&actor(&h, user)),
                "collections/featured" => activity(&json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": format!("{id}/collections/featured"),
                    "type": "OrderedCollection",
                    "totalItems": 0,
                    "orderedItems": []
                })),
                "outbox" if query.is_empty() => {
                    let total = s.statuses.iter().filter(|(a, _, _)| a == user).count();
                    activity(&json!({
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": format!("{id}/outbox"),
                        "type": "OrderedCollection",
                        "totalItems": total,
                        "first": format!("{id}/outbox?page=true"),
                        "last": format!("{id}/outbox?min_id=0&page=true")
                    }))
                }
                "outbox" => {
                    // newest first; one page holds them all here
                    let items: Vec<Value> = s
                        .statuses
                        .iter()
                        .rev()
                        .filter(|(a, _, _)| a == user)
                        .map(|(_, sid, text)| {
                            let n = note(&h, user, *sid, text);
                            json!({
                                "id": format!("{id}/statuses/{sid}/activity"),
                                "type": "Create",
                                "actor": id,
                                "published": n["published"],
                                "to": n["to"],
                                "cc": n["cc"],
                                "object": n
                            })
                        })
                        .collect();
                    activity(&json!({
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": format!("{id}/outbox?{query}"),
                        "type": "OrderedCollectionPage",
                        "partOf": format!("{id}/outbox"),
                        "orderedItems": items
                    }))
                }
                _ => api_error(404, "Record not found"),
            }
        }
        _ => api_error(404, "Record not found"),
    }
}
