//! Record and replay: ftpfixture playing vsftpd is the upstream, a second
//! server records it through the proxy, a third replays the recording with
//! no upstream; Python's ftplib is the client every time, and what it saw
//! must be the same (passive ports aside).

use std::path::Path;

use ftpfixture::{Personality, Server, StartError, Tls, Upstream};

use crate::support::{python_async, RawClient};

/// A client session that touches every kind of step: login, the
/// commands clients send in any order, a listing, a download, an upload,
/// an error, a rename, QUIT. argv: port, passive (1/0), user, password.
const CLIENT: &str = r#"
import ftplib, io, re, sys
port, passive, user, password = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3], sys.argv[4]
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", port, timeout=20)
ftp.set_pasv(passive)
out = [ftp.getwelcome()]
out.append(ftp.login(user, password))
out.append(ftp.sendcmd("SYST"))
out.append(ftp.pwd())
out.append(ftp.sendcmd("TYPE I"))
out.append(ftp.sendcmd("SIZE readme.txt"))
chunks = []
out.append(ftp.retrbinary("RETR readme.txt", chunks.append))
out.append("bytes: " + repr(b"".join(chunks)))
lines = []
out.append(ftp.retrlines("NLST", lines.append))
out.append("names: " + ",".join(sorted(lines)))
out.append(ftp.storbinary("STOR up.txt", io.BytesIO(b"uploaded through\n")))
try:
    ftp.sendcmd("SIZE missing.txt")
except ftplib.error_perm as e:
    out.append("error: " + str(e))
out.append(ftp.sendcmd("RNFR up.txt"))
out.append(ftp.sendcmd("RNTO moved.txt"))
out.append(ftp.quit())
for line in out:
    # Ports change from run to run; nothing else may.
    print(re.sub(r"\(\|\|\|\d+\|\)|\(\d+,\d+,\d+,\d+,\d+,\d+\)", "(<addr>)", line))
"#;

async fn run_client(port: u16, passive: bool, user: &str, password: &str) -> String {
    let out = python_async(
        CLIENT,
        vec![
            port.to_string(),
            if passive { "1" } else { "0" }.into(),
            user.into(),
            password.into(),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn vsftpd_upstream(tls: Tls) -> (Server, tempfile::TempDir) {
    let certs = tempfile::tempdir().unwrap();
    let mut b = Server::builder()
        .personality(Personality::Vsftpd)
        .user("ftptest", "s3cret-pw")
        .file("readme.txt", "hello world\n")
        .dir("dir");
    if tls != Tls::None {
        b = b
            .tls(tls)
            .require_tls_resumption(true)
            .certificate_out(certs.path().join("ca.pem"));
    }
    (b.start().await.unwrap(), certs)
}

/// Every file of a recording, for what must not be in it.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    for sub in ["", "sessions", "data"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out
}

async fn record_and_replay(tls: Tls, passive: bool) {
    let (upstream, certs) = vsftpd_upstream(tls).await;
    // ftplib's plain client speaks to the upstream directly unless it is
    // implicit FTPS; then what it must see is known.
    let direct = if tls == Tls::Implicit {
        None
    } else {
        let d = run_client(upstream.port(), passive, "ftptest", "s3cret-pw").await;
        // The direct run left files behind; the recorded one starts alike.
        upstream.remove_path("moved.txt").await.unwrap();
        Some(d)
    };

    let out = tempfile::tempdir().unwrap();
    let mut up = Upstream::new(upstream.addr().to_string(), out.path());
    if tls != Tls::None {
        up = up.tls(tls).ca(certs.path().join("ca.pem"));
    }
    let proxy = Server::builder().record_upstream(up).start().await.unwrap();
    let through = run_client(proxy.port(), passive, "ftptest", "s3cret-pw").await;
    match &direct {
        Some(direct) => assert_eq!(&through, direct, "the proxy relays what the upstream says"),
        None => {
            assert!(
                through.starts_with("220 (vsFTPd 3.0.3)\n230 Login successful."),
                "{through}"
            );
            assert!(through.contains("bytes: b'hello world\\n'"), "{through}");
        }
    }
    assert_eq!(
        upstream.read_file("moved.txt").await.unwrap(),
        b"uploaded through\n",
        "the upload reached the upstream whole"
    );
    drop(proxy);

    let recording = all_text(out.path());
    assert!(!recording.contains("s3cret-pw"), "no password on disk");
    assert!(recording.contains("> PASS <redacted>"), "{recording}");
    assert!(recording.contains("< 220 (vsFTPd 3.0.3)"), "{recording}");
    assert!(
        recording.contains("= upload 17 \"uploaded through\\n\" complete"),
        "{recording}"
    );

    let replay = Server::builder().replay(out.path()).start().await.unwrap();
    let replayed = run_client(replay.port(), passive, "ftptest", "any password").await;
    assert_eq!(replayed, through, "the replay says what the upstream said");
    assert_eq!(
        replay.read_file("up.txt").await.unwrap(),
        b"uploaded through\n",
        "the replay keeps what the client uploaded"
    );
    replay.verify().unwrap();
}

#[tokio::test]
async fn plain_upstream_passive_client() {
    record_and_replay(Tls::None, true).await;
}

#[tokio::test]
async fn plain_upstream_active_client() {
    record_and_replay(Tls::None, false).await;
}

#[tokio::test]
async fn explicit_tls_upstream_with_session_resumption() {
    record_and_replay(Tls::Explicit, true).await;
}

#[tokio::test]
async fn implicit_tls_upstream() {
    record_and_replay(Tls::Implicit, true).await;
}

/// A replay of one short session.
async fn short_recording() -> (Server, tempfile::TempDir) {
    let (upstream, _certs) = vsftpd_upstream(Tls::None).await;
    let out = tempfile::tempdir().unwrap();
    let proxy = Server::builder()
        .record_upstream(
            Upstream::new(upstream.addr().to_string(), out.path())
                .redact(r"127\.0\.0\.1", "<host>")
                .unwrap(),
        )
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(proxy.addr()).await.0;
    c.cmd("USER ftptest").await;
    c.cmd("PASS s3cret-pw").await;
    c.cmd("PWD").await;
    c.cmd("CWD dir").await;
    c.cmd("QUIT").await;
    drop(proxy);
    (upstream, out)
}

#[tokio::test]
async fn a_command_the_recording_does_not_hold_is_a_miss_that_verify_reports() {
    let (_upstream, out) = short_recording().await;
    let text = all_text(out.path());
    assert!(text.contains("<host>"), "redacted: {text}");
    assert!(!text.contains("127.0.0.1"), "{text}");

    let replay = Server::builder().replay(out.path()).start().await.unwrap();
    let (mut c, greeting) = RawClient::connect(replay.addr()).await;
    assert_eq!(greeting, "220 (vsFTPd 3.0.3)");
    assert_eq!(
        c.cmd("USER ftptest").await,
        "331 Please specify the password."
    );
    assert_eq!(c.cmd("PASS whatever").await, "230 Login successful.");
    let miss = c.cmd("DELE readme.txt").await;
    assert!(
        miss.starts_with("550 Replay miss: \"DELE readme.txt\""),
        "{miss}"
    );
    assert!(miss.contains("it expected \"CWD dir\" next"), "{miss}");
    // PWD comes later in the recording, but clients send it when they like.
    assert_eq!(
        c.cmd("CWD dir").await,
        "250 Directory successfully changed."
    );
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    let err = replay.verify().unwrap_err();
    assert_eq!(err.replay_problems().len(), 1, "{err}");
    assert!(err.to_string().contains("replay miss"), "{err}");
    assert!(replay
        .transcript()
        .render()
        .contains("** replay miss: DELE readme.txt"));
    // (Dropping it would fail the test with the miss, as it should.)
    replay.shutdown().await;
}

#[tokio::test]
async fn lookup_mode_and_a_recording_edited_by_hand() {
    let (_upstream, out) = short_recording().await;
    let settings = out.path().join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        text.replace("matching = \"sequence\"", "matching = \"lookup\"")
            .replace("strict = false", "strict = true"),
    )
    .unwrap();
    let session = out.path().join("sessions/0001.txt");
    let text = std::fs::read_to_string(&session).unwrap();
    std::fs::write(
        &session,
        text.replace(
            "< 250 Directory successfully changed.",
            "< 250 Edited by hand.",
        ),
    )
    .unwrap();
    let replay = Server::builder().replay(out.path()).start().await.unwrap();
    let (mut c, _) = RawClient::connect(replay.addr()).await;
    // Out of order: lookup answers by the command.
    assert_eq!(c.cmd("CWD dir").await, "250 Edited by hand.");
    assert_eq!(
        c.cmd("USER ftptest").await,
        "331 Please specify the password."
    );
    assert_eq!(
        c.cmd("CWD dir").await,
        "250 Edited by hand.",
        "the last one sticks"
    );
    // Strict: PASS, PWD and QUIT were recorded and never used.
    let err = replay.verify().unwrap_err();
    assert!(err.replay_problems().len() >= 3, "{err}");
    assert!(err.to_string().contains("\"QUIT\" was never used"), "{err}");
    replay.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    // An upstream nobody listens on: the client hears why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let out = tempfile::tempdir().unwrap();
    let proxy = Server::builder()
        .record_upstream(Upstream::new(addr.to_string(), out.path()))
        .start()
        .await
        .unwrap();
    let (mut c, greeting) = RawClient::connect(proxy.addr()).await;
    assert!(greeting.starts_with("421 Upstream "), "{greeting}");
    assert!(greeting.contains(&addr.to_string()), "{greeting}");
    assert!(c.closed().await);

    // A hand-broken recording: the file and line.
    let (_upstream, out) = short_recording().await;
    let session = out.path().join("sessions/0001.txt");
    let mut text = std::fs::read_to_string(&session).unwrap();
    text.push_str("<oops\n");
    std::fs::write(&session, &text).unwrap();
    let line = text.lines().count();
    let err = Server::builder()
        .replay(out.path())
        .start()
        .await
        .unwrap_err();
    let StartError::Recording(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.line, Some(line), "{err}");
    assert!(err.to_string().contains("0001.txt"), "{err}");

    // No recording at all.
    let empty = tempfile::tempdir().unwrap();
    let err = Server::builder()
        .replay(empty.path())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::Recording(_)), "{err:?}");
}
