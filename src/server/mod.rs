//! The [`Server`] handle, its builder, and the accept loop.

mod builder;
pub(crate) mod run;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::expect::{self, Expectation};
use crate::fault::{Fault, FaultSet};
use crate::tls::{Certificate, Tls};
use crate::transcript::{Event, Recorder, Transcript, WaitTimeout};

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
    recorder: Arc<Recorder>,
    tls: Option<(Tls, Certificate)>,
    faults: Arc<FaultSet>,
    expectations: Mutex<Vec<Expectation>>,
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

    /// `ftp://host:port` (IPv6 hosts in brackets); `ftps://` for implicit
    /// TLS, the scheme curl and others use for it.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr())
    }

    fn scheme(&self) -> &'static str {
        if self.tls() == Tls::Implicit {
            "ftps"
        } else {
            "ftp"
        }
    }

    /// Adds a fault while the server runs; it applies to commands that
    /// arrive from now on, in every session.
    pub fn inject(&self, fault: Fault) {
        self.faults.add(fault);
    }

    /// Removes every fault; the server behaves from the next command on.
    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    /// The TLS mode the server runs with.
    pub fn tls(&self) -> Tls {
        self.tls.as_ref().map_or(Tls::None, |(mode, _)| *mode)
    }

    /// The certificate a client must trust to verify this server (the
    /// generated CA, or the last certificate of your own chain), as PEM;
    /// `None` without TLS.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ftpfixture::{Server, Tls};
    /// let server = Server::builder().tls(Tls::Explicit).start().await?;
    /// let pem = server.certificate_pem().unwrap();
    /// // curl: --ssl-reqd --cacert ca.pem; Python: ssl.create_default_context(cadata=pem)
    /// std::fs::write(std::env::temp_dir().join("ftpfixture-doc-ca.pem"), &pem)?;
    /// # Ok(()) }
    /// ```
    pub fn certificate_pem(&self) -> Option<String> {
        self.tls.as_ref().map(|(_, c)| c.trust_pem())
    }

    /// [`certificate_pem`](Self::certificate_pem) as DER, for a rustls
    /// `RootCertStore`.
    pub fn certificate_der(&self) -> Option<Vec<u8>> {
        self.tls.as_ref().map(|(_, c)| c.trust_der().to_vec())
    }

    /// `ftp://user:password@host:port` for the first account (by name), handy
    /// for curl and other URL-driven clients.
    pub fn url_with_credentials(&self) -> String {
        match &self.credentials {
            Some((user, pass)) => format!("{}://{user}:{pass}@{}", self.scheme(), self.addr()),
            None => self.url(),
        }
    }

    /// The name and password of the first account added to the builder (or
    /// of the default `admin` / `123456`), if the built-in user table is in
    /// use.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The local directory served as `/`, for a filesystem-backed server.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// A copy of everything recorded so far.
    pub fn transcript(&self) -> Transcript {
        Transcript::new(self.recorder.snapshot(), self.root_text())
    }

    /// Forgets what has been recorded (session numbers go on counting).
    pub fn clear_transcript(&self) {
        self.recorder.clear();
    }

    /// A live feed of events as they are recorded. Events recorded before
    /// the call are not replayed; a slow receiver may see `Lagged`.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.recorder.subscribe()
    }

    /// Waits until `done` holds for the transcript (checked on every new
    /// event), or fails after `timeout` with the transcript so far.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        self.recorder
            .wait(timeout, self.root_text().as_deref(), done)
            .await
    }

    /// Waits until a command with this verb (case-insensitive) has arrived.
    pub async fn wait_for_command(
        &self,
        verb: &str,
        timeout: Duration,
    ) -> Result<Transcript, WaitTimeout> {
        self.wait_until(timeout, |t| t.count(verb) > 0).await
    }

    /// Waits until session `id` (numbered from 1) has ended.
    pub async fn wait_for_session_end(
        &self,
        id: u64,
        timeout: Duration,
    ) -> Result<Transcript, WaitTimeout> {
        self.wait_until(timeout, |t| t.ended(id)).await
    }

    /// Adds an expectation, checked by [`verify`](Self::verify) and when
    /// the server is dropped.
    pub fn expect(&self, expectation: Expectation) {
        self.expectations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(expectation);
    }

    /// Panics, listing what was expected and the transcript, if an
    /// expectation is not met.
    pub fn verify(&self) {
        let expectations = self
            .expectations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(message) = expect::check(&expectations, &self.transcript()) {
            panic!("{message}");
        }
    }

    fn root_text(&self) -> Option<String> {
        self.root.as_ref().map(|p| p.display().to_string())
    }

    /// Stops accepting, tells idle sessions `421`, gives running transfers
    /// the grace period, and returns when the server thread has ended, with
    /// the final transcript: it includes what happened during the shutdown
    /// (the 421s, the 226 of a transfer that finished in its grace period,
    /// the disconnects), which a transcript taken before would miss.
    pub async fn shutdown(mut self) -> Transcript {
        let _ = self.stop.send(true);
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
        // Taken before the drop, which removes the temp root the rendering
        // masks.
        self.transcript()
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
        // Verify last, once every session has ended and recorded; never
        // while the test is already failing (a double panic aborts).
        if !std::thread::panicking() {
            let expectations =
                std::mem::take(&mut *self.expectations.lock().unwrap_or_else(|p| p.into_inner()));
            if let Some(message) = expect::check(&expectations, &self.transcript()) {
                panic!("{message}");
            }
        }
    }
}
