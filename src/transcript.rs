//! The record of everything said: commands, replies, data-channel events,
//! and how each session began and ended.
//!
//! The raw [`Event`]s keep exact text and timestamps; [`Transcript::render`]
//! gives the stable form for snapshots, where what changes from run to run
//! (ports, addresses, times, the temp root, passwords) becomes a placeholder.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// One thing that happened in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// The session, numbered from 1 in connection order.
    pub session: u64,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Which way a data connection was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DataMode {
    /// The client connected to our listener (PASV/EPSV).
    Passive,
    /// We connected to the client (PORT/EPRT).
    Active,
}

/// Which way the bytes of a transfer flowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Direction {
    /// Server to client (RETR, LIST…).
    Sent,
    /// Client to server (STOR, APPE, STOU).
    Received,
}

/// How a data transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DataEnd {
    /// Every byte arrived.
    Complete,
    /// The client sent ABOR.
    Aborted,
    /// The connection or the storage failed.
    Failed,
}

/// Who ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ClosedBy {
    /// The client closed the control connection.
    Client,
    /// The server closed it (QUIT, timeout, shutdown, error).
    Server,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A control connection was accepted.
    Connected {
        /// The client's address.
        peer: SocketAddr,
        /// Our address.
        local: SocketAddr,
    },
    /// A line from the client (Telnet sequences and the CRLF removed).
    Command {
        /// The line.
        line: String,
        /// The bytes exactly as received, escaped (`\r`, `\n`, `\xff`),
        /// when they were anything other than `line` and CRLF: a bare LF,
        /// Telnet sequences. Absent for a well-formed line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wire: Option<String>,
    },
    /// Input that was not a line we could read.
    BadInput {
        /// Why (too long, not UTF-8).
        reason: String,
    },
    /// A reply, with each line as sent (without CRLF).
    Reply {
        /// The reply code.
        code: u16,
        /// The wire lines.
        lines: Vec<String>,
    },
    /// A data connection was established.
    DataOpen {
        /// Passive or active.
        mode: DataMode,
        /// The client's end of it.
        peer: SocketAddr,
    },
    /// A data connection ended.
    DataClose {
        /// Which way the bytes flowed.
        direction: Direction,
        /// How many bytes crossed the wire (for an upload: all of them were
        /// written to storage).
        bytes: u64,
        /// How it ended.
        end: DataEnd,
        /// Why, when the session stopped it for a reason of its own (the
        /// control connection lost, a reset, the shutdown).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A TLS handshake completed on the control or a data connection.
    Tls {
        /// Which connection.
        channel: Channel,
        /// The protocol version, as `TLSv1.3`.
        version: String,
        /// Whether an earlier TLS session was resumed.
        resumed: bool,
    },
    /// A TLS handshake failed (the session or transfer ends).
    TlsFailed {
        /// Which connection.
        channel: Channel,
        /// What went wrong.
        reason: String,
    },
    /// CCC took TLS off the control connection.
    TlsCleared,
    /// A fault fired, in its text form.
    Fault {
        /// The rule, as `RETR#2 drop-data after=1024`.
        rule: String,
    },
    /// A call to the control API that changed the server (recorded with
    /// session 0, the server itself).
    Control {
        /// The call, as `POST /faults RETR#1 drop-data after=1024`.
        request: String,
    },
    /// The session ended.
    Disconnected {
        /// Who closed.
        by: ClosedBy,
        /// Why, in a few words.
        reason: String,
    },
}

/// The connection a TLS event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Channel {
    /// The control connection.
    Control,
    /// A data connection.
    Data,
}

impl Channel {
    fn prefix(self) -> &'static str {
        match self {
            Channel::Control => "--",
            Channel::Data => "D>",
        }
    }
}

/// Collects the events of every session of one server.
pub(crate) struct Recorder {
    enabled: bool,
    events: Mutex<Vec<Event>>,
    /// Wakes blocking waiters on every new event.
    grew: Condvar,
    /// Threads blocked in `wait_blocking`, counted under the `events` lock:
    /// a notification is a system call even with no one waiting, and
    /// recording is on the path of every command.
    blocked: AtomicUsize,
    /// Wakes async waiters on every new event.
    count: watch::Sender<usize>,
    /// Async waiters, counted before they look at the events: as with
    /// `blocked`, no one is woken when no one waits.
    watching: AtomicUsize,
    live: broadcast::Sender<Event>,
}

impl Recorder {
    pub(crate) fn new(enabled: bool) -> Self {
        Recorder {
            enabled,
            events: Mutex::new(Vec::new()),
            grew: Condvar::new(),
            blocked: AtomicUsize::new(0),
            count: watch::Sender::new(0),
            watching: AtomicUsize::new(0),
            live: broadcast::Sender::new(1024),
        }
    }

    pub(crate) fn record(&self, session: u64, kind: EventKind) {
        if !self.enabled {
            return;
        }
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let event = Event { session, at, kind };
        // No subscriber is the common case: then the event is not copied.
        let copy = (self.live.receiver_count() > 0).then(|| event.clone());
        let n = {
            let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            events.push(event);
            events.len()
        };
        if let Some(copy) = copy {
            let _ = self.live.send(copy);
        }
        // A waiter counts itself before it takes its first look under the
        // lock: it either sees this event or is counted here.
        if self.watching.load(Ordering::SeqCst) > 0 {
            self.count.send_replace(n);
        }
        // A waiter counts itself before it sleeps, holding the lock taken
        // above: it either sees this event or is counted here.
        if self.blocked.load(Ordering::SeqCst) > 0 {
            self.grew.notify_all();
        }
    }

    /// Records a server-side disconnect for every session that connected
    /// and has not ended (sessions dropped when the server stopped).
    pub(crate) fn end_open_sessions(&self, reason: &str) {
        let open: Vec<u64> = {
            let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            let mut open = std::collections::BTreeSet::new();
            for e in events.iter() {
                match e.kind {
                    EventKind::Connected { .. } => {
                        open.insert(e.session);
                    }
                    EventKind::Disconnected { .. } => {
                        open.remove(&e.session);
                    }
                    _ => {}
                }
            }
            open.into_iter().collect()
        };
        for id in open {
            self.record(
                id,
                EventKind::Disconnected {
                    by: ClosedBy::Server,
                    reason: reason.to_string(),
                },
            );
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            feed: self.live.subscribe(),
            missed: 0,
        }
    }

    pub(crate) fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Waits until `done` holds for the transcript, or `timeout` passes.
    pub(crate) async fn wait(
        &self,
        timeout: Duration,
        root: Option<&str>,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        let mut changes = self.count.subscribe();
        let _watching = Watching::new(&self.watching);
        let check = || {
            let t = Transcript {
                events: self.snapshot(),
                root: root.map(str::to_string),
            };
            done(&t).then_some(t)
        };
        let waiting = async {
            loop {
                changes.borrow_and_update();
                if let Some(t) = check() {
                    return t;
                }
                if changes.changed().await.is_err() {
                    // The server is gone: nothing more will be recorded.
                    std::future::pending::<()>().await;
                }
            }
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(t) => Ok(t),
            Err(_) => Err(WaitTimeout {
                transcript: Transcript {
                    events: self.snapshot(),
                    root: root.map(str::to_string),
                },
            }),
        }
    }

    /// [`wait`](Self::wait) for a thread outside any runtime (or inside
    /// one: it only blocks the calling thread).
    pub(crate) fn wait_blocking(
        &self,
        timeout: Duration,
        root: Option<&str>,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        let deadline = Instant::now() + timeout;
        let transcript = |events: &Vec<Event>| Transcript {
            events: events.clone(),
            root: root.map(str::to_string),
        };
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let t = transcript(&events);
            if done(&t) {
                return Ok(t);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitTimeout { transcript: t });
            }
            self.blocked.fetch_add(1, Ordering::SeqCst);
            let woken = self.grew.wait_timeout(events, left);
            self.blocked.fetch_sub(1, Ordering::SeqCst);
            events = woken.unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// Counts an async waiter for as long as it waits (a timeout drops it).
struct Watching<'a>(&'a AtomicUsize);

impl<'a> Watching<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Watching(count)
    }
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A live feed of events as they are recorded, from
/// [`Server::subscribe`](crate::Server::subscribe).
///
/// Events recorded before the subscription are not replayed. A subscriber
/// that falls more than 1024 events behind skips the oldest ones; it learns
/// how many from [`missed`](Subscription::missed) (the full record is always
/// in [`Server::transcript`](crate::Server::transcript)).
#[derive(Debug)]
pub struct Subscription {
    feed: broadcast::Receiver<Event>,
    missed: u64,
}

impl Subscription {
    /// The next event, waiting for it; `None` once the server has stopped
    /// and every event has been taken.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            match self.feed.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        loop {
            match self.feed.try_recv() {
                Ok(e) => return Some(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed += n,
                Err(_) => return None,
            }
        }
    }

    /// How many events this subscriber skipped because it fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// A wait on the transcript ran out of time; holds what had been recorded.
/// Its `Display` and `Debug` show the rendered transcript, so `.unwrap()`
/// on a failed wait prints what the client did, readably.
#[derive(Clone, thiserror::Error)]
#[error("timed out waiting on the transcript; recorded so far:\n{transcript}")]
pub struct WaitTimeout {
    transcript: Transcript,
}

impl std::fmt::Debug for WaitTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl WaitTimeout {
    pub(crate) fn new(transcript: Transcript) -> Self {
        WaitTimeout { transcript }
    }

    /// The transcript at the time of the timeout.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The transcript, owned.
    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }
}

/// A copy of the recorded events, with filters and a stable rendering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Transcript {
    events: Vec<Event>,
    #[serde(skip)]
    root: Option<String>,
}

impl Transcript {
    pub(crate) fn new(events: Vec<Event>, root: Option<String>) -> Self {
        Transcript { events, root }
    }

    /// Every event, in the order recorded.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Only the events of session `id` (numbered from 1).
    pub fn session(&self, id: u64) -> Transcript {
        Transcript {
            events: self
                .events
                .iter()
                .filter(|e| e.session == id)
                .cloned()
                .collect(),
            root: self.root.clone(),
        }
    }

    /// The ids of the sessions that appear, in order (not 0, the server's
    /// own events).
    pub fn sessions(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .events
            .iter()
            .map(|e| e.session)
            .filter(|id| *id != 0)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The command lines, raw (passwords included).
    pub fn commands(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Command { line, .. } => Some(line.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The replies as `(code, lines)`.
    pub fn replies(&self) -> Vec<(u16, &[String])> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Reply { code, lines } => Some((*code, lines.as_slice())),
                _ => None,
            })
            .collect()
    }

    /// Just the reply codes, in order.
    pub fn codes(&self) -> Vec<u16> {
        self.replies().into_iter().map(|(c, _)| c).collect()
    }

    /// How many times a command with this verb (case-insensitive) arrived.
    pub fn count(&self, verb: &str) -> usize {
        self.commands()
            .iter()
            .filter(|l| crate::protocol::split(l).0.eq_ignore_ascii_case(verb))
            .count()
    }

    /// True once session `id` has ended.
    pub fn ended(&self, id: u64) -> bool {
        self.events
            .iter()
            .any(|e| e.session == id && matches!(e.kind, EventKind::Disconnected { .. }))
    }

    /// The same transcript with passwords masked (`PASS ******`), as the
    /// rendered form shows them: what to export where others can read it.
    pub fn masked(&self) -> Transcript {
        let events = self
            .events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let EventKind::Command { line, wire } = &mut e.kind {
                    let masked = mask_password(line);
                    if masked != *line {
                        *line = masked;
                        if wire.is_some() {
                            *wire = None;
                        }
                    }
                }
                e
            })
            .collect();
        Transcript {
            events,
            root: self.root.clone(),
        }
    }

    /// One JSON object per line (JSON Lines), passwords masked as in
    /// [`masked`](Self::masked): the form to write where others read it (a
    /// CI artifact).
    pub fn to_jsonl(&self) -> String {
        self.masked().to_jsonl_unmasked()
    }

    /// [`to_jsonl`](Self::to_jsonl) with passwords as they were sent.
    pub fn to_jsonl_unmasked(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            if let Ok(line) = serde_json::to_string(e) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// The stable text form, session by session, for snapshots.
    ///
    /// ```text
    /// #1 -- connected
    /// #1 S> 220 ftpfixture ready
    /// #1 C> USER admin
    /// #1 S> 331 Password required for admin
    /// #1 C> PASS ******
    /// #1 C> EPSV
    /// #1 S> 229 Entering Extended Passive Mode (|||<port>|)
    /// #1 D> open (passive)
    /// #1 D> sent 12 bytes
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::new();
        // The server's own events (control API calls) first, in order.
        for e in self.events.iter().filter(|e| e.session == 0) {
            for line in render_event(&e.kind) {
                let line = normalise(&line, self.root.as_deref(), &[]);
                let _ = writeln!(out, "#0 {line}");
            }
        }
        for id in self.sessions() {
            let mut addrs: Vec<String> = Vec::new();
            for e in self.events.iter().filter(|e| e.session == id) {
                if let EventKind::Connected { peer, local } = &e.kind {
                    addrs = vec![peer.ip().to_string(), local.ip().to_string()];
                }
                for line in render_event(&e.kind) {
                    let line = normalise(&line, self.root.as_deref(), &addrs);
                    let _ = writeln!(out, "#{id} {line}");
                }
            }
        }
        out
    }
}

/// The rendered form ([`Transcript::render`]).
impl std::fmt::Display for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

fn render_event(kind: &EventKind) -> Vec<String> {
    match kind {
        EventKind::Connected { .. } => vec!["-- connected".into()],
        EventKind::Command { line, wire } => {
            vec![format!("C> {}{}", mask_command(line), framing_note(wire))]
        }
        EventKind::BadInput { reason } => vec![format!("C> <{reason}>")],
        EventKind::Reply { lines, .. } => lines
            .iter()
            .map(|l| format!("S> {}", mask_reply(l)))
            .collect(),
        EventKind::DataOpen { mode, .. } => {
            vec![format!(
                "D> open ({})",
                if *mode == DataMode::Passive {
                    "passive"
                } else {
                    "active"
                }
            )]
        }
        EventKind::DataClose {
            direction,
            bytes,
            end,
            reason,
        } => {
            let verb = if *direction == Direction::Sent {
                "sent"
            } else {
                "received"
            };
            // Only a complete transfer has a byte count that is the same on
            // every run; where a transfer stopped depends on timing.
            let line = match end {
                DataEnd::Complete => format!("D> {verb} {bytes} bytes"),
                DataEnd::Aborted => "D> aborted".to_string(),
                DataEnd::Failed => "D> failed".to_string(),
            };
            vec![match reason {
                Some(why) => format!("{line} ({why})"),
                None => line,
            }]
        }
        EventKind::Tls {
            channel,
            version,
            resumed,
        } => vec![format!(
            "{} TLS {version}{}",
            channel.prefix(),
            if *resumed { " (resumed)" } else { "" }
        )],
        EventKind::TlsFailed { channel, reason } => {
            vec![format!("{} TLS failed: {reason}", channel.prefix())]
        }
        EventKind::TlsCleared => vec!["-- TLS cleared (CCC)".into()],
        EventKind::Fault { rule } => vec![format!("!! fault {rule}")],
        EventKind::Control { request } => vec![format!("** {request}")],
        EventKind::Disconnected { by, reason } => vec![format!(
            "-- closed by {} ({reason})",
            if *by == ClosedBy::Client {
                "client"
            } else {
                "server"
            }
        )],
    }
}

/// How a line's bytes differed from the line and CRLF, for the rendered
/// form (the raw `wire` may hold a password or an address).
fn framing_note(wire: &Option<String>) -> String {
    let Some(wire) = wire else {
        return String::new();
    };
    let mut notes = Vec::new();
    if wire.contains("\\xff") {
        notes.push("Telnet bytes");
    }
    if !wire.ends_with("\\r\\n") {
        notes.push(if wire.ends_with("\\n") {
            "bare LF"
        } else {
            "no line end"
        });
    }
    if notes.is_empty() {
        notes.push("other bytes");
    }
    format!("  [{}]", notes.join(", "))
}

/// Escapes bytes for the record: printable ASCII as is, `\r`, `\n`, `\t`
/// and `\\` by name, anything else as `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

fn mask_password(line: &str) -> String {
    match crate::protocol::split(line) {
        (verb, Some(_)) if verb == "PASS" => "PASS ******".to_string(),
        _ => line.to_string(),
    }
}

fn mask_command(line: &str) -> String {
    let (verb, arg) = crate::protocol::split(line);
    match (&*verb, arg) {
        ("PASS", Some(_)) => format!("{} ******", &line[..4]),
        ("PORT", Some(_)) | ("EPRT", Some(_)) => format!("{} <addr>", &line[..4]),
        _ => line.to_string(),
    }
}

fn mask_reply(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("227 ") {
        if let (Some(open), Some(close)) = (rest.find('('), rest.rfind(')')) {
            return format!("227 {}(<addr>){}", &rest[..open], &rest[close + 1..]);
        }
    }
    if let Some(rest) = line.strip_prefix("229 ") {
        if let Some(open) = rest.find("(|||") {
            if let Some(close) = rest[open..].find("|)") {
                return format!(
                    "229 {}(|||<port>|){}",
                    &rest[..open],
                    &rest[open + close + 2..]
                );
            }
        }
    }
    // MDTM: "213 YYYYMMDDHHMMSS"
    if let Some(rest) = line.strip_prefix("213 ") {
        if rest.len() >= 14 && rest.bytes().take(14).all(|b| b.is_ascii_digit()) {
            return "213 <time>".to_string();
        }
    }
    mask_dates(&mask_modify(line))
}

/// `modify=YYYYMMDDHHMMSS` (MLST) → `modify=<time>`.
fn mask_modify(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("modify=") {
        let after = &rest[i + 7..];
        let digits = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        out.push_str(&rest[..i + 7]);
        if digits >= 14 {
            out.push_str("<time>");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `ls -l` dates (`Nov 24 10:00`, `Mar  1  2025`) → `<date>`.
fn mask_dates(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < b.len() {
        if i + 12 <= b.len() && line.is_char_boundary(i) && line.is_char_boundary(i + 12) {
            let cand = &line[i..i + 12];
            if is_ls_date(cand) {
                out.push_str("<date>");
                i += 12;
                continue;
            }
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn is_ls_date(s: &str) -> bool {
    let b = s.as_bytes();
    let month = crate::timeval::MONTHS.contains(&&s[..3]);
    let day = b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' ';
    let time = b[7].is_ascii_digit()
        && b[8].is_ascii_digit()
        && b[9] == b':'
        && b[10].is_ascii_digit()
        && b[11].is_ascii_digit();
    let year = b[7] == b' ' && b[8..12].iter().all(u8::is_ascii_digit);
    month && day && (time || year)
}

fn normalise(line: &str, root: Option<&str>, addrs: &[String]) -> String {
    let mut s = line.to_string();
    if let Some(root) = root {
        s = s.replace(root, "<root>");
    }
    for a in addrs {
        s = s.replace(a.as_str(), "<ip>");
    }
    s
}

/// A handle a session uses to record its own events.
#[derive(Clone)]
pub(crate) struct SessionLog {
    pub id: u64,
    pub recorder: Arc<Recorder>,
}

impl SessionLog {
    pub(crate) fn record(&self, kind: EventKind) {
        self.recorder.record(self.id, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_what_varies() {
        assert_eq!(
            mask_reply("227 Entering Passive Mode (127,0,0,1,200,13)"),
            "227 Entering Passive Mode (<addr>)"
        );
        assert_eq!(
            mask_reply("229 Entering Extended Passive Mode (|||40001|)"),
            "229 Entering Extended Passive Mode (|||<port>|)"
        );
        assert_eq!(mask_reply("213 20261124120000"), "213 <time>");
        assert_eq!(mask_reply("213 42"), "213 42");
        assert_eq!(
            mask_reply(" type=file;size=3;modify=20261124120000; /a"),
            " type=file;size=3;modify=<time>; /a"
        );
        assert_eq!(
            mask_reply(" -rw-r--r--   1 ftp      ftp     3 Nov 24 10:00 a.txt"),
            " -rw-r--r--   1 ftp      ftp     3 <date> a.txt"
        );
        assert_eq!(
            mask_reply(" drwxr-xr-x 2 ftp ftp 0 Mar  1  2025 d"),
            " drwxr-xr-x 2 ftp ftp 0 <date> d"
        );
        assert_eq!(mask_command("PASS secret"), "PASS ******");
        assert_eq!(mask_command("PORT 127,0,0,1,4,1"), "PORT <addr>");
        assert_eq!(mask_command("EPRT |1|127.0.0.1|5000|"), "EPRT <addr>");
    }
}
