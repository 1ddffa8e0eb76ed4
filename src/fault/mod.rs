//! Fault injection: a matcher (which command, which occurrence, which
//! session) plus an action (what goes wrong).
//!
//! Faults are added on the builder or while the server runs; each firing is
//! recorded in the transcript as `!! fault ...`, in the same text form that
//! [`Fault::from_str`](std::str::FromStr) parses:
//!
//! ```
//! use ftpfixture::Fault;
//! let a: Fault = "RETR#2 drop-data after=1024".parse().unwrap();
//! let b = Fault::on("RETR").nth(2).drop_data_after(1024);
//! assert_eq!(a, b);
//! assert_eq!(b.to_string(), "RETR#2 drop-data after=1024");
//! ```

mod data;
pub(crate) mod parse;
mod quirk;

pub(crate) use data::{FaultySink, FaultyStream};
pub use parse::FaultParseError;
pub(crate) use quirk::{rewrite_listing, rewrite_reply};

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) use crate::matcher::CommandContext as Context;
use crate::matcher::{quote, Matcher};
pub(crate) use crate::matcher::{LoginState, Occurrence, CONNECT};

/// One scripted failure: which commands it applies to, and what happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) matcher: Matcher,
    pub(crate) action: Action,
}

/// The pause between the pieces of a split reply, unless a rule says
/// otherwise: long enough that each piece is its own read on the client.
pub(crate) const SPLIT_PAUSE: Duration = Duration::from_millis(20);

/// What a fault does. Built through the methods of [`Fault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Reply with this instead of executing the command.
    Reply { code: u16, lines: Vec<String> },
    /// Execute the command, then send this as its final reply instead.
    ReplyAfter { code: u16, text: String },
    /// Delay every reply to the command (`jitter` adds up to that much more).
    Delay { delay: Duration, jitter: Duration },
    /// Write each reply in pieces of this many bytes, pausing between them.
    Split { bytes: usize, pause: Duration },
    /// Close the control connection at once, with no reply.
    Close,
    /// Execute and reply, then close the control connection.
    CloseAfterReply,
    /// Reply 421 and close.
    Shutdown,
    /// Stop reading the control connection: no reply, ever.
    Stall,
    /// A fault on the data connection of a transfer command.
    Data(DataFault),
    /// TLS: fail the handshake (AUTH: the control channel; a data command
    /// under PROT P: its data connection).
    TlsFail,
    /// A quirk of a real server that breaks client parsers.
    Quirk(Quirk),
}

/// Faults on a transfer's data connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataFault {
    /// Never accept the passive connection (or never connect in active
    /// mode); the command gets 425 after the data timeout.
    Never,
    /// Close after `after` bytes (0: before any byte); with `reset`, with a
    /// TCP RST instead of a FIN. The command gets 426.
    Drop { after: u64, reset: bool },
    /// Open the connection and send nothing (until ABOR, or 426 after the
    /// data timeout).
    Stall,
    /// At most this many bytes per second.
    Throttle { bytes_per_sec: u64 },
    /// Flip the byte at this offset; still 226.
    Corrupt { at: u64 },
    /// Send only this many bytes and still reply 226 (a lying server).
    Truncate { at: u64 },
    /// Send this many bytes more than the file holds (more than SIZE said).
    Extra { bytes: u64 },
    /// Hold the connection open this long after the last byte before
    /// closing it (toxiproxy's slow_close).
    SlowClose { delay: Duration },
    /// Move the data in pieces of at most `bytes`, each its own write
    /// (its own TCP segment), with `pause` between them (toxiproxy's slicer).
    Slice { bytes: usize, pause: Duration },
    /// Wait this long after the data connection opens before the first
    /// byte moves (toxiproxy's latency, on the data channel).
    Delay { delay: Duration },
    /// Uploads: fail as if the disk filled after this many bytes (452).
    DiskFull { after: u64 },
    /// Uploads: take every byte, then fail to store them (451).
    FailAfterData,
}

/// Quirks of real servers, as named presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// A multi-line reply whose last line has a different code.
    MultilineMismatch,
    /// A 227 reply whose address octets are out of range (over 255).
    PasvOutOfRange,
    /// EPSV answered in the PASV format (227).
    EpsvAs227,
    /// A trailing period after the 229 reply's parenthesis.
    EpsvTrailingPeriod,
    /// LIST in the Windows/IIS (DOS) format.
    DosListing,
    /// LIST lines no parser can read.
    GarbageListing,
    /// An extra name in the listing that is not valid UTF-8 (Latin-1).
    NonUtf8Names,
    /// A data command while a transfer is running gets 425 instead of
    /// waiting for it.
    BusyData,
}

impl Quirk {
    /// The preset's name in the text form.
    pub fn name(self) -> &'static str {
        match self {
            Quirk::MultilineMismatch => "multiline-mismatch",
            Quirk::PasvOutOfRange => "pasv-out-of-range",
            Quirk::EpsvAs227 => "epsv-227",
            Quirk::EpsvTrailingPeriod => "epsv-period",
            Quirk::DosListing => "dos-list",
            Quirk::GarbageListing => "garbage-list",
            Quirk::NonUtf8Names => "non-utf8-names",
            Quirk::BusyData => "busy-data",
        }
    }

    /// Every preset.
    pub const ALL: &'static [Quirk] = &[
        Quirk::MultilineMismatch,
        Quirk::PasvOutOfRange,
        Quirk::EpsvAs227,
        Quirk::EpsvTrailingPeriod,
        Quirk::DosListing,
        Quirk::GarbageListing,
        Quirk::NonUtf8Names,
        Quirk::BusyData,
    ];
}

/// Starts a fault; finish it with an action method.
#[derive(Debug, Clone, Default)]
#[must_use = "a matcher does nothing until it gets an action"]
pub struct FaultBuilder {
    matcher: Matcher,
}

impl Fault {
    /// Faults for one command (case-insensitive, e.g. `"RETR"`). The name
    /// `"CONNECT"` stands for the connection itself: its actions replace,
    /// delay or split the greeting (a reply code of 400 or more instead of
    /// it also closes the connection).
    pub fn on(verb: &str) -> FaultBuilder {
        Fault::matching(Matcher::command(verb))
    }

    /// Faults for every command (`*` in the text form).
    pub fn any() -> FaultBuilder {
        Fault::matching(Matcher::any())
    }

    /// Faults for the commands a [`Matcher`] selects (the same matcher an
    /// [`Expectation`](crate::Expectation) takes).
    pub fn matching(matcher: Matcher) -> FaultBuilder {
        FaultBuilder { matcher }
    }

    /// Which commands the fault applies to.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }
}

impl FaultBuilder {
    /// Only when the argument is this (exact, or a glob with `*`, `?`).
    pub fn arg(mut self, pattern: &str) -> Self {
        self.matcher = self.matcher.arg(pattern);
        self
    }

    /// Only the nth matching command (1-based), counted across all sessions
    /// from when the rule is added (a rule added after two RETRs fires on
    /// the nth RETR after it). Text form: `VERB#N`.
    pub fn nth(mut self, n: u64) -> Self {
        self.matcher = self.matcher.nth(n);
        self
    }

    /// Only the first `n` matching commands; after that the server behaves
    /// (for testing retry logic). Text form: `first=N`.
    pub fn first(mut self, n: u64) -> Self {
        self.matcher = self.matcher.first(n);
        self
    }

    /// Only in this session (1 is the first connection).
    pub fn session(mut self, id: u64) -> Self {
        self.matcher = self.matcher.session(id);
        self
    }

    /// Only for this logged-in user (or the name given to USER).
    pub fn user(mut self, name: &str) -> Self {
        self.matcher = self.matcher.user(name);
        self
    }

    /// Only before a successful login.
    pub fn before_login(mut self) -> Self {
        self.matcher = self.matcher.before_login();
        self
    }

    /// Only after a successful login.
    pub fn after_login(mut self) -> Self {
        self.matcher = self.matcher.after_login();
        self
    }

    fn with(self, action: Action) -> Fault {
        Fault {
            matcher: self.matcher,
            action,
        }
    }

    /// Replies with `code text` instead of executing the command.
    pub fn reply(self, code: u16, text: &str) -> Fault {
        self.with(Action::Reply {
            code,
            lines: vec![text.to_string()],
        })
    }

    /// Replies with a multi-line reply (first line, middle lines, last
    /// line) instead of executing the command.
    pub fn reply_lines(self, code: u16, lines: &[&str]) -> Fault {
        let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        self.with(Action::Reply { code, lines })
    }

    /// Executes the command, then sends `code text` as its final reply.
    pub fn reply_after(self, code: u16, text: &str) -> Fault {
        self.with(Action::ReplyAfter {
            code,
            text: text.to_string(),
        })
    }

    /// Delays each reply to the command.
    pub fn delay(self, delay: Duration) -> Fault {
        self.delay_jitter(delay, Duration::ZERO)
    }

    /// Delays each reply by `delay` plus up to `jitter` more (a fixed
    /// pseudo-random sequence, so runs repeat).
    pub fn delay_jitter(self, delay: Duration, jitter: Duration) -> Fault {
        self.with(Action::Delay { delay, jitter })
    }

    /// Writes each reply in pieces of `bytes` bytes (so lines are split
    /// mid-way), with a short pause between pieces.
    pub fn split_reply(self, bytes: usize) -> Fault {
        self.with(Action::Split {
            bytes: bytes.max(1),
            pause: SPLIT_PAUSE,
        })
    }

    /// Closes the control connection at once, without replying.
    pub fn close(self) -> Fault {
        self.with(Action::Close)
    }

    /// Executes and replies, then closes the control connection.
    pub fn close_after_reply(self) -> Fault {
        self.with(Action::CloseAfterReply)
    }

    /// Replies `421` and closes the control connection.
    pub fn shutdown(self) -> Fault {
        self.with(Action::Shutdown)
    }

    /// Stops reading the control connection: the command is never answered.
    pub fn stall(self) -> Fault {
        self.with(Action::Stall)
    }

    /// Never accepts the passive data connection (never connects in active
    /// mode); the command gets `425` after the data timeout.
    pub fn never_connect_data(self) -> Fault {
        self.with(Action::Data(DataFault::Never))
    }

    /// Closes the data connection (FIN) after `bytes` bytes; 0 closes it
    /// before any byte. The command gets `426`.
    pub fn drop_data_after(self, bytes: u64) -> Fault {
        self.with(Action::Data(DataFault::Drop {
            after: bytes,
            reset: false,
        }))
    }

    /// Resets the data connection (RST) after `bytes` bytes; `426`.
    pub fn reset_data_after(self, bytes: u64) -> Fault {
        self.with(Action::Data(DataFault::Drop {
            after: bytes,
            reset: true,
        }))
    }

    /// Opens the data connection and sends nothing, until ABOR or the data
    /// timeout (`426`).
    pub fn stall_data(self) -> Fault {
        self.with(Action::Data(DataFault::Stall))
    }

    /// Limits the data connection to `bytes_per_sec`.
    pub fn throttle(self, bytes_per_sec: u64) -> Fault {
        self.with(Action::Data(DataFault::Throttle {
            bytes_per_sec: bytes_per_sec.max(1),
        }))
    }

    /// Flips the byte at `offset` of the data sent; still `226`.
    pub fn corrupt_at(self, offset: u64) -> Fault {
        self.with(Action::Data(DataFault::Corrupt { at: offset }))
    }

    /// Sends only `bytes` bytes, then replies `226` anyway.
    pub fn truncate_at(self, bytes: u64) -> Fault {
        self.with(Action::Data(DataFault::Truncate { at: bytes }))
    }

    /// Sends `bytes` bytes more than the file holds; `226`.
    pub fn extra_bytes(self, bytes: u64) -> Fault {
        self.with(Action::Data(DataFault::Extra { bytes }))
    }

    /// Holds the data connection open for `delay` after the last byte
    /// before closing it; the `226` comes after the close.
    pub fn slow_close(self, delay: Duration) -> Fault {
        self.with(Action::Data(DataFault::SlowClose { delay }))
    }

    /// Moves the data in pieces of at most `bytes` bytes, each its own TCP
    /// segment, with `pause` between them (toxiproxy's slicer): exercises a
    /// client's reassembly of short reads, on downloads and listings.
    pub fn slice_data(self, bytes: usize, pause: Duration) -> Fault {
        self.with(Action::Data(DataFault::Slice {
            bytes: bytes.max(1),
            pause,
        }))
    }

    /// Waits `delay` after the data connection opens before the first byte
    /// moves (time to first byte), then transfers normally. On uploads the
    /// server does not read for that long.
    pub fn delay_data(self, delay: Duration) -> Fault {
        self.with(Action::Data(DataFault::Delay { delay }))
    }

    /// Uploads fail as if the disk filled after `bytes` bytes (`452`).
    pub fn disk_full_after(self, bytes: u64) -> Fault {
        self.with(Action::Data(DataFault::DiskFull { after: bytes }))
    }

    /// Uploads take every byte, then fail to store them (`451`).
    pub fn fail_after_data(self) -> Fault {
        self.with(Action::Data(DataFault::FailAfterData))
    }

    /// Fails the TLS handshake: after `AUTH TLS` on the control channel, or
    /// on the data connection of a command under `PROT P`.
    pub fn fail_tls(self) -> Fault {
        self.with(Action::TlsFail)
    }

    /// Behaves like a real server with this quirk.
    pub fn quirk(self, quirk: Quirk) -> Fault {
        self.with(Action::Quirk(quirk))
    }
}

/// What a fault's firing changes about the current command.
#[derive(Debug)]
pub(crate) struct Fired {
    pub rules: Vec<String>,
    /// The first action that replaces execution, if any.
    pub instead: Option<Action>,
    pub reply_after: Option<(u16, String)>,
    pub delay: Option<Duration>,
    pub split: Option<(usize, Duration)>,
    pub close_after_reply: bool,
    pub data: Option<DataFault>,
    pub tls_fail: bool,
    pub quirks: Vec<Quirk>,
}

impl Fired {
    /// Nothing fired.
    pub(crate) const NOTHING: Fired = Fired {
        rules: Vec::new(),
        instead: None,
        reply_after: None,
        delay: None,
        split: None,
        close_after_reply: false,
        data: None,
        tls_fail: false,
        quirks: Vec::new(),
    };

    /// True when no fault fired (or none that changes anything).
    pub(crate) fn is_nothing(&self) -> bool {
        // Spelled out so that a new field cannot be forgotten here.
        let Fired {
            rules,
            instead,
            reply_after,
            delay,
            split,
            close_after_reply,
            data,
            tls_fail,
            quirks,
        } = self;
        rules.is_empty()
            && instead.is_none()
            && reply_after.is_none()
            && delay.is_none()
            && split.is_none()
            && !close_after_reply
            && data.is_none()
            && !tls_fail
            && quirks.is_empty()
    }

    pub(crate) fn has(&self, quirk: Quirk) -> bool {
        self.quirks.contains(&quirk)
    }
}

impl Default for Fired {
    fn default() -> Self {
        Fired::NOTHING
    }
}

/// A fault with its counters.
#[derive(Debug)]
struct Armed {
    id: u64,
    fault: Fault,
    /// Matching commands seen (the occurrence count).
    seen: AtomicU64,
    /// Times the fault fired.
    fired: AtomicU64,
}

/// The faults of one server; shared by its sessions and the handle.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    faults: Mutex<Vec<Arc<Armed>>>,
    /// The faults given at start, which a reset brings back.
    initial: Vec<Fault>,
    next_id: AtomicU64,
    jitter: AtomicU64,
}

/// A fault added to a running server: its id, how often it fired, and a way
/// to remove it. Returned by [`Server::inject`](crate::Server::inject) and
/// listed by [`Server::faults`](crate::Server::faults). Cloning it gives
/// another handle on the same fault.
#[derive(Debug, Clone)]
pub struct FaultHandle {
    armed: Arc<Armed>,
    set: std::sync::Weak<FaultSet>,
}

impl FaultHandle {
    /// The fault's id, unique in its server (1, 2, … in the order added).
    pub fn id(&self) -> u64 {
        self.armed.id
    }

    /// The fault itself.
    pub fn fault(&self) -> &Fault {
        &self.armed.fault
    }

    /// How many times it has fired so far.
    pub fn times_fired(&self) -> u64 {
        self.armed.fired.load(Ordering::Relaxed)
    }

    /// Removes the fault from the server: it fires no more, for commands
    /// that arrive from now on. True when it was still there.
    pub fn remove(&self) -> bool {
        match self.set.upgrade() {
            Some(set) => {
                let mut faults = set.lock();
                let before = faults.len();
                faults.retain(|a| !Arc::ptr_eq(a, &self.armed));
                faults.len() != before
            }
            None => false,
        }
    }
}

/// A fault that is removed when this guard is dropped, like wiremock's
/// `MockGuard`: returned by [`Server::inject_scoped`](crate::Server::inject_scoped).
#[derive(Debug)]
#[must_use = "the fault is removed as soon as the guard is dropped"]
pub struct FaultGuard(FaultHandle);

impl FaultGuard {
    pub(crate) fn new(handle: FaultHandle) -> Self {
        FaultGuard(handle)
    }
}

impl std::ops::Deref for FaultGuard {
    type Target = FaultHandle;

    fn deref(&self) -> &FaultHandle {
        &self.0
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        self.0.remove();
    }
}

impl FaultSet {
    pub(crate) fn new(faults: Vec<Fault>) -> Arc<Self> {
        let set = Arc::new(FaultSet {
            initial: faults.clone(),
            ..FaultSet::default()
        });
        for f in faults {
            set.add(f);
        }
        set
    }

    /// Back to the faults given at start, with fresh counters (and new ids:
    /// a handle on a removed fault never removes another).
    pub(crate) fn restore(self: &Arc<Self>) {
        self.clear();
        for f in self.initial.clone() {
            self.add(f);
        }
    }

    pub(crate) fn add(self: &Arc<Self>, fault: Fault) -> FaultHandle {
        let armed = Arc::new(Armed {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            fault,
            seen: AtomicU64::new(0),
            fired: AtomicU64::new(0),
        });
        self.lock().push(armed.clone());
        FaultHandle {
            armed,
            set: Arc::downgrade(self),
        }
    }

    /// Every fault, in the order added.
    pub(crate) fn handles(self: &Arc<Self>) -> Vec<FaultHandle> {
        self.lock()
            .iter()
            .map(|armed| FaultHandle {
                armed: armed.clone(),
                set: Arc::downgrade(self),
            })
            .collect()
    }

    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut faults = self.lock();
        let before = faults.len();
        faults.retain(|a| a.id != id);
        faults.len() != before
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Armed>>> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts the command against every matching fault and collects what
    /// fires.
    pub(crate) fn fire(&self, cx: &Context<'_>) -> Fired {
        let mut fired = Fired::default();
        {
            // Cheap when there are no faults, the common case.
            if self.lock().is_empty() {
                return fired;
            }
        }
        let armed: Vec<Arc<Armed>> = self.lock().clone();
        for a in armed {
            let m = &a.fault.matcher;
            if !m.matches(cx) {
                continue;
            }
            let n = a.seen.fetch_add(1, Ordering::Relaxed) + 1;
            if !m.selects(n) {
                continue;
            }
            a.fired.fetch_add(1, Ordering::Relaxed);
            fired.rules.push(a.fault.to_string());
            match &a.fault.action {
                action @ (Action::Reply { .. }
                | Action::Close
                | Action::Shutdown
                | Action::Stall) => {
                    if fired.instead.is_none() {
                        fired.instead = Some(action.clone());
                    }
                }
                Action::ReplyAfter { code, text } => {
                    fired.reply_after = Some((*code, text.clone()));
                }
                Action::Delay { delay, jitter } => {
                    let extra = if jitter.is_zero() {
                        Duration::ZERO
                    } else {
                        let r = self.next_random();
                        Duration::from_nanos(r % (jitter.as_nanos() as u64 + 1))
                    };
                    fired.delay = Some(*delay + extra);
                }
                Action::Split { bytes, pause } => fired.split = Some((*bytes, *pause)),
                Action::CloseAfterReply => fired.close_after_reply = true,
                Action::Data(d) => fired.data = Some(*d),
                Action::TlsFail => fired.tls_fail = true,
                Action::Quirk(q) => fired.quirks.push(*q),
            }
        }
        fired
    }

    /// xorshift: a fixed sequence, so jittered runs repeat.
    fn next_random(&self) -> u64 {
        let mut x = self.jitter.load(Ordering::Relaxed);
        if x == 0 {
            x = 0x9E37_79B9_7F4A_7C15;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter.store(x, Ordering::Relaxed);
        x
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.matcher)?;
        f.write_str(" ")?;
        match &self.action {
            Action::Reply { code, lines } => {
                write!(f, "reply={code}")?;
                if lines.len() == 1 {
                    write!(f, " text={}", quote(&lines[0]))?;
                } else {
                    write!(f, " lines={}", quote(&lines.join("|")))?;
                }
                Ok(())
            }
            Action::ReplyAfter { code, text } => {
                write!(f, "reply-after={code} text={}", quote(text))
            }
            Action::Delay { delay, jitter } => {
                write!(f, "delay={}", parse::format_duration(*delay))?;
                if !jitter.is_zero() {
                    write!(f, " jitter={}", parse::format_duration(*jitter))?;
                }
                Ok(())
            }
            Action::Split { bytes, pause } => {
                write!(f, "split={bytes}")?;
                if *pause != SPLIT_PAUSE {
                    write!(f, " pause={}", parse::format_duration(*pause))?;
                }
                Ok(())
            }
            Action::Close => f.write_str("close"),
            Action::CloseAfterReply => f.write_str("close-after-reply"),
            Action::Shutdown => f.write_str("shutdown"),
            Action::Stall => f.write_str("stall"),
            Action::TlsFail => f.write_str("tls-fail"),
            Action::Quirk(q) => write!(f, "quirk={}", q.name()),
            Action::Data(d) => match d {
                DataFault::Never => f.write_str("no-data"),
                DataFault::Drop { after, reset } => write!(
                    f,
                    "{} after={after}",
                    if *reset { "reset-data" } else { "drop-data" }
                ),
                DataFault::Stall => f.write_str("stall-data"),
                DataFault::Throttle { bytes_per_sec } => write!(f, "throttle={bytes_per_sec}"),
                DataFault::Corrupt { at } => write!(f, "corrupt at={at}"),
                DataFault::Truncate { at } => write!(f, "truncate at={at}"),
                DataFault::Extra { bytes } => write!(f, "extra={bytes}"),
                DataFault::SlowClose { delay } => {
                    write!(f, "slow-close={}", parse::format_duration(*delay))
                }
                DataFault::Slice { bytes, pause } => {
                    write!(f, "slice-data={bytes}")?;
                    if !pause.is_zero() {
                        write!(f, " pause={}", parse::format_duration(*pause))?;
                    }
                    Ok(())
                }
                DataFault::Delay { delay } => {
                    write!(f, "delay-data={}", parse::format_duration(*delay))
                }
                DataFault::DiskFull { after } => write!(f, "disk-full after={after}"),
                DataFault::FailAfterData => f.write_str("fail-after-data"),
            },
        }
    }
}
