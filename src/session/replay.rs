//! Serving a recording: each command answered by the recorded step that
//! matches it (see `replay::matching`), through the one reply path. What
//! changes from run to run is the engine's: passive replies name its own
//! listener (in the recorded format), transfers use its data connections,
//! and an upload's final reply carries the new byte count.

use std::io;
use std::sync::Arc;

use super::{Finale, Job, Login, Session, Source};
use crate::auth::Account;
use crate::protocol::{Command, Reply};
use crate::replay::upstream::with_address;
use crate::storage::WriteMode;
use crate::transcript::EventKind;

/// A recorded reply, as it was on the wire.
fn raw(lines: &[String]) -> Reply {
    let code = lines
        .first()
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(500);
    Reply::raw(code, lines.to_vec())
}

impl Session {
    /// The recorded greeting of the session this client follows.
    pub(super) async fn replay_greet(&mut self) -> io::Result<()> {
        let Some(replay) = self.shared.replay.clone() else {
            return Ok(());
        };
        let mut cursor = replay.assign(self.log.id);
        let greeting = replay.greeting(&mut cursor);
        self.replay = Some(Box::new(cursor));
        match greeting {
            Some(lines) => self.send(raw(&lines)).await,
            None => self.reply(220, "ftpfixture replay ready").await,
        }
    }

    /// Answers one command from the recording.
    pub(super) async fn replay_command(&mut self, line: &str) -> io::Result<()> {
        let Some(replay) = self.shared.replay.clone() else {
            return Ok(());
        };
        let Some(mut cursor) = self.replay.take() else {
            return self.reply(421, "No recorded session").await;
        };
        let (verb, arg) = crate::protocol::split(line);
        let verb = verb.to_ascii_uppercase();
        if verb == "USER" {
            if let Some(user) = arg {
                replay.follow_user(&mut cursor, user);
            }
        }
        let answer = replay.answer(&mut cursor, self.log.id, line);
        self.replay = Some(cursor);
        let step = match answer {
            Ok(step) => step,
            Err(miss) => {
                tracing::warn!(%miss, "replay miss");
                self.log.record(EventKind::ReplayMiss {
                    command: miss.command.clone(),
                    expected: miss.expected.clone(),
                });
                let expected = match &miss.expected {
                    Some(e) => format!("it expected {e:?} next"),
                    None => "its recorded session has ended".to_string(),
                };
                let code = replay.recording.settings.on_miss;
                return self
                    .reply(
                        code,
                        format!("Replay miss: {line:?} is not in the recording here; {expected}"),
                    )
                    .await;
            }
        };
        // The engine's part: the state the recording's replies assume.
        let parsed = Command::parse(line).ok();
        match (&parsed, verb.as_str()) {
            (Some(Command::Type(t)), _) => {
                self.set_type(*t);
            }
            (Some(Command::User(name)), _) => {
                self.login.state = Login::NeedPassword(name.clone());
            }
            (Some(Command::Pass(_)), _)
                if step.replies.last().is_some_and(|r| r[0].starts_with("230")) =>
            {
                let name = match std::mem::take(&mut self.login.state) {
                    Login::NeedPassword(n) => n,
                    _ => "anonymous".to_string(),
                };
                tracing::Span::current().record("user", name.as_str());
                self.login.state = Login::Done(Arc::new(Account::new(name)));
            }
            (Some(Command::Rein), _) => {
                self.login = super::LoginState::new(self.shared.storage.clone());
                self.options = Default::default();
            }
            (Some(Command::Quit), _) => self.closing = Some("QUIT"),
            _ => {}
        }
        let ours = match &parsed {
            Some(Command::Pasv) => Some(self.pasv()),
            Some(Command::Epsv(a)) => Some(self.epsv(*a)),
            Some(Command::Port(addr)) => Some(self.port(*addr, "PORT")),
            Some(Command::Eprt(addr)) => Some(self.port(*addr, "EPRT")),
            _ => None,
        };
        match ours {
            // The engine could not open what the client asked for.
            Some(Err(refused)) => return self.send(refused).await,
            Some(Ok(ours)) => {
                let mut lines = step.replies.last().cloned().unwrap_or_default();
                if matches!(verb.as_str(), "PASV" | "EPSV") {
                    if let Some(first) = lines.first_mut() {
                        *first = with_address(first, &ours.wire_lines()[0]);
                    }
                }
                return self.send(raw(&lines)).await;
            }
            None => {}
        }
        let data = step.data.clone();
        match (data, step.replies.as_slice()) {
            (Some(data), [opening, rest @ ..]) if opening[0].starts_with('1') => {
                let job = if data.download {
                    match replay.recording.bytes(&data) {
                        Ok(bytes) => {
                            Job::Send(Source::Stream(Box::new(std::io::Cursor::new(bytes))), false)
                        }
                        Err(e) => {
                            return self
                                .reply(451, format!("The recording's data is unreadable: {e}"))
                                .await
                        }
                    }
                } else {
                    // An upload lands in the server's storage, where the
                    // test can read it.
                    let name = match arg {
                        Some(a) if verb != "STOU" => a.to_string(),
                        _ => format!("replay-upload-{}", self.log.id),
                    };
                    let path = match self.resolve(&name) {
                        Ok(p) => p,
                        Err(refused) => return self.send(refused).await,
                    };
                    let mode = if verb == "APPE" {
                        WriteMode::Append
                    } else {
                        WriteMode::Truncate
                    };
                    Job::Receive(path, mode)
                };
                self.start_transfer(raw(opening), job, String::new())
                    .await?;
                if let (Some(running), Some(last)) = (self.running.as_mut(), rest.last()) {
                    running.finale = Finale::Recorded {
                        lines: last.clone(),
                        bytes: data.bytes,
                    };
                }
                Ok(())
            }
            (_, replies) => {
                for r in replies {
                    self.send(raw(r)).await?;
                }
                Ok(())
            }
        }
    }
}
