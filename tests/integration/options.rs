//! Every `ServerBuilder` option reaches a CI job: a flag (with its
//! environment variable), a scenario key, or both; or it is marked
//! builder-only with the reason. The table below is the one place that
//! says which; a new builder option that is in neither the table nor the
//! CLI fails `every_builder_option_is_in_the_table`.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ftpfixture");

/// How a CI job reaches a builder option.
enum Reach {
    /// A flag, its environment variable, and the scenario key (if any).
    Cli(&'static str, &'static str, Option<&'static str>),
    /// A scenario key only (files and directories to seed).
    Scenario(&'static str),
    /// Rust values (a storage, a handler, a socket) or what is no option
    /// at all (a getter, the start calls).
    BuilderOnly(&'static str),
}

use Reach::{BuilderOnly, Cli, Scenario};

/// Builder method → how the CLI reaches it.
const TABLE: &[(&str, Reach)] = &[
    ("bind", Cli("--bind", "FTPFIXTURE_BIND", Some("bind"))),
    ("listener", BuilderOnly("a socket the caller made")),
    (
        "dual_stack",
        Cli("--dual-stack", "FTPFIXTURE_DUAL_STACK", Some("dual_stack")),
    ),
    ("port", Cli("--port", "FTPFIXTURE_PORT", Some("port"))),
    ("user", Cli("--user", "FTPFIXTURE_USER", Some("users"))),
    (
        "account",
        Cli("--account", "FTPFIXTURE_ACCOUNTS", Some("users")),
    ),
    (
        "anonymous",
        Cli("--anonymous", "FTPFIXTURE_ANONYMOUS", Some("anonymous")),
    ),
    (
        "read_only",
        Cli("--read-only", "FTPFIXTURE_READ_ONLY", Some("read_only")),
    ),
    (
        "chroot",
        Cli("--chroot", "FTPFIXTURE_CHROOT", Some("chroot")),
    ),
    ("perm", Cli("--perm", "FTPFIXTURE_PERMS", Some("perm"))),
    (
        "ownership",
        Cli("--owner", "FTPFIXTURE_OWNERS", Some("owners")),
    ),
    ("permissions", BuilderOnly("a Permissions provider in Rust")),
    ("command", BuilderOnly("a CommandHandler in Rust")),
    (
        "personality",
        Cli(
            "--personality",
            "FTPFIXTURE_PERSONALITY",
            Some("personality"),
        ),
    ),
    (
        "personality_option",
        Cli(
            "--personality-option",
            "FTPFIXTURE_PERSONALITY_OPTIONS",
            Some("personality_options"),
        ),
    ),
    ("storage_factory", BuilderOnly("a StorageFactory in Rust")),
    ("authenticator", BuilderOnly("an Authenticator in Rust")),
    ("root", Cli("--root", "FTPFIXTURE_ROOT", None)),
    (
        "restore_root",
        Cli("--restore-root", "FTPFIXTURE_RESTORE_ROOT", None),
    ),
    (
        "memory",
        Cli("--memory", "FTPFIXTURE_MEMORY", Some("memory")),
    ),
    ("storage", BuilderOnly("a Storage in Rust")),
    ("file", Scenario("files")),
    ("dir", Scenario("dirs")),
    (
        "fixture_dir",
        Cli("--fixtures", "FTPFIXTURE_FIXTURES", Some("fixtures")),
    ),
    (
        "passive_ports",
        Cli(
            "--passive-ports",
            "FTPFIXTURE_PASSIVE_PORTS",
            Some("passive_ports"),
        ),
    ),
    (
        "public_ip",
        Cli("--public-ip", "FTPFIXTURE_PUBLIC_IP", Some("public_ip")),
    ),
    (
        "greeting",
        Cli("--greeting", "FTPFIXTURE_GREETING", Some("greeting")),
    ),
    (
        "idle_timeout",
        Cli(
            "--idle-timeout",
            "FTPFIXTURE_IDLE_TIMEOUT",
            Some("idle_timeout"),
        ),
    ),
    (
        "data_timeout",
        Cli(
            "--data-timeout",
            "FTPFIXTURE_DATA_TIMEOUT",
            Some("data_timeout"),
        ),
    ),
    (
        "max_sessions",
        Cli(
            "--max-sessions",
            "FTPFIXTURE_MAX_SESSIONS",
            Some("max_sessions"),
        ),
    ),
    (
        "max_login_failures",
        Cli(
            "--max-login-failures",
            "FTPFIXTURE_MAX_LOGIN_FAILURES",
            Some("max_login_failures"),
        ),
    ),
    (
        "login_failure_delay",
        Cli(
            "--login-failure-delay",
            "FTPFIXTURE_LOGIN_FAILURE_DELAY",
            Some("login_failure_delay"),
        ),
    ),
    (
        "max_sessions_per_ip",
        Cli(
            "--max-sessions-per-ip",
            "FTPFIXTURE_MAX_SESSIONS_PER_IP",
            Some("max_sessions_per_ip"),
        ),
    ),
    (
        "max_line",
        Cli("--max-line", "FTPFIXTURE_MAX_LINE", Some("max_line")),
    ),
    (
        "shutdown_grace",
        Cli(
            "--shutdown-grace",
            "FTPFIXTURE_SHUTDOWN_GRACE",
            Some("shutdown_grace"),
        ),
    ),
    ("tls", Cli("--tls", "FTPFIXTURE_TLS", Some("tls"))),
    (
        "certificate_out",
        Cli("--cert-out", "FTPFIXTURE_CERT_OUT", None),
    ),
    ("tls_mode", BuilderOnly("a getter, not an option")),
    (
        "certificate",
        Cli("--cert", "FTPFIXTURE_CERT", Some("cert")),
    ),
    (
        "require_tls",
        Cli(
            "--require-tls",
            "FTPFIXTURE_REQUIRE_TLS",
            Some("require_tls"),
        ),
    ),
    (
        "require_tls_control",
        Cli(
            "--require-tls-control",
            "FTPFIXTURE_REQUIRE_TLS_CONTROL",
            Some("require_tls_control"),
        ),
    ),
    (
        "require_tls_data",
        Cli(
            "--require-tls-data",
            "FTPFIXTURE_REQUIRE_TLS_DATA",
            Some("require_tls_data"),
        ),
    ),
    (
        "require_tls_resumption",
        Cli(
            "--require-tls-resumption",
            "FTPFIXTURE_REQUIRE_TLS_RESUMPTION",
            Some("require_tls_resumption"),
        ),
    ),
    (
        "allow_ccc",
        Cli("--allow-ccc", "FTPFIXTURE_ALLOW_CCC", Some("allow_ccc")),
    ),
    (
        "tls_handshake_timeout",
        Cli(
            "--tls-handshake-timeout",
            "FTPFIXTURE_TLS_HANDSHAKE_TIMEOUT",
            Some("tls_handshake_timeout"),
        ),
    ),
    ("fault", Cli("--fault", "FTPFIXTURE_FAULTS", Some("faults"))),
    ("control", Cli("--control", "FTPFIXTURE_CONTROL", None)),
    (
        "control_token",
        Cli("--control-token", "FTPFIXTURE_CONTROL_TOKEN", None),
    ),
    (
        "record",
        Cli("--no-record", "FTPFIXTURE_NO_RECORD", Some("record")),
    ),
    (
        "max_transcript_events",
        Cli(
            "--max-transcript-events",
            "FTPFIXTURE_MAX_TRANSCRIPT_EVENTS",
            Some("max_transcript_events"),
        ),
    ),
    (
        "replay",
        Cli("--replay", "FTPFIXTURE_REPLAY", Some("replay")),
    ),
    (
        "transcript_file",
        Cli("--transcript", "FTPFIXTURE_TRANSCRIPT", None),
    ),
    (
        "transcript_file_with_secrets",
        Cli(
            "--transcript-secrets",
            "FTPFIXTURE_TRANSCRIPT_SECRETS",
            None,
        ),
    ),
    (
        "record_upstream",
        Cli("--upstream", "FTPFIXTURE_UPSTREAM", None),
    ),
    ("start", BuilderOnly("starts the server")),
    ("start_blocking", BuilderOnly("starts the server")),
];

/// The `pub fn` names of `impl ServerBuilder`, read from its source.
fn builder_methods() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/builder.rs");
    let source = std::fs::read_to_string(path).expect("builder.rs");
    source
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix("pub fn ")
                .or_else(|| l.strip_prefix("pub async fn "))?;
            Some(rest.split(['(', '<']).next()?.to_string())
        })
        .collect()
}

#[test]
fn every_builder_option_is_in_the_table() {
    let methods = builder_methods();
    assert!(methods.len() > 40, "found {methods:?}");
    let missing: Vec<&String> = methods
        .iter()
        .filter(|m| !TABLE.iter().any(|(name, _)| name == m))
        .collect();
    assert!(
        missing.is_empty(),
        "builder options with no flag, scenario key or builder-only mark in \
         tests/integration/options.rs: {missing:?}"
    );
    let stale: Vec<&str> = TABLE
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !methods.iter().any(|m| m == name))
        .collect();
    assert!(stale.is_empty(), "no such builder method: {stale:?}");
}

#[test]
fn every_flag_and_variable_in_the_table_exists() {
    let out = Command::new(BIN).arg("--help").output().expect("--help");
    let help = String::from_utf8_lossy(&out.stdout);
    for (name, reach) in TABLE {
        if let BuilderOnly(why) = reach {
            assert!(!why.is_empty(), "{name}: say why it is builder-only");
        }
        if let Cli(flag, env, _) = reach {
            let long = format!("{flag} ");
            let bare = format!("{flag}\n");
            assert!(
                help.contains(&long) || help.contains(&bare),
                "{name}: {flag} is not in --help"
            );
            assert!(
                help.contains(&format!("[env: {env}=")),
                "{name}: {env} is not in --help"
            );
        }
    }
}

#[test]
fn every_scenario_key_in_the_table_is_known() {
    for (name, reach) in TABLE {
        let key = match reach {
            Cli(_, _, Some(key)) | Scenario(key) => key,
            _ => continue,
        };
        // A value of the wrong kind: the error names the key's type, not
        // an unknown field.
        let text = format!("{key} = {{ nested = [] }}\n");
        let err = text
            .parse::<ftpfixture::Scenario>()
            .expect_err("a table is no value of any key");
        assert!(
            !err.to_string().contains("unknown field"),
            "{name}: scenario key {key} is unknown: {err}"
        );
    }
}

/// The flags new in this table do what they say, as a CI job would use
/// them.
#[test]
fn the_new_flags_take_effect() {
    // A short data timeout: a PASV the client never connects to gets 425
    // at once rather than after the default 10 s.
    const PY: &str = r#"
import ftplib, socket, sys, time
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]), timeout=20)
ftp.login("admin", "123456")
ftp.sendcmd("PASV")
start = time.monotonic()
try:
    ftp.sendcmd("LIST")
    print(ftp.getresp())
except ftplib.error_temp as e:
    print(str(e)[:3], "fast" if time.monotonic() - start < 5 else "slow")
try:
    ftp.sendcmd("NOOP " + "x" * 100)
except ftplib.error_perm as e:
    print(str(e)[:3])
ftp.quit()
"#;
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--memory", "--data-timeout", "300ms"])
        .args(["--max-line", "64", "--owner", "/=alice:staff"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).expect("ready line");
    assert!(ready["root"].is_null(), "--memory: no root on disk: {line}");
    let out = crate::support::python(PY, &[&ready["port"].to_string()]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "425 fast\n500\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
