//! AUTH, PBSZ, PROT, CCC (RFC 4217): putting the session under TLS.

use std::io;

use crate::protocol::Protection;
use crate::session::{Answer, Reply, Session};
use crate::tls::Tls;
use crate::transcript::{Channel, EventKind};

impl Session {
    /// AUTH TLS / AUTH SSL: `234`, then the handshake on the control
    /// connection. A failed handshake ends the session, since the stream is
    /// in an unknown state.
    pub(crate) async fn auth(&mut self, mechanism: &str) -> io::Result<bool> {
        let Some(tls) = self.shared.tls.clone() else {
            return self
                .reply(502, "TLS is not enabled on this server")
                .await
                .map(|()| true);
        };
        if self.control.is_tls() {
            return self.reply(503, "Already using TLS").await.map(|()| true);
        }
        let mechanism = mechanism.trim().to_ascii_uppercase();
        if !matches!(mechanism.as_str(), "TLS" | "SSL" | "TLS-C" | "TLS-P") {
            return self
                .reply(
                    504,
                    format!("Security mechanism {mechanism} not understood"),
                )
                .await
                .map(|()| true);
        }
        self.reply(234, format!("AUTH {mechanism} successful"))
            .await?;
        if self.fault.take_tls_fail() {
            tracing::info!("fault: failing the control TLS handshake");
            self.log.record(EventKind::TlsFailed {
                channel: Channel::Control,
                reason: "handshake failed by a fault".into(),
            });
            self.control.fail_tls().await;
            return Ok(false);
        }
        // RFC 4217 section 4: a new TLS session resets USER, PBSZ and PROT.
        self.tls.pbsz = false;
        // AUTH SSL historically implies protected data (RFC 4217 notes this
        // for old clients).
        self.tls.protection = if mechanism == "SSL" || mechanism == "TLS-P" {
            Protection::Private
        } else {
            Protection::Clear
        };
        Ok(self.upgrade_control(&tls).await)
    }

    /// Runs the control-channel handshake; false if the session must end.
    pub(crate) async fn upgrade_control(&mut self, tls: &crate::tls::TlsSettings) -> bool {
        match self
            .control
            .upgrade(&tls.acceptors.control, tls.handshake_timeout)
            .await
        {
            Ok(negotiated) => {
                tracing::info!(version = %negotiated.version, "control channel secured");
                self.log.record(EventKind::Tls {
                    channel: Channel::Control,
                    version: negotiated.version,
                    resumed: negotiated.resumed,
                });
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "control TLS handshake failed");
                self.log.record(EventKind::TlsFailed {
                    channel: Channel::Control,
                    reason: e.to_string(),
                });
                false
            }
        }
    }

    /// PBSZ (RFC 4217 section 8): only 0 makes sense for TLS.
    pub(crate) fn pbsz(&mut self, size: &str) -> Answer {
        if !self.control.is_tls() {
            return Err(Reply::new(503, "PBSZ needs AUTH TLS first"));
        }
        if size.trim().parse::<u64>().is_err() {
            return Err(Reply::new(501, "PBSZ needs a number"));
        }
        self.tls.pbsz = true;
        Ok(Reply::new(200, "PBSZ=0"))
    }

    /// PROT (RFC 4217 section 9).
    pub(crate) fn prot(&mut self, level: &str) -> Answer {
        if !self.control.is_tls() {
            return Err(Reply::new(503, "PROT needs AUTH TLS first"));
        }
        let late = self.habits().tls_checked_late;
        if !self.tls.pbsz && !late {
            return Err(Reply::new(503, "PROT needs PBSZ first"));
        }
        // vsftpd takes PROT C and refuses the transfer instead.
        let require_data = !late && self.shared.tls.as_ref().is_some_and(|t| t.require_data);
        let implicit = self.shared.tls.as_ref().map(|t| t.mode) == Some(Tls::Implicit);
        match level.trim().to_ascii_uppercase().as_str() {
            "P" => {
                self.tls.protection = Protection::Private;
                Ok(Reply::new(200, "Protection level set to P"))
            }
            // Implicit FTPS protects every data connection, as its clients
            // (and the issue) expect; a clear one would be a downgrade.
            "C" if implicit => Err(Reply::new(
                534,
                "Implicit FTPS: data connections are always protected",
            )),
            "C" if require_data => Err(Reply::new(
                534,
                "Data connections must be protected: use PROT P",
            )),
            "C" => {
                self.tls.protection = Protection::Clear;
                Ok(Reply::new(200, "Protection level set to C"))
            }
            "S" | "E" => Err(Reply::new(
                536,
                "Protection level not supported by TLS: use C or P",
            )),
            _ => Err(Reply::new(504, "Unknown protection level")),
        }
    }

    /// CCC (RFC 4217 section 6): opt-in, since it drops protection.
    pub(crate) async fn ccc(&mut self) -> io::Result<bool> {
        let allowed = self.shared.tls.as_ref().is_some_and(|t| t.allow_ccc);
        if !self.control.is_tls() {
            return self
                .reply(533, "Control channel is not protected")
                .await
                .map(|()| true);
        }
        if !allowed || self.shared.tls.as_ref().map(|t| t.mode) == Some(Tls::Implicit) {
            return self
                .reply(534, "CCC is not allowed on this server")
                .await
                .map(|()| true);
        }
        self.reply(200, "Control channel cleared").await?;
        let timeout = self
            .shared
            .tls
            .as_ref()
            .map(|t| t.handshake_timeout)
            .unwrap_or_default();
        match self.control.downgrade(timeout).await {
            Ok(()) => {
                self.log.record(EventKind::TlsCleared);
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(error = %e, "CCC: TLS shutdown failed");
                Ok(false)
            }
        }
    }

    /// Whether a data connection must be refused under the server's
    /// policy: `521` (RFC 4217 section 9) for clear data where TLS is
    /// required.
    pub(crate) fn data_policy(&self) -> Result<(), Reply> {
        let require = self.shared.tls.as_ref().is_some_and(|t| t.require_data);
        if require && self.tls.protection == Protection::Clear {
            return Err(Reply::new(
                521,
                "Data connections must be protected: use PBSZ 0 and PROT P",
            ));
        }
        Ok(())
    }

    /// Whether a login must wait for TLS on the control channel.
    pub(crate) fn login_policy(&self) -> Result<(), Reply> {
        let require = self.shared.tls.as_ref().is_some_and(|t| t.require_control);
        if require && !self.control.is_tls() {
            return Err(Reply::new(
                530,
                "TLS required on the control channel: use AUTH TLS first",
            ));
        }
        Ok(())
    }
}
