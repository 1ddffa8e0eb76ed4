//! Expectations in the style of wiremock-rs: "this command arrives n
//! times", counted as commands arrive and checked by [`Server::verify`] or
//! when the server handle is dropped.
//!
//! Counting happens in the session, at the moment a command is read (the
//! same point where faults fire), not by reading the transcript afterwards:
//! so clearing the transcript or switching recording off cannot make an
//! expectation pass.
//!
//! [`Server::verify`]: crate::Server::verify

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::matcher::{CommandContext, Matcher};
use crate::transcript::Transcript;

/// How many times a command must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Times {
    Exactly(u64),
    AtLeast(u64),
    AtMost(u64),
}

/// Commands a test expects the client to send a number of times (at least
/// once unless told otherwise).
///
/// ```
/// use ftpfixture::{Expectation, Matcher};
/// let uploads = Expectation::command("STOR").arg("*.csv").times(2);
/// let no_deletes = Expectation::command("DELE").never();
/// let logins_as_bob = Expectation::matching(Matcher::command("PASS").user("bob")).at_most(1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    matcher: Matcher,
    times: Times,
}

impl Expectation {
    /// Expects `verb` (case-insensitive) at least once.
    pub fn command(verb: &str) -> Self {
        Expectation::matching(Matcher::command(verb))
    }

    /// Expects the commands a [`Matcher`] selects (the same matcher a
    /// [`Fault`](crate::Fault) takes), at least once.
    pub fn matching(matcher: Matcher) -> Self {
        Expectation {
            matcher,
            times: Times::AtLeast(1),
        }
    }

    /// Only counts commands whose argument matches `pattern` (exact, or a
    /// glob with `*` and `?`).
    pub fn arg(mut self, pattern: &str) -> Self {
        self.matcher = self.matcher.arg(pattern);
        self
    }

    /// Exactly `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Times::Exactly(n);
        self
    }

    /// At least `n` times.
    pub fn at_least(mut self, n: u64) -> Self {
        self.times = Times::AtLeast(n);
        self
    }

    /// At most `n` times.
    pub fn at_most(mut self, n: u64) -> Self {
        self.times = Times::AtMost(n);
        self
    }

    /// Never.
    pub fn never(self) -> Self {
        self.times(0)
    }

    /// Which commands are counted.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// True when `count` arrivals satisfy the expectation.
    pub fn is_met_by(&self, count: u64) -> bool {
        match self.times {
            Times::Exactly(m) => count == m,
            Times::AtLeast(m) => count >= m,
            Times::AtMost(m) => count <= m,
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.matcher)?;
        match self.times {
            Times::Exactly(n) => write!(f, "exactly {n} time(s)"),
            Times::AtLeast(n) => write!(f, "at least {n} time(s)"),
            Times::AtMost(n) => write!(f, "at most {n} time(s)"),
        }
    }
}

/// An expectation with its live count.
#[derive(Debug)]
struct Watched {
    expectation: Expectation,
    /// Matching commands seen (for the matcher's occurrence filter).
    seen: AtomicU64,
    /// Commands counted.
    count: AtomicU64,
}

/// The expectations of one server, counted by its sessions.
#[derive(Debug, Default)]
pub(crate) struct ExpectationSet {
    entries: Mutex<Vec<Arc<Watched>>>,
}

impl ExpectationSet {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Watched>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn add(&self, expectation: Expectation) {
        self.lock().push(Arc::new(Watched {
            expectation,
            seen: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }));
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// Counts a command that has just arrived.
    pub(crate) fn observe(&self, cx: &CommandContext<'_>) {
        let entries = self.lock();
        for w in entries.iter() {
            let m = &w.expectation.matcher;
            if m.matches(cx) {
                let n = w.seen.fetch_add(1, Ordering::Relaxed) + 1;
                if m.selects(n) {
                    w.count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Every expectation with its count so far.
    pub(crate) fn counts(&self) -> Vec<(Expectation, u64)> {
        self.lock()
            .iter()
            .map(|w| (w.expectation.clone(), w.count.load(Ordering::Relaxed)))
            .collect()
    }

    /// The unmet ones.
    pub(crate) fn unmet(&self) -> Vec<Unmet> {
        self.counts()
            .into_iter()
            .filter(|(e, n)| !e.is_met_by(*n))
            .map(|(expectation, count)| Unmet { expectation, count })
            .collect()
    }
}

/// An expectation that did not hold, and how many commands it counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    expectation: Expectation,
    count: u64,
}

impl Unmet {
    /// What was expected.
    pub fn expectation(&self) -> &Expectation {
        &self.expectation
    }

    /// How many matching commands arrived.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expectation, self.count)
    }
}

/// [`Server::verify`](crate::Server::verify) found unmet expectations. Its
/// `Display` lists them and the rendered transcript of what arrived.
#[derive(Clone, thiserror::Error)]
#[error("{}", self.message())]
pub struct VerifyError {
    unmet: Vec<Unmet>,
    /// A replay's misses (and, with `strict`, its unused steps).
    replay: Vec<String>,
    transcript: Transcript,
}

/// The same message as `Display`, so `.unwrap()` reads well.
impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl VerifyError {
    pub(crate) fn new(unmet: Vec<Unmet>, replay: Vec<String>, transcript: Transcript) -> Self {
        VerifyError {
            unmet,
            replay,
            transcript,
        }
    }

    /// What a replay could not answer (`replay miss: …`) and, with its
    /// `strict` setting, the recorded commands no client sent.
    pub fn replay_problems(&self) -> &[String] {
        &self.replay
    }

    /// The expectations that did not hold.
    pub fn unmet(&self) -> &[Unmet] {
        &self.unmet
    }

    /// The transcript at the time of the check.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    fn message(&self) -> String {
        let mut lines: Vec<String> = self.unmet.iter().map(|u| format!("  {u}")).collect();
        lines.extend(self.replay.iter().map(|p| format!("  {p}")));
        let what = match (self.unmet.len(), self.replay.len()) {
            (n, 0) => format!("{n} expectation(s) not met"),
            (0, r) => format!("{r} replay problem(s)"),
            (n, r) => format!("{n} expectation(s) not met, {r} replay problem(s)"),
        };
        format!(
            "ftpfixture: {what}:\n{}\n\ntranscript:\n{}",
            lines.join("\n"),
            self.transcript.render()
        )
    }
}
