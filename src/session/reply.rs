//! Replies: a code and one or more lines of text.

/// One reply to a command. A single line is sent as `code text`; several as
/// the RFC 959 multi-line form `code-first`, ` middle`…, `code last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The text lines (at least one).
    pub lines: Vec<String>,
    /// `lines` are already wire lines, codes included (quirk faults that
    /// break the multi-line format on purpose).
    verbatim: bool,
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
            verbatim: false,
        }
    }

    /// One line as a one-line reply, several in the multi-line form (an
    /// empty list is an empty one-line reply).
    pub fn from_lines(code: u16, mut lines: Vec<String>) -> Self {
        if lines.len() < 2 {
            return Reply::new(code, lines.pop().unwrap_or_default());
        }
        let last = lines.pop().unwrap_or_default();
        let first = lines.remove(0);
        Reply::multi(code, first, lines, last)
    }

    /// A reply sent exactly as these wire lines (codes included), even
    /// where that breaks RFC 959: for faults that imitate broken servers.
    pub fn raw(code: u16, wire_lines: Vec<String>) -> Self {
        Reply {
            code,
            lines: wire_lines,
            verbatim: true,
        }
    }

    /// A multi-line reply: `first`, the `middle` lines (each sent with a
    /// leading space, so a line that starts with digits cannot be mistaken
    /// for the end), then `last`.
    pub fn multi(
        code: u16,
        first: impl Into<String>,
        middle: Vec<String>,
        last: impl Into<String>,
    ) -> Self {
        let mut lines = Vec::with_capacity(middle.len() + 2);
        lines.push(first.into());
        lines.extend(middle);
        lines.push(last.into());
        Reply {
            code,
            lines,
            verbatim: false,
        }
    }

    /// The lines exactly as they go on the wire, without CRLF.
    pub fn wire_lines(&self) -> Vec<String> {
        if self.verbatim {
            return self.lines.clone();
        }
        let n = self.lines.len();
        self.lines
            .iter()
            .enumerate()
            .map(|(i, text)| match i {
                _ if n == 1 => format!("{} {}", self.code, text),
                0 => format!("{}-{}", self.code, text),
                _ if i == n - 1 => format!("{} {}", self.code, text),
                _ => format!(" {text}"),
            })
            .collect()
    }

    /// Appends the wire form, CRLF included, to `out`.
    #[cfg(test)]
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_lines(&self.wire_lines(), out);
    }
}

/// Appends wire lines (from [`Reply::wire_lines`]), each with CRLF, to
/// `out`. A reply text must not break the framing: CR and LF inside a line
/// (say, from a file name) become spaces.
pub(crate) fn encode_lines(lines: &[String], out: &mut Vec<u8>) {
    for line in lines {
        let bytes = line.as_bytes();
        if bytes.iter().any(|&b| b == b'\r' || b == b'\n') {
            out.extend(bytes.iter().map(|&b| match b {
                b'\r' | b'\n' => b' ',
                b => b,
            }));
        } else {
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_single_and_multi() {
        let mut out = Vec::new();
        Reply::new(200, "OK").encode(&mut out);
        Reply::multi(
            211,
            "Features:",
            vec!["SIZE".into(), "211 looks like an end".into()],
            "End",
        )
        .encode(&mut out);
        Reply::new(550, "a\r\nb\nc").encode(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "200 OK\r\n211-Features:\r\n SIZE\r\n 211 looks like an end\r\n211 End\r\n550 a  b c\r\n"
        );
    }
}
