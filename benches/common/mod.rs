//! What both bench binaries share: a minimal FTP client, the CLI as a
//! process of its own, and small statistics helpers.
//!
//! Each bench binary uses a different subset, hence the `allow`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

pub const MIB: usize = 1024 * 1024;

/// A minimal control client: no parsing beyond the reply code, so the
/// client costs as little as possible.
pub struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
    addr: SocketAddr,
}

impl Client {
    pub async fn login(addr: SocketAddr) -> Client {
        Self::login_as(addr, "admin", "123456").await
    }

    pub async fn login_as(addr: SocketAddr, user: &str, pass: &str) -> Client {
        let s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).ok();
        let (r, w) = s.into_split();
        let mut c = Client {
            r: BufReader::new(r),
            w,
            addr,
        };
        c.reply().await;
        c.cmd(&format!("USER {user}")).await;
        let r = c.cmd(&format!("PASS {pass}")).await;
        assert!(r.starts_with("230"), "login refused: {r}");
        c.cmd("TYPE I").await;
        c
    }

    /// The first line of the next reply (a multi-line reply is read whole).
    pub async fn reply(&mut self) -> String {
        let mut first = String::new();
        self.r.read_line(&mut first).await.expect("reply");
        if first.as_bytes().get(3) == Some(&b'-') {
            let end = format!("{} ", &first[..3]);
            loop {
                let mut l = String::new();
                self.r.read_line(&mut l).await.expect("reply");
                if l.starts_with(&end) || l.is_empty() {
                    break;
                }
            }
        }
        first
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.w
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("send");
        self.reply().await
    }

    /// A passive data connection (EPSV).
    pub async fn data(&mut self) -> TcpStream {
        let r = self.cmd("EPSV").await;
        let port: u16 = r
            .split('|')
            .nth(3)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("229 expected, got {r}"));
        TcpStream::connect(SocketAddr::new(self.addr.ip(), port))
            .await
            .expect("data")
    }

    /// Downloads a file, counting its bytes.
    pub async fn retr(&mut self, name: &str) -> usize {
        let mut data = self.data().await;
        let r = self.cmd(&format!("RETR {name}")).await;
        assert!(r.starts_with("150") || r.starts_with("125"), "RETR: {r}");
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0;
        loop {
            let k = data.read(&mut buf).await.expect("read");
            if k == 0 {
                break;
            }
            n += k;
        }
        let r = self.reply().await;
        assert!(r.starts_with("226"), "end of RETR: {r}");
        n
    }

    /// Downloads a file whole.
    pub async fn retr_all(&mut self, name: &str) -> Vec<u8> {
        let mut data = self.data().await;
        let r = self.cmd(&format!("RETR {name}")).await;
        assert!(r.starts_with("150") || r.starts_with("125"), "RETR: {r}");
        let mut got = Vec::new();
        data.read_to_end(&mut got).await.expect("read");
        let r = self.reply().await;
        assert!(r.starts_with("226"), "end of RETR: {r}");
        got
    }

    /// Uploads `bytes` bytes of filler.
    pub async fn stor(&mut self, name: &str, bytes: usize) {
        let buf = vec![7u8; 256 * 1024];
        let mut data = self.data().await;
        let r = self.cmd(&format!("STOR {name}")).await;
        assert!(r.starts_with("150") || r.starts_with("125"), "STOR: {r}");
        let mut left = bytes;
        while left > 0 {
            let k = left.min(buf.len());
            data.write_all(&buf[..k]).await.expect("write");
            left -= k;
        }
        data.shutdown().await.expect("fin");
        drop(data);
        let r = self.reply().await;
        assert!(r.starts_with("226"), "end of STOR: {r}");
    }

    /// Uploads the given pieces one after another as one file.
    pub async fn stor_parts(&mut self, name: &str, parts: &[&[u8]]) {
        let mut data = self.data().await;
        let r = self.cmd(&format!("STOR {name}")).await;
        assert!(r.starts_with("150") || r.starts_with("125"), "STOR: {r}");
        for part in parts {
            data.write_all(part).await.expect("write");
        }
        data.shutdown().await.expect("fin");
        drop(data);
        let r = self.reply().await;
        assert!(r.starts_with("226"), "end of STOR: {r}");
    }
}

/// The ftpfixture CLI, started on an ephemeral port; killed on drop.
pub struct Cli {
    pub child: tokio::process::Child,
    pub addr: SocketAddr,
}

impl Cli {
    /// Starts the CLI with `args` (besides `--port 0`) and waits for its
    /// ready line.
    pub async fn start(args: &[&std::ffi::OsStr]) -> Cli {
        Self::start_binary(env!("CARGO_BIN_EXE_ftpfixture").as_ref(), args).await
    }

    /// [`start`](Self::start) with another build of the CLI (a baseline).
    pub async fn start_binary(binary: &std::path::Path, args: &[&std::ffi::OsStr]) -> Cli {
        let mut child = tokio::process::Command::new(binary)
            .args(["--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the ftpfixture binary");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut ready)
            .await
            .expect("ready line");
        let port = ready
            .split("\"port\":")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("port in the ready line: {ready}"));
        Cli {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }
}

/// `cargo bench -- <filter>`: whether the section `name` runs (all run
/// without a filter).
pub fn wanted(name: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| name.contains(f.as_str()))
}

/// The bench clients' runtime: two workers, like the server's.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The median of the numbers that are not NaN (a failed round); NaN when
/// none is.
pub fn median_f64(v: Vec<f64>) -> f64 {
    let mut v: Vec<f64> = v.into_iter().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

/// One step of a bench client, which must not hang the bench.
pub async fn step<T>(client: usize, what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(30), f).await {
        Ok(v) => v,
        Err(_) => panic!("client {client} stuck at {what}"),
    }
}

/// VmRSS in KiB from a /proc status file.
pub fn rss_in(status: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resident memory of a process, from /proc.
pub fn rss_kib_of(pid: u32) -> Option<u64> {
    rss_in(&format!("/proc/{pid}/status"))
}
