//! One control connection: its state, the command loop, and reply writing.
//!
//! A session reads a line, parses it into a [`Command`], checks that it is
//! allowed now, and runs its handler (in `command/`, one module per family).
//! Transfers run in a task of their own so that ABOR and STAT are still
//! read while bytes flow; every reply goes out through [`Session::send`].

mod control;
mod custom;
mod reply;
mod transfer;
mod uploads;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tracing::Instrument;

pub(crate) use control::Stream;
use control::{Control, Incoming};
pub(crate) use reply::Reply;
pub(crate) use transfer::{Job, Source};
pub(crate) use uploads::Uploads;

use crate::auth::Account;
use crate::command::{self, Command, Protection, TransferType};
use crate::data::copy::Outcome;
use crate::data::DataSetup;
use crate::fault::{Action, Fired, Quirk};
use crate::listing::Facts;
use crate::perm::Access;
use crate::server::Shared;
use crate::session_info::SessionInfo;
use crate::storage::{Metadata, Storage, StorageError, VirtualPath};
use crate::transcript::{ClosedBy, Direction, EventKind, SessionLog};

/// The result of a simple command: the reply for success or for failure.
/// Handlers use `?` on `Err(Reply)` to bail out with the failure reply.
pub(crate) type Answer = Result<Reply, Reply>;

/// Where the session is in the USER/PASS exchange.
#[derive(Debug, Default)]
pub(crate) enum Login {
    #[default]
    None,
    NeedPassword(String),
    Done(Arc<Account>),
}

/// A transfer in flight.
pub(crate) struct Running {
    pub handle: JoinHandle<Outcome>,
    pub progress: Arc<AtomicU64>,
    /// With a data fault that lies about what it sent: the bytes that
    /// really crossed the wire, for the transcript.
    pub on_wire: Option<Arc<AtomicU64>>,
    /// The text of the 226 reply when it succeeds.
    pub success: String,
    pub direction: Direction,
    /// Asks the copy loop to stop in good order (see `copy::Stop`).
    pub stop: tokio::sync::watch::Sender<bool>,
    /// The command that started it, for its final reply's wording.
    pub verb: String,
    pub arg: String,
}

pub(crate) struct Session {
    pub log: SessionLog,
    pub shared: Arc<Shared>,
    pub control: Control,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub login: Login,
    pub cwd: VirtualPath,
    pub transfer_type: TransferType,
    pub rest: Option<u64>,
    pub rename_from: Option<VirtualPath>,
    pub data: DataSetup,
    pub epsv_all: bool,
    pub facts: Facts,
    /// Boxed: only a session with a transfer has one.
    pub running: Option<Box<Running>>,
    pub host: Option<String>,
    /// PBSZ has been sent since the last AUTH.
    pub pbsz: bool,
    /// The PROT level for data connections.
    pub protection: Protection,
    /// What the faults that fired for the current command change.
    pub fired: Fired,
    /// Set by QUIT (and fatal conditions): the loop ends after this reply,
    /// closed by the server for the reason given.
    pub closing: Option<&'static str>,
    /// Failed logins so far on this connection.
    pub login_failures: u32,
    /// What this session's commands work on: the server's storage, or
    /// after login the account's own; for a chrooted account, its view
    /// from the home.
    pub storage: Arc<dyn Storage>,
    /// The storage before the chroot view, by address: uploads of two
    /// sessions to the same file are told apart by it and the tree path.
    pub storage_id: usize,
    /// The home of a chrooted account: client paths lie below it.
    pub chroot: Option<VirtualPath>,
    /// The verb and argument of the command being answered, for a
    /// personality's reply texts.
    pub verb: String,
    pub arg: String,
    /// Lines of the last listing sent (a personality's `N matches`).
    pub listed: usize,
    /// Bytes of files uploaded and downloaded in this session.
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// The reply being sent comes from a fault: no personality rewrites it.
    pub from_fault: bool,
    /// IIS's `SITE DIRSTYLE` switched listings to Unix style.
    pub unix_dirstyle: bool,
}

/// What a command needs to be allowed to do at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// CWD: allowed unless the path is hidden.
    Enter,
    /// List, download, SIZE, MDTM.
    Read,
    /// Delete, rename, make or remove a directory, set times and modes.
    Write,
    /// STOR, APPE, STOU: refused with 553 (as vsftpd), not 550.
    Upload,
}

/// The address of a storage, to tell storages apart.
pub(crate) fn storage_id_of(storage: &Arc<dyn Storage>) -> usize {
    Arc::as_ptr(storage) as *const () as usize
}

/// What ends a session from outside.
enum Interrupt {
    Shutdown,
    Reset,
}

enum Event {
    Input(Incoming),
    Finished(Result<Outcome, tokio::task::JoinError>),
    Idle,
    Shutdown,
    /// The server stops while a transfer runs.
    ShutdownInTransfer,
    Reset,
}

/// `idle` from now, or a far future where that cannot be represented (an
/// idle timeout of "never").
fn deadline_after(idle: std::time::Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(idle)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(86_400 * 365 * 30))
}

impl Session {
    /// The future that serves one control connection until it closes;
    /// `guard` (the session's place in the live count) is dropped last.
    ///
    /// Not an `async fn`: the session is built here, so the task's future
    /// holds it once, not beside the arguments it was built from (a few
    /// hundred bytes per idle session).
    pub(crate) fn run(
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        shared: Arc<Shared>,
        refusal: Option<crate::server::run::Refusal>,
        guard: crate::server::run::LiveGuard,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let local = local.unwrap_or_else(|| stream.local_addr().unwrap_or(peer));
        let span = tracing::info_span!("session", id, %peer, user = tracing::field::Empty);
        let max_line = shared.config.max_line;
        let log = SessionLog {
            id,
            recorder: shared.recorder.clone(),
        };
        log.record(EventKind::Connected { peer, local });
        let shared_storage = shared.storage.clone();
        let mut session = Session {
            log,
            shared,
            control: Control::tcp(stream, max_line),
            peer,
            local,
            login: Login::None,
            cwd: VirtualPath::root(),
            transfer_type: TransferType::Binary,
            rest: None,
            rename_from: None,
            data: DataSetup::None,
            epsv_all: false,
            facts: Facts::default(),
            running: None,
            host: None,
            pbsz: false,
            protection: Protection::Clear,
            fired: Fired::default(),
            closing: None,
            login_failures: 0,
            storage_id: storage_id_of(&shared_storage),
            storage: shared_storage,
            chroot: None,
            verb: String::new(),
            arg: String::new(),
            listed: 0,
            bytes_up: 0,
            bytes_down: 0,
            from_fault: false,
            unix_dirstyle: false,
        };
        async move {
            tracing::info!("connected");
            // Implicit FTPS: TLS from the first byte, before the greeting;
            // data connections are always protected.
            let implicit = session
                .shared
                .tls
                .clone()
                .filter(|t| t.mode == crate::tls::Tls::Implicit);
            let handshake_ok = match &implicit {
                Some(tls) => {
                    session.protection = Protection::Private;
                    session.pbsz = true;
                    Box::pin(session.upgrade_control(tls)).await
                }
                None => true,
            };
            let result = if !handshake_ok {
                Ok((ClosedBy::Server, "TLS handshake failed"))
            } else if let Some(refusal) = refusal {
                use crate::server::run::Refusal;
                let (text, why) = match refusal {
                    Refusal::TooMany => {
                        ("Too many connections, try again later", "too many sessions")
                    }
                    Refusal::TooManyFromAddress => (
                        "Too many connections from your address, try again later",
                        "too many sessions from this address",
                    ),
                };
                tracing::warn!("refused: {why}");
                match session.reply(421, text).await {
                    Ok(()) => Ok((ClosedBy::Server, why)),
                    Err(e) => Err(e),
                }
            } else {
                session.greet().await
            };
            let (by, reason) = match result {
                Ok(end) => end,
                Err(e) => {
                    tracing::info!(error = %e, "control connection failed");
                    (ClosedBy::Client, "connection error")
                }
            };
            // A transfer still running has its end recorded before the
            // session's: an upload keeps every byte it gets.
            Box::pin(session.end_transfer_with_session(by, reason)).await;
            session.control.close().await;
            session.log.record(EventKind::Disconnected {
                by,
                reason: reason.to_string(),
            });
            tracing::info!("disconnected");
            drop(guard);
        }
        .instrument(span)
    }

    /// The command loop; returns who ended the session and why.
    async fn serve(&mut self) -> io::Result<(ClosedBy, &'static str)> {
        let stop = self.shared.shutdown.clone();
        let mut interrupt = self.shared.interrupt.subscribe();
        let idle = self.shared.config.idle_timeout;
        // One future for the whole session, not one per command: it stays
        // registered with the one channel that a reset and the stop both
        // bump. The stop flips `shutdown` before it bumps, so a stop that
        // came before this session subscribed is seen here too.
        let interrupted = async move {
            if !*stop.borrow() {
                // Cannot fail: the session holds `shared`, and with it the
                // sender. Every stop goes through `Core::request_stop`.
                let _ = interrupt.changed().await;
            }
            if *stop.borrow() {
                Interrupt::Shutdown
            } else {
                Interrupt::Reset
            }
        };
        tokio::pin!(interrupted);
        // One idle timer for the whole session, moved on lazily: waiting
        // for a command notes when it began, and only when the timer fires
        // is it checked against that and set again. A timer per command
        // would be registered with the runtime and removed again each time.
        let idle_timer = tokio::time::sleep(idle);
        tokio::pin!(idle_timer);
        loop {
            let event = match self.running.as_mut() {
                // While a transfer runs, the control channel stays readable
                // (ABOR, STAT) and there is no idle timeout; a shutdown waits
                // for the transfer within the server's grace period. A reset
                // does not wait: it ends the transfer and the session.
                Some(running) => tokio::select! {
                    biased;
                    outcome = &mut running.handle => Event::Finished(outcome),
                    why = &mut interrupted => match why {
                        Interrupt::Reset => Event::Reset,
                        Interrupt::Shutdown => Event::ShutdownInTransfer,
                    },
                    incoming = self.control.next() => Event::Input(incoming?),
                },
                None => {
                    let due = deadline_after(idle);
                    loop {
                        tokio::select! {
                            // Cancel-safe: a line half read stays buffered.
                            incoming = self.control.next() => break Event::Input(incoming?),
                            () = &mut idle_timer => {
                                if tokio::time::Instant::now() >= due {
                                    break Event::Idle;
                                }
                                idle_timer.as_mut().reset(due);
                            }
                            why = &mut interrupted => break match why {
                                Interrupt::Reset => Event::Reset,
                                Interrupt::Shutdown => Event::Shutdown,
                            },
                        }
                    }
                }
            };
            match event {
                Event::Finished(outcome) => {
                    // report() takes `running` for its success text.
                    Box::pin(self.report(outcome)).await?;
                }
                Event::Input(Incoming::Closed) => {
                    tracing::info!("client closed the connection");
                    return Ok((ClosedBy::Client, "connection closed"));
                }
                Event::Input(Incoming::TooLong) => {
                    self.forget_command_faults();
                    tracing::warn!("command line too long");
                    self.log.record(EventKind::BadInput {
                        reason: "line too long".into(),
                    });
                    self.reply(500, "Command line too long").await?;
                }
                Event::Input(Incoming::NotUtf8(line)) => {
                    self.forget_command_faults();
                    tracing::warn!(line = %line, "command is not valid UTF-8");
                    self.log.record(EventKind::BadInput {
                        reason: format!("not UTF-8: {line}"),
                    });
                    self.reply(501, "Command is not valid UTF-8").await?;
                }
                // Boxed: a command's future lives only while it runs, and
                // an idle session holds just this loop. The largest
                // commands box their own futures in `dispatch`, so this box
                // is small enough for the allocator's per-thread cache.
                Event::Input(Incoming::Line { line, wire }) => {
                    Box::pin(self.on_line(line, wire)).await?
                }
                Event::Idle => {
                    self.forget_command_faults();
                    tracing::info!("idle timeout");
                    self.reply(421, "Idle timeout, closing control connection")
                        .await?;
                    return Ok((ClosedBy::Server, "idle timeout"));
                }
                Event::Shutdown => {
                    self.forget_command_faults();
                    self.reply(421, "Server shutting down").await?;
                    return Ok((ClosedBy::Server, "shutdown"));
                }
                Event::ShutdownInTransfer => {
                    Box::pin(self.finish_within_grace()).await?;
                    self.fired = Fired::default();
                    self.reply(421, "Server shutting down").await?;
                    return Ok((ClosedBy::Server, "shutdown"));
                }
                Event::Reset => {
                    if self.running.is_some() {
                        Box::pin(self.stop_transfer(Some("reset"))).await;
                        self.reply(426, "Connection closed; transfer aborted")
                            .await?;
                    }
                    self.fired = Fired::default();
                    self.reply(421, "Server reset, closing control connection")
                        .await?;
                    return Ok((ClosedBy::Server, "reset"));
                }
            }
            if let Some(reason) = self.closing {
                return Ok((ClosedBy::Server, reason));
            }
        }
    }

    /// Replies that answer no command (bad input, idle, shutdown) must not
    /// inherit the delay, split or quirks of the last command's faults.
    /// While a transfer runs they stay: its final reply is still to come.
    fn forget_command_faults(&mut self) {
        if self.running.is_none() {
            self.fired = Fired::default();
        }
    }

    /// The greeting (or what a `CONNECT` fault puts in its place), then the
    /// command loop.
    async fn greet(&mut self) -> io::Result<(ClosedBy, &'static str)> {
        self.fired = self.fire_faults(crate::fault::CONNECT, None);
        match self.fired.instead.take() {
            Some(instead) => {
                let refusal = matches!(&instead, Action::Reply { code, .. } if *code >= 400);
                Box::pin(self.fault_instead(instead)).await?;
                if refusal && self.closing.is_none() {
                    self.closing = Some("fault: greeting refused");
                }
            }
            None => match self.shared.profile {
                Some(profile) => {
                    let greeting = profile.greeting(&self.local.ip().to_string());
                    self.send(greeting).await?;
                }
                None => {
                    let greeting = self.shared.config.greeting.clone();
                    self.reply(220, greeting).await?;
                }
            },
        }
        if let Some(reason) = self.closing {
            return Ok((ClosedBy::Server, reason));
        }
        self.serve().await
    }

    /// Asks the fault set what fires for this command, and records it.
    fn fire_faults(&mut self, verb: &str, arg: Option<&str>) -> Fired {
        let user = match &self.login {
            Login::Done(a) => Some(a.name()),
            Login::NeedPassword(name) => Some(name.as_str()),
            Login::None if verb == "USER" => arg,
            Login::None => None,
        };
        let cx = crate::fault::Context {
            verb,
            arg,
            session: self.log.id,
            user,
            logged_in: self.logged_in(),
        };
        // Expectations count the command as it arrives, at the same point
        // and with the same matcher as faults.
        self.shared.expectations.observe(&cx);
        let fired = self.shared.faults.fire(&cx);
        for rule in &fired.rules {
            tracing::info!(%rule, "fault fired");
            self.log.record(EventKind::Fault { rule: rule.clone() });
        }
        fired
    }

    async fn on_line(&mut self, line: String, wire: Option<String>) -> io::Result<()> {
        self.log.record(EventKind::Command {
            line: line.clone(),
            wire,
        });
        let (verb, arg) = command::split(&line);
        if verb == "PASS" {
            tracing::debug!(command = "PASS ******");
        } else {
            tracing::debug!(command = %line);
        }
        if !self.take_turn(&verb, arg).await? {
            return Ok(());
        }
        if self.shared.profile.is_some() {
            self.verb.clear();
            self.verb.push_str(&verb);
            self.arg = arg.unwrap_or_default().to_string();
        }
        if let Some(instead) = self.fired.instead.take() {
            return Box::pin(self.fault_instead(instead)).await;
        }
        if !self.shared.commands.is_empty() {
            if let Some((custom, arg)) = self.shared.commands.find(&verb, arg) {
                let arg = arg.map(str::to_string);
                return Box::pin(self.run_custom(custom, arg)).await;
            }
        }
        if let Some(profile) = self.shared.profile {
            if !profile.knows(&verb) {
                tracing::info!(verb = %verb, "not a command of this personality");
                return self.send(profile.unknown(&verb)).await;
            }
        }
        match Command::parse(&line) {
            Ok(cmd) => self.dispatch(cmd).await,
            Err(command::ParseError::Unknown) if self.shared.profile.is_some() => {
                let unknown = self.shared.profile.map(|p| p.unknown(&verb));
                self.send(unknown.unwrap_or_else(|| Reply::new(500, "Unknown command")))
                    .await
            }
            Err(e) => {
                tracing::info!(verb = %verb, error = %e, "refused command");
                self.reply(e.code(), e.to_string()).await
            }
        }
    }

    /// Fires the faults for a command and, while a transfer runs, answers
    /// ABOR and STAT at once and makes anything else wait for its end.
    /// `false`: the command has had its answer here. A function of its
    /// own, so that the faults (large) are not kept in `on_line`'s state
    /// beside the command's future.
    async fn take_turn(&mut self, verb: &str, arg: Option<&str>) -> io::Result<bool> {
        let fired = self.fire_faults(verb, arg);
        if self.running.is_some() {
            match verb {
                "ABOR" => {
                    self.abort().await?;
                    return Ok(false);
                }
                "STAT" if arg.is_none() => {
                    self.transfer_status().await?;
                    return Ok(false);
                }
                _ if fired.has(Quirk::BusyData) => {
                    self.reply(425, "Data connection already open; transfer in progress")
                        .await?;
                    return Ok(false);
                }
                // Anything else waits for the transfer, as on a server that
                // handles one command at a time.
                _ => self.wait_for_transfer().await?,
            }
        }
        self.fired = fired;
        Ok(true)
    }

    async fn dispatch(&mut self, cmd: Command) -> io::Result<()> {
        if !self.logged_in() && !cmd.allowed_before_login() {
            return self.reply(530, "Please login with USER and PASS").await;
        }
        // RNTO must come right after RNFR: any other command forgets it.
        let rename_from = self.rename_from.take();
        let answer = match cmd {
            Command::User(name) => match self.login_policy() {
                Ok(()) => self.user(name).await,
                Err(refused) => Err(refused),
            },
            Command::Pass(password) => match self.login_policy() {
                Ok(()) => self.pass(password).await,
                Err(refused) => Err(refused),
            },
            Command::Acct => Ok(Reply::new(202, "ACCT not needed")),
            Command::Rein => Ok(self.rein()),
            Command::Quit => {
                self.closing = Some("QUIT");
                Ok(Reply::new(221, "Goodbye"))
            }
            Command::Host(host) => self.host(host),
            Command::Syst => Ok(Reply::new(
                215,
                self.shared.profile.map_or("UNIX Type: L8", |p| p.syst),
            )),
            Command::Feat => Ok(self.feat()),
            Command::Opts(opts) => self.opts(&opts),
            Command::Help(topic) => self.help(topic.as_deref()),
            Command::Stat(None) => Ok(self.status()),
            Command::Stat(Some(path)) => self.stat_path(&path).await,
            Command::Noop => Ok(Reply::new(200, "NOOP ok")),
            Command::Pwd => Ok(self.pwd()),
            Command::Cwd(path) => self.cwd(&path).await,
            Command::Cdup => self.cwd("..").await,
            Command::Mkd(path) => self.mkd(&path).await,
            Command::Rmd(path) => self.rmd(&path).await,
            Command::Dele(path) => self.dele(&path).await,
            Command::Rnfr(path) => self.rnfr(&path).await,
            Command::Rnto(path) => self.rnto(rename_from, &path).await,
            Command::Size(path) => self.size(&path).await,
            Command::Mdtm(path) => self.mdtm(&path).await,
            Command::Mfmt { time, path } => self.mfmt(&time, &path).await,
            Command::Site(args) => self.site(&args).await,
            Command::Mlst(path) => self.mlst(path.as_deref()).await,
            Command::Type(t) => Ok(self.set_type(t)),
            Command::Mode => Ok(Reply::new(200, "Mode set to S")),
            Command::Stru => Ok(Reply::new(200, "Structure set to F")),
            Command::Allo => Ok(Reply::new(202, "ALLO not needed")),
            Command::Rest(offset) => {
                self.rest = Some(offset);
                Ok(Reply::new(
                    350,
                    format!("Restarting at {offset}. Send STOR or RETR"),
                ))
            }
            Command::Pasv => self.pasv(),
            Command::Epsv(arg) => self.epsv(arg),
            Command::Port(addr) => self.port(addr, "PORT"),
            Command::Eprt(addr) => self.port(addr, "EPRT"),
            // Boxed, here and below: the largest futures (a TLS
            // handshake's, a transfer's, a listing's) get an allocation of
            // their own, so the common commands' box stays small.
            Command::Auth(mechanism) => {
                if !Box::pin(self.auth(&mechanism)).await? {
                    self.closing = Some("TLS handshake failed");
                }
                return Ok(());
            }
            Command::Pbsz(size) => self.pbsz(&size),
            Command::Prot(level) => self.prot(&level),
            Command::Ccc => {
                if !Box::pin(self.ccc()).await? {
                    self.closing = Some("CCC failed");
                }
                return Ok(());
            }
            Command::Abor => return self.abort().await,
            Command::Retr(path) => return Box::pin(self.retr(&path)).await,
            Command::Stor(path) => {
                return Box::pin(self.stor(&path, crate::storage::WriteMode::Truncate)).await
            }
            Command::Appe(path) => {
                return Box::pin(self.stor(&path, crate::storage::WriteMode::Append)).await
            }
            Command::Stou(path) => return Box::pin(self.stou(path.as_deref())).await,
            Command::List(arg) => {
                return Box::pin(self.list(arg.as_deref(), command::ListFormat::Long)).await
            }
            Command::Nlst(arg) => {
                return Box::pin(self.list(arg.as_deref(), command::ListFormat::Names)).await
            }
            Command::Mlsd(arg) => {
                return Box::pin(self.list(arg.as_deref(), command::ListFormat::Machine)).await
            }
        };
        match answer {
            Ok(reply) | Err(reply) => self.send(reply).await,
        }
    }

    /// Runs a fault that replaces the command.
    async fn fault_instead(&mut self, action: Action) -> io::Result<()> {
        self.from_fault = true;
        let result = self.fault_instead_inner(action).await;
        self.from_fault = false;
        result
    }

    async fn fault_instead_inner(&mut self, action: Action) -> io::Result<()> {
        match action {
            Action::Reply { code, lines } => self.send(Reply::from_lines(code, lines)).await,
            Action::Close => {
                self.closing = Some("fault: close");
                Ok(())
            }
            Action::Shutdown => {
                self.reply(421, "Service not available, closing control connection")
                    .await?;
                self.closing = Some("fault: 421");
                Ok(())
            }
            Action::Stall => {
                // Read nothing more and answer nothing, until the server
                // stops or the idle timeout ends the session.
                let mut stop = self.shared.shutdown.clone();
                let idle = self.shared.config.idle_timeout;
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => {}
                    _ = tokio::time::sleep(idle) => {}
                }
                self.closing = Some("fault: stall");
                Ok(())
            }
            // Only the variants above are collected as `instead`.
            _ => Ok(()),
        }
    }

    /// Sends one reply: the one place where replies are written.
    pub(crate) async fn send(&mut self, reply: Reply) -> io::Result<()> {
        let mut reply = reply;
        if let (Some(profile), false) = (self.shared.profile, self.from_fault) {
            let user = self.account().map(|a| a.name().to_string());
            let abs = self
                .cwd
                .join(&self.arg)
                .map(|p| p.to_string())
                .unwrap_or_default();
            let fill = crate::personality::Fill {
                abs: &abs,
                verb: &self.verb,
                arg: &self.arg,
                cwd: self.cwd.as_str(),
                user: user.as_deref().unwrap_or(""),
                count: self.listed,
                ascii: self.transfer_type == TransferType::Ascii,
                up: self.bytes_up,
                down: self.bytes_down,
            };
            reply = profile.rewrite(reply, &fill);
        }
        let is_final = reply.code >= 200;
        if is_final {
            if let Some((code, text)) = self.fired.reply_after.take() {
                reply = Reply::new(code, text);
            }
        }
        if !self.fired.quirks.is_empty() {
            reply = crate::fault::rewrite_reply(&self.fired, reply, self.local.ip());
        }
        if let Some(delay) = self.fired.delay {
            // Boxed (as the pause below): a timer is large, and only a
            // fault's reply needs one.
            Box::pin(tokio::time::sleep(delay)).await;
        }
        if is_final && self.fired.close_after_reply {
            self.closing = Some("fault: close after reply");
        }
        // Not while a transfer runs: the close waits for its end, and the
        // reply must not wait with it.
        if is_final
            && self.closing.is_some()
            && self.fired.split.is_none()
            && self.running.is_none()
        {
            // The session ends after this reply (QUIT, or the server closes).
            self.control.hold_for_close();
        }
        if reply.code >= 400 {
            tracing::info!(code = reply.code, text = %reply.lines[0], "error reply");
        } else {
            tracing::debug!(code = reply.code, text = %reply.lines[0], "reply");
        }
        // Recorded before it is sent: a client that has the reply finds it
        // in the transcript.
        let code = reply.code;
        let lines = reply.into_wire_lines();
        self.control.stage(&lines);
        self.log.record(EventKind::Reply { code, lines });
        match self.fired.split {
            Some((bytes, pause)) => {
                let wire = self.control.take_staged();
                for (i, piece) in wire.chunks(bytes).enumerate() {
                    if i > 0 {
                        // A pause, so the pieces arrive as separate reads.
                        Box::pin(tokio::time::sleep(pause)).await;
                    }
                    self.control.send_raw(piece).await?;
                }
                Ok(())
            }
            None => self.control.send_staged().await,
        }
    }

    /// Sends a one-line reply.
    pub(crate) async fn reply(&mut self, code: u16, text: impl Into<String>) -> io::Result<()> {
        self.send(Reply::new(code, text)).await
    }

    /// The storage's metadata of `path`, or the reply for its error. An
    /// upload of another session to `path` ends first (see `uploads`).
    pub(crate) async fn metadata(&self, path: &VirtualPath) -> Result<Metadata, Reply> {
        self.settle(path).await;
        self.storage
            .metadata(&self.info(), path)
            .await
            .map_err(|e| storage_reply(path, &e))
    }

    /// Who is asking, for the storage and the authenticator.
    pub(crate) fn info(&self) -> SessionInfo {
        let account = match &self.login {
            Login::Done(a) => Some(a.clone()),
            _ => None,
        };
        SessionInfo::new(
            self.log.id,
            self.peer,
            self.local,
            account,
            self.control.is_tls(),
        )
    }

    /// True when transfers convert line endings: TYPE A, unless the
    /// personality sends bytes as they are in TYPE A (vsftpd).
    pub(crate) fn ascii_data(&self) -> bool {
        self.transfer_type == TransferType::Ascii
            && self.shared.profile.is_none_or(|p| p.ascii_data)
    }

    /// Whether a download could go from file to socket inside the kernel:
    /// a plain data connection, bytes sent as they are, no data fault for
    /// this command. (`start_transfer` decides; this saves opening a file
    /// for it when it cannot.)
    pub(crate) fn zero_copy_possible(&self) -> bool {
        !self.ascii_data()
            && (self.shared.tls.is_none() || self.protection == Protection::Clear)
            && self.fired.data.is_none()
    }

    pub(crate) fn logged_in(&self) -> bool {
        matches!(self.login, Login::Done(_))
    }

    pub(crate) fn account(&self) -> Option<&Account> {
        match &self.login {
            Login::Done(a) => Some(a.as_ref()),
            _ => None,
        }
    }

    /// A client path, resolved against the working directory.
    pub(crate) fn resolve(&self, arg: &str) -> Result<VirtualPath, Reply> {
        self.cwd
            .join(arg)
            .map_err(|e| Reply::new(501, format!("Invalid path: {e}")))
    }

    /// Waits for another session's upload to `path` to end (see `uploads`).
    pub(crate) async fn settle(&self, path: &VirtualPath) {
        self.shared
            .uploads
            .settle(&self.upload_key(path), self.log.id)
            .await;
    }

    /// The file `path` names, across storages and chroots.
    pub(crate) fn upload_key(&self, path: &VirtualPath) -> uploads::Key {
        (self.storage_id, self.tree_path(path))
    }

    /// `path` as the account's storage names it: below the home for a
    /// chrooted account, as it is otherwise.
    pub(crate) fn tree_path(&self, path: &VirtualPath) -> VirtualPath {
        match &self.chroot {
            Some(home) => crate::storage::chroot::below(home, path),
            None => path.clone(),
        }
    }

    /// What the permission provider lets this user do at `path`.
    pub(crate) fn access(&self, path: &VirtualPath) -> Access {
        self.access_with(&self.info(), path)
    }

    /// [`Session::access`] with the session info made once (listings ask
    /// for every entry).
    pub(crate) fn access_with(&self, info: &SessionInfo, path: &VirtualPath) -> Access {
        match &self.shared.permissions {
            Some(p) => p.access(info, &self.tree_path(path)),
            None => Access::Full,
        }
    }

    /// The reply refusing `need` at `path`, if it is refused: a hidden
    /// path does not exist (550); a read-only account or path refuses
    /// changes (550, 553 for uploads); a write-only path refuses reads.
    pub(crate) fn allow(&self, path: &VirtualPath, need: Need) -> Result<(), Reply> {
        let access = self.access(path);
        if !access.is_visible() {
            tracing::info!(%path, "hidden path");
            return Err(storage_reply(path, &StorageError::NotFound));
        }
        let writes = matches!(need, Need::Write | Need::Upload);
        if writes && self.account().is_none_or(|a| a.is_read_only()) {
            // As vsftpd with write_enable=NO: 550 for every change.
            return Err(Reply::new(550, "Permission denied"));
        }
        let allowed = match need {
            Need::Enter => true,
            Need::Read => access.can_read(),
            Need::Write | Need::Upload => access.can_write(),
        };
        if allowed {
            return Ok(());
        }
        tracing::info!(%path, ?need, %access, "permission denied");
        // As vsftpd in a directory it may not write: 553 for an upload.
        let code = if need == Need::Upload { 553 } else { 550 };
        Err(Reply::new(code, "Permission denied"))
    }
}

/// The reply for a storage error on `path`.
pub(crate) fn storage_reply(path: &VirtualPath, e: &StorageError) -> Reply {
    if let StorageError::Io(io) = e {
        tracing::warn!(path = %path, error = %io, "storage error");
    }
    Reply::new(e.reply_code(), format!("{path}: {e}"))
}

/// Doubles quotes for a 257 reply (RFC 959 appendix II).
pub(crate) fn quote_path(path: &VirtualPath) -> String {
    format!("\"{}\"", path.as_str().replace('"', "\"\""))
}
