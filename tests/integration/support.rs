//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The whole binary's deadline. The suite takes seconds; a test that hangs
/// (a server bug that never answers, a client read without a timeout) would
/// otherwise hold CI until its own limit. All tests share one process, so
/// the first helper call arms one watchdog for all of them.
const SUITE_DEADLINE: Duration = Duration::from_secs(600);

/// Arms the watchdog (once): past the deadline the process exits with a
/// failure instead of hanging.
pub fn watchdog() {
    static ARMED: std::sync::Once = std::sync::Once::new();
    ARMED.call_once(|| {
        std::thread::spawn(|| {
            std::thread::sleep(SUITE_DEADLINE);
            eprintln!(
                "integration tests still running after {SUITE_DEADLINE:?}: a test hangs \
                 (rerun with --nocapture to see which one started last)"
            );
            std::process::exit(101);
        });
    });
}

/// A control connection that speaks raw lines, for the inputs no polite
/// client sends (over-long lines, Telnet bytes, bad UTF-8, wrong sequences).
pub struct RawClient {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

/// How long a raw read may wait before the test fails (never a hang).
pub const WAIT: Duration = Duration::from_secs(10);

impl RawClient {
    /// Connects and reads the greeting.
    pub async fn connect(addr: SocketAddr) -> (RawClient, String) {
        watchdog();
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (r, w) = stream.into_split();
        let mut c = RawClient {
            reader: BufReader::new(r),
            writer: w,
        };
        let greeting = c.reply().await;
        (c, greeting)
    }

    /// Connects and logs in as admin.
    pub async fn login(addr: SocketAddr) -> RawClient {
        let (mut c, _) = Self::connect(addr).await;
        assert!(c.cmd("USER admin").await.starts_with("331"));
        assert!(c.cmd("PASS 123456").await.starts_with("230"));
        c
    }

    /// Sends raw bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("write");
    }

    /// Sends a line (CRLF added) and returns the complete reply.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Reads one complete reply (all lines of a multi-line reply, joined by
    /// `\n`, without CRLF). Empty string if the server closed.
    pub async fn reply(&mut self) -> String {
        tokio::time::timeout(WAIT, self.read_reply())
            .await
            .expect("reply within 10 s")
    }

    async fn read_reply(&mut self) -> String {
        let mut lines: Vec<String> = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return lines.join("\n");
            }
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            let done = lines.is_empty() && line.len() >= 4 && line.as_bytes()[3] == b' '
                || !lines.is_empty()
                    && line.len() >= 4
                    && line[..3] == lines[0][..3]
                    && line.as_bytes()[3] == b' ';
            lines.push(line);
            if done {
                return lines.join("\n");
            }
        }
    }

    /// True once the server has closed the connection.
    pub async fn closed(&mut self) -> bool {
        let mut line = String::new();
        matches!(
            tokio::time::timeout(WAIT, self.reader.read_line(&mut line)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    /// Reads one raw line (without CRLF), for replies that break the
    /// multi-line format on purpose.
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
            .await
            .expect("line within 10 s")
            .expect("read");
        line.trim_end_matches(['\r', '\n']).to_string()
    }

    /// True once the server has closed the connection, whatever it sent
    /// before closing (a TLS alert, say).
    pub async fn eof(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(WAIT, self.reader.read_to_end(&mut rest)).await,
            Ok(Ok(_)) | Ok(Err(_))
        )
    }

    /// Sends EPSV and connects to the announced port.
    pub async fn epsv_connect(&mut self, addr: SocketAddr) -> TcpStream {
        let reply = self.cmd("EPSV").await;
        assert!(reply.starts_with("229"), "{reply}");
        let port: u16 = reply
            .split('|')
            .nth(3)
            .and_then(|p| p.parse().ok())
            .expect("port in 229");
        TcpStream::connect(SocketAddr::new(addr.ip(), port))
            .await
            .expect("data connect")
    }
}

/// The code of a reply.
pub fn code(reply: &str) -> u16 {
    reply.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Runs a Python script with ftplib; arguments follow `-c script`.
pub fn python(script: &str, args: &[&str]) -> Output {
    watchdog();
    // Every socket gets a timeout, so a server bug fails the test instead
    // of hanging the suite.
    let script = format!("import socket\nsocket.setdefaulttimeout(20)\n{script}");
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs curl (silent, errors shown, bounded in time) with `args`.
pub fn curl(args: &[&str]) -> Output {
    watchdog();
    Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs")
}

/// A blocking variant of `curl` for use inside async tests.
pub async fn curl_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&args)
    })
    .await
    .expect("curl task")
}

/// A blocking variant of `python` for use inside async tests.
pub async fn python_async(script: &'static str, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python(script, &args)
    })
    .await
    .expect("python task")
}

/// Deterministic pseudo-random bytes (no rand dependency needed).
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    watchdog();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
