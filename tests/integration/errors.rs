//! Bad input: every error path gets the RFC's reply, the session goes on,
//! and the server stays healthy.

use std::time::Duration;

use ftpfixture::Server;

use crate::support::{code, RawClient};

#[tokio::test]
async fn unknown_unimplemented_syntax_sequence_and_parameter_errors() {
    let server = Server::start().await.unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("BOGUS").await, "500 Unknown command");
    assert_eq!(code(&c.cmd("").await), 500, "an empty line");
    assert_eq!(c.cmd("SMNT /x").await, "502 Command not implemented");
    assert_eq!(code(&c.cmd("LPSV").await), 502);
    assert_eq!(code(&c.cmd("RETR").await), 501, "argument missing");
    assert_eq!(code(&c.cmd("MKD").await), 501);
    assert_eq!(code(&c.cmd("PORT 1,2").await), 501);
    assert_eq!(code(&c.cmd("REIN now").await), 501);
    assert_eq!(code(&c.cmd("RNTO x").await), 503);
    assert_eq!(code(&c.cmd("PASS again").await), 230, "already logged in");
    assert_eq!(code(&c.cmd("MODE Z").await), 504);
    assert_eq!(code(&c.cmd("TYPE A T").await), 504);
    assert_eq!(
        code(&c.cmd("CWD a\u{1}b").await),
        501,
        "control characters in a path"
    );
    assert_eq!(
        c.cmd("NOOP").await,
        "200 NOOP ok",
        "and the session goes on"
    );
}

#[tokio::test]
async fn framing_long_lines_bare_lf_telnet_and_non_utf8() {
    let server = Server::builder().max_line(512).start().await.unwrap();
    let mut c = RawClient::login(server.addr()).await;
    // Over-long: 500, then the next line is read normally.
    let mut long = vec![b'A'; 100_000];
    long.extend_from_slice(b"\r\n");
    c.send_raw(&long).await;
    assert_eq!(c.reply().await, "500 Command line too long");
    assert_eq!(c.cmd("NOOP").await, "200 NOOP ok");
    // Bare LF.
    c.send_raw(b"SYST\n").await;
    assert_eq!(c.reply().await, "215 UNIX Type: L8");
    // Telnet IAC sequences: removed; IAC IAC is a literal byte.
    c.send_raw(b"\xff\xfb\x01NO\xff\xf1OP\r\n").await;
    assert_eq!(c.reply().await, "200 NOOP ok");
    // Not UTF-8: answered, not fatal.
    c.send_raw(b"CWD \xc3\x28\r\n").await;
    assert_eq!(c.reply().await, "501 Command is not valid UTF-8");
    // Several commands in one write are answered in order.
    c.send_raw(b"NOOP\r\nPWD\r\nSYST\r\n").await;
    assert_eq!(code(&c.reply().await), 200);
    assert_eq!(code(&c.reply().await), 257);
    assert_eq!(code(&c.reply().await), 215);
    server
        .wait_for_command("SYST", Duration::from_secs(5))
        .await
        .unwrap();
    let bad = server
        .transcript()
        .events()
        .iter()
        .filter(|e| matches!(e.kind, ftpfixture::EventKind::BadInput { .. }))
        .count();
    assert_eq!(bad, 2, "each bad line is recorded");
}

#[tokio::test]
async fn max_sessions_and_idle_timeout_get_421() {
    let server = Server::builder()
        .max_sessions(2)
        .idle_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap();
    let (_a, ga) = RawClient::connect(server.addr()).await;
    let (_b, gb) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&ga), 220);
    assert_eq!(code(&gb), 220);
    let (mut third, g) = RawClient::connect(server.addr()).await;
    assert_eq!(g, "421 Too many connections, try again later");
    assert!(third.closed().await);
    // The two idle sessions are closed by the idle timeout, with 421.
    server
        .wait_until(Duration::from_secs(10), |t| t.ended(1) && t.ended(2))
        .await
        .unwrap();
    let idle_closes = server
        .transcript()
        .replies()
        .iter()
        .filter(|(c, l)| *c == 421 && l[0].contains("Idle timeout"))
        .count();
    assert_eq!(idle_closes, 2);
    // With them gone, there is room again.
    let (_d, g) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&g), 220);
}

#[tokio::test]
async fn the_idle_timeout_counts_from_the_last_command() {
    let idle = Duration::from_millis(300);
    let server = Server::builder().idle_timeout(idle).start().await.unwrap();
    let mut c = RawClient::login(server.addr()).await;
    // Busy for three idle periods: every command is answered, so the
    // session outlives the deadline it started with.
    let busy = std::time::Instant::now();
    let mut last = busy;
    while busy.elapsed() < idle * 3 {
        assert_eq!(c.cmd("NOOP").await, "200 NOOP ok");
        last = std::time::Instant::now();
    }
    // Then quiet: the 421 comes, and not before a whole idle period.
    assert_eq!(
        c.reply().await,
        "421 Idle timeout, closing control connection"
    );
    assert!(
        last.elapsed() >= idle,
        "closed {:?} after the last command",
        last.elapsed()
    );
}

#[tokio::test]
async fn abrupt_clients_do_not_hurt_the_server() {
    let server = Server::builder()
        .file("f", vec![0u8; 1_000_000])
        .start()
        .await
        .unwrap();
    for _ in 0..5 {
        // Log in, start a download, vanish.
        let mut c = RawClient::login(server.addr()).await;
        let data = c.epsv_connect(server.addr()).await;
        c.cmd("RETR f").await;
        drop(data);
        drop(c);
    }
    for _ in 0..5 {
        // Connect and send half a line.
        let (mut c, _) = RawClient::connect(server.addr()).await;
        c.send_raw(b"USER adm").await;
    }
    server
        .wait_until(Duration::from_secs(10), |t| (1..=5).all(|id| t.ended(id)))
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("SIZE f").await, "213 1000000");
}

#[tokio::test]
async fn start_errors_are_typed() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = Server::builder().port(port).start().await.unwrap_err();
    assert!(matches!(err, ftpfixture::StartError::Bind { .. }), "{err}");
    assert!(err.to_string().contains(&port.to_string()));
    let err = Server::builder()
        .root("/no/such/root")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, ftpfixture::StartError::Root(_)), "{err}");
}
