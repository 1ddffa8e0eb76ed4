//! The data channel: passive listeners, active connections, and the copy
//! loops that run over them.

mod ascii;
pub(crate) mod copy;
mod idle;
mod stream;

pub(crate) use ascii::ToWire;
pub(crate) use idle::IdleLimit;
pub(crate) use stream::Stream;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// How the next data connection will be made.
#[derive(Debug, Default)]
pub(crate) enum DataSetup {
    /// Neither PASV/EPSV nor PORT/EPRT yet (or the last one was used).
    #[default]
    None,
    /// We listen; the client connects.
    Passive(TcpListener),
    /// We connect to the client's address.
    Active(SocketAddr),
}

/// Why no data connection could be made (425).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DataError {
    #[error("Use PORT or PASV first")]
    NotConfigured,
    #[error("Data connection timed out")]
    Timeout,
    #[error("Cannot open data connection: {0}")]
    Io(#[from] io::Error),
}

impl DataSetup {
    /// Waits for (passive) or makes (active) the data connection. A passive
    /// connection from an address other than the control peer's is refused
    /// (RFC 2577 hijack protection) and the wait goes on.
    pub(crate) async fn connect(
        self,
        control_peer: IpAddr,
        timeout: Duration,
    ) -> Result<(TcpStream, SocketAddr), DataError> {
        let (stream, peer) = self.open(control_peer, timeout).await?;
        // Transfers write large chunks anyway; without Nagle the last small
        // segment leaves at once, and the slice fault's pieces really are
        // separate segments.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY on the data connection");
        }
        Ok((stream, peer))
    }

    async fn open(
        self,
        control_peer: IpAddr,
        timeout: Duration,
    ) -> Result<(TcpStream, SocketAddr), DataError> {
        match self {
            DataSetup::None => Err(DataError::NotConfigured),
            DataSetup::Passive(listener) => {
                let accept = async {
                    loop {
                        let (stream, peer) = listener.accept().await?;
                        if same_host(peer.ip(), control_peer) {
                            return Ok::<_, io::Error>((stream, peer));
                        }
                        tracing::warn!(%peer, "refused a data connection from a foreign address");
                    }
                };
                Ok(tokio::time::timeout(timeout, accept)
                    .await
                    .map_err(|_| DataError::Timeout)??)
            }
            DataSetup::Active(addr) => {
                let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
                    .await
                    .map_err(|_| DataError::Timeout)??;
                Ok((stream, addr))
            }
        }
    }
}

/// Compares addresses, treating `::ffff:a.b.c.d` as `a.b.c.d`.
pub(crate) fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// Hands out passive ports: an ephemeral one each time, or, with a range,
/// round-robin through it, skipping ports in use.
#[derive(Debug)]
pub(crate) struct PassivePorts {
    range: Option<RangeInclusive<u16>>,
    next: AtomicU32,
}

impl PassivePorts {
    pub(crate) fn new(range: Option<RangeInclusive<u16>>) -> Self {
        PassivePorts {
            range,
            next: AtomicU32::new(0),
        }
    }

    pub(crate) fn bind(&self, ip: IpAddr) -> io::Result<TcpListener> {
        let Some(range) = &self.range else {
            return bind_now(SocketAddr::new(ip, 0));
        };
        let len = u32::from(*range.end() - *range.start()) + 1;
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..len {
            let port = *range.start() + ((first.wrapping_add(i)) % len) as u16;
            if let Ok(l) = bind_now(SocketAddr::new(ip, port)) {
                return Ok(l);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "every passive port is in use",
        ))
    }
}

fn bind_now(addr: SocketAddr) -> io::Result<TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    TcpListener::from_std(l)
}
