//! The reply path: the one place where replies are written. A reply is
//! reworded by the personality, replaced or bent by the command's faults,
//! recorded in the transcript, and sent.

use std::io;

use super::Session;
use crate::protocol::{Reply, TransferType};
use crate::storage::VirtualPath;
use crate::transcript::EventKind;

impl Session {
    /// Sends one reply: the one place where replies are written.
    pub(crate) async fn send(&mut self, reply: Reply) -> io::Result<()> {
        let mut reply = reply;
        if let (Some(profile), false) = (self.shared.profile, self.voice.as_given) {
            let user = self.account().map(|a| a.name().to_string());
            let abs = self
                .login
                .cwd
                .join(&self.voice.arg)
                .map(|p| p.to_string())
                .unwrap_or_default();
            let fill = crate::personality::Fill {
                abs: &abs,
                moved: self.voice.moved,
                verb: &self.voice.verb,
                arg: &self.voice.arg,
                cwd: self.login.cwd.as_str(),
                user: user.as_deref().unwrap_or(""),
                count: self.voice.listed,
                ascii: self.options.transfer_type == TransferType::Ascii,
                up: self.voice.bytes_up,
                down: self.voice.bytes_down,
                active_port: self.voice.active_port,
                missing: self.voice.missing,
            };
            reply = profile.rewrite(reply, &fill);
            if let Some(line) = self.voice.preface.take() {
                reply = profile.prefaced(line, reply);
            }
        }
        let is_final = reply.code >= 200;
        if is_final {
            if let Some((code, text)) = self.fault.fired_mut().and_then(|f| f.reply_after.take()) {
                reply = Reply::new(code, text);
            }
        }
        if !self.fault.fired().quirks.is_empty() {
            reply = crate::fault::rewrite_reply(self.fault.fired(), reply, self.local.ip());
        }
        if let Some(delay) = self.fault.fired().delay {
            // Boxed (as the pause below): a timer is large, and only a
            // fault's reply needs one.
            Box::pin(tokio::time::sleep(delay)).await;
        }
        if is_final && self.fault.fired().close_after_reply {
            self.closing = Some("fault: close after reply");
        }
        // Not while a transfer runs: the close waits for its end, and the
        // reply must not wait with it.
        if is_final
            && self.closing.is_some()
            && self.fault.fired().split.is_none()
            && self.running.is_none()
        {
            // The session ends after this reply (QUIT, or the server closes).
            self.control.hold_for_close();
        }
        if reply.code >= 400 {
            tracing::info!(code = reply.code, text = %reply.lines[0], "error reply");
        } else {
            tracing::debug!(code = reply.code, text = %reply.lines[0], "reply");
        }
        // Recorded before it is sent: a client that has the reply finds it
        // in the transcript.
        let code = reply.code;
        let lines = reply.into_wire_lines();
        self.control.stage(&lines);
        self.log.record(EventKind::Reply { code, lines });
        match self.fault.fired().split {
            Some((bytes, pause)) => {
                let wire = self.control.take_staged();
                for (i, piece) in wire.chunks(bytes).enumerate() {
                    if i > 0 {
                        // A pause, so the pieces arrive as separate reads.
                        Box::pin(tokio::time::sleep(pause)).await;
                    }
                    self.control.send_raw(piece).await?;
                }
                Ok(())
            }
            None => self.control.send_staged().await,
        }
    }

    /// Sends a one-line reply.
    pub(crate) async fn reply(&mut self, code: u16, text: impl Into<String>) -> io::Result<()> {
        self.send(Reply::new(code, text)).await
    }
}

/// Doubles quotes for a 257 reply (RFC 959 appendix II).
pub(crate) fn quote_path(path: &VirtualPath) -> String {
    format!("\"{}\"", path.as_str().replace('"', "\"\""))
}
