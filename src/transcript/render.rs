//! Queries and rendering: a [`Transcript`] is a copy of the events with
//! filters, counts and exports, and a stable text form for snapshots in
//! which what changes from run to run becomes a placeholder.

use std::fmt::Write as _;

use serde::Serialize;

use std::sync::Arc;

use super::recorder::Dropped;
use super::{ClosedBy, DataEnd, DataMode, Direction, Event, EventKind};

/// A copy of the recorded events, with filters and a stable rendering.
///
/// A server keeps a bounded number of events (see
/// [`ServerBuilder::max_transcript_events`](crate::ServerBuilder::max_transcript_events)):
/// past it, the oldest ended sessions' events are dropped and a
/// [`EventKind::Dropped`] event says so. [`count`](Self::count) and
/// [`ended`](Self::ended) still see what was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Transcript {
    events: Vec<Event>,
    #[serde(skip)]
    root: Option<String>,
    #[serde(skip)]
    dropped: Arc<Dropped>,
}

impl Transcript {
    pub(crate) fn with_dropped(
        events: Vec<Event>,
        root: Option<String>,
        dropped: Arc<Dropped>,
    ) -> Self {
        Transcript {
            events,
            root,
            dropped,
        }
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
            dropped: self.dropped.clone(),
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
        let kept = self
            .commands()
            .iter()
            .filter(|l| crate::protocol::split(l).0.eq_ignore_ascii_case(verb))
            .count();
        kept + self.dropped.commands(verb)
    }

    /// True once session `id` has ended.
    pub fn ended(&self, id: u64) -> bool {
        self.dropped.has_session(id)
            || self
                .events
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
                mask_event(&mut e);
                e
            })
            .collect();
        Transcript {
            events,
            root: self.root.clone(),
            dropped: self.dropped.clone(),
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
        EventKind::ReplayMiss { command, expected } => vec![match expected {
            Some(e) => format!("** replay miss: {command} (the recording expected {e})"),
            None => format!("** replay miss: {command} (the recorded session had ended)"),
        }],
        EventKind::Dropped { sessions, events } => vec![format!(
            "** transcript limit: dropped the events of {sessions} ended session(s) ({events} events)"
        )],
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

/// Masks the password of a `PASS` command (and drops its wire form).
pub(crate) fn mask_event(e: &mut Event) {
    if let EventKind::Command { line, wire } = &mut e.kind {
        let masked = mask_password(line);
        if masked != *line {
            *line = masked;
            if wire.is_some() {
                *wire = None;
            }
        }
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
