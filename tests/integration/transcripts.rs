//! Transcripts: snapshots of realistic sessions from real clients, the
//! filters, waiting, the live feed, exports and expectations.

use std::time::Duration;

use ftpfixture::{assert_transcript, EventKind, Expectation, Server};
use suppaftp::tokio::AsyncFtpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{curl_async, python_async, RawClient};

const WAIT: Duration = Duration::from_secs(10);

async fn login(server: &Server) -> AsyncFtpStream {
    let mut ftp = AsyncFtpStream::connect(server.addr())
        .await
        .expect("connect");
    ftp.login("admin", "123456").await.expect("login");
    ftp
}

/// Waits until every session that connected has ended, so a snapshot
/// never races the last events.
async fn settle(server: &Server, sessions: u64) {
    server
        .wait_until(WAIT, |t| (1..=sessions).all(|id| t.ended(id)))
        .await
        .expect("sessions end");
}

#[tokio::test]
async fn login_failure_then_success() {
    let server = Server::start().await.unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    assert!(ftp.login("admin", "wrong").await.is_err());
    ftp.login("admin", "123456").await.unwrap();
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_transcript!("login_failure_then_success", server);
}

#[tokio::test]
async fn navigation() {
    let server = Server::builder().dir("docs/old").start().await.unwrap();
    let mut ftp = login(&server).await;
    ftp.pwd().await.unwrap();
    ftp.cwd("docs").await.unwrap();
    ftp.mkdir("new").await.unwrap();
    ftp.cwd("new").await.unwrap();
    ftp.cdup().await.unwrap();
    ftp.rmdir("new").await.unwrap();
    assert!(ftp.cwd("missing").await.is_err());
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_transcript!("navigation", server);
}

#[tokio::test]
async fn upload_and_download_binary() {
    let server = Server::start().await.unwrap();
    let mut ftp = login(&server).await;
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .await
        .unwrap();
    let data = crate::support::bytes(7, 100_000);
    let mut up = ftp.put_with_stream("blob.bin").await.unwrap();
    up.write_all(&data).await.unwrap();
    up.finish().await.unwrap();
    let mut down = ftp.retr_as_stream("blob.bin").await.unwrap();
    let mut got = Vec::new();
    down.read_to_end(&mut got).await.unwrap();
    down.finish().await.unwrap();
    assert_eq!(got, data);
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_transcript!("upload_and_download_binary", server);
}

#[tokio::test]
async fn ascii_transfer_with_ftplib() {
    let server = Server::start().await.unwrap();
    let script = r#"
import ftplib, io, sys
f = ftplib.FTP()
f.connect('127.0.0.1', int(sys.argv[1]))
f.login('admin', '123456')
f.storlines('STOR notes.txt', io.BytesIO(b'one\ntwo\n'))
lines = []
f.retrlines('RETR notes.txt', lines.append)
assert lines == ['one', 'two'], lines
f.quit()
"#;
    python_async(script, vec![server.port().to_string()]).await;
    settle(&server, 1).await;
    let on_disk = std::fs::read(server.root().unwrap().join("notes.txt")).unwrap();
    assert_eq!(on_disk, b"one\ntwo\n");
    assert_transcript!("ascii_transfer_with_ftplib", server);
}

#[tokio::test]
async fn resume_with_rest() {
    let server = Server::builder()
        .file("big.txt", "0123456789abcdef")
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .await
        .unwrap();
    ftp.resume_transfer(10).await.unwrap();
    let mut down = ftp.retr_as_stream("big.txt").await.unwrap();
    let mut got = Vec::new();
    down.read_to_end(&mut got).await.unwrap();
    down.finish().await.unwrap();
    assert_eq!(got, b"abcdef");
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_transcript!("resume_with_rest", server);
}

#[tokio::test]
async fn rename() {
    let server = Server::builder()
        .file("draft.txt", "x")
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    ftp.rename("draft.txt", "final.txt").await.unwrap();
    assert!(ftp.rename("draft.txt", "again.txt").await.is_err());
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert!(server.root().unwrap().join("final.txt").exists());
    assert_transcript!("rename", server);
}

#[tokio::test]
async fn listings() {
    let server = Server::builder()
        .file("a.txt", "aaa")
        .file("b/c.txt", "c")
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    assert_eq!(ftp.list(None).await.unwrap().len(), 2);
    assert_eq!(ftp.nlst(None).await.unwrap(), vec!["a.txt", "b"]);
    assert_eq!(ftp.mlsd(Some("b")).await.unwrap().len(), 1);
    ftp.mlst(Some("a.txt")).await.unwrap();
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_transcript!("listings", server);
}

#[tokio::test]
async fn active_mode_with_ftplib() {
    let server = Server::builder()
        .file("hello.txt", "hello\n")
        .start()
        .await
        .unwrap();
    let script = r#"
import ftplib, io, sys
f = ftplib.FTP()
f.connect('127.0.0.1', int(sys.argv[1]))
f.login('admin', '123456')
f.set_pasv(False)
out = io.BytesIO()
f.retrbinary('RETR hello.txt', out.write)
assert out.getvalue() == b'hello\n'
f.storbinary('STOR copy.txt', io.BytesIO(out.getvalue()))
f.quit()
"#;
    python_async(script, vec![server.port().to_string()]).await;
    settle(&server, 1).await;
    assert_eq!(
        std::fs::read(server.root().unwrap().join("copy.txt")).unwrap(),
        b"hello\n"
    );
    assert_transcript!("active_mode_with_ftplib", server);
}

#[tokio::test]
async fn curl_download_and_upload() {
    let server = Server::builder()
        .file("pub/report.csv", "a,b\n1,2\n")
        .start()
        .await
        .unwrap();
    let url = format!("ftp://127.0.0.1:{}/pub/report.csv", server.port());
    let out = curl_async(vec![url, "--user".into(), "admin:123456".into()]).await;
    assert_eq!(out.stdout, b"a,b\n1,2\n");
    settle(&server, 1).await;
    let local = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(local.path(), b"uploaded\n").unwrap();
    let url = format!("ftp://127.0.0.1:{}/pub/up.txt", server.port());
    let out = curl_async(vec![
        "-T".into(),
        local.path().display().to_string(),
        url,
        "--user".into(),
        "admin:123456".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    settle(&server, 2).await;
    assert_transcript!("curl_download_and_upload", server);
}

#[tokio::test]
async fn error_session() {
    let server = Server::start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.cmd("PWD").await;
    c.cmd("PASS early").await;
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    c.cmd("BOGUS").await;
    c.cmd("SMNT /x").await;
    c.cmd("RETR").await;
    c.cmd("TYPE E").await;
    c.cmd("RNTO nowhere").await;
    c.cmd("RETR missing.txt").await;
    c.cmd("PORT 10,0,0,1,4,1").await;
    c.send_raw(b"\xc3\x28\r\n").await;
    c.reply().await;
    c.cmd(&"x".repeat(5000)).await;
    c.cmd("QUIT").await;
    settle(&server, 1).await;
    assert_transcript!("error_session", server);
}

#[tokio::test]
async fn filters_and_exports() {
    let server = Server::start().await.unwrap();
    let mut ftp = login(&server).await;
    ftp.noop().await.unwrap();
    ftp.quit().await.unwrap();
    let t = server.wait_for_session_end(1, WAIT).await.unwrap();
    assert_eq!(
        t.commands(),
        vec!["USER admin", "PASS 123456", "NOOP", "QUIT"]
    );
    assert_eq!(t.codes(), vec![220, 331, 230, 200, 221]);
    assert_eq!(t.count("noop"), 1);
    assert_eq!(t.sessions(), vec![1]);
    assert!(t.session(2).events().is_empty());
    // The raw record keeps the password; the rendering masks it.
    assert!(!t.render().contains("123456"));
    let jsonl = t.to_jsonl();
    assert_eq!(jsonl.lines().count(), t.events().len());
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "connected");
    assert_eq!(first["session"], 1);
    insta::assert_json_snapshot!(t.session(1).events()[1..4], { "[].at" => "[ms]" }, @r#"
    [
      {
        "session": 1,
        "at": "[ms]",
        "event": "reply",
        "code": 220,
        "lines": [
          "220 ftpfixture ready"
        ]
      },
      {
        "session": 1,
        "at": "[ms]",
        "event": "command",
        "line": "USER admin"
      },
      {
        "session": 1,
        "at": "[ms]",
        "event": "reply",
        "code": 331,
        "lines": [
          "331 Password required for admin"
        ]
      }
    ]
    "#);
}

#[tokio::test]
async fn live_feed_and_waiting() {
    let server = Server::start().await.unwrap();
    let mut feed = server.subscribe();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.send_raw(b"NOOP\r\n").await;
    let seen = tokio::time::timeout(WAIT, async {
        loop {
            let e = feed.next().await.unwrap();
            if let EventKind::Command { line, .. } = e.kind {
                return line;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(seen, "NOOP");
    server.wait_for_command("NOOP", WAIT).await.unwrap();
    let err = server
        .wait_for_command("STOR", Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.transcript().commands(), ["NOOP"]);
    assert!(err.to_string().contains("#1 C> NOOP"), "{err}");
}

#[tokio::test]
async fn recording_can_be_switched_off() {
    let server = Server::builder().record(false).start().await.unwrap();
    let mut ftp = login(&server).await;
    ftp.quit().await.unwrap();
    assert!(server.transcript().events().is_empty());
}

#[tokio::test]
async fn expectations_pass_and_fail_with_a_readable_message() {
    let server = Server::builder()
        .file("in/a.csv", "1")
        .start()
        .await
        .unwrap();
    server.expect(Expectation::command("RETR").arg("in/*.csv").times(1));
    server.expect(Expectation::command("DELE").never());
    let mut ftp = login(&server).await;
    let mut down = ftp.retr_as_stream("in/a.csv").await.unwrap();
    let mut got = Vec::new();
    down.read_to_end(&mut got).await.unwrap();
    down.finish().await.unwrap();
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    server.verify().unwrap();

    server.expect(Expectation::command("STOR").at_least(1));
    let error = server.verify().unwrap_err();
    assert_eq!(error.unmet().len(), 1);
    assert_eq!(error.unmet()[0].count(), 0);
    let message = error.to_string();
    assert!(
        message.contains("expected STOR: at least 1 time(s), got 0"),
        "{message}"
    );
    assert!(message.contains("C> RETR in/a.csv"), "{message}");
    // Dropping a server with an unmet expectation panics…
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(server)));
    assert!(dropped.is_err());
}

#[tokio::test]
async fn shutdown_hands_back_the_transcript_even_with_unmet_expectations() {
    let server = Server::start().await.unwrap();
    server.expect(Expectation::command("STOR"));
    let mut ftp = login(&server).await;
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert!(server.verify().is_err());
    // …but shutdown() never does: the final transcript is what a failing
    // test wants to print.
    let transcript = server.shutdown().await;
    assert_eq!(transcript.count("QUIT"), 1);
}

#[tokio::test]
async fn expectations_count_as_commands_arrive_not_from_the_transcript() {
    // Neither forgetting the transcript nor not recording it can make an
    // expectation pass or fail.
    for record in [true, false] {
        let server = Server::builder().record(record).start().await.unwrap();
        server.expect(Expectation::command("NOOP").times(2));
        server.expect(Expectation::command("DELE").never());
        let mut ftp = login(&server).await;
        ftp.noop().await.unwrap();
        server.clear_transcript();
        assert!(server.verify().is_err(), "one NOOP so far");
        ftp.noop().await.unwrap();
        server.verify().unwrap();
        ftp.rm("missing.txt").await.unwrap_err();
        server.clear_transcript();
        let error = server.verify().unwrap_err();
        assert_eq!(
            error.unmet()[0].expectation().to_string(),
            "DELE: exactly 0 time(s)"
        );
        assert_eq!(error.unmet()[0].count(), 1);
        let counts = server.expectations();
        assert_eq!((counts[0].1, counts[1].1), (2, 1));
        server.clear_expectations();
        ftp.quit().await.unwrap();
    }
}

#[tokio::test]
async fn one_matcher_for_faults_and_expectations() {
    use ftpfixture::{Fault, Matcher};
    let server = Server::builder().file("a.csv", "1").start().await.unwrap();
    let csv = Matcher::command("SIZE").arg("*.csv");
    // The same matcher: the fault fires on the first two, the expectation
    // counts all three.
    let fault = server.inject(Fault::matching(csv.clone().first(2)).reply(450, "Busy"));
    server.expect(Expectation::matching(csv).times(3));
    let mut ftp = login(&server).await;
    assert!(ftp.size("a.csv").await.is_err());
    assert!(ftp.size("a.csv").await.is_err());
    assert_eq!(ftp.size("a.csv").await.unwrap(), 1);
    assert_eq!(ftp.size("a.txt").await.map_err(|_| ()), Err(()));
    assert_eq!(fault.times_fired(), 2);
    server.verify().unwrap();
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn injected_faults_have_handles_and_scopes() {
    use ftpfixture::Fault;
    let server = Server::builder()
        .fault(Fault::on("MKD").reply(550, "No"))
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let noop = server.inject(Fault::on("NOOP").reply(421, "Not now"));
    assert_eq!(
        server.faults().iter().map(|f| f.id()).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(ftp.noop().await.is_err());
    assert_eq!(noop.times_fired(), 1);
    assert!(noop.remove());
    assert!(!noop.remove(), "already gone");
    ftp.noop().await.unwrap();
    {
        let guard = server.inject_scoped(Fault::on("PWD").reply(550, "Hidden"));
        assert_eq!(guard.id(), 3);
        assert!(ftp.pwd().await.is_err());
    }
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    assert!(server.remove_fault(1));
    ftp.mkdir("now-allowed").await.unwrap();
    assert!(server.faults().is_empty());
    ftp.quit().await.unwrap();
}

#[test]
fn no_double_panic_when_the_test_already_fails() {
    // A test that panics while holding a server with unmet expectations must
    // report its own panic, not abort on a second one from Drop.
    let result = std::panic::catch_unwind(|| {
        let server = Server::builder().start_blocking().unwrap();
        server.expect(Expectation::command("STOR"));
        panic!("the test's own failure");
    });
    let message = result.unwrap_err().downcast::<&str>().unwrap();
    assert_eq!(*message, "the test's own failure");
}

#[tokio::test]
async fn the_raw_record_keeps_the_bytes_as_received() {
    let server = Server::start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    c.send_raw(b"USER admin\n").await;
    assert_eq!(c.reply().await, "331 Password required for admin");
    c.send_raw(b"PASS 123456\n").await;
    assert_eq!(c.reply().await, "230 User admin logged in");
    // Telnet "interrupt process" and "data mark" before a command, as some
    // clients send ahead of ABOR.
    c.send_raw(b"\xff\xf4\xff\xf2NOOP\r\n").await;
    assert_eq!(c.reply().await, "200 NOOP ok");
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(c.cmd("QUIT").await, "221 Goodbye");
    settle(&server, 1).await;
    let t = server.transcript();
    let wires: Vec<(&str, Option<&str>)> = t
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Command { line, wire } => Some((line.as_str(), wire.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(
        wires,
        [
            ("USER admin", Some("USER admin\\n")),
            ("PASS 123456", Some("PASS 123456\\n")),
            ("NOOP", Some("\\xff\\xf4\\xff\\xf2NOOP\\r\\n")),
            ("PWD", None),
            ("QUIT", None),
        ]
    );
    // The rendered form says how a line was framed, and still masks.
    let rendered = t.render();
    assert!(
        rendered.contains("#1 C> USER admin  [bare LF]\n"),
        "{rendered}"
    );
    assert!(
        rendered.contains("#1 C> PASS ******  [bare LF]\n"),
        "{rendered}"
    );
    assert!(
        rendered.contains("#1 C> NOOP  [Telnet bytes]\n"),
        "{rendered}"
    );
    assert!(rendered.contains("#1 C> PWD\n"), "{rendered}");
    // JSON Lines carry the wire bytes only where they differ.
    let jsonl = t.to_jsonl();
    assert!(
        jsonl.contains(r#""line":"NOOP","wire":"\\xff\\xf4\\xff\\xf2NOOP\\r\\n""#),
        "{jsonl}"
    );
    assert!(jsonl.contains(r#""line":"PWD"}"#), "{jsonl}");
}

/// A long-running server keeps a bounded transcript: the oldest ended
/// sessions go first, the drop is recorded, and counts, waits, expectations
/// and the live feed still see everything.
#[tokio::test]
async fn the_transcript_is_bounded_and_counts_survive_the_drop() {
    let server = Server::builder()
        .max_transcript_events(60)
        .start()
        .await
        .unwrap();
    server.expect(Expectation::command("USER").times(40));
    let mut feed = server.subscribe();
    for i in 1..=40u64 {
        let mut c = RawClient::login(server.addr()).await;
        c.cmd("QUIT").await;
        // Sessions end in order, so the oldest is the first to go.
        server.wait_for_session_end(i, WAIT).await.unwrap();
    }
    let t = server.transcript();
    assert!(t.events().len() <= 61, "bounded: {}", t.events().len());
    assert_eq!(t.count("USER"), 40, "counted, dropped or not");
    assert_eq!(t.count("pass"), 40);
    assert!(
        t.ended(1),
        "an ended session that was dropped is still ended"
    );
    assert!(t.ended(40));
    assert!(!t.ended(41), "no such session yet");
    assert!(
        !t.sessions().contains(&1),
        "the oldest session's events went"
    );
    assert!(t.sessions().contains(&40), "the newest stays");
    let drops = t
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Dropped { .. }))
        .count();
    assert!(drops >= 1);
    assert!(
        t.render()
            .contains("** transcript limit: dropped the events of"),
        "{}",
        t.render()
    );
    // A wait on a dropped session returns at once.
    server.wait_for_session_end(2, WAIT).await.unwrap();
    server.verify().unwrap();
    // The live feed had every session's events.
    let mut users = 0;
    while let Some(e) = feed.try_next() {
        if matches!(&e.kind, EventKind::Command { line, .. } if line.starts_with("USER")) {
            users += 1;
        }
    }
    assert_eq!(users, 40);
    assert_eq!(feed.missed(), 0);
}
