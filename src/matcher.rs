//! [`Matcher`]: which commands a fault or an expectation is about. One
//! matching language for both, so a rule reads the same everywhere.

use std::fmt;

/// The pseudo-command a new connection is matched as, before its greeting,
/// so that `CONNECT delay=2s` (a slow greeting) works like any rule and an
/// expectation can count connections. `*` does not match it: `*` means
/// every command.
pub(crate) const CONNECT: &str = "CONNECT";

/// Which commands a [`Fault`](crate::Fault) or an
/// [`Expectation`](crate::Expectation) applies to: a verb (or any), then
/// optional filters on the argument, the occurrence, the session, the user
/// and the login state.
///
/// The occurrence filters pick matching commands by their count across the
/// server: [`nth`](Matcher::nth) only the nth, [`first`](Matcher::first) the
/// first n. (How many times an expectation wants a command is said on the
/// expectation: [`Expectation::times`](crate::Expectation::times).)
///
/// ```
/// use ftpfixture::{Expectation, Fault, Matcher};
/// let csv_uploads = Matcher::command("STOR").arg("*.csv").user("alice");
/// let fault = Fault::matching(csv_uploads.clone().first(2)).reply(452, "Disk full");
/// let expectation = Expectation::matching(csv_uploads).times(3);
/// assert_eq!(fault.to_string(), "STOR first=2 arg=*.csv user=alice reply=452 text=\"Disk full\"");
/// assert_eq!(expectation.to_string(), "STOR arg=*.csv user=alice: exactly 3 time(s)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matcher {
    /// Upper-case verb; `None` matches every command (not `CONNECT`).
    pub(crate) verb: Option<String>,
    /// Exact argument, or a glob with `*` and `?`.
    pub(crate) arg: Option<String>,
    pub(crate) occurrence: Occurrence,
    pub(crate) session: Option<u64>,
    pub(crate) user: Option<String>,
    pub(crate) login: Option<LoginState>,
}

/// Which occurrences of a matching command count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Occurrence {
    #[default]
    Every,
    /// Only the nth (1-based).
    Nth(u64),
    /// The first n.
    First(u64),
}

/// Before or after a successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginState {
    Before,
    After,
}

/// What a matcher needs to know about a command and its session.
pub(crate) struct CommandContext<'a> {
    pub verb: &'a str,
    pub arg: Option<&'a str>,
    pub session: u64,
    pub user: Option<&'a str>,
    pub logged_in: bool,
}

impl Matcher {
    /// One command (case-insensitive, e.g. `"RETR"`). `"CONNECT"` stands for
    /// the connection itself, before the greeting.
    pub fn command(verb: &str) -> Self {
        Matcher {
            verb: Some(verb.trim().to_ascii_uppercase()),
            ..Matcher::default()
        }
    }

    /// Every command (`*` in the text form); not `CONNECT`.
    pub fn any() -> Self {
        Matcher::default()
    }

    /// Only when the argument is this (exact, or a glob with `*`, `?`).
    pub fn arg(mut self, pattern: &str) -> Self {
        self.arg = Some(pattern.to_string());
        self
    }

    /// Only the nth matching command (1-based), counted across the server.
    pub fn nth(mut self, n: u64) -> Self {
        self.occurrence = Occurrence::Nth(n);
        self
    }

    /// Only the first `n` matching commands, counted across the server.
    pub fn first(mut self, n: u64) -> Self {
        self.occurrence = Occurrence::First(n);
        self
    }

    /// Only in this session (1 is the first connection).
    pub fn session(mut self, id: u64) -> Self {
        self.session = Some(id);
        self
    }

    /// Only for this logged-in user (or the name given to USER).
    pub fn user(mut self, name: &str) -> Self {
        self.user = Some(name.to_string());
        self
    }

    /// Only before a successful login.
    pub fn before_login(mut self) -> Self {
        self.login = Some(LoginState::Before);
        self
    }

    /// Only after a successful login.
    pub fn after_login(mut self) -> Self {
        self.login = Some(LoginState::After);
        self
    }

    /// The verb this matcher is about; `None` for every command.
    pub fn verb(&self) -> Option<&str> {
        self.verb.as_deref()
    }

    /// Whether the command in `cx` is one this matcher is about, before the
    /// occurrence filter.
    pub(crate) fn matches(&self, cx: &CommandContext<'_>) -> bool {
        match &self.verb {
            Some(verb) if !verb.eq_ignore_ascii_case(cx.verb) => return false,
            None if cx.verb == CONNECT => return false,
            _ => {}
        }
        if let Some(pattern) = &self.arg {
            let arg = cx.arg.unwrap_or("");
            if !(pattern == arg || crate::glob::matches(pattern, arg)) {
                return false;
            }
        }
        if self.session.is_some_and(|s| s != cx.session) {
            return false;
        }
        if let Some(user) = &self.user {
            if cx.user != Some(user.as_str()) {
                return false;
            }
        }
        match self.login {
            Some(LoginState::Before) if cx.logged_in => false,
            Some(LoginState::After) if !cx.logged_in => false,
            _ => true,
        }
    }

    /// Whether the `n`th matching command (1-based) is selected.
    pub(crate) fn selects(&self, n: u64) -> bool {
        match self.occurrence {
            Occurrence::Every => true,
            Occurrence::Nth(k) => n == k,
            Occurrence::First(k) => n <= k,
        }
    }
}

/// The selector part of the text form: `RETR#2 arg=*.csv session=1`.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb.as_deref().unwrap_or("*"))?;
        match self.occurrence {
            Occurrence::Every => {}
            Occurrence::Nth(n) => write!(f, "#{n}")?,
            Occurrence::First(n) => write!(f, " first={n}")?,
        }
        if let Some(arg) = &self.arg {
            write!(f, " arg={}", quote(arg))?;
        }
        if let Some(s) = self.session {
            write!(f, " session={s}")?;
        }
        if let Some(u) = &self.user {
            write!(f, " user={}", quote(u))?;
        }
        match self.login {
            Some(LoginState::Before) => f.write_str(" login=before"),
            Some(LoginState::After) => f.write_str(" login=after"),
            None => Ok(()),
        }
    }
}

/// Quotes a value for the text form when it holds white space (any: the
/// parser splits on all of it; a fuzz finding), quotes or backslashes.
pub(crate) fn quote(s: &str) -> String {
    if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\') {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
