//! From a [`ServerBuilder`] to a running server, in named steps: the
//! listeners, the root, the accounts, the permissions, the reset plan, the
//! certificate file, the control API's listener, the state the sessions
//! share, and the server's own thread and runtime.
//!
//! Each step checks its own options and fails with a [`StartError`] that
//! names what is wrong; nothing is spawned until every check has passed.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::accounts::{self, AccountPolicy};
use super::builder::{Root, RootKind, ServerBuilder, StartError, TlsOptions};
use super::core::{Core, Restore};
use super::run::Shared;
use super::tree::{self, LocalTree, Seed};
use super::Server;
use crate::auth::{AccountStorage, Authenticator, SharedUsers, User, UserTable};
use crate::custom::Commands;
use crate::data::PassivePorts;
use crate::expect::ExpectationSet;
use crate::fault::FaultSet;
use crate::perm::{PathRules, Permissions};
use crate::storage::{FsStorage, MemoryStorage, Storage, StorageFactory};
use crate::tls::{Certificate, Tls, TlsSettings};
use crate::transcript::Recorder;

/// The answer the server's thread sends once it serves (or why it cannot).
pub(super) type Ready = tokio::sync::oneshot::Receiver<Result<(), StartError>>;

/// Everything a `Server` handle is made of, before the thread says ready.
pub(super) struct Launch {
    core: Arc<Core>,
    /// The temp root and the users' own roots, removed with the server.
    temp: Vec<tempfile::TempDir>,
    drop_wait: Duration,
    done: std::sync::mpsc::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Launch {
    pub(super) fn into_server(self) -> Server {
        Server::new(self.core, self.temp, self.drop_wait, self.done, self.thread)
    }
}

/// The root the server serves, as made.
struct MadeRoot {
    kind: RootKind,
    temp: Option<tempfile::TempDir>,
    path: Option<PathBuf>,
    storage: Arc<dyn Storage>,
}

/// The accounts, as the built-in table and the sessions will see them.
struct MadeAccounts {
    table: UserTable,
    /// The table as the sessions read it; `None` under a custom
    /// authenticator.
    shared: Option<Arc<SharedUsers>>,
    auth: Arc<dyn Authenticator>,
    factory: Arc<dyn StorageFactory>,
    /// The default account's name and password, for `Status`.
    credentials: Option<(String, String)>,
    /// Homes to make in storages of the users' own.
    own_homes: Vec<(Arc<dyn Storage>, String)>,
    /// The users' own roots.
    temps: Vec<tempfile::TempDir>,
}

impl ServerBuilder {
    /// Checks every option, makes what the server needs, and starts its
    /// thread; the receiver says when it serves.
    pub(super) fn launch(mut self) -> Result<(Launch, Ready), StartError> {
        check_passive_ports(&self)?;
        let tls = tls_settings(std::mem::take(&mut self.tls))?;
        let listeners = self.listeners()?;
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let root = make_root(std::mem::replace(&mut self.root, Root::Temp))?;
        let mut seeds = std::mem::take(&mut self.seeds);
        let accounts = self.accounts(&root, &mut seeds)?;
        let permissions = self.path_rules()?;
        let restore = plan_restore(&root, self.restore_root, &seeds)?;
        let certificate_file = write_certificate(self.certificate_out.as_ref(), tls.as_ref())?;
        #[cfg(feature = "control")]
        let control = self.control_listener()?;
        let commands =
            Commands::new(std::mem::take(&mut self.commands)).map_err(StartError::Config)?;

        let (replay, upstream) = self.scripted()?;
        let drop_wait = self.config.shutdown_grace + super::run::WIND_DOWN + Duration::from_secs(1);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let recorder = Arc::new(Recorder::new(self.record, self.max_events));
        if let Some((path, secrets)) = &self.transcript_file {
            std::fs::File::create(path)
                .and_then(|file| recorder.write_file(file, *secrets))
                .map_err(|e| {
                    StartError::Config(format!(
                        "cannot write the transcript file {}: {e}",
                        path.display()
                    ))
                })?;
        }
        let profile_settings =
            crate::personality::settle(self.personality, &self.personality_options, tls.is_some())
                .map_err(StartError::Config)?;
        let shared = Arc::new(Shared {
            config: self.config,
            storage: root.storage.clone(),
            auth: accounts.auth,
            storage_factory: accounts.factory,
            permissions,
            commands,
            profile: self.personality.profile(),
            profile_settings,
            replay,
            upstream,
            passive: PassivePorts::new(self.passive_ports),
            recorder: recorder.clone(),
            tls: tls.clone(),
            faults: FaultSet::new(self.faults),
            expectations: Arc::new(ExpectationSet::default()),
            counts: Default::default(),
            interrupt: tokio::sync::watch::Sender::new(0),
            uploads: Default::default(),
            disk_pace: Arc::new(crate::storage::DiskPace::new("uploads' writes")),
            read_pace: Arc::new(crate::storage::DiskPace::new("downloads' sendfile")),
            shutdown: stop_rx,
        });
        let core = Arc::new(Core {
            addrs,
            root: root.path,
            credentials: accounts.credentials,
            tls: tls.map(|t| (t.mode, t.certificate)),
            certificate_file,
            control_url: Default::default(),
            shared: shared.clone(),
            stop: stop_tx,
            runtime: Default::default(),
            users: accounts.shared,
            initial_users: accounts.table,
            policy: AccountPolicy {
                read_only: self.read_only,
                chroot: self.chroot,
            },
            own_roots: Default::default(),
            restore,
        });
        let serve = Serve {
            core: core.clone(),
            shared,
            listeners,
            seeds,
            own_homes: accounts.own_homes,
            #[cfg(feature = "control")]
            control,
        };
        let (ready, thread, done) = serve.spawn(recorder)?;
        let mut temp = accounts.temps;
        temp.extend(root.temp);
        Ok((
            Launch {
                core,
                temp,
                drop_wait,
                done,
                thread,
            },
            ready,
        ))
    }

    /// The recording to replay, read and checked; or the upstream to
    /// record, its directory made.
    #[allow(clippy::type_complexity)]
    fn scripted(
        &mut self,
    ) -> Result<
        (
            Option<Arc<crate::replay::matching::Replay>>,
            Option<Arc<crate::replay::upstream::RecordTo>>,
        ),
        StartError,
    > {
        match (self.replay.take(), self.upstream.take()) {
            (Some(_), Some(_)) => Err(StartError::Config(
                "a server replays a recording or records an upstream, not both".into(),
            )),
            (Some(dir), None) => {
                let recording = crate::replay::format::Recording::load(&dir)?;
                Ok((
                    Some(Arc::new(crate::replay::matching::Replay::new(recording))),
                    None,
                ))
            }
            (None, Some(up)) => {
                let to = crate::replay::upstream::RecordTo::new(up)
                    .map_err(|e| StartError::Config(format!("recording proxy: {e}")))?;
                Ok((None, Some(Arc::new(to))))
            }
            (None, None) => Ok((None, None)),
        }
    }

    /// The listeners the caller gave, or new ones on every address.
    fn listeners(&mut self) -> Result<Vec<std::net::TcpListener>, StartError> {
        if self.given.is_empty() {
            return bind_all(&self.ips, self.port);
        }
        for l in &self.given {
            let addr = l
                .local_addr()
                .map_err(|e| StartError::Config(format!("a given listener has no address: {e}")))?;
            l.set_nonblocking(true)
                .map_err(|source| StartError::Bind { addr, source })?;
        }
        Ok(std::mem::take(&mut self.given))
    }

    /// The built-in table (or the custom authenticator), the server-wide
    /// flags applied to every account, their own roots made, their homes
    /// added to `seeds`, and the one storage factory the sessions ask.
    fn accounts(
        &mut self,
        root: &MadeRoot,
        seeds: &mut Vec<Seed>,
    ) -> Result<MadeAccounts, StartError> {
        let custom_auth = self.authenticator.take();
        if custom_auth.is_some() && (!self.users.is_empty() || self.anonymous) {
            return Err(StartError::Config(
                "an authenticator replaces the built-in user table: \
                 .user(), .account() and .anonymous() cannot be combined with it"
                    .into(),
            ));
        }
        let mut users = std::mem::take(&mut self.users);
        if users.is_empty() {
            users.push(User::new(super::DEFAULT_USER, super::DEFAULT_PASSWORD));
        }
        if self.storage_factory.is_some() && users.iter().any(User::has_own_storage) {
            return Err(StartError::Config(
                "a storage factory decides every account's storage: \
                 .own_root() and User::storage() cannot be combined with it"
                    .into(),
            ));
        }
        let policy = AccountPolicy {
            read_only: self.read_only,
            chroot: self.chroot,
        };
        // With a custom authenticator the table is not consulted, so its
        // default account would be a lie.
        let credentials = users
            .first()
            .filter(|_| custom_auth.is_none())
            .map(|u| (u.name().to_string(), u.password().to_string()));
        let mut table = UserTable::new();
        let mut own_homes = Vec::new();
        let mut temps = Vec::new();
        for user in users {
            let made = accounts::prepare(user, policy).map_err(|e| match e {
                accounts::PrepareError::Home(message) => StartError::Config(message),
                accounts::PrepareError::OwnRoot(e) => StartError::Root(e),
            })?;
            temps.extend(made.temp);
            if let Some(home) = made.home {
                match made.storage {
                    Some(own) => own_homes.push((own, home)),
                    None => seeds.push(Seed::Dir(home)),
                }
            }
            let user = made.user;
            table.insert(user.clone()).map_err(|e| {
                StartError::Config(format!(
                    "user {:?}: home {:?}: {e}",
                    user.name(),
                    user.home_dir()
                ))
            })?;
        }
        table.set_anonymous(self.anonymous);
        let shared = custom_auth
            .is_none()
            .then(|| Arc::new(SharedUsers::new(table.clone())));
        let auth: Arc<dyn Authenticator> = match (custom_auth, &shared) {
            (Some(a), _) => a,
            (None, Some(u)) => u.clone(),
            (None, None) => Arc::new(table.clone()),
        };
        let factory: Arc<dyn StorageFactory> = match self.storage_factory.take() {
            Some(f) => f,
            None => Arc::new(AccountStorage {
                users: shared.clone(),
                server: root.storage.clone(),
            }),
        };
        Ok(MadeAccounts {
            table,
            shared,
            auth,
            factory,
            credentials,
            own_homes,
            temps,
        })
    }

    /// The built-in path rules, or the provider the test gave.
    fn path_rules(&mut self) -> Result<Option<Arc<dyn Permissions>>, StartError> {
        let perms = std::mem::take(&mut self.perms);
        let owners = std::mem::take(&mut self.owners);
        for rule in &perms {
            if let Some(given) = rule.outside_root() {
                return Err(StartError::Config(format!(
                    "permission rule {rule}: the path {given:?} leaves the root"
                )));
            }
        }
        match self.permissions.take() {
            Some(_) if !perms.is_empty() || !owners.is_empty() => Err(StartError::Config(
                "a permission provider replaces the built-in rules: \
                 .perm() and .ownership() cannot be combined with .permissions()"
                    .into(),
            )),
            Some(provider) => Ok(Some(provider)),
            None if perms.is_empty() && owners.is_empty() => Ok(None),
            None => {
                let mut checked = Vec::with_capacity(owners.len());
                for (path, o) in owners {
                    let p = crate::storage::VirtualPath::new(&path)
                        .map_err(|e| StartError::Config(format!("ownership of {path:?}: {e}")))?;
                    checked.push((p, o));
                }
                Ok(Some(Arc::new(PathRules::new(perms, checked))))
            }
        }
    }

    /// The control API's listener, bound now so that a port in use fails
    /// the start.
    #[cfg(feature = "control")]
    fn control_listener(
        &mut self,
    ) -> Result<Option<(std::net::TcpListener, Option<String>)>, StartError> {
        let Some(addr) = self.control else {
            return Ok(None);
        };
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| StartError::Bind { addr, source })?;
        Ok(Some((listener, self.control_token.take())))
    }
}

fn check_passive_ports(b: &ServerBuilder) -> Result<(), StartError> {
    match &b.passive_ports {
        Some(r) if r.is_empty() || *r.start() == 0 => Err(StartError::Config(format!(
            "bad passive port range {}-{}",
            r.start(),
            r.end()
        ))),
        _ => Ok(()),
    }
}

/// A temp directory, the caller's directory, memory, or the caller's
/// storage.
fn make_root(root: Root) -> Result<MadeRoot, StartError> {
    Ok(match root {
        Root::Temp => {
            let dir = tempfile::Builder::new()
                .prefix("ftpfixture-")
                .tempdir()
                .map_err(StartError::Root)?;
            let fs = FsStorage::new(dir.path()).map_err(StartError::Root)?;
            MadeRoot {
                kind: RootKind::Made,
                path: Some(fs.root().to_path_buf()),
                temp: Some(dir),
                storage: Arc::new(fs),
            }
        }
        Root::Dir(path) => {
            let fs = FsStorage::new(&path).map_err(StartError::Root)?;
            MadeRoot {
                kind: RootKind::Dir,
                path: Some(fs.root().to_path_buf()),
                temp: None,
                storage: Arc::new(fs),
            }
        }
        Root::Memory => MadeRoot {
            kind: RootKind::Made,
            path: None,
            temp: None,
            storage: Arc::new(MemoryStorage::new()),
        },
        Root::Custom(storage) => MadeRoot {
            kind: RootKind::Custom,
            path: None,
            temp: None,
            storage,
        },
    })
}

/// How a reset will put the tree back as it is at start.
fn plan_restore(
    root: &MadeRoot,
    restore_root: bool,
    seeds: &[Seed],
) -> Result<Restore, StartError> {
    let local = |path: &PathBuf, snapshot| {
        LocalTree::new(path.clone(), snapshot, seeds)
            .map(|t| Restore::Local(Arc::new(t)))
            .map_err(|source| StartError::Fixture {
                path: path.clone(),
                source,
            })
    };
    match (&root.kind, &root.path, restore_root) {
        (RootKind::Made, Some(path), _) => local(path, None),
        (RootKind::Made, None, _) => Ok(Restore::Reseed(seeds.to_vec())),
        (RootKind::Dir, Some(path), true) => {
            let copy = tempfile::Builder::new()
                .prefix("ftpfixture-snapshot-")
                .tempdir()
                .map_err(StartError::Root)?;
            tree::copy_local(path, copy.path()).map_err(StartError::Root)?;
            // The snapshot is the tree before seeding; with the seeds on
            // top it is the state at start.
            local(path, Some(copy))
        }
        (RootKind::Dir, _, _) => Ok(Restore::Keep(
            "a root directory of yours is restored only with restore_root (--restore-root)",
        )),
        (RootKind::Custom, _, _) => Ok(Restore::Keep("a custom storage is left alone")),
    }
}

/// Writes the certificate a client should trust, where the test asked.
fn write_certificate(
    out: Option<&PathBuf>,
    tls: Option<&TlsSettings>,
) -> Result<Option<PathBuf>, StartError> {
    match (out, tls) {
        (Some(path), Some(t)) => {
            std::fs::write(path, t.certificate.trust_pem()).map_err(|source| {
                StartError::CertificateOut {
                    path: path.clone(),
                    source,
                }
            })?;
            Ok(Some(path.clone()))
        }
        (Some(_), None) => Err(StartError::Config(
            "certificate_out needs TLS: add .tls(Tls::Explicit) or Tls::Implicit".into(),
        )),
        (None, _) => Ok(None),
    }
}

/// What the server's thread needs to serve.
struct Serve {
    core: Arc<Core>,
    shared: Arc<Shared>,
    listeners: Vec<std::net::TcpListener>,
    seeds: Vec<Seed>,
    own_homes: Vec<(Arc<dyn Storage>, String)>,
    #[cfg(feature = "control")]
    control: Option<(std::net::TcpListener, Option<String>)>,
}

impl Serve {
    /// Starts the server's thread and runtime. The receiver says when it
    /// serves; the sender in the channel fires when the thread is done.
    fn spawn(
        self,
        recorder: Arc<Recorder>,
    ) -> Result<
        (
            Ready,
            std::thread::JoinHandle<()>,
            std::sync::mpsc::Receiver<()>,
        ),
        StartError,
    > {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("ftpfixture-server".into())
            .spawn(move || {
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
                let _ = self.core.runtime.set(rt.handle().clone());
                rt.block_on(async move {
                    let shared = self.shared.clone();
                    match self.prepare().await {
                        Ok(listeners) => {
                            let _ = ready_tx.send(Ok(()));
                            super::run::run(listeners, shared).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                // Whatever still runs after the grace period is dropped here.
                rt.shutdown_timeout(Duration::from_millis(100));
                // Dropped sessions recorded no end of their own; nothing
                // records after the runtime is gone, so this comes last.
                recorder.end_open_sessions("shutdown grace period over");
                let _ = done_tx.send(());
            })
            .map_err(StartError::Runtime)?;
        Ok((ready_rx, thread, done_rx))
    }

    /// On the server's runtime, before it serves: the listeners, the
    /// seeded tree and homes, the record of the tree for a reset, and the
    /// control API.
    async fn prepare(self) -> Result<Vec<tokio::net::TcpListener>, StartError> {
        let listeners = self
            .listeners
            .into_iter()
            .map(tokio::net::TcpListener::from_std)
            .collect::<io::Result<Vec<_>>>()
            .map_err(StartError::Runtime)?;
        tree::seed(self.shared.storage.as_ref(), &self.seeds).await?;
        for (storage, home) in &self.own_homes {
            tree::seed(storage.as_ref(), &[Seed::Dir(home.clone())]).await?;
        }
        if let Restore::Local(local) = &self.core.restore {
            // What the tree looks like at start, for a reset.
            local.record().map_err(StartError::Root)?;
        }
        #[cfg(feature = "control")]
        if let Some((listener, token)) = self.control {
            let url = crate::control::spawn(listener, token, self.core.clone())
                .map_err(StartError::Runtime)?;
            let _ = self.core.control_url.set(url);
        }
        Ok(listeners)
    }
}

/// The TLS settings the sessions use, with the certificate made or loaded.
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
