//! FTPS (RFC 4217): the certificate, the rustls configuration, and the
//! policies a server can enforce.
//!
//! The certificate is generated once per process (a CA plus a leaf for
//! `localhost`, `127.0.0.1` and `::1`) because key generation is the slow
//! part of starting a TLS server; every server built afterwards reuses it.
//! Each server still gets its own rustls configuration, so TLS sessions
//! (and resumption) never leak from one server to another.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ServerSessionMemoryCache;
use rustls::{HandshakeKind, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;

/// Whether and how the server speaks TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain FTP; `AUTH` is refused with 502.
    #[default]
    None,
    /// Explicit FTPS (RFC 4217): plain at first, TLS after `AUTH TLS`.
    Explicit,
    /// Implicit FTPS: TLS from the first byte, data always protected.
    Implicit,
}

/// A TLS mode name that is not `none`, `explicit` or `implicit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLS mode {0:?} (expected none, explicit or implicit)")]
pub struct ParseTlsError(String);

impl std::str::FromStr for Tls {
    type Err = ParseTlsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" => Ok(Tls::None),
            "explicit" => Ok(Tls::Explicit),
            "implicit" => Ok(Tls::Implicit),
            _ => Err(ParseTlsError(s.to_string())),
        }
    }
}

impl std::fmt::Display for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tls::None => "none",
            Tls::Explicit => "explicit",
            Tls::Implicit => "implicit",
        })
    }
}

/// Why a certificate could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        source: io::Error,
    },
    /// The certificate PEM holds no `CERTIFICATE` block.
    #[error("no certificate found in the certificate PEM")]
    NoCertificate,
    /// The key PEM holds no private key (PKCS#8, PKCS#1 or SEC1).
    #[error("no private key found in the key PEM: {0}")]
    NoKey(String),
    /// The TLS library refused the certificate and key (for example, they
    /// do not match); its own error is the `source()`.
    #[error("unusable certificate or key: {0}")]
    Unusable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Generating the certificate failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
}

/// Wraps the TLS library's error, which stays out of the public API
/// (reachable as `source()`).
fn unusable(e: rustls::Error) -> TlsError {
    TlsError::Unusable(Box::new(e))
}

/// A certificate chain and its key, plus the certificate a client must
/// trust to verify it.
///
/// The generated one (the default) is a CA and a leaf it signed, valid for
/// `localhost`, `127.0.0.1` and `::1`; clients trust the CA.
///
/// ```
/// let cert = ftpfixture::Certificate::generated().unwrap();
/// assert!(cert.trust_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
#[derive(Debug)]
pub struct Certificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    trust: CertificateDer<'static>,
}

impl Clone for Certificate {
    fn clone(&self) -> Self {
        Certificate {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            trust: self.trust.clone(),
        }
    }
}

static GENERATED: OnceLock<Result<Certificate, String>> = OnceLock::new();

impl Certificate {
    /// The process-wide generated certificate (made on first use).
    pub fn generated() -> Result<Certificate, TlsError> {
        GENERATED
            .get_or_init(|| generate().map_err(|e| e.to_string()))
            .clone()
            .map_err(TlsError::Generate)
    }

    /// Your own chain (leaf first) and key, as PEM text. Clients are told to
    /// trust the last certificate of the chain.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Certificate, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<_, _>>()
            .map_err(|_| TlsError::NoCertificate)?;
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::NoKey(e.to_string()))?;
        let trust = chain.last().cloned().ok_or(TlsError::NoCertificate)?;
        let cert = Certificate { chain, key, trust };
        // Fail now, not at the first handshake, if key and chain disagree.
        cert.base_config()?;
        Ok(cert)
    }

    /// [`from_pem`](Self::from_pem), reading the two files.
    pub fn from_pem_files(
        chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Certificate, TlsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| TlsError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        Certificate::from_pem(&read(chain.as_ref())?, &read(key.as_ref())?)
    }

    /// The certificate a client must trust, as PEM.
    pub fn trust_pem(&self) -> String {
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64(self.trust.as_ref());
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// The certificate a client must trust, as DER.
    pub fn trust_der(&self) -> &[u8] {
        self.trust.as_ref()
    }

    /// A rustls configuration on the ring provider (chosen explicitly, so a
    /// dependency tree that also enables aws-lc does not make rustls panic),
    /// TLS 1.2 and 1.3, with no resumption state of its own.
    fn base_config(&self) -> Result<ServerConfig, TlsError> {
        let mut provider = rustls::crypto::ring::default_provider();
        // The SHA-256 suites first, and the server's order over the
        // client's: rustls clients ask for AES-256/SHA-384 first, and ring
        // computes SHA-384 without the CPU's SHA extensions, in every
        // handshake hash, key derivation and session ticket (ten tickets in
        // an FTPS session here). Same security level for a test fixture,
        // less CPU per session (benches/peers.rs, ftps).
        provider
            .cipher_suites
            .sort_by_key(|s| s.suite() != rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(unusable)?;
        config.ignore_client_order = true;
        Ok(config)
    }

    /// The handshake configurations of one server: one per kind of
    /// connection, sharing one ticket key and one session cache, so that
    /// every data connection can resume the control connection's session and
    /// nothing resumes across servers.
    pub(crate) fn acceptors(&self) -> Result<Acceptors, TlsError> {
        // TLS 1.2 session IDs resume from this cache.
        let cache = ServerSessionMemoryCache::new(1024);
        // Stateless tickets, because FTP clients reuse *one* session for
        // every data connection: lftp (GnuTLS), FileZilla and the usual
        // Python `session=control.session` recipe all present the control
        // connection's ticket again and again. rustls's stateful cache
        // treats a TLS 1.3 ticket as single-use, so only the first data
        // connection would resume.
        let ticketer = rustls::crypto::ring::Ticketer::new().map_err(unusable)?;
        let make = |tickets: usize| -> Result<TlsAcceptor, TlsError> {
            let mut config = self.base_config()?;
            config.session_storage = cache.clone();
            config.ticketer = ticketer.clone();
            config.send_tls13_tickets = tickets;
            Ok(TlsAcceptor::from(Arc::new(config)))
        };
        Ok(Acceptors {
            // As many tickets as a rustls client keeps per server (8): each
            // of its data connections uses one up.
            control: make(8)?,
            download: make(2)?,
            // None: the client never reads an upload's connection, so
            // tickets would sit unread in its socket, and closing a socket
            // with unread data sends an RST, which throws away whatever of
            // the upload its kernel had not sent yet (curl lost about half
            // of its 1 MB uploads that way).
            upload: make(0)?,
        })
    }
}

/// The TLS acceptors of one server (see [`Certificate::acceptors`]).
#[derive(Clone)]
pub(crate) struct Acceptors {
    /// The control connection.
    pub control: TlsAcceptor,
    /// Data connections the server writes (downloads, listings); they carry
    /// fresh tickets, as the client reads them.
    pub download: TlsAcceptor,
    /// Data connections the client writes (uploads); no tickets.
    pub upload: TlsAcceptor,
}

fn generate() -> Result<Certificate, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(DnType::CommonName, "ftpfixture test CA");
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::from_params(&ca, &ca_key);

    let leaf_key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

    Ok(Certificate {
        chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        trust: ca_cert.der().clone(),
    })
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The TLS settings every session of one server shares.
#[derive(Clone)]
pub(crate) struct TlsSettings {
    pub mode: Tls,
    pub acceptors: Acceptors,
    pub certificate: Certificate,
    /// Logins need a protected control channel (vsftpd's
    /// `force_local_logins_ssl`).
    pub require_control: bool,
    /// Data connections must be protected (`force_local_data_ssl`).
    pub require_data: bool,
    /// Data connections must resume a TLS session (`require_ssl_reuse`).
    pub require_resumption: bool,
    /// Whether CCC may drop TLS from the control channel.
    pub allow_ccc: bool,
    pub handshake_timeout: Duration,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("mode", &self.mode)
            .field("require_control", &self.require_control)
            .field("require_data", &self.require_data)
            .field("require_resumption", &self.require_resumption)
            .finish_non_exhaustive()
    }
}

/// What a completed handshake negotiated.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub version: String,
    pub resumed: bool,
}

impl Negotiated {
    pub(crate) fn of(conn: &rustls::ServerConnection) -> Negotiated {
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_string(),
        };
        Negotiated {
            version,
            resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
        }
    }
}

/// Why a handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    #[error("TLS handshake timed out")]
    Timeout,
    #[error("TLS handshake failed: {0}")]
    Failed(io::Error),
}

/// Runs a server handshake on `stream`, bounded by `timeout`.
pub(crate) async fn accept<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    timeout: Duration,
) -> Result<tokio_rustls::server::TlsStream<S>, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Err(_) => Err(HandshakeError::Timeout),
        Ok(Err(e)) => Err(HandshakeError::Failed(e)),
        Ok(Ok(s)) => Ok(s),
    }
}

/// Answers a ClientHello with a fatal `handshake_failure` alert and closes:
/// what a server with no usable certificate does. For faults.
pub(crate) async fn send_failure_alert<S: AsyncWrite + Unpin>(stream: &mut S) {
    use tokio::io::AsyncWriteExt;
    // TLS record: alert (21), TLS 1.2 (3,3), length 2, fatal (2),
    // handshake_failure (40).
    let _ = stream.write_all(&[21, 3, 3, 0, 2, 2, 40]).await;
    let _ = stream.shutdown().await;
}

/// A stream that first yields bytes already read from it. The control
/// reader may hold bytes of a ClientHello that a hasty client sent right
/// behind `AUTH TLS`; the handshake must see them.
pub(crate) struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn generated_certificate_is_made_once_and_round_trips_as_pem() {
        let a = Certificate::generated().unwrap();
        let b = Certificate::generated().unwrap();
        assert_eq!(a.trust_der(), b.trust_der());
        let parsed = CertificateDer::from_pem_slice(a.trust_pem().as_bytes()).unwrap();
        assert_eq!(parsed.as_ref(), a.trust_der());
        a.acceptors().unwrap();
    }

    #[test]
    fn own_pem_is_checked_up_front() {
        let cert = Certificate::generated().unwrap();
        let chain_pem = cert.trust_pem();
        assert!(matches!(
            Certificate::from_pem(chain_pem.as_bytes(), b"nonsense"),
            Err(TlsError::NoKey(_))
        ));
        assert!(matches!(
            Certificate::from_pem(b"", b""),
            Err(TlsError::NoCertificate) | Err(TlsError::NoKey(_))
        ));
    }

    #[test]
    fn modes_parse() {
        assert_eq!("Explicit".parse::<Tls>(), Ok(Tls::Explicit));
        assert!("tls".parse::<Tls>().is_err());
    }
}
