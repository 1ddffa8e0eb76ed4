//! A transfer in flight: opening the data connection, the copy task, and
//! how it ends (226, 426, 451…, or ABOR).

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::{storage_reply, Reply, Running, Session, SessionLog, Stream};
use crate::command::Protection;
use crate::command::TransferType;
use crate::data::copy::{self, Outcome};
use crate::data::{DataSetup, IdleLimit};
use crate::fault::{DataFault, FaultySink, FaultyStream};
use crate::storage::{ReadStream, StorageError, VirtualPath, WriteMode};
use crate::tls::TlsSettings;
use crate::transcript::Channel;
use crate::transcript::{DataEnd, DataMode, Direction, EventKind};

enum SetupKind {
    Passive,
    Active,
}

/// What a transfer task does once the data connection is up.
pub(crate) enum Job {
    Send(ReadStream, bool),
    /// The path to open for writing is opened only once the data connection
    /// exists, so a failed connection leaves an existing file untouched.
    Receive(VirtualPath, WriteMode),
}

impl Session {
    /// Gets the data connection, sends the 150, and starts the copy task.
    pub(crate) async fn start_transfer(
        &mut self,
        opening: Reply,
        job: Job,
        success: String,
    ) -> io::Result<()> {
        let setup = std::mem::take(&mut self.data);
        if let Err(refused) = self.data_policy() {
            return self.send(refused).await;
        }
        let setup_kind = if matches!(setup, DataSetup::Passive(_)) {
            SetupKind::Passive
        } else {
            SetupKind::Active
        };
        let timeout = self.shared.config.data_timeout;
        let fault = self.fired.data.take();
        if fault == Some(DataFault::Never) {
            // Hold the listener (a passive client's connect still
            // succeeds, into the backlog) but never use it.
            tracing::info!("fault: data connection never accepted");
            tokio::time::sleep(timeout).await;
            drop(setup);
            return self.reply(425, "Data connection timed out").await;
        }
        let (stream, data_peer) = match setup.connect(self.peer.ip(), timeout).await {
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
        let data: Box<dyn Stream> = Box::new(IdleLimit::new(stream, timeout));
        let tls_fail = std::mem::take(&mut self.fired.tls_fail);
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
        let secure = match (&self.shared.tls, self.protection) {
            (Some(tls), Protection::Private) => Some(DataTls {
                settings: tls.clone(),
                log: self.log.clone(),
                fail: tls_fail,
                upload: matches!(job, Job::Receive(..)),
            }),
            _ => None,
        };
        let progress = Arc::new(AtomicU64::new(0));
        let p = progress.clone();
        let direction = match job {
            Job::Send(..) => Direction::Sent,
            Job::Receive(..) => Direction::Received,
        };
        let handle = match job {
            Job::Send(source, ascii) => {
                self.send(opening).await?;
                tokio::spawn(async move {
                    match protect(data, secure).await {
                        Ok(data) => {
                            copy::send(
                                source,
                                with_fault(data, stream_fault, timeout, wire),
                                ascii,
                                p,
                            )
                            .await
                        }
                        Err(refused) => refused,
                    }
                })
            }
            Job::Receive(path, mode) => {
                let sink = match self.shared.storage.write(&self.info(), &path, mode).await {
                    Ok(sink) => match sink_fault {
                        Some(f) => Box::new(FaultySink::new(sink, f)),
                        None => sink,
                    },
                    Err(e) => return self.send(storage_reply(&path, &e)).await,
                };
                self.send(opening).await?;
                let ascii = self.transfer_type == TransferType::Ascii;
                tokio::spawn(async move {
                    match protect(data, secure).await {
                        Ok(data) => {
                            copy::receive(
                                with_fault(data, stream_fault, timeout, wire),
                                sink,
                                ascii,
                                p,
                            )
                            .await
                        }
                        Err(refused) => refused,
                    }
                })
            }
        };
        self.running = Some(Running {
            handle,
            progress,
            on_wire: lies.then_some(on_wire),
            success,
            direction,
        });
        Ok(())
    }

    /// Sends the final reply of a finished transfer.
    pub(crate) async fn report(
        &mut self,
        outcome: Result<Outcome, tokio::task::JoinError>,
    ) -> io::Result<()> {
        let (success, direction, on_wire) = match self.running.take() {
            Some(r) => (Some(r.success), r.direction, r.on_wire),
            None => (None, Direction::Sent, None),
        };
        let (bytes, end) = match &outcome {
            Ok(Outcome::Complete { bytes }) => (*bytes, DataEnd::Complete),
            Ok(Outcome::DataLost { bytes, .. } | Outcome::Storage { bytes, .. }) => {
                (*bytes, DataEnd::Failed)
            }
            Ok(Outcome::Refused { .. }) => (0, DataEnd::Failed),
            Err(_) => (0, DataEnd::Failed),
        };
        // A lying fault (truncate, extra) reports what really went out.
        let bytes = on_wire.map_or(bytes, |w| w.load(std::sync::atomic::Ordering::Relaxed));
        self.log.record(EventKind::DataClose {
            direction,
            bytes,
            end,
        });
        let reply = match outcome {
            Ok(Outcome::Complete { bytes }) => {
                tracing::debug!(bytes, "transfer complete");
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
            Err(e) => {
                tracing::error!(error = %e, "transfer task failed");
                Reply::new(451, "Local error in processing")
            }
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
    /// then ABOR itself gets 226; with nothing running, 225.
    pub(crate) async fn abort(&mut self) -> io::Result<()> {
        self.rest = None;
        match self.running.take() {
            Some(running) => {
                running.handle.abort();
                let _ = running.handle.await;
                let bytes = running.progress.load(std::sync::atomic::Ordering::Relaxed);
                self.log.record(EventKind::DataClose {
                    direction: running.direction,
                    bytes,
                    end: DataEnd::Aborted,
                });
                tracing::info!("transfer aborted by the client");
                self.reply(426, "Connection closed; transfer aborted")
                    .await?;
                self.reply(226, "ABOR successful").await
            }
            None => {
                self.data = DataSetup::None;
                self.reply(225, "No transfer to abort").await
            }
        }
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
