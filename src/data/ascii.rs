//! `TYPE A` line-ending translation: LF on disk, CRLF on the wire.

/// Disk to wire: every LF not already preceded by CR becomes CRLF. Keeps
/// state across chunks, so a CR at the end of one chunk is remembered. Or,
/// as Pure-FTPd's download handler does, every LF gets a CR before it.
#[derive(Debug, Default)]
pub(crate) struct ToWire {
    last_was_cr: bool,
    before_every_lf: bool,
}

impl ToWire {
    /// An encoder that puts a CR before every LF, one already there or not.
    pub(crate) fn before_every_lf() -> Self {
        ToWire {
            last_was_cr: false,
            before_every_lf: true,
        }
    }

    pub(crate) fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for &b in input {
            if b == b'\n' && (self.before_every_lf || !self.last_was_cr) {
                out.push(b'\r');
            }
            out.push(b);
            self.last_was_cr = b == b'\r';
        }
    }

    /// How many bytes `encode` adds for `input` (for `SIZE` in ASCII mode).
    pub(crate) fn extra(&mut self, input: &[u8]) -> u64 {
        let mut n = 0;
        for &b in input {
            if b == b'\n' && (self.before_every_lf || !self.last_was_cr) {
                n += 1;
            }
            self.last_was_cr = b == b'\r';
        }
        n
    }
}

/// Wire to disk: CRLF becomes LF; a CR not followed by LF is kept. A CR at
/// the end of a chunk is held back until the next byte decides. Or, as
/// Pure-FTPd's upload handler does, every CR is dropped.
#[derive(Debug, Default)]
pub(crate) struct FromWire {
    pending_cr: bool,
    drops_every_cr: bool,
}

impl FromWire {
    /// A decoder that drops every CR, not only those before an LF.
    pub(crate) fn dropping_every_cr() -> Self {
        FromWire {
            pending_cr: false,
            drops_every_cr: true,
        }
    }

    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.clear();
        if self.drops_every_cr {
            out.extend(input.iter().copied().filter(|&b| b != b'\r'));
            return;
        }
        for &b in input {
            if std::mem::take(&mut self.pending_cr) && b != b'\n' {
                out.push(b'\r');
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    /// Whatever is held back when the stream ends.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.clear();
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_every_lf() {
        let mut enc = ToWire::before_every_lf();
        let mut out = Vec::new();
        enc.encode(b"a\r\nb\n", &mut out);
        assert_eq!(out, b"a\r\r\nb\r\n");
        assert_eq!(ToWire::before_every_lf().extra(b"a\r\nb\n"), 2);
        assert_eq!(ToWire::default().extra(b"a\r\nb\n"), 1);
    }

    #[test]
    fn dropping_every_cr() {
        let mut dec = FromWire::dropping_every_cr();
        let mut out = Vec::new();
        dec.decode(b"a\r\nb\rc\r", &mut out);
        assert_eq!(out, b"a\nbc");
        dec.finish(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn round_trip_across_chunks() {
        let mut enc = ToWire::default();
        let mut out = Vec::new();
        let mut wire = Vec::new();
        for chunk in [&b"a\nb\r"[..], b"\nc\n"] {
            enc.encode(chunk, &mut out);
            wire.extend_from_slice(&out);
        }
        assert_eq!(wire, b"a\r\nb\r\nc\r\n");
        let mut dec = FromWire::default();
        let mut disk = Vec::new();
        for chunk in [&b"a\r"[..], b"\nb\rx\r\n", b"end\r"] {
            dec.decode(chunk, &mut out);
            disk.extend_from_slice(&out);
        }
        dec.finish(&mut out);
        disk.extend_from_slice(&out);
        assert_eq!(disk, b"a\nb\rx\nend\r");
        assert_eq!(ToWire::default().extra(b"a\nb\r\n\n"), 2);
    }
}
