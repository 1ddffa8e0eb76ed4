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
            .map(|(i, text)| wire_line(self.code, i, n, text))
            .collect()
    }

    /// [`wire_lines`](Self::wire_lines), in the reply's own list (every
    /// reply the engine sends goes through here).
    pub(crate) fn into_wire_lines(self) -> Vec<String> {
        let mut lines = self.lines;
        if !self.verbatim {
            let n = lines.len();
            for (i, text) in lines.iter_mut().enumerate() {
                *text = wire_line(self.code, i, n, text);
            }
        }
        lines
    }

    /// Appends the wire form, CRLF included, to `out`.
    #[cfg(test)]
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_lines(&self.wire_lines(), out);
    }
}

/// Line `i` of `n` of a reply, as it goes on the wire (without CRLF).
fn wire_line(code: u16, i: usize, n: usize, text: &str) -> String {
    match i {
        _ if n == 1 => coded(code, ' ', text),
        0 => coded(code, '-', text),
        _ if i == n - 1 => coded(code, ' ', text),
        _ => format!(" {text}"),
    }
}

/// `code`, `sep`, `text` as one line, allocated once at its final size
/// (every reply goes through here).
fn coded(code: u16, sep: char, text: &str) -> String {
    let mut line = String::with_capacity(5 + 1 + text.len());
    if (100..1000).contains(&code) {
        for digit in [code / 100, code / 10 % 10, code % 10] {
            line.push(char::from(b'0' + digit as u8));
        }
    } else {
        line.push_str(&code.to_string());
    }
    line.push(sep);
    line.push_str(text);
    line
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

    #[test]
    fn codes_outside_three_digits_are_written_whole() {
        assert_eq!(Reply::new(42, "x").wire_lines(), ["42 x"]);
        assert_eq!(Reply::new(1000, "y").wire_lines(), ["1000 y"]);
        assert_eq!(Reply::new(999, "").wire_lines(), ["999 "]);
        let multi = Reply::multi(211, "a", vec!["b".into()], "c");
        assert_eq!(multi.wire_lines(), multi.clone().into_wire_lines());
    }
}
