//! Expectations in the style of wiremock-rs: "this command arrives n
//! times", checked when the server is dropped or on [`Server::verify`].
//!
//! [`Server::verify`]: crate::Server::verify

use std::fmt;

use crate::transcript::{EventKind, Transcript};

/// How many times a command must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Times {
    Exactly(usize),
    AtLeast(usize),
    AtMost(usize),
}

/// A command (and optionally its argument) that a test expects the client
/// to send a number of times.
///
/// ```
/// use ftpfixture::Expectation;
/// let e = Expectation::command("STOR").arg("*.csv").times(2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    verb: String,
    arg: Option<String>,
    times: Times,
}

impl Expectation {
    /// Expects `verb` (case-insensitive) at least once.
    pub fn command(verb: &str) -> Self {
        Expectation {
            verb: verb.to_ascii_uppercase(),
            arg: None,
            times: Times::AtLeast(1),
        }
    }

    /// Only counts commands whose argument matches `pattern` (exact, or a
    /// glob with `*` and `?`).
    pub fn arg(mut self, pattern: &str) -> Self {
        self.arg = Some(pattern.to_string());
        self
    }

    /// Exactly `n` times.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Times::Exactly(n);
        self
    }

    /// At least `n` times.
    pub fn at_least(mut self, n: usize) -> Self {
        self.times = Times::AtLeast(n);
        self
    }

    /// At most `n` times.
    pub fn at_most(mut self, n: usize) -> Self {
        self.times = Times::AtMost(n);
        self
    }

    /// Never.
    pub fn never(self) -> Self {
        self.times(0)
    }

    /// How many commands in `transcript` match.
    pub fn count(&self, transcript: &Transcript) -> usize {
        transcript
            .events()
            .iter()
            .filter(|e| match &e.kind {
                EventKind::Command { line, .. } => {
                    let (verb, arg) = crate::command::split(line);
                    verb == self.verb
                        && match &self.arg {
                            None => true,
                            Some(p) => crate::glob::matches(p, arg.unwrap_or("")),
                        }
                }
                _ => false,
            })
            .count()
    }

    /// True when the count in `transcript` is as expected.
    pub fn is_met(&self, transcript: &Transcript) -> bool {
        let n = self.count(transcript);
        match self.times {
            Times::Exactly(m) => n == m,
            Times::AtLeast(m) => n >= m,
            Times::AtMost(m) => n <= m,
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.verb)?;
        if let Some(a) = &self.arg {
            write!(f, " {a}")?;
        }
        match self.times {
            Times::Exactly(n) => write!(f, " exactly {n} time(s)"),
            Times::AtLeast(n) => write!(f, " at least {n} time(s)"),
            Times::AtMost(n) => write!(f, " at most {n} time(s)"),
        }
    }
}

/// The failure message for unmet expectations, or `None` when all hold.
pub(crate) fn check(expectations: &[Expectation], transcript: &Transcript) -> Option<String> {
    let failed: Vec<String> = expectations
        .iter()
        .filter(|e| !e.is_met(transcript))
        .map(|e| format!("  expected {e}, got {}", e.count(transcript)))
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(format!(
        "ftpfixture: {} expectation(s) not met:\n{}\n\ntranscript:\n{}",
        failed.len(),
        failed.join("\n"),
        transcript.render()
    ))
}
