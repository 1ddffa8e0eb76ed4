//! Access control: USER/PASS, ACCT, REIN, QUIT, what is allowed before
//! login, anonymous, homes, read-only users, several users, and a custom
//! Authenticator.

use ftpfixture::{Account, Authenticator, LoginError, Server, SessionInfo, User};
use suppaftp::tokio::AsyncFtpStream;

use crate::support::{code, RawClient};

#[tokio::test]
async fn good_and_bad_passwords() {
    let server = Server::start().await.unwrap();
    let (mut c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(greeting, "220 ftpfixture ready");
    assert_eq!(c.cmd("USER admin").await, "331 Password required for admin");
    assert_eq!(c.cmd("PASS wrong").await, "530 Login incorrect");
    assert_eq!(code(&c.cmd("PWD").await), 530, "still not logged in");
    assert_eq!(
        code(&c.cmd("PASS 123456").await),
        503,
        "PASS needs a USER first"
    );
    c.cmd("USER admin").await;
    assert_eq!(c.cmd("PASS 123456").await, "230 User admin logged in");
    assert_eq!(code(&c.cmd("PWD").await), 257);
    assert_eq!(c.cmd("QUIT").await, "221 Goodbye");
    assert!(c.closed().await, "QUIT closes the connection");
}

#[tokio::test]
async fn acct_and_rein() {
    let server = Server::builder().dir("sub").start().await.unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(code(&c.cmd("ACCT x").await), 202);
    assert_eq!(code(&c.cmd("CWD sub").await), 250);
    assert_eq!(code(&c.cmd("REIN").await), 220);
    assert_eq!(code(&c.cmd("PWD").await), 530, "REIN logs out");
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
}

#[tokio::test]
async fn only_some_commands_before_login() {
    let server = Server::builder().file("f", "x").start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    for (line, expected) in [
        ("NOOP", 200),
        ("SYST", 215),
        ("FEAT", 211),
        ("HELP", 214),
        ("OPTS UTF8 ON", 200),
        ("HOST localhost", 220),
    ] {
        assert_eq!(code(&c.cmd(line).await), expected, "{line}");
    }
    for line in [
        "PWD",
        "CWD /",
        "LIST",
        "RETR f",
        "STOR g",
        "MKD d",
        "DELE f",
        "PASV",
        "EPSV",
        "TYPE I",
        "SIZE f",
        "MDTM f",
        "RNFR f",
        "STAT",
        "MLST f",
        "SITE HELP",
    ] {
        assert_eq!(code(&c.cmd(line).await), 530, "{line}");
    }
    assert_eq!(code(&c.cmd("QUIT").await), 221);
}

#[tokio::test]
async fn anonymous_is_opt_in_and_read_only() {
    let closed = Server::start().await.unwrap();
    let mut ftp = AsyncFtpStream::connect(closed.addr()).await.unwrap();
    assert!(ftp.login("anonymous", "me@example.com").await.is_err());

    let open = Server::builder()
        .anonymous(true)
        .file("pub/readme.txt", "hello")
        .start()
        .await
        .unwrap();
    let (mut c, _) = RawClient::connect(open.addr()).await;
    assert!(c.cmd("USER anonymous").await.starts_with("331 Anonymous"));
    assert_eq!(code(&c.cmd("PASS me@example.com").await), 230);
    assert_eq!(c.cmd("SIZE pub/readme.txt").await, "213 5");
    assert_eq!(code(&c.cmd("MKD new").await), 550);
    assert_eq!(code(&c.cmd("DELE pub/readme.txt").await), 550);
    // "ftp" is the other anonymous name.
    let (mut c, _) = RawClient::connect(open.addr()).await;
    c.cmd("USER ftp").await;
    assert_eq!(code(&c.cmd("PASS x").await), 230);
}

#[tokio::test]
async fn home_directories_and_read_only_users() {
    let server = Server::builder()
        .account(User::new("alice", "a").home("/home/alice"))
        .account(User::new("reader", "r").read_only())
        .file("shared.txt", "shared")
        .start()
        .await
        .unwrap();
    assert!(
        server.root().unwrap().join("home/alice").is_dir(),
        "homes are made"
    );
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("alice", "a").await.unwrap();
    assert_eq!(ftp.pwd().await.unwrap(), "/home/alice");
    ftp.mkdir("mine").await.unwrap();
    ftp.quit().await.unwrap();

    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER reader").await;
    assert_eq!(code(&c.cmd("PASS r").await), 230);
    assert_eq!(c.cmd("SIZE shared.txt").await, "213 6");
    for line in [
        "MKD x",
        "RMD home",
        "DELE shared.txt",
        "RNFR shared.txt",
        "SITE CHMOD 600 shared.txt",
        "MFMT 20200101000000 shared.txt",
    ] {
        assert_eq!(code(&c.cmd(line).await), 550, "{line}");
    }
    c.cmd("EPSV").await;
    assert_eq!(code(&c.cmd("STOR new.txt").await), 550);
    assert_eq!(code(&c.cmd("APPE shared.txt").await), 550);
    assert_eq!(
        std::fs::read_to_string(server.root().unwrap().join("shared.txt")).unwrap(),
        "shared"
    );
    // The default account exists only while no account was added.
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER admin").await;
    assert_eq!(code(&c.cmd("PASS 123456").await), 530);
}

struct OnlyEvenLengths;

#[async_trait::async_trait]
impl Authenticator for OnlyEvenLengths {
    async fn authenticate(
        &self,
        session: &SessionInfo,
        user: &str,
        password: &str,
    ) -> Result<Account, LoginError> {
        assert!(session.peer().is_some_and(|p| p.ip().is_loopback()));
        assert_eq!(session.account(), None, "nobody is logged in yet");
        match password {
            "down" => Err(LoginError::Unavailable("Directory unavailable".into())),
            p if p.len().is_multiple_of(2) => Ok(Account::new(user)),
            _ => Err(LoginError::Rejected(format!("Wrong password for {user}"))),
        }
    }
}

#[tokio::test]
async fn a_custom_authenticator() {
    let server = Server::builder()
        .authenticator(OnlyEvenLengths)
        .start()
        .await
        .unwrap();
    assert!(server.credentials().is_none());
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    assert!(ftp.login("anyone", "odd").await.is_err());
    ftp.login("anyone", "even").await.unwrap();
    ftp.mkdir("made-by-anyone").await.unwrap();
    assert!(server.root().unwrap().join("made-by-anyone").is_dir());
    ftp.quit().await.unwrap();

    // The backend chooses the reply: 530 with its text (try again), or 421
    // and the connection closes.
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER bob").await;
    assert_eq!(c.cmd("PASS odd").await, "530 Wrong password for bob");
    c.cmd("USER bob").await;
    assert_eq!(c.cmd("PASS down").await, "421 Directory unavailable");
    let t = server
        .wait_for_session_end(2, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        t.render()
            .contains("#2 -- closed by server (login unavailable)"),
        "{t}"
    );
}

#[tokio::test]
async fn an_authenticator_and_table_accounts_do_not_mix() {
    let err = Server::builder()
        .user("alice", "secret")
        .authenticator(OnlyEvenLengths)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, ftpfixture::StartError::Config(_)), "{err}");
    assert!(err.to_string().contains("authenticator"), "{err}");
}

#[tokio::test]
async fn a_home_the_server_cannot_use_fails_the_start() {
    let err = Server::builder()
        .account(User::new("bob", "pw").home("/in\u{1}box"))
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bob"), "{err}");
    assert!(err.to_string().contains("control character"), "{err}");
}

#[tokio::test]
async fn start_blocking_works_inside_a_runtime() {
    let server = Server::builder().start_blocking().unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    ftp.quit().await.unwrap();
    server
        .wait_for_session_end_blocking(1, std::time::Duration::from_secs(5))
        .unwrap();
    let transcript = server.shutdown_blocking();
    assert_eq!(transcript.count("QUIT"), 1);
}

#[test]
fn a_blocking_client_in_a_plain_test() {
    let server = Server::builder().start_blocking().unwrap();
    let out = crate::support::python(
        r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
print(ftp.login("admin", "123456"))
ftp.quit()
"#,
        &[&server.port().to_string()],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "230 User admin logged in"
    );
    // Blocking waits and shutdown for a plain #[test].
    let t = server
        .wait_for_session_end_blocking(1, std::time::Duration::from_secs(5))
        .unwrap();
    assert!(t.ended(1));
    let last = server.shutdown_blocking();
    assert_eq!(last.count("QUIT"), 1);
}

#[tokio::test]
async fn a_password_flood_is_cut_off() {
    // The default: the third failure gets 421 and the connection closes.
    let server = Server::start().await.unwrap();
    let mut c = RawClient::connect(server.addr()).await.0;
    for _ in 0..2 {
        c.cmd("USER admin").await;
        assert_eq!(c.cmd("PASS wrong").await, "530 Login incorrect");
    }
    c.cmd("USER admin").await;
    assert_eq!(
        c.cmd("PASS wrong").await,
        "421 Too many failed logins, closing control connection"
    );
    assert!(c.closed().await);
    let t = server
        .wait_for_session_end(1, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        t.render()
            .ends_with("#1 -- closed by server (too many failed logins)\n"),
        "{t}"
    );
    // A new connection starts afresh.
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER admin").await;
    assert_eq!(code(&c.cmd("PASS 123456").await), 230);
}

#[tokio::test]
async fn login_limits_are_configurable() {
    let server = Server::builder()
        .max_login_failures(0)
        .login_failure_delay(std::time::Duration::from_millis(30))
        .max_sessions_per_ip(2)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(server.addr()).await.0;
    let started = std::time::Instant::now();
    for _ in 0..5 {
        c.cmd("USER admin").await;
        assert_eq!(c.cmd("PASS wrong").await, "530 Login incorrect");
    }
    // Each failure waited for the delay (a lower bound: never flaky).
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    // The third connection from one address is turned away.
    let (_second, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&greeting), 220);
    let (mut third, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(
        greeting,
        "421 Too many connections from your address, try again later"
    );
    assert!(third.closed().await);
    // Once one leaves, there is room again.
    c.cmd("QUIT").await;
    server
        .wait_for_session_end(1, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let (_fourth, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&greeting), 220);
}
