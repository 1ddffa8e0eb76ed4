//! Side-by-side benchmarks (`cargo bench`). The machine is noisy, so each
//! comparison runs its candidates interleaved in one process and reports a
//! ratio; absolute numbers are printed for orientation only.
//!
//! - start: `Server::start()` + shutdown, plain and TLS (certificate reused)
//! - throughput: RETR/STOR of 64 MiB against a raw loopback TCP copy
//! - transcript: NOOP round trips with recording on and off
//! - idle sessions: resident memory per logged-in idle session
//! - concurrency: 200 simultaneous downloads
//! - rss: resident memory before and after a 500-client load
//! - relay: 256 MiB RETR and STOR through the recording proxy beside the
//!   same transfers straight to its upstream, and the proxy's memory
//! - longrun: resident memory of the CLI (recording on) through 200,000
//!   short sessions, beside the same run with no transcript limit
//! - control: control API round trips (GET /status, POST+DELETE a fault) and
//!   POST /reset of a 100-file tree, beside an FTP NOOP round trip

use std::time::{Duration, Instant};

use ftpfixture::{Server, Tls};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

mod common;
use common::{mbps, median, rss_in, rss_kib_of, step, Cli, Client, MIB};

/// The ceiling: the same bytes over a loopback TCP connection, memory to
/// memory, with the same buffer size.
async fn raw_copy(bytes: usize) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let sender = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let buf = vec![7u8; 256 * 1024];
        let mut left = bytes;
        while left > 0 {
            let k = left.min(buf.len());
            s.write_all(&buf[..k]).await.unwrap();
            left -= k;
        }
    });
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0;
    while n < bytes {
        let k = c.read(&mut buf).await.unwrap();
        if k == 0 {
            break;
        }
        n += k;
    }
    sender.await.unwrap();
}

async fn bench_start() {
    const N: usize = 100;
    // Warm up: the first TLS start generates the certificate.
    Server::builder()
        .tls(Tls::Explicit)
        .start()
        .await
        .unwrap()
        .shutdown()
        .await;
    let (mut plain, mut tls) = (Vec::new(), Vec::new());
    for _ in 0..N {
        let t = Instant::now();
        let s = Server::start().await.unwrap();
        plain.push(t.elapsed());
        s.shutdown().await;
        let t = Instant::now();
        let s = Server::builder().tls(Tls::Explicit).start().await.unwrap();
        tls.push(t.elapsed());
        s.shutdown().await;
    }
    let (p, t) = (median(plain), median(tls));
    println!(
        "start: plain {:>8.1} us, TLS {:>8.1} us (median of {N}); TLS/plain = {:.2}",
        p.as_secs_f64() * 1e6,
        t.as_secs_f64() * 1e6,
        t.as_secs_f64() / p.as_secs_f64()
    );
}

async fn bench_throughput() {
    const SIZE: usize = 64 * MIB;
    const ROUNDS: usize = 5;
    let content = vec![7u8; SIZE];
    let mem = Server::builder()
        .memory()
        .record(false)
        .file("big.bin", &content)
        .start()
        .await
        .unwrap();
    let fs = Server::builder()
        .record(false)
        .file("big.bin", &content)
        .start()
        .await
        .unwrap();
    let mut mc = Client::login(mem.addr()).await;
    let mut fc = Client::login(fs.addr()).await;
    let (mut raw, mut mget, mut fget, mut mput, mut fput) =
        (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        raw_copy(SIZE).await;
        raw.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(mc.retr("big.bin").await, SIZE);
        mget.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(fc.retr("big.bin").await, SIZE);
        fget.push(t.elapsed());
        let t = Instant::now();
        mc.stor("up.bin", SIZE).await;
        mput.push(t.elapsed());
        let t = Instant::now();
        fc.stor("up.bin", SIZE).await;
        fput.push(t.elapsed());
    }
    let raw = median(raw);
    println!(
        "throughput, 64 MiB, median of {ROUNDS} (raw loopback copy = 1.00, {:.0} MiB/s):",
        mbps(SIZE, raw)
    );
    for (name, v) in [
        ("RETR memory", mget),
        ("RETR disk  ", fget),
        ("STOR memory", mput),
        ("STOR disk  ", fput),
    ] {
        let m = median(v);
        println!(
            "  {name}: {:>7.0} MiB/s, {:.2} of raw",
            mbps(SIZE, m),
            raw.as_secs_f64() / m.as_secs_f64()
        );
    }
    mem.shutdown().await;
    fs.shutdown().await;
}

async fn bench_transcript() {
    const N: usize = 2000;
    let on = Server::builder().record(true).start().await.unwrap();
    let off = Server::builder().record(false).start().await.unwrap();
    let mut a = Client::login(on.addr()).await;
    let mut b = Client::login(off.addr()).await;
    let (mut ton, mut toff) = (Duration::ZERO, Duration::ZERO);
    // Interleave in blocks so drift in the machine hits both alike.
    for _ in 0..(N / 100) {
        let t = Instant::now();
        for _ in 0..100 {
            a.cmd("NOOP").await;
        }
        ton += t.elapsed();
        let t = Instant::now();
        for _ in 0..100 {
            b.cmd("NOOP").await;
        }
        toff += t.elapsed();
    }
    println!(
        "transcript: {N} NOOP round trips, recording on {:.1} us, off {:.1} us each; on/off = {:.2}",
        ton.as_secs_f64() * 1e6 / N as f64,
        toff.as_secs_f64() * 1e6 / N as f64,
        ton.as_secs_f64() / toff.as_secs_f64()
    );
    on.shutdown().await;
    off.shutdown().await;
}

fn rss_kib() -> Option<u64> {
    rss_in("/proc/self/status")
}

async fn bench_idle_sessions() {
    const N: usize = 1000;
    let server = Server::builder()
        .record(false)
        .max_line(4096)
        .start()
        .await
        .unwrap();
    // Measure the clients' own cost on a plain TCP echo-less server first,
    // so the difference is the server's share.
    let Some(before) = rss_kib() else {
        println!("idle sessions: no /proc/self/status, skipped");
        return;
    };
    let mut clients = Vec::with_capacity(N);
    for _ in 0..N {
        clients.push(Client::login(server.addr()).await);
    }
    let after = rss_kib().unwrap_or(before);
    // Client-side cost: the same number of plain connections with the same
    // buffers, held open against a listener that only accepts.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let acceptor = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
            if held.len() == N {
                break;
            }
        }
        held
    });
    let base_before = rss_kib().unwrap_or(0);
    let mut plain = Vec::with_capacity(N);
    for _ in 0..N {
        let s = TcpStream::connect(addr).await.unwrap();
        let (r, w) = s.into_split();
        plain.push((BufReader::new(r), w));
    }
    let held = acceptor.await.unwrap();
    let base_after = rss_kib().unwrap_or(base_before);
    let server_side = (after - before).saturating_sub(base_after.saturating_sub(base_before));
    println!(
        "idle sessions: {N} logged in, about {:.1} KiB each on the server side (target < 64)",
        server_side as f64 / N as f64
    );
    drop((clients, plain, held));
    server.shutdown().await;
}

async fn bench_concurrency() {
    const N: usize = 200;
    const SIZE: usize = MIB;
    let server = Server::builder()
        .memory()
        .record(false)
        .file("f.bin", vec![1u8; SIZE])
        .start()
        .await
        .unwrap();
    let addr = server.addr();
    let t = Instant::now();
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            tokio::spawn(async move {
                let mut c = Client::login(addr).await;
                c.retr("f.bin").await
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let d = t.elapsed();
    assert_eq!(total, N * SIZE);
    let t = Instant::now();
    let raws: Vec<_> = (0..N).map(|_| tokio::spawn(raw_copy(SIZE))).collect();
    for r in raws {
        r.await.unwrap();
    }
    let raw = t.elapsed();
    println!(
        "concurrency: {N} simultaneous 1 MiB downloads (login included) in {:.0} ms, {:.0} MiB/s; \
         raw copies {:.0} ms; ftpfixture/raw time = {:.2}",
        d.as_secs_f64() * 1e3,
        mbps(total, d),
        raw.as_secs_f64() * 1e3,
        d.as_secs_f64() / raw.as_secs_f64()
    );
    server.shutdown().await;
}

/// The recording proxy's cost: a 256 MiB download and upload through
/// `ftpfixture record` beside the same straight to its upstream (both
/// CLIs, on disk), taking turns; and the proxy's resident memory before
/// and after, which must not grow with the file.
async fn bench_relay() {
    const SIZE: usize = 256 * MIB;
    const ROUNDS: usize = 3;
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("big.bin"), vec![7u8; SIZE]).unwrap();
    let upstream = Cli::start(&[
        "--log-level".as_ref(),
        "error".as_ref(),
        "--root".as_ref(),
        root.path().as_os_str(),
        "--no-record".as_ref(),
    ])
    .await;
    let out = tempfile::tempdir().unwrap();
    let up = upstream.addr.to_string();
    let proxy = Cli::start(&[
        "record".as_ref(),
        "--upstream".as_ref(),
        up.as_ref(),
        "--out".as_ref(),
        out.path().as_os_str(),
        "--log-level".as_ref(),
        "error".as_ref(),
        "--no-record".as_ref(),
    ])
    .await;
    let rss_before = rss_kib_of(proxy.pid());
    let (mut direct_get, mut relay_get, mut direct_put, mut relay_put) =
        (vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let mut d = Client::login(upstream.addr).await;
        let mut r = Client::login(proxy.addr).await;
        let order: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for through_proxy in order {
            let (c, get, put) = if through_proxy {
                (&mut r, &mut relay_get, &mut relay_put)
            } else {
                (&mut d, &mut direct_get, &mut direct_put)
            };
            let t = Instant::now();
            assert_eq!(c.retr("big.bin").await, SIZE);
            get.push(t.elapsed());
            let t = Instant::now();
            c.stor("up.bin", SIZE).await;
            put.push(t.elapsed());
        }
        // The recorded copies would fill the disk: keep the text only.
        for e in std::fs::read_dir(out.path().join("data"))
            .unwrap()
            .flatten()
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let rss_after = rss_kib_of(proxy.pid());
    println!("relay, 256 MiB through the recording proxy, median of {ROUNDS} (direct = 1.00):");
    for (name, direct, relayed) in [
        ("RETR", direct_get, relay_get),
        ("STOR", direct_put, relay_put),
    ] {
        let (d, r) = (median(direct), median(relayed));
        println!(
            "  {name}: direct {:>5.0} MiB/s, through the proxy {:>5.0} MiB/s, {:.2} of direct",
            mbps(SIZE, d),
            mbps(SIZE, r),
            d.as_secs_f64() / r.as_secs_f64()
        );
    }
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "  proxy memory: {:.1} MiB before, {:.1} MiB after {} transfers of 256 MiB",
            a as f64 / 1024.0,
            b as f64 / 1024.0,
            ROUNDS * 2
        );
    }
}

/// A CLI left running through a long CI job: 200,000 sessions (connect,
/// USER, PASS, QUIT) with recording on, 16 at a time; its resident memory
/// every 50,000. Beside it the same run with the transcript unbounded
/// (`--max-transcript-events 0`, as before the limit), for 50,000 sessions.
async fn bench_long_run() {
    for (limit, sessions) in [(None, 200_000usize), (Some("0"), 50_000)] {
        long_run(limit, sessions).await;
    }
}

async fn long_run(limit: Option<&str>, sessions: usize) {
    const CLIENTS: usize = 16;
    const EVERY: usize = 50_000;
    let mut args = vec!["--log-level".as_ref(), "error".as_ref()];
    if let Some(l) = limit {
        args.push("--max-transcript-events".as_ref());
        args.push(l.as_ref());
    }
    let cli = Cli::start(&args).await;
    let (addr, pid) = (cli.addr, cli.pid());
    let Some(start) = rss_kib_of(pid) else {
        println!("longrun: no /proc, skipped");
        return;
    };
    let mut marks = Vec::new();
    let started = std::time::Instant::now();
    for chunk in 0..sessions.div_ceil(EVERY) {
        let per_client = EVERY / CLIENTS;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| {
                tokio::spawn(async move {
                    for _ in 0..per_client {
                        let mut c = step(i, "login", Client::login(addr)).await;
                        step(i, "QUIT", c.cmd("QUIT")).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // A fresh login answered: the server has caught up.
        let mut c = Client::login(addr).await;
        c.cmd("QUIT").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        marks.push((
            (chunk + 1) * per_client * CLIENTS,
            rss_kib_of(pid).unwrap_or(start),
        ));
    }
    println!(
        "longrun ({}): server at start {:.1} MiB; {} ({:.0} s)",
        match limit {
            None => "default transcript limit",
            Some(_) => "no transcript limit",
        },
        start as f64 / 1024.0,
        marks
            .iter()
            .map(|(n, r)| format!("{n} sessions {:.1} MiB", *r as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64()
    );
    drop(cli);
}

/// Resident memory of the server before a 500-client load and after it has
/// gone: the server gives back what the load took (buffers are per transfer
/// and freed with it, and the CLI trims the allocator once idle). The server is the CLI, a process of its own, so the
/// clients' memory does not count.
async fn bench_rss_after_load() {
    for record in [true, false] {
        rss_after_load(record).await;
    }
}

async fn rss_after_load(record: bool) {
    const CLIENTS: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blob.bin"), vec![7u8; 256 * 1024]).unwrap();
    let mut args = vec![
        "--log-level".as_ref(),
        "error".as_ref(),
        "--root".as_ref(),
        dir.path().as_os_str(),
    ];
    if !record {
        args.push("--no-record".as_ref());
    }
    let mut cli = Cli::start(&args).await;
    let addr = cli.addr;
    let pid = cli.pid();
    let Some(start) = rss_kib_of(pid) else {
        println!("rss after load: no /proc, skipped");
        return;
    };
    let mut rounds = Vec::new();
    for round in 0..3 {
        let mut tasks = Vec::with_capacity(CLIENTS);
        for i in 0..CLIENTS {
            tasks.push(tokio::spawn(async move {
                let mut c = step(i, "login", Client::login(addr)).await;
                let mut data = step(i, "data 1", c.data()).await;
                step(i, "STOR", c.cmd(&format!("STOR up{round}-{i}.bin"))).await;
                data.write_all(&[1u8; 64 * 1024]).await.unwrap();
                drop(data);
                step(i, "226 of STOR", c.reply()).await;
                let mut data = step(i, "data 2", c.data()).await;
                step(i, "RETR", c.cmd("RETR blob.bin")).await;
                let mut got = Vec::new();
                step(i, "RETR data", data.read_to_end(&mut got))
                    .await
                    .unwrap();
                assert_eq!(got.len(), 256 * 1024);
                step(i, "226 of RETR", c.reply()).await;
                step(i, "QUIT", c.cmd("QUIT")).await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // The sessions end just after their QUIT: a fresh login answered
        // means the server has caught up.
        let mut c = Client::login(addr).await;
        c.cmd("QUIT").await;
        // The CLI gives freed memory back within a second or two of going
        // idle: read until the figure stops falling (at most 4 s).
        let mut rss = rss_kib_of(pid).unwrap_or(start);
        for i in 0..20 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = rss_kib_of(pid).unwrap_or(rss);
            if i >= 8 && now == rss {
                break;
            }
            rss = now;
        }
        rounds.push(rss);
    }
    println!(
        "rss after load (recording {}): server at start {:.1} MiB; after each of 3 loads of {CLIENTS} clients (64 KiB up, 256 KiB down each) {} MiB",
        if record { "on" } else { "off" },
        start as f64 / 1024.0,
        rounds
            .iter()
            .map(|r| format!("{:.1}", *r as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = cli.child.kill().await;
}

/// A keep-alive HTTP/1.1 client with just enough parsing for the bench
/// (status line, Content-Length), so the client costs little.
struct Http {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
    host: String,
}

impl Http {
    async fn connect(url: &str) -> Http {
        let host = url.trim_start_matches("http://").to_string();
        let s = TcpStream::connect(&host)
            .await
            .expect("connect to the control API");
        s.set_nodelay(true).ok();
        let (r, w) = s.into_split();
        Http {
            r: BufReader::new(r),
            w,
            host,
        }
    }

    async fn call(&mut self, method: &str, path: &str, body: &str) -> u16 {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.w.write_all(req.as_bytes()).await.expect("send");
        let mut status = String::new();
        self.r.read_line(&mut status).await.expect("status");
        let code: u16 = status
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            self.r.read_line(&mut h).await.expect("header");
            if h == "\r\n" || h.is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        self.r.read_exact(&mut body).await.expect("body");
        code
    }
}

async fn bench_control() {
    const N: usize = 500;
    let mut builder = Server::builder().control("127.0.0.1:0".parse().unwrap());
    for i in 0..100 {
        builder = builder.file(&format!("tree/d{}/f{i}.txt", i % 10), format!("file {i}\n"));
    }
    let server = builder.start().await.unwrap();
    let url = server.control_url().unwrap();
    let mut http = Http::connect(&url).await;
    let mut ftp = Client::login(server.addr()).await;
    let (mut noop, mut status, mut fault) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..N {
        let t = Instant::now();
        ftp.cmd("NOOP").await;
        noop.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(http.call("GET", "/status", "").await, 200);
        status.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(http.call("POST", "/faults", "LIST reply=450").await, 201);
        assert_eq!(http.call("DELETE", "/faults", "").await, 200);
        fault.push(t.elapsed() / 2);
    }
    let (noop, status, fault) = (median(noop), median(status), median(fault));
    println!(
        "control: median round trip GET /status {:.0} us, POST or DELETE /faults {:.0} us, FTP NOOP {:.0} us; status/NOOP = {:.2}",
        status.as_secs_f64() * 1e6,
        fault.as_secs_f64() * 1e6,
        noop.as_secs_f64() * 1e6,
        status.as_secs_f64() / noop.as_secs_f64()
    );
    drop(ftp);
    let mut resets = Vec::new();
    for i in 0..20 {
        // Something to undo each time: a file changed and one added.
        server
            .write_file("tree/d0/f0.txt", "changed")
            .await
            .unwrap();
        server
            .write_file(&format!("extra{i}.txt"), "x")
            .await
            .unwrap();
        let t = Instant::now();
        assert_eq!(http.call("POST", "/reset", "").await, 200);
        resets.push(t.elapsed());
    }
    assert_eq!(
        server.read_file("tree/d0/f0.txt").await.unwrap(),
        b"file 0\n"
    );
    println!(
        "control: POST /reset of a 100-file tree on disk, median {:.2} ms ({:.0}x a NOOP round trip)",
        median(resets.clone()).as_secs_f64() * 1e3,
        median(resets).as_secs_f64() / noop.as_secs_f64()
    );
    server.shutdown().await;
}

fn main() {
    // `cargo bench -- <filter>` runs the sections whose name contains it.
    let want = common::wanted;
    let rt = common::runtime();
    rt.block_on(async {
        if want("start") {
            bench_start().await;
        }
        if want("throughput") {
            bench_throughput().await;
        }
        if want("transcript") {
            bench_transcript().await;
        }
        if want("idle") {
            bench_idle_sessions().await;
        }
        if want("concurrency") {
            bench_concurrency().await;
        }
        if want("control") {
            bench_control().await;
        }
        if want("rss") {
            bench_rss_after_load().await;
        }
        if want("relay") {
            bench_relay().await;
        }
        if want("longrun") {
            bench_long_run().await;
        }
    });
}
