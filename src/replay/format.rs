//! The recording on disk: a directory a person can read and edit.
//!
//! ```text
//! settings.toml        how it is replayed (matching, misses, passwords)
//! sessions/0001.txt    one file per client session, in connection order
//! data/<xxh3>.bin      transfer bytes, named by their content's hash (XXH3-128)
//! ```
//!
//! A session file is lines of text, one mark and a space first:
//!
//! ```text
//! # a comment (ignored)
//! < 220 (vsFTPd 3.0.3)                   a reply line as received (the greeting here)
//! > USER alice                           a command as received
//! < 331 Please specify the password.
//! > PASS <redacted>                      passwords never reach the disk
//! > RETR report.csv
//! < 150 Opening BINARY mode data connection for report.csv (12 bytes).
//! = download 12 data/5f1c….bin complete  the data transfer: bytes, where, how it ended
//! < 226 Transfer complete.
//! ```
//!
//! Small text transfers may stay inline: `= download 12 "hello world\n" complete`.
//! In `<` and `>` lines a backslash and control characters are escaped
//! (`\\`, `\r`, `\n`, `\t`, `\xNN`), so every byte the wire carried is kept.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The placeholder a recorded password is written as.
pub(crate) const REDACTED: &str = "<redacted>";

/// Transfers up to this size of printable text stay inline.
const INLINE_MAX: usize = 256;

/// How a recording is replayed: `settings.toml`, written when recording
/// and meant to be edited.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// `sequence`: each client session follows a recorded one in order;
    /// `lookup`: each command is answered by what was recorded for it.
    #[serde(default)]
    pub matching: Matching,
    /// The reply code for a command the recording does not hold there.
    #[serde(default = "default_miss_code")]
    pub on_miss: u16,
    /// `verify()` also fails for recorded steps no client used.
    #[serde(default)]
    pub strict: bool,
    /// `redacted` (any password is taken) or `kept` (PASS must match).
    #[serde(default)]
    pub passwords: Passwords,
    /// What the upstream was and spoke (for the reader; the replay's own
    /// TLS is its `--tls`).
    #[serde(default)]
    pub upstream: Option<String>,
    #[serde(default)]
    pub upstream_tls: Option<String>,
    #[serde(default)]
    pub recorded: Option<String>,
    /// Rules applied to every line written (not in flight).
    #[serde(default)]
    pub redact: Vec<Redaction>,
}

fn default_miss_code() -> u16 {
    550
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            matching: Matching::default(),
            on_miss: default_miss_code(),
            strict: false,
            passwords: Passwords::default(),
            upstream: None,
            upstream_tls: None,
            recorded: None,
            redact: Vec::new(),
        }
    }
}

/// How a client's command finds its recorded answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Matching {
    #[default]
    Sequence,
    Lookup,
}

/// Whether PASS must match the recorded password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Passwords {
    #[default]
    Redacted,
    Kept,
}

/// A rule that replaces what a regular expression matches, when written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Redaction {
    pub pattern: String,
    pub placeholder: String,
}

/// One exchange: a command (none for the greeting), the replies to it in
/// order, and the data transfer between its first and last reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub command: Option<String>,
    /// Each reply as its wire lines (a multi-line reply whole).
    pub replies: Vec<Vec<String>>,
    pub data: Option<Data>,
    /// Line in the session file, for messages.
    pub line: usize,
}

impl Step {
    /// The verb, upper case ("" for the greeting).
    pub fn verb(&self) -> String {
        self.command
            .as_deref()
            .map(|c| crate::protocol::split(c).0.to_ascii_uppercase())
            .unwrap_or_default()
    }

    /// The argument as sent.
    pub fn arg(&self) -> &str {
        self.command
            .as_deref()
            .and_then(|c| crate::protocol::split(c).1)
            .unwrap_or("")
    }
}

/// A recorded data transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Data {
    pub download: bool,
    pub bytes: u64,
    pub content: Content,
    /// `complete`, or how it broke (`aborted`, `lost`…).
    pub end: String,
}

/// Where a transfer's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    Inline(Vec<u8>),
    /// A file below the recording, `data/<hash>.bin`.
    File(String),
}

/// One recorded client session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordedSession {
    /// The file it came from.
    pub file: PathBuf,
    /// The first USER's name.
    pub user: Option<String>,
    pub steps: Vec<Step>,
}

/// A whole recording, read and checked.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub dir: PathBuf,
    pub settings: Settings,
    pub sessions: Vec<RecordedSession>,
}

/// Why a recording cannot be read: the file and line, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct RecordingError {
    /// The file at fault.
    pub file: PathBuf,
    /// The line, when one is at fault.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

fn error(file: &Path, line: Option<usize>, message: impl Into<String>) -> RecordingError {
    RecordingError {
        file: file.to_path_buf(),
        line,
        message: message.into(),
    }
}

impl Recording {
    /// Reads and checks a recording directory.
    pub fn load(dir: &Path) -> Result<Recording, RecordingError> {
        let settings_file = dir.join("settings.toml");
        let settings = match std::fs::read_to_string(&settings_file) {
            Ok(text) => toml::from_str::<Settings>(&text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
                error(&settings_file, line, e.message().to_string())
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => return Err(error(&settings_file, None, e.to_string())),
        };
        for r in &settings.redact {
            regex::Regex::new(&r.pattern).map_err(|e| {
                error(
                    &settings_file,
                    None,
                    format!("redact pattern {:?}: {e}", r.pattern),
                )
            })?;
        }
        let sessions_dir = dir.join("sessions");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&sessions_dir)
            .map_err(|e| error(&sessions_dir, None, e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(error(&sessions_dir, None, "no session files (*.txt)"));
        }
        let mut sessions = Vec::with_capacity(files.len());
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| error(&file, None, e.to_string()))?;
            let session = parse_session(&file, &text)?;
            for step in &session.steps {
                if let Some(Data {
                    content: Content::File(name),
                    ..
                }) = &step.data
                {
                    if !dir.join(name).is_file() {
                        return Err(error(
                            &file,
                            Some(step.line),
                            format!("{name}: no such data file in the recording"),
                        ));
                    }
                }
            }
            sessions.push(session);
        }
        Ok(Recording {
            dir: dir.to_path_buf(),
            settings,
            sessions,
        })
    }

    /// The bytes of a recorded transfer.
    pub fn bytes(&self, data: &Data) -> std::io::Result<Vec<u8>> {
        match &data.content {
            Content::Inline(b) => Ok(b.clone()),
            Content::File(name) => std::fs::read(self.dir.join(name)),
        }
    }
}

/// Parses one session file.
pub(crate) fn parse_session(file: &Path, text: &str) -> Result<RecordedSession, RecordingError> {
    let mut steps: Vec<Step> = Vec::new();
    let mut user = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let (mark, rest) = match raw.split_at_checked(2) {
            Some((m, r)) if m.ends_with(' ') => (m.trim_end(), r),
            _ if raw.len() == 1 => (raw, ""),
            _ => {
                return Err(error(
                    file,
                    Some(n),
                    "a line starts with '> ', '< ', '= ' or '#'",
                ))
            }
        };
        match mark {
            ">" => {
                let command = unescape(rest).map_err(|m| error(file, Some(n), m))?;
                if user.is_none() {
                    let (verb, arg) = crate::protocol::split(&command);
                    if verb.eq_ignore_ascii_case("USER") {
                        user = arg.map(str::to_string);
                    }
                }
                steps.push(Step {
                    command: Some(command),
                    replies: Vec::new(),
                    data: None,
                    line: n,
                });
            }
            "<" => {
                let line = unescape(rest).map_err(|m| error(file, Some(n), m))?;
                if steps.is_empty() {
                    steps.push(Step {
                        command: None,
                        replies: Vec::new(),
                        data: None,
                        line: n,
                    });
                }
                let step = steps.last_mut().expect("a step");
                let code_of = |l: &str| {
                    l.get(..3)
                        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                        .map(str::to_string)
                };
                // A line continues an open multi-line reply until the line
                // that starts with its code and a space.
                let open = step.replies.last().and_then(|r| {
                    let first = &r[0];
                    let code = code_of(first)?;
                    let closed =
                        r.len() > 1 && r.last().is_some_and(|l| l.starts_with(&format!("{code} ")));
                    (first.as_bytes().get(3) == Some(&b'-') && !closed).then_some(())
                });
                match open {
                    Some(()) => step.replies.last_mut().expect("open reply").push(line),
                    None => {
                        if code_of(&line).is_none() {
                            return Err(error(
                                file,
                                Some(n),
                                format!("{line:?}: a reply starts with a three-digit code"),
                            ));
                        }
                        step.replies.push(vec![line]);
                    }
                }
            }
            "=" => {
                let data = parse_data(rest).map_err(|m| error(file, Some(n), m))?;
                match steps.last_mut() {
                    Some(step) if step.data.is_none() => step.data = Some(data),
                    _ => {
                        return Err(error(
                            file,
                            Some(n),
                            "a transfer line belongs to the command above it (one each)",
                        ))
                    }
                }
            }
            other => {
                return Err(error(
                    file,
                    Some(n),
                    format!("{other:?}: a line starts with '> ', '< ', '= ' or '#'"),
                ))
            }
        }
    }
    for step in &steps {
        if step.replies.is_empty() {
            return Err(error(
                file,
                Some(step.line),
                "a command with no reply recorded",
            ));
        }
    }
    Ok(RecordedSession {
        file: file.to_path_buf(),
        user,
        steps,
    })
}

/// `download 12 data/x.bin complete` or `upload 3 "abc" aborted`.
fn parse_data(text: &str) -> Result<Data, String> {
    let bad = || format!("{text:?}: expected `download|upload BYTES data/FILE|\"TEXT\" END`");
    let (dir, rest) = text.split_once(' ').ok_or_else(bad)?;
    let download = match dir {
        "download" => true,
        "upload" => false,
        _ => return Err(bad()),
    };
    let (bytes, rest) = rest.split_once(' ').ok_or_else(bad)?;
    let bytes: u64 = bytes.parse().map_err(|_| bad())?;
    let (content, end) = if let Some(quoted) = rest.strip_prefix('"') {
        let close = quoted.rfind('"').ok_or_else(bad)?;
        let inner = unescape(&quoted[..close])?;
        (
            Content::Inline(inner.into_bytes()),
            quoted[close + 1..].trim(),
        )
    } else {
        let (name, end) = rest.split_once(' ').unwrap_or((rest, "complete"));
        if !name.starts_with("data/") || name.contains("..") {
            return Err(format!(
                "{name:?}: data files are data/<name> inside the recording"
            ));
        }
        (Content::File(name.to_string()), end.trim())
    };
    if let Content::Inline(b) = &content {
        if b.len() as u64 != bytes {
            return Err(format!(
                "the inline text has {} bytes, the line says {bytes}",
                b.len()
            ));
        }
    }
    Ok(Data {
        download,
        bytes,
        content,
        end: if end.is_empty() { "complete" } else { end }.to_string(),
    })
}

/// Escapes a line for a session file.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let b = u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?;
                out.push(char::from(b));
            }
            other => {
                return Err(format!(
                    "bad escape \\{}",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        }
    }
    Ok(out)
}

/// How a data line is written.
impl fmt::Display for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.download { "download" } else { "upload" };
        match &self.content {
            Content::Inline(b) => write!(
                f,
                "{dir} {} \"{}\" {}",
                self.bytes,
                escape(&String::from_utf8_lossy(b)),
                self.end
            ),
            Content::File(name) => write!(f, "{dir} {} {name} {}", self.bytes, self.end),
        }
    }
}

/// Whether bytes can stay inline: short printable text.
pub(crate) fn inline_ok(bytes: &[u8]) -> bool {
    bytes.len() <= INLINE_MAX
        && std::str::from_utf8(bytes).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t'))
        })
}

/// Writes one session's file as the session goes (each line flushed, so
/// what was recorded survives a crash), with passwords and redaction rules
/// applied on the way to the disk.
pub(crate) struct SessionWriter {
    file: std::fs::File,
    redact: Vec<(regex::Regex, String)>,
    keep_passwords: bool,
}

impl SessionWriter {
    pub fn create(
        path: &Path,
        header: &str,
        redact: &[(regex::Regex, String)],
        keep_passwords: bool,
    ) -> std::io::Result<Self> {
        let mut writer = SessionWriter {
            file: std::fs::File::create(path)?,
            redact: redact.to_vec(),
            keep_passwords,
        };
        for line in header.lines() {
            let line = format!("# {}\n", writer.redacted(line));
            writer.file.write_all(line.as_bytes())?;
        }
        Ok(writer)
    }

    fn redacted(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (re, placeholder) in &self.redact {
            text = re.replace_all(&text, placeholder.as_str()).into_owned();
        }
        text
    }

    fn write(&mut self, mark: char, text: &str) {
        let line = format!("{mark} {}\n", self.redacted(&escape(text)));
        if let Err(e) = self.file.write_all(line.as_bytes()) {
            tracing::warn!(error = %e, "cannot write to the recording");
        }
    }

    /// A command as received; PASS and ACCT lose their argument.
    pub fn command(&mut self, line: &str) {
        let (verb, arg) = crate::protocol::split(line);
        if !self.keep_passwords && arg.is_some() && matches!(verb.as_ref(), "PASS" | "ACCT") {
            self.write('>', &format!("{verb} {REDACTED}"));
        } else {
            self.write('>', line);
        }
    }

    /// A reply's wire lines.
    pub fn reply(&mut self, lines: &[String]) {
        for l in lines {
            self.write('<', l);
        }
    }

    /// A data transfer.
    pub fn data(&mut self, data: &Data) {
        let line = format!("= {data}\n");
        let line = match &data.content {
            Content::Inline(_) => self.redacted(&line),
            Content::File(_) => line,
        };
        if let Err(e) = self.file.write_all(line.as_bytes()) {
            tracing::warn!(error = %e, "cannot write to the recording");
        }
    }

    /// A comment for the reader.
    pub fn note(&mut self, text: &str) {
        if let Err(e) = writeln!(self.file, "# {}", self.redacted(text)) {
            tracing::warn!(error = %e, "cannot write to the recording");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_file_reads_back() {
        let text = "# session 1\n< 220-Welcome\n< 220 ready\n> USER bob\n< 331 pw\n> PASS <redacted>\n< 230 ok\n> RETR a\\\\b.txt\n< 150 go\n= download 3 \"a\\nb\" complete\n< 226 done\n";
        let s = parse_session(Path::new("s.txt"), text).unwrap();
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[0].replies, vec![vec!["220-Welcome", "220 ready"]]);
        assert_eq!(s.steps[3].command.as_deref(), Some("RETR a\\b.txt"));
        assert_eq!(s.steps[3].replies.len(), 2);
        let d = s.steps[3].data.as_ref().unwrap();
        assert_eq!(d.content, Content::Inline(b"a\nb".to_vec()));
        assert_eq!(format!("{d}"), "download 3 \"a\\nb\" complete");
    }

    #[test]
    fn broken_files_name_the_line() {
        let e = parse_session(Path::new("s.txt"), "< 220 hi\n> NOOP\n<200 ok\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = parse_session(Path::new("s.txt"), "< 220 hi\n> NOOP\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = parse_session(Path::new("s.txt"), "< hi\n").unwrap_err();
        assert!(e.message.contains("three-digit"), "{e}");
        let e = parse_session(
            Path::new("s.txt"),
            "< 220 hi\n> RETR x\n< 150 a\n= download 9 \"abc\" complete\n",
        )
        .unwrap_err();
        assert!(e.message.contains("inline text has 3 bytes"), "{e}");
        assert!(e.to_string().starts_with("s.txt:4: "), "{e}");
    }

    #[test]
    fn escapes_round_trip() {
        for s in ["plain", "a\\b", "tab\there", "bell\x07", "quote\"d", "cr\r"] {
            assert_eq!(unescape(&escape(s)).unwrap(), s);
        }
    }
}
