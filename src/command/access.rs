//! USER, PASS, REIN, HOST: who the client is.

use std::sync::Arc;

use crate::auth::{Account, LoginError};
use crate::protocol::TransferType;
use crate::session::{Answer, Login, Reply, Session};
use crate::storage::chroot::Chrooted;
use crate::storage::owner_modes::OwnerModes;
use crate::storage::{Storage, VirtualPath};

impl Session {
    pub(crate) async fn user(&mut self, name: String) -> Answer {
        let text = if self.shared.auth.is_anonymous(&name) {
            "Anonymous login okay, send your e-mail address as password".to_string()
        } else {
            format!("Password required for {name}")
        };
        // A new USER starts a new login, even for a logged-in session.
        self.login.state = Login::NeedPassword(name);
        Ok(Reply::new(331, text))
    }

    pub(crate) async fn pass(&mut self, password: String) -> Answer {
        match std::mem::take(&mut self.login.state) {
            Login::None => Err(Reply::new(503, "Login with USER first")),
            Login::Done(account) => {
                self.login.state = Login::Done(account);
                Ok(Reply::new(230, "Already logged in"))
            }
            Login::NeedPassword(name) => {
                let info = self.info();
                let account = match self.shared.auth.authenticate(&info, &name, &password).await {
                    Ok(account) => Arc::new(account),
                    Err(e) => {
                        tracing::warn!(user = %name, reason = %e, "login failed");
                        if matches!(e, LoginError::Unavailable(_)) {
                            self.closing = Some("login unavailable");
                            return Err(Reply::new(e.reply_code(), e.to_string()));
                        }
                        return Err(Box::pin(self.login_failed(e)).await);
                    }
                };
                self.login.state = Login::Done(account.clone());
                if let Err(refused) = self.enter_storage(&account).await {
                    self.login.state = Login::None;
                    self.closing = Some("storage unavailable");
                    return Err(refused);
                }
                if self.habits().login_clears_type {
                    self.options.transfer_type = if self.login.typed_before_login {
                        TransferType::Binary
                    } else {
                        TransferType::Ascii
                    };
                }
                tracing::Span::current().record("user", account.name());
                tracing::info!(user = %account.name(), "logged in");
                Ok(Reply::new(
                    230,
                    format!("User {} logged in", account.name()),
                ))
            }
        }
    }

    /// The reply to a refused password: after the configured delay, 530;
    /// or, at the limit of failures, 421 and the connection closes (as
    /// vsftpd's max_login_fails), so passwords cannot be tried at speed.
    async fn login_failed(&mut self, e: LoginError) -> Reply {
        self.login_failures += 1;
        let delay = self.shared.config.login_failure_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match self.shared.config.max_login_failures {
            Some(max) if self.login_failures >= max => {
                tracing::warn!(
                    failures = self.login_failures,
                    "too many failed logins; closing"
                );
                self.closing = Some("too many failed logins");
                Reply::new(421, "Too many failed logins, closing control connection")
            }
            _ => Reply::new(e.reply_code(), e.to_string()),
        }
    }

    /// After a login: the storage the account works on (what the server's
    /// one storage factory says; seen from the home when chrooted), and
    /// the directory it starts in.
    async fn enter_storage(&mut self, account: &Account) -> Result<(), Reply> {
        let factory = &self.shared.storage_factory;
        let storage: Arc<dyn Storage> = factory.storage(&self.info()).await.map_err(|e| {
            tracing::warn!(error = %e, "the storage factory failed");
            Reply::new(421, format!("Storage unavailable: {e}"))
        })?;
        self.login.storage_id = crate::session::storage_id_of(&storage);
        let home = account.home().clone();
        // The root needs no look: it is where a session starts anyway, and
        // asking a disk costs two trips to the blocking pool per login.
        let home_is_dir = home.is_root()
            || storage
                .metadata(&self.info(), &home)
                .await
                .is_ok_and(|m| m.is_dir());
        if account.is_chroot() {
            if !home_is_dir {
                tracing::warn!(%home, "the home of a chrooted account is missing");
                return Err(Reply::new(
                    421,
                    format!("Home directory {home} unavailable"),
                ));
            }
            self.login.storage = Arc::new(Chrooted::new(storage, home.clone()));
            self.login.chroot = Some(home);
            self.login.cwd = VirtualPath::root();
        } else {
            self.login.storage = storage;
            self.login.chroot = None;
            // Start in the home directory if it exists, else at the root.
            self.login.cwd = if home_is_dir {
                home
            } else {
                VirtualPath::root()
            };
        }
        // A played server that runs as the user meets the kernel's checks.
        if self.habits().owner_modes_apply {
            self.login.storage = Arc::new(OwnerModes::new(self.login.storage.clone()));
        }
        Ok(())
    }

    /// REIN: back to the state of a fresh connection (RFC 959 4.1.1).
    pub(crate) fn rein(&mut self) -> Reply {
        self.login = crate::session::LoginState::new(self.shared.storage.clone());
        self.options = crate::session::Options::starting(self.shared.profile);
        Reply::new(220, "Service ready for new user")
    }

    /// HOST (RFC 7151): only before login; any well-formed name is accepted,
    /// since a fixture serves one virtual host.
    pub(crate) fn host(&mut self, host: String) -> Answer {
        if self.habits().host_as_proftpd {
            return self.host_as_proftpd(host);
        }
        if !matches!(self.login.state, Login::None) {
            return Err(Reply::new(503, "HOST must come before USER"));
        }
        let valid = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            inner.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        };
        if !valid {
            return Err(Reply::new(501, "Invalid host name"));
        }
        let reply = Reply::new(220, format!("Host {host} accepted"));
        self.login.host = Some(host);
        Ok(reply)
    }

    /// ProFTPD's `core_host`: a bracketed IPv6 address, an IPv4 address
    /// (the one connected to, or a prefix of it, as its `strncmp` reads
    /// it), or a name, which must be one of its virtual hosts: this
    /// fixture has none.
    fn host_as_proftpd(&mut self, host: String) -> Answer {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        if matches!(self.login.state, Login::Done(_)) {
            return Err(Reply::new(503, "Bad sequence of commands"));
        }
        let unknown = || Reply::new(504, format!("{host}: Unknown hostname provided"));
        let (name, bracketed) = match host.strip_prefix('[') {
            Some(inner) => {
                let Some(inner) = inner.strip_suffix(']') else {
                    return Err(Reply::new(
                        501,
                        format!("{host}: Invalid IPv6 address provided"),
                    ));
                };
                if inner.parse::<Ipv6Addr>().is_err() {
                    return Err(Reply::new(
                        501,
                        format!("{host}: Invalid IPv6 address provided"),
                    ));
                }
                (inner.to_string(), true)
            }
            None => (host.clone(), false),
        };
        let local = self.local.ip().to_canonical();
        let taken = if name.parse::<Ipv4Addr>().is_ok() {
            match local {
                IpAddr::V4(mine) if !mine.to_string().starts_with(&name) => return Err(unknown()),
                _ => true,
            }
        } else if name.parse::<Ipv6Addr>().is_ok() {
            match local {
                IpAddr::V6(_) if !bracketed => {
                    return Err(Reply::new(
                        501,
                        format!("{name}: Invalid IPv6 address provided"),
                    ))
                }
                IpAddr::V6(mine) if !mine.to_string().starts_with(&name) => return Err(unknown()),
                _ => true,
            }
        } else if name.contains(':') {
            return Err(Reply::new(
                501,
                format!("{name}: Invalid hostname provided"),
            ));
        } else {
            false
        };
        if !taken {
            return Err(unknown());
        }
        self.login.host = Some(name);
        Ok(Reply::new(220, "HOST command successful"))
    }
}
