//! The control connection: bounded line reading and reply writing.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::reply::Reply;

/// Anything a control or data connection can run over (TCP, or TLS on TCP).
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static> Stream for T {}

/// What the client sent next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A complete line, Telnet sequences and line ending removed.
    Line(String),
    /// A line longer than the limit; its bytes were discarded.
    TooLong,
    /// A line that is not valid UTF-8 (shown lossily, for the log).
    NotUtf8(String),
    /// The client closed the connection.
    Closed,
}

pub(crate) struct Control {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    /// How far `buf` has been searched for a newline.
    scanned: usize,
    /// Inside an over-long line: drop bytes up to its newline.
    discarding: bool,
    max_line: usize,
    out: Vec<u8>,
}

impl Control {
    pub(crate) fn new(stream: Box<dyn Stream>, max_line: usize) -> Self {
        Control {
            stream,
            buf: Vec::with_capacity(512),
            scanned: 0,
            discarding: false,
            max_line,
            out: Vec::new(),
        }
    }

    /// Reads the next line. Cancel-safe: bytes read so far stay in `buf`, so
    /// the session can `select!` on this against a running transfer.
    pub(crate) async fn next(&mut self) -> io::Result<Incoming> {
        loop {
            if let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + pos;
                let raw: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                if std::mem::take(&mut self.discarding) || raw.len() > self.max_line + 2 {
                    return Ok(Incoming::TooLong);
                }
                return Ok(decode(&raw[..raw.len() - 1]));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > self.max_line {
                // Never buffer a line without bound: forget it and answer
                // once its end arrives.
                self.discarding = true;
                self.buf.clear();
                self.scanned = 0;
            }
            self.buf.reserve(1024);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Ok(Incoming::Closed);
            }
        }
    }

    /// Writes one reply and flushes it.
    pub(crate) async fn send(&mut self, reply: &Reply) -> io::Result<()> {
        self.out.clear();
        reply.encode(&mut self.out);
        self.stream.write_all(&self.out).await?;
        self.stream.flush().await
    }

    /// Closes the write side (best effort: the peer may be gone already).
    pub(crate) async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

/// Strips the line ending and Telnet commands, then checks UTF-8.
fn decode(line: &[u8]) -> Incoming {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let cleaned = strip_telnet(line);
    match String::from_utf8(cleaned) {
        Ok(s) => Incoming::Line(s),
        Err(e) => Incoming::NotUtf8(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

const IAC: u8 = 255;

/// Removes Telnet IAC sequences (RFC 854), as sent for example by clients
/// that precede ABOR with "interrupt process" and "data mark". `IAC IAC` is a
/// literal 255; `IAC WILL|WONT|DO|DONT x` is three bytes; other commands two;
/// an IAC before a byte that is no command is dropped alone.
fn strip_telnet(line: &[u8]) -> Vec<u8> {
    if !line.contains(&IAC) {
        return line.to_vec();
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] != IAC {
            out.push(line[i]);
            i += 1;
            continue;
        }
        match line.get(i + 1) {
            Some(&IAC) => {
                out.push(IAC);
                i += 2;
            }
            Some(251..=254) => i += 3,
            Some(240..=250) => i += 2,
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telnet_sequences_are_removed() {
        assert_eq!(strip_telnet(b"\xff\xf4\xff\xf2ABOR"), b"ABOR");
        assert_eq!(strip_telnet(b"\xff\xf4\xffABOR"), b"ABOR");
        assert_eq!(strip_telnet(b"a\xff\xffb"), b"a\xffb");
        assert_eq!(strip_telnet(b"\xff\xfb\x01NOOP"), b"NOOP");
    }

    #[tokio::test]
    async fn lines_are_bounded_and_framed() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let mut c = Control::new(Box::new(server), 16);
        let (_r, mut w) = tokio::io::split(client);
        w.write_all(b"NOOP\r\nPWD\n").await.unwrap();
        w.write_all(&[b'x'; 100]).await.unwrap();
        w.write_all(b"\r\nSYST\r\n\xc3\x28\r\n").await.unwrap();
        drop(w);
        assert_eq!(c.next().await.unwrap(), Incoming::Line("NOOP".into()));
        assert_eq!(c.next().await.unwrap(), Incoming::Line("PWD".into()));
        assert_eq!(c.next().await.unwrap(), Incoming::TooLong);
        assert_eq!(c.next().await.unwrap(), Incoming::Line("SYST".into()));
        assert!(matches!(c.next().await.unwrap(), Incoming::NotUtf8(_)));
    }
}
