//! The text form of a fault, for the CLI and scenario files:
//!
//! ```text
//! RULE     := SELECTOR (' ' OPTION)*
//! SELECTOR := '*' | VERB | VERB '#' N          (nth occurrence)
//! OPTION   := first=N | arg=GLOB | session=N | user=NAME | login=before|after
//!           | ACTION and its parameters (exactly one action)
//! ```
//!
//! Values with spaces go in double quotes. Errors point at the bad part.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{Action, DataFault, Fault, LoginState, Occurrence, Quirk};
use crate::matcher::Matcher;

/// A fault rule that could not be parsed: the rule, where the problem is,
/// and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultParseError {
    /// The whole rule.
    pub rule: String,
    /// Byte offset of the bad part.
    pub at: usize,
    /// Length of the bad part (at least 1).
    pub len: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `at` is a byte offset; count the characters before it, never
        // slicing inside one.
        let pad = self
            .rule
            .char_indices()
            .take_while(|(i, _)| *i < self.at)
            .count();
        let width = self
            .rule
            .char_indices()
            .filter(|(i, _)| *i >= self.at && *i < self.at + self.len)
            .count();
        writeln!(f, "bad fault rule: {}", self.message)?;
        writeln!(f, "  {}", self.rule)?;
        write!(f, "  {}{}", " ".repeat(pad), "^".repeat(width.max(1)))
    }
}

impl std::error::Error for FaultParseError {}

struct Token {
    at: usize,
    len: usize,
    key: String,
    value: Option<String>,
}

fn tokenize(rule: &str) -> Result<Vec<Token>, (usize, usize, String)> {
    let bytes = rule.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        let key = rule[start..i].to_string();
        let mut value = None;
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            if i < bytes.len() && bytes[i] == b'"' {
                i += 1;
                let mut v = String::new();
                let mut closed = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if i + 1 < bytes.len() => {
                            let c = rule[i + 1..].chars().next().unwrap_or('\\');
                            v.push(c);
                            i += 1 + c.len_utf8();
                        }
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        _ => {
                            let c = rule[i..].chars().next().unwrap_or(' ');
                            v.push(c);
                            i += c.len_utf8();
                        }
                    }
                }
                if !closed {
                    return Err((start, i - start, "unterminated quote".into()));
                }
                value = Some(v);
            } else {
                let vstart = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = Some(rule[vstart..i].to_string());
            }
        }
        tokens.push(Token {
            at: start,
            len: i - start,
            key,
            value,
        });
    }
    Ok(tokens)
}

/// Parses `200ms`, `2s`, `1.5s`, `1m`; a bare number is milliseconds.
/// Durations are whole milliseconds (rounded), so every rule prints back
/// to itself (a fuzz finding: `delay=417836.6566s` printed as `...656s`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "ms"),
    };
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let ms = match unit {
        "ms" => n,
        "s" => n * 1000.0,
        "m" | "min" => n * 60_000.0,
        _ => return None,
    }
    .round();
    // u64 milliseconds is 584 million years: anything beyond is no duration.
    (ms < 1.8e19).then(|| Duration::from_millis(ms as u64))
}

/// The inverse of `parse_duration`, for Display.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) && ms > 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Parses a byte count: `1024`, `64k`, `2m` (binary multiples).
fn parse_bytes(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (num, mult) = if let Some(n) = lower.strip_suffix('k') {
        (n, 1024)
    } else if let Some(n) = lower.strip_suffix('m') {
        (n, 1024 * 1024)
    } else {
        (lower.as_str(), 1)
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(rule: &str) -> Result<Fault, FaultParseError> {
        let err = |at: usize, len: usize, message: String| FaultParseError {
            rule: rule.to_string(),
            at,
            len,
            message,
        };
        let tokens = tokenize(rule).map_err(|(at, len, m)| err(at, len, m))?;
        let Some((first, rest)) = tokens.split_first() else {
            return Err(err(0, 1, "empty rule: expected a command or *".into()));
        };
        let mut matcher = Matcher::default();
        if first.value.is_some() {
            return Err(err(
                first.at,
                first.len,
                "a rule starts with a command (RETR, RETR#2) or *".into(),
            ));
        }
        let (verb, nth) = match first.key.split_once('#') {
            Some((v, n)) => {
                let n: u64 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    err(
                        first.at + v.len(),
                        n.len() + 1,
                        format!("#{n} is no occurrence number (1, 2, …)"),
                    )
                })?;
                (v, Some(n))
            }
            None => (first.key.as_str(), None),
        };
        if verb != "*" {
            if verb.is_empty() || !verb.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(err(
                    first.at,
                    verb.len().max(1),
                    format!("{verb:?} is no FTP command"),
                ));
            }
            matcher.verb = Some(verb.to_ascii_uppercase());
        }
        if let Some(n) = nth {
            matcher.occurrence = Occurrence::Nth(n);
        }

        let mut action: Option<(Action, &Token)> = None;
        // Parameters of actions (after=, at=, text=, lines=, jitter=),
        // applied once the action is known.
        let mut params: Vec<&Token> = Vec::new();
        for t in rest {
            let value = || {
                t.value
                    .clone()
                    .ok_or_else(|| err(t.at, t.len, format!("{} needs a value", t.key)))
            };
            let number = |what: &str| {
                let v = value()?;
                v.parse::<u64>()
                    .map_err(|_| err(t.at, t.len, format!("{}: {v:?} is not {what}", t.key)))
            };
            let bytes = || {
                let v = value()?;
                parse_bytes(&v)
                    .ok_or_else(|| err(t.at, t.len, format!("{}: {v:?} is no byte count", t.key)))
            };
            let code = || {
                let v = value()?;
                v.parse::<u16>()
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| err(t.at, t.len, format!("{v:?} is no reply code (100-599)")))
            };
            let new_action = match t.key.as_str() {
                "first" => {
                    matcher.occurrence = Occurrence::First(number("a number")?);
                    None
                }
                "times" => {
                    // The old name of first=; "times" now only means an
                    // expectation's count, so say what to write instead.
                    return Err(err(
                        t.at,
                        t.len,
                        "times= is now first=N (the first N matching commands)".to_string(),
                    ));
                }
                "nth" => {
                    let n = number("a number")?;
                    if n == 0 {
                        // As for RETR#0: occurrences count from 1 (and the
                        // rule must print back as RETR#N).
                        return Err(err(t.at, t.len, "nth=0: occurrences count from 1".into()));
                    }
                    matcher.occurrence = Occurrence::Nth(n);
                    None
                }
                "arg" => {
                    matcher.arg = Some(value()?);
                    None
                }
                "session" => {
                    matcher.session = Some(number("a session number")?);
                    None
                }
                "user" => {
                    matcher.user = Some(value()?);
                    None
                }
                "login" => {
                    matcher.login = Some(match value()?.as_str() {
                        "before" => LoginState::Before,
                        "after" => LoginState::After,
                        v => {
                            return Err(err(
                                t.at,
                                t.len,
                                format!("login={v}: expected before or after"),
                            ))
                        }
                    });
                    None
                }
                "after" | "at" | "text" | "lines" | "jitter" | "pause" => {
                    value()?;
                    params.push(t);
                    None
                }
                "reply" => Some(Action::Reply {
                    code: code()?,
                    lines: vec![String::new()],
                }),
                "reply-after" => Some(Action::ReplyAfter {
                    code: code()?,
                    text: String::new(),
                }),
                "delay" => {
                    let v = value()?;
                    let delay = parse_duration(&v).ok_or_else(|| {
                        err(
                            t.at,
                            t.len,
                            format!("delay: {v:?} is no duration (200ms, 2s)"),
                        )
                    })?;
                    Some(Action::Delay {
                        delay,
                        jitter: Duration::ZERO,
                    })
                }
                "split" => Some(Action::Split {
                    bytes: number("a byte count")?.max(1) as usize,
                    pause: super::SPLIT_PAUSE,
                }),
                "slice-data" => Some(Action::Data(DataFault::Slice {
                    bytes: usize::try_from(bytes()?.max(1)).unwrap_or(usize::MAX),
                    pause: Duration::ZERO,
                })),
                "delay-data" => {
                    let v = value()?;
                    let delay = parse_duration(&v).ok_or_else(|| {
                        err(t.at, t.len, format!("delay-data: {v:?} is no duration"))
                    })?;
                    Some(Action::Data(DataFault::Delay { delay }))
                }
                "close" => Some(Action::Close),
                "close-after-reply" => Some(Action::CloseAfterReply),
                "shutdown" => Some(Action::Shutdown),
                "stall" => Some(Action::Stall),
                "tls-fail" => Some(Action::TlsFail),
                "no-data" => Some(Action::Data(DataFault::Never)),
                "stall-data" => Some(Action::Data(DataFault::Stall)),
                "drop-data" => Some(Action::Data(DataFault::Drop {
                    after: 0,
                    reset: false,
                })),
                "reset-data" => Some(Action::Data(DataFault::Drop {
                    after: 0,
                    reset: true,
                })),
                "throttle" => Some(Action::Data(DataFault::Throttle {
                    bytes_per_sec: bytes()?.max(1),
                })),
                "corrupt" => Some(Action::Data(DataFault::Corrupt { at: 0 })),
                "truncate" => Some(Action::Data(DataFault::Truncate { at: 0 })),
                "extra" => Some(Action::Data(DataFault::Extra { bytes: bytes()? })),
                "slow-close" => {
                    let v = value()?;
                    let delay = parse_duration(&v).ok_or_else(|| {
                        err(t.at, t.len, format!("slow-close: {v:?} is no duration"))
                    })?;
                    Some(Action::Data(DataFault::SlowClose { delay }))
                }
                "disk-full" => Some(Action::Data(DataFault::DiskFull { after: 0 })),
                "fail-after-data" => Some(Action::Data(DataFault::FailAfterData)),
                "quirk" => {
                    let v = value()?;
                    let q = Quirk::ALL.iter().find(|q| q.name() == v).ok_or_else(|| {
                        let names: Vec<&str> = Quirk::ALL.iter().map(|q| q.name()).collect();
                        err(
                            t.at,
                            t.len,
                            format!("unknown quirk {v:?} (one of: {})", names.join(", ")),
                        )
                    })?;
                    Some(Action::Quirk(*q))
                }
                other => {
                    return Err(err(t.at, t.len, format!("unknown option {other:?}")));
                }
            };
            if let Some(a) = new_action {
                if let Some((_, earlier)) = &action {
                    return Err(err(
                        t.at,
                        t.len,
                        format!("a rule has one action, and {:?} came first", earlier.key),
                    ));
                }
                action = Some((a, t));
            }
        }
        let Some((mut action, action_token)) = action else {
            return Err(err(
                rule.len(),
                1,
                "no action (reply=, delay=, drop-data, …)".into(),
            ));
        };
        for p in params {
            let v = p.value.clone().unwrap_or_default();
            let bad = |what: &str| {
                err(
                    p.at,
                    p.len,
                    format!("{}= does not go with {}{what}", p.key, action_token.key),
                )
            };
            let count = || {
                parse_bytes(&v)
                    .ok_or_else(|| err(p.at, p.len, format!("{}: {v:?} is no byte count", p.key)))
            };
            match (p.key.as_str(), &mut action) {
                ("text", Action::Reply { lines, .. }) => *lines = vec![v.clone()],
                ("lines", Action::Reply { lines, .. }) => {
                    *lines = v.split('|').map(str::to_string).collect()
                }
                ("text", Action::ReplyAfter { text, .. }) => *text = v.clone(),
                ("jitter", Action::Delay { jitter, .. }) => {
                    *jitter = parse_duration(&v)
                        .ok_or_else(|| err(p.at, p.len, format!("jitter: {v:?} is no duration")))?
                }
                ("pause", Action::Split { pause, .. })
                | ("pause", Action::Data(DataFault::Slice { pause, .. })) => {
                    *pause = parse_duration(&v)
                        .ok_or_else(|| err(p.at, p.len, format!("pause: {v:?} is no duration")))?
                }
                ("after", Action::Data(DataFault::Drop { after, .. }))
                | ("after", Action::Data(DataFault::DiskFull { after }))
                | ("at", Action::Data(DataFault::Corrupt { at: after }))
                | ("at", Action::Data(DataFault::Truncate { at: after })) => *after = count()?,
                _ => return Err(bad("")),
            }
        }
        if let Action::Reply { code, lines } = &mut action {
            if lines.len() == 1 && lines[0].is_empty() {
                lines[0] = default_text(*code).to_string();
            }
        }
        if let Action::ReplyAfter { code, text } = &mut action {
            if text.is_empty() {
                *text = default_text(*code).to_string();
            }
        }
        Ok(Fault { matcher, action })
    }
}

/// A reply text for a code given without one.
pub(crate) fn default_text(code: u16) -> &'static str {
    match code {
        421 => "Service not available, closing control connection",
        425 => "Can't open data connection",
        426 => "Connection closed; transfer aborted",
        450 => "Requested file action not taken",
        451 => "Requested action aborted: local error in processing",
        452 => "Requested action not taken: insufficient storage space",
        530 => "Not logged in",
        550 => "Requested action not taken: file unavailable",
        552 => "Requested file action aborted: exceeded storage allocation",
        553 => "Requested action not taken: file name not allowed",
        c if c < 400 => "OK (fault)",
        _ => "Error (fault)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rule: &str) -> Fault {
        rule.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sub_millisecond_durations_print_back() {
        // Found by the fault_rule fuzz target.
        for rule in [
            "TS delay=417836.6566s",
            "RETR slice-data=2 pause=0.4ms",
            // Also found there: a value with white space other than ' '.
            "S reply=452 text=\"x`\u{c}\u{c}y\"",
            "S reply=452 text=\"a\\\\b\"",
        ] {
            let f: Fault = rule.parse().unwrap();
            assert_eq!(f.to_string().parse::<Fault>().unwrap(), f, "{rule}");
        }
    }

    #[test]
    fn the_examples_parse_and_print_back() {
        for (rule, shown) in [
            ("RETR#2 drop-data after=1024", "RETR#2 drop-data after=1024"),
            (
                "STOR reply=452",
                "STOR reply=452 text=\"Requested action not taken: insufficient storage space\"",
            ),
            ("* delay=200ms", "* delay=200ms"),
            (
                "retr first=2 reply=450 text=\"Try again\"",
                "RETR first=2 reply=450 text=\"Try again\"",
            ),
            ("LIST quirk=dos-list", "LIST quirk=dos-list"),
            ("STOR disk-full after=64k", "STOR disk-full after=65536"),
            (
                "PASS user=bob reply=530",
                "PASS user=bob reply=530 text=\"Not logged in\"",
            ),
            ("* delay=1s jitter=50ms", "* delay=1s jitter=50ms"),
            ("RETR slow-close=300ms", "RETR slow-close=300ms"),
            (
                "RETR slice-data=1k pause=5ms",
                "RETR slice-data=1024 pause=5ms",
            ),
            ("LIST slice-data=7", "LIST slice-data=7"),
            ("RETR delay-data=2s", "RETR delay-data=2s"),
            ("PWD split=3 pause=1ms", "PWD split=3 pause=1ms"),
            ("PWD split=3", "PWD split=3"),
            (
                "RETR arg=*.csv session=2 login=after reset-data after=10",
                "RETR arg=*.csv session=2 login=after reset-data after=10",
            ),
        ] {
            let f = ok(rule);
            assert_eq!(f.to_string(), shown, "{rule}");
            assert_eq!(ok(shown), f, "round trip of {shown}");
        }
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let e = "RETR#2 dorp-data after=1024".parse::<Fault>().unwrap_err();
        assert_eq!(e.at, 7);
        assert_eq!(e.len, 9);
        assert_eq!(
            e.to_string(),
            "bad fault rule: unknown option \"dorp-data\"\n  RETR#2 dorp-data after=1024\n         ^^^^^^^^^"
        );
        let e = "STOR reply=45".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("reply code"), "{e}");
        assert_eq!(e.at, 5);
        let e = "RETR#x close".parse::<Fault>().unwrap_err();
        assert_eq!(e.at, 4);
        let e = "RETR".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("no action"));
        let e = "RETR close stall".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("one action"), "{e}");
        let e = "RETR close after=3".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("does not go with close"), "{e}");
        let e = "RETR drop-data pause=3ms".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("does not go with drop-data"), "{e}");
        let e = "RETR delay-data=soon".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("no duration"), "{e}");
        let e = "RETR quirk=nope".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("dos-list"), "{e}");
        let e = "RETR reply=450 text=\"open".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("unterminated"), "{e}");
        let e = "".parse::<Fault>().unwrap_err();
        assert!(e.message.contains("empty"));
        // Non-ASCII input is pointed at by characters, never split.
        let e = "RETR é".parse::<Fault>().unwrap_err();
        assert_eq!(e.to_string().lines().nth(2), Some("       ^"));
        let e = "RETR ünknown".parse::<Fault>().unwrap_err();
        assert!(e.to_string().ends_with("\n       ^^^^^^^"), "{e}");
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("200ms"), Some(Duration::from_millis(200)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2h"), None);
        assert_eq!(parse_bytes("64k"), Some(65536));
        assert_eq!(parse_bytes("x"), None);
    }
}
