//! The `ap` channel's harness and its own cases: a Mastodon-shaped server (WebFinger, actor,
//! featured and outbox collections, the client API for publishing) behind the web origin
//! override (SPEC.md §15.6).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use kez_channels::{Config, Credentials, Publication, PublishError, ToPublish, publish, verify_id};
use kez_core::{SecretKey, Status};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::common::*;
use crate::suite::*;

// ---------------------------------------------------------------------------------------------
// Mastodon's documents
// ---------------------------------------------------------------------------------------------

const HOST: &str = "social.test";
const SUBJECT: &str = "ap:@alice@social.test";
const WEBFINGER: &str = "/.well-known/webfinger?resource=acct:alice@social.test";
const ACTOR: &str = "https://social.test/users/alice";
const OUTBOX_PAGE: &str = "/users/alice/outbox?page=true";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn activity_json(value: &Value) -> Reply {
    Reply::new(200, value.to_string())
        .header("content-type", "application/activity+json; charset=utf-8")
}

/// The JRD Mastodon serves for `user@acct_host`, pointing at the actor on `web_host`.
fn webfinger(user: &str, acct_host: &str, web_host: &str) -> Reply {
    let body = json!({
        "subject": format!("acct:{user}@{acct_host}"),
        "aliases": [
            format!("https://{web_host}/@{user}"),
            format!("https://{web_host}/users/{user}")
        ],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": format!("https://{web_host}/@{user}")
            },
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": format!("https://{web_host}/users/{user}")
            },
            {
                "rel": "http://ostatus.org/schema/1.0/subscribe",
                "template": format!("https://{web_host}/authorize_interaction?uri={{uri}}")
            },
            {
                "rel": "http://webfinger.net/rel/avatar",
                "type": "image/png",
                "href": format!("https://files.{web_host}/accounts/avatars/000/000/001/original/a.png")
            }
        ]
    });
    Reply::new(200, body.to_string())
        .header("content-type", "application/jrd+json; charset=utf-8")
        .header("cache-control", "max-age=259200, public")
}

/// An actor in Mastodon's shape, with profile fields (`name`, HTML `value`) and a bio.
fn actor(web_host: &str, user: &str, summary: &str, fields: &[(&str, &str)]) -> Value {
    let id = format!("https://{web_host}/users/{user}");
    let attachment: Vec<Value> = fields
        .iter()
        .map(|(name, value)| json!({"type": "PropertyValue", "name": name, "value": value}))
        .collect();
    json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            {
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                "toot": "http://joinmastodon.org/ns#",
                "featured": {"@id": "toot:featured", "@type": "@id"},
                "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
                "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
                "movedTo": {"@id": "as:movedTo", "@type": "@id"},
                "schema": "http://schema.org#",
                "PropertyValue": "schema:PropertyValue",
                "value": "schema:value",
                "discoverable": "toot:discoverable",
                "suspended": "toot:suspended",
                "memorial": "toot:memorial",
                "indexable": "toot:indexable",
                "Hashtag": "as:Hashtag",
                "Emoji": "toot:Emoji",
                "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"}
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
        "name": "Alice",
        "summary": summary,
        "url": format!("https://{web_host}/@{user}"),
        "manuallyApprovesFollowers": false,
        "discoverable": true,
        "indexable": true,
        "published": "2026-01-12T00:00:00Z",
        "memorial": false,
        "publicKey": {
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh\nkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ\n0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg\ncKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc\nmwIDAQAB\n-----END PUBLIC KEY-----\n"
        },
        "tag": [],
        "attachment": attachment,
        "endpoints": {"sharedInbox": format!("https://{web_host}/inbox")},
        "icon": {
            "type": "Image",
            "mediaType": "image/png",
            "url": format!("https://files.{web_host}/accounts/avatars/000/000/001/original/a.png")
        }
    })
}

/// Mastodon's HTML for a plain-text status: escaped, paragraphs on blank lines, `<br />` for
/// line breaks.
fn mastodon_html(text: &str) -> String {
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

/// How a note is addressed.
#[derive(Clone, Copy)]
enum Audience {
    Public,
    Unlisted,
    FollowersOnly,
}

/// A Note in Mastodon's shape, by the actor `author`, with HTML `content`.
fn note(author: &str, id: u64, content: &str, audience: Audience) -> Value {
    let followers = format!("{author}/followers");
    let (to, cc) = match audience {
        Audience::Public => (json!([PUBLIC]), json!([followers])),
        Audience::Unlisted => (json!([followers]), json!([PUBLIC])),
        Audience::FollowersOnly => (json!([followers]), json!([])),
    };
    let web = author.replace("/users/", "/@");
    json!({
        "id": format!("{author}/statuses/{id}"),
        "type": "Note",
        "summary": null,
        "inReplyTo": null,
        "published": "2026-11-26T12:00:00Z",
        "url": format!("{web}/{id}"),
        "attributedTo": author,
        "to": to,
        "cc": cc,
        "sensitive": false,
        "atomUri": format!("{author}/statuses/{id}"),
        "inReplyToAtomUri": null,
        "conversation": format!("tag:{HOST},2026-11-26:objectId={id}:objectType=Conversation"),
        "context": format!("https://{HOST}/contexts/{id}"),
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
        "likes": {
            "id": format!("{author}/statuses/{id}/likes"),
            "type": "Collection",
            "totalItems": 0
        },
        "shares": {
            "id": format!("{author}/statuses/{id}/shares"),
            "type": "Collection",
            "totalItems": 0
        }
    })
}

/// The `Create` activity of an outbox around `note`.
fn create(note: &Value) -> Value {
    let author = note["attributedTo"].as_str().unwrap();
    json!({
        "id": format!("{}/activity", note["id"].as_str().unwrap()),
        "type": "Create",
        "actor": author,
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note
    })
}

/// An `Announce` (boost) of someone else's post, as outboxes list them: the object is a URL.
fn announce(id: u64) -> Value {
    json!({
        "id": format!("{ACTOR}/statuses/{id}/activity"),
        "type": "Announce",
        "actor": ACTOR,
        "published": "2026-11-26T12:00:00Z",
        "to": [PUBLIC],
        "cc": ["https://other.test/users/carol", format!("{ACTOR}/followers")],
        "object": "https://other.test/users/carol/statuses/1"
    })
}

/// The outbox collection of Mastodon (`first` is a URL).
fn outbox(actor: &str, total: usize) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/outbox"),
        "type": "OrderedCollection",
        "totalItems": total,
        "first": format!("{actor}/outbox?page=true"),
        "last": format!("{actor}/outbox?min_id=0&page=true")
    })
}

/// An outbox page of Mastodon.
fn outbox_page(actor: &str, query: &str, items: Vec<Value>, next: Option<&str>) -> Value {
    let mut page = json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {
                "ostatus": "http://ostatus.org#",
                "atomUri": "ostatus:atomUri",
                "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
                "conversation": "ostatus:conversation",
                "sensitive": "as:sensitive",
                "toot": "http://joinmastodon.org/ns#",
                "votersCount": "toot:votersCount"
            }
        ],
        "id": format!("{actor}/outbox?{query}"),
        "type": "OrderedCollectionPage",
        "partOf": format!("{actor}/outbox"),
        "orderedItems": items
    });
    if !page["orderedItems"].as_array().unwrap().is_empty() {
        page["prev"] = json!(format!(
            "{actor}/outbox?min_id=113000000000000100&page=true"
        ));
    }
    if let Some(next) = next {
        page["next"] = json!(next);
    }
    page
}

/// The featured (pinned) collection of Mastodon: the notes themselves, inline.
fn featured(actor: &str, notes: Vec<Value>) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {
                "ostatus": "http://ostatus.org#",
                "atomUri": "ostatus:atomUri",
                "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
                "conversation": "ostatus:conversation",
                "sensitive": "as:sensitive",
                "toot": "http://joinmastodon.org/ns#",
                "votersCount": "toot:votersCount"
            }
        ],
        "id": format!("{actor}/collections/featured"),
        "type": "OrderedCollection",
        "totalItems": notes.len(),
        "orderedItems": notes
    })
}

/// The status text KEZ publishes, with `text` as the proof.
fn proof_status(text: &str) -> String {
    mastodon_html(&format!("KEZ identity proof\n\n{text}"))
}

/// Alice's account on `server`: `summary`, `fields`, the pinned `pinned` notes, and one outbox
/// page of `items`.
fn serve_alice(
    server: &HttpServer,
    summary: &str,
    fields: &[(&str, &str)],
    pinned: Vec<Value>,
    items: Vec<Value>,
) {
    server.route_host(HOST, WEBFINGER, webfinger("alice", HOST, HOST));
    server.route_host(
        HOST,
        "/users/alice",
        activity_json(&actor(HOST, "alice", summary, fields)),
    );
    server.route_host(
        HOST,
        "/users/alice/collections/featured",
        activity_json(&featured(ACTOR, pinned)),
    );
    server.route_host(
        HOST,
        "/users/alice/outbox",
        activity_json(&outbox(ACTOR, items.len())),
    );
    server.route_host(
        HOST,
        OUTBOX_PAGE,
        activity_json(&outbox_page(ACTOR, "page=true", items, None)),
    );
}

/// The outbox items of `proofs`: one public post each, by alice unless another owner is named.
fn proof_items(proofs: &[Published]) -> Vec<Value> {
    proofs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let author = p
                .owner
                .map_or_else(|| ACTOR.to_owned(), |o| format!("https://{HOST}/users/{o}"));
            create(&note(
                &author,
                113_000_000_000_000_000 + i as u64,
                &proof_status(&p.text),
                Audience::Public,
            ))
        })
        .collect()
}

async fn ap_server() -> (HttpServer, Config) {
    let server = HttpServer::start().await;
    let config = Config {
        web_origin: Some(server.base.clone()),
        ..base_config()
    };
    (server, config)
}

async fn verify(config: &Config) -> kez_channels::Report {
    verify_id(config, SUBJECT, NOW, None, None).await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// the shared suite
// ---------------------------------------------------------------------------------------------

struct ApHarness;

impl Harness for ApHarness {
    const SUBJECT: &'static str = SUBJECT;

    async fn start(setup: Setup) -> Running {
        let mut config = base_config();
        let mut guards: Vec<Box<dyn Any + Send>> = Vec::new();
        let origin = match setup {
            Setup::Refused => format!("http://{}", refused_addr().await),
            Setup::Silent => {
                let (base, task) = silent_http().await;
                guards.push(Box::new(task));
                base
            }
            other => {
                let server = HttpServer::start().await;
                match other {
                    Setup::Publish(proofs) => {
                        serve_alice(&server, "", &[], vec![], proof_items(&proofs));
                    }
                    Setup::Empty => {
                        let chatter = create(&note(
                            ACTOR,
                            1,
                            "<p>Hello, fediverse!</p>",
                            Audience::Public,
                        ));
                        serve_alice(&server, "<p>Just Alice.</p>", &[], vec![], vec![chatter]);
                    }
                    Setup::ServerError => server.route_host(
                        HOST,
                        WEBFINGER,
                        Reply::new(
                            500,
                            "<html><body>We're sorry, but something went wrong</body></html>",
                        ),
                    ),
                    Setup::RateLimited => server.route_host(
                        HOST,
                        WEBFINGER,
                        Reply {
                            status: 429,
                            ..Reply::json(&json!({"error": "Too many requests"}))
                        }
                        .header("retry-after", "30"),
                    ),
                    Setup::Malformed(bad) => {
                        serve_alice(&server, "", &[], vec![], vec![]);
                        let body = match bad {
                            Bad::TruncatedJson => {
                                let full = actor(HOST, "alice", "", &[]).to_string();
                                full.as_bytes()[..full.len() / 2].to_vec()
                            }
                            Bad::Html => b"<!DOCTYPE html><html><body><div id=\"mastodon\"></div></body></html>".to_vec(),
                            Bad::Huge => vec![b'{'; 10 << 20],
                        };
                        server.route_host(HOST, "/users/alice", Reply::new(200, body));
                    }
                    _ => unreachable!(),
                }
                let base = server.base.clone();
                guards.push(Box::new(server));
                base
            }
        };
        config.web_origin = Some(origin);
        Running {
            config,
            _guards: guards,
        }
    }

    fn other_account(key: &SecretKey) -> Vec<Published> {
        // a post in alice's outbox attributed to mallory
        vec![Published {
            text: claim(key, SUBJECT, None),
            owner: Some("mallory"),
        }]
    }
}

crate::channel_suite!(ap, ApHarness);

// ---------------------------------------------------------------------------------------------
// own cases
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn ap_rate_limit_reports_retry_after() {
    let (server, config) = ap_server().await;
    server.route_host(
        HOST,
        WEBFINGER,
        Reply::new(429, "{\"error\":\"Too many requests\"}").header("retry-after", "30"),
    );
    let report = verify(&config).await;
    assert_status(
        &report,
        Status::Unreachable,
        "rate limited (HTTP 429, retry after 30)",
    );
}

#[tokio::test]
async fn ap_proof_in_a_profile_field() {
    let k = key(1);
    let (server, config) = ap_server().await;
    let compact = claim(&k, SUBJECT, None);
    serve_alice(
        &server,
        "<p>Alice.</p>",
        &[
            (
                "Website",
                "<a href=\"https://alice.example\" target=\"_blank\" rel=\"nofollow noopener me\" translate=\"no\"><span class=\"invisible\">https://</span><span class=\"\">alice.example</span><span class=\"invisible\"></span></a>",
            ),
            ("KEZ", &compact),
        ],
        vec![],
        vec![],
    );
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(
        report.proofs[0].location,
        format!("{ACTOR} (profile field \"KEZ\")")
    );
}

#[tokio::test]
async fn ap_proof_in_the_profile_summary() {
    let k = key(1);
    let (server, config) = ap_server().await;
    let bio = format!(
        "<p>Alice. Keys and such.</p><p>{}</p>",
        claim(&k, SUBJECT, None)
    );
    serve_alice(&server, &bio, &[], vec![], vec![]);
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(
        report.proofs[0].location,
        format!("{ACTOR} (profile summary)")
    );
}

#[tokio::test]
async fn ap_proof_split_by_mastodon_link_markup() {
    let k = key(1);
    let (server, config) = ap_server().await;
    let compact = claim(&k, SUBJECT, None);
    let (head, tail) = compact["kez:z1:".len()..].split_at(30);
    // Mastodon's shortened-link markup: the hidden scheme, a visible part, a hidden rest
    let content = format!(
        "<p>KEZ identity proof</p><p><a href=\"https://kez.example/#{compact}\" target=\"_blank\" \
         rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">kez:z1:</span>\
         <span class=\"ellipsis\">{head}</span><span class=\"invisible\">{tail}</span></a></p>"
    );
    let note = note(ACTOR, 7, &content, Audience::Public);
    serve_alice(&server, "", &[], vec![], vec![create(&note)]);
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(report.proofs[0].location, "https://social.test/@alice/7");
}

#[tokio::test]
async fn ap_markdown_fence_in_a_post() {
    let k = key(1);
    let (server, config) = ap_server().await;
    let text = format!("My KEZ proof:\n\n```kez\n{}\n```", claim(&k, SUBJECT, None));
    let note = note(ACTOR, 8, &mastodon_html(&text), Audience::Unlisted);
    serve_alice(&server, "", &[], vec![], vec![create(&note)]);
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn ap_embedded_first_page() {
    let k = key(1);
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    let item = create(&note(
        ACTOR,
        9,
        &proof_status(&claim(&k, SUBJECT, None)),
        Audience::Public,
    ));
    let mut collection = outbox(ACTOR, 1);
    collection["first"] = outbox_page(ACTOR, "page=true", vec![item], None);
    collection["first"]
        .as_object_mut()
        .unwrap()
        .remove("@context");
    server.route_host(HOST, "/users/alice/outbox", activity_json(&collection));
    // the linked page is empty: only the embedded one holds the proof
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(server.hits(OUTBOX_PAGE), 0);
}

#[tokio::test]
async fn ap_follows_next_pages_up_to_the_cap() {
    let k = key(1);
    let (server, mut config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    let page2 = "/users/alice/outbox?max_id=113000000000000050&page=true";
    let first = vec![
        create(&note(ACTOR, 60, "<p>Lunch.</p>", Audience::Public)),
        announce(55),
    ];
    server.route_host(
        HOST,
        OUTBOX_PAGE,
        activity_json(&outbox_page(
            ACTOR,
            "page=true",
            first,
            Some(&format!("https://{HOST}{page2}")),
        )),
    );
    let second = vec![create(&note(
        ACTOR,
        50,
        &proof_status(&claim(&k, SUBJECT, None)),
        Audience::Public,
    ))];
    server.route_host(
        HOST,
        page2,
        activity_json(&outbox_page(
            ACTOR,
            "max_id=113000000000000050&page=true",
            second,
            None,
        )),
    );
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(server.hits(page2), 1);

    // one page only: the proof on page 2 is not seen
    config.max_pages = 1;
    let report = verify(&config).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert_eq!(server.hits(page2), 1);
}

#[tokio::test]
async fn ap_next_loop_stops() {
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    // a page whose next is itself
    server.route_host(
        HOST,
        OUTBOX_PAGE,
        activity_json(&outbox_page(
            ACTOR,
            "page=true",
            vec![create(&note(ACTOR, 1, "<p>hi</p>", Audience::Public))],
            Some(&format!("https://{HOST}{OUTBOX_PAGE}")),
        )),
    );
    let report = verify(&config).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert_eq!(server.hits(OUTBOX_PAGE), 1);
}

#[tokio::test]
async fn ap_non_public_post_is_ignored() {
    let k = key(1);
    let (server, config) = ap_server().await;
    let private = note(
        ACTOR,
        3,
        &proof_status(&claim(&k, SUBJECT, None)),
        Audience::FollowersOnly,
    );
    serve_alice(&server, "", &[], vec![], vec![create(&private)]);
    let report = verify(&config).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert!(report.proofs.is_empty());
}

#[tokio::test]
async fn ap_post_of_another_actor_is_another_account() {
    let k = key(1);
    let (server, config) = ap_server().await;
    // alice's outbox lists a Create whose note claims to be carol's, on another server
    let other = note(
        "https://other.test/users/carol",
        4,
        &proof_status(&claim(&k, SUBJECT, None)),
        Audience::Public,
    );
    serve_alice(&server, "", &[], vec![], vec![create(&other)]);
    let report = verify(&config).await;
    assert_status(
        &report,
        Status::Invalid,
        "published by another account (https://other.test/users/carol)",
    );
}

#[tokio::test]
async fn ap_linked_objects_are_not_followed() {
    let k = key(1);
    let (server, config) = ap_server().await;
    // an outbox whose Create names its note by URL only
    let item = json!({
        "id": format!("{ACTOR}/statuses/5/activity"),
        "type": "Create",
        "actor": ACTOR,
        "published": "2026-11-26T12:00:00Z",
        "to": [PUBLIC],
        "cc": [format!("{ACTOR}/followers")],
        "object": format!("{ACTOR}/statuses/5")
    });
    serve_alice(&server, "", &[], vec![], vec![item]);
    let note = note(
        ACTOR,
        5,
        &proof_status(&claim(&k, SUBJECT, None)),
        Audience::Public,
    );
    server.route_host(HOST, "/users/alice/statuses/5", activity_json(&note));
    let report = verify(&config).await;
    assert_eq!(report.status, Status::NotFound, "{report:#?}");
    assert_eq!(server.hits("/users/alice/statuses/5"), 0);
}

#[tokio::test]
async fn ap_pinned_post_counts_once() {
    let k = key(1);
    let (server, config) = ap_server().await;
    let pinned = note(
        ACTOR,
        11,
        &proof_status(&claim(&k, SUBJECT, None)),
        Audience::Public,
    );
    // pinned, and also on the outbox's first page
    serve_alice(
        &server,
        "",
        &[],
        vec![pinned.clone()],
        vec![create(&pinned)],
    );
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn ap_webfinger_404_is_not_found() {
    let (_server, config) = ap_server().await;
    // nothing served: Mastodon answers an unknown account with 404
    let report = verify(&config).await;
    assert_status(&report, Status::NotFound, "WebFinger: not found");
}

#[tokio::test]
async fn ap_gone_actor_is_not_found() {
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    server.route_host(HOST, "/users/alice", Reply::new(410, ""));
    let report = verify(&config).await;
    assert_status(&report, Status::NotFound, "the account is gone");
}

#[tokio::test]
async fn ap_actor_id_mismatch_is_unreachable() {
    let k = key(1);
    let (server, config) = ap_server().await;
    serve_alice(
        &server,
        "",
        &[],
        vec![],
        proof_items(&[own(claim(&k, SUBJECT, None))]),
    );
    let mut wrong = actor(HOST, "alice", "", &[]);
    wrong["id"] = json!("https://social.test/users/mallory");
    server.route_host(HOST, "/users/alice", activity_json(&wrong));
    let report = verify(&config).await;
    assert_status(&report, Status::Unreachable, "the actor's id is");
}

#[tokio::test]
async fn ap_actor_of_another_user_is_unreachable() {
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    let mut wrong = actor(HOST, "alice", "", &[]);
    wrong["preferredUsername"] = json!("mallory");
    server.route_host(HOST, "/users/alice", activity_json(&wrong));
    let report = verify(&config).await;
    assert_status(
        &report,
        Status::Unreachable,
        "the actor is mallory, not alice",
    );
}

#[tokio::test]
async fn ap_bare_actor_is_unreachable() {
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    // what Mastodon serves unsigned requests in authorized-fetch mode
    let bare = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": ACTOR,
        "type": "Person",
        "inbox": format!("{ACTOR}/inbox"),
        "publicKey": {"id": format!("{ACTOR}#main-key"), "owner": ACTOR, "publicKeyPem": "x"},
        "endpoints": {"sharedInbox": format!("https://{HOST}/inbox")}
    });
    server.route_host(HOST, "/users/alice", activity_json(&bare));
    let report = verify(&config).await;
    assert_status(&report, Status::Unreachable, "without preferredUsername");
}

#[tokio::test]
async fn ap_split_domain_account() {
    // @alice@example.test lives on social.example.test (Mastodon's WEB_DOMAIN)
    let k = key(1);
    let subject = "ap:@alice@example.test";
    let (server, config) = ap_server().await;
    let web = "social.example.test";
    let actor_url = format!("https://{web}/users/alice");
    server.route_host(
        "example.test",
        "/.well-known/webfinger?resource=acct:alice@example.test",
        webfinger("alice", "example.test", web),
    );
    server.route_host(
        web,
        "/users/alice",
        activity_json(&actor(web, "alice", "", &[])),
    );
    server.route_host(
        web,
        "/users/alice/outbox",
        activity_json(&outbox(&actor_url, 1)),
    );
    let item = create(&note(
        &actor_url,
        12,
        &proof_status(&claim(&k, subject, None)),
        Audience::Public,
    ));
    server.route_host(
        web,
        "/users/alice/outbox?page=true",
        activity_json(&outbox_page(&actor_url, "page=true", vec![item], None)),
    );
    let report = verify_id(&config, subject, NOW, None, None).await.unwrap();
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn ap_outbox_failure_without_a_proof_is_unreachable() {
    let k = key(1);
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    server.route_host(HOST, OUTBOX_PAGE, Reply::new(503, "Service Unavailable"));
    let report = verify(&config).await;
    assert_status(&report, Status::Unreachable, "server error (HTTP 503)");

    // with a proof elsewhere, the failure does not matter
    serve_alice(
        &server,
        "",
        &[("KEZ", &claim(&k, SUBJECT, None))],
        vec![],
        vec![],
    );
    server.route_host(HOST, OUTBOX_PAGE, Reply::new(503, "Service Unavailable"));
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
}

#[tokio::test]
async fn ap_malformed_outbox_page_is_unreachable() {
    let (server, config) = ap_server().await;
    serve_alice(&server, "", &[], vec![], vec![]);
    server.route_host(
        HOST,
        OUTBOX_PAGE,
        Reply::new(200, "<!DOCTYPE html><html></html>"),
    );
    let report = verify(&config).await;
    assert_status(&report, Status::Unreachable, "malformed response");
}

#[tokio::test]
async fn ap_requests_ask_for_json() {
    let k = key(1);
    let (server, config) = ap_server().await;
    serve_alice(
        &server,
        "",
        &[],
        vec![],
        proof_items(&[own(claim(&k, SUBJECT, None))]),
    );
    let report = verify(&config).await;
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    let seen = server.seen();
    let accept = |path: &str| {
        seen.iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, h)| h.get("accept").cloned())
            .unwrap()
    };
    assert_eq!(accept(WEBFINGER), "application/jrd+json, application/json");
    for path in ["/users/alice", "/users/alice/outbox", OUTBOX_PAGE] {
        assert!(
            accept(path).starts_with("application/activity+json"),
            "{path}"
        );
    }
    for (path, headers) in &seen {
        assert_eq!(
            headers.get("host").map(String::as_str),
            Some(HOST),
            "{path}"
        );
        assert_eq!(headers.get("authorization"), None, "{path}");
    }
}

#[tokio::test]
async fn ap_proofs_capped() {
    let k = key(1);
    let (server, mut config) = ap_server().await;
    let proofs: Vec<Published> = (0..5)
        .map(|i| own(claim(&k, SUBJECT, Some(IAT + 10 + i))))
        .collect();
    serve_alice(&server, "", &[], vec![], proof_items(&proofs));
    config.max_proofs = 2;
    let report = verify(&config).await;
    assert_eq!(report.proofs.len(), 2, "{report:#?}");
}

// ---------------------------------------------------------------------------------------------
// publishing, against a small stateful Mastodon
// ---------------------------------------------------------------------------------------------

/// A token of the test server: its account, and whether it may read the account.
struct Token {
    user: &'static str,
    can_read: bool,
}

#[derive(Default)]
struct Mastodon {
    /// token -> account
    tokens: HashMap<String, Token>,
    /// published statuses: (author, text, id)
    statuses: Vec<(String, String, u64)>,
    /// (method, host, path, authorization)
    log: Vec<(String, String, String, Option<String>)>,
}

struct MastodonServer {
    state: Arc<Mutex<Mastodon>>,
    _task: AbortOnDrop,
}

/// Stops the server task when the test ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn tokens() -> HashMap<String, Token> {
    let mut t = HashMap::new();
    t.insert(
        "alice-token".to_owned(),
        Token {
            user: "alice",
            can_read: true,
        },
    );
    t.insert(
        "bob-token".to_owned(),
        Token {
            user: "bob",
            can_read: true,
        },
    );
    t.insert(
        "bob-write-only".to_owned(),
        Token {
            user: "bob",
            can_read: false,
        },
    );
    t
}

async fn mastodon_server() -> (MastodonServer, Config) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Mastodon {
        tokens: tokens(),
        ..Mastodon::default()
    }));
    let app = axum::Router::new()
        .fallback(mastodon)
        .with_state(Arc::clone(&state));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let config = Config {
        web_origin: Some(base.clone()),
        ..base_config()
    };
    (
        MastodonServer {
            state,
            _task: AbortOnDrop(task),
        },
        config,
    )
}

fn reply(status: u16, content_type: &str, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn api_error(status: u16, error: &str) -> Response {
    reply(
        status,
        "application/json; charset=utf-8",
        &json!({ "error": error }),
    )
}

/// The account entity of `user` in Mastodon's REST shape.
fn account_entity(user: &str) -> Value {
    json!({
        "id": if user == "alice" { "110000000000000001" } else { "110000000000000002" },
        "username": user,
        "acct": user,
        "display_name": user,
        "locked": false,
        "bot": false,
        "discoverable": true,
        "indexable": true,
        "group": false,
        "created_at": "2026-01-12T00:00:00.000Z",
        "note": "",
        "url": format!("https://{HOST}/@{user}"),
        "uri": format!("https://{HOST}/users/{user}"),
        "avatar": format!("https://{HOST}/avatars/original/missing.png"),
        "avatar_static": format!("https://{HOST}/avatars/original/missing.png"),
        "header": format!("https://{HOST}/headers/original/missing.png"),
        "header_static": format!("https://{HOST}/headers/original/missing.png"),
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 1,
        "last_status_at": "2026-11-26",
        "hide_collections": false,
        "noindex": false,
        "emojis": [],
        "roles": [],
        "fields": []
    })
}

/// The Status entity of a new status.
fn status_entity(user: &str, id: u64, text: &str) -> Value {
    json!({
        "id": id.to_string(),
        "created_at": "2026-11-26T12:00:00.000Z",
        "in_reply_to_id": null,
        "in_reply_to_account_id": null,
        "sensitive": false,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": format!("https://{HOST}/users/{user}/statuses/{id}"),
        "url": format!("https://{HOST}/@{user}/{id}"),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": null,
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": false,
        "pinned": false,
        "content": mastodon_html(text),
        "filtered": [],
        "reblog": null,
        "application": {"name": "kez", "website": null},
        "account": account_entity(user),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "quote": null,
        "card": null,
        "poll": null
    })
}

async fn mastodon(State(state): State<Arc<Mutex<Mastodon>>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let auth = request
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    let mut m = state.lock().unwrap();
    m.log
        .push((method.clone(), host.clone(), path.clone(), auth.clone()));
    if host != HOST {
        return api_error(404, "Not Found");
    }
    let token_user = auth
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| m.tokens.get(t))
        .map(|t| (t.user, t.can_read));
    let json_as = |v: &Value| reply(200, "application/activity+json; charset=utf-8", v);
    match (method.as_str(), path.as_str()) {
        ("GET", WEBFINGER) => {
            let r = webfinger("alice", HOST, HOST);
            Response::builder()
                .status(200)
                .header("content-type", "application/jrd+json; charset=utf-8")
                .body(Body::from(r.body))
                .unwrap()
        }
        ("GET", "/users/alice") => json_as(&actor(HOST, "alice", "", &[])),
        ("GET", "/users/alice/collections/featured") => json_as(&featured(ACTOR, vec![])),
        ("GET", "/users/alice/outbox") => {
            let n = m.statuses.iter().filter(|s| s.0 == "alice").count();
            json_as(&outbox(ACTOR, n))
        }
        ("GET", OUTBOX_PAGE) => {
            let items = m
                .statuses
                .iter()
                .rev()
                .filter(|s| s.0 == "alice")
                .map(|(_, text, id)| {
                    create(&note(ACTOR, *id, &mastodon_html(text), Audience::Public))
                })
                .collect();
            json_as(&outbox_page(ACTOR, "page=true", items, None))
        }
        ("GET", "/api/v1/accounts/verify_credentials") => match token_user {
            None => api_error(401, "The access token is invalid"),
            Some((_, false)) => api_error(403, "This action is outside the authorized scopes"),
            Some((user, true)) => {
                let mut me = account_entity(user);
                me["source"] = json!({
                    "privacy": "public",
                    "sensitive": false,
                    "language": "",
                    "note": "",
                    "fields": [],
                    "follow_requests_count": 0,
                    "hide_collections": false,
                    "discoverable": true,
                    "indexable": true
                });
                me["role"] = json!({"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": false});
                reply(200, "application/json; charset=utf-8", &me)
            }
        },
        ("POST", "/api/v1/statuses") => {
            let Some((user, _)) = token_user else {
                return api_error(401, "The access token is invalid");
            };
            let params: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(params["visibility"], "public");
            let text = params["status"].as_str().unwrap().to_owned();
            if text.chars().count() > 500 {
                return api_error(
                    422,
                    "Validation failed: Text character limit of 500 exceeded",
                );
            }
            let id = 113_500_000_000_000_000 + m.statuses.len() as u64;
            m.statuses.push((user.to_owned(), text.clone(), id));
            reply(
                200,
                "application/json; charset=utf-8",
                &status_entity(user, id, &text),
            )
        }
        _ => api_error(404, "Not Found"),
    }
}

fn to_publish(subject: &str, exp: Option<u64>) -> ToPublish {
    let compact = claim(&key(1), subject, exp);
    let (_, json) = kez_core::decode_any(compact.as_bytes()).unwrap();
    ToPublish::new(std::str::from_utf8(&json).unwrap()).unwrap()
}

fn token(t: &str) -> Credentials {
    Credentials {
        ap_access_token: Some(t.to_owned()),
        ..Credentials::default()
    }
}

#[tokio::test]
async fn ap_publish_then_verify() {
    let (server, config) = mastodon_server().await;
    let proof = to_publish(SUBJECT, None);
    let published = publish(
        &config,
        &token("alice-token"),
        "mastodon:@Alice@Social.Test",
        &proof,
    )
    .await
    .unwrap();
    let Publication::Posted { location, detail } = published else {
        panic!("{published:?}");
    };
    assert_eq!(
        location,
        format!("https://{HOST}/@alice/113500000000000000")
    );
    assert!(detail.contains("public status"), "{detail}");
    {
        let m = server.state.lock().unwrap();
        assert_eq!(m.statuses.len(), 1);
        let text = &m.statuses[0].1;
        assert!(text.starts_with("KEZ identity proof\n\nkez:z1:"), "{text}");
        assert!(text.chars().count() <= 500, "{}", text.chars().count());
        // the token went to the API only, never to the public documents
        for (method, _, path, auth) in &m.log {
            let api = path.starts_with("/api/");
            assert_eq!(auth.is_some(), api, "{method} {path}");
        }
        let order: Vec<&str> = m
            .log
            .iter()
            .filter(|l| l.2.starts_with("/api/"))
            .map(|l| l.2.as_str())
            .collect();
        assert_eq!(
            order,
            ["/api/v1/accounts/verify_credentials", "/api/v1/statuses"]
        );
    }
    let report = verify(&config).await;
    assert_status(&report, Status::Valid, "1 of 1 proofs valid");
    assert_eq!(
        report.proofs[0].location,
        format!("https://{HOST}/@alice/113500000000000000")
    );
}

#[tokio::test]
async fn ap_publish_with_an_expiring_claim_fits() {
    let (server, config) = mastodon_server().await;
    let proof = to_publish(SUBJECT, Some(NOW + 86_400 * 365));
    publish(&config, &token("alice-token"), SUBJECT, &proof)
        .await
        .unwrap();
    let m = server.state.lock().unwrap();
    assert!(m.statuses[0].1.chars().count() <= 500);
}

#[tokio::test]
async fn ap_publish_with_another_accounts_token_is_rejected() {
    let (server, config) = mastodon_server().await;
    let proof = to_publish(SUBJECT, None);
    let err = publish(&config, &token("bob-token"), SUBJECT, &proof)
        .await
        .unwrap_err();
    let PublishError::Rejected(reason) = &err else {
        panic!("{err:?}");
    };
    assert!(
        reason.contains("the token is bob's, not alice's: nothing was published"),
        "{reason}"
    );
    assert!(server.state.lock().unwrap().statuses.is_empty());
}

#[tokio::test]
async fn ap_publish_checks_the_status_when_the_token_cannot_read_its_account() {
    let (server, config) = mastodon_server().await;
    let proof = to_publish(SUBJECT, None);
    let err = publish(&config, &token("bob-write-only"), SUBJECT, &proof)
        .await
        .unwrap_err();
    let PublishError::Rejected(reason) = &err else {
        panic!("{err:?}");
    };
    assert!(
        reason.contains("the status was created on bob's account (https://social.test/@bob/"),
        "{reason}"
    );
    assert_eq!(server.state.lock().unwrap().statuses.len(), 1);
}

#[tokio::test]
async fn ap_publish_with_a_bad_token_is_rejected() {
    let (_server, config) = mastodon_server().await;
    let proof = to_publish(SUBJECT, None);
    let err = publish(&config, &token("revoked"), SUBJECT, &proof)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "rejected");
    assert!(
        err.to_string()
            .contains("HTTP 401 The access token is invalid"),
        "{err}"
    );
}

#[tokio::test]
async fn ap_publish_without_a_token() {
    let (server, config) = mastodon_server().await;
    let proof = to_publish(SUBJECT, None);
    let err = publish(&config, &Credentials::default(), SUBJECT, &proof)
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::MissingCredential("KEZ_AP_ACCESS_TOKEN"));
    assert!(server.state.lock().unwrap().log.is_empty());
    // an empty token is no token
    let err = publish(&config, &token(""), SUBJECT, &proof)
        .await
        .unwrap_err();
    assert_eq!(err, PublishError::MissingCredential("KEZ_AP_ACCESS_TOKEN"));
    assert!(!format!("{:?}", token("alice-token")).contains("alice-token"));
}

#[tokio::test]
async fn ap_publish_to_an_unknown_account_is_rejected() {
    let (server, config) = mastodon_server().await;
    let subject = "ap:@nobody@social.test";
    let proof = to_publish(subject, None);
    let err = publish(&config, &token("alice-token"), subject, &proof)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "rejected", "{err:?}");
    // the token never left for the API
    assert!(
        server
            .state
            .lock()
            .unwrap()
            .log
            .iter()
            .all(|l| l.3.is_none())
    );
}
