//! Commands of one's own (the Go seed's `Command`): new verbs, SITE
//! subcommands, a replaced built-in, a custom listing over the data
//! connection, and handlers that misbehave.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ftpfixture::{
    CommandContext, CommandError, CommandHandler, CustomCommand, Fault, Server, StartError,
};
use suppaftp::tokio::AsyncFtpStream;
use suppaftp::Status;
use tokio::io::AsyncReadExt;

use crate::support::{code, python_async, RawClient};

/// CRC-32 (IEEE), the one HASH algorithm this example offers.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `HASH path` (draft-bryan-ftpext-hash): `213 CRC32 0-<size> <hex> <path>`.
struct Hash;

#[ftpfixture::async_trait]
impl CommandHandler for Hash {
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let arg = cx.arg().unwrap_or_default().to_string();
        let path = cx.resolve(&arg)?;
        let (storage, info) = (cx.storage(), cx.session());
        if !storage.metadata(&info, &path).await?.is_file() {
            return Err(CommandError::new(550, format!("{arg}: not a plain file")));
        }
        let mut bytes = Vec::new();
        storage
            .read(&info, &path, 0)
            .await?
            .read_to_end(&mut bytes)
            .await?;
        let text = format!("CRC32 0-{} {:08x} {arg}", bytes.len(), crc32(&bytes));
        cx.reply(213, text).await
    }
}

/// `SITE QUOTA`: a multi-line reply about the user.
struct Quota;

#[ftpfixture::async_trait]
impl CommandHandler for Quota {
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let user = cx.user().unwrap_or("nobody").to_string();
        let cwd = cx.cwd().to_string();
        let tls = cx.control_tls();
        cx.reply_lines(
            200,
            [
                format!("Quota for {user}"),
                format!("cwd {cwd}, tls {tls}"),
                "limit 1048576".to_string(),
                "End".to_string(),
            ],
        )
        .await
    }
}

/// `XNAMES`: the names in the working directory, over the data
/// connection, one per line (a listing command of one's own).
struct Names;

#[ftpfixture::async_trait]
impl CommandHandler for Names {
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let (storage, info, cwd) = (cx.storage(), cx.session(), cx.cwd().clone());
        let mut names: Vec<String> = storage
            .list(&info, &cwd)
            .await?
            .iter()
            .map(|e| e.name().to_uppercase())
            .collect();
        names.sort();
        let body: String = names.iter().map(|n| format!("{n}\r\n")).collect();
        cx.send_data(body).await
    }
}

/// Panics, or replies nothing, or closes, as told by its argument.
struct Misbehaves(Arc<AtomicUsize>);

#[ftpfixture::async_trait]
impl CommandHandler for Misbehaves {
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        match cx.arg() {
            Some("panic") => panic!("a handler bug"),
            Some("silent") => Ok(()),
            Some("close") => {
                cx.close();
                cx.reply(221, "Closing as asked").await
            }
            Some("twice") => {
                cx.reply(200, "first").await?;
                Err(CommandError::new(550, "after a reply"))
            }
            _ => Err(CommandError::new(504, "Say panic, silent, close or twice")),
        }
    }
}

/// `SYST` of our own, replacing the built-in one.
struct Syst;

#[ftpfixture::async_trait]
impl CommandHandler for Syst {
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        cx.reply(215, "Windows_NT").await
    }
}

fn with_commands(calls: Arc<AtomicUsize>) -> ftpfixture::ServerBuilder {
    Server::builder()
        .file("readme.txt", "hello world\n")
        .file("dir/b.txt", "b")
        .command(
            CustomCommand::verb("HASH", Hash)
                .needs_arg(true)
                .feature("HASH CRC32*")
                .help("Syntax: HASH <path>"),
        )
        .command(CustomCommand::site("QUOTA", Quota))
        .command(CustomCommand::verb("XNAMES", Names))
        .command(CustomCommand::verb("XBAD", Misbehaves(calls)).needs_login(false))
        .command(CustomCommand::verb("SYST", Syst).replace_builtin())
}

#[tokio::test]
async fn hash_and_site_quota_with_ftplib() {
    let server = with_commands(Arc::default()).start().await.unwrap();
    const PY: &str = r#"
import ftplib, sys, zlib
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
ftp.login("admin", "123456")
print(ftp.sendcmd("HASH readme.txt"))
print("%08x" % zlib.crc32(b"hello world\n"))
print(ftp.sendcmd("SITE QUOTA"))
print(ftp.sendcmd("SYST"))
try:
    ftp.sendcmd("HASH missing.txt")
except ftplib.error_perm as e:
    print(e)
try:
    ftp.sendcmd("HASH dir")
except ftplib.error_perm as e:
    print(e)
lines = []
ftp.retrlines("XNAMES", lines.append)
print(lines)
ftp.quit()
"#;
    let out = python_async(PY, vec![server.port().to_string()]).await;
    let out = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("213 CRC32 0-12 "), "{out}");
    assert_eq!(
        lines[0],
        format!("213 CRC32 0-12 {} readme.txt", lines[1]),
        "HASH agrees with zlib"
    );
    assert_eq!(
        &lines[2..7],
        [
            "200-Quota for admin",
            " cwd /, tls false",
            " limit 1048576",
            "200 End",
            "215 Windows_NT"
        ]
    );
    assert_eq!(lines[7], "550 No such file or directory");
    assert_eq!(lines[8], "550 dir: not a plain file");
    assert_eq!(lines[9], "['DIR', 'README.TXT']");
}

#[tokio::test]
async fn announced_in_feat_and_help_and_checked_before_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = with_commands(calls.clone()).start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    // Needs a login: 530 before it, without running the handler.
    assert_eq!(code(&c.cmd("HASH readme.txt").await), 530);
    assert_eq!(
        c.cmd("SITE QUOTA").await,
        "530 Please login with USER and PASS"
    );
    c.cmd("USER admin").await;
    c.cmd("PASS 123456").await;
    assert_eq!(
        c.cmd("HASH").await,
        "501 Syntax error: argument required",
        "needs_arg"
    );
    let feat = c.cmd("FEAT").await;
    assert!(feat.contains("\n HASH CRC32*\n"), "{feat}");
    let help = c.cmd("HELP").await;
    assert!(help.contains("XBAD") && help.contains("XNAMES"), "{help}");
    assert!(!help.contains("QUOTA"), "SITE subcommands are in SITE HELP");
    assert_eq!(c.cmd("HELP hash").await, "214 Syntax: HASH <path>");
    let site_help = c.cmd("SITE HELP").await;
    assert!(site_help.contains("CHMOD UMASK HELP QUOTA"), "{site_help}");
    assert_eq!(
        c.cmd("SITE HELP quota").await,
        "214 SITE QUOTA is supported"
    );
    assert_eq!(
        c.cmd("SITE nothing").await,
        "500 Unknown SITE command NOTHING"
    );
    // Lower case works like any verb.
    assert!(c.cmd("hash readme.txt").await.starts_with("213 CRC32"));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_handler_that_panics_or_misbehaves_is_contained() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = with_commands(calls.clone()).start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    // needs_login(false): runs before login.
    assert_eq!(c.cmd("XBAD panic").await, "451 Local error in processing");
    assert_eq!(c.cmd("NOOP").await, "200 NOOP ok", "the session goes on");
    assert_eq!(
        c.cmd("XBAD silent").await,
        "451 Local error in processing: the command sent no reply"
    );
    // An error after a reply sends nothing more: the next reply answers
    // the next command.
    assert_eq!(c.cmd("XBAD twice").await, "200 first");
    assert_eq!(c.cmd("NOOP").await, "200 NOOP ok");
    assert_eq!(c.cmd("XBAD").await, "504 Say panic, silent, close or twice");
    assert_eq!(c.cmd("XBAD close").await, "221 Closing as asked");
    assert!(c.closed().await, "close() ends the session");
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    // The server still serves others, with suppaftp.
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    let r = ftp
        .custom_command("HASH readme.txt", &[Status::File])
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&r.body).starts_with("213 CRC32 0-12"));
    ftp.quit().await.unwrap();
    let t = server.transcript().render();
    assert!(t.contains("C> XBAD panic\n#1 S> 451"), "{t}");
}

#[tokio::test]
async fn custom_commands_meet_faults_and_the_transcript() {
    let server = with_commands(Arc::default())
        .fault(Fault::on("HASH").nth(2).reply(450, "busy, try again"))
        .fault(Fault::on("XNAMES").drop_data_after(3))
        .start()
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert!(c.cmd("HASH readme.txt").await.starts_with("213"));
    assert_eq!(c.cmd("HASH readme.txt").await, "450 busy, try again");
    assert!(c.cmd("HASH readme.txt").await.starts_with("213"));
    let mut data = c.epsv_connect(server.addr()).await;
    c.send_raw(b"XNAMES\r\n").await;
    assert!(c.reply().await.starts_with("150"));
    let mut got = Vec::new();
    data.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"DIR", "the data fault cut the custom listing");
    assert_eq!(code(&c.reply().await), 426);
    let t = server.transcript().render();
    assert!(t.contains("!! fault HASH#2 reply=450"), "{t}");
    assert!(t.contains("C> XNAMES\n"), "{t}");
}

#[tokio::test]
async fn clashing_or_bad_registrations_fail_at_start() {
    let cases = [
        (
            Server::builder()
                .command(CustomCommand::verb("HASH", Hash))
                .command(CustomCommand::verb("hash", Hash)),
            "custom command HASH is registered twice",
        ),
        (
            Server::builder().command(CustomCommand::verb("LIST", Names)),
            "custom command LIST would replace the built-in one",
        ),
        (
            Server::builder().command(CustomCommand::site("CHMOD", Quota)),
            "custom command SITE CHMOD would replace the built-in one",
        ),
        (
            Server::builder().command(CustomCommand::verb("X Y", Hash)),
            "a name is 1 to 32 letters",
        ),
        (
            Server::builder()
                .command(CustomCommand::verb("SITE", Quota).replace_builtin())
                .command(CustomCommand::site("QUOTA", Quota)),
            "cannot be combined with custom SITE subcommands",
        ),
    ];
    for (builder, expected) in cases {
        match builder.start().await {
            Err(StartError::Config(message)) => {
                assert!(message.contains(expected), "{message}")
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
}
