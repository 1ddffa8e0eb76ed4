//! The recording proxy's client side: a control connection to the upstream
//! server (plain, explicit or implicit FTPS), its replies read whole, its
//! passive data connections (resuming the control connection's TLS
//! session), and the wrappers that copy a transfer's bytes into the
//! recording as they pass.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;

use super::format::{inline_ok, Content, Data};
use crate::data::Stream;
use crate::tls::Tls;

/// Where and how to reach the server being recorded, and where the
/// recording goes: [`ServerBuilder::record_upstream`](crate::ServerBuilder::record_upstream).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use ftpfixture::{Server, Tls, Upstream};
/// let proxy = Server::builder()
///     .record_upstream(
///         Upstream::new("staging.example.com:21", "recordings/partner")
///             .tls(Tls::Explicit)
///             .redact(r"staging\.example\.com", "<host>")?,
///     )
///     .start()
///     .await?;
/// // Point the client at proxy.addr(); every session lands in the directory.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Upstream {
    pub(crate) address: String,
    pub(crate) out: PathBuf,
    pub(crate) tls: Tls,
    pub(crate) ca: Option<PathBuf>,
    pub(crate) insecure: bool,
    pub(crate) keep_passwords: bool,
    pub(crate) redact: Vec<(regex::Regex, String)>,
    pub(crate) timeout: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("address", &self.address)
            .field("out", &self.out)
            .field("tls", &self.tls)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

/// A redaction rule that is no regular expression.
#[derive(Debug, Clone, thiserror::Error)]
#[error("redaction pattern {pattern:?}: {message}")]
pub struct RedactError {
    pattern: String,
    message: String,
}

impl Upstream {
    /// The server at `address` (`host:port`), recorded into the directory
    /// `out` (made if missing).
    pub fn new(address: impl Into<String>, out: impl Into<PathBuf>) -> Self {
        Upstream {
            address: address.into(),
            out: out.into(),
            tls: Tls::None,
            ca: None,
            insecure: false,
            keep_passwords: false,
            redact: Vec::new(),
            timeout: Duration::from_secs(30),
        }
    }

    /// How the upstream speaks TLS (default none). Its certificate is
    /// verified against the system's roots, or [`ca`](Self::ca).
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Trusts the certificates in this PEM file for the upstream.
    pub fn ca(mut self, pem: impl Into<PathBuf>) -> Self {
        self.ca = Some(pem.into());
        self
    }

    /// Does not verify the upstream's certificate (a staging server with
    /// a self-signed one). Logged as a warning at every connection.
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Writes passwords to the recording as sent (default: never; `PASS`
    /// and `ACCT` are written as `<redacted>`).
    pub fn keep_passwords(mut self, keep: bool) -> Self {
        self.keep_passwords = keep;
        self
    }

    /// Replaces what `pattern` (a regular expression) matches with
    /// `placeholder` in every line written (host names, internal
    /// addresses). Applied when written, not in flight.
    pub fn redact(mut self, pattern: &str, placeholder: &str) -> Result<Self, RedactError> {
        let re = regex::Regex::new(pattern).map_err(|e| RedactError {
            pattern: pattern.to_string(),
            message: e.to_string(),
        })?;
        self.redact.push((re, placeholder.to_string()));
        Ok(self)
    }

    /// How long to wait for the upstream's connection and replies
    /// (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The TLS client configuration for one upstream: one per server, so
/// that data connections resume the control connection's session (one
/// session cache).
pub(crate) fn client_config(up: &Upstream) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = if up.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        let files: Vec<PathBuf> = match &up.ca {
            Some(ca) => vec![ca.clone()],
            None => system_roots(),
        };
        for file in &files {
            let pem = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            for cert in rustls_pemfile_certs(&pem) {
                let _ = roots.add(cert);
            }
        }
        if roots.is_empty() {
            return Err(match &up.ca {
                Some(ca) => format!("{}: no certificate in it", ca.display()),
                None => "no system CA certificates found: give --upstream-ca FILE (or --upstream-insecure)".into(),
            });
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The system's CA bundle (Debian's path, or SSL_CERT_FILE).
fn system_roots() -> Vec<PathBuf> {
    if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
        return vec![PathBuf::from(f)];
    }
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.is_file())
    .take(1)
    .collect()
}

/// The certificates in a PEM file.
fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// `--upstream-insecure`: any certificate, signatures still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One control connection to the upstream.
pub(crate) struct UpstreamConn {
    io: BufReader<Box<dyn Stream>>,
    host: IpAddr,
    name: rustls::pki_types::ServerName<'static>,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    /// PBSZ 0 and PROT P have been sent (with TLS, before the first data
    /// connection).
    pub protected: bool,
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the upstream did not {what} in time"),
    )
}

impl UpstreamConn {
    /// Connects, reads the greeting (returned), and puts the connection
    /// under TLS as configured (explicit: AUTH TLS after the greeting).
    pub async fn connect(
        up: &Upstream,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> io::Result<(UpstreamConn, Vec<String>, Option<String>)> {
        let tcp = tokio::time::timeout(up.timeout, TcpStream::connect(&up.address))
            .await
            .map_err(|_| timed_out("accept the connection"))??;
        tcp.set_nodelay(true)?;
        let peer = tcp.peer_addr()?;
        let host = up
            .address
            .rsplit_once(':')
            .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or(&up.address)
            .to_string();
        let name = rustls::pki_types::ServerName::try_from(host)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        if up.insecure && up.tls != Tls::None {
            tracing::warn!(upstream = %up.address, "the upstream's certificate is NOT verified (--upstream-insecure)");
        }
        let mut note = None;
        let stream: Box<dyn Stream> = match (&tls, up.tls) {
            (Some(cfg), Tls::Implicit) => {
                let s = handshake(cfg.clone(), name.clone(), tcp, up.timeout).await?;
                note = Some(tls_note(&s, "implicit"));
                Box::new(s)
            }
            _ => Box::new(tcp),
        };
        let timeout = up.timeout;
        let mut io = BufReader::new(stream);
        let greeting = tokio::time::timeout(timeout, read_reply(&mut io))
            .await
            .map_err(|_| timed_out("greet"))??;
        if up.tls == Tls::Explicit {
            let w = io.get_mut();
            w.write_all(b"AUTH TLS\r\n").await?;
            w.flush().await?;
            let auth = tokio::time::timeout(timeout, read_reply(&mut io))
                .await
                .map_err(|_| timed_out("reply"))??;
            if !auth[0].starts_with("234") {
                return Err(io::Error::other(format!(
                    "the upstream refused AUTH TLS: {}",
                    auth.join(" / ")
                )));
            }
            let cfg = tls
                .clone()
                .ok_or_else(|| io::Error::other("no TLS settings"))?;
            let s = handshake_stream(cfg, name.clone(), io.into_inner(), timeout).await?;
            note = Some(tls_note(&s, "explicit (AUTH TLS)"));
            io = BufReader::new(Box::new(s));
        }
        let conn = UpstreamConn {
            io,
            host: peer.ip(),
            name,
            tls,
            timeout,
            protected: false,
        };
        Ok((conn, greeting, note))
    }

    /// Sends one line.
    pub async fn send(&mut self, line: &str) -> io::Result<()> {
        let w = self.io.get_mut();
        w.write_all(line.as_bytes()).await?;
        w.write_all(b"\r\n").await?;
        w.flush().await
    }

    /// Reads one reply, every line of it (without CRLF).
    pub async fn reply(&mut self) -> io::Result<Vec<String>> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, read_reply(&mut self.io))
            .await
            .map_err(|_| timed_out("reply"))?
    }

    /// Sends a command and reads its reply.
    pub async fn command(&mut self, line: &str) -> io::Result<Vec<String>> {
        self.send(line).await?;
        self.reply().await
    }

    /// With TLS: PBSZ 0 and PROT P once, so that data connections are
    /// protected as the control connection is.
    pub async fn protect(&mut self) -> io::Result<()> {
        if self.tls.is_none() || self.protected {
            return Ok(());
        }
        self.command("PBSZ 0").await?;
        let prot = self.command("PROT P").await?;
        if !prot[0].starts_with('2') {
            return Err(io::Error::other(format!(
                "the upstream refused PROT P: {}",
                prot.join(" / ")
            )));
        }
        self.protected = true;
        Ok(())
    }

    /// Connects to the port a 227 or 229 reply names, on the control
    /// connection's address (a 227's address may be unroutable from here).
    pub async fn connect_data(&self, reply: &str) -> io::Result<TcpStream> {
        let port = passive_port(reply)
            .ok_or_else(|| io::Error::other(format!("no port in the upstream's {reply:?}")))?;
        let addr = SocketAddr::new(self.host, port);
        let s = tokio::time::timeout(self.timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| timed_out("accept the data connection"))??;
        s.set_nodelay(true)?;
        Ok(s)
    }

    /// Puts a data connection under TLS when the control connection is
    /// (resuming its session, which servers such as vsftpd require).
    pub async fn wrap_data(&self, tcp: TcpStream) -> io::Result<Box<dyn Stream>> {
        match (&self.tls, self.protected) {
            (Some(cfg), true) => Ok(Box::new(
                handshake(cfg.clone(), self.name.clone(), tcp, self.timeout).await?,
            )),
            _ => Ok(Box::new(tcp)),
        }
    }
}

/// A tokio-rustls client handshake within `timeout`.
async fn handshake(
    cfg: Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
    tcp: TcpStream,
    timeout: Duration,
) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(cfg);
    tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| timed_out("finish the TLS handshake"))?
}

async fn handshake_stream(
    cfg: Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
    stream: Box<dyn Stream>,
    timeout: Duration,
) -> io::Result<tokio_rustls::client::TlsStream<Box<dyn Stream>>> {
    let connector = tokio_rustls::TlsConnector::from(cfg);
    tokio::time::timeout(timeout, connector.connect(name, stream))
        .await
        .map_err(|_| timed_out("finish the TLS handshake"))?
}

fn tls_note<S>(s: &tokio_rustls::client::TlsStream<S>, how: &str) -> String {
    let (_, conn) = s.get_ref();
    format!(
        "upstream TLS {how}: {:?}, {:?}",
        conn.protocol_version(),
        conn.negotiated_cipher_suite().map(|c| c.suite())
    )
}

/// One reply from a buffered reader: its first line, and up to the line
/// that starts with the same code and a space.
pub(crate) async fn read_reply<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut code: Option<String> = None;
    loop {
        let mut buf = Vec::new();
        let n = r.read_until(b'\n', &mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the upstream closed the control connection",
            ));
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::other("a reply line of the upstream is too long"));
        }
        let text = String::from_utf8_lossy(&buf);
        let line = text.trim_end_matches(['\r', '\n']).to_string();
        match &code {
            None => {
                let c = line
                    .get(..3)
                    .filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
                let Some(c) = c else {
                    return Err(io::Error::other(format!(
                        "the upstream sent no reply code: {line:?}"
                    )));
                };
                let multi = line.as_bytes().get(3) == Some(&b'-');
                let c = c.to_string();
                lines.push(line);
                if !multi {
                    return Ok(lines);
                }
                code = Some(c);
            }
            Some(c) => {
                let done = line.starts_with(c.as_str()) && line.as_bytes().get(3) == Some(&b' ');
                lines.push(line);
                if done {
                    return Ok(lines);
                }
            }
        }
    }
}

/// The port of a `227 … (h1,h2,h3,h4,p1,p2)` or `229 … (|||port|)` reply.
pub(crate) fn passive_port(reply: &str) -> Option<u16> {
    let open = reply.find('(')?;
    let inner = &reply[open + 1..reply[open..].find(')')? + open];
    if let Some(rest) = inner.strip_prefix("|||") {
        return rest.trim_end_matches('|').parse().ok();
    }
    let n: Vec<u16> = inner
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    (n.len() == 6 && n[4] < 256 && n[5] < 256).then(|| n[4] * 256 + n[5])
}

/// `reply` with its parenthesised address replaced by `ours`' (same
/// format: 227 or 229), for a passive reply the client must follow.
pub(crate) fn with_address(reply: &str, ours: &str) -> String {
    let (Some(a), Some(b)) = (reply.find('('), ours.find('(')) else {
        return ours.to_string();
    };
    let (Some(a_end), Some(b_end)) = (reply[a..].find(')'), ours[b..].find(')')) else {
        return ours.to_string();
    };
    format!(
        "{}{}{}",
        &reply[..a],
        &ours[b..b + b_end + 1],
        &reply[a + a_end + 1..]
    )
}

/// What a capture learned of one transfer, once it ended.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub data: Option<Data>,
}

/// Writes a transfer's bytes into the recording as they pass: kept in
/// memory while they are short text (inline), else handed to a thread of
/// the capture's own that hashes them and writes them to a temp file,
/// renamed to its hash at the end. Off the data path, so that the relay
/// runs at the network's pace; the hand-off holds at most a few chunks.
struct Capture {
    dir: PathBuf,
    head: Vec<u8>,
    bytes: u64,
    download: bool,
    writer: Option<CaptureWriter>,
    result: Arc<Mutex<Captured>>,
    done: bool,
}

/// The thread that hashes and files a long transfer.
struct CaptureWriter {
    chunks: std::sync::mpsc::SyncSender<Vec<u8>>,
    thread: std::thread::JoinHandle<io::Result<(String, PathBuf)>>,
}

impl CaptureWriter {
    fn start(dir: &Path, first: Vec<u8>) -> io::Result<Self> {
        use std::io::Write;
        let path = dir.join(format!(
            "data/.partial-{}-{}",
            std::process::id(),
            next_capture()
        ));
        let mut file = std::fs::File::create(&path)?;
        let (chunks, incoming) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let thread = std::thread::Builder::new()
            .name("ftpfixture-capture".into())
            .spawn(move || {
                let mut hash = xxhash_rust::xxh3::Xxh3::new();
                hash.update(&first);
                file.write_all(&first)?;
                for chunk in incoming {
                    hash.update(&chunk);
                    file.write_all(&chunk)?;
                }
                Ok((format!("{:032x}", hash.digest128()), path))
            })?;
        Ok(CaptureWriter { chunks, thread })
    }
}

/// Distinct temp names for the captures of one process.
fn next_capture() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Capture {
    fn new(dir: &Path, download: bool, result: Arc<Mutex<Captured>>) -> Self {
        Capture {
            dir: dir.to_path_buf(),
            head: Vec::new(),
            bytes: 0,
            download,
            writer: None,
            result,
            done: false,
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        if let Some(w) = &self.writer {
            // Blocks only while the writer is a few chunks behind.
            let _ = w.chunks.send(bytes.to_vec());
            return;
        }
        self.head.extend_from_slice(bytes);
        if self.head.len() > INLINE_LIMIT {
            match CaptureWriter::start(&self.dir, std::mem::take(&mut self.head)) {
                Ok(w) => self.writer = Some(w),
                Err(e) => tracing::warn!(error = %e, "cannot write a transfer to the recording"),
            }
        }
    }

    /// Files the bytes under their hash and says how the transfer ended.
    fn finish(&mut self, end: &str) {
        if self.done {
            return;
        }
        self.done = true;
        let content = match self.writer.take() {
            None if inline_ok(&self.head) => Content::Inline(std::mem::take(&mut self.head)),
            None => {
                let digest = xxhash_rust::xxh3::xxh3_128(&self.head);
                let name = format!("data/{digest:032x}.bin");
                if let Err(e) = std::fs::write(self.dir.join(&name), &self.head) {
                    tracing::warn!(error = %e, "cannot write a transfer to the recording");
                }
                Content::File(name)
            }
            Some(w) => {
                drop(w.chunks);
                match w.thread.join() {
                    Ok(Ok((hex, path))) => {
                        let name = format!("data/{hex}.bin");
                        if let Err(e) = std::fs::rename(&path, self.dir.join(&name)) {
                            tracing::warn!(error = %e, "cannot file a transfer in the recording");
                        }
                        Content::File(name)
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "cannot write a transfer to the recording");
                        Content::File("data/(not written)".into())
                    }
                    Err(_) => Content::File("data/(not written)".into()),
                }
            }
        };
        self.result.lock().unwrap_or_else(|p| p.into_inner()).data = Some(Data {
            download: self.download,
            bytes: self.bytes,
            content,
            end: end.to_string(),
        });
    }
}

/// Transfers up to this size are kept in memory (and inline when text).
const INLINE_LIMIT: usize = 256;

impl Drop for Capture {
    fn drop(&mut self) {
        // Dropped before its end: the client or the upstream broke off.
        self.finish("broken");
    }
}

/// A download from the upstream, recorded as it is read.
pub(crate) struct CapturedRead {
    inner: Box<dyn Stream>,
    capture: Capture,
}

impl CapturedRead {
    pub fn new(inner: Box<dyn Stream>, dir: &Path, result: Arc<Mutex<Captured>>) -> Self {
        CapturedRead {
            inner,
            capture: Capture::new(dir, true, result),
        }
    }
}

impl AsyncRead for CapturedRead {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                if new.is_empty() {
                    this.capture.finish("complete");
                } else {
                    this.capture.take(new);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => {
                this.capture.finish("lost");
                Poll::Ready(Err(e))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// An upload to the upstream, recorded as it is written; the shutdown
/// closes the upstream's data connection (with TLS, `close_notify`).
pub(crate) struct CapturedWrite {
    inner: Box<dyn Stream>,
    capture: Capture,
}

impl CapturedWrite {
    pub fn new(inner: Box<dyn Stream>, dir: &Path, result: Arc<Mutex<Captured>>) -> Self {
        CapturedWrite {
            inner,
            capture: Capture::new(dir, false, result),
        }
    }
}

impl AsyncWrite for CapturedWrite {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.capture.take(&buf[..n]);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => {
                this.capture.finish("lost");
                Poll::Ready(Err(e))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Ready(r) => {
                this.capture
                    .finish(if r.is_ok() { "complete" } else { "lost" });
                Poll::Ready(r)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A recording proxy's settings, as every session shares them.
pub(crate) struct RecordTo {
    pub up: Upstream,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Session files are numbered in connection order across resets.
    next: std::sync::atomic::AtomicU64,
}

impl RecordTo {
    /// Checks the settings and makes the recording's directories and its
    /// settings file.
    pub fn new(up: Upstream) -> Result<Self, String> {
        let tls = match up.tls {
            Tls::None => None,
            _ => Some(client_config(&up)?),
        };
        for dir in [up.out.join("sessions"), up.out.join("data")] {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let path = up.out.join("settings.toml");
        if !path.exists() {
            let text = format!(
                "# How this recording is replayed (ftpfixture --replay DIR); edit freely.\n\
                 \n\
                 # \"sequence\": each client session follows a recorded one, in order;\n\
                 # \"lookup\": each command is answered by what was recorded for it.\n\
                 matching = \"sequence\"\n\
                 # The reply code for a command the recording does not hold there.\n\
                 on_miss = 550\n\
                 # true: verify() also fails for recorded commands no client sent.\n\
                 strict = false\n\
                 # \"redacted\": any password is taken; \"kept\": PASS must match.\n\
                 passwords = \"{}\"\n\
                 \n\
                 # What was recorded (for the reader).\n\
                 upstream = {:?}\n\
                 upstream_tls = \"{}\"\n\
                 recorded = \"{}\"\n\
                 \n\
                 # Rules applied to every line when recording, e.g.\n\
                 # [[redact]]\n\
                 # pattern = \"partner\\\\.example\\\\.com\"\n\
                 # placeholder = \"<host>\"\n",
                if up.keep_passwords {
                    "kept"
                } else {
                    "redacted"
                },
                redacted(&up.redact, &up.address),
                up.tls,
                crate::timeval::format(std::time::SystemTime::now()),
            );
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        // Numbering goes on after the sessions already there.
        let existing = std::fs::read_dir(up.out.join("sessions"))
            .map(|d| d.filter_map(Result::ok).count() as u64)
            .unwrap_or(0);
        Ok(RecordTo {
            up,
            tls,
            next: std::sync::atomic::AtomicU64::new(existing + 1),
        })
    }

    /// The file of the next session.
    pub fn next_file(&self) -> PathBuf {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.up.out.join("sessions").join(format!("{n:04}.txt"))
    }
}

/// `text` with the redaction rules applied.
pub(crate) fn redacted(rules: &[(regex::Regex, String)], text: &str) -> String {
    let mut text = text.to_string();
    for (re, placeholder) in rules {
        text = re.replace_all(&text, placeholder.as_str()).into_owned();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_replies() {
        assert_eq!(
            passive_port("227 Entering Passive Mode (10,0,0,1,117,48)."),
            Some(30000)
        );
        assert_eq!(
            passive_port("229 Entering Extended Passive Mode (|||30001|)"),
            Some(30001)
        );
        assert_eq!(passive_port("227 nothing"), None);
        assert_eq!(
            with_address(
                "227 Entering Passive Mode (10,0,0,1,117,48).",
                "227 Entering Passive Mode (127,0,0,1,200,10)"
            ),
            "227 Entering Passive Mode (127,0,0,1,200,10)."
        );
        assert_eq!(
            with_address(
                "229 EPSV ok (|||30001|)",
                "229 Entering Extended Passive Mode (|||4000|)"
            ),
            "229 EPSV ok (|||4000|)"
        );
    }
}
