//! FTPS: explicit and implicit TLS with suppaftp (rustls), curl and
//! Python's ftplib, the policies, resumption, and bad input.

use std::sync::Arc;
use std::time::Duration;

use ftpfixture::{assert_transcript, EventKind, Server, Tls};
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{bytes, code, curl_async, python_async, RawClient};

const WAIT: Duration = Duration::from_secs(10);

/// A rustls connector that trusts exactly the server's certificate.
fn connector(server: &Server) -> AsyncRustlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(server.certificate_der().expect("TLS server").into())
        .expect("CA accepted");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    AsyncRustlsConnector::from(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn explicit_login(server: &Server, name: &str) -> AsyncRustlsFtpStream {
    let ftp = AsyncRustlsFtpStream::connect(server.addr())
        .await
        .expect("connect");
    let mut ftp = ftp
        .into_secure(connector(server), name)
        .await
        .expect("AUTH TLS, PBSZ, PROT P");
    ftp.login("admin", "123456").await.expect("login");
    ftp.transfer_type(FileType::Binary).await.expect("TYPE I");
    ftp
}

async fn put(ftp: &mut AsyncRustlsFtpStream, name: &str, data: &[u8]) {
    let mut up = ftp.put_with_stream(name).await.expect("STOR");
    up.write_all(data).await.expect("upload");
    up.finish().await.expect("226 after STOR");
}

async fn get(ftp: &mut AsyncRustlsFtpStream, name: &str) -> Vec<u8> {
    let mut down = ftp.retr_as_stream(name).await.expect("RETR");
    let mut got = Vec::new();
    down.read_to_end(&mut got).await.expect("download");
    down.finish().await.expect("226 after RETR");
    got
}

/// The TLS events of the transcript, as (channel, resumed).
fn tls_events(server: &Server) -> Vec<(ftpfixture::Channel, bool)> {
    server
        .transcript()
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Tls {
                channel, resumed, ..
            } => Some((*channel, *resumed)),
            _ => None,
        })
        .collect()
}

/// Runs a Python script with the host, the port and the PEM to trust as
/// its arguments.
async fn python_tls(script: &'static str, server: &Server, host: &str) -> std::process::Output {
    let pem = server.certificate_pem().expect("a TLS server");
    python_async(script, vec![host.into(), server.port().to_string(), pem]).await
}

/// The widespread ftplib recipe for servers that require TLS session
/// reuse: every data connection resumes the control connection's session
/// (what lftp and FileZilla do as well). The test's own lines follow.
macro_rules! reusing_ftp_tls {
    ($rest:literal) => {
        concat!(
            r#"
import ftplib, io, ssl, sys
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Reusing(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session)
        return conn, size
ctx = ssl.create_default_context(cadata=pem)
"#,
            $rest
        )
    };
}

/// For each protected data connection, in order: did it resume?
fn data_resumptions(server: &Server) -> Vec<bool> {
    tls_events(server)
        .into_iter()
        .filter(|(c, _)| *c == ftpfixture::Channel::Data)
        .map(|(_, resumed)| resumed)
        .collect()
}

async fn settle(server: &Server, sessions: u64) {
    server
        .wait_until(WAIT, |t| (1..=sessions).all(|id| t.ended(id)))
        .await
        .expect("sessions end");
}

#[tokio::test]
async fn explicit_tls_with_suppaftp_both_directions_and_listings() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .dir("docs")
        .start()
        .await
        .unwrap();
    let mut ftp = explicit_login(&server, "localhost").await;
    let data = bytes(3, 300_000);
    put(&mut ftp, "secret.bin", &data).await;
    assert_eq!(get(&mut ftp, "secret.bin").await, data);
    assert_eq!(
        std::fs::read(server.root().unwrap().join("secret.bin")).unwrap(),
        data
    );
    let names = ftp.nlst(None).await.unwrap();
    assert!(names.iter().any(|n| n.ends_with("secret.bin")), "{names:?}");
    let lines = ftp.list(None).await.unwrap();
    assert!(lines
        .iter()
        .any(|l| l.starts_with('d') && l.ends_with("docs")));
    let facts = ftp.mlsd(None).await.unwrap();
    assert!(facts.iter().any(|l| l.contains("size=300000")), "{facts:?}");
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    let events = tls_events(&server);
    assert_eq!(events[0].0, ftpfixture::Channel::Control);
    // One handshake per data connection: STOR, RETR, NLST, LIST, MLSD.
    let data_handshakes = events
        .iter()
        .filter(|(c, _)| *c == ftpfixture::Channel::Data)
        .count();
    assert_eq!(data_handshakes, 5, "{events:?}");
}

#[tokio::test]
async fn the_certificate_verifies_for_127_0_0_1_as_well_as_localhost() {
    let server = Server::builder().tls(Tls::Explicit).start().await.unwrap();
    let mut ftp = explicit_login(&server, "127.0.0.1").await;
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    ftp.quit().await.unwrap();

    // And a name the certificate does not hold is refused by the client.
    let ftp = AsyncRustlsFtpStream::connect(server.addr()).await.unwrap();
    assert!(ftp
        .into_secure(connector(&server), "example.com")
        .await
        .is_err());
}

#[tokio::test]
async fn implicit_tls_with_suppaftp() {
    let server = Server::builder()
        .tls(Tls::Implicit)
        .file("hello.txt", "hello over implicit TLS\n")
        .start()
        .await
        .unwrap();
    assert!(server.url().starts_with("ftps://"));
    let mut ftp = AsyncRustlsFtpStream::connect_secure_implicit(
        server.addr(),
        connector(&server),
        "localhost",
    )
    .await
    .expect("implicit handshake");
    ftp.login("admin", "123456").await.unwrap();
    ftp.transfer_type(FileType::Binary).await.unwrap();
    // Data is always protected here: PROT C is refused for policy (534).
    match ftp
        .custom_command("PROT C", &[suppaftp::Status::CommandOk])
        .await
    {
        Err(suppaftp::FtpError::UnexpectedResponse(r)) => {
            let text = String::from_utf8_lossy(&r.body).to_string();
            assert!(text.starts_with("534 "), "{text}");
        }
        other => panic!("PROT C must be refused: {other:?}"),
    }
    assert_eq!(
        get(&mut ftp, "hello.txt").await,
        b"hello over implicit TLS\n"
    );
    put(&mut ftp, "up.bin", &bytes(9, 70_000)).await;
    assert_eq!(
        std::fs::read(server.root().unwrap().join("up.bin")).unwrap(),
        bytes(9, 70_000)
    );
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn curl_uploads_of_a_megabyte_arrive_whole() {
    // The server must write nothing on an upload's data connection: TLS 1.3
    // session tickets there sat unread in curl's socket, its close became an
    // RST, and the kernel dropped the unsent rest of the upload (about half
    // of such uploads failed with 426).
    let server = Server::builder().tls(Tls::Explicit).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.certificate_pem().unwrap()).unwrap();
    let content = bytes(12, 1 << 20);
    let local = dir.path().join("big.bin");
    std::fs::write(&local, &content).unwrap();
    let mut args = vec![
        "--ssl-reqd".to_string(),
        "--cacert".into(),
        ca.to_string_lossy().into_owned(),
    ];
    // Eight uploads over one control connection.
    for i in 0..8 {
        args.extend([
            "-T".into(),
            local.to_string_lossy().into_owned(),
            format!("ftp://admin:123456@localhost:{}/up{i}.bin", server.port()),
        ]);
    }
    let out = curl_async(args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for i in 0..8 {
        let stored = std::fs::read(server.root().unwrap().join(format!("up{i}.bin"))).unwrap();
        assert!(stored == content, "upload {i}: {} bytes", stored.len());
    }
}

#[tokio::test]
async fn curl_explicit_and_implicit() {
    let content = bytes(5, 50_000);
    for mode in [Tls::Explicit, Tls::Implicit] {
        let server = Server::builder()
            .tls(mode)
            .file("data.bin", &content)
            .start()
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, server.certificate_pem().unwrap()).unwrap();
        let ca = ca.to_string_lossy().into_owned();
        // Explicit: ftp:// with --ssl-reqd; implicit: ftps://. The URL host
        // is "localhost" so the name is verified too.
        let base = format!(
            "{}://admin:123456@localhost:{}",
            if mode == Tls::Implicit { "ftps" } else { "ftp" },
            server.port()
        );
        let mut tls_args = vec!["--cacert".to_string(), ca];
        if mode == Tls::Explicit {
            tls_args.push("--ssl-reqd".into());
        }
        let download = dir.path().join("down.bin");
        let mut args = tls_args.clone();
        args.extend([
            format!("{base}/data.bin"),
            "-o".into(),
            download.to_string_lossy().into_owned(),
        ]);
        let out = curl_async(args).await;
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(&download).unwrap(), content);

        let upload = dir.path().join("up.txt");
        std::fs::write(&upload, "uploaded by curl\n").unwrap();
        let mut args = tls_args.clone();
        args.extend([
            "-T".into(),
            upload.to_string_lossy().into_owned(),
            format!("{base}/incoming.txt"),
        ]);
        let out = curl_async(args).await;
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(server.root().unwrap().join("incoming.txt")).unwrap(),
            b"uploaded by curl\n"
        );

        let mut args = tls_args.clone();
        args.extend(["--list-only".into(), format!("{base}/")]);
        let out = curl_async(args).await;
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(
            listing.contains("data.bin") && listing.contains("incoming.txt"),
            "{listing}"
        );
    }
}

const PY_TLS: &str = r#"
import ftplib, ssl, sys, io
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cadata=pem)
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.login("admin", "123456")
ftp.prot_p()
data = bytes(range(256)) * 400
ftp.storbinary("STOR p.bin", io.BytesIO(data))
got = bytearray()
ftp.retrbinary("RETR p.bin", got.extend)
assert bytes(got) == data, "PROT P round trip"
names = [n for n, _ in ftp.mlsd()]
assert "p.bin" in names, names
ftp.prot_c()
got = bytearray()
ftp.retrbinary("RETR p.bin", got.extend)
assert bytes(got) == data, "PROT C round trip"
ftp.prot_p()
lines = []
ftp.retrlines("LIST", lines.append)
assert any(l.endswith("p.bin") for l in lines), lines
ftp.quit()
print("ok")
"#;

#[tokio::test]
async fn python_ftp_tls_mixes_prot_c_and_p_in_one_session() {
    let server = Server::builder().tls(Tls::Explicit).start().await.unwrap();
    let out = python_tls(PY_TLS, &server, "localhost").await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    settle(&server, 1).await;
    // PROT P: STOR, RETR, MLSD, LIST are protected; the PROT C RETR is not.
    let data = tls_events(&server)
        .iter()
        .filter(|(c, _)| *c == ftpfixture::Channel::Data)
        .count();
    assert_eq!(data, 4);
    assert_eq!(
        server
            .transcript()
            .codes()
            .iter()
            .filter(|&&c| c == 226)
            .count(),
        5
    );
}

const PY_POLICY: &str = r#"
import ftplib, ssl, sys
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def code(f):
    try:
        return f().split()[0]
    except ftplib.all_errors as e:
        return str(e).split()[0]
plain = ftplib.FTP()
plain.connect(host, port)
print("plain USER", code(lambda: plain.sendcmd("USER admin")))
plain.close()
ctx = ssl.create_default_context(cadata=pem)
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, port)
print("AUTH", code(ftp.auth))
print("AUTH again", code(lambda: ftp.sendcmd("AUTH TLS")))
print("PROT before PBSZ", code(lambda: ftp.sendcmd("PROT P")))
print("PBSZ", code(lambda: ftp.sendcmd("PBSZ 0")))
print("PROT S", code(lambda: ftp.sendcmd("PROT S")))
print("PROT C", code(lambda: ftp.sendcmd("PROT C")))
ftp.login("admin", "123456")
print("NLST clear", code(lambda: ftp.nlst()))
ftp.prot_p()
print("NLST private", "ok" if isinstance(ftp.nlst(), list) else "?")
print("CCC", code(lambda: ftp.sendcmd("CCC")))
ftp.quit()
"#;

#[tokio::test]
async fn required_tls_refuses_plaintext_with_clear_replies() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .require_tls(true)
        .start()
        .await
        .unwrap();
    let out = python_tls(PY_POLICY, &server, "127.0.0.1").await;
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = "\
plain USER 530
AUTH 234
AUTH again 503
PROT before PBSZ 503
PBSZ 200
PROT S 536
PROT C 534
NLST clear 521
NLST private ok
CCC 534
";
    assert_eq!(text, expected);
}

const PY_CCC: &str = r#"
import ftplib, ssl, sys
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cadata=pem)
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.login("admin", "123456")
print(ftp.ccc().split()[0])
print(ftp.pwd())
ftp.quit()
"#;

#[tokio::test]
async fn ccc_when_allowed_returns_the_control_channel_to_plaintext() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .allow_ccc(true)
        .start()
        .await
        .unwrap();
    let out = python_tls(PY_CCC, &server, "localhost").await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200\n/\n");
    settle(&server, 1).await;
    let t = server.transcript();
    assert!(t
        .events()
        .iter()
        .any(|e| matches!(e.kind, EventKind::TlsCleared)));
    assert!(t.commands().contains(&"PWD"));
}

#[tokio::test]
async fn a_client_that_resumes_satisfies_required_resumption_and_one_that_does_not_gets_522() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .require_tls_resumption(true)
        .file("f.txt", "resumed\n")
        .start()
        .await
        .unwrap();
    // rustls resumes the control session on the data connection.
    let mut ftp = explicit_login(&server, "localhost").await;
    assert_eq!(get(&mut ftp, "f.txt").await, b"resumed\n");
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert!(tls_events(&server)
        .iter()
        .any(|(c, resumed)| *c == ftpfixture::Channel::Data && *resumed));

    // Python's ftplib wraps each data socket without the control session.
    const PY: &str = r#"
import ftplib, ssl, sys
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cadata=pem)
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.login("admin", "123456")
ftp.prot_p()
try:
    ftp.retrbinary("RETR f.txt", lambda b: None)
    print("transferred")
except ftplib.all_errors as e:
    print(str(e).split()[0])
print(ftp.voidcmd("NOOP").split()[0])
ftp.quit()
"#;
    let out = python_tls(PY, &server, "localhost").await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "522\n200\n");
}

#[tokio::test]
async fn a_client_that_reuses_the_control_session_resumes_every_data_connection() {
    // lftp, FileZilla and this common ftplib recipe present the control
    // connection's session on *every* data connection, so one TLS 1.3
    // ticket must resume more than once.
    let server = Server::builder()
        .tls(Tls::Explicit)
        .require_tls_resumption(true)
        .file("f.txt", "resumed\n")
        .start()
        .await
        .unwrap();
    const PY: &str = reusing_ftp_tls!(
        r#"
ftp = Reusing(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.login("admin", "123456")
ftp.prot_p()
for i in range(3):
    got = []
    ftp.retrbinary("RETR f.txt", got.append)
    print(b"".join(got).decode().strip(), end=" ")
    ftp.storbinary("STOR up%d.txt" % i, io.BytesIO(b"x" * (i + 1)))
print(sorted(ftp.nlst()))
ftp.quit()
"#
    );
    let out = python_tls(PY, &server, "localhost").await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "resumed resumed resumed ['f.txt', 'up0.txt', 'up1.txt', 'up2.txt']\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    settle(&server, 1).await;
    assert_eq!(data_resumptions(&server), vec![true; 7]);
}

#[tokio::test]
async fn tls_1_2_client_with_session_reuse() {
    // TLS 1.2 resumes by session ID or ticket, not TLS 1.3 tickets: a
    // client capped at 1.2 must work too, resumption required included.
    let server = Server::builder()
        .tls(Tls::Explicit)
        .require_tls_resumption(true)
        .file("f.txt", "over 1.2\n")
        .start()
        .await
        .unwrap();
    const PY: &str = reusing_ftp_tls!(
        r#"
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ftp = Reusing(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.login("admin", "123456")
ftp.prot_p()
print(ftp.sock.version())
got = []
ftp.retrbinary("RETR f.txt", got.append)
ftp.storbinary("STOR up.txt", io.BytesIO(b"".join(got)))
print(ftp.nlst())
ftp.quit()
"#
    );
    let out = python_tls(PY, &server, "localhost").await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "TLSv1.2\n['f.txt', 'up.txt']\n"
    );
    assert_eq!(
        std::fs::read(server.root().unwrap().join("up.txt")).unwrap(),
        b"over 1.2\n"
    );
    settle(&server, 1).await;
    let handshakes: Vec<(ftpfixture::Channel, String, bool)> = server
        .transcript()
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Tls {
                channel,
                version,
                resumed,
            } => Some((*channel, version.clone(), *resumed)),
            _ => None,
        })
        .collect();
    use ftpfixture::Channel::{Control, Data};
    let v = || "TLSv1.2".to_string();
    assert_eq!(
        handshakes,
        [
            (Control, v(), false),
            (Data, v(), true),
            (Data, v(), true),
            (Data, v(), true)
        ]
    );
}

#[tokio::test]
async fn auth_ssl_protects_data_without_prot_for_old_clients() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .file("f.txt", "old client\n")
        .start()
        .await
        .unwrap();
    // An old client: AUTH SSL, then transfers without PBSZ or PROT, and
    // expects the data channel protected (RFC 4217 section 4, for
    // compatibility with pre-standard implementations).
    const PY: &str = r#"
import ftplib, ssl, sys
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cadata=pem)
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, port)
print(ftp.voidcmd("AUTH SSL").split()[0])
ftp.sock = ctx.wrap_socket(ftp.sock, server_hostname=host)
ftp.file = ftp.sock.makefile("r", encoding=ftp.encoding)
ftp.login("admin", "123456")
ftp._prot_p = True   # what the client assumes; no PROT is sent
got = []
ftp.retrbinary("RETR f.txt", got.append)
print(b"".join(got).decode().strip())
ftp.quit()
"#;
    let out = python_tls(PY, &server, "localhost").await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "234\nold client\n");
    settle(&server, 1).await;
    let t = server.transcript();
    assert_eq!(
        (t.count("AUTH"), t.count("PBSZ"), t.count("PROT")),
        (1, 0, 0)
    );
    let channels: Vec<_> = tls_events(&server).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        channels,
        [ftpfixture::Channel::Control, ftpfixture::Channel::Data]
    );
}

#[tokio::test]
async fn rein_logs_out_but_keeps_the_protected_channel() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .user("admin", "123456")
        .user("bob", "pw")
        .file("f.txt", "still private\n")
        .start()
        .await
        .unwrap();
    const PY: &str = r#"
import ftplib, ssl, sys
host, port, pem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cadata=pem)
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.login("admin", "123456")
ftp.prot_p()
print(ftp.voidcmd("REIN").split()[0])
try:
    ftp.pwd()
except ftplib.error_perm as e:
    print(str(e).split()[0])
ftp.login("bob", "pw")   # on the same TLS channel, no new AUTH
got = []
ftp.retrbinary("RETR f.txt", got.append)
print(b"".join(got).decode().strip())
ftp.quit()
"#;
    let out = python_tls(PY, &server, "localhost").await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "220\n530\nstill private\n"
    );
    settle(&server, 1).await;
    let t = server.transcript();
    assert_eq!(
        (t.count("AUTH"), t.count("PROT"), t.count("USER")),
        (1, 1, 2)
    );
    let channels: Vec<_> = tls_events(&server).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        channels,
        [ftpfixture::Channel::Control, ftpfixture::Channel::Data],
        "the download after REIN was protected"
    );
}

#[tokio::test]
async fn bad_tls_input_gets_a_clear_outcome_and_the_server_goes_on() {
    let server = Server::builder()
        .tls(Tls::Implicit)
        .tls_handshake_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    // Plaintext on an implicit port: not a ClientHello, so the handshake
    // fails and the connection is closed.
    let stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    w.write_all(b"USER admin\r\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, r.read_to_end(&mut buf))
        .await
        .expect("closed");
    assert!(!buf.starts_with(b"220"), "no greeting in plaintext");

    // A client that never starts the handshake: the timeout closes it.
    let stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut r, _w) = stream.into_split();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(WAIT, r.read_to_end(&mut buf))
        .await
        .expect("closed by the handshake timeout");
    assert!(n.is_ok());
    assert!(buf.is_empty());

    server
        .wait_until(WAIT, |t| t.ended(1) && t.ended(2))
        .await
        .unwrap();
    let failures: Vec<String> = server
        .transcript()
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TlsFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[1].contains("timed out"), "{failures:?}");

    // And a proper client still gets in.
    let mut ftp = AsyncRustlsFtpStream::connect_secure_implicit(
        server.addr(),
        connector(&server),
        "localhost",
    )
    .await
    .unwrap();
    ftp.login("admin", "123456").await.unwrap();
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn garbage_after_auth_tls_and_refusals_without_tls() {
    let server = Server::builder().tls(Tls::Explicit).start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&c.cmd("AUTH KERBEROS_V4").await), 504);
    assert_eq!(code(&c.cmd("PBSZ 0").await), 503);
    assert_eq!(code(&c.cmd("PROT P").await), 503);
    assert_eq!(code(&c.cmd("CCC").await), 533);
    let feat = c.cmd("FEAT").await;
    for f in [" AUTH TLS", " PBSZ", " PROT"] {
        assert!(feat.lines().any(|l| l == f), "{feat}");
    }
    assert_eq!(code(&c.cmd("AUTH TLS").await), 234);
    c.send_raw(b"this is no ClientHello\r\n\r\n").await;
    assert!(c.eof().await);
    server.wait_for_session_end(1, WAIT).await.unwrap();
    assert!(server.transcript().events().iter().any(|e| matches!(
        &e.kind,
        EventKind::TlsFailed {
            channel: ftpfixture::Channel::Control,
            ..
        }
    )));

    let plain = Server::start().await.unwrap();
    let (mut c, _) = RawClient::connect(plain.addr()).await;
    assert_eq!(code(&c.cmd("AUTH TLS").await), 502);
    let feat = c.cmd("FEAT").await;
    assert!(!feat.contains("AUTH"), "{feat}");
    assert!(plain.certificate_pem().is_none());
}

#[tokio::test]
async fn own_certificate_from_pem_files() {
    // A self-signed certificate of the user's own, written as PEM files.
    let own = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, own.cert.pem()).unwrap();
    std::fs::write(&key, own.signing_key.serialize_pem()).unwrap();
    let certificate = ftpfixture::Certificate::from_pem_files(&cert, &key).unwrap();
    let server = Server::builder()
        .tls(Tls::Explicit)
        .certificate(certificate)
        .start()
        .await
        .unwrap();
    assert_eq!(server.certificate_der().unwrap(), own.cert.der().to_vec());
    let mut ftp = explicit_login(&server, "localhost").await;
    assert_eq!(ftp.pwd().await.unwrap(), "/");
    ftp.quit().await.unwrap();

    // Mistakes are reported when building, not at the first handshake.
    let other = rcgen::generate_simple_self_signed(vec!["x".to_string()]).unwrap();
    let mismatched = ftpfixture::Certificate::from_pem(
        own.cert.pem().as_bytes(),
        other.signing_key.serialize_pem().as_bytes(),
    );
    assert!(mismatched.is_err());
    assert!(matches!(
        ftpfixture::Certificate::from_pem_files(dir.path().join("missing.pem"), &key),
        Err(ftpfixture::TlsError::Read { .. })
    ));
    let err = Server::builder()
        .require_tls(true)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS is off"), "{err}");
}

#[tokio::test]
async fn tls_session_transcript() {
    let server = Server::builder()
        .tls(Tls::Explicit)
        .file("report.csv", "a,b\n1,2\n")
        .start()
        .await
        .unwrap();
    let mut ftp = explicit_login(&server, "localhost").await;
    assert_eq!(get(&mut ftp, "report.csv").await, b"a,b\n1,2\n");
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_transcript!("tls_session", server);
}

#[tokio::test]
async fn a_rustls_client_resumes_uploads_on_the_tickets_it_holds() {
    // rustls uses each TLS 1.3 ticket once. The control handshake hands out
    // eight (what its cache keeps); uploads carry none (see the curl test
    // above); a download or listing uses one and brings two more. So eight
    // data connections in a row resume, and a listing among them buys more.
    let server = Server::builder()
        .tls(Tls::Explicit)
        .require_tls_resumption(true)
        .start()
        .await
        .unwrap();
    let mut ftp = explicit_login(&server, "localhost").await;
    for i in 0..7 {
        put(&mut ftp, &format!("u{i}"), b"x").await;
    }
    assert_eq!(ftp.nlst(None).await.unwrap().len(), 7);
    for i in 7..9 {
        put(&mut ftp, &format!("u{i}"), b"x").await;
    }
    ftp.quit().await.unwrap();
    settle(&server, 1).await;
    assert_eq!(data_resumptions(&server), vec![true; 10]);
}

#[tokio::test]
async fn a_listener_the_caller_made_serves_plain_explicit_and_implicit() {
    for mode in [Tls::None, Tls::Explicit, Tls::Implicit] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::builder()
            .listener(listener)
            .tls(mode)
            .file("hello.txt", "over a given listener\n")
            .start()
            .await
            .unwrap();
        assert_eq!(server.addr(), addr, "{mode}");
        assert_eq!(server.addrs(), [addr]);
        let mut ftp = match mode {
            Tls::None => {
                let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(addr)
                    .await
                    .unwrap();
                ftp.login("admin", "123456").await.unwrap();
                assert_eq!(ftp.size("hello.txt").await.unwrap(), 22);
                ftp.quit().await.unwrap();
                // The server owned the listener: it is closed with it.
                server.shutdown().await;
                assert!(std::net::TcpStream::connect(addr).is_err());
                continue;
            }
            Tls::Explicit => explicit_login(&server, "localhost").await,
            _ => {
                let mut ftp = AsyncRustlsFtpStream::connect_secure_implicit(
                    addr,
                    connector(&server),
                    "localhost",
                )
                .await
                .expect("implicit handshake");
                ftp.login("admin", "123456").await.unwrap();
                ftp
            }
        };
        ftp.transfer_type(FileType::Binary).await.unwrap();
        assert_eq!(
            get(&mut ftp, "hello.txt").await,
            b"over a given listener\n",
            "{mode}"
        );
        ftp.quit().await.unwrap();
    }
}

/// FTPS under every personality: AUTH TLS, PROT P, an upload and a
/// download over protected data connections, in the personality's words.
#[tokio::test]
async fn every_personality_speaks_ftps() {
    for personality in ftpfixture::Personality::ALL {
        let server = Server::builder()
            .personality(*personality)
            .tls(Tls::Explicit)
            .start()
            .await
            .unwrap();
        let mut ftp = explicit_login(&server, "localhost").await;
        let data = bytes(7, 70_000);
        put(&mut ftp, "secret.bin", &data).await;
        assert_eq!(get(&mut ftp, "secret.bin").await, data, "{personality}");
        ftp.quit().await.unwrap();
        let t = server.transcript().render();
        assert!(t.contains("C> PROT P"), "{personality}: {t}");
        // Every data connection was TLS.
        let data_tls = tls_events(&server)
            .iter()
            .filter(|(c, _)| *c == ftpfixture::Channel::Data)
            .count();
        assert_eq!(data_tls, 2, "{personality}: {t}");
    }
}
