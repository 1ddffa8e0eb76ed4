//! The life of one control connection: TLS for implicit FTPS, the
//! greeting (or a refusal), the loop that waits for a line, a transfer's
//! end, the idle timer or a stop, and the goodbye.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tracing::Instrument;

use super::control::{Control, Incoming};
use super::{FaultState, LoginState, Options, Session, TlsState, Voice};
use crate::data::copy::Outcome;
use crate::fault::Action;
use crate::protocol::Protection;
use crate::server::Shared;
use crate::transcript::{ClosedBy, EventKind, SessionLog};

/// The greeting when neither the test nor a personality gives one.
const DEFAULT_GREETING: &str = "ftpfixture ready";

/// What ends a session from outside.
enum Interrupt {
    Shutdown,
    Reset,
}

enum Event {
    Input(Incoming),
    Finished(Result<Outcome, tokio::task::JoinError>),
    Idle,
    Shutdown,
    /// The server stops while a transfer runs.
    ShutdownInTransfer,
    Reset,
}

/// `idle` from now, or a far future where that cannot be represented (an
/// idle timeout of "never").
fn deadline_after(idle: std::time::Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(idle)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(86_400 * 365 * 30))
}

impl Session {
    /// The future that serves one control connection until it closes;
    /// `guard` (the session's place in the live count) is dropped last.
    ///
    /// Not an `async fn`: the session is built here, so the task's future
    /// holds it once, not beside the arguments it was built from (a few
    /// hundred bytes per idle session).
    pub(crate) fn run(
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        local: Option<SocketAddr>,
        shared: Arc<Shared>,
        refusal: Option<crate::server::run::Refusal>,
        guard: crate::server::run::LiveGuard,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let local = local.unwrap_or_else(|| stream.local_addr().unwrap_or(peer));
        let span = tracing::info_span!("session", id, %peer, user = tracing::field::Empty);
        let max_line = shared.config.max_line;
        let log = SessionLog {
            id,
            recorder: shared.recorder.clone(),
        };
        log.record(EventKind::Connected { peer, local });
        let options = Options::starting(shared.profile);
        let mut session = Session {
            log,
            login: LoginState::new(shared.storage.clone()),
            shared,
            control: Control::tcp(stream, max_line),
            peer,
            local,
            options,
            running: None,
            tls: TlsState::default(),
            voice: Voice::default(),
            fault: FaultState::default(),
            closing: None,
            login_failures: 0,
            relay: None,
            replay: None,
        };
        async move {
            tracing::info!("connected");
            // Implicit FTPS: TLS from the first byte, before the greeting;
            // data connections are always protected.
            let implicit = session
                .shared
                .tls
                .clone()
                .filter(|t| t.mode == crate::tls::Tls::Implicit);
            let handshake_ok = match &implicit {
                Some(tls) => {
                    session.tls.protection = Protection::Private;
                    session.tls.pbsz = true;
                    Box::pin(session.upgrade_control(tls)).await
                }
                None => true,
            };
            let result = if !handshake_ok {
                Ok((ClosedBy::Server, "TLS handshake failed"))
            } else if let Some(refusal) = refusal {
                use crate::server::run::Refusal;
                let (text, why) = match refusal {
                    Refusal::TooMany => {
                        ("Too many connections, try again later", "too many sessions")
                    }
                    Refusal::TooManyFromAddress => (
                        "Too many connections from your address, try again later",
                        "too many sessions from this address",
                    ),
                };
                tracing::warn!("refused: {why}");
                match Box::pin(session.reply(421, text)).await {
                    Ok(()) => Ok((ClosedBy::Server, why)),
                    Err(e) => Err(e),
                }
            } else {
                session.greet().await
            };
            let (by, reason) = match result {
                Ok(end) => end,
                Err(e) => {
                    tracing::info!(error = %e, "control connection failed");
                    (ClosedBy::Client, "connection error")
                }
            };
            // A transfer still running has its end recorded before the
            // session's: an upload keeps every byte it gets.
            Box::pin(session.end_transfer_with_session(by, reason)).await;
            session.control.close().await;
            session.log.record(EventKind::Disconnected {
                by,
                reason: reason.to_string(),
            });
            tracing::info!("disconnected");
            drop(guard);
        }
        .instrument(span)
    }

    /// The command loop; returns who ended the session and why.
    async fn serve(&mut self) -> io::Result<(ClosedBy, &'static str)> {
        let stop = self.shared.shutdown.clone();
        let mut interrupt = self.shared.interrupt.subscribe();
        let idle = self.shared.config.idle_timeout;
        // One future for the whole session, not one per command: it stays
        // registered with the one channel that a reset and the stop both
        // bump. The stop flips `shutdown` before it bumps, so a stop that
        // came before this session subscribed is seen here too.
        let interrupted = async move {
            if !*stop.borrow() {
                // Cannot fail: the session holds `shared`, and with it the
                // sender. Every stop goes through `Core::request_stop`.
                let _ = interrupt.changed().await;
            }
            if *stop.borrow() {
                Interrupt::Shutdown
            } else {
                Interrupt::Reset
            }
        };
        tokio::pin!(interrupted);
        // One idle timer for the whole session, moved on lazily: waiting
        // for a command notes when it began, and only when the timer fires
        // is it checked against that and set again. A timer per command
        // would be registered with the runtime and removed again each time.
        let idle_timer = tokio::time::sleep(idle);
        tokio::pin!(idle_timer);
        loop {
            let event = match self.running.as_mut() {
                // While a transfer runs, the control channel stays readable
                // (ABOR, STAT) and there is no idle timeout; a shutdown waits
                // for the transfer within the server's grace period. A reset
                // does not wait: it ends the transfer and the session.
                Some(running) => tokio::select! {
                    biased;
                    outcome = &mut running.handle => Event::Finished(outcome),
                    why = &mut interrupted => match why {
                        Interrupt::Reset => Event::Reset,
                        Interrupt::Shutdown => Event::ShutdownInTransfer,
                    },
                    incoming = self.control.next() => Event::Input(incoming?),
                },
                None => {
                    let due = deadline_after(idle);
                    loop {
                        tokio::select! {
                            // Cancel-safe: a line half read stays buffered.
                            incoming = self.control.next() => break Event::Input(incoming?),
                            () = &mut idle_timer => {
                                if tokio::time::Instant::now() >= due {
                                    break Event::Idle;
                                }
                                idle_timer.as_mut().reset(due);
                            }
                            why = &mut interrupted => break match why {
                                Interrupt::Reset => Event::Reset,
                                Interrupt::Shutdown => Event::Shutdown,
                            },
                        }
                    }
                }
            };
            match event {
                Event::Finished(outcome) => {
                    // report() takes `running` for its success text.
                    Box::pin(self.report(outcome)).await?;
                }
                Event::Input(Incoming::Closed) => {
                    tracing::info!("client closed the connection");
                    return Ok((ClosedBy::Client, "connection closed"));
                }
                Event::Input(Incoming::TooLong) => {
                    self.forget_command_faults();
                    tracing::warn!("command line too long");
                    self.log.record(EventKind::BadInput {
                        reason: "line too long".into(),
                    });
                    Box::pin(self.reply(500, "Command line too long")).await?;
                }
                Event::Input(Incoming::NotUtf8(line)) => {
                    self.forget_command_faults();
                    tracing::warn!(line = %line, "command is not valid UTF-8");
                    self.log.record(EventKind::BadInput {
                        reason: format!("not UTF-8: {line}"),
                    });
                    Box::pin(self.reply(501, "Command is not valid UTF-8")).await?;
                }
                // Boxed: a command's future lives only while it runs, and
                // an idle session holds just this loop. The largest
                // commands box their own futures in `dispatch`, so this box
                // is small enough for the allocator's per-thread cache.
                Event::Input(Incoming::Line { line, wire }) => {
                    Box::pin(self.on_line(line, wire)).await?
                }
                Event::Idle => {
                    self.forget_command_faults();
                    tracing::info!("idle timeout");
                    Box::pin(self.reply(421, "Idle timeout, closing control connection")).await?;
                    return Ok((ClosedBy::Server, "idle timeout"));
                }
                Event::Shutdown => {
                    self.forget_command_faults();
                    Box::pin(self.reply(421, "Server shutting down")).await?;
                    return Ok((ClosedBy::Server, "shutdown"));
                }
                Event::ShutdownInTransfer => {
                    Box::pin(self.finish_within_grace()).await?;
                    self.fault.clear();
                    Box::pin(self.reply(421, "Server shutting down")).await?;
                    return Ok((ClosedBy::Server, "shutdown"));
                }
                Event::Reset => {
                    if self.running.is_some() {
                        Box::pin(self.stop_transfer(Some("reset"))).await;
                        Box::pin(self.reply(426, "Connection closed; transfer aborted")).await?;
                    }
                    self.fault.clear();
                    Box::pin(self.reply(421, "Server reset, closing control connection")).await?;
                    return Ok((ClosedBy::Server, "reset"));
                }
            }
            if let Some(reason) = self.closing {
                return Ok((ClosedBy::Server, reason));
            }
        }
    }

    /// Replies that answer no command (bad input, idle, shutdown) must not
    /// inherit the delay, split or quirks of the last command's faults.
    /// While a transfer runs they stay: its final reply is still to come.
    fn forget_command_faults(&mut self) {
        if self.running.is_none() {
            self.fault.clear();
        }
    }

    /// The greeting (or what a `CONNECT` fault puts in its place), then the
    /// command loop.
    async fn greet(&mut self) -> io::Result<(ClosedBy, &'static str)> {
        // Boxed, as the loop's rare replies are: the task's future then
        // holds the command loop and no more while the session idles.
        Box::pin(self.send_greeting()).await?;
        if let Some(reason) = self.closing {
            return Ok((ClosedBy::Server, reason));
        }
        self.serve().await
    }

    /// The greeting, or what a `CONNECT` fault puts in its place.
    async fn send_greeting(&mut self) -> io::Result<()> {
        let fired = self.fire_faults(crate::fault::CONNECT, None);
        self.fault.set(fired);
        match self.fault.fired_mut().and_then(|f| f.instead.take()) {
            Some(instead) => {
                let refusal = matches!(&instead, Action::Reply { code, .. } if *code >= 400);
                Box::pin(self.fault_instead(instead)).await?;
                if refusal && self.closing.is_none() {
                    self.closing = Some("fault: greeting refused");
                }
            }
            None if self.shared.upstream.is_some() => {
                if !Box::pin(self.relay_greet()).await? {
                    self.closing = Some("upstream unavailable");
                }
            }
            None if self.shared.replay.is_some() => self.replay_greet().await?,
            // An explicit greeting wins over the personality's.
            None => match (&self.shared.config.greeting, self.shared.profile) {
                (Some(text), _) => {
                    let greeting = crate::protocol::Reply::new(220, text.clone());
                    self.send_as_given(greeting).await?;
                }
                (None, Some(profile)) => {
                    let greeting =
                        profile.greeting(&self.local.ip().to_string(), self.local.port());
                    self.send(greeting).await?;
                }
                (None, None) => self.reply(220, DEFAULT_GREETING).await?,
            },
        }
        Ok(())
    }
}
