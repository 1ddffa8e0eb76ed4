//! The [`Server`] handle, its builder, and the accept loop.

mod accounts;
mod builder;
mod core;
mod launch;
pub(crate) mod run;
mod tree;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::User;
use crate::expect::{Expectation, VerifyError};
use crate::fault::{Fault, FaultGuard, FaultHandle};
use crate::storage::{DirEntry, VirtualPath};
use crate::tls::Tls;
use crate::transcript::{Subscription, Transcript, WaitTimeout};

pub use builder::{ServerBuilder, StartError, DEFAULT_PASSWORD, DEFAULT_USER};
#[cfg(any(test, fuzzing))]
pub(crate) use core::strict_path;
pub(crate) use core::Core;
pub use core::{ResetReport, ServerError, Status};
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
    core: Arc<Core>,
    /// Drop checks the expectations unless `shutdown` already ran.
    verify_on_drop: bool,
    /// How long Drop waits for the server thread: the shutdown grace plus
    /// a margin for the runtime to wind down.
    drop_wait: Duration,
    done: Option<std::sync::mpsc::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    // Declared last: dropped (and the temp root removed) after `drop` has
    // joined the server thread.
    _temp: Vec<tempfile::TempDir>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addrs", &self.core.addrs)
            .field("root", &self.core.root)
            .finish_non_exhaustive()
    }
}

impl Server {
    fn new(
        core: Arc<Core>,
        temp: Vec<tempfile::TempDir>,
        drop_wait: Duration,
        done: std::sync::mpsc::Receiver<()>,
        thread: std::thread::JoinHandle<()>,
    ) -> Self {
        Server {
            core,
            verify_on_drop: true,
            drop_wait,
            done: Some(done),
            thread: Some(thread),
            _temp: temp,
        }
    }

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
        self.core.addrs[0]
    }

    /// Every address the server listens on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.core.addrs
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
    /// arrive from now on, in every session. The handle tells how often it
    /// fired and removes it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ftpfixture::{Fault, Server};
    /// let server = Server::start().await?;
    /// let busy = server.inject(Fault::on("RETR").reply(450, "Busy"));
    /// assert_eq!(busy.times_fired(), 0);
    /// busy.remove(); // or keep it for the rest of the test
    /// {
    ///     let _full = server.inject_scoped(Fault::on("STOR").reply(452, "Full"));
    ///     // ... STOR gets 452 in this block ...
    /// } // removed here
    /// assert!(server.faults().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, fault: Fault) -> FaultHandle {
        self.core.add_fault(fault)
    }

    /// [`inject`](Self::inject), and the fault is removed when the guard is
    /// dropped (wiremock's `mount_as_scoped`).
    pub fn inject_scoped(&self, fault: Fault) -> FaultGuard {
        FaultGuard::new(self.inject(fault))
    }

    /// The faults in force, in the order added (builder faults first).
    pub fn faults(&self) -> Vec<FaultHandle> {
        self.core.faults()
    }

    /// Removes the fault with this [`id`](FaultHandle::id); true when it
    /// was there.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.core.remove_fault(id)
    }

    /// Removes every fault; the server behaves from the next command on.
    pub fn clear_faults(&self) {
        self.core.clear_faults();
    }

    /// The TLS mode the server runs with.
    pub fn tls(&self) -> Tls {
        self.core.tls.as_ref().map_or(Tls::None, |(mode, _)| *mode)
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
        self.core.tls.as_ref().map(|(_, c)| c.trust_pem())
    }

    /// [`certificate_pem`](Self::certificate_pem) as DER, for a rustls
    /// `RootCertStore`.
    pub fn certificate_der(&self) -> Option<Vec<u8>> {
        self.core.tls.as_ref().map(|(_, c)| c.trust_der().to_vec())
    }

    /// `ftp://user:password@host:port` for the first account (by name), handy
    /// for curl and other URL-driven clients.
    pub fn url_with_credentials(&self) -> String {
        match &self.core.credentials {
            Some((user, pass)) => format!("{}://{user}:{pass}@{}", self.scheme(), self.addr()),
            None => self.url(),
        }
    }

    /// The name and password of the first account added to the builder (or
    /// of the default `admin` / `123456`), if the built-in user table is in
    /// use.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.core
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The local directory served as `/`, for a filesystem-backed server.
    pub fn root(&self) -> Option<&Path> {
        self.core.root.as_deref()
    }

    /// A copy of everything recorded so far.
    pub fn transcript(&self) -> Transcript {
        self.core.transcript()
    }

    /// Forgets what has been recorded (session numbers go on counting).
    pub fn clear_transcript(&self) {
        self.core.clear_transcript();
    }

    /// A live feed of events as they are recorded (the CLI writes its
    /// JSON Lines transcript from one).
    pub fn subscribe(&self) -> Subscription {
        self.core.subscribe()
    }

    /// Waits until `done` holds for the transcript (checked on every new
    /// event), or fails after `timeout` with the transcript so far.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        self.core.wait_until(timeout, done).await
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

    /// Waits until no session is open (every client has gone and its
    /// session has ended), or fails after `timeout` with the transcript.
    pub async fn wait_until_idle(&self, timeout: Duration) -> Result<(), WaitTimeout> {
        if self.core.wait_until_idle(timeout).await {
            Ok(())
        } else {
            Err(WaitTimeout::new(self.transcript()))
        }
    }

    /// How many tasks the server's runtime has alive (sessions, transfers,
    /// listeners): for tests that check nothing leaks. Not part of the API.
    #[doc(hidden)]
    pub fn alive_tasks(&self) -> usize {
        self.core
            .runtime
            .get()
            .map_or(0, |rt| rt.metrics().num_alive_tasks())
    }

    /// [`wait_until`](Self::wait_until) for blocking code (a plain
    /// `#[test]`); it blocks only the calling thread, so it works inside a
    /// runtime too.
    pub fn wait_until_blocking(
        &self,
        timeout: Duration,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        self.core.wait_until_blocking(timeout, done)
    }

    /// [`wait_for_command`](Self::wait_for_command) for blocking code.
    pub fn wait_for_command_blocking(
        &self,
        verb: &str,
        timeout: Duration,
    ) -> Result<Transcript, WaitTimeout> {
        self.wait_until_blocking(timeout, |t| t.count(verb) > 0)
    }

    /// [`wait_for_session_end`](Self::wait_for_session_end) for blocking code.
    pub fn wait_for_session_end_blocking(
        &self,
        id: u64,
        timeout: Duration,
    ) -> Result<Transcript, WaitTimeout> {
        self.wait_until_blocking(timeout, |t| t.ended(id))
    }

    /// Adds an expectation. Commands are counted from now on, as they
    /// arrive; [`verify`](Self::verify) checks them, and so does dropping
    /// the server (a panic, unless the test is already failing).
    pub fn expect(&self, expectation: Expectation) {
        self.core.expect(expectation);
    }

    /// Forgets every expectation.
    pub fn clear_expectations(&self) {
        self.core.clear_expectations();
    }

    /// Every expectation with the number of matching commands so far.
    pub fn expectations(&self) -> Vec<(Expectation, u64)> {
        self.core.expectations()
    }

    /// Checks the expectations: `Err` lists the unmet ones with the
    /// transcript (its `Display` is the full message, so `.unwrap()` in a
    /// test reads well).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use ftpfixture::{Expectation, Server};
    /// let server = Server::start().await.unwrap();
    /// server.expect(Expectation::command("STOR").never());
    /// server.verify().unwrap();
    /// server.expect(Expectation::command("QUIT"));
    /// let error = server.verify().unwrap_err();
    /// assert_eq!(error.unmet()[0].count(), 0);
    /// server.clear_expectations(); // else dropping the server panics
    /// # }
    /// ```
    pub fn verify(&self) -> Result<(), VerifyError> {
        self.core.verify()
    }

    /// The address, account, TLS mode and session counts, as the CLI's
    /// ready line and the control API's `GET /status` show them.
    pub fn status(&self) -> Status {
        self.core.status()
    }

    /// Resolves once the server has been asked to stop: by the control
    /// API's `POST /shutdown`, or by [`shutdown`](Self::shutdown) from
    /// another task. The CLI waits on it beside SIGTERM.
    pub async fn wait_for_stop_request(&self) {
        let mut stop = self.core.stop.subscribe();
        let _ = stop.wait_for(|s| *s).await;
    }

    /// The control API's base URL (`http://127.0.0.1:PORT`), when it runs
    /// ([`ServerBuilder::control`]).
    pub fn control_url(&self) -> Option<String> {
        self.core.control_url.get().cloned()
    }

    /// Writes a file into the served tree (parents created), through the
    /// storage, while the server runs. Paths are virtual (`/inbox/a.txt`);
    /// one that climbs above the root (`../x`) is an error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = ftpfixture::Server::builder().memory().start().await?;
    /// server.write_file("inbox/a.txt", "hi").await?;
    /// assert_eq!(server.read_file("/inbox/a.txt").await?, b"hi");
    /// assert_eq!(server.list_dir("inbox").await?[0].name(), "a.txt");
    /// server.remove_path("inbox").await?;
    /// assert!(server.list_dir("/").await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn write_file(
        &self,
        path: &str,
        content: impl AsRef<[u8]>,
    ) -> Result<VirtualPath, ServerError> {
        self.core.write_file(path, content.as_ref().to_vec()).await
    }

    /// Reads a whole file of the served tree.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, ServerError> {
        self.core.read_file(path).await
    }

    /// The entries of a directory of the served tree, sorted by name.
    pub async fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ServerError> {
        self.core.list_dir(path).await
    }

    /// Removes a file, or a directory and everything in it (the root: its
    /// contents).
    pub async fn remove_path(&self, path: &str) -> Result<(), ServerError> {
        self.core.remove(path).await
    }

    /// Adds (or replaces) an account while the server runs, as an account
    /// given at start: the server-wide [`read_only`](ServerBuilder::read_only)
    /// and [`chroot`](ServerBuilder::chroot) apply, its home is made, and
    /// [`User::own_root`] gets a temp dir of its own. Fails with
    /// [`ServerError::NoUserTable`] under a custom authenticator, and with
    /// [`ServerError::InvalidUser`] for a home that leaves the root.
    pub fn add_user(&self, user: User) -> Result<(), ServerError> {
        // Making the home is the server runtime's work; this waits for it
        // from a thread of its own, so any runtime (or none) may call.
        let core = self.core.clone();
        let runtime = core.runtime.get().ok_or(ServerError::Stopped)?.clone();
        std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(core.add_user(user)))
                .join()
                .unwrap_or(Err(ServerError::Stopped))
        })
    }

    /// Removes an account; `Ok(false)` when there was none of that name.
    pub fn remove_user(&self, name: &str) -> Result<bool, ServerError> {
        self.core.remove_user(name)
    }

    /// Back to the state at start, so one server can serve many tests: open
    /// sessions get `421` and close, the faults are those given at start
    /// again (with fresh counters; injected ones are gone), expectations and
    /// the transcript are cleared, session numbering starts at 1 again, accounts added
    /// since start are removed (and removed ones come back), and the tree is
    /// rebuilt when the server made it (a temp dir or memory, with its
    /// fixtures and seeded files). A directory of yours
    /// ([`ServerBuilder::root`]) is restored only with
    /// [`ServerBuilder::restore_root`]; a custom storage is left alone. The
    /// report says which.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = ftpfixture::Server::builder().file("a.txt", "1").start().await?;
    /// server.write_file("b.txt", "2").await?;
    /// let report = server.reset().await?;
    /// assert!(report.root_restored);
    /// assert_eq!(server.list_dir("/").await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn reset(&self) -> Result<ResetReport, ServerError> {
        self.core.reset().await
    }

    fn stop_and_wait(&mut self, limit: Duration) {
        self.core.request_stop();
        let finished = match self.done.take() {
            Some(done) => done.recv_timeout(limit).is_ok(),
            None => true,
        };
        if let Some(thread) = self.thread.take() {
            if finished {
                let _ = thread.join();
            } else {
                // Never hang a test on a server that will not stop (a
                // storage call that blocks forever): leave its thread.
                tracing::warn!("ftpfixture: the server thread did not stop in time; detached");
            }
        }
        self.core.finish_transcript_file();
    }

    /// Stops accepting, tells idle sessions `421`, gives running transfers
    /// the grace period, and returns when the server thread has ended, with
    /// the final transcript: it includes what happened during the shutdown
    /// (the 421s, the 226 of a transfer that finished in its grace period,
    /// the disconnects), which a transcript taken before would miss.
    ///
    /// It never panics, whatever the expectations say: check them with
    /// [`verify`](Self::verify) before, if the test has any.
    pub async fn shutdown(mut self) -> Transcript {
        self.core.request_stop();
        let done = self.done.take();
        let limit = self.drop_wait;
        if let Some(done) = done {
            // Waiting on a std channel would block the caller's runtime
            // thread; a helper thread turns it into a future that any
            // runtime can await.
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let _ = tx.send(done.recv_timeout(limit).is_ok());
            });
            let finished = rx.await.unwrap_or(false);
            // Not finished in time: the thread is left (detached), as in Drop.
            if let Some(thread) = self.thread.take().filter(|_| finished) {
                let _ = thread.join();
            }
        }
        // Joining the file's writer is quick: it only has what is queued.
        self.core.finish_transcript_file();
        self.verify_on_drop = false;
        // Taken before the drop, which removes the temp root the rendering
        // masks.
        self.transcript()
    }

    /// [`shutdown`](Self::shutdown) for blocking code.
    pub fn shutdown_blocking(mut self) -> Transcript {
        let limit = self.drop_wait;
        self.stop_and_wait(limit);
        self.verify_on_drop = false;
        self.transcript()
    }
}

impl Drop for Server {
    /// Stops the server and waits for it at most the shutdown grace plus
    /// 1.5 seconds, then removes the temp root; then checks the
    /// expectations (a panic when one is unmet, unless the test is already
    /// panicking or [`Server::shutdown`] ran).
    fn drop(&mut self) {
        let limit = self.drop_wait;
        self.stop_and_wait(limit);
        if self.verify_on_drop && !std::thread::panicking() {
            if let Err(e) = self.verify() {
                panic!("{e}");
            }
        }
    }
}
