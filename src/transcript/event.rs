//! The event model: what a transcript holds, one [`Event`] per thing that
//! happened, and the kinds of events.

use std::net::SocketAddr;

use serde::Serialize;

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
    /// A replaying server got a command its recording does not hold at
    /// that point (it answered with the recording's miss code).
    ReplayMiss {
        /// The command received.
        command: String,
        /// What the recording expected next, if anything.
        expected: Option<String>,
    },
    /// The oldest ended sessions' events were dropped to keep the
    /// transcript within its limit (recorded with session 0, the server).
    /// Counts and waits still see them; the events themselves are gone
    /// (the CLI's JSON Lines file has them all).
    Dropped {
        /// Sessions whose events were dropped this time.
        sessions: u64,
        /// Events dropped this time.
        events: u64,
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
    pub(super) fn prefix(self) -> &'static str {
        match self {
            Channel::Control => "--",
            Channel::Data => "D>",
        }
    }
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
