//! The recording proxy's session: every command relayed to the upstream,
//! its replies relayed back through the one reply path, and both written
//! to the recording. The client's own TLS (AUTH, PBSZ, PROT, CCC) and data
//! connections are the engine's, as on any server; toward the upstream the
//! data connections are passive.

use std::io;
use std::sync::{Arc, Mutex};

use super::{Finale, Job, Session, Source};
use crate::protocol::{Command, Reply};
use crate::replay::format::SessionWriter;
use crate::replay::upstream::{with_address, Captured, CapturedRead, CapturedWrite, UpstreamConn};

/// One client session's upstream and its recording.
pub(crate) struct Relay {
    up: UpstreamConn,
    writer: SessionWriter,
    /// The upstream's data connection PASV/EPSV prepared.
    data: Option<tokio::net::TcpStream>,
    /// What the running transfer's capture learned.
    captured: Option<Arc<Mutex<Captured>>>,
}

/// Commands whose replies come with a data transfer.
const TRANSFERS: &[&str] = &["RETR", "LIST", "NLST", "MLSD", "STOR", "APPE", "STOU"];

/// A reply relayed as the upstream sent it.
fn raw(lines: Vec<String>) -> Reply {
    let code = lines
        .first()
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(500);
    Reply::raw(code, lines)
}

impl Session {
    /// Opens the upstream session and relays its greeting; on failure the
    /// client gets 421 naming the upstream and why (`false`).
    pub(super) async fn relay_greet(&mut self) -> io::Result<bool> {
        let Some(to) = self.shared.upstream.clone() else {
            return Ok(false);
        };
        match UpstreamConn::connect(&to.up, to.tls.clone()).await {
            Ok((up, greeting, tls_note)) => {
                let file = to.next_file();
                let header = format!(
                    "session {} of ftpfixture's recording proxy, client {}\nupstream {}",
                    self.log.id,
                    self.peer.ip(),
                    crate::replay::upstream::redacted(&to.up.redact, &to.up.address)
                );
                let mut writer = match SessionWriter::create(
                    &file,
                    &header,
                    &to.up.redact,
                    to.up.keep_passwords,
                ) {
                    Ok(w) => w,
                    Err(e) => {
                        tracing::error!(file = %file.display(), error = %e, "cannot write the recording");
                        self.reply(421, format!("Cannot write the recording: {e}"))
                            .await?;
                        return Ok(false);
                    }
                };
                if let Some(note) = tls_note {
                    writer.note(&note);
                }
                writer.reply(&greeting);
                self.relay = Some(Box::new(Relay {
                    up,
                    writer,
                    data: None,
                    captured: None,
                }));
                self.send(raw(greeting)).await?;
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(upstream = %to.up.address, error = %e, "upstream unavailable");
                self.reply(421, format!("Upstream {} unavailable: {e}", to.up.address))
                    .await?;
                Ok(false)
            }
        }
    }

    /// Relays one command.
    pub(super) async fn relay(&mut self, line: &str) -> io::Result<()> {
        let (verb, _) = crate::protocol::split(line);
        let verb = verb.to_ascii_uppercase();
        let result = match verb.as_str() {
            "PASV" | "EPSV" | "PORT" | "EPRT" => self.relay_data_setup(line, &verb).await,
            v if TRANSFERS.contains(&v) => return self.relay_transfer(line).await,
            _ => self.relay_plain(line, &verb).await,
        };
        match result {
            Ok(()) => Ok(()),
            // The upstream is gone: say so, and end the session.
            Err(RelayError::Upstream(e)) => {
                tracing::warn!(error = %e, "upstream failed");
                if let Some(r) = &mut self.relay {
                    r.writer.note(&format!("the upstream failed: {e}"));
                }
                self.closing = Some("upstream failed");
                self.reply(421, format!("Upstream failed: {e}")).await
            }
            Err(RelayError::Client(e)) => Err(e),
        }
    }

    async fn relay_plain(&mut self, line: &str, verb: &str) -> Result<(), RelayError> {
        let relay = self.relay.as_mut().ok_or_else(no_upstream)?;
        relay.writer.command(line);
        let mut reply = relay.up.command(line).await.map_err(RelayError::Upstream)?;
        relay.writer.reply(&reply);
        // A preliminary reply (a server's 1xx to a command with no data)
        // is followed by the final one.
        while reply[0].starts_with('1') {
            self.send(raw(reply)).await.map_err(RelayError::Client)?;
            let relay = self.relay.as_mut().ok_or_else(no_upstream)?;
            reply = relay.up.reply().await.map_err(RelayError::Upstream)?;
            relay.writer.reply(&reply);
        }
        if verb == "QUIT" {
            self.closing = Some("QUIT");
        }
        self.send(raw(reply)).await.map_err(RelayError::Client)
    }

    /// PASV and EPSV go to the upstream as the client sent them, PORT and
    /// EPRT as EPSV (falling back to PASV): passive toward the upstream,
    /// whatever the client does. The client's side is the engine's.
    async fn relay_data_setup(&mut self, line: &str, verb: &str) -> Result<(), RelayError> {
        let ours = match Command::parse(line) {
            Ok(Command::Pasv) => self.pasv(),
            Ok(Command::Epsv(a)) => self.epsv(a),
            Ok(Command::Port(addr)) => self.port(addr, "PORT"),
            Ok(Command::Eprt(addr)) => self.port(addr, "EPRT"),
            Ok(_) => Err(Reply::new(500, "Unknown command")),
            Err(e) => Err(Reply::new(e.code(), e.to_string())),
        };
        let ours = match ours {
            Ok(r) => r,
            // The client's own mistake: the engine's answer, nothing asked.
            Err(refused) => return self.send(refused).await.map_err(RelayError::Client),
        };
        let relay = self.relay.as_mut().ok_or_else(no_upstream)?;
        relay.data = None;
        relay.up.protect().await.map_err(RelayError::Upstream)?;
        let passive = matches!(verb, "PASV" | "EPSV");
        let asked = if passive {
            line.to_string()
        } else {
            "EPSV".to_string()
        };
        let mut reply = relay
            .up
            .command(&asked)
            .await
            .map_err(RelayError::Upstream)?;
        if !passive && !reply[0].starts_with('2') {
            reply = relay
                .up
                .command("PASV")
                .await
                .map_err(RelayError::Upstream)?;
        }
        relay.writer.command(line);
        if reply[0].starts_with('2') {
            match relay.up.connect_data(&reply[0]).await {
                Ok(s) => relay.data = Some(s),
                Err(e) => {
                    relay
                        .writer
                        .note(&format!("cannot reach the upstream's data port: {e}"));
                    return Err(RelayError::Upstream(e));
                }
            }
        }
        if passive {
            relay.writer.reply(&reply);
            if !reply[0].starts_with('2') {
                // The upstream refused: its answer, and our listener goes.
                self.options.data = Default::default();
                return self.send(raw(reply)).await.map_err(RelayError::Client);
            }
            let ours = ours.wire_lines().remove(0);
            let shown = with_address(&reply[0], &ours);
            let mut lines = reply;
            lines[0] = shown;
            self.send(raw(lines)).await.map_err(RelayError::Client)
        } else {
            let lines = ours.wire_lines();
            relay.writer.note(&format!(
                "the upstream was asked {} (passive); this reply is ftpfixture's",
                reply[0]
            ));
            relay.writer.reply(&lines);
            self.send(ours).await.map_err(RelayError::Client)
        }
    }

    /// A transfer: the command to the upstream, its 1xx to the client, the
    /// bytes through (recorded as they pass), and the upstream's final
    /// reply once they are (see `relay_final`).
    async fn relay_transfer(&mut self, line: &str) -> io::Result<()> {
        let (verb, _) = crate::protocol::split(line);
        let download = !matches!(verb.to_ascii_uppercase().as_str(), "STOR" | "APPE" | "STOU");
        let Some(relay) = self.relay.as_mut() else {
            return self.reply(421, "No upstream").await;
        };
        relay.writer.command(line);
        let data = relay.data.take();
        let first = match relay.up.command(line).await {
            Ok(r) => r,
            Err(e) => {
                self.closing = Some("upstream failed");
                return self.reply(421, format!("Upstream failed: {e}")).await;
            }
        };
        relay.writer.reply(&first);
        let (true, Some(data)) = (first[0].starts_with('1'), data) else {
            // Refused (or no data connection was prepared): as it came.
            self.options.data = Default::default();
            return self.send(raw(first)).await;
        };
        let data = match relay.up.wrap_data(data).await {
            Ok(d) => d,
            Err(e) => {
                relay.writer.note(&format!(
                    "TLS on the upstream's data connection failed: {e}"
                ));
                self.closing = Some("upstream failed");
                return self
                    .reply(421, format!("Upstream data connection failed: {e}"))
                    .await;
            }
        };
        let captured = Arc::new(Mutex::new(Captured::default()));
        relay.captured = Some(captured.clone());
        let dir = self
            .shared
            .upstream
            .as_ref()
            .map(|t| t.up.out.clone())
            .unwrap_or_default();
        let job = if download {
            Job::Send(
                Source::Stream(Box::new(CapturedRead::new(data, &dir, captured))),
                false,
            )
        } else {
            Job::Upload(Box::new(CapturedWrite::new(data, &dir, captured)))
        };
        self.start_transfer(raw(first), job, String::new()).await?;
        match self.running.as_mut() {
            Some(running) => running.finale = Finale::Upstream,
            None => {
                // The client's data connection failed (the engine said
                // 425): the upstream's transfer ends with it.
                if let Some(relay) = self.relay.as_mut() {
                    relay.captured = None;
                    let _ = relay.up.send("ABOR").await;
                    if let Ok(r) = relay.up.reply().await {
                        relay.writer.note(&format!(
                            "the client's data connection failed; the upstream said {}",
                            r.join(" / ")
                        ));
                        if r[0].starts_with('4') {
                            let _ = relay.up.reply().await;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The final reply of a relayed transfer: the upstream's when the
    /// client's side went through (`complete`), else the engine's `own`
    /// (the upstream's is still read and recorded).
    pub(super) async fn relay_final(&mut self, complete: bool, own: Reply) -> Reply {
        let Some(relay) = self.relay.as_mut() else {
            return own;
        };
        let captured = relay
            .captured
            .take()
            .and_then(|c| c.lock().unwrap_or_else(|p| p.into_inner()).data.take());
        if let Some(data) = &captured {
            relay.writer.data(data);
        }
        match relay.up.reply().await {
            Ok(lines) => {
                relay.writer.reply(&lines);
                if complete {
                    raw(lines)
                } else {
                    own
                }
            }
            Err(e) => {
                relay
                    .writer
                    .note(&format!("the upstream's final reply did not come: {e}"));
                self.closing = Some("upstream failed");
                Reply::new(426, format!("Upstream failed: {e}"))
            }
        }
    }
}

/// Why a relayed command failed.
enum RelayError {
    /// The upstream's connection: the session ends with 421.
    Upstream(io::Error),
    /// The client's connection.
    Client(io::Error),
}

fn no_upstream() -> RelayError {
    RelayError::Upstream(io::Error::other("no upstream session"))
}
