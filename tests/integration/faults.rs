//! Fault injection: one test per action with a real client, showing that
//! the client observes exactly what the fault promises; a transcript
//! snapshot of each; and a healthy server afterwards.

use std::time::{Duration, Instant};

use ftpfixture::{Fault, Quirk, Server, Tls};
use suppaftp::tokio::AsyncFtpStream;
use suppaftp::types::FileType;
use suppaftp::FtpError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{bytes, code, python_async, RawClient};

const WAIT: Duration = Duration::from_secs(10);

async fn login(server: &Server) -> AsyncFtpStream {
    crate::support::watchdog();
    let mut ftp = AsyncFtpStream::connect(server.addr())
        .await
        .expect("connect");
    ftp.login("admin", "123456").await.expect("login");
    ftp.transfer_type(FileType::Binary).await.expect("TYPE I");
    ftp
}

/// The reply code inside a suppaftp error.
fn code_of(e: &FtpError) -> u32 {
    match e {
        FtpError::UnexpectedResponse(r) => r.status.code(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Downloads with a stream, returning the bytes read (until EOF or a
/// read error) and the result of the final reply.
async fn download(ftp: &mut AsyncFtpStream, name: &str) -> (Vec<u8>, Result<(), FtpError>) {
    let mut stream = ftp.retr_as_stream(name).await.expect("150");
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (got, stream.finish().await)
}

/// Ends the test's sessions, then proves that a new session works: the
/// faults are cleared, a client logs in and moves a file both ways.
async fn settle_and_check_health(server: &Server) {
    let sessions = server.transcript().sessions();
    server
        .wait_until(WAIT, |t| sessions.iter().all(|id| t.ended(*id)))
        .await
        .expect("sessions end");
    let snapshot_len = server.transcript().events().len();
    server.clear_faults();
    let mut ftp = login(server).await;
    let data = bytes(99, 10_000);
    let mut up = ftp.put_with_stream("health.bin").await.unwrap();
    up.write_all(&data).await.unwrap();
    up.finish().await.unwrap();
    let (got, done) = download(&mut ftp, "health.bin").await;
    done.unwrap();
    assert_eq!(got, data);
    ftp.quit().await.unwrap();
    assert!(server.transcript().events().len() > snapshot_len);
}

/// The transcript of the sessions before the health check.
fn fault_sessions(server: &Server, upto: u64) -> String {
    let t = server.transcript();
    (1..=upto)
        .map(|id| t.session(id).render())
        .collect::<Vec<_>>()
        .join("")
}

macro_rules! snapshot {
    ($name:expr, $server:expr, $sessions:expr) => {
        ::insta::with_settings!({
            snapshot_path => ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        }, {
            ::insta::assert_snapshot!($name, fault_sessions(&$server, $sessions));
        })
    };
}

#[tokio::test]
async fn reply_instead_of_executing() {
    let server = Server::builder()
        .fault(Fault::on("STOR").reply(452, "Insufficient storage space"))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let err = ftp
        .put_file("full.bin", &mut &b"data"[..])
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), 452);
    assert!(!server.root().unwrap().join("full.bin").exists());
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_reply", server, 1);
}

#[tokio::test]
async fn multi_line_reply_instead() {
    let server = Server::builder()
        .fault(Fault::on("SYST").reply_lines(215, &["Welcome", "to a chatty", "UNIX Type: L8"]))
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    assert_eq!(
        c.cmd("SYST").await,
        "215-Welcome\n to a chatty\n215 UNIX Type: L8"
    );
    c.cmd("QUIT").await;
    settle_and_check_health(&server).await;
    snapshot!("fault_multi_line_reply", server, 1);
}

#[tokio::test]
async fn execute_then_reply_differently() {
    let server = Server::builder()
        .file("gone.txt", "x")
        .fault(Fault::on("DELE").reply_after(550, "Permission denied"))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let err = ftp.rm("gone.txt").await.unwrap_err();
    assert_eq!(code_of(&err), 550);
    // It was executed all the same: the client was told a lie.
    assert!(!server.root().unwrap().join("gone.txt").exists());
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_reply_after", server, 1);
}

#[tokio::test]
async fn delayed_reply() {
    let server = Server::builder()
        .fault(Fault::on("PWD").delay(Duration::from_millis(300)))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let started = Instant::now();
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    // A lower bound only: the reply cannot come before the delay.
    assert!(started.elapsed() >= Duration::from_millis(300));
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_delay", server, 1);
}

#[tokio::test]
async fn latency_on_every_reply_from_the_text_form() {
    let server = Server::builder()
        // 50 ms plus up to 20 ms of jitter on each reply.
        .fault("* delay=50ms jitter=20ms".parse().unwrap())
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let mut ftp = login(&server).await; // USER, PASS, TYPE: three replies
    ftp.noop().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_latency", server, 1);
}

#[tokio::test]
async fn reply_split_into_pieces_still_parses() {
    let server = Server::builder()
        .fault(Fault::on("FEAT").split_reply(5))
        .fault(Fault::on("PWD").split_reply(3))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    ftp.quit().await.unwrap();
    const PY: &str = r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect(sys.argv[1], int(sys.argv[2]))
feat = ftp.sendcmd("FEAT")
print(feat.splitlines()[0], feat.splitlines()[-1])
ftp.quit()
"#;
    let out = python_async(PY, vec!["127.0.0.1".into(), server.port().to_string()]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "211-Features: 211 End"
    );
    settle_and_check_health(&server).await;
    snapshot!("fault_split", server, 2);
}

#[tokio::test]
async fn a_command_fault_does_not_leak_into_replies_to_bad_input() {
    // NOOP's reply (13 bytes) fits one piece; were the split to leak, the
    // 500 to the next, over-long line (27 bytes) would take a 5 s pause.
    let server = Server::builder()
        .max_line(512)
        .fault("NOOP split=20 pause=5s".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("NOOP").await, "200 NOOP ok");
    let mut long = vec![b'A'; 2_000];
    long.extend_from_slice(b"\r\n");
    c.send_raw(&long).await;
    let reply = tokio::time::timeout(Duration::from_secs(2), c.reply())
        .await
        .expect("the 500 arrives whole, not split and paused");
    assert_eq!(reply, "500 Command line too long");
    c.send_raw(b"CWD caf\xe9\r\n").await;
    let reply = tokio::time::timeout(Duration::from_secs(2), c.reply())
        .await
        .expect("the 501 arrives whole");
    assert_eq!(reply, "501 Command is not valid UTF-8");
    assert_eq!(c.cmd("QUIT").await, "221 Goodbye");
}

#[tokio::test]
async fn close_without_reply() {
    let server = Server::builder()
        .fault(Fault::on("LIST").close())
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    c.cmd("EPSV").await;
    assert_eq!(c.cmd("LIST").await, "", "no reply, just the close");
    settle_and_check_health(&server).await;
    snapshot!("fault_close", server, 1);
}

#[tokio::test]
async fn connect_faults_shape_the_greeting() {
    let server = Server::builder()
        .idle_timeout(Duration::from_millis(300))
        .fault("CONNECT#1 delay=300ms".parse().unwrap())
        .fault(Fault::on("CONNECT").nth(2).shutdown())
        .fault("CONNECT#3 reply=530 text=\"Go away\"".parse().unwrap())
        .fault("CONNECT#4 stall".parse().unwrap())
        .fault("CONNECT#5 split=3".parse().unwrap())
        // `*` means every command, not the connection: no greeting delay.
        .fault("* delay=1ms".parse().unwrap())
        .start()
        .await
        .unwrap();
    // A slow greeting; timed from before the connect, so a lower bound.
    let started = Instant::now();
    let (mut c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(greeting, "220 ftpfixture ready");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(c.cmd("QUIT").await, "221 Goodbye");
    // 421 instead of the greeting, then the close.
    let (mut c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(
        greeting,
        "421 Service not available, closing control connection"
    );
    assert!(c.closed().await);
    // Another refusal, with its own code and text.
    let (mut c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(greeting, "530 Go away");
    assert!(c.closed().await);
    // No greeting at all: the connection stays silent until the idle
    // timeout closes it.
    let mut silent = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, silent.read_to_end(&mut got))
        .await
        .expect("closed by the idle timeout")
        .unwrap();
    assert!(got.is_empty(), "{got:?}");
    // A greeting in 3-byte pieces: a real client still parses it.
    let mut ftp = login(&server).await;
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_connect", server, 5);
}

#[tokio::test]
async fn close_right_after_replying() {
    let server = Server::builder()
        .dir("d")
        .fault(Fault::on("CWD").close_after_reply())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    ftp.cwd("d").await.unwrap();
    assert!(ftp.pwd().await.is_err(), "the connection is gone");
    settle_and_check_health(&server).await;
    snapshot!("fault_close_after_reply", server, 1);
}

#[tokio::test]
async fn reply_421_and_close() {
    let server = Server::builder()
        .file("f", "x")
        .fault(Fault::on("RETR").shutdown())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let err = ftp.retr_as_stream("f").await.unwrap_err();
    assert_eq!(code_of(&err), 421);
    assert!(ftp.noop().await.is_err());
    settle_and_check_health(&server).await;
    snapshot!("fault_shutdown", server, 1);
}

#[tokio::test]
async fn stalled_control_channel_never_answers() {
    let server = Server::builder()
        .idle_timeout(Duration::from_millis(400))
        .fault(Fault::on("NOOP").stall())
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    // No reply ever; the idle timeout ends the session.
    assert_eq!(c.cmd("NOOP").await, "");
    settle_and_check_health(&server).await;
    snapshot!("fault_stall", server, 1);
}

#[tokio::test]
async fn passive_connection_never_accepted_gets_425() {
    let server = Server::builder()
        .file("f", "x")
        .data_timeout(Duration::from_millis(300))
        .fault(Fault::on("RETR").never_connect_data())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let err = ftp.retr_as_stream("f").await.unwrap_err();
    assert_eq!(code_of(&err), 425);
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_no_data", server, 1);
}

#[tokio::test]
async fn active_connection_never_made_gets_425() {
    let server = Server::builder()
        .file("f", "x")
        .data_timeout(Duration::from_millis(300))
        .fault("RETR no-data".parse().unwrap())
        .start()
        .await
        .unwrap();
    const PY: &str = r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login("admin", "123456")
ftp.set_pasv(False)
try:
    ftp.retrbinary("RETR f", lambda b: None)
except ftplib.all_errors as e:
    print(str(e)[:3])
ftp.quit()
"#;
    let out = python_async(PY, vec!["127.0.0.1".into(), server.port().to_string()]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "425");
    settle_and_check_health(&server).await;
    snapshot!("fault_no_data_active", server, 1);
}

#[tokio::test]
async fn data_closed_after_n_bytes_gracefully() {
    let data = bytes(1, 50_000);
    let server = Server::builder()
        .file("big.bin", &data)
        .fault("RETR drop-data after=1024".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let (got, done) = download(&mut ftp, "big.bin").await;
    assert_eq!(got, &data[..1024], "exactly the first 1024 bytes, then FIN");
    assert_eq!(code_of(&done.unwrap_err()), 426);
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_drop_data", server, 1);
}

#[tokio::test]
async fn data_reset_after_n_bytes() {
    let data = bytes(2, 500_000);
    let server = Server::builder()
        .file("big.bin", &data)
        .fault(Fault::on("RETR").reset_data_after(4096))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let mut stream = ftp.retr_as_stream("big.bin").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let ended_by = loop {
        match stream.read(&mut buf).await {
            Ok(0) => break "eof",
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => {
                break if e.kind() == std::io::ErrorKind::ConnectionReset {
                    "reset"
                } else {
                    "error"
                }
            }
        }
    };
    // An RST may discard bytes still in flight: at most 4096 arrive, and
    // those that do are the file's.
    assert!(got.len() <= 4096);
    assert_eq!(got, &data[..got.len()]);
    // A reset, never the clean end a FIN would give.
    assert_eq!(ended_by, "reset");
    assert_eq!(code_of(&stream.finish().await.unwrap_err()), 426);
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_reset_data", server, 1);
}

#[tokio::test]
async fn data_accepted_then_closed_before_any_byte() {
    let server = Server::builder()
        .file("f.txt", "content")
        .fault(Fault::on("RETR").drop_data_after(0))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let (got, done) = download(&mut ftp, "f.txt").await;
    assert!(got.is_empty());
    assert_eq!(code_of(&done.unwrap_err()), 426);
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_drop_data_at_once", server, 1);
}

#[tokio::test]
async fn stalled_data_connection_then_abor() {
    let server = Server::builder()
        .file("f.txt", "content")
        .fault(Fault::on("RETR").stall_data())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let mut stream = ftp.retr_as_stream("f.txt").await.unwrap();
    let mut buf = [0u8; 16];
    // Nothing arrives (the read is bounded by a timeout: it must time out).
    let nothing = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await;
    assert!(nothing.is_err(), "no byte on a stalled data connection");
    ftp.abort(stream).await.expect("ABOR: 426 then 226");
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_stall_data", server, 1);
}

#[tokio::test]
async fn throttled_download_arrives_whole() {
    let data = bytes(4, 30_000);
    let server = Server::builder()
        .file("slow.bin", &data)
        .fault(Fault::on("RETR").throttle(50_000))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let started = Instant::now();
    let (got, done) = download(&mut ftp, "slow.bin").await;
    done.unwrap();
    assert_eq!(got, data);
    // 30 000 bytes at 50 000 bytes/s take at least 0.55 s (a lower bound).
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "{:?}",
        started.elapsed()
    );
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_throttle", server, 1);
}

#[tokio::test]
async fn slow_close_holds_the_data_connection_open() {
    let server = Server::builder()
        .file("f.txt", "all here")
        .fault("RETR slow-close=300ms".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    // Timed from before RETR: the server cannot close before it has sent
    // the bytes and waited out the delay, so this lower bound always holds.
    let started = Instant::now();
    let mut stream = ftp.retr_as_stream("f.txt").await.unwrap();
    let mut buf = [0u8; 8];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"all here", "every byte arrives first");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(300));
    stream.finish().await.expect("226 after the slow close");
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_slow_close", server, 1);
}

#[tokio::test]
async fn sliced_data_arrives_in_pieces_and_whole() {
    let data = bytes(7, 80);
    let server = Server::builder()
        .file("f.bin", &data)
        .dir("listed")
        .file("listed/a-file-with-a-long-name.txt", "x")
        .fault(Fault::on("RETR").slice_data(10, Duration::from_millis(30)))
        .fault("LIST slice-data=16 pause=5ms".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let started = Instant::now();
    let mut stream = ftp.retr_as_stream("f.bin").await.unwrap();
    let (mut got, mut reads) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        reads.push(n);
        got.extend_from_slice(&buf[..n]);
    }
    stream.finish().await.expect("226");
    assert_eq!(got, data);
    // Eight slices with 30 ms between them: at least 210 ms, and a reader
    // waiting on the socket cannot have them in one read.
    assert!(started.elapsed() >= Duration::from_millis(210));
    assert!(reads.len() >= 2, "{reads:?}");
    ftp.quit().await.unwrap();
    // curl reassembles a listing sent 16 bytes at a time.
    let out = crate::support::curl_async(vec![format!(
        "ftp://admin:123456@127.0.0.1:{}/listed/",
        server.port()
    )])
    .await;
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.ends_with(" a-file-with-a-long-name.txt\n") && listing.lines().count() == 1,
        "{listing:?}"
    );
    settle_and_check_health(&server).await;
    snapshot!("fault_slice_data", server, 2);
}

#[tokio::test]
async fn delayed_data_holds_the_first_byte_both_ways() {
    let server = Server::builder()
        .file("f.txt", "late\n")
        .fault(Fault::on("RETR").delay_data(Duration::from_millis(300)))
        .fault("STOR delay-data=300ms".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    // Timed from before RETR: the first byte cannot leave before the
    // delay has passed, so this lower bound always holds.
    let started = Instant::now();
    let (got, done) = download(&mut ftp, "f.txt").await;
    done.expect("226 after the delay");
    assert_eq!(got, b"late\n");
    assert!(started.elapsed() >= Duration::from_millis(300));
    ftp.quit().await.unwrap();
    // curl's upload: the server reads nothing for 300 ms, then all of it.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("up.txt");
    std::fs::write(&local, "uploaded late\n").unwrap();
    let started = Instant::now();
    let out = crate::support::curl_async(vec![
        "-T".into(),
        local.to_str().unwrap().into(),
        format!("ftp://admin:123456@127.0.0.1:{}/up.txt", server.port()),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        std::fs::read(server.root().unwrap().join("up.txt")).unwrap(),
        b"uploaded late\n"
    );
    settle_and_check_health(&server).await;
    snapshot!("fault_delay_data", server, 2);
}

#[tokio::test]
async fn corrupted_byte_truncation_and_extra_bytes_all_claim_226() {
    let data = bytes(5, 2_000);
    let server = Server::builder()
        .file("f.bin", &data)
        .fault(Fault::on("RETR").nth(1).corrupt_at(100))
        .fault(Fault::on("RETR").nth(2).truncate_at(500))
        .fault(Fault::on("RETR").nth(3).extra_bytes(64))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    assert_eq!(ftp.size("f.bin").await.unwrap(), 2_000);

    let (got, done) = download(&mut ftp, "f.bin").await;
    done.expect("226 despite the corruption");
    assert_eq!(got.len(), data.len());
    let diff: Vec<usize> = (0..data.len()).filter(|&i| got[i] != data[i]).collect();
    assert_eq!(diff, [100]);
    assert_eq!(got[100], data[100] ^ 0xFF);

    let (got, done) = download(&mut ftp, "f.bin").await;
    done.expect("226: the lying server");
    assert_eq!(got, &data[..500]);

    let (got, done) = download(&mut ftp, "f.bin").await;
    done.expect("226 with more than SIZE said");
    assert_eq!(got.len(), 2_064);
    assert_eq!(&got[..2_000], &data[..]);

    let (got, done) = download(&mut ftp, "f.bin").await;
    done.unwrap();
    assert_eq!(got, data, "the fourth download is clean");
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_lying_data", server, 1);
}

#[tokio::test]
async fn disk_full_during_upload_gets_452() {
    let server = Server::builder()
        .fault(Fault::on("STOR").disk_full_after(10_000))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let mut up = ftp.put_with_stream("up.bin").await.unwrap();
    // The server stops reading after 10 000 bytes, so the write may fail;
    // either way the final reply is the 452.
    let _ = up.write_all(&bytes(6, 100_000)).await;
    assert_eq!(code_of(&up.finish().await.unwrap_err()), 452);
    ftp.quit().await.unwrap();
    let stored = std::fs::read(server.root().unwrap().join("up.bin")).unwrap();
    assert_eq!(
        stored,
        &bytes(6, 100_000)[..10_000],
        "what fit before the disk filled"
    );
    settle_and_check_health(&server).await;
    snapshot!("fault_disk_full", server, 1);
}

#[tokio::test]
async fn storage_failing_after_the_data_arrived_gets_451() {
    let server = Server::builder()
        .fault(Fault::on("STOR").fail_after_data())
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let mut up = ftp.put_with_stream("late.bin").await.unwrap();
    up.write_all(&bytes(7, 20_000)).await.unwrap();
    assert_eq!(code_of(&up.finish().await.unwrap_err()), 451);
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_fail_after_data", server, 1);
}

fn rustls_connector(server: &Server) -> suppaftp::tokio::AsyncRustlsConnector {
    use std::sync::Arc;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.certificate_der().unwrap().into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config)).into()
}

#[tokio::test]
async fn tls_handshake_failure_on_control_and_data() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .file("f", "x")
        .fault(Fault::on("AUTH").nth(1).fail_tls())
        .fault(Fault::on("RETR").fail_tls())
        .start()
        .await
        .unwrap();
    use suppaftp::tokio::AsyncRustlsFtpStream;
    let ftp = AsyncRustlsFtpStream::connect(server.addr()).await.unwrap();
    assert!(ftp
        .into_secure(rustls_connector(&server), "localhost")
        .await
        .is_err());

    let ftp = AsyncRustlsFtpStream::connect(server.addr()).await.unwrap();
    let mut ftp = ftp
        .into_secure(rustls_connector(&server), "localhost")
        .await
        .expect("the second AUTH works");
    ftp.login("admin", "123456").await.unwrap();
    // The client's data handshake meets a fatal alert; the server's reply
    // to RETR is 425.
    match ftp.retr_as_stream("f").await {
        Err(FtpError::SecureError(msg)) => {
            assert!(msg.contains("HandshakeFailure"), "{msg}");
            // The 425 is still on its way: the next read gets it.
            assert_eq!(code_of(&ftp.noop().await.unwrap_err()), 425);
        }
        Ok(mut s) => {
            let mut buf = Vec::new();
            assert!(s.read_to_end(&mut buf).await.is_err(), "no TLS data stream");
            assert_eq!(code_of(&s.finish().await.unwrap_err()), 425);
        }
        Err(other) => panic!("{other:?}"),
    }
    drop(ftp);
    server.wait_for_session_end(2, WAIT).await.unwrap();
    let t = server.transcript().session(2);
    assert!(t.codes().contains(&425));
    assert!(t.events().iter().any(|e| matches!(
        &e.kind,
        ftpfixture::EventKind::TlsFailed {
            channel: ftpfixture::Channel::Data,
            ..
        }
    )));
    // Python's ftplib reads the 425 before its next command, so its session
    // renders the same on every run (in session 2 the order of suppaftp's
    // next command and the end of the failed transfer depends on
    // scheduling).
    const PY3: &str = r#"
import ftplib, ssl, sys
ctx = ssl.create_default_context(cadata=sys.argv[3])
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login("admin", "123456")
ftp.prot_p()
ftp.voidcmd("TYPE I")
conn = ftplib.FTP.ntransfercmd(ftp, "RETR f")[0]  # the plain socket
try:
    ctx.wrap_socket(conn, server_hostname=sys.argv[1])
    print("no failure")
except ssl.SSLError:
    print("handshake failed")
conn.close()
try:
    ftp.getresp()
except ftplib.error_temp as e:
    print(e)
ftp.quit()
"#;
    let out = python_async(
        PY3,
        vec![
            "localhost".into(),
            server.port().to_string(),
            server.certificate_pem().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "handshake failed\n425 Cannot open data connection: TLS handshake failed\n"
    );
    server.wait_for_session_end(3, WAIT).await.unwrap();
    let t = server.transcript();
    let rendered = format!("{}{}", t.session(1).render(), t.session(3).render());
    settle_and_check_health(&server).await;
    ::insta::with_settings!({
        snapshot_path => ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
    }, {
        ::insta::assert_snapshot!("fault_tls", rendered);
    });
}

#[tokio::test]
async fn login_refused_for_one_user_and_too_many_users() {
    let server = Server::builder()
        .user("alice", "pw")
        .user("bob", "pw")
        .fault(Fault::on("PASS").user("bob").reply(530, "Login incorrect"))
        .fault(Fault::on("USER").session(2).shutdown())
        .start()
        .await
        .unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    assert_eq!(code_of(&ftp.login("bob", "pw").await.unwrap_err()), 530);
    ftp.login("alice", "pw").await.unwrap();
    ftp.quit().await.unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    assert_eq!(code_of(&ftp.login("alice", "pw").await.unwrap_err()), 421);
    server.wait_for_session_end(2, WAIT).await.unwrap();
    snapshot!("fault_login", server, 2);
    // Health, with the users this server has.
    server.clear_faults();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("bob", "pw").await.unwrap();
    ftp.quit().await.unwrap();
}

/// The crate docs' example: client code that retries a failed download.
async fn download_with_retries(
    server: &Server,
    name: &str,
    attempts: u32,
) -> Result<(Vec<u8>, u32), u32> {
    let mut ftp = login(server).await;
    for attempt in 1..=attempts {
        match ftp.retr_as_stream(name).await {
            Ok(mut stream) => {
                let mut data = Vec::new();
                stream.read_to_end(&mut data).await.unwrap();
                stream.finish().await.unwrap();
                return Ok((data, attempt));
            }
            Err(FtpError::UnexpectedResponse(r)) if r.status.code() / 100 == 4 => continue,
            Err(e) => panic!("{e}"),
        }
    }
    Err(attempts)
}

#[tokio::test]
async fn fail_the_first_n_times_then_behave() {
    let server = Server::builder()
        .file("report.csv", "a,b\n")
        .fault(
            Fault::on("RETR")
                .first(2)
                .reply(450, "File busy, try again"),
        )
        .start()
        .await
        .unwrap();
    let (data, attempt) = download_with_retries(&server, "report.csv", 5)
        .await
        .unwrap();
    assert_eq!(data, b"a,b\n");
    assert_eq!(attempt, 3);
    // With fewer attempts than failures, the client gives up.
    server.inject(Fault::on("RETR").first(3).reply(450, "Still busy"));
    assert_eq!(
        download_with_retries(&server, "report.csv", 2).await,
        Err(2)
    );
    settle_and_check_health(&server).await;
    snapshot!("fault_retry", server, 2);
}

#[tokio::test]
async fn matchers_by_argument_session_and_login_state() {
    let server = Server::builder()
        .file("a.csv", "a")
        .file("b.txt", "b")
        .fault(Fault::on("SIZE").arg("*.csv").reply(550, "csv hidden"))
        .fault(Fault::on("NOOP").before_login().reply(421, "not yet"))
        .fault(Fault::on("PWD").session(2).reply(550, "session two"))
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&c.cmd("NOOP").await), 421);
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    assert_eq!(code(&c.cmd("NOOP").await), 200);
    assert_eq!(code(&c.cmd("SIZE a.csv").await), 550);
    assert_eq!(c.cmd("SIZE b.txt").await, "213 1");
    assert_eq!(code(&c.cmd("PWD").await), 257);
    let (mut c2, _) = RawClient::connect(server.addr()).await;
    c2.cmd("USER admin").await;
    c2.cmd("PASS 123456").await;
    assert_eq!(code(&c2.cmd("PWD").await), 550);
    c.cmd("QUIT").await;
    c2.cmd("QUIT").await;
    settle_and_check_health(&server).await;
    snapshot!("fault_matchers", server, 2);
}

#[tokio::test]
async fn quirks_in_replies() {
    let server = Server::builder()
        .fault(Fault::on("FEAT").quirk(Quirk::MultilineMismatch))
        .fault(Fault::on("PASV").quirk(Quirk::PasvOutOfRange))
        .fault(Fault::on("EPSV").nth(1).quirk(Quirk::EpsvAs227))
        .fault(Fault::on("EPSV").nth(2).quirk(Quirk::EpsvTrailingPeriod))
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.send_raw(b"FEAT\r\n").await;
    let mut lines = vec![c.line().await];
    while !lines.last().unwrap().starts_with("212 ") {
        lines.push(c.line().await);
        assert!(lines.len() < 50, "{lines:?}");
    }
    // Opened as 211, closed as 212: a strict reader keeps waiting.
    assert_eq!(lines[0], "211-Features:");
    assert_eq!(lines.last().unwrap(), "212 End");
    drop(c);

    // suppaftp cannot use an address with octets over 255.
    let mut ftp = login(&server).await;
    assert!(ftp.list(None).await.is_err());
    drop(ftp);

    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    let r = c.cmd("EPSV").await;
    assert!(
        r.starts_with("227 Entering Passive Mode (127,0,0,1,"),
        "{r}"
    );
    let r = c.cmd("EPSV").await;
    assert!(r.starts_with("229 ") && r.ends_with("|)."), "{r}");
    c.cmd("QUIT").await;
    settle_and_check_health(&server).await;
    snapshot!("fault_quirks_in_replies", server, 3);
}

const PY_LISTINGS: &str = r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login("admin", "123456")
for cmd in ["LIST", "LIST", "NLST"]:
    try:
        lines = []
        ftp.retrlines(cmd, lines.append)
        print(cmd, "|".join(lines))
    except UnicodeDecodeError as e:
        print(cmd, "UnicodeDecodeError")
        ftp.voidresp()
ftp.quit()
"#;

#[tokio::test]
async fn quirks_in_listings() {
    let server = Server::builder()
        .dir("docs")
        .file("a.txt", "12345")
        .fault(Fault::on("LIST").nth(1).quirk(Quirk::DosListing))
        .fault(Fault::on("LIST").nth(2).quirk(Quirk::GarbageListing))
        .fault(Fault::on("NLST").quirk(Quirk::NonUtf8Names))
        .start()
        .await
        .unwrap();
    let out = python_async(
        PY_LISTINGS,
        vec!["127.0.0.1".into(), server.port().to_string()],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    // DOS: "MM-DD-YY  HH:MMAM  <DIR>  name" and sizes right-aligned.
    let dos: Vec<&str> = lines[0].trim_start_matches("LIST ").split('|').collect();
    assert!(dos[0].ends_with("                 5 a.txt"), "{dos:?}");
    assert!(
        dos[1].contains("<DIR>") && dos[1].ends_with("docs"),
        "{dos:?}"
    );
    assert!(dos[0].as_bytes()[2] == b'-' && dos[0].as_bytes()[5] == b'-');
    assert!(lines[1].contains("no listing format"), "{text}");
    assert_eq!(lines[2], "NLST UnicodeDecodeError");
    settle_and_check_health(&server).await;
    snapshot!("fault_quirks_in_listings", server, 1);
}

#[tokio::test]
async fn second_data_command_refused_while_one_is_open() {
    let server = Server::builder()
        .file("big.bin", bytes(8, 2_000_000))
        .fault(Fault::on("NLST").quirk(Quirk::BusyData))
        // Slow enough that the transfer is still running when NLST comes.
        .fault(Fault::on("RETR").throttle(100_000))
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    c.cmd("TYPE I").await;
    let _data = c.epsv_connect(server.addr()).await;
    assert_eq!(code(&c.cmd("RETR big.bin").await), 150);
    assert_eq!(
        c.cmd("NLST").await,
        "425 Data connection already open; transfer in progress"
    );
    assert_eq!(
        c.cmd("ABOR").await,
        "426 Connection closed; transfer aborted"
    );
    assert_eq!(code(&c.reply().await), 226);
    c.cmd("QUIT").await;
    settle_and_check_health(&server).await;
    snapshot!("fault_busy_data", server, 1);
}

#[tokio::test]
async fn injected_while_running_and_cleared() {
    let server = Server::builder().file("f", "x").start().await.unwrap();
    let mut ftp = login(&server).await;
    assert!(ftp.size("f").await.is_ok());
    server.inject(Fault::on("SIZE").reply(550, "injected"));
    assert_eq!(code_of(&ftp.size("f").await.unwrap_err()), 550);
    server.clear_faults();
    assert_eq!(ftp.size("f").await.unwrap(), 1);
    ftp.quit().await.unwrap();
    settle_and_check_health(&server).await;
    snapshot!("fault_inject", server, 1);
}
