//! The `ftpfixture` binary: spawned for real, driven by curl and Python's
//! ftplib, stopped with SIGTERM; bad input gives exit 2 with a message.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{curl, python};

const BIN: &str = env!("CARGO_BIN_EXE_ftpfixture");

/// A running `ftpfixture` process and its ready line. A test that fails
/// (panics) drops it, and the drop kills the process: no server outlives
/// the suite.
struct Running {
    child: Child,
    ready: serde_json::Value,
    /// Set once the process has been waited for.
    reaped: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    fn start(args: &[&str]) -> Running {
        Self::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(cmd)
    }

    /// Starts the command (the binary, or a shell that execs it) and reads
    /// its ready line.
    fn spawn(mut cmd: Command) -> Running {
        cmd.env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ftpfixture");
        let stdout = child.stdout.take().expect("stdout");
        // The ready line is the first line on stdout; read_line returns at
        // EOF too, so a crash cannot hang the test.
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        match serde_json::from_str(&line) {
            Ok(ready) => Running {
                child,
                ready,
                reaped: false,
            },
            Err(e) => {
                let out = child.wait_with_output().expect("output");
                panic!(
                    "no ready line ({e}): {line:?}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            }
        }
    }

    fn port(&self) -> String {
        self.ready["port"].to_string()
    }

    /// SIGTERM, then the exit code and stderr.
    fn terminate(self) -> (i32, String) {
        // (Drop kills instead if the SIGTERM below never happens.)
        // python3 is needed by the suite anyway; /bin/kill may be missing.
        let status = Command::new("python3")
            .args([
                "-c",
                "import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGTERM)",
                &self.child.id().to_string(),
            ])
            .status()
            .expect("python3 sends SIGTERM");
        assert!(status.success());
        self.wait()
    }

    fn wait(mut self) -> (i32, String) {
        let status = self.child.wait().expect("wait");
        self.reaped = true;
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
        }
        (status.code().unwrap_or(-1), stderr)
    }
}

/// Runs the binary to completion (for the failures that exit at once).
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PY_SESSION: &str = r#"
import ftplib, io, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
ftp.login(sys.argv[2], sys.argv[3])
ftp.storbinary("STOR from-python.txt", io.BytesIO(b"hello from python\n"))
print(sorted(ftp.nlst()))
ftp.quit()
"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn ready_line_clients_sigterm_and_the_transcript_file() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.jsonl");
    let ready_file = dir.path().join("ready.json");
    let server = Running::start(&[
        "--port",
        "0",
        "--transcript",
        transcript.to_str().unwrap(),
        "--ready-file",
        ready_file.to_str().unwrap(),
        "--fixtures",
        fixtures().join("sample").to_str().unwrap(),
    ]);
    let ready = server.ready.clone();
    assert_eq!(ready["host"], "127.0.0.1");
    assert_eq!(ready["user"], "admin");
    assert_eq!(ready["password"], "123456");
    assert_eq!(ready["tls"], "none");
    assert_eq!(
        ready["url"].as_str().unwrap(),
        format!("ftp://127.0.0.1:{}", server.port())
    );
    let from_file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ready_file).unwrap()).unwrap();
    assert_eq!(from_file, ready);
    let root = PathBuf::from(ready["root"].as_str().unwrap());
    assert!(root.join("data/numbers.csv").is_file(), "fixtures copied");

    let out = python(PY_SESSION, &[&server.port(), "admin", "123456"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['data', 'from-python.txt', 'readme.txt']"
    );
    let out = curl(&[&format!(
        "ftp://admin:123456@127.0.0.1:{}/data/numbers.csv",
        server.port()
    )]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "n,square\n1,1\n2,4\n3,9\n"
    );

    let (code, stderr) = server.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert!(!root.exists(), "the temp root is removed at exit");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&transcript)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    let commands: Vec<&str> = lines
        .iter()
        .filter(|e| e["event"] == "command")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(commands.contains(&"STOR from-python.txt"), "{commands:?}");
    assert!(commands.contains(&"RETR numbers.csv"), "{commands:?}");
    let ended = lines
        .iter()
        .filter(|e| e["event"] == "disconnected")
        .count();
    assert_eq!(ended, 2, "both sessions, flushed before exit");
}

#[test]
fn transcript_is_written_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("live.jsonl");
    let server = Running::start(&["--port", "0", "--transcript", transcript.to_str().unwrap()]);
    let out = curl(&[
        "--list-only",
        &format!("ftp://admin:123456@127.0.0.1:{}/", server.port()),
    ]);
    assert!(out.status.success());
    // Bounded wait for the writer: 200 checks, each after a file-system
    // poll interval; no fixed sleep decides the outcome.
    let mut seen = false;
    for _ in 0..200 {
        let text = std::fs::read_to_string(&transcript).unwrap_or_default();
        if text.contains("\"NLST\"") && text.contains("\"disconnected\"") {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(seen, "events appear in the file before the server stops");
    assert_eq!(server.terminate().0, 0);
    // CI jobs upload this file: the password is masked, in the lines written
    // live and in the final file alike.
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert!(text.contains(r#""line":"PASS ******""#), "{text}");
    assert!(!text.contains("123456"), "{text}");
}

/// A long-running CLI keeps few events in memory, and its JSON Lines file
/// still has every one: 20 sessions against a limit of 30 events.
#[test]
fn transcript_file_is_complete_past_the_memory_limit() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("all.jsonl");
    let server = Running::start(&[
        "--port",
        "0",
        "--max-transcript-events",
        "30",
        "--transcript",
        transcript.to_str().unwrap(),
    ]);
    for _ in 0..20 {
        let stream = std::net::TcpStream::connect(format!("127.0.0.1:{}", server.port())).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        for cmd in ["USER admin", "PASS 123456", "QUIT"] {
            writeln!(writer, "{cmd}\r").unwrap();
            line.clear();
            reader.read_line(&mut line).unwrap();
        }
    }
    assert_eq!(server.terminate().0, 0);
    let text = std::fs::read_to_string(&transcript).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|e| *e == k).count();
    assert_eq!(count("connected"), 20, "{text}");
    assert_eq!(count("disconnected"), 20, "{text}");
    assert_eq!(count("dropped"), 0, "the file drops nothing: {text}");
    assert_eq!(text.matches(r#""line":"PASS ******""#).count(), 20);
}

#[test]
fn transcript_secrets_and_login_limits_from_flags_and_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.jsonl");
    let scenario = dir.path().join("limits.toml");
    std::fs::write(
        &scenario,
        "max_login_failures = 2\nlogin_failure_delay = \"10ms\"\nmax_sessions_per_ip = 5\n",
    )
    .unwrap();
    let server = Running::start(&[
        "--port",
        "0",
        "--scenario",
        scenario.to_str().unwrap(),
        "--transcript",
        transcript.to_str().unwrap(),
        "--transcript-secrets",
    ]);
    let out = python(
        r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
for attempt in range(3):
    try:
        ftp.login("admin", "nope")
    except ftplib.error_perm as e:
        print(e)
    except (ftplib.error_temp, EOFError) as e:
        print(e)
        break
"#,
        &[&server.port()],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "530 Login incorrect\n421 Too many failed logins, closing control connection\n"
    );
    assert_eq!(server.terminate().0, 0);
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert!(
        text.contains(r#""line":"PASS nope""#),
        "kept on request: {text}"
    );
    // Bad values are errors naming the flag or key.
    let (code, err) = run(&["--login-failure-delay", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("login-failure-delay"), "{err}");
    std::fs::write(&scenario, "login_failure_delay = \"soon\"\n").unwrap();
    let (code, err) = run(&["--scenario", scenario.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("login_failure_delay"), "{err}");
}

#[test]
fn exit_after_sessions_accounts_env_and_text_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.txt");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let server = Running::start_with_env(
        &[
            "--exit-after-sessions",
            "1",
            "--transcript",
            transcript.to_str().unwrap(),
            "--transcript-format",
            "text",
            "--root",
            root.to_str().unwrap(),
        ],
        &[
            ("FTPFIXTURE_PORT", "0"),
            ("FTPFIXTURE_ACCOUNTS", "bob:builder:/bob,eve:pw"),
            ("FTPFIXTURE_GREETING", "CI server"),
        ],
    );
    let out = python(PY_SESSION, &[&server.port(), "bob", "builder"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['from-python.txt']"
    );
    assert!(root.join("bob/from-python.txt").is_file(), "bob's home");
    let (code, stderr) = server.wait();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("sessions done"), "{stderr}");
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert!(
        text.starts_with("#1 -- connected\n#1 S> 220 CI server\n"),
        "{text}"
    );
    assert!(text.contains("#1 C> PASS ******"), "{text}");
    assert!(root.is_dir(), "an explicit root is kept");
}

#[test]
fn scenario_file_with_users_files_and_faults() {
    let server = Running::start(&[
        "--scenario",
        fixtures().join("scenarios/flaky.toml").to_str().unwrap(),
        "--port",
        "0",
    ]);
    const PY: &str = r#"
import ftplib, sys
ftp = ftplib.FTP()
print(ftp.connect("127.0.0.1", int(sys.argv[1])))
ftp.login("admin", "123456")
for attempt in range(1, 4):
    try:
        data = []
        ftp.retrlines("RETR report.csv", data.append)
        print("attempt", attempt, data[0])
        break
    except ftplib.error_temp as e:
        print("attempt", attempt, str(e))
lines = []
ftp.retrlines("LIST", lines.append)
print(lines[0][-10:])
ftp.quit()
"#;
    let out = python(PY, &[&server.port()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "220 Flaky FTP\n\
         attempt 1 450 File busy, try again\n\
         attempt 2 450 File busy, try again\n\
         attempt 3 region,total\n\
         report.csv\n"
    );
    assert_eq!(server.terminate().0, 0);
}

#[test]
fn the_ftps_sample_scenario_serves_curl_with_tls_and_resumption_required() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let server = Running::start(&[
        "--scenario",
        fixtures().join("scenarios/ftps.toml").to_str().unwrap(),
        "--require-tls-resumption",
        "--port",
        "0",
        "--cert-out",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(server.ready["tls"], "explicit");
    // Two downloads over one control connection: the second data connection
    // must resume the same TLS session as the first, or it gets 522.
    let url = format!("ftp://admin:123456@localhost:{}/secret.txt", server.port());
    let out = curl(&["--ssl-reqd", "--cacert", ca.to_str().unwrap(), &url, &url]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "only over TLS\nonly over TLS\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Plaintext is refused.
    assert!(!curl(&[&url]).status.success());
    assert_eq!(server.terminate().0, 0);
}

#[test]
fn the_control_api_with_tls_names_a_ca_file_and_stops_the_process() {
    use crate::control::{http, json};
    let server = Running::start(&[
        "--port",
        "0",
        "--control",
        "0",
        "--control-token",
        "t0ken",
        "--tls",
        "explicit",
    ]);
    let control = server.ready["control"].as_str().unwrap().to_string();
    assert!(control.starts_with("http://127.0.0.1:"), "{control}");
    // Without --cert-out the ready line still names a CA file, beside the
    // temp root.
    let ca = PathBuf::from(server.ready["certificate"].as_str().unwrap());
    let root = PathBuf::from(server.ready["root"].as_str().unwrap());
    assert_eq!(ca.parent(), root.parent());
    let (status, _) = http("GET", &format!("{control}/status"), None, None);
    assert_eq!(status, 401);
    let (status, body) = http("GET", &format!("{control}/status"), None, Some("t0ken"));
    assert_eq!(status, 200);
    let pem = json(&body)["certificate_pem"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(&ca).unwrap(), pem);
    // A fault injected over HTTP reaches an FTPS client that trusts the file.
    let (status, _) = http(
        "POST",
        &format!("{control}/faults"),
        Some(b"PWD reply=550 text=\"Injected over HTTP\""),
        Some("t0ken"),
    );
    assert_eq!(status, 201);
    let out = python(
        r#"
import ftplib, ssl, sys
ftp = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=sys.argv[2]))
ftp.connect("localhost", int(sys.argv[1]))
ftp.login("admin", "123456")
try:
    ftp.pwd()
except ftplib.error_perm as e:
    print(e)
ftp.quit()
"#,
        &[&server.port(), ca.to_str().unwrap()],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "550 Injected over HTTP"
    );
    let (status, _) = http("POST", &format!("{control}/shutdown"), None, Some("t0ken"));
    assert_eq!(status, 202);
    let (code, stderr) = server.wait();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("POST /shutdown"), "{stderr}");
    assert!(!ca.exists(), "the generated CA file goes with the temp dir");
}

#[test]
fn modes_of_new_files_do_not_follow_the_umask() {
    // Under umask 077 a file would be created 0600 and a directory 0700;
    // listings (and snapshots of them) would then differ between machines.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "umask 077 && exec \"$0\" \"$@\"",
        BIN,
        "--port",
        "0",
        "--fixtures",
        fixtures().join("sample").to_str().unwrap(),
    ]);
    let server = Running::spawn(cmd);
    const PY: &str = r#"
import ftplib, io, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
ftp.login("admin", "123456")
ftp.storbinary("STOR up.txt", io.BytesIO(b"x"))
ftp.mkd("made")
lines = []
ftp.retrlines("LIST", lines.append)
for l in sorted(lines, key=lambda l: l.split()[-1]):
    print(l.split()[0], l.split()[-1])
ftp.quit()
"#;
    let out = python(PY, &[&server.port()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "drwxr-xr-x data\n\
         drwxr-xr-x made\n\
         -rw-r--r-- readme.txt\n\
         -rw-r--r-- up.txt\n"
    );
    assert_eq!(server.terminate().0, 0);
}

#[test]
fn implicit_tls_with_cert_out_for_curl() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let server = Running::start(&[
        "--port",
        "0",
        "--tls",
        "implicit",
        "--cert-out",
        ca.to_str().unwrap(),
        "--keep-root",
    ]);
    assert_eq!(server.ready["tls"], "implicit");
    assert_eq!(server.ready["certificate"], ca.to_str().unwrap());
    let root = PathBuf::from(server.ready["root"].as_str().unwrap());
    std::fs::write(root.join("tls.txt"), "over implicit TLS\n").unwrap();
    let out = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        &format!("ftps://admin:123456@localhost:{}/tls.txt", server.port()),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "over implicit TLS\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.terminate().0, 0);
    assert!(root.join("tls.txt").is_file(), "--keep-root kept it");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn bad_flags_and_scenarios_exit_2_naming_the_problem() {
    let (code, err) = run(&["--port", "99999"]);
    assert_eq!(code, 2);
    assert!(err.contains("--port"), "{err}");

    let (code, err) = run(&["--fault", "RETR#2 dorp-data after=1024"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown option \"dorp-data\""), "{err}");
    assert!(
        err.contains("       ^^^^^^^^^"),
        "the caret points at it: {err}"
    );

    let (code, err) = run(&["--account", "nopassword"]);
    assert_eq!(code, 2);
    assert!(err.contains("NAME:PASS"), "{err}");

    let (code, err) = run(&["--passive-ports", "9000-10"]);
    assert_eq!(code, 2);
    assert!(err.contains("first <= last"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "greeting = \"hi\"\nprot = \"P\"\n").unwrap();
    let (code, err) = run(&["--scenario", bad.to_str().unwrap(), "--port", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml") && err.contains("unknown field `prot`"),
        "{err}"
    );

    std::fs::write(&bad, "faults = [\"STOR reply=45\"]\n").unwrap();
    let (code, err) = run(&["--scenario", bad.to_str().unwrap(), "--port", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("faults[0]") && err.contains("reply code"),
        "{err}"
    );

    // --log-level applies when RUST_LOG is unset.
    let out = Command::new(BIN)
        .args(["--log-level", "info,[oops"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--log-level \"info,[oops\""), "{err}");

    let (code, err) = run(&["--scenario", "/no/such/file.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/file.toml"), "{err}");

    let (code, err) = run(&["--cert-out", "/tmp/x.pem", "--port", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--cert-out needs --tls"), "{err}");

    let (code, err) = run(&["--perm", "/inbox=writeable", "--port", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--perm") && err.contains("full, read-only, write-only or none"),
        "{err}"
    );

    std::fs::write(&bad, "perm = [\"inbox=full\"]\n").unwrap();
    let (code, err) = run(&["--scenario", bad.to_str().unwrap(), "--port", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("perm") && err.contains("[USER:]PATH=MODE"),
        "{err}"
    );
}

#[test]
fn perm_and_chroot_from_flags_and_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "perm = [\"/carol/archive=read-only\"]\n\
         [[users]]\nname = \"carol\"\npassword = \"c\"\nhome = \"/carol\"\nchroot = true\n\
         [files]\n\"carol/archive/a.txt\" = \"a\"\n\"top.txt\" = \"t\"\n",
    )
    .unwrap();
    let server = Running::start(&[
        "--scenario",
        scenario.to_str().unwrap(),
        "--port",
        "0",
        "--account",
        "bob:b:/bob",
        "--chroot",
        "--perm",
        "/bob/inbox=write-only",
        "--perm",
        "bob:/bob/private=none",
    ]);
    let root = PathBuf::from(server.ready["root"].as_str().unwrap());
    std::fs::create_dir_all(root.join("bob/inbox")).unwrap();
    std::fs::create_dir_all(root.join("bob/private")).unwrap();
    const PY: &str = r#"
import ftplib, io, sys
def session(user, password):
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", int(sys.argv[1]))
    ftp.login(user, password)
    return ftp
def attempt(ftp, what, f):
    try:
        r = f()
        print(what, "ok", r if isinstance(r, list) else "")
    except ftplib.all_errors as e:
        print(what, str(e)[:3])
bob = session("bob", "b")
attempt(bob, "PWD", bob.pwd)
attempt(bob, "NLST", lambda: sorted(bob.nlst()))
attempt(bob, "STOR", lambda: bob.storbinary("STOR inbox/x.csv", io.BytesIO(b"x")))
attempt(bob, "LIST", lambda: bob.nlst("inbox"))
attempt(bob, "TOP", lambda: bob.size("/top.txt"))
carol = session("carol", "c")
attempt(carol, "PWD", carol.pwd)
attempt(carol, "DELE", lambda: carol.delete("archive/a.txt"))
attempt(carol, "SIZE", lambda: carol.size("archive/a.txt"))
"#;
    let out = python(PY, &[&server.port()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "PWD ok \nNLST ok ['inbox']\nSTOR ok \nLIST 550\nTOP 550\n\
         PWD ok \nDELE 550\nSIZE ok \n",
        "--chroot covers the scenario's accounts too; perm rules name the server's paths"
    );
    assert_eq!(std::fs::read(root.join("bob/inbox/x.csv")).unwrap(), b"x");
    assert_eq!(server.terminate().0, 0);
}

#[test]
fn port_in_use_exits_1_naming_the_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, err) = run(&["--port", &port]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("port {port}")), "{err}");
}

#[test]
fn access_and_limits_flags() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let first = probe.local_addr().unwrap().port().saturating_add(50);
    drop(probe);
    let range = format!("{first}-{}", first + 4);
    let server = Running::start(&[
        "--port",
        "0",
        "--read-only",
        "--anonymous",
        "--passive-ports",
        &range,
        "--public-ip",
        "10.9.8.7",
        "--max-sessions",
        "1",
        "--idle-timeout",
        "300ms",
        "--greeting",
        "limits",
    ]);
    const PY: &str = r#"
import ftplib, io, socket, sys
port, first = int(sys.argv[1]), int(sys.argv[2])
ftp = ftplib.FTP()
print(ftp.connect("127.0.0.1", port))
# --read-only applies to the main account.
print(ftp.login("admin", "123456").split()[0])
try:
    ftp.storbinary("STOR x.txt", io.BytesIO(b"x"))
except ftplib.error_perm as e:
    print(str(e)[:3])
# --public-ip is what 227 announces; the port is from --passive-ports.
h = ftp.sendcmd("PASV")
nums = [int(n) for n in h[h.index("(") + 1:h.index(")")].split(",")]
print(nums[:4], "in range", first <= nums[4] * 256 + nums[5] <= first + 4)
# A second session while this one is open: 421 (--max-sessions 1).
s = socket.create_connection(("127.0.0.1", port))
print(s.recv(100).decode().split()[0])
s.close()
ftp.quit()
# --anonymous; then nothing: --idle-timeout ends the session with 421.
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", port)
print(ftp.login("anonymous", "ci@example.com").split()[0])
print(ftp.sock.recv(100).decode().split()[0])
"#;
    let out = python(PY, &[&server.port(), &first.to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "220 limits\n230\n550\n[10, 9, 8, 7] in range True\n421\n230\n421\n"
    );
    assert_eq!(server.terminate().0, 0);
}

#[test]
fn flags_given_win_over_the_scenario_and_the_ready_line_names_the_main_account() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "bind = \"127.0.0.2\"\n\
         [[users]]\nname = \"alice\"\npassword = \"wonderland\"\n",
    )
    .unwrap();
    let server = Running::start(&[
        "--scenario",
        scenario.to_str().unwrap(),
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--user",
        "zed",
        "--password",
        "pw",
        "--account",
        "amy:secret",
        "--read-only",
    ]);
    assert_eq!(
        server.ready["host"], "127.0.0.1",
        "--bind beats the scenario"
    );
    assert_eq!(
        server.ready["user"], "zed",
        "the --user account, not the first by name"
    );
    assert_eq!(server.ready["password"], "pw");
    const PY: &str = r#"
import ftplib, io, sys
for user, password in [("zed", "pw"), ("amy", "secret"), ("alice", "wonderland")]:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", int(sys.argv[1]))
    ftp.login(user, password)
    try:
        ftp.storbinary("STOR x.txt", io.BytesIO(b"x"))
        print(user, "wrote")
    except ftplib.error_perm as e:
        print(user, str(e)[:3])
    ftp.quit()
"#;
    let out = python(PY, &[&server.port()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "zed 550\namy 550\nalice 550\n",
        "--read-only covers every account, the scenario's too"
    );
    assert_eq!(server.terminate().0, 0);
}

/// Starts a throttled 100 KiB download, stops the server with SIGINT once
/// the transfer runs, and returns what the client saw after its start, and
/// the transcript file's events.
fn sigint_during_a_download(throttle: &str, grace: &str) -> (String, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.jsonl");
    let rule = format!("RETR throttle={throttle}");
    let server = Running::start(&[
        "--port",
        "0",
        "--keep-root",
        "--transcript",
        transcript.to_str().unwrap(),
        "--fault",
        &rule,
        "--shutdown-grace",
        grace,
    ]);
    let root = PathBuf::from(server.ready["root"].as_str().unwrap());
    std::fs::write(root.join("big.bin"), vec![b'x'; 102_400]).unwrap();
    const PY: &str = r#"
import ftplib, socket, sys
socket.setdefaulttimeout(20)
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
ftp.login("admin", "123456")
ftp.voidcmd("TYPE I")
conn = ftp.transfercmd("RETR big.bin")
print("started", flush=True)
size = 0
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    size += len(chunk)
conn.close()
try:
    print(ftp.voidresp().split()[0], size)
except (EOFError, ftplib.Error) as e:
    print("cut short:", size < 102400)
# Then the shutdown reaches the session, unless it is gone already.
try:
    print(ftp.getline().split()[0] or "closed")
except EOFError:
    print("closed")
"#;
    let mut client = Command::new("python3")
        .args(["-c", PY, &server.port()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut out = BufReader::new(client.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "started\n");
    // The transfer is under way: stop the server with Ctrl-C's signal.
    let status = Command::new("python3")
        .args([
            "-c",
            "import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGINT)",
            &server.child.id().to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stderr) = server.wait();
    assert_eq!(code, 0, "{stderr}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(client.wait().unwrap().success());
    let events = std::fs::read_to_string(&transcript)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::remove_dir_all(root).unwrap();
    (rest, events)
}

fn reply_codes(events: &[serde_json::Value]) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e["event"] == "reply")
        .filter_map(|e| e["code"].as_u64())
        .collect()
}

#[test]
fn sigint_gives_a_running_transfer_its_grace_and_the_transcript_keeps_the_end() {
    // About a quarter of a second for 100 KiB: well inside 5 s of grace.
    let (client, events) = sigint_during_a_download("400k", "5s");
    assert_eq!(client, "226 102400\n421\n", "the whole file, then the 421");
    // The file holds what happened during the shutdown too.
    let codes = reply_codes(&events);
    assert!(codes.ends_with(&[150, 226, 421]), "{codes:?}");
    assert_eq!(events.last().unwrap()["event"], "disconnected");
}

#[test]
fn a_transfer_longer_than_the_grace_is_cut() {
    // Two seconds for 100 KiB, and no grace at all: the transfer is stopped
    // in good order, the client is told (426, then 421), and the record
    // says why the transfer ended before the session's end.
    let (client, events) = sigint_during_a_download("50k", "0s");
    assert_eq!(client, "cut short: True\n421\n");
    let codes = reply_codes(&events);
    assert!(codes.ends_with(&[150, 426, 421]), "{codes:?}");
    let close = events
        .iter()
        .find(|e| e["event"] == "data_close")
        .expect("the transfer's end is recorded");
    assert_eq!(
        (&close["end"], &close["reason"]),
        (&"aborted".into(), &"shutdown".into())
    );
    let last = events.last().unwrap();
    assert_eq!(last["event"], "disconnected");
    assert_eq!(last["by"], "server");
    assert_eq!(last["reason"], "shutdown");
}

#[test]
fn own_certificate_and_required_tls_flags() {
    let dir = tempfile::tempdir().unwrap();
    let own = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, own.cert.pem()).unwrap();
    std::fs::write(&key, own.signing_key.serialize_pem()).unwrap();
    let server = Running::start(&[
        "--port",
        "0",
        "--tls",
        "explicit",
        "--require-tls",
        "--require-tls-resumption",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    let url = format!("ftp://admin:123456@localhost:{}/", server.port());
    // Two listings on one connection, each on a data connection that
    // resumes the control session (required here).
    let out = curl(&["--ssl-reqd", "--cacert", cert.to_str().unwrap(), &url, &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Plaintext is refused: curl without TLS fails at login (530).
    let out = curl(&[&url]);
    assert!(!out.status.success());
    let (code, stderr) = server.terminate();
    assert_eq!(code, 0, "{stderr}");

    let (code, err) = run(&["--cert", cert.to_str().unwrap()]);
    assert_eq!(code, 2, "--cert needs --key");
    assert!(err.contains("--key"), "{err}");
}

#[test]
fn personality_from_the_flag_and_the_scenario() {
    let server = Running::start(&["--port", "0", "--personality", "vsftpd"]);
    const PY: &str = r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
print(ftp.getwelcome())
ftp.login("admin", "123456")
try:
    ftp.sendcmd("MLST readme.txt")
except ftplib.error_perm as e:
    print(e)
ftp.quit()
"#;
    let out = python(PY, &[&server.port()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "220 (vsFTPd 3.0.3)\n500 Unknown command.\n"
    );
    assert_eq!(server.terminate().0, 0);

    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, "personality = \"iis\"\n").unwrap();
    let server = Running::start(&["--port", "0", "--scenario", scenario.to_str().unwrap()]);
    let out = python(
        "import ftplib, sys\nftp = ftplib.FTP()\nftp.connect('127.0.0.1', int(sys.argv[1]))\nprint(ftp.getwelcome())\n",
        &[&server.port()],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "220 Microsoft FTP Service\n"
    );
    assert_eq!(server.terminate().0, 0);

    let (code, err) = run(&["--personality", "wu-ftpd", "--port", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("use ftpfixture, vsftpd, proftpd"), "{err}");
}

#[test]
fn explicit_options_beat_the_personality_and_a_perm_leaving_the_root_exits_2() {
    let server = Running::start(&[
        "--port",
        "0",
        "--personality",
        "vsftpd",
        "--greeting",
        "Welcome to the test server",
    ]);
    let out = python(
        "import ftplib, sys\nftp = ftplib.FTP()\nftp.connect('127.0.0.1', int(sys.argv[1]))\nprint(ftp.getwelcome())\nftp.login('admin', '123456')\nprint(ftp.sendcmd('SYST'))\nftp.quit()\n",
        &[&server.port()],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "220 Welcome to the test server\n215 UNIX Type: L8\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.terminate().0, 0);

    let (code, err) = run(&["--port", "0", "--perm", "/a/../..=none"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/a/../.."), "names the rule: {err}");
    assert!(err.contains("leaves the root"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, "perm = [\"/x/../../y=read-only\"]\n").unwrap();
    let (code, err) = run(&["--port", "0", "--scenario", scenario.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("leaves the root"), "{err}");
}

#[test]
fn record_and_replay_from_the_command_line() {
    let upstream = Running::start(&["--port", "0", "--personality", "pure-ftpd"]);
    let out = tempfile::tempdir().unwrap();
    let up = format!("127.0.0.1:{}", upstream.port());
    let proxy = Running::start(&[
        "record",
        "--port",
        "0",
        "--upstream",
        &up,
        "--out",
        out.path().to_str().unwrap(),
        "--redact",
        r"127\.0\.0\.1=<host>",
    ]);
    const PY: &str = r#"
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]), timeout=20)
print(ftp.getwelcome().splitlines()[0])
print(ftp.login("admin", sys.argv[2]))
print(ftp.sendcmd("SYST"))
print(ftp.quit())
"#;
    let recorded = python(PY, &[&proxy.port(), "123456"]);
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    assert_eq!(proxy.terminate().0, 0);
    assert_eq!(upstream.terminate().0, 0);
    let session = std::fs::read_to_string(out.path().join("sessions/0001.txt")).unwrap();
    assert!(!session.contains("123456"), "{session}");
    assert!(session.contains("<host>"), "{session}");

    let replay = Running::start(&["--port", "0", "--replay", out.path().to_str().unwrap()]);
    let replayed = python(PY, &[&replay.port(), "another password"]);
    assert_eq!(
        String::from_utf8_lossy(&replayed.stdout),
        String::from_utf8_lossy(&recorded.stdout)
    );
    assert_eq!(replay.terminate().0, 0);

    // A recording broken by hand: exit 2 naming the file and the line.
    std::fs::write(
        out.path().join("sessions/0002.txt"),
        "< 220 hi\n> NOOP\nnot a line\n",
    )
    .unwrap();
    let (code, err) = run(&["--port", "0", "--replay", out.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("0002.txt:3"), "{err}");
    let (code, err) = run(&["record", "--port", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--upstream"), "{err}");
}
