//! A GitHub REST API for gists, as the public API answers: `GET /user`, `POST /gists`,
//! `GET /users/{login}/gists` (paginated with `Link`), and the raw files. Tokens map to logins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::Task;

/// One stored gist.
#[derive(Debug, Clone)]
struct Gist {
    id: String,
    owner: String,
    description: String,
    files: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct State_ {
    base: String,
    tokens: HashMap<String, String>,
    users: Vec<String>,
    gists: Vec<Gist>,
}

type Shared = Arc<Mutex<State_>>;

/// A running GitHub stand-in.
#[derive(Debug)]
pub struct LocalGithub {
    /// The API base URL (`http://127.0.0.1:PORT`).
    pub base: String,
    state: Shared,
    _task: Task,
}

impl LocalGithub {
    /// Starts the server with no users.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state: Shared = Arc::new(Mutex::new(State_ {
            base: base.clone(),
            ..State_::default()
        }));
        let app = Router::new()
            .route("/user", get(user))
            .route("/gists", post(create))
            .route("/users/{login}/gists", get(list))
            .route("/raw/{id}/{file}", get(raw))
            .with_state(Arc::clone(&state));
        let task = Task::new(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
        Self {
            base,
            state,
            _task: task,
        }
    }

    /// Adds the account `login`; `token`, if given, authenticates as it.
    pub fn add_user(&self, login: &str, token: Option<&str>) {
        let mut s = self.state.lock().unwrap();
        s.users.push(login.to_owned());
        if let Some(t) = token {
            s.tokens.insert(t.to_owned(), login.to_owned());
        }
    }

    /// Stores a public gist of `login` with one file, as if created on the web.
    pub fn add_gist(&self, login: &str, file: &str, content: &str) {
        let mut s = self.state.lock().unwrap();
        let id = format!("{:032x}", s.gists.len() + 1);
        s.gists.push(Gist {
            id,
            owner: login.to_owned(),
            description: String::new(),
            files: vec![(file.to_owned(), content.to_owned())],
        });
    }

    /// How many gists are stored.
    pub fn gist_count(&self) -> usize {
        self.state.lock().unwrap().gists.len()
    }
}

fn owner_json(login: &str) -> Value {
    let id = login.bytes().fold(1000u64, |a, b| a * 31 + u64::from(b)) % 100_000_000;
    json!({
        "login": login,
        "id": id,
        "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "gists_url": format!("https://api.github.com/users/{login}/gists{{/gist_id}}"),
        "type": "User",
        "user_view_type": "public",
        "site_admin": false
    })
}

fn gist_json(base: &str, g: &Gist, with_content: bool) -> Value {
    let mut files = serde_json::Map::new();
    for (name, content) in &g.files {
        let mut file = json!({
            "filename": name,
            "type": "text/markdown",
            "language": "Markdown",
            "raw_url": format!("{base}/raw/{}/{name}", g.id),
            "size": content.len(),
        });
        if with_content {
            file["truncated"] = json!(false);
            file["content"] = json!(content);
        }
        files.insert(name.clone(), file);
    }
    json!({
        "url": format!("{base}/gists/{}", g.id),
        "forks_url": format!("{base}/gists/{}/forks", g.id),
        "commits_url": format!("{base}/gists/{}/commits", g.id),
        "id": g.id,
        "node_id": format!("G_{}", g.id),
        "git_pull_url": format!("https://gist.github.com/{}.git", g.id),
        "git_push_url": format!("https://gist.github.com/{}.git", g.id),
        "html_url": format!("https://gist.github.com/{}/{}", g.owner, g.id),
        "files": files,
        "public": true,
        "created_at": "2026-11-26T12:00:00Z",
        "updated_at": "2026-11-26T12:00:00Z",
        "description": g.description,
        "comments": 0,
        "comments_enabled": true,
        "user": null,
        "comments_url": format!("{base}/gists/{}/comments", g.id),
        "owner": owner_json(&g.owner),
        "truncated": false
    })
}

fn error(status: StatusCode, message: &str, doc: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json!({"message": message, "documentation_url": doc, "status": status.as_u16().to_string()})
            .to_string(),
    )
        .into_response()
}

/// An entity tag of `body`, as the API sends (weak, quoted).
fn etag(body: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("W/\"{:016x}\"", h.finish())
}

/// A cacheable 200 answer, as the API sends for public data: `Cache-Control`, `ETag`, and 304
/// when the client's `If-None-Match` matches.
fn cacheable(headers: &HeaderMap, content_type: &str, max_age: u32, body: String) -> Response {
    let tag = etag(&body);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == tag);
    let builder = Response::builder()
        .header(
            header::CACHE_CONTROL,
            format!("public, max-age={max_age}, s-maxage={max_age}"),
        )
        .header(header::ETAG, &tag)
        .header(
            header::VARY,
            "Accept, Accept-Encoding, Accept, X-Requested-With",
        );
    if matches {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap();
    }
    builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn login_of(state: &State_, headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("token "))?;
    state.tokens.get(token).cloned()
}

async fn user(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let s = state.lock().unwrap();
    match login_of(&s, &headers) {
        Some(login) => json_response(StatusCode::OK, &owner_json(&login)),
        None => error(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
            "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        ),
    }
}

async fn create(State(state): State<Shared>, headers: HeaderMap, request: Request) -> Response {
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let mut s = state.lock().unwrap();
    let Some(login) = login_of(&s, &headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
            "https://docs.github.com/rest/gists/gists#create-a-gist",
        );
    };
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Problems parsing JSON",
            "https://docs.github.com/rest/gists/gists#create-a-gist",
        );
    };
    let files: Vec<(String, String)> = value
        .get("files")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(name, f)| {
                    Some((name.clone(), f.get("content")?.as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    if files.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed",
            "https://docs.github.com/rest/gists/gists#create-a-gist",
        );
    }
    let id = format!("{:032x}", s.gists.len() + 1);
    let gist = Gist {
        id: id.clone(),
        owner: login,
        description: value
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        files,
    };
    let body = gist_json(&s.base, &gist, true);
    s.gists.push(gist);
    let mut response = json_response(StatusCode::CREATED, &body);
    if let Ok(v) = format!("{}/gists/{id}", s.base).parse() {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(login): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query: HashMap<String, String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let s = state.lock().unwrap();
    if !s.users.iter().any(|u| u.eq_ignore_ascii_case(&login)) {
        return error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "https://docs.github.com/rest/gists/gists#list-gists-for-a-user",
        );
    }
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    // newest first, as the API lists them
    let all: Vec<&Gist> = s
        .gists
        .iter()
        .rev()
        .filter(|g| g.owner.eq_ignore_ascii_case(&login))
        .collect();
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|g| gist_json(&s.base, g, false))
        .collect();
    let mut response = cacheable(
        &headers,
        "application/json; charset=utf-8",
        60,
        Value::Array(items).to_string(),
    );
    let last = all.len().div_ceil(per_page).max(1);
    if page < last {
        let link = format!(
            "<{base}/users/{login}/gists?per_page={per_page}&page={next}>; rel=\"next\", <{base}/users/{login}/gists?per_page={per_page}&page={last}>; rel=\"last\"",
            base = s.base,
            next = page + 1
        );
        if let Ok(v) = link.parse() {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    response
}

async fn raw(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let s = state.lock().unwrap();
    let content = s
        .gists
        .iter()
        .find(|g| g.id == id)
        .and_then(|g| g.files.iter().find(|(n, _)| *n == file))
        .map(|(_, c)| c.clone());
    match content {
        Some(c) => cacheable(&headers, "text/plain; charset=utf-8", 300, c),
        None => (StatusCode::NOT_FOUND, "404: Not Found").into_response(),
    }
}
