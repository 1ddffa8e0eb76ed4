//! The `ftpfixture` command: the same server as the library, as a process
//! for CI jobs in any language.
//!
//! Once it listens it prints one JSON line on stdout (the "ready line");
//! everything meant for people goes to stderr. Exit codes: 0 after a
//! graceful stop (SIGINT, SIGTERM, `--exit-after-sessions`), 1 when the
//! port cannot be bound, 2 for bad flags or a bad scenario.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ftpfixture::{
    Certificate, Fault, Scenario, Server, ServerBuilder, StartError, Tls, User, DEFAULT_PASSWORD,
    DEFAULT_USER,
};

/// A real FTP/FTPS server for testing FTP clients: temp root, transcripts,
/// faults. Every flag can also come from an environment variable.
#[derive(Debug, Parser)]
#[command(name = "ftpfixture", version, about)]
struct Args {
    /// `record`: be a recording proxy in front of --upstream, writing every
    /// session to --out (replay it later with --replay).
    #[arg(value_enum)]
    mode: Option<Mode>,
    /// record: the server to record, as HOST:PORT.
    #[arg(long, env = "FTPFIXTURE_UPSTREAM")]
    upstream: Option<String>,
    /// record: the recording's directory (made if missing).
    #[arg(long, env = "FTPFIXTURE_RECORD_OUT")]
    out: Option<PathBuf>,
    /// record: how the upstream speaks TLS (default none).
    #[arg(long, env = "FTPFIXTURE_UPSTREAM_TLS", value_enum)]
    upstream_tls: Option<TlsArg>,
    /// record: trust the upstream's certificate from this PEM file
    /// (default: the system's CA certificates).
    #[arg(long, env = "FTPFIXTURE_UPSTREAM_CA")]
    upstream_ca: Option<PathBuf>,
    /// record: do NOT verify the upstream's certificate (a staging server
    /// with a self-signed one). Warned about at every connection.
    #[arg(long, env = "FTPFIXTURE_UPSTREAM_INSECURE")]
    upstream_insecure: bool,
    /// record: write passwords to the recording (default: never; PASS and
    /// ACCT are written as <redacted>).
    #[arg(long, env = "FTPFIXTURE_KEEP_PASSWORDS")]
    keep_passwords: bool,
    /// record: replace what REGEX matches with PLACEHOLDER in every line
    /// written, as REGEX=PLACEHOLDER (repeatable).
    #[arg(long = "redact", value_parser = parse_redaction)]
    redact: Vec<(String, String)>,
    /// Serve a recording made by `ftpfixture record` (no upstream needed).
    #[arg(long, env = "FTPFIXTURE_REPLAY", conflicts_with = "mode")]
    replay: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "FTPFIXTURE_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Listen on both 127.0.0.1 and ::1, on the same port.
    #[arg(long, env = "FTPFIXTURE_DUAL_STACK", conflicts_with = "bind")]
    dual_stack: bool,
    /// Control port (0 picks a free one; the ready line says which).
    #[arg(long, env = "FTPFIXTURE_PORT", default_value_t = 2121)]
    port: u16,
    /// Directory to serve (default: a fresh temp dir, removed at exit).
    #[arg(long, env = "FTPFIXTURE_ROOT")]
    root: Option<PathBuf>,
    /// Keep files in memory instead of a temp directory (the ready line's
    /// root is then null).
    #[arg(long, env = "FTPFIXTURE_MEMORY", conflicts_with_all = ["root", "keep_root"])]
    memory: bool,
    /// Keep the temp root at exit (its path is in the ready line).
    #[arg(long, env = "FTPFIXTURE_KEEP_ROOT")]
    keep_root: bool,
    /// With --root: copy DIR aside at start so that the control API's
    /// POST /reset puts it back as it was (a temp root is always rebuilt).
    #[arg(long, env = "FTPFIXTURE_RESTORE_ROOT", requires = "root")]
    restore_root: bool,
    /// Serve the HTTP control API on this port of --control-bind (0 picks
    /// a free one; the ready line's "control" says where).
    #[arg(long, env = "FTPFIXTURE_CONTROL")]
    control: Option<u16>,
    /// Address of the control API (default 127.0.0.1, whatever --bind says).
    #[arg(long, env = "FTPFIXTURE_CONTROL_BIND", default_value = "127.0.0.1")]
    control_bind: IpAddr,
    /// Every control API request must carry "Authorization: Bearer TOKEN".
    #[arg(long, env = "FTPFIXTURE_CONTROL_TOKEN")]
    control_token: Option<String>,
    /// A local directory copied into the root at start.
    #[arg(long, env = "FTPFIXTURE_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Login name of the main account.
    #[arg(long, env = "FTPFIXTURE_USER", default_value = DEFAULT_USER)]
    user: String,
    /// Password of the main account.
    #[arg(long, env = "FTPFIXTURE_PASSWORD", default_value = DEFAULT_PASSWORD)]
    password: String,
    /// More accounts, as NAME:PASS[:HOME] (repeatable; comma-separated in
    /// the environment variable).
    #[arg(long = "account", env = "FTPFIXTURE_ACCOUNTS", value_delimiter = ',', value_parser = parse_account)]
    accounts: Vec<User>,
    /// Allow anonymous login (read-only).
    #[arg(long, env = "FTPFIXTURE_ANONYMOUS")]
    anonymous: bool,
    /// Make the main account and every --account read-only.
    #[arg(long, env = "FTPFIXTURE_READ_ONLY")]
    read_only: bool,
    /// Play another server: ftpfixture (default), vsftpd, proftpd,
    /// pure-ftpd, iis or filezilla.
    #[arg(long, env = "FTPFIXTURE_PERSONALITY")]
    personality: Option<ftpfixture::Personality>,
    /// One of the played server's own settings, as KEY=VALUE named as
    /// that server names it (repeatable; comma-separated in the
    /// environment variable): vsftpd's utf8_filesystem, ssl_enable,
    /// hide_ids; ProFTPD's TLSEngine; Pure-FTPd's TLS.
    #[arg(long = "personality-option", env = "FTPFIXTURE_PERSONALITY_OPTIONS", value_delimiter = ',', value_parser = parse_key_value)]
    personality_options: Vec<(String, String)>,
    /// Confine every account to its home, as vsftpd's chroot_local_user:
    /// its / is the home.
    #[arg(long, env = "FTPFIXTURE_CHROOT")]
    chroot: bool,
    /// A per-path permission, as [USER:]PATH=MODE with MODE read-only,
    /// write-only, none (hidden) or full (repeatable; e.g. /inbox=write-only,
    /// bob:/private=none). The longest matching path wins; a user's rule
    /// beats an all-users rule for the same path.
    #[arg(long = "perm", env = "FTPFIXTURE_PERMS", value_delimiter = ',', value_parser = parse_perm)]
    perms: Vec<ftpfixture::PathPerm>,
    /// The owner and group listings show for PATH and below, as
    /// PATH=OWNER:GROUP (repeatable; e.g. /shared=alice:staff).
    #[arg(long = "owner", env = "FTPFIXTURE_OWNERS", value_delimiter = ',', value_parser = parse_owner)]
    owners: Vec<(String, ftpfixture::Ownership)>,
    /// Passive data ports, as FIRST-LAST.
    #[arg(long, env = "FTPFIXTURE_PASSIVE_PORTS", value_parser = parse_range)]
    passive_ports: Option<std::ops::RangeInclusive<u16>>,
    /// Address announced in 227 replies.
    #[arg(long, env = "FTPFIXTURE_PUBLIC_IP")]
    public_ip: Option<IpAddr>,
    /// Text of the 220 greeting.
    #[arg(long, env = "FTPFIXTURE_GREETING")]
    greeting: Option<String>,
    /// Close idle control connections after this long (30s, 500ms).
    #[arg(long, env = "FTPFIXTURE_IDLE_TIMEOUT", value_parser = parse_duration)]
    idle_timeout: Option<Duration>,
    /// Give up on a data connection that moves no byte for this long, or
    /// that the client never opens (default 10s): 425 or 426.
    #[arg(long, env = "FTPFIXTURE_DATA_TIMEOUT", value_parser = parse_duration)]
    data_timeout: Option<Duration>,
    /// The longest command line accepted (default 4096 bytes; longer ones
    /// get 500).
    #[arg(long, env = "FTPFIXTURE_MAX_LINE")]
    max_line: Option<usize>,
    /// Refuse connections beyond this many with 421.
    #[arg(long, env = "FTPFIXTURE_MAX_SESSIONS")]
    max_sessions: Option<usize>,
    /// Refuse a client address's connections beyond this many with 421.
    #[arg(long, env = "FTPFIXTURE_MAX_SESSIONS_PER_IP")]
    max_sessions_per_ip: Option<usize>,
    /// Close a connection with 421 at its Nth failed login (default 3; 0:
    /// never).
    #[arg(long, env = "FTPFIXTURE_MAX_LOGIN_FAILURES")]
    max_login_failures: Option<u32>,
    /// Wait this long before answering a failed login (default 0).
    #[arg(long, env = "FTPFIXTURE_LOGIN_FAILURE_DELAY", value_parser = parse_duration)]
    login_failure_delay: Option<Duration>,
    /// On SIGINT/SIGTERM, how long transfers in flight may go on (default 1s).
    #[arg(long, env = "FTPFIXTURE_SHUTDOWN_GRACE", value_parser = parse_duration)]
    shutdown_grace: Option<Duration>,
    /// TLS mode.
    #[arg(long, env = "FTPFIXTURE_TLS", value_enum)]
    tls: Option<TlsArg>,
    /// Certificate chain PEM (with --key; default: a generated one).
    #[arg(long, env = "FTPFIXTURE_CERT", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key PEM (with --cert).
    #[arg(long, env = "FTPFIXTURE_KEY", requires = "cert")]
    key: Option<PathBuf>,
    /// Write the certificate clients must trust (PEM) to this file.
    #[arg(long, env = "FTPFIXTURE_CERT_OUT")]
    cert_out: Option<PathBuf>,
    /// Refuse plaintext logins and data connections.
    #[arg(long, env = "FTPFIXTURE_REQUIRE_TLS")]
    require_tls: bool,
    /// Refuse plaintext logins only (530 before AUTH TLS).
    #[arg(long, env = "FTPFIXTURE_REQUIRE_TLS_CONTROL")]
    require_tls_control: bool,
    /// Refuse plaintext data connections only (521 before PROT P).
    #[arg(long, env = "FTPFIXTURE_REQUIRE_TLS_DATA")]
    require_tls_data: bool,
    /// Allow CCC (back to a clear control connection after login).
    #[arg(long, env = "FTPFIXTURE_ALLOW_CCC")]
    allow_ccc: bool,
    /// Give up on a TLS handshake after this long (default 10s).
    #[arg(long, env = "FTPFIXTURE_TLS_HANDSHAKE_TIMEOUT", value_parser = parse_duration)]
    tls_handshake_timeout: Option<Duration>,
    /// Protected data connections must resume the control connection's TLS
    /// session, or their command gets 522 (vsftpd's require_ssl_reuse).
    #[arg(long, env = "FTPFIXTURE_REQUIRE_TLS_RESUMPTION")]
    require_tls_resumption: bool,
    /// A fault rule, like "RETR#2 drop-data after=1024" (repeatable;
    /// separated by ';' in the environment variable).
    #[arg(long = "fault", env = "FTPFIXTURE_FAULTS", value_delimiter = ';')]
    faults: Vec<String>,
    /// A TOML scenario file: users, files, TLS, faults in one place.
    /// Flags given on the command line win over it.
    #[arg(long, env = "FTPFIXTURE_SCENARIO")]
    scenario: Option<PathBuf>,
    /// Write the transcript to this file as events happen.
    #[arg(long, env = "FTPFIXTURE_TRANSCRIPT")]
    transcript: Option<PathBuf>,
    /// Transcript format: JSON Lines (as events happen) or the snapshot
    /// text form (written at exit).
    #[arg(
        long,
        env = "FTPFIXTURE_TRANSCRIPT_FORMAT",
        value_enum,
        default_value = "jsonl"
    )]
    transcript_format: TranscriptFormat,
    /// Record no transcript (for load tests, where its memory grows with
    /// every session; --transcript and the control API then have nothing).
    #[arg(long, env = "FTPFIXTURE_NO_RECORD", conflicts_with = "transcript")]
    no_record: bool,
    /// The most transcript events kept in memory (default 100000; 0: no
    /// limit). Past it the oldest ended sessions' events are dropped; the
    /// JSON Lines --transcript file still gets every event, and a text one
    /// (written at exit) is rendered from all of them: with
    /// --transcript-format text the default is no limit.
    #[arg(long, env = "FTPFIXTURE_MAX_TRANSCRIPT_EVENTS")]
    max_transcript_events: Option<usize>,
    /// Keep passwords in the transcript file (masked as PASS ****** by
    /// default, since CI jobs upload it as an artifact).
    #[arg(long, env = "FTPFIXTURE_TRANSCRIPT_SECRETS")]
    transcript_secrets: bool,
    /// Also write the ready line to this file (atomically).
    #[arg(long, env = "FTPFIXTURE_READY_FILE")]
    ready_file: Option<PathBuf>,
    /// Stop (exit 0) once this many sessions have ended.
    #[arg(long, env = "FTPFIXTURE_EXIT_AFTER_SESSIONS")]
    exit_after_sessions: Option<u64>,
    /// Log level when RUST_LOG is not set (error, warn, info, debug, trace,
    /// or EnvFilter directives; rustls logs only errors unless named).
    #[arg(long, env = "FTPFIXTURE_LOG_LEVEL", default_value = "info")]
    log_level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// A recording proxy.
    Record,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TlsArg {
    None,
    Explicit,
    Implicit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TranscriptFormat {
    Jsonl,
    Text,
}

fn parse_redaction(s: &str) -> Result<(String, String), String> {
    let (re, placeholder) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?}: expected REGEX=PLACEHOLDER"))?;
    Ok((re.to_string(), placeholder.to_string()))
}

fn tls_of(t: TlsArg) -> Tls {
    match t {
        TlsArg::None => Tls::None,
        TlsArg::Explicit => Tls::Explicit,
        TlsArg::Implicit => Tls::Implicit,
    }
}

fn parse_owner(s: &str) -> Result<(String, ftpfixture::Ownership), String> {
    ftpfixture::__private::parse_owner(s)
}

fn parse_perm(s: &str) -> Result<ftpfixture::PathPerm, String> {
    s.parse().map_err(|e: ftpfixture::PermError| e.to_string())
}

fn parse_account(s: &str) -> Result<User, String> {
    let mut parts = s.splitn(3, ':');
    let (Some(name), Some(pass)) = (parts.next(), parts.next()) else {
        return Err(format!("{s:?}: expected NAME:PASS or NAME:PASS:HOME"));
    };
    if name.is_empty() {
        return Err(format!("{s:?}: the name is empty"));
    }
    let mut user = User::new(name, pass);
    if let Some(home) = parts.next() {
        user = user.home(home);
    }
    Ok(user)
}

fn parse_range(s: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    ftpfixture::__private::parse_port_range(s)
}

/// A duration as the library reads them (`500ms`, `2s`, `1m`), except that
/// a bare number on the command line means seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bare = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
    let text = if bare { format!("{s}s") } else { s.to_string() };
    ftpfixture::__private::parse_duration(&text)
        .ok_or_else(|| format!("{s:?} is no duration (30s, 500ms, 1m)"))
}

/// A configuration problem: exit 2.
struct Usage(String);

fn main() -> ExitCode {
    let args = Args::parse();
    // rustls warns about legitimate client behaviour (lftp sends an IP
    // address as SNI on every connection), so its warnings are hidden
    // unless the level names rustls itself.
    let directives = if args.log_level.contains("rustls") {
        args.log_level.clone()
    } else {
        format!("{},rustls=error", args.log_level)
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&directives));
    let filter = match filter {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ftpfixture: --log-level {:?}: {e}", args.log_level);
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ftpfixture: cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    // The temp dir is ours (not the server's) so --keep-root can keep it. It
    // holds the served root and, with TLS, the CA file beside it.
    let temp = match tempfile::Builder::new().prefix("ftpfixture-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("ftpfixture: cannot make a temp dir: {e}");
            return ExitCode::from(2);
        }
    };
    let root = match &args.root {
        Some(dir) => dir.clone(),
        None => {
            let dir = temp.path().join("root");
            if let Err(e) = std::fs::create_dir(&dir) {
                eprintln!("ftpfixture: cannot make a temp root: {e}");
                return ExitCode::from(2);
            }
            dir
        }
    };
    let builder = match configure(&args, &root, temp.path()) {
        Ok(b) => b,
        Err(Usage(message)) => {
            eprintln!("ftpfixture: {message}");
            return ExitCode::from(2);
        }
    };
    let server = match builder.start().await {
        Ok(s) => s,
        Err(StartError::Bind { addr, source }) => {
            eprintln!(
                "ftpfixture: cannot listen on port {} of {}: {source}",
                addr.port(),
                addr.ip()
            );
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("ftpfixture: {e}");
            return ExitCode::from(2);
        }
    };

    let status = server.status();
    let cert_path = status.certificate.clone();
    let (user, password) = (
        status.user.clone().unwrap_or_default(),
        status.password.clone().unwrap_or_default(),
    );
    let ready = serde_json::json!({
        "host": status.host,
        "port": status.port,
        "url": status.url,
        "user": user,
        "password": password,
        "tls": status.tls,
        "certificate": cert_path,
        // null when the files are kept in memory (--memory).
        "root": server.root().map(|_| &root),
        "control": status.control,
    });
    if let Some(path) = &args.ready_file {
        if let Err(e) = write_atomically(path, &format!("{ready}\n")) {
            eprintln!("ftpfixture: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{ready}");
        let _ = out.flush();
    }
    eprintln!("ftpfixture listening on {}", server.url());
    eprintln!("  user {user} / password {password}");
    match server.root() {
        Some(_) => eprintln!("  root {}", root.display()),
        None => eprintln!("  root in memory"),
    }
    let tls_flags = match server.tls() {
        Tls::None => String::new(),
        Tls::Explicit => format!(
            "--ssl-reqd --cacert {} ",
            cert_path
                .as_ref()
                .map_or("CA.pem".into(), |p| p.display().to_string())
        ),
        Tls::Implicit => format!(
            "--cacert {} ",
            cert_path
                .as_ref()
                .map_or("CA.pem".into(), |p| p.display().to_string())
        ),
    };
    eprintln!(
        "  try: curl {tls_flags}{}://{user}:{password}@{}:{}/",
        if server.tls() == Tls::Implicit {
            "ftps"
        } else {
            "ftp"
        },
        if server.tls() == Tls::None {
            server.addr().ip().to_string()
        } else {
            "localhost".into()
        },
        server.port()
    );
    if let Some(p) = &cert_path {
        eprintln!("  trust the certificate in {}", p.display());
    }
    if let Some(url) = &status.control {
        eprintln!("  control API at {url}  (try: curl {url}/status)");
    }
    eprintln!("Stop with Ctrl-C or SIGTERM.");

    // Once a second: when a burst of sessions is over, hand the memory it
    // freed back to the system (see `memory::give_back`).
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut trimmed_after = 0u64;
    let reason = {
        let stop = wait_for_stop(&server, args.exit_after_sessions);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                reason = &mut stop => break reason,
                _ = tick.tick() => {
                    let status = server.status();
                    if status.sessions_open == 0 && status.sessions_total != trimmed_after {
                        trimmed_after = status.sessions_total;
                        memory::give_back();
                    }
                }
            }
        }
    };
    eprintln!("ftpfixture: {reason}; shutting down");
    // After the shutdown, so the record includes it (421s, transfers that
    // finished in the grace period, disconnects).
    let transcript = server.shutdown().await;

    // The JSON Lines file was written as events happened (complete once
    // the shutdown returns); the text form is rendered now.
    if let Some(path) = &args.transcript {
        if args.transcript_format == TranscriptFormat::Text {
            if let Err(e) = write_atomically(path, &transcript.render()) {
                eprintln!("ftpfixture: cannot write {}: {e}", path.display());
            }
        }
    }
    if args.keep_root && args.root.is_none() {
        let kept = temp.keep();
        eprintln!(
            "ftpfixture: kept the root at {}",
            kept.join("root").display()
        );
    }
    ExitCode::SUCCESS
}

/// Builds the server from the scenario (if any), then the flags on top:
/// a flag given on the command line (or in the environment) wins over the
/// scenario, a flag's default does not.
fn configure(args: &Args, root: &Path, temp: &Path) -> Result<ServerBuilder, Usage> {
    let main = User::new(&args.user, &args.password);
    // The main account goes in first, so it is the one the ready line names.
    let mut b = Server::builder()
        .bind(args.bind)
        .port(args.port)
        .root(root)
        // A temp root is ours: a reset rebuilds it. A --root DIR only with
        // --restore-root.
        .restore_root(args.root.is_none() || args.restore_root)
        .account(main.clone());
    if let Some(path) = &args.scenario {
        let scenario =
            Scenario::from_file(path).map_err(|e| Usage(format!("{}: {e}", path.display())))?;
        b = scenario
            .apply(b)
            .map_err(|e| Usage(format!("{}: {e}", path.display())))?;
    }
    if flag_given("bind") {
        b = b.bind(args.bind);
    }
    if flag_given("port") {
        b = b.port(args.port);
    }
    if flag_given("user") || flag_given("password") {
        // Replaces a scenario account of the same name.
        b = b.account(main);
    }
    for u in &args.accounts {
        b = b.account(u.clone());
    }
    if args.read_only {
        b = b.read_only(true);
    }
    if args.chroot {
        b = b.chroot(true);
    }
    for (key, value) in &args.personality_options {
        b = b.personality_option(key, value);
    }
    if let Some(p) = args.personality {
        b = b.personality(p);
    }
    for rule in &args.perms {
        b = b.perm(rule.clone());
    }
    if args.anonymous {
        b = b.anonymous(true);
    }
    if let Some(dir) = &args.fixtures {
        b = b.fixture_dir(dir);
    }
    if let Some(r) = &args.passive_ports {
        b = b.passive_ports(r.clone());
    }
    if let Some(ip) = args.public_ip {
        b = b.public_ip(ip);
    }
    if let Some(g) = &args.greeting {
        b = b.greeting(g);
    }
    if let Some(t) = args.idle_timeout {
        b = b.idle_timeout(t);
    }
    if let Some(n) = args.max_sessions {
        b = b.max_sessions(n);
    }
    if let Some(t) = args.data_timeout {
        b = b.data_timeout(t);
    }
    if let Some(n) = args.max_line {
        b = b.max_line(n);
    }
    if args.dual_stack {
        b = b.dual_stack();
    }
    if args.memory {
        b = b.memory();
    }
    for (path, owner) in &args.owners {
        b = b.ownership(path, owner.clone());
    }
    if let Some(n) = args.max_sessions_per_ip {
        b = b.max_sessions_per_ip(n);
    }
    if let Some(n) = args.max_login_failures {
        b = b.max_login_failures(n);
    }
    if let Some(d) = args.login_failure_delay {
        b = b.login_failure_delay(d);
    }
    if let Some(g) = args.shutdown_grace {
        b = b.shutdown_grace(g);
    }
    if let Some(t) = args.tls {
        b = b.tls(tls_of(t));
    }
    if let Some(dir) = &args.replay {
        b = b.replay(dir);
    }
    match (args.mode, &args.upstream, &args.out) {
        (Some(Mode::Record), Some(upstream), Some(out)) => {
            let mut up = ftpfixture::Upstream::new(upstream, out)
                .tls(args.upstream_tls.map_or(Tls::None, tls_of))
                .insecure(args.upstream_insecure)
                .keep_passwords(args.keep_passwords);
            if let Some(ca) = &args.upstream_ca {
                up = up.ca(ca);
            }
            for (re, placeholder) in &args.redact {
                up = up
                    .redact(re, placeholder)
                    .map_err(|e| Usage(format!("--redact: {e}")))?;
            }
            if args.upstream_insecure {
                eprintln!("ftpfixture: WARNING: the upstream's certificate will NOT be verified (--upstream-insecure)");
            }
            b = b.record_upstream(up);
        }
        (Some(Mode::Record), _, _) => {
            return Err(Usage(
                "record needs --upstream HOST:PORT and --out DIR".into(),
            ))
        }
        (None, Some(_), _) | (None, _, Some(_)) => {
            return Err(Usage(
                "--upstream and --out go with `ftpfixture record`".into(),
            ))
        }
        (None, None, None) => {}
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let c = Certificate::from_pem_files(cert, key).map_err(|e| Usage(e.to_string()))?;
        b = b.certificate(c);
    }
    if args.require_tls {
        b = b.require_tls(true);
    }
    if args.require_tls_resumption {
        b = b.require_tls_resumption(true);
    }
    if args.require_tls_control {
        b = b.require_tls_control(true);
    }
    if args.require_tls_data {
        b = b.require_tls_data(true);
    }
    if args.allow_ccc {
        b = b.allow_ccc(true);
    }
    if let Some(t) = args.tls_handshake_timeout {
        b = b.tls_handshake_timeout(t);
    }
    for rule in &args.faults {
        let fault: Fault = rule.parse().map_err(|e| Usage(format!("--fault: {e}")))?;
        b = b.fault(fault);
    }
    if args.no_record {
        b = b.record(false);
    }
    if let Some(path) = args
        .transcript
        .as_ref()
        .filter(|_| args.transcript_format == TranscriptFormat::Jsonl)
    {
        b = if args.transcript_secrets {
            b.transcript_file_with_secrets(path)
        } else {
            b.transcript_file(path)
        };
    }
    if let Some(n) = args.max_transcript_events {
        b = b.max_transcript_events(n);
    } else if args.transcript.is_some() && args.transcript_format == TranscriptFormat::Text {
        // The text form is rendered at exit from what the server kept.
        b = b.max_transcript_events(0);
    }
    if let Some(port) = args.control {
        b = b.control(std::net::SocketAddr::new(args.control_bind, port));
    }
    if let Some(token) = &args.control_token {
        b = b.control_token(token.clone());
    }
    // With TLS, the ready line always names a CA file: --cert-out, or one
    // beside the temp root (removed at exit with it).
    let tls_on = b.tls_mode() != Tls::None;
    match (&args.cert_out, tls_on) {
        (Some(path), true) => b = b.certificate_out(path),
        (Some(_), false) => {
            return Err(Usage("--cert-out needs --tls explicit or implicit".into()))
        }
        (None, true) => b = b.certificate_out(temp.join("ca.pem")),
        (None, false) => {}
    }
    Ok(b)
}

/// Whether a flag came from the command line or its environment variable
/// (not its default).
fn flag_given(name: &str) -> bool {
    let env = format!("FTPFIXTURE_{}", name.to_ascii_uppercase().replace('-', "_"));
    std::env::var_os(env).is_some()
        || std::env::args()
            .any(|a| a == format!("--{name}") || a.starts_with(&format!("--{name}=")))
}

/// Returning freed memory to the system.
mod memory {
    /// glibc's allocator keeps what a burst of hundreds of sessions freed
    /// (transfer buffers, in per-thread arenas) for reuse; a mock server
    /// that runs a whole CI job would then hold its peak for good. Asking
    /// it to trim once the server is idle gives those pages back. Elsewhere
    /// (musl, macOS, Windows) the allocator decides alone.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(super) fn give_back() {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes no pointers and only walks glibc's own
        // heaps, under their locks; it is safe to call from any thread.
        unsafe {
            malloc_trim(0);
        }
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub(super) fn give_back() {}
}

async fn wait_for_stop(server: &Server, exit_after: Option<u64>) -> &'static str {
    let sessions = async {
        match exit_after {
            Some(n) => loop {
                let ended = server
                    .wait_until(Duration::from_secs(3600), |t| {
                        t.sessions().iter().filter(|id| t.ended(**id)).count() as u64 >= n
                    })
                    .await;
                if ended.is_ok() {
                    return;
                }
            },
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term => "terminated",
        _ = server.wait_for_stop_request() => "asked to stop (POST /shutdown)",
        _ = sessions => "sessions done",
    }
}

fn write_atomically(path: &Path, content: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp-ftpfixture");
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, path)
}

/// KEY=VALUE, as `--personality-option` takes it.
fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}
