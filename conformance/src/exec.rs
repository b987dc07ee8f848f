//! Running one command of the implementation: its own process group, stdin fed from a
//! thread, stdout and stderr drained by threads and capped, and a deadline after which the
//! whole group is killed. Nothing the child does (hang, crash, flood, close its pipes, leave
//! background processes behind) can stop or panic the runner.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Captured bytes per stream; the rest is drained and dropped.
pub(crate) const MAX_CAPTURE: usize = 4 << 20;
/// How long to wait for the pipes and the exit status once the group was killed.
const GRACE: Duration = Duration::from_secs(2);

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Termination {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it (the number).
    Signaled(i32),
    /// It, or a process holding its output pipes open, outlived the deadline; the group was
    /// killed.
    TimedOut,
}

/// What a run produced.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) termination: Termination,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// Whether stdout was longer than [`MAX_CAPTURE`] (and cut there).
    pub(crate) stdout_truncated: bool,
}

/// One stream's bytes, and whether it was cut.
type Captured = (Vec<u8>, bool);

enum Event {
    Exit(io::Result<ExitStatus>),
    Stdout(Captured),
    Stderr(Captured),
}

/// Runs `program args` with `stdin` (or an empty, closed stdin) and waits at most `timeout`.
///
/// # Errors
///
/// Only when the process cannot be started (or the runner cannot start a helper thread);
/// everything the process itself does is in the [`Output`].
pub(crate) fn run(
    program: &str,
    args: &[OsString],
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> io::Result<Output> {
    let deadline = Instant::now() + timeout;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // its own group, so a timeout kills its children too
        .process_group(0);
    let mut child = command.spawn()?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let started = start_helpers(&mut child, stdin, &tx);
    let waiter = tx.clone();
    let started = started.and_then(|()| {
        thread::Builder::new()
            .name("kez-conformance-wait".into())
            .spawn(move || {
                let _ = waiter.send(Event::Exit(child.wait()));
            })
            .map(drop)
    });
    drop(tx);
    if let Err(e) = started {
        kill_group(pid);
        return Err(e);
    }
    Ok(collect(&rx, pid, deadline))
}

/// Starts the stdin writer and the two pipe readers.
fn start_helpers(
    child: &mut std::process::Child,
    stdin: Option<Vec<u8>>,
    tx: &mpsc::Sender<Event>,
) -> io::Result<()> {
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        // a child that never reads its stdin only blocks this thread, which ends with EPIPE
        // (Rust ignores SIGPIPE) once the child is gone
        thread::Builder::new()
            .name("kez-conformance-stdin".into())
            .spawn(move || {
                let _ = pipe.write_all(&data);
            })?;
    }
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        thread::Builder::new()
            .name("kez-conformance-stdout".into())
            .spawn(move || {
                let _ = tx.send(Event::Stdout(drain(out)));
            })?;
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        thread::Builder::new()
            .name("kez-conformance-stderr".into())
            .spawn(move || {
                let _ = tx.send(Event::Stderr(drain(err)));
            })?;
    }
    Ok(())
}

/// Reads `r` to its end, keeping the first [`MAX_CAPTURE`] bytes.
fn drain(mut r: impl Read) -> Captured {
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = MAX_CAPTURE - kept.len();
                let read = buf.get(..n).unwrap_or_default();
                if read.len() > room {
                    truncated = true;
                }
                kept.extend_from_slice(read.get(..room.min(read.len())).unwrap_or_default());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (kept, truncated)
}

/// Waits for the exit status and both streams until `deadline`; past it kills the group and
/// waits a little more.
fn collect(rx: &mpsc::Receiver<Event>, pid: u32, deadline: Instant) -> Output {
    let mut status = None;
    let mut stdout = None;
    let mut stderr = None;
    let mut timed_out = false;
    let mut limit = deadline;
    while status.is_none() || stdout.is_none() || stderr.is_none() {
        let left = limit.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Exit(s)) => status = Some(s),
            Ok(Event::Stdout(c)) => stdout = Some(c),
            Ok(Event::Stderr(c)) => stderr = Some(c),
            Err(mpsc::RecvTimeoutError::Timeout) if !timed_out => {
                timed_out = true;
                kill_group(pid);
                limit = Instant::now() + GRACE;
            }
            // helpers stuck even after the kill (a process that left the group holds a pipe),
            // or gone: give up on them
            Err(_) => break,
        }
    }
    let termination = match status {
        _ if timed_out => Termination::TimedOut,
        Some(Ok(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => Termination::Exited(code),
            (None, Some(sig)) => Termination::Signaled(sig),
            (None, None) => Termination::TimedOut,
        },
        Some(Err(_)) | None => Termination::TimedOut,
    };
    let (stdout, stdout_truncated) = stdout.unwrap_or_default();
    let (stderr, _) = stderr.unwrap_or_default();
    Output {
        termination,
        stdout,
        stderr,
        stdout_truncated,
    }
}

/// SIGKILL to the process group `pid` (the child made itself its leader).
fn kill_group(pid: u32) {
    // never 0 or 1: kill(0) and kill(-1) would hit the runner's own group or every process
    let Some(pid) = i32::try_from(pid)
        .ok()
        .filter(|&p| p > 1)
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

/// The conventional name of signal `sig` (for messages).
#[must_use]
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal",
    }
}
