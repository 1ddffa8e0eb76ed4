//! ftpfixture side by side with other FTP servers (`cargo bench --bench
//! peers`): pyftpdlib, unftp and vsftpd, each a process of its own on
//! loopback, each serving a directory on disk, driven by the same Rust
//! clients. The machine is noisy, so the servers take turns within each
//! round (the order rotates from round to round) and the table shows
//! medians and ratios; absolute numbers are for orientation only.
//!
//! A peer that is not installed is skipped with a message:
//! - pyftpdlib: `pip install pyftpdlib`; the bench runs `python3`, or the
//!   interpreter named by `FTPFIXTURE_BENCH_PYTHON`.
//! - unftp: `cargo install unftp`; the bench runs `unftp` from `PATH` or
//!   `~/.cargo/bin`, or the binary named by `FTPFIXTURE_BENCH_UNFTP`.
//! - vsftpd: `apt-get install vsftpd`; needs root to start.
//!
//! Measured: server CPU per session, sessions per second, 64 concurrent
//! downloads, a 500-client mixed load, one 256 MiB upload and download,
//! memory per idle logged-in session, and (`python`) the mixed load driven
//! by 300 Python ftplib threads, a client that competes for the CPU as
//! real test processes do: its wall time, the server's CPU and (on every
//! core) how often the client's threads slept, on every core and with
//! both pinned to core 0 (`taskset`); (`node`) the same load from one
//! Node.js thread with basic-ftp (`clients/node`'s dev dependency); and
//! (`ftps`) the server's CPU per FTPS session, every server with one RSA
//! certificate and ftpfixture also with its own (benches/ftps/mod.rs).
//!
//! `FTPFIXTURE_BENCH_BASELINE=path/to/ftpfixture` adds another build of
//! the CLI as the peer `baseline` (a change beside the commit before it).
//!
//! `FTPFIXTURE_BENCH_ROUNDS` sets the number of rounds (default 5),
//! `FTPFIXTURE_BENCH_PEERS` the peers to run (`unftp,pyftpdlib`); a
//! filter argument (`cargo bench --bench peers -- sessions`) runs only the
//! measurements whose name contains it.
//!
//! Every server logs warnings only, so that no one pays for log lines;
//! ftpfixture records its transcript, which is part of the product.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

mod common;
mod ftps;
use common::{mbps, median_f64, step, Cli, Client, MIB};

/// Sessions per CPU measurement (per server and round), in blocks that
/// the servers take turns at, and the client connections running them.
const SESSIONS: usize = 6400;
const SESSION_BLOCKS: usize = 8;
const SESSION_CLIENTS: usize = 16;
/// Concurrent downloads of one 4 MiB file.
const CONCURRENT_RETR: usize = 64;
const RETR_SIZE: usize = 4 * MIB;
/// The mixed load: clients, files per client, bytes per file.
const MIXED_CLIENTS: usize = 500;
const MIXED_FILES: usize = 4;
const MIXED_SIZE: usize = 256 * 1024;
/// One large upload and download.
const BIG: usize = 256 * MIB;

/// A server under test, running until dropped.
struct Peer {
    name: &'static str,
    addr: SocketAddr,
    user: &'static str,
    pass: &'static str,
    /// Where the bench's files are, relative to the login directory.
    cwd: Option<&'static str>,
    process: Process,
    _dir: tempfile::TempDir,
}

enum Process {
    Cli(Cli),
    Child(std::process::Child),
}

impl Process {
    fn pid(&self) -> u32 {
        match self {
            Process::Cli(cli) => cli.pid(),
            Process::Child(child) => child.id(),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Process::Child(child) = &mut self.process {
            kill(child);
        }
    }
}

impl Peer {
    async fn login(&self) -> Client {
        let mut c = Client::login_as(self.addr, self.user, self.pass).await;
        if let Some(dir) = self.cwd {
            let r = c.cmd(&format!("CWD {dir}")).await;
            assert!(r.starts_with("250"), "{}: CWD {dir}: {r}", self.name);
        }
        c
    }

    /// CPU time the server has used so far, its reaped children included
    /// (vsftpd forks a process per session).
    fn cpu(&self) -> Duration {
        cpu_of(self.process.pid()).unwrap_or_default()
    }

    /// The CPU time once the server has finished what it was doing:
    /// session ends and reaped children land a moment after the client
    /// sees the connection close.
    async fn settled_cpu(&self) -> Duration {
        let mut last = self.cpu();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = self.cpu();
            if now == last {
                break;
            }
            last = now;
        }
        last
    }
}

/// utime + stime + cutime + cstime of a process, from /proc.
fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it do not.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // Fields 14 to 17 of stat(5); `rest` starts at field 3.
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum::<Option<u64>>()?;
    Some(Duration::from_micros(ticks * 1_000_000 / clock_ticks()))
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

/// A free loopback port (bound and released; peers that cannot bind port
/// 0 themselves are given one).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Waits until `child` accepts connections on `addr`; kills it if it
/// never does.
async fn wait_listening(child: &mut std::process::Child, addr: SocketAddr) -> Result<(), String> {
    for _ in 0..250 {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited at start ({status})"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(child);
    Err("did not start listening within 5 s".into())
}

fn kill(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A directory holding the files the downloads read.
fn content_dir(files: &Files, sub: Option<&str>) -> Result<(tempfile::TempDir, PathBuf), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().join("root");
    let files_dir = match sub {
        Some(sub) => root.join(sub),
        None => root.clone(),
    };
    std::fs::create_dir_all(&files_dir).map_err(|e| e.to_string())?;
    std::fs::write(files_dir.join("four.bin"), &files.four).map_err(|e| e.to_string())?;
    std::fs::write(files_dir.join("big.bin"), &files.big).map_err(|e| e.to_string())?;
    Ok((dir, root))
}

struct Files {
    four: Vec<u8>,
    big: Vec<u8>,
}

/// The CLI that `cargo bench` built.
fn ftpfixture_binary() -> &'static Path {
    env!("CARGO_BIN_EXE_ftpfixture").as_ref()
}

async fn start_ftpfixture(files: &Files) -> Result<Peer, String> {
    start_cli(files, "ftpfixture", ftpfixture_binary(), &[]).await
}

/// Another build of ftpfixture (`FTPFIXTURE_BENCH_BASELINE=path/to/binary`,
/// say the previous commit's), as a peer: a change's cost side by side.
async fn start_baseline(files: &Files) -> Result<Peer, String> {
    let binary = std::env::var_os("FTPFIXTURE_BENCH_BASELINE")
        .ok_or("not asked for (set FTPFIXTURE_BENCH_BASELINE to another build's binary)")?;
    start_cli(files, "baseline", Path::new(&binary), &[]).await
}

/// The CLI `binary` serving a fresh content directory, with `extra`
/// arguments (TLS).
async fn start_cli(
    files: &Files,
    name: &'static str,
    binary: &Path,
    extra: &[&std::ffi::OsStr],
) -> Result<Peer, String> {
    let (dir, root) = content_dir(files, None)?;
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--log-level".as_ref(),
        "warn".as_ref(),
        "--root".as_ref(),
        root.as_os_str(),
    ];
    args.extend_from_slice(extra);
    let cli = Cli::start_binary(binary, &args).await;
    Ok(Peer {
        name,
        addr: cli.addr,
        user: "admin",
        pass: "123456",
        cwd: None,
        process: Process::Cli(cli),
        _dir: dir,
    })
}

/// pyftpdlib with its defaults (sendfile for downloads, epoll), except
/// what the load needs: a listen backlog and a connection limit above 500.
/// argv: root, and for FTPS (TLS_FTPHandler, which needs pyOpenSSL) a
/// certificate and its key.
const PYFTPDLIB: &str = r#"
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.log import config_logging
from pyftpdlib.servers import FTPServer
config_logging(level=logging.WARNING)
authorizer = DummyAuthorizer()
authorizer.add_user("admin", "123456", sys.argv[1], perm="elradfmwMT")
handler = FTPHandler
if len(sys.argv) > 3:
    from pyftpdlib.handlers import TLS_FTPHandler
    handler = TLS_FTPHandler
    handler.certfile = sys.argv[2]
    handler.keyfile = sys.argv[3]
handler.authorizer = authorizer
server = FTPServer(("127.0.0.1", 0), handler, backlog=1024)
server.max_cons = 4096
print(server.address[1], flush=True)
server.serve_forever()
"#;

async fn start_pyftpdlib(files: &Files, tls: Option<&ftps::Certificate>) -> Result<Peer, String> {
    let python = std::env::var("FTPFIXTURE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let import = if tls.is_some() {
        "import pyftpdlib, OpenSSL"
    } else {
        "import pyftpdlib"
    };
    let has = std::process::Command::new(&python)
        .args(["-c", import])
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("{python}: {e}"))?;
    if !has.success() {
        return Err(format!(
            "not installed for {python} (pip install pyftpdlib pyopenssl, or set FTPFIXTURE_BENCH_PYTHON)"
        ));
    }
    let (dir, root) = content_dir(files, None)?;
    let mut child = std::process::Command::new(&python)
        .args(["-c", PYFTPDLIB])
        .arg(&root)
        .args(tls.iter().flat_map(|t| [&t.cert, &t.key]))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .map_err(|e| e.to_string())?;
    let port: u16 = match line.trim().parse() {
        Ok(p) => p,
        Err(_) => {
            kill(&mut child);
            return Err(format!("no port on its first line: {line:?}"));
        }
    };
    Ok(Peer {
        name: "pyftpdlib",
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        user: "admin",
        pass: "123456",
        cwd: None,
        process: Process::Child(child),
        _dir: dir,
    })
}

fn find_unftp() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("FTPFIXTURE_BENCH_UNFTP") {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("unftp"))
        .find(|p| p.is_file())
}

async fn start_unftp(files: &Files, tls: Option<&ftps::Certificate>) -> Result<Peer, String> {
    let bin = find_unftp().ok_or(
        "not installed (cargo install unftp, or set FTPFIXTURE_BENCH_UNFTP to its binary)",
    )?;
    let (dir, root) = content_dir(files, None)?;
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = std::process::Command::new(&bin)
        .arg(format!("--root-dir={}", root.display()))
        .arg(format!("--bind-address={addr}"))
        .arg("--passive-ports=49152-65535")
        .arg(format!("--bind-address-http=127.0.0.1:{}", free_port()?))
        .arg("--log-level=warn")
        .args(tls.iter().flat_map(|t| {
            [
                format!("--ftps-certs-file={}", t.cert.display()),
                format!("--ftps-key-file={}", t.key.display()),
            ]
        }))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    wait_listening(&mut child, addr).await?;
    Ok(Peer {
        name: "unftp",
        addr,
        user: "anonymous",
        pass: "bench@",
        cwd: None,
        process: Process::Child(child),
        _dir: dir,
    })
}

/// vsftpd in the foreground, anonymous read and write in `pub` (vsftpd
/// refuses a chroot root the anonymous user can write to). Without its
/// per-session network namespace (`isolate_network`): tearing those down
/// keeps a kernel thread busy long after each session, which would land on
/// whichever server is measured next.
async fn start_vsftpd(files: &Files, tls: Option<&ftps::Certificate>) -> Result<Peer, String> {
    use std::os::unix::fs::PermissionsExt;
    let bin = ["/usr/sbin/vsftpd", "/usr/bin/vsftpd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("not installed (apt-get install vsftpd)")?;
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| e.to_string())?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("needs root to start".into());
    }
    let (dir, root) = content_dir(files, Some("pub"))?;
    let set_mode = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())
    };
    set_mode(&root, 0o555)?;
    set_mode(&root.join("pub"), 0o777)?;
    for f in ["four.bin", "big.bin"] {
        set_mode(&root.join("pub").join(f), 0o666)?;
    }
    let port = free_port()?;
    let conf = dir.path().join("vsftpd.conf");
    // FTPS allowed (not forced) for the anonymous user, with the data
    // connection's session reuse vsftpd requires by default.
    let ssl = tls.map_or(String::new(), |t| {
        format!(
            "ssl_enable=YES\nallow_anon_ssl=YES\nforce_anon_logins_ssl=NO\n\
             force_anon_data_ssl=NO\nrsa_cert_file={}\nrsa_private_key_file={}\n",
            t.cert.display(),
            t.key.display()
        )
    });
    std::fs::write(
        &conf,
        format!(
            "listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
             anonymous_enable=YES\nlocal_enable=NO\nwrite_enable=YES\n\
             anon_upload_enable=YES\nanon_other_write_enable=YES\nanon_umask=022\n\
             anon_world_readable_only=NO\nmax_clients=0\nmax_per_ip=0\n\
             anon_root={}\nseccomp_sandbox=NO\nxferlog_enable=NO\n\
             isolate=NO\nisolate_network=NO\n{ssl}",
            root.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut child = std::process::Command::new(bin)
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_listening(&mut child, addr).await?;
    Ok(Peer {
        name: "vsftpd",
        addr,
        user: "anonymous",
        pass: "bench@",
        cwd: Some("pub"),
        process: Process::Child(child),
        _dir: dir,
    })
}

/// One session as cheap for the client as it gets: greeting, USER, PASS,
/// QUIT (each sent once the previous reply is in, as clients do), and the
/// server's close.
async fn one_session(peer_addr: SocketAddr, commands: &[String; 3]) {
    let s = TcpStream::connect(peer_addr).await.expect("connect");
    s.set_nodelay(true).ok();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    for next in std::iter::once(None).chain(commands.iter().map(Some)) {
        if let Some(command) = next {
            r.get_mut()
                .write_all(command.as_bytes())
                .await
                .expect("send");
        }
        // The last line of the reply: code and a space.
        loop {
            line.clear();
            let n = r.read_line(&mut line).await.expect("reply");
            assert!(n > 0, "closed before the reply to {next:?}");
            if line.as_bytes().get(3) == Some(&b' ') {
                break;
            }
        }
    }
    assert!(line.starts_with("221"), "QUIT: {line}");
    // The server closes after 221.
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest).await;
}

/// Runs `n` sessions from [`SESSION_CLIENTS`] connections at once; the
/// server CPU and the wall time they took.
async fn sessions(peer: &Peer, n: usize) -> (Duration, Duration) {
    let login = Arc::new([
        format!("USER {}\r\n", peer.user),
        format!("PASS {}\r\n", peer.pass),
        "QUIT\r\n".to_string(),
    ]);
    let before = peer.settled_cpu().await;
    let t = Instant::now();
    let tasks: Vec<_> = (0..SESSION_CLIENTS)
        .map(|i| {
            let addr = peer.addr;
            let login = login.clone();
            tokio::spawn(async move {
                for _ in 0..n / SESSION_CLIENTS {
                    step(i, "session", one_session(addr, &login)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("session client");
    }
    let wall = t.elapsed();
    (peer.settled_cpu().await - before, wall)
}

/// Proportional memory (PSS: shared pages split among the processes that
/// share them) of a process and all its descendants (vsftpd forks a
/// process or two per session), in KiB.
fn tree_pss_kib(root: u32) -> u64 {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The parent is the second field after the command name.
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 2..].split(' ').nth(1))
                .and_then(|p| p.parse().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.iter().filter_map(|&p| pss_kib_of(p)).sum()
}

fn pss_kib_of(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup
        .lines()
        .find(|l| l.starts_with("Pss:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// KiB of server memory per logged-in idle session: 500 sessions held
/// open, the server's memory (its child processes included) before and
/// after.
async fn idle_memory(peer: &Peer) -> f64 {
    const N: usize = 500;
    let before = tree_pss_kib(peer.process.pid());
    let mut held = Vec::with_capacity(N);
    for _ in 0..N {
        held.push(peer.login().await);
    }
    let after = tree_pss_kib(peer.process.pid());
    for mut c in held {
        c.cmd("QUIT").await;
    }
    after.saturating_sub(before) as f64 / N as f64
}

/// MiB/s of 64 simultaneous downloads of a 4 MiB file (logins beforehand).
async fn concurrent_retr(peer: &Peer) -> f64 {
    let mut clients = Vec::with_capacity(CONCURRENT_RETR);
    for _ in 0..CONCURRENT_RETR {
        clients.push(peer.login().await);
    }
    let go = Arc::new(tokio::sync::Barrier::new(CONCURRENT_RETR + 1));
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let go = go.clone();
            tokio::spawn(async move {
                go.wait().await;
                let n = step(i, "RETR", c.retr("four.bin")).await;
                assert_eq!(n, RETR_SIZE);
                c
            })
        })
        .collect();
    go.wait().await;
    let t = Instant::now();
    let mut done = Vec::with_capacity(CONCURRENT_RETR);
    // As in the mixed load, a server that fails a client loses the round.
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(c) => done.push(c),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    let d = t.elapsed();
    drop(done);
    if let Some(e) = failure {
        println!(
            "peers: {} failed the concurrent RETR this round: {e}",
            peer.name
        );
        return f64::NAN;
    }
    mbps(RETR_SIZE * CONCURRENT_RETR, d)
}

/// Seconds for 500 clients at once, each logging in, storing four 256 KiB
/// files and fetching them back, checked byte for byte; NaN when a client
/// failed.
/// The mixed load driven by a client that competes for the CPU as real
/// test processes do: Python's ftplib, one thread per client (300), each
/// storing four 256 KiB files and fetching them back with a checksum.
/// argv: host, port, user, password, cwd ("" for none), clients.
const PYTHON_MIXED: &str = r#"
import ftplib, hashlib, io, os, sys, threading, time
host, port, user, password, cwd, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
base = [os.urandom(256 * 1024) for _ in range(4)]
admission = threading.Semaphore(32)
failures = []
def client(i):
    try:
        with admission:
            ftp = ftplib.FTP()
            ftp.connect(host, port, timeout=60)
            ftp.login(user, password)
        if cwd:
            ftp.cwd(cwd)
        head = i.to_bytes(8, "little")
        sums = []
        for k, body in enumerate(base):
            data = head + body[8:]
            sums.append(hashlib.sha256(data).digest())
            ftp.storbinary("STOR py-%d-%d.bin" % (i, k), io.BytesIO(data))
        for k in range(len(base)):
            got = []
            ftp.retrbinary("RETR py-%d-%d.bin" % (i, k), got.append)
            if hashlib.sha256(b"".join(got)).digest() != sums[k]:
                failures.append("client %d: file %d came back different" % (i, k))
        ftp.quit()
    except Exception as e:
        failures.append("client %d: %r" % (i, e))
start = time.monotonic()
threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.monotonic() - start
for f in failures[:5]:
    print(f, file=sys.stderr)
print("%.3f %d" % (wall, len(failures)))
sys.exit(1 if failures else 0)
"#;

/// The same load from Node.js: basic-ftp clients as promises on one
/// thread, each storing four 256 KiB files and fetching them back with a
/// checksum. argv: host, port, user, password, cwd ("" for none), clients.
const NODE_MIXED: &str = r#"
const ftp = require("basic-ftp");
const crypto = require("crypto");
const { Readable, Writable } = require("stream");
const [host, port, user, password, cwd, clients] = process.argv.slice(1);
const base = [0, 1, 2, 3].map(() => crypto.randomBytes(256 * 1024));
let free = 32;
const queue = [];
const admit = () => free > 0 ? (free--, Promise.resolve()) : new Promise((r) => queue.push(r));
const leave = () => { const next = queue.shift(); if (next) next(); else free++; };
const failures = [];
async function client(i) {
  const c = new ftp.Client(60000);
  try {
    await admit();
    try { await c.access({ host, port: Number(port), user, password }); } finally { leave(); }
    if (cwd) await c.cd(cwd);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(i));
    const sums = [];
    for (let k = 0; k < base.length; k++) {
      const data = Buffer.concat([head, base[k].subarray(8)]);
      sums.push(crypto.createHash("sha256").update(data).digest("hex"));
      await c.uploadFrom(Readable.from([data]), `node-${i}-${k}.bin`);
    }
    for (let k = 0; k < base.length; k++) {
      const parts = [];
      const sink = new Writable({ write(chunk, _e, done) { parts.push(chunk); done(); } });
      await c.downloadTo(sink, `node-${i}-${k}.bin`);
      const got = crypto.createHash("sha256").update(Buffer.concat(parts)).digest("hex");
      if (got !== sums[k]) failures.push(`client ${i}: file ${k} came back different`);
    }
    await c.send("QUIT");
  } catch (e) {
    failures.push(`client ${i}: ${e}`);
  } finally {
    c.close();
  }
}
const start = process.hrtime.bigint();
Promise.all(Array.from({ length: Number(clients) }, (_, i) => client(i))).then(() => {
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  for (const f of failures.slice(0, 5)) console.error(f);
  console.log(`${wall.toFixed(3)} ${failures.length}`);
  process.exit(failures.length ? 1 : 0);
});
"#;

/// Clients of the CPU-bound mixed loads.
const SCRIPTED_CLIENTS: usize = 300;

/// Pins every thread of `pid` to `cpus` (`taskset -a -p`).
fn pin(pid: u32, cpus: &str) -> bool {
    std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Python-driven mixed load against `peer`, on every core or with the
/// server and the client on core 0 only: the client's wall time and the
/// server's CPU, both in seconds (NaN when a client failed or a file came
/// back different).
fn python_mixed(peer: &Peer, one_core: bool) -> (f64, f64, f64) {
    let python = std::env::var("FTPFIXTURE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    scripted_mixed(
        peer,
        one_core,
        "Python",
        &python,
        &["-c", PYTHON_MIXED],
        &[],
    )
}

/// The same load from Node.js and basic-ftp (`clients/node`'s dev
/// dependency; `npm ci` there installs it): one thread, 300 clients as
/// promises, hashing on the event loop. NaNs when it is not installed.
fn node_mixed(peer: &Peer, one_core: bool) -> (f64, f64, f64) {
    let Some(modules) = node_modules() else {
        return (f64::NAN, f64::NAN, f64::NAN);
    };
    let node = std::env::var("FTPFIXTURE_BENCH_NODE").unwrap_or_else(|_| "node".into());
    let path = modules.to_string_lossy().into_owned();
    scripted_mixed(
        peer,
        one_core,
        "Node",
        &node,
        &["-e", NODE_MIXED],
        &[("NODE_PATH", path.as_str())],
    )
}

/// `clients/node`'s installed modules, when basic-ftp is among them.
fn node_modules() -> Option<PathBuf> {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/node/node_modules");
    modules.join("basic-ftp").is_dir().then_some(modules)
}

/// Runs a mixed-load script (`program` with `args`, then host, port, user,
/// password, cwd, clients), on every core or with the server and the
/// client pinned to core 0: the client's wall time (it prints it first),
/// the server's CPU and the client's voluntary context switches (in
/// thousands).
fn scripted_mixed(
    peer: &Peer,
    one_core: bool,
    what: &str,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (f64, f64, f64) {
    let pid = peer.process.pid();
    let all = format!(
        "0-{}",
        std::thread::available_parallelism().map_or(1, |n| n.get()) - 1
    );
    if one_core && !pin(pid, "0") {
        println!("peers: taskset failed; the one-core load is skipped");
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let before = cpu_of(pid);
    let switches_before = children_sleeps();
    let mut cmd = if one_core {
        let mut c = std::process::Command::new("taskset");
        c.args(["-c", "0", program]);
        c
    } else {
        std::process::Command::new(program)
    };
    let out = cmd
        .args(args)
        .envs(env.iter().copied())
        .arg(peer.addr.ip().to_string())
        .arg(peer.addr.port().to_string())
        .args([peer.user, peer.pass, peer.cwd.unwrap_or("")])
        .arg(SCRIPTED_CLIENTS.to_string())
        .output();
    let after = cpu_of(pid);
    let switches = children_sleeps() - switches_before;
    if one_core {
        pin(pid, &all);
    }
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            println!("peers: {program}: {e}");
            return (f64::NAN, f64::NAN, f64::NAN);
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let wall: f64 = text
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(f64::NAN);
    if !out.status.success() {
        println!(
            "peers: {} failed the {what} mixed load ({}): {}",
            peer.name,
            text.trim(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        );
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let cpu = match (before, after) {
        (Some(b), Some(a)) => (a - b).as_secs_f64(),
        _ => f64::NAN,
    };
    (wall, cpu, switches / 1000.0)
}

/// Voluntary context switches of this process's ended children (the
/// Python client, once waited for): how often its threads slept, on a
/// socket or on the GIL.
#[cfg(target_os = "linux")]
fn children_sleeps() -> f64 {
    // SAFETY: getrusage fills the struct it is given a pointer to; it is
    // read only when the call succeeded.
    unsafe {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return f64::NAN;
        }
        usage.assume_init().ru_nvcsw as f64
    }
}

#[cfg(not(target_os = "linux"))]
fn children_sleeps() -> f64 {
    f64::NAN
}

async fn mixed_load(peer: &Peer, base: &Arc<Vec<Vec<u8>>>) -> f64 {
    // Connections are opened at most 32 at a time: some peers listen with
    // a short backlog (vsftpd 32, unftp 128), and a burst beyond it has
    // clients wait seconds for SYN retries, which would measure the
    // backlog rather than the server.
    let admission = Arc::new(tokio::sync::Semaphore::new(32));
    let t = Instant::now();
    let tasks: Vec<_> = (0..MIXED_CLIENTS)
        .map(|i| {
            let base = base.clone();
            let admission = admission.clone();
            let (addr, user, pass, cwd) = (peer.addr, peer.user, peer.pass, peer.cwd);
            tokio::spawn(async move {
                let admitted = admission.acquire().await.expect("open semaphore");
                let mut c = step(i, "login", Client::login_as(addr, user, pass)).await;
                drop(admitted);
                if let Some(dir) = cwd {
                    step(i, "CWD", c.cmd(&format!("CWD {dir}"))).await;
                }
                // Each client's files differ: its number leads every file.
                let head = (i as u64).to_le_bytes();
                for (k, body) in base.iter().enumerate() {
                    let name = format!("mixed-{i}-{k}.bin");
                    step(i, "STOR", c.stor_parts(&name, &[&head, &body[8..]])).await;
                }
                for (k, body) in base.iter().enumerate() {
                    let got = step(i, "RETR", c.retr_all(&format!("mixed-{i}-{k}.bin"))).await;
                    assert!(
                        got.len() == body.len() && got[..8] == head && got[8..] == body[8..],
                        "client {i}: file {k} came back different"
                    );
                }
                step(i, "QUIT", c.cmd("QUIT")).await;
            })
        })
        .collect();
    // A server that fails a client under this load (unftp has answered
    // EPSV with 425) loses the round, not the bench.
    let mut failure = None;
    for task in tasks {
        if let Err(e) = task.await {
            failure.get_or_insert(e);
        }
    }
    match failure {
        None => t.elapsed().as_secs_f64(),
        Some(e) => {
            println!("peers: {} failed the mixed load this round: {e}", peer.name);
            f64::NAN
        }
    }
}

/// MiB/s of one 256 MiB upload, then of one 256 MiB download from disk.
async fn big_transfers(peer: &Peer) -> (f64, f64) {
    let mut c = peer.login().await;
    let t = Instant::now();
    c.stor("up.bin", BIG).await;
    let up = mbps(BIG, t.elapsed());
    // Deleted at once, its pages are dropped rather than written back
    // while the next server is measured.
    let r = c.cmd("DELE up.bin").await;
    assert!(r.starts_with("250"), "{}: DELE: {r}", peer.name);
    let t = Instant::now();
    assert_eq!(c.retr("big.bin").await, BIG);
    let down = mbps(BIG, t.elapsed());
    c.cmd("QUIT").await;
    (up, down)
}

/// Waits until the kernel has written dirty pages back (`sync`), so that
/// one server's uploads are not written back during another's turn.
fn settle_disk() {
    if let Err(e) = std::process::Command::new("sync").status() {
        println!("peers: sync: {e}");
    }
}

/// One measured quantity, per server, per round.
struct Metric {
    name: &'static str,
    unit: &'static str,
    lower_is_better: bool,
    values: Vec<Vec<f64>>,
}

fn main() {
    let want = common::wanted;
    let rounds: usize = std::env::var("FTPFIXTURE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);
    let rt = common::runtime();
    rt.block_on(async {
        let files = Files {
            four: (0..RETR_SIZE).map(|i| (i % 251) as u8).collect(),
            big: (0..BIG).map(|i| (i % 253) as u8).collect(),
        };
        // FTPFIXTURE_BENCH_PEERS=unftp,vsftpd limits the peers (for a
        // profile, say); ftpfixture always runs.
        let only = std::env::var("FTPFIXTURE_BENCH_PEERS").ok();
        let wanted = |name: &str| {
            name == "ftpfixture"
                || only
                    .as_deref()
                    .is_none_or(|o| o.split(',').any(|p| p.trim() == name))
        };
        let mut peers = Vec::new();
        for name in ["ftpfixture", "baseline", "pyftpdlib", "unftp", "vsftpd"] {
            if !wanted(name) {
                continue;
            }
            let started = match name {
                "ftpfixture" => start_ftpfixture(&files).await,
                "baseline" => start_baseline(&files).await,
                "pyftpdlib" => start_pyftpdlib(&files, None).await,
                "unftp" => start_unftp(&files, None).await,
                _ => start_vsftpd(&files, None).await,
            };
            match started {
                Ok(peer) => peers.push(peer),
                Err(why) => println!("peers: {name} {why}; skipped"),
            }
        }
        // FTPS: the same servers again, with TLS, only when asked for.
        let mut tls_peers = Vec::new();
        let certificate = if want("ftps") {
            match ftps::rsa_certificate() {
                Ok(c) => Some(c),
                Err(why) => {
                    println!("peers: FTPS skipped: {why}");
                    None
                }
            }
        } else {
            None
        };
        if let Some(c) = &certificate {
            let shared: [&std::ffi::OsStr; 6] = [
                "--tls".as_ref(),
                "explicit".as_ref(),
                "--cert".as_ref(),
                c.cert.as_os_str(),
                "--key".as_ref(),
                c.key.as_os_str(),
            ];
            let own: [&std::ffi::OsStr; 2] = ["--tls".as_ref(), "explicit".as_ref()];
            // The listing is of the content directory: small files do.
            let files = Files {
                four: vec![4; 1024],
                big: vec![5; 1024],
            };
            let baseline = std::env::var_os("FTPFIXTURE_BENCH_BASELINE").map(PathBuf::from);
            for name in [
                "ftpfixture",
                "own cert",
                "baseline",
                "pyftpdlib",
                "unftp",
                "vsftpd",
            ] {
                if name != "own cert" && !wanted(name) {
                    continue;
                }
                let started = match name {
                    "ftpfixture" => start_cli(&files, name, ftpfixture_binary(), &shared).await,
                    "own cert" => start_cli(&files, name, ftpfixture_binary(), &own).await,
                    "baseline" => match &baseline {
                        Some(b) => start_cli(&files, name, b, &shared).await,
                        None => continue,
                    },
                    "pyftpdlib" => start_pyftpdlib(&files, Some(c)).await,
                    "unftp" => start_unftp(&files, Some(c)).await,
                    _ => start_vsftpd(&files, Some(c)).await,
                };
                match started {
                    // One session first, which also says whether it works.
                    Ok(peer) => {
                        match ftps::session(peer.addr, peer.user, peer.pass, peer.cwd).await {
                            Ok(_) => tls_peers.push(peer),
                            Err(why) => println!("peers: {name} with FTPS failed: {why}; skipped"),
                        }
                    }
                    Err(why) => println!("peers: {name} with FTPS {why}; skipped"),
                }
            }
        }
        drop(files);
        // A first login each, so that no one's first round pays for
        // warming up (page cache, lazy initialisation).
        for p in &peers {
            p.login().await.cmd("QUIT").await;
        }
        let base: Arc<Vec<Vec<u8>>> = Arc::new(
            (0..MIXED_FILES)
                .map(|k| (0..MIXED_SIZE).map(|i| (i * (k + 3) % 241) as u8).collect())
                .collect(),
        );
        let metric = |name, unit, lower_is_better| Metric {
            name,
            unit,
            lower_is_better,
            values: vec![Vec::new(); peers.len()],
        };
        let mut cpu = metric("CPU per session", "us", true);
        let mut rate = metric("sessions per second", "/s", false);
        let mut retr64 = metric("64 concurrent RETR of 4 MiB", "MiB/s", false);
        let mut mixed = metric("mixed load, 500 clients", "s", true);
        let mut stor_big = metric("STOR 256 MiB", "MiB/s", false);
        let mut retr_big = metric("RETR 256 MiB from disk", "MiB/s", false);
        let mut idle = metric("memory per idle session (fresh)", "KiB", true);
        let mut py_wall = metric("Python mixed, client wall", "s", true);
        let mut py_cpu = metric("Python mixed, server CPU", "s", true);
        let mut py_sleeps = metric("Python mixed, client sleeps", "k", true);
        let mut node_wall = metric("Node mixed, client wall", "s", true);
        let mut node_cpu = metric("Node mixed, server CPU", "s", true);
        let mut node1_wall = metric("Node mixed 1 core, wall", "s", true);
        let mut node1_cpu = metric("Node mixed 1 core, srv CPU", "s", true);
        let mut py1_wall = metric("Python mixed 1 core, wall", "s", true);
        let mut py1_cpu = metric("Python mixed 1 core, srv CPU", "s", true);
        let mut ftps_cpu = Metric {
            name: "CPU per FTPS session",
            unit: "us",
            lower_is_better: true,
            values: vec![Vec::new(); tls_peers.len()],
        };
        // Memory per idle session only means something on a fresh server:
        // after a load, the allocator hands the freed memory back out. So
        // it is measured once, first.
        if want("node") && node_modules().is_none() {
            println!("peers: the Node load needs basic-ftp (npm ci in clients/node); skipped");
        }
        if want("idle") {
            for (i, p) in peers.iter().enumerate() {
                idle.values[i].push(idle_memory(p).await);
            }
        }
        for round in 0..rounds {
            if want("sessions") {
                // Sessions are cheap and the machine drifts: the servers
                // take turns in small blocks, and each one's CPU is summed.
                let mut spent = vec![(Duration::ZERO, Duration::ZERO); peers.len()];
                for block in 0..SESSION_BLOCKS {
                    for k in 0..peers.len() {
                        let i = (k + block + round) % peers.len();
                        let (c, w) = sessions(&peers[i], SESSIONS / SESSION_BLOCKS).await;
                        spent[i].0 += c;
                        spent[i].1 += w;
                    }
                }
                let n = (SESSIONS / SESSION_BLOCKS / SESSION_CLIENTS
                    * SESSION_CLIENTS
                    * SESSION_BLOCKS) as f64;
                for (i, (c, w)) in spent.into_iter().enumerate() {
                    cpu.values[i].push(c.as_secs_f64() * 1e6 / n);
                    rate.values[i].push(n / w.as_secs_f64());
                }
            }
            for k in 0..peers.len() {
                // Rotate who goes first, so that drift hits everyone alike.
                let i = (k + round) % peers.len();
                let p = &peers[i];
                if want("retr64") {
                    retr64.values[i].push(concurrent_retr(p).await);
                }
                if want("mixed") {
                    mixed.values[i].push(mixed_load(p, &base).await);
                    // Its 500 MiB of uploads are written back now, not
                    // during the next server's turn.
                    settle_disk();
                }
                if want("python") {
                    let (w, c, sleeps) = python_mixed(p, false);
                    py_wall.values[i].push(w);
                    py_cpu.values[i].push(c);
                    py_sleeps.values[i].push(sleeps);
                    settle_disk();
                    let (w, c, _) = python_mixed(p, true);
                    py1_wall.values[i].push(w);
                    py1_cpu.values[i].push(c);
                    settle_disk();
                }
                if want("node") {
                    let (w, c, _) = node_mixed(p, false);
                    node_wall.values[i].push(w);
                    node_cpu.values[i].push(c);
                    settle_disk();
                    let (w, c, _) = node_mixed(p, true);
                    node1_wall.values[i].push(w);
                    node1_cpu.values[i].push(c);
                    settle_disk();
                }
                if want("big") {
                    settle_disk();
                    let (up, down) = big_transfers(p).await;
                    stor_big.values[i].push(up);
                    retr_big.values[i].push(down);
                }
            }
            for k in 0..tls_peers.len() {
                let i = (k + round) % tls_peers.len();
                let p = &tls_peers[i];
                let before = p.settled_cpu().await;
                match ftps::sessions(p.addr, p.user, p.pass, p.cwd).await {
                    Ok(()) => {
                        let spent = p.settled_cpu().await - before;
                        ftps_cpu.values[i].push(spent.as_secs_f64() * 1e6 / ftps::SESSIONS as f64);
                    }
                    Err(why) => {
                        println!("peers: {} failed an FTPS session: {why}", p.name);
                        ftps_cpu.values[i].push(f64::NAN);
                    }
                }
            }
            println!("peers: round {} of {rounds} done", round + 1);
        }
        let names: Vec<&str> = peers.iter().map(|p| p.name).collect();
        println!(
            "\npeers: medians of {rounds} alternating rounds; ratio = ftpfixture / server \
             (below 1 is better for costs, above 1 for rates)"
        );
        // The baseline is ftpfixture too, but the comparison it is there for.
        report(
            &names,
            1,
            vec![
                cpu, rate, retr64, mixed, stor_big, retr_big, idle, py_wall, py_cpu, py_sleeps,
                py1_wall, py1_cpu, node_wall, node_cpu, node1_wall, node1_cpu,
            ],
        );
        if !tls_peers.is_empty() {
            let names: Vec<&str> = tls_peers.iter().map(|p| p.name).collect();
            println!(
                "\npeers: FTPS sessions (AUTH TLS, login, PBSZ, PROT P, EPSV, NLST over TLS, \
                 QUIT), {} per server and round; ftpfixture and the peers with one RSA 2048 \
                 certificate, `own cert` with the one ftpfixture generates",
                ftps::SESSIONS
            );
            report(&names, 2, vec![ftps_cpu]);
        }
    });
}

/// Prints each metric's medians per server, the ratio of ftpfixture's (the
/// first column) to each, and the range of the round-by-round ratios. The
/// first `ours` columns are ftpfixture's (the best peer is among the rest).
fn report(names: &[&str], ours: usize, metrics: Vec<Metric>) {
    print!("{:<30}", "");
    for n in names {
        print!("{n:>12}");
    }
    println!();
    for m in metrics {
        if m.values.iter().all(|v| v.is_empty()) {
            continue;
        }
        // The ratio of each round (the servers ran side by side in it),
        // lowest to highest: how far the median can be trusted.
        let spread: Vec<Option<(f64, f64)>> = m
            .values
            .iter()
            .map(|theirs| {
                let ratios: Vec<f64> = m.values[0]
                    .iter()
                    .zip(theirs)
                    .map(|(ours, theirs)| ours / theirs)
                    .filter(|r| r.is_finite())
                    .collect();
                let lo = ratios.iter().copied().reduce(f64::min)?;
                let hi = ratios.iter().copied().reduce(f64::max)?;
                Some((lo, hi))
            })
            .collect();
        let med: Vec<f64> = m.values.into_iter().map(median_f64).collect();
        print!("{:<30}", format!("{} ({})", m.name, m.unit));
        for v in &med {
            print!("{v:>12.1}");
        }
        println!();
        print!("{:<30}", "  ratio");
        for v in &med {
            print!("{:>12.2}", med[0] / v);
        }
        let best = med[ours.min(med.len())..]
            .iter()
            .copied()
            .reduce(if m.lower_is_better {
                f64::min
            } else {
                f64::max
            });
        match best {
            Some(best) => println!("   vs best peer: {:.2}", med[0] / best),
            None => println!(),
        }
        print!("{:<30}{:>12}", "  ratio, round by round", "");
        for range in spread.iter().skip(1) {
            match range {
                Some((lo, hi)) => print!("{:>12}", format!("{lo:.2}-{hi:.2}")),
                None => print!("{:>12}", "-"),
            }
        }
        println!();
    }
}
