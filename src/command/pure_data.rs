//! Pure-FTPd's verbs about data connections (`Habits::pure_data_verbs`),
//! read from Pure-FTPd 1.0.50's parser.c, doestp() and opendata(), and
//! compared with the Debian package on loopback:
//!
//! - ESTP: after PASV or EPSV the data connection is accepted at once
//!   instead of at the next transfer, which then uses it, and the reply
//!   names the client's end as `(|1|address|port|)`. (Its ESTA, the same
//!   for PORT, is off in the configuration played: it forces the passive
//!   address, and ESTA is then an unknown command.)
//! - PRET: any is welcome, but `PRET RETR path` first checks that the
//!   path is a regular file the user may read.

use std::io;
use std::net::SocketAddr;

use crate::data::DataSetup;
use crate::protocol::Reply;
use crate::session::{Need, Session};

impl Session {
    /// ESTP.
    pub(crate) async fn estp(&mut self) -> io::Result<()> {
        let setup = std::mem::take(&mut self.options.data);
        if !setup.is_passive() {
            self.options.data = setup;
            let refused = Reply::new(520, "Unable to open a passive connection");
            return self.send_as_given(refused).await;
        }
        // opendata()'s own line comes first, when it accepts one now.
        let mut lines = Vec::new();
        let (stream, peer) = match setup {
            DataSetup::Open { stream, peer, .. } => (stream, peer),
            setup => {
                // opendata() waits as long as an idle session may.
                let timeout = self.shared.config.idle_timeout;
                match setup.connect(self.peer.ip(), timeout).await {
                    Ok(open) => {
                        lines.push("Accepted data connection".to_string());
                        open
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "ESTP: no data connection");
                        let reply = Reply::new(425, "Can't create the data socket");
                        return self.send_as_given(reply).await;
                    }
                }
            }
        };
        lines.push(format!("Connected to {}", endpoint(peer)));
        self.options.data = DataSetup::Open {
            stream,
            peer,
            passive: true,
        };
        let last = lines.len() - 1;
        let wire = lines
            .iter()
            .enumerate()
            .map(|(i, line)| format!("225{}{line}", if i == last { ' ' } else { '-' }))
            .collect();
        self.send_as_given(Reply::raw(225, wire)).await
    }

    /// PRET.
    pub(crate) async fn pret(&mut self, arg: Option<&str>) -> io::Result<()> {
        let retr = arg.and_then(|a| {
            a.get(..5)
                .filter(|verb| verb.eq_ignore_ascii_case("RETR "))
                .map(|_| &a[5..])
        });
        if let Some(path) = retr {
            if !self.readable_file(path).await {
                let missing = Reply::new(550, "Sorry, but that file doesn't exist");
                return self.send_as_given(missing).await;
            }
        }
        self.send_as_given(Reply::new(200, "Ready to proceed"))
            .await
    }

    /// `path` names a regular file this user may read.
    async fn readable_file(&self, path: &str) -> bool {
        if path.is_empty() {
            return false;
        }
        let Ok(path) = self.resolve(path) else {
            return false;
        };
        if self.allow(&path, Need::Read).is_err() {
            return false;
        }
        let meta = self.login.storage.metadata(&self.info(), &path).await;
        meta.is_ok_and(|m| m.kind() == crate::storage::FileKind::File)
    }
}

/// `(|1|address|port|)`, RFC 2428's notation (2 for IPv6).
fn endpoint(addr: SocketAddr) -> String {
    let ip = addr.ip().to_canonical();
    let family = if ip.is_ipv4() { 1 } else { 2 };
    format!("(|{family}|{ip}|{}|)", addr.port())
}
