//! `ServerBuilder`: the options, with defaults that suit a test.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::run::Config;
use super::tree::Seed;
use super::Server;
use crate::auth::{Authenticator, User};
use crate::custom::CustomCommand;
use crate::fault::Fault;
use crate::perm::{Ownership, PathPerm, Permissions};
use crate::storage::StorageFactory;
use crate::storage::{Storage, StorageError};
use crate::tls::{Certificate, Tls, TlsError};

/// The default account's name.
pub const DEFAULT_USER: &str = "admin";
/// The default account's password.
pub const DEFAULT_PASSWORD: &str = "123456";

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The control port could not be bound (in use, or no such address).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The temp root could not be made, or `root` is no usable directory.
    #[error("cannot use the root directory: {0}")]
    Root(io::Error),
    /// A fixture directory could not be read.
    #[error("cannot read fixture directory {path}: {source}")]
    Fixture {
        /// The local directory.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// Seeding a file or directory into the storage failed.
    #[error("cannot seed {path}: {source}")]
    Seed {
        /// The virtual path being created.
        path: String,
        /// What the storage said.
        source: StorageError,
    },
    /// An option is out of range or contradicts another.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A recording to replay could not be read (the file and line say
    /// where).
    #[error("cannot replay: {0}")]
    Recording(#[from] crate::replay::RecordingError),
    /// The TLS certificate could not be loaded, generated or used.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The server's thread or runtime could not be created.
    #[error("cannot start the server thread: {0}")]
    Runtime(io::Error),
    /// The certificate could not be written where
    /// [`ServerBuilder::certificate_out`] said.
    #[error("cannot write the certificate to {path}: {source}")]
    CertificateOut {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

pub(super) enum Root {
    Temp,
    Dir(PathBuf),
    Memory,
    Custom(Arc<dyn Storage>),
}

/// Who made the root, which decides how a reset restores it.
pub(super) enum RootKind {
    Made,
    Dir,
    Custom,
}

/// Builds a [`Server`]. Every option has a default that suits a test, so
/// `Server::builder().start()` is a complete server.
///
/// ```
/// # async fn demo() -> Result<(), ftpfixture::StartError> {
/// use std::time::Duration;
/// let server = ftpfixture::Server::builder()
///     .user("alice", "secret")
///     .file("inbox/hello.txt", "hi\n")
///     .passive_ports(50000..=50100)
///     .idle_timeout(Duration::from_secs(30))
///     .start()
///     .await?;
/// # Ok(()) }
/// ```
pub struct ServerBuilder {
    pub(super) ips: Vec<IpAddr>,
    /// Listeners the caller made (`listener`): served instead of binding.
    pub(super) given: Vec<std::net::TcpListener>,
    pub(super) port: u16,
    /// Accounts in the order added; a later one replaces an earlier one of
    /// the same name.
    pub(super) users: Vec<User>,
    pub(super) anonymous: bool,
    /// Every account read-only.
    pub(super) read_only: bool,
    pub(super) authenticator: Option<Arc<dyn Authenticator>>,
    pub(super) root: Root,
    pub(super) seeds: Vec<Seed>,
    pub(super) passive_ports: Option<RangeInclusive<u16>>,
    pub(super) record: bool,
    /// A recording to serve (`replay`).
    pub(super) replay: Option<PathBuf>,
    /// A server to record through this one (`record_upstream`).
    pub(super) upstream: Option<crate::replay::Upstream>,
    /// The most transcript events kept (`None`: all).
    pub(super) max_events: Option<usize>,
    pub(super) transcript_file: Option<(std::path::PathBuf, bool)>,
    pub(super) config: Config,
    pub(super) tls: TlsOptions,
    pub(super) faults: Vec<Fault>,
    pub(super) restore_root: bool,
    pub(super) certificate_out: Option<PathBuf>,
    /// Every account of the built-in table confined to its home.
    pub(super) chroot: bool,
    pub(super) perms: Vec<PathPerm>,
    pub(super) owners: Vec<(String, Ownership)>,
    pub(super) permissions: Option<Arc<dyn Permissions>>,
    pub(super) commands: Vec<CustomCommand>,
    pub(super) storage_factory: Option<Arc<dyn StorageFactory>>,
    pub(super) personality: crate::Personality,
    pub(super) personality_options: Vec<(String, String)>,
    #[cfg(feature = "control")]
    pub(super) control: Option<SocketAddr>,
    #[cfg(feature = "control")]
    pub(super) control_token: Option<String>,
}

/// The TLS options, kept together until `start` turns them into settings.
#[derive(Default)]
pub(super) struct TlsOptions {
    pub(super) mode: Tls,
    pub(super) certificate: Option<Certificate>,
    pub(super) require_control: bool,
    pub(super) require_data: bool,
    pub(super) require_resumption: bool,
    pub(super) allow_ccc: bool,
    pub(super) handshake_timeout: Duration,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            given: Vec::new(),
            port: 0,
            users: Vec::new(),
            anonymous: false,
            read_only: false,
            authenticator: None,
            root: Root::Temp,
            seeds: Vec::new(),
            passive_ports: None,
            record: true,
            max_events: Some(crate::transcript::DEFAULT_MAX_EVENTS),
            transcript_file: None,
            replay: None,
            upstream: None,
            config: Config {
                greeting: None,
                idle_timeout: Duration::from_secs(300),
                data_timeout: Duration::from_secs(10),
                max_sessions: None,
                public_ip: None,
                max_line: 4096,
                shutdown_grace: Duration::from_secs(1),
                max_login_failures: Some(3),
                login_failure_delay: Duration::ZERO,
                max_sessions_per_ip: None,
            },
            tls: TlsOptions {
                mode: Tls::None,
                certificate: None,
                require_control: false,
                require_data: false,
                require_resumption: false,
                allow_ccc: false,
                handshake_timeout: Duration::from_secs(10),
            },
            faults: Vec::new(),
            restore_root: false,
            certificate_out: None,
            chroot: false,
            perms: Vec::new(),
            owners: Vec::new(),
            permissions: None,
            commands: Vec::new(),
            storage_factory: None,
            personality: crate::Personality::Ftpfixture,
            personality_options: Vec::new(),
            #[cfg(feature = "control")]
            control: None,
            #[cfg(feature = "control")]
            control_token: None,
        }
    }
}

impl ServerBuilder {
    /// Listens on `ip` instead of 127.0.0.1 (for example `::1`).
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.ips = vec![ip];
        self
    }

    /// Serves a listener you made (socket activation, a port a harness
    /// reserved, a listener shared with another component) instead of
    /// binding one: the Go seed's `Serve(l)`. The server owns it from then
    /// on; [`Server::addr`] is its address. Call it more than once to serve
    /// several; `bind`, `port` and `dual_stack` are then not used.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let server = ftpfixture::Server::builder().listener(listener).start().await?;
    /// assert_eq!(server.addr(), addr);
    /// # Ok(()) }
    /// ```
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.given.push(listener);
        self
    }

    /// Listens on both 127.0.0.1 and `::1`, on the same port.
    pub fn dual_stack(mut self) -> Self {
        self.ips = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        self
    }

    /// The control port (default 0: an ephemeral port chosen by the OS).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds a read-write account with home `/`. The default account
    /// (`admin` / `123456`) exists only while no account has been added.
    pub fn user(self, name: &str, password: &str) -> Self {
        self.account(User::new(name, password))
    }

    /// Adds an account with its own home directory or read-only flag
    /// (replacing an account of the same name).
    pub fn account(mut self, user: User) -> Self {
        match self.users.iter_mut().find(|u| u.name() == user.name()) {
            Some(existing) => *existing = user,
            None => self.users.push(user),
        }
        self
    }

    /// Allows anonymous login (`anonymous` or `ftp`, any password, read-only).
    pub fn anonymous(mut self, allowed: bool) -> Self {
        self.anonymous = allowed;
        self
    }

    /// Makes every account of the built-in table read-only (vsftpd's
    /// `write_enable=NO`), whatever each [`User`] says.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Confines every account of the built-in table to its home (`true`),
    /// as vsftpd's `chroot_local_user`: its `/` is the home, `PWD` after
    /// login answers `/`, and nothing outside can be named. One account:
    /// [`User::chroot`]. CLI: `--chroot`.
    pub fn chroot(mut self, chroot: bool) -> Self {
        self.chroot = chroot;
        self
    }

    /// Adds a per-path permission rule: a read-only subtree, a write-only
    /// drop box, a hidden path, for one user or all. The rule for the
    /// longest matching path wins; for the same path, a user's rule beats
    /// an all-users rule. A client's rename carries the rules (and
    /// [`ownership`](Self::ownership)) at and below its source to the new
    /// name, as a filesystem's owner and mode go with the file. CLI:
    /// `--perm [USER:]PATH=MODE`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ftpfixture::{Access, PathPerm, Server};
    ///
    /// let server = Server::builder()
    ///     .dir("inbox")
    ///     .file("archive/2024.csv", "a,b\n")
    ///     .perm(PathPerm::new("/inbox", Access::WriteOnly))
    ///     .perm(PathPerm::new("/archive", Access::ReadOnly))
    ///     .perm("bob:/archive=none".parse()?)
    ///     .start()
    ///     .await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn perm(mut self, rule: PathPerm) -> Self {
        self.perms.push(rule);
        self
    }

    /// Shows `path` and everything below it as owned by this owner and
    /// group in listings (`ls -l` columns, `unix.owner`, `unix.group`);
    /// the longest matching path wins.
    pub fn ownership(mut self, path: &str, ownership: Ownership) -> Self {
        self.owners.push((path.to_string(), ownership));
        self
    }

    /// Replaces the built-in permission rules by your provider (the Go
    /// seed's `Perm`); it cannot be combined with [`perm`](Self::perm) or
    /// [`ownership`](Self::ownership).
    pub fn permissions(mut self, provider: impl Permissions) -> Self {
        self.permissions = Some(Arc::new(provider));
        self
    }

    /// Adds a command of your own: a verb, a SITE subcommand, or the
    /// replacement of a built-in verb (see [`CustomCommand`]). Two
    /// registrations of the same name, or a bad name, make
    /// [`start`](Self::start) fail with [`StartError::Config`].
    pub fn command(mut self, command: CustomCommand) -> Self {
        self.commands.push(command);
        self
    }

    /// Plays another server: its greeting, SYST, FEAT and HELP, the verbs
    /// it knows, its reply codes and texts, its listing style (see
    /// [`Personality`](crate::Personality)). Faults, quirks, TLS and the
    /// transcript work on top. CLI: `--personality NAME`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ftpfixture::{Personality, Server};
    ///
    /// for personality in Personality::ALL {
    ///     let server = Server::builder().personality(*personality).start().await?;
    ///     // ... run the client under test against server.addr() ...
    ///     server.shutdown().await;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn personality(mut self, personality: crate::Personality) -> Self {
        self.personality = personality;
        self
    }

    /// Sets one of the played server's own settings, named as that server
    /// names it: vsftpd's `utf8_filesystem`, `ssl_enable` and `hide_ids`,
    /// ProFTPD's `TLSEngine`, Pure-FTPd's `TLS` (the TLS ones follow
    /// [`tls`](Self::tls) by themselves). An option the personality does
    /// not have, or that contradicts another setting, fails the start
    /// with an error that names it. CLI: `--personality-option KEY=VALUE`.
    ///
    /// ```
    /// # async fn demo() -> Result<(), ftpfixture::StartError> {
    /// use ftpfixture::{Personality, Server};
    /// let server = Server::builder()
    ///     .personality(Personality::Vsftpd)
    ///     .personality_option("utf8_filesystem", "YES")
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn personality_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.personality_options.push((key.into(), value.into()));
        self
    }

    /// Builds each login's storage with your factory (the Go seed's
    /// `DriverFactory`) instead of sharing the server's; an account that
    /// carries a storage of its own keeps it. Seeded files go to the
    /// server's storage, which the factory may hand out or not.
    pub fn storage_factory(mut self, factory: impl StorageFactory) -> Self {
        self.storage_factory = Some(Arc::new(factory));
        self
    }

    /// Replaces the built-in user table with your own [`Authenticator`].
    /// It cannot be combined with [`user`](Self::user),
    /// [`account`](Self::account) or [`anonymous`](Self::anonymous), which
    /// fill the built-in table: [`start`](Self::start) says so with
    /// [`StartError::Config`].
    pub fn authenticator(mut self, auth: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(auth));
        self
    }

    /// Serves an existing directory (kept when the server stops) instead of
    /// a fresh temp dir.
    pub fn root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.root = Root::Dir(dir.into());
        self
    }

    /// With [`root`](Self::root): copy the directory aside at start, so
    /// that [`Server::reset`] can put it back as it was (default: a reset
    /// leaves your directory alone).
    pub fn restore_root(mut self, restore: bool) -> Self {
        self.restore_root = restore;
        self
    }

    /// Keeps files in memory ([`MemoryStorage`](crate::MemoryStorage)) instead of a temp dir.
    pub fn memory(mut self) -> Self {
        self.root = Root::Memory;
        self
    }

    /// Uses your own [`Storage`].
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.root = Root::Custom(Arc::new(storage));
        self
    }

    /// Creates a file (and its parent directories) before the server starts.
    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>) -> Self {
        self.seeds
            .push(Seed::File(path.to_string(), content.as_ref().to_vec()));
        self
    }

    /// Creates a directory (and its parents) before the server starts.
    pub fn dir(mut self, path: &str) -> Self {
        self.seeds.push(Seed::Dir(path.to_string()));
        self
    }

    /// Copies a local directory tree into the root before the server starts.
    pub fn fixture_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.seeds.push(Seed::Fixture(dir.into()));
        self
    }

    /// Passive data ports come from this range (default: ephemeral ports).
    pub fn passive_ports(mut self, range: RangeInclusive<u16>) -> Self {
        self.passive_ports = Some(range);
        self
    }

    /// The address announced in `227` replies (default: the address the
    /// client reached us on).
    pub fn public_ip(mut self, ip: IpAddr) -> Self {
        self.config.public_ip = Some(ip);
        self
    }

    /// The text of the `220` greeting.
    pub fn greeting(mut self, text: &str) -> Self {
        self.config.greeting = Some(text.to_string());
        self
    }

    /// Closes a control connection idle this long with `421` (default 300 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// How long a data connection may take to arrive (passive) or be made
    /// (active) before the command gets `425`, and how long an open one may
    /// go without progress (a client that stopped reading or sending but
    /// did not close) before the transfer ends with `426` (default 10 s).
    pub fn data_timeout(mut self, timeout: Duration) -> Self {
        self.config.data_timeout = timeout;
        self
    }

    /// Refuses connections beyond this many with `421` (default: no limit).
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.config.max_sessions = Some(max);
        self
    }

    /// Closes a connection with `421` at its `n`th failed login (default
    /// 3, like vsftpd's `max_login_fails`; 0: never).
    pub fn max_login_failures(mut self, n: u32) -> Self {
        self.config.max_login_failures = (n > 0).then_some(n);
        self
    }

    /// Waits this long before answering a failed login (default 0, so tests
    /// stay fast; vsftpd waits 1 s).
    pub fn login_failure_delay(mut self, delay: Duration) -> Self {
        self.config.login_failure_delay = delay;
        self
    }

    /// Refuses a client address's connections beyond this many at a time
    /// with `421` (vsftpd's `max_per_ip`; default: no limit).
    pub fn max_sessions_per_ip(mut self, max: usize) -> Self {
        self.config.max_sessions_per_ip = Some(max);
        self
    }

    /// The longest command line accepted (default 4096 bytes; longer ones
    /// get `500` and are discarded, never buffered).
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.config.max_line = bytes;
        self
    }

    /// How long running sessions get to finish when the server stops
    /// (default 1 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// Speaks FTPS: [`Tls::Explicit`] (`AUTH TLS`, RFC 4217) or
    /// [`Tls::Implicit`] (TLS from the first byte). Without
    /// [`certificate`](Self::certificate), a generated one is used; clients
    /// trust [`Server::certificate_pem`].
    ///
    /// ```
    /// # async fn demo() -> Result<(), ftpfixture::StartError> {
    /// use ftpfixture::{Server, Tls};
    /// let server = Server::builder().tls(Tls::Explicit).start().await?;
    /// let pem = server.certificate_pem().unwrap(); // give this to the client
    /// # Ok(()) }
    /// ```
    pub fn tls(mut self, mode: Tls) -> Self {
        self.tls.mode = mode;
        self
    }

    /// Writes the certificate clients must trust (PEM) to this file at
    /// start, and names it in [`Server::status`], for clients that take a
    /// CA file (`curl --cacert`, `ssl.create_default_context(cafile=..)`).
    pub fn certificate_out(mut self, path: impl Into<PathBuf>) -> Self {
        self.certificate_out = Some(path.into());
        self
    }

    /// The TLS mode set so far (what [`start`](Self::start) will use).
    pub fn tls_mode(&self) -> Tls {
        self.tls.mode
    }

    /// Uses your own certificate chain and key instead of the generated one.
    pub fn certificate(mut self, certificate: Certificate) -> Self {
        self.tls.certificate = Some(certificate);
        self
    }

    /// Requires TLS on both channels: [`require_tls_control`](Self::require_tls_control)
    /// and [`require_tls_data`](Self::require_tls_data).
    pub fn require_tls(self, required: bool) -> Self {
        self.require_tls_control(required)
            .require_tls_data(required)
    }

    /// `USER`/`PASS` before `AUTH TLS` get `530` (vsftpd's
    /// `force_local_logins_ssl`).
    pub fn require_tls_control(mut self, required: bool) -> Self {
        self.tls.require_control = required;
        self
    }

    /// Data commands under `PROT C` get `521`, and `PROT C` itself `534`
    /// (vsftpd's `force_local_data_ssl`).
    pub fn require_tls_data(mut self, required: bool) -> Self {
        self.tls.require_data = required;
        self
    }

    /// A protected data connection must resume the TLS session, or its
    /// command gets `522` (vsftpd's `require_ssl_reuse`).
    pub fn require_tls_resumption(mut self, required: bool) -> Self {
        self.tls.require_resumption = required;
        self
    }

    /// Allows `CCC` to drop TLS from the control channel (default: refused
    /// with `534`).
    pub fn allow_ccc(mut self, allowed: bool) -> Self {
        self.tls.allow_ccc = allowed;
        self
    }

    /// How long a TLS handshake may take (default 10 s); a client that
    /// never completes one is disconnected (control) or gets `425` (data).
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.tls.handshake_timeout = timeout;
        self
    }

    /// Adds a fault from the start (see [`Fault`]); more can be injected
    /// while the server runs with [`Server::inject`].
    ///
    /// ```
    /// # async fn demo() -> Result<(), ftpfixture::StartError> {
    /// use ftpfixture::{Fault, Server};
    /// let server = Server::builder()
    ///     .fault(Fault::on("STOR").reply(452, "Insufficient storage space"))
    ///     .fault("RETR#2 drop-data after=1024".parse().unwrap())
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Serves the HTTP control API on this address (port 0: a free port),
    /// for tests in other languages: faults, files, users, expectations,
    /// the transcript and reset over JSON ([`Server::control_url`] tells
    /// where). Bind it to a loopback address: anyone who reaches it controls
    /// the server (see [`control_token`](Self::control_token)).
    #[cfg(feature = "control")]
    pub fn control(mut self, addr: SocketAddr) -> Self {
        self.control = Some(addr);
        self
    }

    /// Every control API request must carry `Authorization: Bearer TOKEN`
    /// (else `401`).
    #[cfg(feature = "control")]
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.control_token = Some(token.into());
        self
    }

    /// Records the transcript (default on). Switch it off where even its
    /// small cost matters, as in benchmarks.
    pub fn record(mut self, on: bool) -> Self {
        self.record = on;
        self
    }

    /// Serves a recording made with [`record_upstream`](Self::record_upstream)
    /// (`ftpfixture record`): each client session follows a recorded one and
    /// gets its replies, listings and file bytes, with no upstream. A command
    /// the recording does not hold there gets the recording's miss reply
    /// (550 by default) naming what it expected, and fails
    /// [`Server::verify`](crate::Server::verify). Faults, expectations,
    /// the transcript and TLS work on top as on any server. A recording
    /// that does not parse fails the start with [`StartError::Recording`]
    /// naming the file and line.
    pub fn replay(mut self, dir: impl Into<PathBuf>) -> Self {
        self.replay = Some(dir.into());
        self
    }

    /// Makes this server a recording proxy: each client session opens a
    /// session to the upstream, every command and reply is relayed and
    /// written to the upstream's recording directory, data connections
    /// too (passive toward the upstream, whatever the client uses). The
    /// client side is this server's as usual (its port, TLS, control API,
    /// transcript). Replay the directory with [`replay`](Self::replay).
    pub fn record_upstream(mut self, upstream: crate::replay::Upstream) -> Self {
        self.upstream = Some(upstream);
        self
    }

    /// The most transcript events the server keeps (default 100,000, about
    /// 15 MiB; `0`: no limit). Past it, the events of the oldest sessions
    /// that have ended are dropped (an [`EventKind::Dropped`] event says
    /// how many), so a server that runs for a day stays small.
    /// [`Transcript::count`], [`Transcript::ended`], the waits and the
    /// expectations still count what was dropped, and
    /// [`transcript_file`](Self::transcript_file) still gets every event.
    ///
    /// [`EventKind::Dropped`]: crate::EventKind::Dropped
    /// [`Transcript::count`]: crate::Transcript::count
    /// [`Transcript::ended`]: crate::Transcript::ended
    pub fn max_transcript_events(mut self, events: usize) -> Self {
        self.max_events = (events > 0).then_some(events);
        self
    }

    /// Writes every transcript event to `path` as JSON Lines while the
    /// server runs (passwords masked), complete whatever
    /// [`max_transcript_events`](Self::max_transcript_events) keeps in
    /// memory: the file a long CI job keeps as its artifact. It is
    /// created (or truncated) at start; after [`Server::shutdown`] (or
    /// the drop) it holds every event, the shutdown's included.
    /// CLI: `--transcript PATH` (the default `jsonl` format).
    ///
    /// [`Server::shutdown`]: crate::Server::shutdown
    pub fn transcript_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.transcript_file = Some((path.into(), false));
        self
    }

    /// [`transcript_file`](Self::transcript_file) with passwords as they
    /// were sent. CLI: `--transcript PATH --transcript-secrets`.
    pub fn transcript_file_with_secrets(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.transcript_file = Some((path.into(), true));
        self
    }

    /// Starts the server on its own thread and runtime and returns once it
    /// accepts connections. Works from any async runtime.
    pub async fn start(self) -> Result<Server, StartError> {
        let (launch, ready) = self.launch()?;
        match ready.await {
            Ok(result) => result.map(|()| launch.into_server()),
            Err(_) => Err(StartError::Runtime(io::Error::other(
                "server thread ended early",
            ))),
        }
    }

    /// [`start`](Self::start) for blocking code (a plain `#[test]` with a
    /// blocking client). It works anywhere, inside an async runtime too,
    /// where it blocks only the calling thread.
    pub fn start_blocking(self) -> Result<Server, StartError> {
        let (launch, ready) = self.launch()?;
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            // tokio forbids blocking_recv on a runtime thread; a plain
            // thread may block.
            std::thread::scope(|s| {
                s.spawn(|| ready.blocking_recv())
                    .join()
                    .unwrap_or_else(|_| Ok(Err(StartError::Runtime(io::Error::other("panic")))))
            })
        } else {
            ready.blocking_recv()
        };
        match result {
            Ok(result) => result.map(|()| launch.into_server()),
            Err(_) => Err(StartError::Runtime(io::Error::other(
                "server thread ended early",
            ))),
        }
    }
}
