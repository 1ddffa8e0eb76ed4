//! One control connection: its state, in groups, and the modules that
//! serve it.
//!
//! A session reads a line, parses it into a [`Command`](crate::protocol::Command),
//! checks that it is allowed now, and runs its handler (in `command/`, one
//! module per family). Transfers run in a task of their own so that ABOR
//! and STAT are still read while bytes flow; every reply goes out through
//! [`Session::send`].
//!
//! - `connection`: the life of a connection, greeting to goodbye, and the
//!   loop that waits for a line, a transfer's end, the idle timer or a stop;
//! - `dispatch`: a line to its handler, with faults and a personality's
//!   verbs consulted first;
//! - `reply`: the one reply path (personality, faults, transcript, socket);
//! - `access`: who is asking and what they may do at a path;
//! - `transfer`, `uploads`: data connections and the files they write;
//! - `custom`: running commands of your own, and what their context sees;
//! - `control`: the control connection's bytes.

mod access;
mod connection;
mod control;
mod custom;
mod dispatch;
mod relay;
mod replay;
mod reply;
mod transfer;
mod uploads;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use tokio::task::JoinHandle;

pub(crate) use crate::protocol::Reply;
pub(crate) use access::{storage_id_of, storage_reply, Need};
use control::Control;
pub(crate) use reply::quote_path;
pub(crate) use transfer::{Job, Source};
pub(crate) use uploads::Uploads;

use crate::auth::Account;
use crate::data::copy::Outcome;
use crate::data::DataSetup;
use crate::facts::Facts;
use crate::fault::Fired;
use crate::protocol::{Protection, TransferType};
use crate::server::Shared;
use crate::storage::{Storage, VirtualPath};
use crate::transcript::{Direction, SessionLog};

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
    /// Where the final reply comes from.
    pub finale: Finale,
    pub direction: Direction,
    /// Asks the copy loop to stop in good order (see `copy::Stop`).
    pub stop: tokio::sync::watch::Sender<bool>,
    /// The command that started it, for its final reply's wording.
    pub verb: String,
    pub arg: String,
}

/// Where a transfer's final reply comes from.
#[derive(Debug, Default)]
pub(crate) enum Finale {
    /// The engine's own (226 with `success`, or its error replies).
    #[default]
    Own,
    /// A recording's, when the transfer completes: its wire lines, with
    /// the recorded byte count (where the text holds it) replaced.
    Recorded { lines: Vec<String>, bytes: u64 },
    /// The upstream's (recording proxy), read once the data is through.
    Upstream,
}

/// One control connection. Its state is kept in groups, each with one
/// job, so that a new field has an obvious home and REIN is two
/// assignments (`login` and `options` start afresh; TLS, the personality's
/// counters and the faults of the command in progress stay).
pub(crate) struct Session {
    pub log: SessionLog,
    pub shared: Arc<Shared>,
    pub control: Control,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// Who is logged in, on which storage, and where.
    pub login: LoginState,
    /// What the client has set for the commands to come: TYPE, REST,
    /// RNFR, OPTS MLST, EPSV ALL, and the data connection PASV/PORT made.
    pub options: Options,
    /// The transfer in flight. Boxed: only a session with a transfer has one.
    pub running: Option<Box<Running>>,
    /// The protection of the control and data connections.
    pub tls: TlsState,
    /// What a personality fills its replies with.
    pub voice: Voice,
    /// The faults of the command being answered.
    pub fault: FaultState,
    /// Set by QUIT (and fatal conditions): the loop ends after this reply,
    /// closed by the server for the reason given.
    pub closing: Option<&'static str>,
    /// Failed logins so far on this connection (REIN does not forgive them).
    pub login_failures: u32,
    /// Recording proxy: this session's upstream and its recording.
    pub relay: Option<Box<relay::Relay>>,
    /// Replay: where this session is in the recording.
    pub replay: Option<Box<crate::replay::matching::Cursor>>,
}

/// Who is logged in, on which storage, and where. REIN starts it afresh.
pub(crate) struct LoginState {
    /// Where the session is in the USER/PASS exchange.
    pub state: Login,
    /// What this session's commands work on: the server's storage, or
    /// after login the account's own; for a chrooted account, its view
    /// from the home.
    pub storage: Arc<dyn Storage>,
    /// The storage before the chroot view, by address: uploads of two
    /// sessions to the same file are told apart by it and the tree path.
    pub storage_id: usize,
    /// The home of a chrooted account: client paths lie below it.
    pub chroot: Option<VirtualPath>,
    /// The working directory.
    pub cwd: VirtualPath,
    /// The virtual host named by HOST.
    pub host: Option<String>,
    /// A TYPE was taken before login (a ProFTPD login then sets Image).
    pub typed_before_login: bool,
    /// A PASS was refused after the login (ProFTPD's USER of the same
    /// name is then refused as another's: seven recordings agree).
    pub pass_refused: bool,
}

impl LoginState {
    /// Nobody logged in, at the root of the server's storage.
    pub(crate) fn new(storage: Arc<dyn Storage>) -> Self {
        LoginState {
            state: Login::None,
            storage_id: storage_id_of(&storage),
            storage,
            chroot: None,
            cwd: VirtualPath::root(),
            host: None,
            typed_before_login: false,
            pass_refused: false,
        }
    }
}

/// The umask new files and directories get when SITE UMASK has not
/// changed it: the modes storages create them with (0644, 0755).
pub(crate) const DEFAULT_UMASK: u32 = 0o022;

/// What the client has set for the commands to come. REIN starts it afresh.
#[derive(Debug)]
pub(crate) struct Options {
    pub transfer_type: TransferType,
    /// The offset REST gave the next transfer.
    pub rest: Option<u64>,
    /// The path RNFR named, for the RNTO that must follow.
    pub rename_from: Option<VirtualPath>,
    /// A rename still waits for its RNTO, but has lost its RNFR's path
    /// (ProFTPD: see `Habits::refused_transfer_forgets_rename`).
    pub rename_forgotten: bool,
    /// The path a ProFTPD `SITE CPFR` named, for its `SITE CPTO`.
    pub copy_from: Option<VirtualPath>,
    /// The data connection PASV, EPSV, PORT or EPRT prepared.
    pub data: DataSetup,
    /// EPSV ALL: only EPSV from now on.
    pub epsv_all: bool,
    /// The facts OPTS MLST chose.
    pub facts: Facts,
    /// SITE UMASK: the bits new files (from 0666) and directories (from
    /// 0777) leave out. 022 is what a storage gives them anyway.
    pub umask: u32,
}

impl Options {
    /// A new session's options: a personality's server starts in its own
    /// TYPE (the real ones in ASCII, RFC 959's default; the engine in
    /// binary, which is what clients of a test fixture want).
    pub(crate) fn starting(profile: Option<&crate::personality::Profile>) -> Options {
        Options {
            transfer_type: profile.map_or(TransferType::Binary, |p| p.initial_type),
            facts: Facts::new(profile.map_or(crate::facts::FactStyle::Engine, |p| p.facts)),
            ..Options::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transfer_type: TransferType::Binary,
            rest: None,
            rename_from: None,
            rename_forgotten: false,
            copy_from: None,
            umask: DEFAULT_UMASK,
            data: DataSetup::None,
            epsv_all: false,
            facts: Facts::default(),
        }
    }
}

/// The protection of the connections; kept across REIN, as the TLS
/// session itself is.
#[derive(Debug, Default)]
pub(crate) struct TlsState {
    /// PBSZ has been sent since the last AUTH.
    pub pbsz: bool,
    /// The PROT level for data connections.
    pub protection: Protection,
}

/// What a personality fills its replies with.
#[derive(Debug, Default)]
pub(crate) struct Voice {
    /// The verb and argument of the command being answered.
    pub verb: String,
    pub arg: String,
    /// Lines of the last listing sent (a personality's `N matches`).
    pub listed: usize,
    /// The listing's pattern had more stars than the played server's
    /// glob takes (`Habits::glob_max_stars`).
    pub glob_refused: bool,
    /// Bytes of files uploaded and downloaded in this session (listings
    /// are not counted).
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Bytes of every complete transfer, listings included (ProFTPD's
    /// STAT counts them).
    pub bytes_data: u64,
    /// Bytes of the transfer whose end is being reported.
    pub moved: u64,
    /// IIS's `SITE DIRSTYLE` switched listings to Unix style.
    pub unix_dirstyle: bool,
    /// The client's port of the last PORT/EPRT (`None` after PASV/EPSV):
    /// Pure-FTPd's 150 names it.
    pub active_port: Option<u16>,
    /// The listing of the command being answered named nothing.
    pub missing: bool,
    /// The command's path cannot be reached as the played server's
    /// kernel would walk it (`Profile::paths_as_kernel`).
    pub unreachable: bool,
    /// A line the server queued before its answer to the command, which
    /// goes ahead of whatever reply comes next (Pure-FTPd's `150-FILE:`).
    pub preface: Option<String>,
    /// STOU names made in this session (Pure-FTPd numbers them).
    pub stou_count: u16,
    /// A STOU went ahead in this session: Pure-FTPd's dostor() then sets
    /// `no_truncate` for good, so every later upload is written to a new
    /// file renamed over its target at the end
    /// (`Habits::stou_makes_uploads_atomic`).
    pub uploads_atomic: bool,
    /// The reply being sent is the test's own words (a fault's, an
    /// explicit option's): the personality leaves it alone.
    pub as_given: bool,
}

/// The faults of the command being answered.
///
/// Nothing fires for most commands of most sessions, so what fired is
/// kept only when there is something: an idle session holds a null
/// pointer, not an empty [`Fired`] (192 bytes).
#[derive(Default)]
pub(crate) struct FaultState {
    fired: Option<Box<Fired>>,
}

/// What fired when nothing did.
static NOTHING_FIRED: Fired = Fired::NOTHING;

impl FaultState {
    /// What the faults that fired for the current command change.
    pub(crate) fn fired(&self) -> &Fired {
        self.fired.as_deref().unwrap_or(&NOTHING_FIRED)
    }

    /// The same, to take parts of as they are carried out; `None` when
    /// nothing fired.
    pub(crate) fn fired_mut(&mut self) -> Option<&mut Fired> {
        self.fired.as_deref_mut()
    }

    /// Whether a `tls-fail` fault fired, once: the handshake it fails
    /// takes it.
    pub(crate) fn take_tls_fail(&mut self) -> bool {
        self.fired_mut()
            .is_some_and(|f| std::mem::take(&mut f.tls_fail))
    }

    /// What fired for the command now being answered.
    pub(crate) fn set(&mut self, fired: Fired) {
        self.fired = (!fired.is_nothing()).then(|| Box::new(fired));
    }

    /// Forgets what fired: the reply being sent answers no command.
    pub(crate) fn clear(&mut self) {
        self.fired = None;
    }
}

#[cfg(test)]
mod tests {
    use super::FaultState;
    use crate::fault::Fired;

    /// A command that nothing fired for leaves no allocation behind; one
    /// that something fired for keeps it until the next command or a
    /// clear.
    #[test]
    fn fault_state_holds_only_what_fired() {
        let mut state = FaultState::default();
        state.set(Fired::default());
        assert!(state.fired.is_none());
        assert!(state.fired().is_nothing());
        assert!(state.fired_mut().is_none());

        state.set(Fired {
            close_after_reply: true,
            ..Fired::default()
        });
        assert!(state.fired().close_after_reply);
        assert!(state.fired_mut().is_some());

        state.set(Fired {
            rules: vec!["STOR".into()],
            ..Fired::default()
        });
        assert!(!state.fired().is_nothing());
        assert!(!state.fired().close_after_reply);

        state.clear();
        assert!(state.fired.is_none());
    }
}
