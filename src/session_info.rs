//! [`SessionInfo`]: who is asking, handed to every [`Storage`] and
//! [`Authenticator`] call so that per-user storage, per-path permissions and
//! personalities need no new trait.
//!
//! [`Storage`]: crate::Storage
//! [`Authenticator`]: crate::Authenticator

use std::net::SocketAddr;
use std::sync::Arc;

use crate::auth::Account;

/// The session on whose behalf the engine calls a [`Storage`] or
/// [`Authenticator`] method.
///
/// It is `#[non_exhaustive]` and read through methods, so that what the
/// engine tells a backend can grow without breaking implementations.
///
/// [`Storage`]: crate::Storage
/// [`Authenticator`]: crate::Authenticator
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionInfo {
    session: u64,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    account: Option<Arc<Account>>,
    control_tls: bool,
}

impl SessionInfo {
    /// The server itself, outside any session: used when it seeds files at
    /// start, and handy for calling a backend from a test.
    pub fn server() -> Self {
        SessionInfo {
            session: 0,
            peer: None,
            local: None,
            account: None,
            control_tls: false,
        }
    }

    pub(crate) fn new(
        session: u64,
        peer: SocketAddr,
        local: SocketAddr,
        account: Option<Arc<Account>>,
        control_tls: bool,
    ) -> Self {
        SessionInfo {
            session,
            peer: Some(peer),
            local: Some(local),
            account,
            control_tls,
        }
    }

    /// The session id, numbered from 1 in connection order (as in the
    /// transcript); 0 for [`SessionInfo::server`].
    pub fn session(&self) -> u64 {
        self.session
    }

    /// The client's address; `None` for the server itself.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The address the client reached us on; `None` for the server itself.
    pub fn local(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The logged-in account; `None` before login (and during it, in
    /// [`Authenticator::authenticate`](crate::Authenticator::authenticate)).
    pub fn account(&self) -> Option<&Account> {
        self.account.as_deref()
    }

    /// The logged-in user's name, if any.
    pub fn user(&self) -> Option<&str> {
        self.account().map(Account::name)
    }

    /// True while the control connection is protected by TLS (implicit
    /// FTPS, or after `AUTH TLS` and before `CCC`).
    pub fn control_tls(&self) -> bool {
        self.control_tls
    }
}
