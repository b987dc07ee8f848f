//! `kez chat send|send-file|listen|inbox`: encrypted direct messages and files over nostr
//! relays (SPEC.md §16). The work is kez-chat's; this module picks the key, the store and the
//! relays (flags, then the environment, then the config file, then the defaults) and prints.

use std::io::{IsTerminal as _, Write as _};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kez_chat::engine::{Chat, ChatError, ChatEvent, SendProgress, Settings, hex, state_text};
use kez_chat::pool::PoolConfig;
use kez_chat::store::{Direction, Peer};
use kez_core::{Alg, KeyRef, SecretKey};

use super::endpoints::env;
use super::identity;
use crate::cli::{ChatIdentity, ChatInbox, ChatListen, ChatRelays, ChatSend, ChatSendFile};
use crate::output::{self, Done, Failure};

/// Largest config file read, in bytes.
const MAX_CONFIG: usize = 64 << 10;

pub(super) fn send(args: &ChatSend, json: bool) -> Result<Done, Failure> {
    let key = key(&args.identity)?;
    let to = recipient(&args.to)?;
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let chat = open(key, &args.identity, &args.relays, Settings::default())?;
        let _ = chat.resume(&|_| {}).await;
        chat.send_text(&to, &args.text).await
    });
    let report = report.map_err(failure)?;
    let line = if json {
        output::canonical_line(&output::object_text(&[
            ("accepted_by", &report.accepted_by.len().to_string()),
            ("id", &hex(&report.rumor_id)),
            ("state", "sent"),
        ]))
    } else {
        format!(
            "sent {} (accepted by {} relay{})\n",
            hex(&report.rumor_id),
            report.accepted_by.len(),
            if report.accepted_by.len() == 1 {
                ""
            } else {
                "s"
            }
        )
        .into_bytes()
    };
    report_rss();
    Ok(Done::yes(line))
}

pub(super) fn send_file(args: &ChatSendFile, json: bool) -> Result<Done, Failure> {
    let key = key(&args.identity)?;
    let to = recipient(&args.to)?;
    let runtime = runtime()?;
    let bar = progress_bar();
    let report = runtime.block_on(async {
        let chat = open(key, &args.identity, &args.relays, Settings::default())?;
        let _ = chat.resume(&|_| {}).await;
        let bar = &bar;
        chat.send_file(&to, &args.path, &move |p: SendProgress| {
            if let Some(bar) = bar {
                bar.set_length(u64::from(p.total));
                bar.set_position(u64::from(p.done));
            }
        })
        .await
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report.map_err(failure)?;
    let chunks = report.chunk_size.map_or_else(
        || "inline".to_owned(),
        |c| format!("{} chunks of {c} bytes", report.events - 1),
    );
    let line = if json {
        output::canonical_line(&output::object_text(&[
            ("events", &report.events.to_string()),
            ("id", &hex(&report.rumor_id)),
            ("mode", &chunks),
            ("state", "sent"),
        ]))
    } else {
        format!(
            "sent {} ({chunks}, {} events)\n",
            args.path.display(),
            report.events
        )
        .into_bytes()
    };
    report_rss();
    Ok(Done::yes(line))
}

pub(super) fn listen(args: &ChatListen, json: bool) -> Result<Done, Failure> {
    let key = key(&args.identity)?;
    let runtime = runtime()?;
    let mut settings = Settings::default();
    if let Some(idle) = args.resend_after {
        settings.resend_idle = idle;
    }
    let count = args.count;
    let duration = args.duration;
    let result = runtime.block_on(async {
        let chat = open(key, &args.identity, &args.relays, settings)?;
        let mut arrived = 0u64;
        let stop = async move {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        chat.listen(stop, &mut |event: &ChatEvent| {
            print_event(event, json);
            if matches!(
                event,
                ChatEvent::Text { .. }
                    | ChatEvent::FileReady { .. }
                    | ChatEvent::FileFailed { .. }
                    | ChatEvent::Resumed { .. }
            ) {
                arrived += 1;
            }
            if count.is_some_and(|c| arrived >= c) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
    });
    result.map_err(failure)?;
    report_rss();
    Ok(Done::yes(Vec::new()))
}

pub(super) fn inbox(args: &ChatInbox, json: bool) -> Result<Done, Failure> {
    let dir = match (&args.identity.store, env("KEZ_CHAT_STORE")) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => default_store(&key(&args.identity)?)?,
    };
    let store =
        kez_chat::store::Store::open(&dir).map_err(|e| Failure::io_msg(format!("store: {e}")))?;
    let store_err = |e: kez_chat::store::StoreError| Failure::io_msg(format!("store: {e}"));
    let mut out = String::new();
    for conversation in store.conversations().map_err(store_err)? {
        let peer = npub(&conversation.peer);
        if !json {
            out.push_str(&format!("{peer} ({} messages)\n", conversation.messages));
        }
        for m in store.messages(&conversation.peer).map_err(store_err)? {
            let direction = match m.direction {
                Direction::Out => "out",
                Direction::In => "in",
            };
            let what = match (&m.text, &m.attachment) {
                (Some(text), _) => text.clone(),
                (None, Some(a)) if a.filename.is_empty() => "file".to_owned(),
                (None, Some(a)) => format!("file {} ({} bytes)", a.filename, a.size),
                (None, None) => String::new(),
            };
            let state = state_text(&m);
            if json {
                let path = m
                    .attachment
                    .as_ref()
                    .and_then(|a| a.path.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&output::canonical_line(
                    &output::object_text(&[
                        ("at", &m.created_at.to_string()),
                        ("direction", direction),
                        ("message", &what),
                        ("path", &path),
                        ("peer", &peer),
                        ("state", &state),
                    ]),
                )));
            } else {
                out.push_str(&format!(
                    "  {direction:>3}  [{state}]  {}\n",
                    one_line(&what)
                ));
            }
        }
    }
    Ok(Done::yes(out.into_bytes()))
}

fn print_event(event: &ChatEvent, json: bool) {
    let line = match event {
        ChatEvent::Text { from, text } if json => {
            json_line(&[("from", &npub(from)), ("text", text), ("type", "text")])
        }
        ChatEvent::Text { from, text } => format!("{}: {}\n", npub(from), one_line(text)),
        ChatEvent::Progress {
            from,
            filename,
            received,
            total,
            ..
        } if json => json_line(&[
            ("filename", filename.as_deref().unwrap_or("")),
            ("from", &npub(from)),
            ("received", &received.to_string()),
            ("total", &total.to_string()),
            ("type", "progress"),
        ]),
        ChatEvent::Progress {
            from,
            filename,
            received,
            total,
            ..
        } => format!(
            "{}: Receiving {received}/{total}... {}\n",
            npub(from),
            one_line(filename.as_deref().unwrap_or(""))
        ),
        ChatEvent::FileReady { from, path, size } if json => json_line(&[
            ("from", &npub(from)),
            ("path", &path.display().to_string()),
            ("size", &size.to_string()),
            ("type", "file"),
        ]),
        ChatEvent::FileReady { from, path, size } => {
            format!(
                "{}: file saved: {} ({size} bytes)\n",
                npub(from),
                path.display()
            )
        }
        ChatEvent::FileFailed {
            from,
            filename,
            reason,
        } if json => json_line(&[
            ("filename", filename.as_deref().unwrap_or("")),
            ("from", &npub(from)),
            ("reason", reason),
            ("type", "failed"),
        ]),
        ChatEvent::FileFailed {
            from,
            filename,
            reason,
        } => format!(
            "{}: file failed: {} ({reason})\n",
            npub(from),
            one_line(filename.as_deref().unwrap_or(""))
        ),
        ChatEvent::Delivered { message_id } if json => {
            json_line(&[("message", &message_id.to_string()), ("type", "delivered")])
        }
        ChatEvent::Delivered { message_id } => format!("delivered: message {message_id}\n"),
        ChatEvent::ResendRequested { to, missing, .. } if json => json_line(&[
            ("missing", &missing.to_string()),
            ("to", &npub(to)),
            ("type", "resend_requested"),
        ]),
        ChatEvent::ResendRequested { to, missing, .. } => {
            format!("asked {} for {missing} missing chunks\n", npub(to))
        }
        ChatEvent::ResendAnswered { to, chunks, .. } if json => json_line(&[
            ("chunks", &chunks.to_string()),
            ("to", &npub(to)),
            ("type", "resend_answered"),
        ]),
        ChatEvent::ResendAnswered { to, chunks, .. } => {
            format!("sending {chunks} chunks again to {}\n", npub(to))
        }
        ChatEvent::Resumed { message_id } if json => {
            json_line(&[("message", &message_id.to_string()), ("type", "resumed")])
        }
        ChatEvent::Resumed { message_id } => format!("finished sending message {message_id}\n"),
        _ => return,
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(line.as_bytes());
    let _ = stdout.flush();
}

fn json_line(members: &[(&str, &str)]) -> String {
    String::from_utf8_lossy(&output::canonical_line(&output::object_text(members))).into_owned()
}

/// Text on one line: control characters (a sender's newlines, escape sequences) shown escaped.
fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn npub(peer: &Peer) -> String {
    KeyRef::from_bytes(Alg::Bip340, *peer).map_or_else(|_| hex(peer), |k| k.to_string())
}

fn failure(e: ChatError) -> Failure {
    match e {
        ChatError::TooLarge { .. } | ChatError::RelaysTooSmall { .. } | ChatError::File { .. } => {
            Failure::usage(e.to_string())
        }
        _ => Failure::io_msg(e.to_string()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::io_msg(format!("cannot start the async runtime: {e}")))
}

/// Our nostr key: `--key`, else `KEZ_KEY`.
fn key(args: &ChatIdentity) -> Result<SecretKey, Failure> {
    let path = args
        .key
        .clone()
        .or_else(|| env("KEZ_KEY").map(PathBuf::from))
        .ok_or_else(|| Failure::usage("--key: a nostr key file is needed (or KEZ_KEY)"))?;
    let key = identity::load(&path)?;
    if key.public().alg() != Alg::Bip340 {
        return Err(Failure::usage(
            "--key: direct messages need a nostr key (kez identity new --alg nostr)",
        ));
    }
    Ok(key)
}

/// A recipient: `nostr:npub1…`, `npub1…` or 64 hex digits.
fn recipient(text: &str) -> Result<Peer, Failure> {
    let bad = || Failure::usage("--to: expected nostr:npub1..., npub1... or 64 hex digits");
    if let Some(rest) = text.strip_prefix("nostr:") {
        return kez_core::decode_npub(rest).map_err(|_| bad());
    }
    if text.starts_with("npub1") {
        return kez_core::decode_npub(text).map_err(|_| bad());
    }
    let bytes = crate::input::hex32("--to", text).map_err(|_| bad())?;
    KeyRef::from_bytes(Alg::Bip340, bytes).map_err(|_| bad())?;
    Ok(bytes)
}

fn open(
    key: SecretKey,
    identity: &ChatIdentity,
    relays: &ChatRelays,
    settings: Settings,
) -> Result<Chat, ChatError> {
    let dir = match store_dir(identity, &key) {
        Ok(dir) => dir,
        Err(e) => {
            return Err(ChatError::File {
                path: PathBuf::from("."),
                reason: e.message(),
            });
        }
    };
    let pool = match pool_config(relays) {
        Ok(pool) => pool,
        Err(e) => {
            return Err(ChatError::File {
                path: relays.config.clone().unwrap_or_default(),
                reason: e.message(),
            });
        }
    };
    Chat::open(key, &dir, pool, settings)
}

fn store_dir(args: &ChatIdentity, key: &SecretKey) -> Result<PathBuf, Failure> {
    if let Some(dir) = &args.store {
        return Ok(dir.clone());
    }
    if let Some(dir) = env("KEZ_CHAT_STORE") {
        return Ok(PathBuf::from(dir));
    }
    default_store(key)
}

fn default_store(key: &SecretKey) -> Result<PathBuf, Failure> {
    let base = env("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".local").join("share")))
        .ok_or_else(|| Failure::usage("--store: no default (neither XDG_DATA_HOME nor HOME)"))?;
    Ok(base
        .join("kez")
        .join("chat")
        .join(hex(key.public().as_bytes())))
}

/// Relays and pacing: flags, then the environment, then the config file, then the defaults.
fn pool_config(args: &ChatRelays) -> Result<PoolConfig, Failure> {
    let mut config = PoolConfig::default();
    let file = read_config(args.config.as_deref())?;
    let relays: Vec<String> = if !args.relays.is_empty() {
        args.relays.clone()
    } else if let Some(list) = env("KEZ_RELAYS") {
        list.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect()
    } else if !file.relays.is_empty() {
        file.relays
    } else {
        kez_channels::Config::default().relays
    };
    if let Some(bad) = relays
        .iter()
        .find(|r| !(r.starts_with("ws://") || r.starts_with("wss://")))
    {
        return Err(Failure::usage(format!(
            "--relay: expected a ws:// or wss:// URL, got {bad:?}"
        )));
    }
    config.relays = relays;
    match args.rate.or(file.rate) {
        Some(rate) if rate.is_finite() && rate > 0.0 => config.rate = Some(rate),
        Some(0.0) => config.rate = None,
        Some(_) => return Err(Failure::usage("--rate: expected a number ≥ 0")),
        None => {}
    }
    if let Some(timeout) = args.timeout {
        config.timeout = timeout;
    }
    Ok(config)
}

#[derive(Default)]
struct FileConfig {
    relays: Vec<String>,
    rate: Option<f64>,
}

/// The config file: `relay = URL` (repeatable) and `rate = N` lines, `#` comments.
fn read_config(path: Option<&Path>) -> Result<FileConfig, Failure> {
    let (path, explicit) = match path
        .map(Path::to_path_buf)
        .or_else(|| env("KEZ_CONFIG").map(PathBuf::from))
    {
        Some(p) => (p, true),
        None => match env("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".config")))
        {
            Some(dir) => (dir.join("kez").join("chat.conf"), false),
            None => return Ok(FileConfig::default()),
        },
    };
    if !explicit && !path.exists() {
        return Ok(FileConfig::default());
    }
    let text = crate::input::read_input_up_to(&path, MAX_CONFIG)?;
    let text = String::from_utf8(text)
        .map_err(|_| Failure::usage(format!("{}: not UTF-8", path.display())))?;
    let mut config = FileConfig::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            Failure::usage(format!(
                "{}:{}: expected NAME = VALUE",
                path.display(),
                n + 1
            ))
        };
        let (name, value) = line.split_once('=').ok_or_else(bad)?;
        match name.trim() {
            "relay" => config.relays.push(value.trim().to_owned()),
            "rate" => {
                config.rate = Some(value.trim().parse().map_err(|_| {
                    Failure::usage(format!(
                        "{}:{}: rate: expected a number",
                        path.display(),
                        n + 1
                    ))
                })?);
            }
            other => {
                return Err(Failure::usage(format!(
                    "{}:{}: unknown setting {other:?} (relay, rate)",
                    path.display(),
                    n + 1
                )));
            }
        }
    }
    Ok(config)
}

/// A progress bar on a terminal (chunks and ETA), nothing otherwise.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(1);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} events (ETA {eta})",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// With `KEZ_REPORT_RSS` set, the process's peak resident memory on stderr (benchmarks).
fn report_rss() {
    if env("KEZ_REPORT_RSS").is_none() {
        return;
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            let kib: String = line.chars().filter(char::is_ascii_digit).collect();
            eprintln!("peak_rss_kib={kib}");
        }
    }
}
