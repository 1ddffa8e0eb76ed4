//! `ServerBuilder`: the options, with defaults that suit a test.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::core::{Core, Restore};
use super::run::{Config, Shared};
use super::tree::Seed;
use super::Server;
use crate::auth::{Authenticator, SharedUsers, User, UserStorage, UserTable};
use crate::custom::{Commands, CustomCommand};
use crate::data::PassivePorts;
use crate::expect::ExpectationSet;
use crate::fault::{Fault, FaultSet};
use crate::perm::{Ownership, PathPerm, PathRules, Permissions};
use crate::storage::StorageFactory;
use crate::storage::{FsStorage, MemoryStorage, Storage, StorageError};
use crate::tls::{Certificate, Tls, TlsError, TlsSettings};
use crate::transcript::Recorder;

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

enum Root {
    Temp,
    Dir(PathBuf),
    Memory,
    Custom(Arc<dyn Storage>),
}

/// Who made the root, which decides how a reset restores it.
enum RootKind {
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
    ips: Vec<IpAddr>,
    /// Listeners the caller made (`listener`): served instead of binding.
    given: Vec<std::net::TcpListener>,
    port: u16,
    /// Accounts in the order added; a later one replaces an earlier one of
    /// the same name.
    users: Vec<User>,
    anonymous: bool,
    /// Every account read-only.
    read_only: bool,
    authenticator: Option<Arc<dyn Authenticator>>,
    root: Root,
    seeds: Vec<Seed>,
    passive_ports: Option<RangeInclusive<u16>>,
    record: bool,
    config: Config,
    tls: TlsOptions,
    faults: Vec<Fault>,
    restore_root: bool,
    certificate_out: Option<PathBuf>,
    /// Every account of the built-in table confined to its home.
    chroot: bool,
    perms: Vec<PathPerm>,
    owners: Vec<(String, Ownership)>,
    permissions: Option<Arc<dyn Permissions>>,
    commands: Vec<CustomCommand>,
    storage_factory: Option<Arc<dyn StorageFactory>>,
    personality: crate::Personality,
    #[cfg(feature = "control")]
    control: Option<SocketAddr>,
    #[cfg(feature = "control")]
    control_token: Option<String>,
}

/// The TLS options, kept together until `start` turns them into settings.
struct TlsOptions {
    mode: Tls,
    certificate: Option<Certificate>,
    require_control: bool,
    require_data: bool,
    require_resumption: bool,
    allow_ccc: bool,
    handshake_timeout: Duration,
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
            config: Config {
                greeting: "ftpfixture ready".to_string(),
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
    /// an all-users rule. CLI: `--perm [USER:]PATH=MODE`.
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

    /// Keeps files in memory ([`MemoryStorage`]) instead of a temp dir.
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
        self.config.greeting = text.to_string();
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

    fn launch(
        mut self,
    ) -> Result<
        (
            Launch,
            tokio::sync::oneshot::Receiver<Result<(), StartError>>,
        ),
        StartError,
    > {
        if let Some(r) = &self.passive_ports {
            if r.is_empty() || *r.start() == 0 {
                return Err(StartError::Config(format!(
                    "bad passive port range {}-{}",
                    r.start(),
                    r.end()
                )));
            }
        }
        let tls = tls_settings(self.tls)?;
        let listeners = if self.given.is_empty() {
            bind_all(&self.ips, self.port)?
        } else {
            for l in &self.given {
                let addr = l.local_addr().map_err(|e| {
                    StartError::Config(format!("a given listener has no address: {e}"))
                })?;
                l.set_nonblocking(true)
                    .map_err(|source| StartError::Bind { addr, source })?;
            }
            std::mem::take(&mut self.given)
        };
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();

        let root_kind = match &self.root {
            Root::Temp | Root::Memory => RootKind::Made,
            Root::Dir(_) => RootKind::Dir,
            Root::Custom(_) => RootKind::Custom,
        };
        let (temp, root_path, storage): (
            Option<tempfile::TempDir>,
            Option<PathBuf>,
            Arc<dyn Storage>,
        ) = match self.root {
            Root::Temp => {
                let dir = tempfile::Builder::new()
                    .prefix("ftpfixture-")
                    .tempdir()
                    .map_err(StartError::Root)?;
                let fs = FsStorage::new(dir.path()).map_err(StartError::Root)?;
                (Some(dir), Some(fs.root().to_path_buf()), Arc::new(fs))
            }
            Root::Dir(path) => {
                let fs = FsStorage::new(&path).map_err(StartError::Root)?;
                (None, Some(fs.root().to_path_buf()), Arc::new(fs))
            }
            Root::Memory => (None, None, Arc::new(MemoryStorage::new())),
            Root::Custom(s) => (None, None, s),
        };

        if self.authenticator.is_some() && (!self.users.is_empty() || self.anonymous) {
            return Err(StartError::Config(
                "an authenticator replaces the built-in user table: \
                 .user(), .account() and .anonymous() cannot be combined with it"
                    .into(),
            ));
        }
        let mut accounts = self.users;
        if accounts.is_empty() {
            accounts.push(User::new(DEFAULT_USER, DEFAULT_PASSWORD));
        }
        let mut users = UserTable::new();
        let mut seeds = self.seeds;
        if self.read_only {
            accounts = accounts.into_iter().map(User::read_only).collect();
        }
        let chroot = self.chroot;
        accounts = accounts
            .into_iter()
            .map(|u| u.with_chroot(chroot))
            .collect();
        // Homes in storages of the users' own, made once the runtime runs.
        let mut own_homes: Vec<(Arc<dyn Storage>, String)> = Vec::new();
        let mut temps: Vec<tempfile::TempDir> = Vec::new();
        for u in &mut accounts {
            if matches!(u.storage_kind(), UserStorage::OwnRoot) {
                let dir = tempfile::Builder::new()
                    .prefix(&format!("ftpfixture-{}-", sanitized(u.name())))
                    .tempdir()
                    .map_err(StartError::Root)?;
                let fs: Arc<dyn Storage> =
                    Arc::new(FsStorage::new(dir.path()).map_err(StartError::Root)?);
                temps.push(dir);
                *u = u.clone().with_made_storage(fs);
            }
        }
        for u in &accounts {
            users.insert(u.clone()).map_err(|e| {
                StartError::Config(format!("user {:?}: home {:?}: {e}", u.name(), u.home_dir()))
            })?;
            // Home directories must exist for a login to land somewhere.
            if let Ok(home) = u.home_path() {
                match u.storage_kind() {
                    _ if home.is_root() => {}
                    UserStorage::Given(storage) => {
                        own_homes.push((storage.clone(), home.to_string()));
                    }
                    _ => seeds.push(Seed::Dir(home.to_string())),
                }
            }
        }
        let commands = Commands::new(self.commands).map_err(StartError::Config)?;
        let permissions: Option<Arc<dyn Permissions>> = match self.permissions {
            Some(_) if !self.perms.is_empty() || !self.owners.is_empty() => {
                return Err(StartError::Config(
                    "a permission provider replaces the built-in rules: \
                     .perm() and .ownership() cannot be combined with .permissions()"
                        .into(),
                ))
            }
            Some(provider) => Some(provider),
            None if self.perms.is_empty() && self.owners.is_empty() => None,
            None => {
                let mut owners = Vec::with_capacity(self.owners.len());
                for (path, o) in self.owners {
                    let p = crate::storage::VirtualPath::new(&path)
                        .map_err(|e| StartError::Config(format!("ownership of {path:?}: {e}")))?;
                    owners.push((p, o));
                }
                Some(Arc::new(PathRules::new(self.perms, owners)))
            }
        };
        users.set_anonymous(self.anonymous);
        // With a custom authenticator the table is not consulted, so its
        // default account would be a lie.
        let credentials = accounts
            .first()
            .map(|u| (u.name().to_string(), u.password().to_string()))
            .filter(|_| self.authenticator.is_none());
        let table = self.authenticator.is_none().then(|| users.clone());
        let shared_users = table.map(|t| Arc::new(SharedUsers::new(t)));
        let auth: Arc<dyn Authenticator> = match (self.authenticator, &shared_users) {
            (Some(a), _) => a,
            (None, Some(u)) => u.clone(),
            (None, None) => Arc::new(users.clone()),
        };

        let restore = match (&root_kind, &root_path, self.restore_root) {
            (RootKind::Made, Some(root), _) => Restore::Local(Arc::new(
                super::tree::LocalTree::new(root.clone(), None, &seeds).map_err(|source| {
                    StartError::Fixture {
                        path: root.clone(),
                        source,
                    }
                })?,
            )),
            (RootKind::Made, None, _) => Restore::Reseed(seeds.clone()),
            (RootKind::Dir, Some(root), true) => {
                let copy = tempfile::Builder::new()
                    .prefix("ftpfixture-snapshot-")
                    .tempdir()
                    .map_err(StartError::Root)?;
                super::tree::copy_local(root, copy.path()).map_err(StartError::Root)?;
                // The snapshot is the tree before seeding; with the seeds on
                // top it is the state at start.
                Restore::Local(Arc::new(
                    super::tree::LocalTree::new(root.clone(), Some(copy), &seeds).map_err(
                        |source| StartError::Fixture {
                            path: root.clone(),
                            source,
                        },
                    )?,
                ))
            }
            (RootKind::Dir, _, _) => Restore::Keep(
                "a root directory of yours is restored only with restore_root (--restore-root)",
            ),
            (RootKind::Custom, _, _) => Restore::Keep("a custom storage is left alone"),
        };

        let certificate_file = match (&self.certificate_out, &tls) {
            (Some(path), Some(t)) => {
                std::fs::write(path, t.certificate.trust_pem()).map_err(|source| {
                    StartError::CertificateOut {
                        path: path.clone(),
                        source,
                    }
                })?;
                Some(path.clone())
            }
            (Some(_), None) => {
                return Err(StartError::Config(
                    "certificate_out needs TLS: add .tls(Tls::Explicit) or Tls::Implicit".into(),
                ))
            }
            (None, _) => None,
        };

        #[cfg(feature = "control")]
        let control = match self.control {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|source| StartError::Bind { addr, source })?;
                Some((listener, self.control_token))
            }
            None => None,
        };

        let faults = FaultSet::new(self.faults);
        let expectations = Arc::new(ExpectationSet::default());
        let drop_wait = self.config.shutdown_grace + super::run::WIND_DOWN + Duration::from_secs(1);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let recorder = Arc::new(Recorder::new(self.record));
        let shared = Arc::new(Shared {
            config: self.config,
            storage,
            auth,
            storage_factory: self.storage_factory,
            permissions,
            commands,
            profile: self.personality.profile(),
            passive: PassivePorts::new(self.passive_ports),
            recorder: recorder.clone(),
            tls: tls.clone(),
            faults,
            expectations,
            next_session: std::sync::atomic::AtomicU64::new(1),
            live: tokio::sync::watch::Sender::new(0),
            interrupt: tokio::sync::watch::Sender::new(0),
            per_ip: Default::default(),
            uploads: Default::default(),
            disk_pace: Default::default(),
            shutdown: stop_rx,
        });
        let core = Arc::new(Core {
            addrs,
            root: root_path,
            credentials,
            tls: tls.map(|t| (t.mode, t.certificate)),
            certificate_file,
            control_url: Default::default(),
            shared: shared.clone(),
            stop: stop_tx,
            runtime: Default::default(),
            users: shared_users,
            initial_users: users,
            restore,
        });
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let record = recorder.clone();
        let thread_core = core.clone();
        let thread = std::thread::Builder::new()
            .name("ftpfixture-server".into())
            .spawn(move || {
                let core = thread_core;
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    // File I/O runs on blocking threads; each one that
                    // allocates gets a malloc arena of its own, which keeps
                    // memory after a burst. Sixteen keep the disk busy.
                    .max_blocking_threads(16)
                    .thread_name("ftpfixture-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StartError::Runtime(e)));
                        return;
                    }
                };
                let _ = core.runtime.set(rt.handle().clone());
                rt.block_on(async move {
                    let listeners: io::Result<Vec<_>> = listeners
                        .into_iter()
                        .map(tokio::net::TcpListener::from_std)
                        .collect();
                    let listeners = match listeners {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(StartError::Runtime(e)));
                            return;
                        }
                    };
                    if let Err(e) = super::tree::seed(shared.storage.as_ref(), &seeds).await {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                    for (storage, home) in &own_homes {
                        let seed = [Seed::Dir(home.clone())];
                        if let Err(e) = super::tree::seed(storage.as_ref(), &seed).await {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                    if let Restore::Local(local) = &core.restore {
                        // What the tree looks like at start, for a reset.
                        if let Err(e) = local.record() {
                            let _ = ready_tx.send(Err(StartError::Root(e)));
                            return;
                        }
                    }
                    #[cfg(feature = "control")]
                    if let Some((listener, token)) = control {
                        match crate::control::spawn(listener, token, core.clone()) {
                            Ok(url) => {
                                let _ = core.control_url.set(url);
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(StartError::Runtime(e)));
                                return;
                            }
                        }
                    }
                    drop(core);
                    let _ = ready_tx.send(Ok(()));
                    super::run::run(listeners, shared).await;
                });
                // Whatever still runs after the grace period is dropped here.
                rt.shutdown_timeout(Duration::from_millis(100));
                // Dropped sessions recorded no end of their own; nothing
                // records after the runtime is gone, so this comes last.
                record.end_open_sessions("shutdown grace period over");
                let _ = done_tx.send(());
            })
            .map_err(StartError::Runtime)?;

        temps.extend(temp);
        Ok((
            Launch {
                core,
                temp: temps,
                drop_wait,
                done: done_rx,
                thread,
            },
            ready_rx,
        ))
    }
}

/// Everything a `Server` handle is made of, before the thread says ready.
struct Launch {
    core: Arc<Core>,
    /// The temp root and the users' own roots, removed with the server.
    temp: Vec<tempfile::TempDir>,
    drop_wait: Duration,
    done: std::sync::mpsc::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Launch {
    fn into_server(self) -> Server {
        Server::new(self.core, self.temp, self.drop_wait, self.done, self.thread)
    }
}
/// A user name as part of a temp dir's name.
fn sanitized(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(32)
        .collect()
}

fn tls_settings(options: TlsOptions) -> Result<Option<TlsSettings>, StartError> {
    if options.mode == Tls::None {
        if options.require_control || options.require_data || options.require_resumption {
            return Err(StartError::Config(
                "a TLS requirement is set but TLS is off: add .tls(Tls::Explicit)".into(),
            ));
        }
        return Ok(None);
    }
    let certificate = match options.certificate {
        Some(c) => c,
        None => Certificate::generated()?,
    };
    Ok(Some(TlsSettings {
        mode: options.mode,
        acceptors: certificate.acceptors()?,
        certificate,
        require_control: options.require_control,
        require_data: options.require_data,
        require_resumption: options.require_resumption,
        allow_ccc: options.allow_ccc,
        handshake_timeout: options.handshake_timeout,
    }))
}

/// A listening socket with a backlog for bursts: a load test's hundreds
/// of simultaneous connects would overflow the usual 128, and the kernel
/// would drop SYNs that the clients retry only seconds later.
fn listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // As std's TcpListener::bind: a restarted server can take its port
    // back from connections in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

fn bind_all(ips: &[IpAddr], port: u16) -> Result<Vec<std::net::TcpListener>, StartError> {
    // With an ephemeral port and several addresses, the first bind picks the
    // port and the others must get the same one; retry if it is taken there.
    for _ in 0..20 {
        let mut listeners = Vec::with_capacity(ips.len());
        let mut chosen = port;
        let mut retry = false;
        for ip in ips {
            let addr = SocketAddr::new(*ip, chosen);
            match listen(addr) {
                Ok(l) => {
                    l.set_nonblocking(true)
                        .map_err(|source| StartError::Bind { addr, source })?;
                    if chosen == 0 {
                        chosen = l
                            .local_addr()
                            .map_err(|source| StartError::Bind { addr, source })?
                            .port();
                    }
                    listeners.push(l);
                }
                Err(e)
                    if port == 0
                        && !listeners.is_empty()
                        && e.kind() == io::ErrorKind::AddrInUse =>
                {
                    retry = true;
                    break;
                }
                Err(source) => return Err(StartError::Bind { addr, source }),
            }
        }
        if !retry {
            return Ok(listeners);
        }
    }
    Err(StartError::Config(
        "could not find one free port on every address".into(),
    ))
}
