//! [`Core`]: what a running server is made of, shared by the [`Server`]
//! handle and the control API, so that the API is a thin layer over the
//! same operations a Rust test calls.
//!
//! [`Server`]: super::Server

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::run::Shared;
use super::tree::{self, Seed, TreeError};
use crate::auth::{SharedUsers, User, UserTable};
use crate::expect::VerifyError;
use crate::storage::{DirEntry, PathError, Storage, StorageError, VirtualPath};
use crate::tls::{Certificate, Tls};
use crate::transcript::{Transcript, WaitTimeout};

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

pub(crate) struct Core {
    pub addrs: Vec<SocketAddr>,
    pub root: Option<PathBuf>,
    pub credentials: Option<(String, String)>,
    pub tls: Option<(Tls, Certificate)>,
    pub certificate_file: Option<PathBuf>,
    pub control_url: OnceLock<String>,
    pub shared: Arc<Shared>,
    /// Flipped by [`request_stop`](Self::request_stop) only, which also
    /// interrupts the sessions.
    pub(super) stop: tokio::sync::watch::Sender<bool>,
    /// The server's runtime, once it runs: storage work is done there, so
    /// the caller's runtime (any, or none) does not matter.
    pub runtime: OnceLock<tokio::runtime::Handle>,
    /// The built-in user table, when no custom authenticator replaced it.
    pub users: Option<Arc<SharedUsers>>,
    /// The table as it was at start, for reset.
    pub initial_users: UserTable,
    pub restore: Restore,
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
    let mut depth = 0usize;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if depth == 0 => {
                return Err(ServerError::OutsideRoot {
                    path: path.to_string(),
                })
            }
            ".." => depth -= 1,
            _ => depth += 1,
        }
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

    pub(crate) fn root_text(&self) -> Option<String> {
        self.root.as_ref().map(|p| p.display().to_string())
    }

    pub(crate) fn transcript(&self) -> Transcript {
        Transcript::new(self.shared.recorder.snapshot(), self.root_text())
    }

    pub(crate) fn verify(&self) -> Result<(), VerifyError> {
        let unmet = self.shared.expectations.unmet();
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(VerifyError::new(unmet, self.transcript()))
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
            sessions_open: *self.shared.live.borrow(),
            sessions_total: self.shared.next_session.load(Ordering::Relaxed) - 1,
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

    pub(crate) fn add_user(&self, user: User) -> Result<(), ServerError> {
        let users = self.users.as_ref().ok_or(ServerError::NoUserTable)?;
        users
            .write()
            .insert(user.clone())
            .map_err(|e| ServerError::InvalidUser {
                name: user.name().to_string(),
                message: format!("home {:?}: {e}", user.home_dir()),
            })
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
        let sessions_closed = *shared.live.borrow();
        shared.interrupt.send_modify(|n| *n += 1);
        let mut live = shared.live.subscribe();
        let drained = on_server(self, async move {
            tokio::time::timeout(Duration::from_secs(5), live.wait_for(|n| *n == 0))
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
        shared.next_session.store(1, Ordering::Relaxed);
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
