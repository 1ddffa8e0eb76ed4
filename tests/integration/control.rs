//! The HTTP control API, driven with curl (a real HTTP client) while FTP
//! clients use the same server: every endpoint, bad bodies, bad rules, bad
//! paths and a missing token, with the FTP side serving throughout.

use std::io::Write;
use std::process::{Command, Stdio};

use ftpfixture::Server;
use serde_json::Value;
use suppaftp::tokio::AsyncFtpStream;

use crate::support::{code, watchdog, RawClient, WAIT};

/// One HTTP request with curl: the status and the body.
pub fn http(method: &str, url: &str, body: Option<&[u8]>, token: Option<&str>) -> (u16, String) {
    watchdog();
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--path-as-is", "-X", method])
        .args(["-w", "\n%{http_code}"])
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if body.is_some() {
        cmd.args(["--data-binary", "@-"]);
    }
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let mut child = cmd.spawn().expect("curl runs");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(b) = body {
        stdin.write_all(b).expect("body to curl");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("curl ends");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').expect("status line");
    (status.parse().expect("status"), body.to_string())
}

pub fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn api(server: &Server) -> String {
    server.control_url().expect("control API on")
}

async fn with_control() -> Server {
    Server::builder()
        .control("127.0.0.1:0".parse().unwrap())
        .file("seed.txt", "seeded\n")
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn status_and_the_token() {
    let server = Server::builder()
        .control("127.0.0.1:0".parse().unwrap())
        .control_token("s3cret")
        .start()
        .await
        .unwrap();
    let url = api(&server).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (status, body) = http("GET", &format!("{url}/status"), None, None);
    assert_eq!(status, 401, "{body}");
    assert!(json(&body)["error"].as_str().unwrap().contains("Bearer"));
    let (status, _) = http("GET", &format!("{url}/status"), None, Some("wrong"));
    assert_eq!(status, 401);
    let (status, body) = http("GET", &format!("{url}/status"), None, Some("s3cret"));
    assert_eq!(status, 200, "{body}");
    let s = json(&body);
    assert_eq!(s["port"], server.port());
    assert_eq!(s["user"], "admin");
    assert_eq!(s["tls"], "none");
    assert_eq!(s["control"], url.as_str());
    assert_eq!(s["certificate_pem"], Value::Null);
    assert_eq!(
        (s["sessions_open"].as_u64(), s["sessions_total"].as_u64()),
        (Some(0), Some(0))
    );

    // Unknown endpoints and wrong methods are 4xx, never 500.
    let (status, _) = http("GET", &format!("{url}/nope"), None, Some("s3cret"));
    assert_eq!(status, 404);
    let (status, _) = http("PATCH", &format!("{url}/faults"), None, Some("s3cret"));
    assert_eq!(status, 405);
}

#[tokio::test]
async fn faults_added_listed_fired_and_removed() {
    let server = with_control().await;
    let url = api(&server).await;
    let (status, body) = http(
        "POST",
        &format!("{url}/faults"),
        Some(b"SIZE#1 reply=450 text=Busy"),
        None,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["id"], 1);
    let (status, body) = http(
        "POST",
        &format!("{url}/faults"),
        Some(br#"["NOOP reply=421 text=\"Not now\"", {"rule": "MKD reply=550 text=No"}]"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    let added = json(&body);
    assert_eq!(
        (added[0]["id"].as_u64(), added[1]["id"].as_u64()),
        (Some(2), Some(3))
    );

    // A bad rule: 400 with the caret message, and nothing of the list added.
    let (status, body) = http(
        "POST",
        &format!("{url}/faults"),
        Some(br#"["RETR reply=450", "RETR#2 dorp-data after=1024"]"#),
        None,
    );
    assert_eq!(status, 400);
    let message = json(&body)["error"].as_str().unwrap().to_string();
    assert!(
        message.contains("unknown option \"dorp-data\""),
        "{message}"
    );
    assert!(message.contains("^^^^^^^^^"), "{message}");
    for bad in [&b"{\"rul\": 1}"[..], b"", b"[1]", b"{not json"] {
        let (status, body) = http("POST", &format!("{url}/faults"), Some(bad), None);
        assert_eq!(status, 400, "{}: {body}", String::from_utf8_lossy(bad));
    }

    // The FTP side meets the faults, and the counts say so.
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    assert!(ftp.size("seed.txt").await.is_err());
    assert_eq!(ftp.size("seed.txt").await.unwrap(), 7);
    let (_, body) = http("GET", &format!("{url}/faults"), None, None);
    let list = json(&body);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["rule"], "SIZE#1 reply=450 text=Busy");
    assert_eq!(list[0]["fired"], 1);

    let (status, _) = http("DELETE", &format!("{url}/faults/2"), None, None);
    assert_eq!(status, 200);
    ftp.noop().await.unwrap();
    let (status, _) = http("DELETE", &format!("{url}/faults/2"), None, None);
    assert_eq!(status, 404);
    let (status, _) = http("DELETE", &format!("{url}/faults/x"), None, None);
    assert_eq!(status, 400);
    let (status, body) = http("DELETE", &format!("{url}/faults"), None, None);
    assert_eq!((status, json(&body)["removed"].as_u64()), (200, Some(2)));
    ftp.mkdir("allowed").await.unwrap();
    ftp.quit().await.unwrap();

    // What the test did is in the transcript, before the sessions.
    let (_, text) = http("GET", &format!("{url}/transcript?format=text"), None, None);
    assert!(
        text.starts_with("#0 ** POST /faults SIZE#1 reply=450 text=Busy\n"),
        "{text}"
    );
    assert!(text.contains("#0 ** DELETE /faults/2\n"), "{text}");
}

#[tokio::test]
async fn files_in_the_served_tree() {
    let server = with_control().await;
    let url = api(&server).await;
    let (status, body) = http(
        "PUT",
        &format!("{url}/files/in/box/a%20b.txt"),
        Some(b"hello\n"),
        None,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["path"], "/in/box/a b.txt");
    assert_eq!(
        std::fs::read(server.root().unwrap().join("in/box/a b.txt")).unwrap(),
        b"hello\n"
    );
    // The FTP client sees it, and what it uploads the API reads.
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    assert_eq!(ftp.size("in/box/a b.txt").await.unwrap(), 6);
    ftp.put_file("up.bin", &mut &b"up\r\n\x00"[..])
        .await
        .unwrap();
    ftp.quit().await.unwrap();

    let (status, body) = http("GET", &format!("{url}/files/up.bin"), None, None);
    assert_eq!((status, body.as_str()), (200, "up\r\n\0"));
    let (status, body) = http("GET", &format!("{url}/files/"), None, None);
    assert_eq!(status, 200);
    let names: Vec<String> = json(&body)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["type"].as_str().unwrap(),
                e["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["dir in", "file seed.txt", "file up.bin"]);

    // Bad paths and missing files.
    let (status, body) = http(
        "PUT",
        &format!("{url}/files/../escape.txt"),
        Some(b"x"),
        None,
    );
    assert_eq!(status, 400, "{body}");
    assert!(json(&body)["error"]
        .as_str()
        .unwrap()
        .contains("leaves the root"));
    assert!(!server
        .root()
        .unwrap()
        .parent()
        .unwrap()
        .join("escape.txt")
        .exists());
    let (status, _) = http(
        "GET",
        &format!("{url}/files/in/%2e%2e/%2e%2e/etc/passwd"),
        None,
        None,
    );
    assert_eq!(status, 400);
    let (status, _) = http("GET", &format!("{url}/files/missing.txt"), None, None);
    assert_eq!(status, 404);
    let (status, _) = http("GET", &format!("{url}/files/in"), None, None);
    assert_eq!(status, 400, "a directory without / is not a file");
    let (status, _) = http("PUT", &format!("{url}/files/dir/"), Some(b"x"), None);
    assert_eq!(status, 400);
    let (status, _) = http("GET", &format!("{url}/files/bad%zz"), None, None);
    assert_eq!(status, 400);

    // Delete a file, then a directory with its contents.
    let (status, _) = http("DELETE", &format!("{url}/files/up.bin"), None, None);
    assert_eq!(status, 200);
    let (status, _) = http("DELETE", &format!("{url}/files/in"), None, None);
    assert_eq!(status, 200);
    assert!(!server.root().unwrap().join("in").exists());
    let (status, _) = http("DELETE", &format!("{url}/files/in"), None, None);
    assert_eq!(status, 404);
}

#[tokio::test]
async fn users_added_and_removed_while_running() {
    let server = with_control().await;
    let url = api(&server).await;
    let (status, body) = http(
        "POST",
        &format!("{url}/users"),
        Some(br#"{"name": "bob", "password": "pw", "home": "/bob", "read_only": true}"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("bob", "pw").await.unwrap();
    assert!(ftp.mkdir("nope").await.is_err(), "read-only");
    ftp.quit().await.unwrap();
    // The transcript of the API does not hold bob's password.
    let (_, text) = http("GET", &format!("{url}/transcript?format=text"), None, None);
    assert!(text.contains("#0 ** POST /users bob\n"), "{text}");
    assert!(!text.contains("pw\n"), "{text}");

    for bad in [
        &br#"{"name": "x"}"#[..],
        br#"{"name": "x", "password": 1}"#,
        br#"{"name": "x", "password": "p", "read_only": "yes"}"#,
        br#"{"name": "x", "password": "p", "home": "/a\u0001"}"#,
        b"not json",
    ] {
        let (status, body) = http("POST", &format!("{url}/users"), Some(bad), None);
        assert_eq!(status, 400, "{}: {body}", String::from_utf8_lossy(bad));
    }
    let (status, _) = http("DELETE", &format!("{url}/users/bob"), None, None);
    assert_eq!(status, 200);
    let (status, _) = http("DELETE", &format!("{url}/users/bob"), None, None);
    assert_eq!(status, 404);
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER bob").await;
    assert_eq!(code(&c.cmd("PASS pw").await), 530);
}

#[tokio::test]
async fn expectations_and_verify() {
    let server = with_control().await;
    let url = api(&server).await;
    let (status, body) = http(
        "POST",
        &format!("{url}/expectations"),
        Some(br#"{"command": "STOR", "times": 1, "arg": "*.csv"}"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        json(&body)["expectation"],
        "STOR arg=*.csv: exactly 1 time(s)"
    );
    let (status, _) = http(
        "POST",
        &format!("{url}/expectations"),
        Some(br#"{"command": "DELE", "never": true}"#),
        None,
    );
    assert_eq!(status, 201);
    for bad in [
        &br#"{"times": 1}"#[..],
        br#"{"command": "STOR", "times": 1, "at_least": 2}"#,
        br#"{"command": "STOR", "times": "one"}"#,
        // A typo would make an expectation that checks less than asked.
        br#"{"command": "STOR", "time": 1}"#,
    ] {
        let (status, body) = http("POST", &format!("{url}/expectations"), Some(bad), None);
        assert_eq!(status, 400, "{}: {body}", String::from_utf8_lossy(bad));
    }

    let (status, body) = http("GET", &format!("{url}/verify"), None, None);
    assert_eq!(status, 409);
    let v = json(&body);
    assert_eq!(v["ok"], false);
    assert_eq!(
        v["unmet"][0]["expectation"],
        "STOR arg=*.csv: exactly 1 time(s)"
    );
    assert_eq!(v["unmet"][0]["count"], 0);

    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    ftp.put_file("a.csv", &mut &b"1,2\n"[..]).await.unwrap();
    ftp.quit().await.unwrap();
    let (status, body) = http("GET", &format!("{url}/verify"), None, None);
    assert_eq!(
        (status, json(&body)["ok"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    server.clear_expectations();
}

#[tokio::test]
async fn transcript_masks_passwords_filters_and_waits() {
    let server = with_control().await;
    let url = api(&server).await;
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    ftp.noop().await.unwrap();

    // Waiting for a command that arrived, and one that does not.
    let (status, body) = http(
        "GET",
        &format!("{url}/transcript/wait?command=NOOP&timeout=5s"),
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        "GET",
        &format!("{url}/transcript/wait?command=STOR&count=2&timeout=100ms"),
        None,
        None,
    );
    assert_eq!(status, 408);
    assert!(json(&body)["transcript"]
        .as_str()
        .unwrap()
        .contains("#1 C> NOOP"));
    for bad in [
        "",
        "?command=STOR&timeout=soon",
        "?session_end=x",
        "?command=STOR&count=-1",
    ] {
        let (status, body) = http("GET", &format!("{url}/transcript/wait{bad}"), None, None);
        assert_eq!(status, 400, "{bad}: {body}");
    }
    ftp.quit().await.unwrap();
    let (status, _) = http(
        "GET",
        &format!("{url}/transcript/wait?session_end=1&timeout=5s"),
        None,
        None,
    );
    assert_eq!(status, 200);

    // JSON events: the password is masked in every form the API exports.
    let (_, body) = http("GET", &format!("{url}/transcript?session=1"), None, None);
    let events = json(&body);
    let lines: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "command")
        .map(|e| e["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["USER admin", "PASS ******", "NOOP", "QUIT"]);
    assert!(events.as_array().unwrap().iter().all(|e| e["session"] == 1));
    let (_, jsonl) = http("GET", &format!("{url}/transcript?format=jsonl"), None, None);
    assert!(jsonl.contains(r#""line":"PASS ******""#), "{jsonl}");
    assert!(!jsonl.contains("123456"), "{jsonl}");
    let (_, text) = http("GET", &format!("{url}/transcript?format=text"), None, None);
    assert!(text.contains("#1 C> PASS ******"), "{text}");
    let (status, _) = http("GET", &format!("{url}/transcript?format=xml"), None, None);
    assert_eq!(status, 400);
    let (status, _) = http("GET", &format!("{url}/transcript?session=one"), None, None);
    assert_eq!(status, 400);

    // The Rust side still has the raw record; DELETE forgets it.
    assert!(server.transcript().commands().contains(&"PASS 123456"));
    let (status, _) = http("DELETE", &format!("{url}/transcript"), None, None);
    assert_eq!(status, 200);
    assert_eq!(server.transcript().sessions(), Vec::<u64>::new());
}

#[tokio::test]
async fn reset_brings_back_the_state_at_start() {
    let server = Server::builder()
        .control("127.0.0.1:0".parse().unwrap())
        .file("seed.txt", "seeded\n")
        .fault(ftpfixture::Fault::on("MKD").reply(550, "From the start"))
        .start()
        .await
        .unwrap();
    let url = api(&server).await;
    http(
        "POST",
        &format!("{url}/faults"),
        Some(b"RETR reply=450"),
        None,
    );
    http(
        "POST",
        &format!("{url}/users"),
        Some(br#"{"name": "tmp", "password": "x"}"#),
        None,
    );
    http(
        "POST",
        &format!("{url}/expectations"),
        Some(br#"{"command": "APPE"}"#),
        None,
    );
    // A session left open, a file changed and one added.
    let mut open = RawClient::login(server.addr()).await;
    assert_eq!(code(&open.cmd("DELE seed.txt").await), 250);
    std::fs::write(server.root().unwrap().join("new.txt"), "x").unwrap();

    let (status, body) = http("POST", &format!("{url}/reset"), None, None);
    assert_eq!(status, 200, "{body}");
    let report = json(&body);
    assert_eq!(report["root_restored"], true);
    assert_eq!(report["sessions_closed"], 1);
    // The open session was told, and closed.
    assert_eq!(
        open.reply().await,
        "421 Server reset, closing control connection"
    );
    assert!(open.eof().await);

    let root = server.root().unwrap();
    assert_eq!(
        std::fs::read_to_string(root.join("seed.txt")).unwrap(),
        "seeded\n"
    );
    assert!(!root.join("new.txt").exists());
    let (_, body) = http("GET", &format!("{url}/faults"), None, None);
    let faults = json(&body);
    // The faults are those of the start again, with fresh counts.
    assert_eq!(faults.as_array().unwrap().len(), 1, "{faults}");
    assert_eq!(faults[0]["rule"], "MKD reply=550 text=\"From the start\"");
    assert_eq!(faults[0]["fired"], 0);
    let (status, _) = http("GET", &format!("{url}/verify"), None, None);
    assert_eq!(status, 200);
    // Only the reset itself is in the transcript, and sessions count from 1.
    let (_, text) = http("GET", &format!("{url}/transcript?format=text"), None, None);
    assert_eq!(text, "#0 ** POST /reset\n");
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER tmp").await;
    assert_eq!(code(&c.cmd("PASS x").await), 530, "API users are gone");
    assert_eq!(code(&c.cmd("USER admin").await), 331);
    assert_eq!(code(&c.cmd("PASS 123456").await), 230);
    assert_eq!(c.cmd("MKD fresh").await, "550 From the start");
    c.cmd("QUIT").await;
    server.wait_for_session_end(1, WAIT).await.unwrap();
    assert_eq!(server.transcript().sessions(), [1]);
}

#[tokio::test]
async fn reset_leaves_a_root_of_yours_alone_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.txt"), "keep").unwrap();
    for restore in [false, true] {
        let server = Server::builder()
            .root(dir.path())
            .restore_root(restore)
            .start()
            .await
            .unwrap();
        server.write_file("added.txt", "x").await.unwrap();
        server.remove_path("mine.txt").await.unwrap();
        let report = server.reset().await.unwrap();
        assert_eq!(report.root_restored, restore, "{}", report.detail);
        assert_eq!(dir.path().join("mine.txt").exists(), restore);
        assert_eq!(dir.path().join("added.txt").exists(), !restore);
        std::fs::write(dir.path().join("mine.txt"), "keep").unwrap();
        let _ = std::fs::remove_file(dir.path().join("added.txt"));
    }
}

#[tokio::test]
async fn shutdown_over_http() {
    let server = with_control().await;
    let url = api(&server).await;
    let mut c = RawClient::login(server.addr()).await;
    let (status, _) = http("POST", &format!("{url}/shutdown"), None, None);
    assert_eq!(status, 202);
    tokio::time::timeout(WAIT, server.wait_for_stop_request())
        .await
        .unwrap();
    assert_eq!(c.reply().await, "421 Server shutting down");
    let transcript = server.shutdown().await;
    assert!(transcript.render().starts_with("#0 ** POST /shutdown\n"));
}

#[tokio::test]
async fn reset_puts_back_exactly_what_changed() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let server = Server::builder()
        .fixture_dir(&fixtures)
        .file("same.txt", "12345\n")
        .file("keep/deep/x.txt", "x")
        .dir("empty")
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap().to_path_buf();
    let before = tree_of(&root);
    let mut c = RawClient::login(server.addr()).await;
    // Same length, new content; a mode; a time; a removal; a new file; a
    // directory replaced by a file.
    server.write_file("same.txt", "54321\n").await.unwrap();
    assert_eq!(code(&c.cmd("SITE CHMOD 600 keep/deep/x.txt").await), 200);
    let first_fixture = before
        .iter()
        .find(|(p, _)| p.ends_with(".txt") && !p.starts_with("keep") && *p != "same.txt")
        .unwrap()
        .0
        .clone();
    assert_eq!(
        code(&c.cmd(&format!("MFMT 20000101000000 {first_fixture}")).await),
        213
    );
    assert_eq!(code(&c.cmd("RMD empty").await), 250);
    std::fs::write(root.join("empty"), "now a file").unwrap();
    std::fs::write(root.join("keep/new.txt"), "new").unwrap();
    c.cmd("QUIT").await;
    server.wait_for_session_end(1, WAIT).await.unwrap();

    let report = server.reset().await.unwrap();
    assert!(report.root_restored, "{}", report.detail);
    assert_eq!(tree_of(&root), before, "{}", report.detail);
    // Nothing changed since: nothing to do.
    let report = server.reset().await.unwrap();
    assert_eq!(report.detail, "the tree was unchanged");
}

/// Every entry below `root` with its content (or "dir") and mode.
fn tree_of(root: &std::path::Path) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            let what = if m.is_dir() {
                stack.push(e.path());
                "dir".to_string()
            } else {
                format!(
                    "{} {:?}",
                    String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()),
                    m.modified().unwrap()
                        > std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000)
                )
            };
            out.push((rel, format!("{what} {:o}", m.permissions().mode() & 0o777)));
        }
    }
    out.sort();
    out
}
