//! A transfer in flight: opening the data connection, the copy task, and
//! how it ends (226, 426, 451…, or ABOR).

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::{storage_reply, Reply, Running, Session, SessionLog};
use crate::data::copy::{self, Outcome, Sink};
use crate::data::Stream;
use crate::data::{DataSetup, IdleLimit};
use crate::fault::{DataFault, FaultySink, FaultyStream};
use crate::protocol::Protection;
use crate::protocol::TransferType;
use crate::storage::{ReadStream, StorageError, VirtualPath, WriteMode};
use crate::tls::TlsSettings;
use crate::transcript::Channel;
use crate::transcript::{ClosedBy, DataEnd, DataMode, Direction, EventKind};

enum SetupKind {
    Passive,
    Active,
}

/// Where a download's bytes come from.
pub(crate) enum Source {
    Stream(ReadStream),
    /// A file on the local disk, which a plain download sends without
    /// copying it through the server (see `copy::send_file`).
    File(std::fs::File),
}

impl Source {
    fn into_stream(self) -> ReadStream {
        match self {
            Source::Stream(s) => s,
            Source::File(f) => Box::new(tokio::fs::File::from_std(f)),
        }
    }
}

/// What a transfer task does once the data connection is up.
pub(crate) enum Job {
    Send(Source, bool),
    /// The path to open for writing is opened only once the data connection
    /// exists, so a failed connection leaves an existing file untouched.
    Receive(VirtualPath, WriteMode),
    /// An upload into a stream (the recording proxy's upstream), bytes as
    /// they come.
    Upload(crate::storage::WriteStream),
}

impl Session {
    /// True when transfers convert line endings: TYPE A, unless the
    /// personality sends bytes as they are in TYPE A (vsftpd).
    pub(crate) fn ascii_data(&self) -> bool {
        self.options.transfer_type == TransferType::Ascii
            && self.shared.profile.is_none_or(|p| p.ascii_data)
    }

    /// Whether a download could go from file to socket inside the kernel:
    /// a plain data connection, bytes sent as they are, no data fault for
    /// this command. (`start_transfer` decides; this saves opening a file
    /// for it when it cannot.)
    pub(crate) fn zero_copy_possible(&self) -> bool {
        !self.ascii_data()
            && (self.shared.tls.is_none() || self.tls.protection == Protection::Clear)
            && self.fault.fired().data.is_none()
    }

    /// Opens the file an upload writes: the local file itself when the
    /// storage has one and no storage fault must wrap the stream.
    async fn open_sink(
        &self,
        path: &VirtualPath,
        mode: WriteMode,
        fault: Option<DataFault>,
    ) -> Result<Sink, StorageError> {
        let info = self.info();
        if let Some(f) = fault {
            let sink = self.login.storage.write(&info, path, mode).await?;
            return Ok(Sink::Stream(Box::new(FaultySink::new(sink, f))));
        }
        Ok(
            match self.login.storage.write_local(&info, path, mode).await? {
                Some(file) => Sink::File(copy::LocalFile::new(file, self.shared.disk_pace.clone())),
                None => Sink::Stream(self.login.storage.write(&info, path, mode).await?),
            },
        )
    }

    /// Gets the data connection, sends the 150, and starts the copy task.
    pub(crate) async fn start_transfer(
        &mut self,
        opening: Reply,
        job: Job,
        success: String,
    ) -> io::Result<()> {
        let setup = std::mem::take(&mut self.options.data);
        if let Err(refused) = self.data_policy() {
            return self.send(refused).await;
        }
        let setup_kind = if setup.is_passive() {
            SetupKind::Passive
        } else {
            SetupKind::Active
        };
        let timeout = self.shared.config.data_timeout;
        let fault = self.fault.fired_mut().and_then(|f| f.data.take());
        if fault == Some(DataFault::Never) {
            // Hold the listener (a passive client's connect still
            // succeeds, into the backlog) but never use it.
            tracing::info!("fault: data connection never accepted");
            tokio::time::sleep(timeout).await;
            drop(setup);
            return self.reply(425, "Data connection timed out").await;
        }
        let connected = if self.habits().passive_listener_stays {
            let (connected, kept) = setup.connect_keeping(self.peer.ip(), timeout).await;
            if let Some(listener) = kept {
                self.options.data = DataSetup::Passive(listener);
            }
            connected
        } else {
            setup.connect(self.peer.ip(), timeout).await
        };
        let (stream, data_peer) = match connected {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(error = %e, "no data connection");
                return self.reply(425, e.to_string()).await;
            }
        };
        tracing::debug!(%data_peer, "data connection open");
        let mode = if matches!(setup_kind, SetupKind::Passive) {
            DataMode::Passive
        } else {
            DataMode::Active
        };
        self.log.record(EventKind::DataOpen {
            mode,
            peer: data_peer,
        });
        if let Some(DataFault::Drop { reset: true, .. }) = fault {
            // Linger 0: closing sends RST instead of FIN.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(std::time::Duration::ZERO));
        }
        // No progress for the data timeout (a client that stopped reading
        // or sending without closing) ends the transfer with 426.
        let idle_limited = move |stream: tokio::net::TcpStream| -> Box<dyn Stream> {
            Box::new(IdleLimit::new(stream, timeout))
        };
        let tls_fail = self.fault.take_tls_fail();
        let (stream_fault, sink_fault) = match fault {
            Some(f @ (DataFault::DiskFull { .. } | DataFault::FailAfterData)) => (None, Some(f)),
            other => (other, None),
        };
        let on_wire = Arc::new(AtomicU64::new(0));
        let lies = matches!(
            stream_fault,
            Some(DataFault::Truncate { .. } | DataFault::Extra { .. })
        );
        let wire = on_wire.clone();
        // With PROT P the handshake runs in the transfer task, after the
        // 150: clients such as Python's ftplib wrap the data socket only
        // once they have read the preliminary reply.
        let secure = match (&self.shared.tls, self.tls.protection) {
            (Some(tls), Protection::Private) => Some(DataTls {
                settings: tls.clone(),
                log: self.log.clone(),
                fail: tls_fail,
                upload: matches!(job, Job::Receive(..) | Job::Upload(..)),
            }),
            _ => None,
        };
        let progress = Arc::new(AtomicU64::new(0));
        let p = progress.clone();
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let direction = match job {
            Job::Send(..) => Direction::Sent,
            Job::Receive(..) | Job::Upload(..) => Direction::Received,
        };
        let handle = match job {
            Job::Send(Source::File(file), false) if secure.is_none() && stream_fault.is_none() => {
                self.send(opening).await?;
                let pace = self.shared.read_pace.clone();
                tokio::spawn(copy::send_file(file, stream, timeout, p, stopping, pace))
            }
            Job::Send(source, ascii) => {
                self.send(opening).await?;
                let encoder = ascii.then(|| {
                    if self.habits().ascii_cr_before_every_lf {
                        crate::data::ToWire::before_every_lf()
                    } else {
                        crate::data::ToWire::default()
                    }
                });
                let source = source.into_stream();
                let data = idle_limited(stream);
                tokio::spawn(async move {
                    match protect(data, secure).await {
                        Ok(data) => {
                            copy::send(
                                source,
                                with_fault(data, stream_fault, timeout, wire),
                                encoder,
                                p,
                                stopping,
                            )
                            .await
                        }
                        Err(refused) => refused,
                    }
                })
            }
            Job::Upload(sink) => {
                self.send(opening).await?;
                let data = idle_limited(stream);
                tokio::spawn(async move {
                    match protect(data, secure).await {
                        Ok(data) => {
                            copy::receive(
                                with_fault(data, stream_fault, timeout, wire),
                                Sink::Stream(sink),
                                None,
                                p,
                                stopping,
                            )
                            .await
                        }
                        Err(refused) => refused,
                    }
                })
            }
            Job::Receive(path, mode) => {
                self.settle(&path).await;
                // A SITE UMASK other than the storage's own applies to a
                // file this upload creates, once its bytes are in.
                let umask = self.options.umask;
                let chmod = match umask {
                    super::DEFAULT_UMASK => None,
                    _ => match self.login.storage.metadata(&self.info(), &path).await {
                        Err(_) => Some((self.login.storage.clone(), self.info(), path.clone())),
                        Ok(_) => None,
                    },
                };
                let ticket = self
                    .shared
                    .uploads
                    .begin(&self.upload_key(&path), self.log.id);
                let sink = match self.open_sink(&path, mode, sink_fault).await {
                    Ok(sink) => sink,
                    Err(e) => return self.send(storage_reply(&path, &e)).await,
                };
                self.send(opening).await?;
                let decoder = self.ascii_data().then(|| {
                    if self.habits().ascii_drops_every_cr {
                        crate::data::FromWire::dropping_every_cr()
                    } else {
                        crate::data::FromWire::default()
                    }
                });
                let data = idle_limited(stream);
                tokio::spawn(async move {
                    let outcome = match protect(data, secure).await {
                        Ok(data) => {
                            copy::receive(
                                with_fault(data, stream_fault, timeout, wire),
                                sink,
                                decoder,
                                p,
                                stopping,
                            )
                            .await
                        }
                        Err(refused) => refused,
                    };
                    if let (Some((storage, info, path)), Outcome::Complete { .. }) =
                        (chmod, &outcome)
                    {
                        if let Err(e) = storage.set_mode(&info, &path, 0o666 & !umask).await {
                            tracing::debug!(%path, error = %e, "umask not applied");
                        }
                    }
                    // Only now is every byte in the file: other sessions
                    // waiting on it go on.
                    drop(ticket);
                    outcome
                })
            }
        };
        self.running = Some(Box::new(Running {
            handle,
            progress,
            on_wire: lies.then_some(on_wire),
            success,
            finale: super::Finale::Own,
            direction,
            stop,
            verb: self.voice.verb.clone(),
            arg: self.voice.arg.clone(),
        }));
        Ok(())
    }

    /// Sends the final reply of a finished transfer.
    pub(crate) async fn report(
        &mut self,
        outcome: Result<Outcome, tokio::task::JoinError>,
    ) -> io::Result<()> {
        let (success, direction, on_wire, finale) = match self.running.take() {
            Some(r) => {
                // The final reply answers the command that started it.
                self.voice.verb = r.verb;
                self.voice.arg = r.arg;
                (Some(r.success), r.direction, r.on_wire, r.finale)
            }
            None => (None, Direction::Sent, None, super::Finale::Own),
        };
        let (bytes, end) = ended(&outcome);
        self.voice.moved = bytes;
        let complete = matches!(outcome, Ok(Outcome::Complete { .. }));
        // A lying fault (truncate, extra) reports what really went out.
        let bytes = on_wire.map_or(bytes, |w| w.load(std::sync::atomic::Ordering::Relaxed));
        self.log.record(EventKind::DataClose {
            direction,
            bytes,
            end,
            reason: None,
        });
        let reply = match outcome {
            Ok(Outcome::Complete { bytes }) => {
                tracing::debug!(bytes, "transfer complete");
                self.voice.bytes_data += bytes;
                match direction {
                    Direction::Received => self.voice.bytes_up += bytes,
                    // Files only: a listing is no download to Pure-FTPd's
                    // QUIT counters.
                    Direction::Sent if self.voice.verb == "RETR" => self.voice.bytes_down += bytes,
                    Direction::Sent => {}
                }
                Reply::new(226, success.unwrap_or_else(|| "Transfer complete".into()))
            }
            Ok(Outcome::DataLost { bytes, error }) => {
                tracing::info!(bytes, error = %error, "data connection lost");
                Reply::new(426, "Connection closed; transfer aborted")
            }
            Ok(Outcome::Storage { bytes, error }) => {
                tracing::warn!(bytes, error = %error, "storage failed during transfer");
                match error {
                    StorageError::Io(_)
                    | StorageError::NotFound
                    | StorageError::PermissionDenied => {
                        Reply::new(451, format!("Local error in processing: {error}"))
                    }
                    other => Reply::new(other.reply_code(), other.to_string()),
                }
            }
            Ok(Outcome::Refused { code, text }) => Reply::new(code, text),
            Ok(Outcome::Stopped { bytes }) => {
                tracing::info!(bytes, "transfer stopped");
                Reply::new(426, "Connection closed; transfer aborted")
            }
            Err(e) => {
                tracing::error!(error = %e, "transfer task failed");
                Reply::new(451, "Local error in processing")
            }
        };
        let reply = match finale {
            super::Finale::Own => reply,
            super::Finale::Recorded {
                lines,
                bytes: recorded,
            } if complete => crate::replay::matching::final_reply(lines, recorded, bytes),
            super::Finale::Recorded { .. } => reply,
            super::Finale::Upstream => Box::pin(self.relay_final(complete, reply)).await,
        };
        self.send(reply).await
    }

    /// Lets a running transfer finish and reports it.
    pub(crate) async fn wait_for_transfer(&mut self) -> io::Result<()> {
        if let Some(running) = self.running.as_mut() {
            let outcome = (&mut running.handle).await;
            self.report(outcome).await?;
        }
        Ok(())
    }

    /// ABOR (RFC 959 4.1.3): a running transfer is stopped and gets 426,
    /// then ABOR itself gets 226; with nothing running, 225. An upload
    /// keeps every byte read before the ABOR.
    pub(crate) async fn abort(&mut self) -> io::Result<()> {
        if self.running.is_none() && self.shared.profile.is_some() {
            // The real servers answer an ABOR with nothing to abort and
            // keep the PASV/PORT and REST they were given.
            return self.reply(225, "No transfer to abort").await;
        }
        self.options.rest = None;
        if self.running.is_some() {
            self.stop_transfer(None).await;
            tracing::info!("transfer aborted by the client");
            self.reply(426, "Connection closed; transfer aborted")
                .await?;
            self.reply(226, "ABOR successful").await
        } else {
            self.options.data = DataSetup::None;
            self.reply(225, "No transfer to abort").await
        }
    }

    /// Stops the running transfer in good order (an upload writes and
    /// commits what it read) and records its end, with `reason` when the
    /// session stopped it for one of its own. Replies nothing.
    pub(crate) async fn stop_transfer(&mut self, reason: Option<&str>) {
        let Some(mut running) = self.running.take() else {
            return;
        };
        let _ = running.stop.send(true);
        // The copy loop stops at its next step; a storage write that hangs
        // must not hang the session, so the wait is bounded.
        let limit = self.shared.config.data_timeout;
        let outcome = match tokio::time::timeout(limit, &mut running.handle).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!("transfer did not stop in time; cancelled");
                running.handle.abort();
                (&mut running.handle).await
            }
        };
        self.record_end(&running, &outcome, reason);
    }

    fn record_end(
        &self,
        running: &Running,
        outcome: &Result<Outcome, tokio::task::JoinError>,
        reason: Option<&str>,
    ) {
        let (bytes, end) = match ended(outcome) {
            // Stopped by the session: aborted, whatever the bytes.
            (bytes, DataEnd::Failed) if matches!(outcome, Ok(Outcome::Stopped { .. })) => {
                (bytes, DataEnd::Aborted)
            }
            other => other,
        };
        let bytes = running
            .on_wire
            .as_ref()
            .map_or(bytes, |w| w.load(std::sync::atomic::Ordering::Relaxed));
        self.log.record(EventKind::DataClose {
            direction: running.direction,
            bytes,
            end,
            reason: reason.map(str::to_string),
        });
    }

    /// The server is stopping during a transfer: it may finish within the
    /// shutdown grace (and gets its 226); otherwise it is stopped in good
    /// order when the grace runs out (426), so no byte of an upload is
    /// dropped with the runtime (which waits a little longer than the
    /// grace for exactly this: see `server::run`).
    pub(crate) async fn finish_within_grace(&mut self) -> io::Result<()> {
        let grace = self.shared.config.shutdown_grace;
        let finished = match self.running.as_mut() {
            Some(running) => tokio::time::timeout(grace, &mut running.handle).await.ok(),
            None => return Ok(()),
        };
        match finished {
            Some(outcome) => self.report(outcome).await,
            None => {
                self.stop_transfer(Some("shutdown")).await;
                self.reply(426, "Connection closed; transfer aborted").await
            }
        }
    }

    /// The session ends with a transfer running (the control connection
    /// was lost, or the session was closed): an upload goes on until its
    /// data connection ends, so every byte the client sent lands (bounded:
    /// an idle data connection ends after the data timeout, and a shutdown
    /// stops it); a download is stopped, nobody is left to tell. Its end is
    /// recorded, with why, before the session's.
    pub(crate) async fn end_transfer_with_session(&mut self, by: ClosedBy, reason: &str) {
        let Some(direction) = self.running.as_ref().map(|r| r.direction) else {
            return;
        };
        let why = if by == ClosedBy::Client {
            "control connection lost".to_string()
        } else {
            format!("session closed: {reason}")
        };
        if direction == Direction::Received {
            let mut stop = self.shared.shutdown.clone();
            let outcome = match self.running.as_mut() {
                Some(running) => tokio::select! {
                    outcome = &mut running.handle => Some(outcome),
                    _ = stop.wait_for(|s| *s) => None,
                },
                None => None,
            };
            if let (Some(outcome), Some(running)) = (outcome, self.running.take()) {
                self.record_end(&running, &outcome, Some(&why));
                return;
            }
        }
        self.stop_transfer(Some(&why)).await;
    }
}

/// The bytes and the end of a finished transfer, for the transcript.
fn ended(outcome: &Result<Outcome, tokio::task::JoinError>) -> (u64, DataEnd) {
    match outcome {
        Ok(Outcome::Complete { bytes }) => (*bytes, DataEnd::Complete),
        Ok(
            Outcome::DataLost { bytes, .. }
            | Outcome::Storage { bytes, .. }
            | Outcome::Stopped { bytes },
        ) => (*bytes, DataEnd::Failed),
        Ok(Outcome::Refused { .. }) => (0, DataEnd::Failed),
        Err(_) => (0, DataEnd::Failed),
    }
}

/// What a transfer task needs to put its data connection under TLS.
struct DataTls {
    settings: TlsSettings,
    log: SessionLog,
    /// A fault: answer the ClientHello with an alert.
    fail: bool,
    /// The client writes this connection (no TLS 1.3 tickets on it).
    upload: bool,
}

/// Wraps the data connection in its fault, if any.
fn with_fault(
    data: Box<dyn Stream>,
    fault: Option<DataFault>,
    stall: std::time::Duration,
    on_wire: Arc<AtomicU64>,
) -> Box<dyn Stream> {
    match fault {
        Some(f) => Box::new(FaultyStream::new(data, f, stall, on_wire)),
        None => data,
    }
}

/// Runs the data-channel handshake when PROT P is in force; a failure
/// becomes the transfer's final reply (425, or 522 when resumption was
/// required and the client started afresh, as vsftpd answers).
async fn protect(
    data: Box<dyn Stream>,
    secure: Option<DataTls>,
) -> Result<Box<dyn Stream>, Outcome> {
    let Some(DataTls {
        settings,
        log,
        fail,
        upload,
    }) = secure
    else {
        return Ok(data);
    };
    if fail {
        // Recorded before the alert goes out: once the client sees it, the
        // transcript already says why.
        log.record(EventKind::TlsFailed {
            channel: Channel::Data,
            reason: "handshake failed by a fault".into(),
        });
        let mut data = data;
        crate::tls::send_failure_alert(&mut data).await;
        return Err(Outcome::Refused {
            code: 425,
            text: "Cannot open data connection: TLS handshake failed".into(),
        });
    }
    let acceptor = if upload {
        &settings.acceptors.upload
    } else {
        &settings.acceptors.download
    };
    match crate::tls::accept(acceptor, data, settings.handshake_timeout).await {
        Ok(tls) => {
            let negotiated = crate::tls::Negotiated::of(tls.get_ref().1);
            log.record(EventKind::Tls {
                channel: Channel::Data,
                version: negotiated.version,
                resumed: negotiated.resumed,
            });
            if settings.require_resumption && !negotiated.resumed {
                tracing::warn!("data connection did not resume the TLS session");
                // Close in good order, so the client sees an empty transfer
                // and then the 522, not a broken TLS stream.
                let mut tls = tls;
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                return Err(Outcome::Refused {
                    code: 522,
                    text: "TLS session reuse required on the data connection".into(),
                });
            }
            Ok(Box::new(tls))
        }
        Err(e) => {
            tracing::warn!(error = %e, "data TLS handshake failed");
            log.record(EventKind::TlsFailed {
                channel: Channel::Data,
                reason: e.to_string(),
            });
            Err(Outcome::Refused {
                code: 425,
                text: format!("Cannot open data connection: {e}"),
            })
        }
    }
}
