//! The [`Server`] handle, its builder, and the accept loop.

mod builder;
pub(crate) mod run;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use builder::{ServerBuilder, StartError, DEFAULT_PASSWORD, DEFAULT_USER};
pub(crate) use run::Shared;

/// A running FTP server. It runs on its own thread and tokio runtime, so it
/// serves blocking and async clients alike; dropping the handle stops it and
/// removes its temp root.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = ftpfixture::Server::start().await?;
/// assert!(server.url().starts_with("ftp://127.0.0.1:"));
/// assert!(server.root().unwrap().is_dir());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Server {
    addrs: Vec<SocketAddr>,
    root: Option<PathBuf>,
    credentials: Option<(String, String)>,
    stop: tokio::sync::watch::Sender<bool>,
    done: Option<tokio::sync::oneshot::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    // Declared last: dropped (and the temp root removed) after `drop` has
    // joined the server thread.
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addrs", &self.addrs)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a server with every default: 127.0.0.1, an ephemeral port, a
    /// fresh temp root, and the account `admin` / `123456`.
    pub async fn start() -> Result<Server, StartError> {
        Self::builder().start().await
    }

    /// A builder for the less common options.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The control connection's address (the first, with `dual_stack`).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every address the server listens on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The control port.
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// `ftp://host:port` (IPv6 hosts in brackets).
    pub fn url(&self) -> String {
        format!("ftp://{}", self.addr())
    }

    /// `ftp://user:password@host:port` for the first account (by name), handy
    /// for curl and other URL-driven clients.
    pub fn url_with_credentials(&self) -> String {
        match &self.credentials {
            Some((user, pass)) => format!("ftp://{user}:{pass}@{}", self.addr()),
            None => self.url(),
        }
    }

    /// The first account's name and password (by name), if the built-in user
    /// table is in use.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The local directory served as `/`, for a filesystem-backed server.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Stops accepting, tells idle sessions `421`, gives running transfers
    /// the grace period, and returns when the server thread has ended.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
        // Drop joins the (now finished) thread and removes the temp root.
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            // The server runs on its own thread, so waiting here cannot
            // deadlock even inside a single-threaded test runtime.
            let _ = thread.join();
        }
    }
}
