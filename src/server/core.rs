//! [`Core`]: what a running server is made of, shared by the [`Server`]
//! handle and the control API, so that the API is a thin layer over the
//! same operations a Rust test calls.
//!
//! [`Server`]: super::Server

use std::net::SocketAddr;
use std::path::PathBuf;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::accounts::{self, AccountPolicy, PrepareError};
use super::run::Shared;
use super::tree::{self, Seed, TreeError};
use crate::auth::{SharedUsers, User, UserTable};
use crate::expect::{Expectation, VerifyError};
use crate::fault::{Fault, FaultHandle};
use crate::storage::{DirEntry, PathError, Storage, StorageError, VirtualPath};
use crate::tls::{Certificate, Tls};
use crate::transcript::{Subscription, Transcript, WaitTimeout};

/// Why an operation on a running server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The path climbs above the root (`../x`).
    #[error("{path:?} leaves the root")]
    OutsideRoot {
        /// The path as given.
        path: String,
    },
    /// The path cannot name anything (a control character in it).
    #[error("{path:?}: {source}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why.
        source: PathError,
    },
    /// The storage refused (missing, not a directory, …).
    #[error("{path}: {source}")]
    Storage {
        /// The virtual path.
        path: String,
        /// What the storage said.
        source: StorageError,
    },
    /// Users can only be added to or removed from the built-in table, not
    /// from a custom [`Authenticator`](crate::Authenticator).
    #[error("the server uses a custom authenticator: it has no user table to change")]
    NoUserTable,
    /// The user cannot be added (a home the server cannot use).
    #[error("invalid user {name:?}: {message}")]
    InvalidUser {
        /// The user name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The server has stopped.
    #[error("the server has stopped")]
    Stopped,
}

/// What [`Server::reset`](super::Server::reset) did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ResetReport {
    /// Whether the tree is back as it was at start.
    pub root_restored: bool,
    /// What happened to the tree, in a sentence.
    pub detail: String,
    /// Sessions that were open and got closed with `421`.
    pub sessions_closed: usize,
}

/// The server's address, account, TLS and counts: what the CLI's ready line
/// and the control API's `GET /status` show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Status {
    /// The IP address clients connect to.
    pub host: String,
    /// The control port.
    pub port: u16,
    /// `ftp://host:port` (`ftps://` for implicit TLS).
    pub url: String,
    /// The first account's name (`None` with a custom authenticator).
    pub user: Option<String>,
    /// The first account's password.
    pub password: Option<String>,
    /// The TLS mode.
    pub tls: Tls,
    /// The local directory served, for a filesystem root.
    pub root: Option<PathBuf>,
    /// The file holding the certificate to trust, when one was written
    /// ([`ServerBuilder::certificate_out`](super::ServerBuilder::certificate_out)).
    pub certificate: Option<PathBuf>,
    /// The control API's base URL, when it runs.
    pub control: Option<String>,
    /// Sessions connected now.
    pub sessions_open: usize,
    /// Sessions since start (or since the last reset).
    pub sessions_total: u64,
}

/// How the tree is rebuilt on reset.
pub(crate) enum Restore {
    /// A directory on disk (a temp root, or a directory of the user's
    /// with `restore_root`): put back what changed, directly on the
    /// filesystem.
    Local(Arc<tree::LocalTree>),
    /// Memory the server made: empty it and seed it again, through the
    /// storage.
    Reseed(Vec<Seed>),
    /// Left alone, for the reason given.
    Keep(&'static str),
}

/// The server's one door: the `Server` handle's methods and the control
/// API's handlers both call these, and nothing outside `server/` reaches
/// past them into the state the sessions share.
pub(crate) struct Core {
    pub(super) addrs: Vec<SocketAddr>,
    pub(super) root: Option<PathBuf>,
    pub(super) credentials: Option<(String, String)>,
    pub(super) tls: Option<(Tls, Certificate)>,
    pub(super) certificate_file: Option<PathBuf>,
    pub(super) control_url: OnceLock<String>,
    pub(super) shared: Arc<Shared>,
    /// Flipped by [`request_stop`](Self::request_stop) only, which also
    /// interrupts the sessions.
    pub(super) stop: tokio::sync::watch::Sender<bool>,
    /// The server's runtime, once it runs: storage work is done there, so
    /// the caller's runtime (any, or none) does not matter.
    pub(super) runtime: OnceLock<tokio::runtime::Handle>,
    /// The built-in user table, when no custom authenticator replaced it.
    pub(super) users: Option<Arc<SharedUsers>>,
    /// The table as it was at start, for reset.
    pub(super) initial_users: UserTable,
    /// The server-wide account flags, for accounts added at run time too.
    pub(super) policy: AccountPolicy,
    /// Own roots of accounts added at run time, removed with the server.
    pub(super) own_roots: std::sync::Mutex<Vec<tempfile::TempDir>>,
    pub(super) restore: Restore,
}

/// Runs `work` on the server's runtime and waits for it from any runtime.
async fn on_server<T: Send + 'static>(
    core: &Arc<Core>,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, ServerError> {
    let rt = core.runtime.get().ok_or(ServerError::Stopped)?;
    rt.spawn(work).await.map_err(|_| ServerError::Stopped)
}

/// A virtual path from outside (the control API, a test): like a client's,
/// except that climbing above the root is an error rather than a stop.
pub(crate) fn strict_path(path: &str) -> Result<VirtualPath, ServerError> {
    if crate::storage::leaves_root(path) {
        return Err(ServerError::OutsideRoot {
            path: path.to_string(),
        });
    }
    VirtualPath::new(path).map_err(|source| ServerError::InvalidPath {
        path: path.to_string(),
        source,
    })
}

fn tree_error(path: &VirtualPath, e: TreeError) -> ServerError {
    match e {
        TreeError::Path(source) => ServerError::InvalidPath {
            path: path.to_string(),
            source,
        },
        TreeError::Storage(source) => ServerError::Storage {
            path: path.to_string(),
            source,
        },
        TreeError::Local(_, e) => ServerError::Storage {
            path: path.to_string(),
            source: StorageError::Io(e),
        },
    }
}

impl Core {
    /// Asks the server to stop: the accept loop ends, and every session is
    /// interrupted (it reads `shutdown` first, so it knows this is no
    /// reset).
    pub(crate) fn request_stop(&self) {
        let _ = self.stop.send(true);
        self.shared.interrupt.send_modify(|n| *n += 1);
    }

    /// Flips to true once when the server is asked to stop.
    #[cfg_attr(not(feature = "control"), allow(dead_code))]
    pub(crate) fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shared.shutdown.clone()
    }

    /// The PEM a client trusts, when TLS is on.
    #[cfg_attr(not(feature = "control"), allow(dead_code))]
    pub(crate) fn certificate_pem(&self) -> Option<String> {
        self.tls.as_ref().map(|(_, c)| c.trust_pem())
    }

    /// Records a change made from outside (the control API), as the
    /// server's own event.
    #[cfg_attr(not(feature = "control"), allow(dead_code))]
    pub(crate) fn record_control(&self, request: String) {
        self.shared
            .recorder
            .record(0, crate::transcript::EventKind::Control { request });
    }

    /// Adds a fault rule for the sessions to come and those open now.
    pub(crate) fn add_fault(&self, fault: Fault) -> FaultHandle {
        self.shared.faults.add(fault)
    }

    /// The fault rules in force.
    pub(crate) fn faults(&self) -> Vec<FaultHandle> {
        self.shared.faults.handles()
    }

    /// Removes one rule; false when there was none with that id.
    pub(crate) fn remove_fault(&self, id: u64) -> bool {
        self.shared.faults.remove(id)
    }

    /// Removes every rule.
    pub(crate) fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Forgets what has been recorded.
    pub(crate) fn clear_transcript(&self) {
        self.shared.recorder.clear();
    }

    /// A live feed of events.
    /// Ends the transcript file, if there is one: every event is in it.
    pub(crate) fn finish_transcript_file(&self) {
        self.shared.recorder.finish_file();
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        self.shared.recorder.subscribe()
    }

    /// [`wait_until`](Self::wait_until) for blocking code.
    pub(crate) fn wait_until_blocking(
        &self,
        timeout: Duration,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        self.shared
            .recorder
            .wait_blocking(timeout, self.root_text().as_deref(), done)
    }

    /// Waits until no session is open; false after `timeout`.
    pub(crate) async fn wait_until_idle(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.shared.counts.wait_idle())
            .await
            .is_ok()
    }

    /// Adds an expectation.
    pub(crate) fn expect(&self, expectation: Expectation) {
        self.shared.expectations.add(expectation);
    }

    /// Forgets every expectation.
    pub(crate) fn clear_expectations(&self) {
        self.shared.expectations.clear();
    }

    /// Every expectation with its count so far.
    pub(crate) fn expectations(&self) -> Vec<(Expectation, u64)> {
        self.shared.expectations.counts()
    }

    pub(crate) fn root_text(&self) -> Option<String> {
        self.root.as_ref().map(|p| p.display().to_string())
    }

    pub(crate) fn transcript(&self) -> Transcript {
        self.shared.recorder.snapshot(self.root_text().as_deref())
    }

    pub(crate) fn verify(&self) -> Result<(), VerifyError> {
        let unmet = self.shared.expectations.unmet();
        let replay = self
            .shared
            .replay
            .as_ref()
            .map(|r| r.problems())
            .unwrap_or_default();
        if unmet.is_empty() && replay.is_empty() {
            Ok(())
        } else {
            Err(VerifyError::new(unmet, replay, self.transcript()))
        }
    }

    pub(crate) async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        self.shared
            .recorder
            .wait(timeout, self.root_text().as_deref(), done)
            .await
    }

    pub(crate) fn status(&self) -> Status {
        let addr = self.addrs[0];
        let tls = self.tls.as_ref().map_or(Tls::None, |(mode, _)| *mode);
        let scheme = if tls == Tls::Implicit { "ftps" } else { "ftp" };
        Status {
            host: addr.ip().to_string(),
            port: addr.port(),
            url: format!("{scheme}://{addr}"),
            user: self.credentials.as_ref().map(|(u, _)| u.clone()),
            password: self.credentials.as_ref().map(|(_, p)| p.clone()),
            tls,
            root: self.root.clone(),
            certificate: self.certificate_file.clone(),
            control: self.control_url.get().cloned(),
            sessions_open: self.shared.counts.open(),
            sessions_total: self.shared.counts.total(),
        }
    }

    /// Runs a tree operation on `path` on the server's runtime.
    async fn on_tree<T, Fut>(
        self: &Arc<Self>,
        path: &str,
        op: impl FnOnce(Arc<dyn Storage>, VirtualPath) -> Fut,
    ) -> Result<T, ServerError>
    where
        T: Send + 'static,
        Fut: std::future::Future<Output = Result<T, TreeError>> + Send + 'static,
    {
        let target = strict_path(path)?;
        let work = op(self.shared.storage.clone(), target.clone());
        on_server(self, work)
            .await?
            .map_err(|e| tree_error(&target, e))
    }

    pub(crate) async fn write_file(
        self: &Arc<Self>,
        path: &str,
        content: Vec<u8>,
    ) -> Result<VirtualPath, ServerError> {
        self.on_tree(path, |storage, at| async move {
            tree::write_file(storage.as_ref(), at.as_str(), &content).await?;
            Ok(at)
        })
        .await
    }

    pub(crate) async fn read_file(self: &Arc<Self>, path: &str) -> Result<Vec<u8>, ServerError> {
        self.on_tree(path, |storage, at| async move {
            tree::read_file(storage.as_ref(), &at).await
        })
        .await
    }

    pub(crate) async fn list_dir(
        self: &Arc<Self>,
        path: &str,
    ) -> Result<Vec<DirEntry>, ServerError> {
        self.on_tree(path, |storage, at| async move {
            tree::list(storage.as_ref(), &at).await
        })
        .await
    }

    pub(crate) async fn remove(self: &Arc<Self>, path: &str) -> Result<(), ServerError> {
        self.on_tree(path, |storage, at| async move {
            tree::remove(storage.as_ref(), &at).await
        })
        .await
    }

    /// Adds (or replaces) an account of the built-in table, as accounts
    /// given at start are: the server-wide `read_only` and `chroot` apply,
    /// `own_root` gets a temp dir of its own, and the home is made.
    pub(crate) async fn add_user(self: &Arc<Self>, user: User) -> Result<(), ServerError> {
        let users = self.users.as_ref().ok_or(ServerError::NoUserTable)?;
        let name = user.name().to_string();
        let invalid = |message: String| ServerError::InvalidUser {
            name: name.clone(),
            message,
        };
        let made = accounts::prepare(user, self.policy).map_err(|e| match e {
            PrepareError::Home(message) => invalid(message),
            PrepareError::OwnRoot(e) => invalid(format!("cannot make its own root: {e}")),
        })?;
        if let Some(home) = made.home {
            let storage = made.storage.unwrap_or_else(|| self.shared.storage.clone());
            on_server(self, async move {
                tree::seed(storage.as_ref(), &[Seed::Dir(home)]).await
            })
            .await?
            .map_err(|e| invalid(format!("cannot make its home: {e}")))?;
        }
        let user = made.user;
        users
            .write()
            .insert(user.clone())
            .map_err(|e| invalid(format!("home {:?}: {e}", user.home_dir())))?;
        if let Some(temp) = made.temp {
            self.own_roots
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(temp);
        }
        Ok(())
    }

    pub(crate) fn remove_user(&self, name: &str) -> Result<bool, ServerError> {
        let users = self.users.as_ref().ok_or(ServerError::NoUserTable)?;
        Ok(users.write().remove(name))
    }

    /// Back to the state at start; see [`Server::reset`](super::Server::reset).
    pub(crate) async fn reset(self: &Arc<Self>) -> Result<ResetReport, ServerError> {
        let shared = self.shared.clone();
        // Close every open session (421), and wait for them to be gone so
        // their ends do not land in the fresh transcript.
        let sessions_closed = shared.counts.open();
        shared.interrupt.send_modify(|n| *n += 1);
        let waiting = shared.clone();
        let drained = on_server(self, async move {
            tokio::time::timeout(Duration::from_secs(5), waiting.counts.wait_idle())
                .await
                .is_ok()
        })
        .await?;
        if !drained {
            tracing::warn!("reset: sessions still open after 5 s");
        }
        shared.faults.restore();
        shared.expectations.clear();
        shared.recorder.clear();
        if let Some(replay) = &shared.replay {
            replay.reset();
        }
        shared.counts.restart_numbering();
        if let Some(users) = &self.users {
            *users.write() = self.initial_users.clone();
        }
        let storage = shared.storage.clone();
        let (root_restored, detail) = match &self.restore {
            Restore::Keep(why) => (false, why.to_string()),
            Restore::Local(local) => {
                let local = local.clone();
                let result = on_server(self, async move {
                    tokio::task::spawn_blocking(move || local.reset())
                        .await
                        .map_err(std::io::Error::other)
                        .and_then(|r| r)
                })
                .await?;
                match result {
                    Ok(0) => (true, "the tree was unchanged".to_string()),
                    Ok(n) => (
                        true,
                        format!("the tree was restored ({n} entries removed or made again)"),
                    ),
                    Err(e) => (false, format!("the tree could not be restored: {e}")),
                }
            }
            Restore::Reseed(seeds) => {
                let seeds = seeds.clone();
                let result = on_server(self, async move {
                    tree::clear(storage.as_ref(), &VirtualPath::root())
                        .await
                        .map_err(|e| format!("{e:?}"))?;
                    tree::seed(storage.as_ref(), &seeds)
                        .await
                        .map_err(|e| e.to_string())
                })
                .await?;
                match result {
                    Ok(()) => (true, "the tree was rebuilt as it was at start".to_string()),
                    Err(e) => (false, format!("the tree could not be rebuilt: {e}")),
                }
            }
        };
        Ok(ResetReport {
            root_restored,
            detail,
            sessions_closed,
        })
    }
}
