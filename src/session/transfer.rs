//! A transfer in flight: opening the data connection, the copy task, and
//! how it ends (226, 426, 451…, or ABOR).

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::{storage_reply, Reply, Running, Session, Stream};
use crate::command::TransferType;
use crate::data::copy::{self, Outcome};
use crate::data::DataSetup;
use crate::storage::{ReadStream, StorageError, VirtualPath, WriteMode};
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
        let setup_kind = if matches!(setup, DataSetup::Passive(_)) {
            SetupKind::Passive
        } else {
            SetupKind::Active
        };
        let timeout = self.shared.config.data_timeout;
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
        let data: Box<dyn Stream> = Box::new(stream);
        let progress = Arc::new(AtomicU64::new(0));
        let p = progress.clone();
        let direction = match job {
            Job::Send(..) => Direction::Sent,
            Job::Receive(..) => Direction::Received,
        };
        let handle = match job {
            Job::Send(source, ascii) => {
                self.send(opening).await?;
                tokio::spawn(copy::send(source, data, ascii, p))
            }
            Job::Receive(path, mode) => {
                let sink = match self.shared.storage.write(&path, mode).await {
                    Ok(sink) => sink,
                    Err(e) => return self.send(storage_reply(&path, &e)).await,
                };
                self.send(opening).await?;
                let ascii = self.transfer_type == TransferType::Ascii;
                tokio::spawn(copy::receive(data, sink, ascii, p))
            }
        };
        self.running = Some(Running {
            handle,
            progress,
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
        let (success, direction) = match self.running.take() {
            Some(r) => (Some(r.success), r.direction),
            None => (None, Direction::Sent),
        };
        let (bytes, end) = match &outcome {
            Ok(Outcome::Complete { bytes }) => (*bytes, DataEnd::Complete),
            Ok(Outcome::DataLost { bytes, .. } | Outcome::Storage { bytes, .. }) => {
                (*bytes, DataEnd::Failed)
            }
            Err(_) => (0, DataEnd::Failed),
        };
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
