//! A small nostr relay client for the `nostr` channel (SPEC.md §15.4): NIP-01 messages over a
//! WebSocket (RFC 6455, `ws://` or `wss://` with rustls on the ring provider and the webpki
//! roots). It asks one subscription and collects its events until `EOSE` or `CLOSED`, or sends
//! one event and waits for its `OK`. Every step (connect and handshake, sending, the whole read
//! phase, closing) is bounded by the configured timeout, every incoming message and frame by
//! the body cap, and the events kept by a count.
//!
//! The client only carries messages (read by `kez_nostr::wire`): which events count is decided
//! by the channel.

use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt as _;
use kez_nostr::wire::{RelayMessage, parse, quoted};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, RETRY_AFTER, USER_AGENT};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::Config;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `CLOSED` prefixes (NIP-01, NIP-42) by which a relay refuses or fails to serve the request:
/// such an answer says nothing about what the relay holds.
const REFUSALS: &[&str] = &[
    "rate-limited:",
    "error:",
    "auth-required:",
    "restricted:",
    "blocked:",
];

/// How one relay's subscription ended.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The event objects received for the subscription, in arrival order, at most the cap.
    pub(crate) events: Vec<Value>,
    /// `Ok(how it ended)` when the relay answered the request (`EOSE`, a `CLOSED` that is not a
    /// refusal, or the event cap reached); `Err(why)` when it did not.
    pub(crate) end: Result<String, String>,
}

/// What a relay said to a published event.
#[derive(Debug)]
pub(crate) struct Ack {
    /// The `OK` message's boolean.
    pub(crate) accepted: bool,
    /// The `OK` message's text.
    pub(crate) message: String,
}

/// A relay client with the channels' timeout and message cap.
#[derive(Debug, Clone)]
pub(crate) struct RelayClient {
    timeout: Duration,
    max_message: usize,
    tls: Result<Arc<rustls::ClientConfig>, String>,
}

impl RelayClient {
    /// A client with `config`'s timeout and body cap (the cap of one WebSocket message and
    /// frame). Never fails: a TLS setup that cannot be built makes every `wss://` relay
    /// unreachable with the reason.
    pub(crate) fn new(config: &Config) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| {
                let roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
            })
            .map_err(|e| format!("no TLS configuration ({e})"));
        Self {
            timeout: config.timeout,
            max_message: config.max_body.max(1),
            tls,
        }
    }

    /// Sends `["REQ", sub, filter]` to `url` and reads the answer until `EOSE`, `CLOSED`, the
    /// timeout, or `max_events` events; then sends `["CLOSE", sub]` and closes the socket.
    pub(crate) async fn query(
        &self,
        url: &str,
        sub: &str,
        filter: &Value,
        max_events: usize,
    ) -> Answer {
        let mut events = Vec::new();
        let end = match self.connect(url).await {
            Err(e) => Err(e),
            Ok(mut ws) => {
                let request = serde_json::json!(["REQ", sub, filter]).to_string();
                let end = match self.send(&mut ws, request).await {
                    Ok(()) => {
                        self.read_subscription(&mut ws, sub, max_events.max(1), &mut events)
                            .await
                    }
                    Err(e) => Err(e),
                };
                let close = serde_json::json!(["CLOSE", sub]).to_string();
                self.close(&mut ws, Some(close)).await;
                end
            }
        };
        Answer { events, end }
    }

    /// Sends `["EVENT", event]` to `url` and waits for the `OK` naming `id`.
    ///
    /// # Errors
    ///
    /// Why the relay gave no `OK`: it could not be reached, timed out, closed the connection,
    /// or sent a malformed message (with its last `NOTICE`, if any).
    pub(crate) async fn publish(&self, url: &str, id: &str, event: &Value) -> Result<Ack, String> {
        let mut ws = self.connect(url).await?;
        let message = serde_json::json!(["EVENT", event]).to_string();
        let result = match self.send(&mut ws, message).await {
            Ok(()) => self.read_ok(&mut ws, id).await,
            Err(e) => Err(e),
        };
        self.close(&mut ws, None).await;
        result
    }

    /// Opens the WebSocket (TCP, TLS for `wss://`, the HTTP upgrade), bounded by the timeout.
    async fn connect(&self, url: &str) -> Result<Socket, String> {
        let scheme_end = url.find("://").unwrap_or(0);
        let scheme = url.get(..scheme_end).unwrap_or_default();
        let connector = if scheme.eq_ignore_ascii_case("wss") {
            Connector::Rustls(Arc::clone(self.tls.as_ref().map_err(Clone::clone)?))
        } else if scheme.eq_ignore_ascii_case("ws") {
            Connector::Plain
        } else {
            return Err("not a ws:// or wss:// URL".to_owned());
        };
        let mut request = url
            .into_client_request()
            .map_err(|e| format!("bad relay URL ({e})"))?;
        request.headers_mut().insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("kez/", env!("CARGO_PKG_VERSION"))),
        );
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message));
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(ws_config),
            true,
            Some(connector),
        );
        match timeout(self.timeout, connecting).await {
            Err(_) => Err(format!(
                "timed out (no WebSocket connection within {} ms)",
                self.timeout.as_millis()
            )),
            Ok(Err(e)) => Err(handshake_error(&e)),
            Ok(Ok((ws, _))) => Ok(ws),
        }
    }

    async fn send(&self, ws: &mut Socket, text: String) -> Result<(), String> {
        match timeout(self.timeout, ws.send(Message::text(text))).await {
            Err(_) => Err(format!(
                "timed out sending (more than {} ms)",
                self.timeout.as_millis()
            )),
            Ok(Err(e)) => Err(format!("cannot send ({})", self.ws_error(&e))),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Best effort, bounded: the answer is already in hand.
    async fn close(&self, ws: &mut Socket, last: Option<String>) {
        let _ = timeout(self.timeout, async {
            if let Some(text) = last {
                let _ = ws.send(Message::text(text)).await;
            }
            let _ = ws.close(None).await;
        })
        .await;
    }

    /// The next message, within the timeout counted from `start`.
    async fn next(&self, ws: &mut Socket, start: Instant, waiting: &str) -> Incoming {
        let left = self.timeout.saturating_sub(start.elapsed());
        match timeout(left, futures_util::StreamExt::next(ws)).await {
            Err(_) => Incoming::Failed(format!(
                "timed out (no {waiting} within {} ms)",
                self.timeout.as_millis()
            )),
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                Incoming::Failed(format!("closed the connection before {waiting}"))
            }
            Ok(Some(Err(e))) => Incoming::Failed(self.ws_error(&e)),
            Ok(Some(Ok(Message::Text(text)))) => match parse(text.as_str()) {
                Ok(message) => Incoming::Message(message),
                Err(e) => Incoming::Failed(format!("malformed message ({e})")),
            },
            Ok(Some(Ok(Message::Binary(_)))) => {
                Incoming::Failed("malformed message (a binary frame)".to_owned())
            }
            // pings are answered by the WebSocket layer
            Ok(Some(Ok(_))) => Incoming::Skip,
        }
    }

    async fn read_subscription(
        &self,
        ws: &mut Socket,
        sub: &str,
        max_events: usize,
        events: &mut Vec<Value>,
    ) -> Result<String, String> {
        let start = Instant::now();
        let mut notice = None;
        loop {
            let message = match self.next(ws, start, "EOSE").await {
                Incoming::Message(m) => m,
                Incoming::Skip => continue,
                Incoming::Failed(e) => return Err(with_notice(e, notice.as_deref())),
            };
            match message {
                RelayMessage::Event { sub: s, event } if s == sub => {
                    events.push(event);
                    if events.len() >= max_events {
                        return Ok(format!("stopped after {max_events} events"));
                    }
                }
                RelayMessage::Eose { sub: s } if s == sub => return Ok("EOSE".to_owned()),
                RelayMessage::Closed { sub: s, message } if s == sub => {
                    let message = quoted(&message);
                    return if REFUSALS.iter().any(|p| message.starts_with(p)) {
                        Err(format!("refused the subscription (CLOSED \"{message}\")"))
                    } else {
                        Ok(format!("CLOSED \"{message}\""))
                    };
                }
                RelayMessage::Notice(text) => notice = Some(quoted(&text)),
                _ => {}
            }
        }
    }

    async fn read_ok(&self, ws: &mut Socket, id: &str) -> Result<Ack, String> {
        let start = Instant::now();
        let mut notice = None;
        loop {
            let message = match self.next(ws, start, "OK").await {
                Incoming::Message(m) => m,
                Incoming::Skip => continue,
                Incoming::Failed(e) => return Err(with_notice(e, notice.as_deref())),
            };
            match message {
                RelayMessage::Ok {
                    id: got,
                    accepted,
                    message,
                } if got == id => {
                    return Ok(Ack {
                        accepted,
                        message: quoted(&message),
                    });
                }
                RelayMessage::Notice(text) => notice = Some(quoted(&text)),
                _ => {}
            }
        }
    }

    /// A WebSocket error after the handshake, in one line.
    fn ws_error(&self, e: &tungstenite::Error) -> String {
        match e {
            tungstenite::Error::Capacity(_) => {
                format!("message too large (more than {} bytes)", self.max_message)
            }
            tungstenite::Error::Utf8 => "malformed message (not UTF-8)".to_owned(),
            tungstenite::Error::Protocol(p) => format!("WebSocket protocol error ({p})"),
            tungstenite::Error::Io(io) => format!("connection failed ({io})"),
            other => format!("WebSocket error ({other})"),
        }
    }
}

/// One read step.
enum Incoming {
    Message(RelayMessage),
    Skip,
    Failed(String),
}

fn with_notice(reason: String, notice: Option<&str>) -> String {
    match notice {
        Some(n) => format!("{reason}; last NOTICE \"{n}\""),
        None => reason,
    }
}

/// A failed connection or upgrade, in one line; HTTP 429 and 5xx as the HTTP channels say them
/// (SPEC.md §15.1).
fn handshake_error(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(|r| format!(", retry after {}", quoted(r)))
                .unwrap_or_default();
            if status == 429 {
                format!("rate limited (HTTP 429{retry})")
            } else if status >= 500 {
                format!("server error (HTTP {status}{retry})")
            } else {
                format!("HTTP {status} instead of a WebSocket upgrade")
            }
        }
        tungstenite::Error::Io(io) => format!("cannot connect ({io})"),
        tungstenite::Error::Tls(tls) => format!("TLS failed ({tls})"),
        tungstenite::Error::Url(url) => format!("bad relay URL ({url})"),
        tungstenite::Error::Capacity(c) => format!("WebSocket handshake too large ({c})"),
        other => format!("WebSocket handshake failed ({other})"),
    }
}
