//! The data channel: passive listeners, active connections, and the copy
//! loops that run over them.

mod ascii;
pub(crate) mod copy;
mod idle;
mod stream;

pub(crate) use ascii::{FromWire, ToWire};
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
    /// Already connected, ahead of the transfer that will use it
    /// (Pure-FTPd's ESTP and ESTA). `passive`: the client connected.
    Open {
        stream: TcpStream,
        peer: SocketAddr,
        passive: bool,
    },
}

impl DataSetup {
    /// The client connects (PASV, EPSV, or an ESTP that it did).
    pub(crate) fn is_passive(&self) -> bool {
        matches!(
            self,
            DataSetup::Passive(_) | DataSetup::Open { passive: true, .. }
        )
    }

    /// How STAT describes it.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            DataSetup::None => "No data connection",
            DataSetup::Passive(_) => "Passive mode: waiting for a data connection",
            DataSetup::Active(_) => "Active mode: will connect to the client",
            DataSetup::Open { .. } => "Data connection open",
        }
    }
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

    /// As [`DataSetup::connect`], but a passive listener is handed back
    /// to listen on for the next transfer (a server that keeps it open
    /// after a transfer, as Pure-FTPd does).
    pub(crate) async fn connect_keeping(
        self,
        control_peer: IpAddr,
        timeout: Duration,
    ) -> (
        Result<(TcpStream, SocketAddr), DataError>,
        Option<TcpListener>,
    ) {
        match self {
            DataSetup::Passive(listener) => {
                let accepted = accept(&listener, control_peer, timeout).await;
                if let Ok((stream, _)) = &accepted {
                    let _ = stream.set_nodelay(true);
                }
                (accepted, Some(listener))
            }
            other => (other.connect(control_peer, timeout).await, None),
        }
    }

    async fn open(
        self,
        control_peer: IpAddr,
        timeout: Duration,
    ) -> Result<(TcpStream, SocketAddr), DataError> {
        match self {
            DataSetup::None => Err(DataError::NotConfigured),
            DataSetup::Passive(listener) => accept(&listener, control_peer, timeout).await,
            DataSetup::Active(addr) => {
                let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
                    .await
                    .map_err(|_| DataError::Timeout)??;
                Ok((stream, addr))
            }
            DataSetup::Open { stream, peer, .. } => Ok((stream, peer)),
        }
    }
}

/// The client's connection to `listener`, within `timeout`; one from
/// another host is refused and the wait goes on.
async fn accept(
    listener: &TcpListener,
    control_peer: IpAddr,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), DataError> {
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
            return listen(SocketAddr::new(ip, 0), false);
        };
        let len = u32::from(*range.end() - *range.start()) + 1;
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..len {
            let port = *range.start() + ((first.wrapping_add(i)) % len) as u16;
            if let Ok(l) = listen(SocketAddr::new(ip, port), true) {
                return Ok(l);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "every passive port is in use",
        ))
    }
}

/// A passive listener on `addr`. `SO_REUSEADDR` only for a port of a
/// configured range, where it lets a port whose earlier data connections
/// are in TIME_WAIT be used again. On an ephemeral port it costs: Linux
/// then picks the port from the lower half of the range only and skips
/// every port that has a socket bound, so the server's own TIME_WAIT
/// sockets (it closes a download's connection first) fill that half and
/// each bind walks thousands of ports under a lock. Under the CPU-bound
/// Python load (benches/peers.rs, python) that walk was over half of the
/// server's CPU after three runs in a row; without the option the walk is
/// as short as any other program's that binds port 0.
fn listen(addr: SocketAddr, reuse: bool) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(reuse)?;
    socket.bind(addr)?;
    // One connection is expected; a few more can wait to be refused.
    socket.listen(8)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// An ephemeral passive port is bound without `SO_REUSEADDR` (see
    /// [`listen`]); a port of a configured range with it.
    #[tokio::test]
    async fn only_a_ranged_passive_port_reuses_addresses() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        let ephemeral = PassivePorts::new(None).bind(ip).unwrap();
        assert!(!rustix::net::sockopt::socket_reuseaddr(&ephemeral).unwrap());
        let port = ephemeral.local_addr().unwrap().port();
        assert_ne!(port, 0);
        drop(ephemeral);
        let ranged = PassivePorts::new(Some(port..=port)).bind(ip).unwrap();
        assert!(rustix::net::sockopt::socket_reuseaddr(&ranged).unwrap());
        assert_eq!(ranged.local_addr().unwrap().port(), port);
    }
}
