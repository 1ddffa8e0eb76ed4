//! FTPS in the peer bench (`cargo bench --bench peers -- ftps`): the
//! server's CPU per FTPS session: AUTH TLS, login, PBSZ 0, PROT P, a
//! listing over a protected data connection, QUIT. Every server gets the
//! same 2048-bit RSA certificate (made with `openssl req`, which must be
//! installed); ftpfixture runs a second time with the certificate it
//! generates itself (ECDSA P-256), its default.
//!
//! The client is a rustls one, a fresh configuration per session so that
//! every control connection makes a full handshake and its data
//! connection resumes that session, as FTPS clients do (vsftpd requires
//! it by default).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// FTPS sessions per server and round, and the clients running them.
pub const SESSIONS: usize = 400;
pub const CLIENTS: usize = 8;

/// The shared RSA certificate and its key, in a directory of their own.
pub struct Certificate {
    _dir: tempfile::TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A self-signed 2048-bit RSA certificate for `localhost`, the kind a
/// peer's documentation tells one to make.
pub fn rsa_certificate() -> Result<Certificate, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Certificate {
        _dir: dir,
        cert,
        key,
    })
}

/// Takes the certificate of whichever server it meets (the bench started
/// them), but checks the handshake's signatures as any client does, so
/// the server does all the work a real session costs it.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
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
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A connector with a resumption cache of its own: one per session.
fn connector() -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// The last line of the next reply (a multi-line reply is read whole).
async fn reply<S: AsyncRead + Unpin>(r: &mut BufReader<S>) -> Result<String, String> {
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before a reply".into());
        }
        if line.as_bytes().get(3) == Some(&b' ') {
            return Ok(line.trim_end().to_string());
        }
    }
}

async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut BufReader<S>,
    line: &str,
    expect: &str,
) -> Result<String, String> {
    let w = c.get_mut();
    w.write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    w.flush().await.map_err(|e| e.to_string())?;
    let r = reply(c).await?;
    if r.starts_with(expect) {
        Ok(r)
    } else {
        Err(format!("{line}: {r}"))
    }
}

/// One FTPS session against `addr`; the listing's byte count.
pub async fn session(
    addr: SocketAddr,
    user: &str,
    pass: &str,
    cwd: Option<&str>,
) -> Result<usize, String> {
    let tls = connector();
    let name = ServerName::try_from("localhost").expect("a name");
    let s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    s.set_nodelay(true).ok();
    let mut plain = BufReader::new(s);
    reply(&mut plain).await?;
    command(&mut plain, "AUTH TLS", "234").await?;
    let s = tls
        .connect(name.clone(), plain.into_inner())
        .await
        .map_err(|e| format!("control handshake: {e}"))?;
    let mut c = BufReader::new(s);
    command(&mut c, &format!("USER {user}"), "331").await?;
    command(&mut c, &format!("PASS {pass}"), "230").await?;
    if let Some(dir) = cwd {
        command(&mut c, &format!("CWD {dir}"), "250").await?;
    }
    command(&mut c, "PBSZ 0", "200").await?;
    command(&mut c, "PROT P", "200").await?;
    let epsv = command(&mut c, "EPSV", "229").await?;
    let port: u16 = epsv
        .split('|')
        .nth(3)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("EPSV: {epsv}"))?;
    let data = TcpStream::connect(SocketAddr::new(addr.ip(), port))
        .await
        .map_err(|e| e.to_string())?;
    // The command first: some servers start the data connection's
    // handshake only once they have it.
    c.get_mut()
        .write_all(b"NLST\r\n")
        .await
        .map_err(|e| e.to_string())?;
    c.get_mut().flush().await.map_err(|e| e.to_string())?;
    let mut data = tls
        .connect(name, data)
        .await
        .map_err(|e| format!("data handshake: {e}"))?;
    let opened = reply(&mut c).await?;
    if !opened.starts_with("150") && !opened.starts_with("125") {
        return Err(format!("NLST: {opened}"));
    }
    let mut listing = Vec::new();
    // Some servers end the data connection without close_notify.
    if let Err(e) = data.read_to_end(&mut listing).await {
        if listing.is_empty() {
            return Err(format!("listing: {e}"));
        }
    }
    drop(data);
    let done = reply(&mut c).await?;
    if !done.starts_with("226") {
        return Err(format!("after NLST: {done}"));
    }
    command(&mut c, "QUIT", "221").await?;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut rest)).await;
    Ok(listing.len())
}

/// Runs [`SESSIONS`] sessions from [`CLIENTS`] at once against `addr`; an
/// error from the first that failed.
pub async fn sessions(
    addr: SocketAddr,
    user: &'static str,
    pass: &'static str,
    cwd: Option<&'static str>,
) -> Result<(), String> {
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..SESSIONS / CLIENTS {
                    let n = session(addr, user, pass, cwd).await?;
                    if n == 0 {
                        return Err("an empty listing".to_string());
                    }
                }
                Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}
