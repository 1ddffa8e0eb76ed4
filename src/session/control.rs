//! The control connection: bounded line reading and reply writing.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::data::Stream;
use crate::tls::{HandshakeError, Negotiated, Prefixed};

/// What the client sent next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A complete line, Telnet sequences and line ending removed; `wire`
    /// holds the bytes as received (escaped) when they were anything other
    /// than the line and CRLF (a bare LF, Telnet sequences).
    Line { line: String, wire: Option<String> },
    /// A line longer than the limit; its bytes were discarded.
    TooLong,
    /// A line that is not valid UTF-8, its bytes escaped (`\xe9`).
    NotUtf8(String),
    /// The client closed the connection.
    Closed,
}

/// The control connection's transport: plain TCP, or TLS over it once
/// `AUTH TLS` (or an implicit-TLS port) has upgraded it.
enum Conn {
    /// A TCP connection as accepted: the usual case, whose socket options
    /// can still be reached.
    Tcp(tokio::net::TcpStream),
    Plain(Box<dyn Stream>),
    Tls(Box<tokio_rustls::server::TlsStream<Box<dyn Stream>>>),
    /// A failed upgrade consumed the stream; the session must end.
    Gone,
}

impl Conn {
    fn io(&mut self) -> io::Result<&mut dyn Stream> {
        match self {
            Conn::Tcp(s) => Ok(s),
            Conn::Plain(s) => Ok(s.as_mut()),
            Conn::Tls(s) => Ok(s.as_mut()),
            Conn::Gone => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "control connection lost in a failed TLS handshake",
            )),
        }
    }
}

pub(crate) struct Control {
    conn: Conn,
    buf: Vec<u8>,
    /// How far `buf` has been searched for a newline.
    scanned: usize,
    /// Inside an over-long line: drop bytes up to its newline.
    discarding: bool,
    max_line: usize,
    out: Vec<u8>,
    /// The next reply is the last: see [`hold_for_close`](Self::hold_for_close).
    last: bool,
}

/// Writes `buf` with `MSG_MORE`: the kernel holds it back (as `TCP_CORK`
/// would, without the two system calls to set and clear it) until the
/// shutdown that follows, which sends it with the FIN.
#[cfg(target_os = "linux")]
async fn send_more(stream: &tokio::net::TcpStream, mut buf: &[u8]) -> io::Result<()> {
    use rustix::net::SendFlags;
    while !buf.is_empty() {
        stream.writable().await?;
        let sent = stream.try_io(tokio::io::Interest::WRITABLE, || {
            rustix::net::send(stream, buf, SendFlags::MORE | SendFlags::NOSIGNAL)
                .map_err(io::Error::from)
        });
        match sent {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Control {
    /// A control connection over any stream (tests use in-memory pipes).
    #[cfg(test)]
    pub(crate) fn new(stream: Box<dyn Stream>, max_line: usize) -> Self {
        Self::over(Conn::Plain(stream), max_line)
    }

    /// A control connection over a TCP connection.
    pub(crate) fn tcp(stream: tokio::net::TcpStream, max_line: usize) -> Self {
        Self::over(Conn::Tcp(stream), max_line)
    }

    fn over(conn: Conn, max_line: usize) -> Self {
        Control {
            conn,
            // Command lines are short; a longer one grows the buffer.
            buf: Vec::with_capacity(256),
            scanned: 0,
            discarding: false,
            max_line,
            out: Vec::new(),
            last: false,
        }
    }

    /// Holds what is written next back until [`close`](Self::close), so
    /// that a last reply leaves in one segment with the FIN: one packet
    /// (and one wake-up of the client) fewer per session. Best effort.
    pub(crate) fn hold_for_close(&mut self) {
        self.last = true;
    }

    /// Reads the next line. Cancel-safe: bytes read so far stay in `buf`, so
    /// the session can `select!` on this against a running transfer.
    pub(crate) async fn next(&mut self) -> io::Result<Incoming> {
        loop {
            if let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + pos;
                let too_long = std::mem::take(&mut self.discarding) || end + 1 > self.max_line + 2;
                let incoming = if too_long {
                    Incoming::TooLong
                } else {
                    decode(&self.buf[..=end])
                };
                self.buf.drain(..=end);
                self.scanned = 0;
                return Ok(incoming);
            }
            self.scanned = self.buf.len();
            if self.buf.len() > self.max_line {
                // Never buffer a line without bound: forget it and answer
                // once its end arrives.
                self.discarding = true;
                self.buf.clear();
                self.scanned = 0;
            }
            self.buf.reserve(256);
            match self.conn.io()?.read_buf(&mut self.buf).await {
                Ok(0) => return Ok(Incoming::Closed),
                Ok(_) => {}
                // A TLS client that closes its socket without close_notify:
                // a close all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Incoming::Closed),
                Err(e) => return Err(e),
            }
        }
    }

    /// Prepares a reply's wire lines for [`send_staged`](Self::send_staged)
    /// and returns their bytes.
    pub(crate) fn stage(&mut self, lines: &[String]) -> &[u8] {
        self.out.clear();
        crate::protocol::encode_lines(lines, &mut self.out);
        &self.out
    }

    /// The staged reply's bytes, to send some other way (in pieces).
    pub(crate) fn take_staged(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Writes the staged reply and flushes it.
    pub(crate) async fn send_staged(&mut self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if let (true, Conn::Tcp(s)) = (self.last, &self.conn) {
            return send_more(s, &self.out).await;
        }
        let io = self.conn.io()?;
        io.write_all(&self.out).await?;
        io.flush().await
    }

    /// Writes raw bytes as they are (for faults that split or garble
    /// replies), flushing after each piece.
    pub(crate) async fn send_raw(&mut self, piece: &[u8]) -> io::Result<()> {
        let io = self.conn.io()?;
        io.write_all(piece).await?;
        io.flush().await
    }

    /// Closes the write side (best effort: the peer may be gone already).
    pub(crate) async fn close(&mut self) {
        if let Ok(io) = self.conn.io() {
            let _ = io.shutdown().await;
        }
    }

    /// Answers the client's ClientHello with a fatal alert (a fault); the
    /// connection is unusable afterwards.
    pub(crate) async fn fail_tls(&mut self) {
        match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Tcp(mut s) => crate::tls::send_failure_alert(&mut s).await,
            Conn::Plain(mut s) => crate::tls::send_failure_alert(&mut s).await,
            _ => {}
        }
    }

    /// True once the control channel runs over TLS.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.conn, Conn::Tls(_))
    }

    /// Runs the TLS handshake on the control connection. Bytes already
    /// buffered (a ClientHello sent right behind `AUTH TLS`) go to the
    /// handshake. On failure the connection is unusable and the session
    /// must end.
    pub(crate) async fn upgrade(
        &mut self,
        acceptor: &tokio_rustls::TlsAcceptor,
        timeout: std::time::Duration,
    ) -> Result<Negotiated, HandshakeError> {
        let plain: Box<dyn Stream> = match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Tcp(s) => Box::new(s),
            Conn::Plain(s) => s,
            other => {
                self.conn = other;
                return Err(HandshakeError::Failed(io::Error::other(
                    "already running TLS",
                )));
            }
        };
        let pending = std::mem::take(&mut self.buf);
        self.scanned = 0;
        self.discarding = false;
        let stream: Box<dyn Stream> = if pending.is_empty() {
            plain
        } else {
            Box::new(Prefixed::new(pending, plain))
        };
        let tls = crate::tls::accept(acceptor, stream, timeout).await?;
        let negotiated = Negotiated::of(tls.get_ref().1);
        self.conn = Conn::Tls(Box::new(tls));
        Ok(negotiated)
    }

    /// CCC (RFC 4217 section 6): ends TLS on the control channel after the
    /// `200` reply. Both sides exchange close_notify; the plain stream
    /// underneath carries the rest of the session.
    pub(crate) async fn downgrade(&mut self, timeout: std::time::Duration) -> io::Result<()> {
        let tls = match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Tls(t) => t,
            other => {
                self.conn = other;
                return Ok(());
            }
        };
        let (mut plain, mut conn) = (*tls).into_inner();
        // From here on, TLS records are fed to rustls one at a time, read
        // by their length: the client's plaintext commands may follow its
        // close_notify in the same TCP segment, and must stay unread.
        let exchange = async {
            conn.send_close_notify();
            let mut out = Vec::new();
            while conn.wants_write() {
                conn.write_tls(&mut out)?;
            }
            plain.write_all(&out).await?;
            plain.flush().await?;
            let mut sink = [0u8; 512];
            loop {
                let mut header = [0u8; 5];
                plain.read_exact(&mut header).await?;
                let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
                let mut record = header.to_vec();
                record.resize(5 + len, 0);
                plain.read_exact(&mut record[5..]).await?;
                conn.read_tls(&mut &record[..])?;
                conn.process_new_packets().map_err(io::Error::other)?;
                loop {
                    match io::Read::read(&mut conn.reader(), &mut sink) {
                        // The client's close_notify.
                        Ok(0) => return Ok::<_, io::Error>(()),
                        // Data sent under TLS before it: dropped.
                        Ok(_) => continue,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no close_notify")),
        }
        self.conn = Conn::Plain(plain);
        self.buf.clear();
        self.scanned = 0;
        Ok(())
    }
}

/// Strips the line ending and Telnet commands, then checks UTF-8.
/// A received line, LF included, as an `Incoming`.
fn decode(raw: &[u8]) -> Incoming {
    let line = raw.strip_suffix(b"\n").unwrap_or(raw);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let cleaned = strip_telnet(line);
    match String::from_utf8(cleaned) {
        Ok(s) => {
            let exact =
                raw.len() == s.len() + 2 && raw.starts_with(s.as_bytes()) && raw.ends_with(b"\r\n");
            let wire = (!exact).then(|| crate::transcript::escape_bytes(raw));
            Incoming::Line { line: s, wire }
        }
        Err(_) => Incoming::NotUtf8(crate::transcript::escape_bytes(line)),
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
        let line = |l: &str, wire: Option<&str>| Incoming::Line {
            line: l.into(),
            wire: wire.map(str::to_string),
        };
        assert_eq!(c.next().await.unwrap(), line("NOOP", None));
        assert_eq!(c.next().await.unwrap(), line("PWD", Some("PWD\\n")));
        assert_eq!(c.next().await.unwrap(), Incoming::TooLong);
        assert_eq!(c.next().await.unwrap(), line("SYST", None));
        assert_eq!(c.next().await.unwrap(), Incoming::NotUtf8("\\xc3(".into()));
    }
}
