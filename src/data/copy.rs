//! Moving bytes between the storage and a data connection.
//!
//! The copy runs in its own task so that the session can keep reading the
//! control connection (for ABOR and STAT). Buffers are allocated once per
//! transfer, never per chunk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ascii::{FromWire, ToWire};
use crate::session::Stream;
use crate::storage::{ReadStream, StorageError, WriteStream};

/// Size of a transfer buffer: large enough that a loopback transfer is not
/// bounded by system calls.
pub(crate) const CHUNK: usize = 256 * 1024;

/// How a transfer ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Every byte was delivered (and, for uploads, committed by the storage).
    Complete { bytes: u64 },
    /// The data connection failed or was closed early by the peer (426).
    DataLost { bytes: u64, error: std::io::Error },
    /// The storage failed (451, 452, 552).
    Storage { bytes: u64, error: StorageError },
    /// The data connection was refused before any byte moved (a failed TLS
    /// handshake, a policy); the reply to send.
    Refused { code: u16, text: String },
}

/// Storage to client.
pub(crate) async fn send(
    mut source: ReadStream,
    mut data: Box<dyn Stream>,
    ascii: bool,
    progress: Arc<AtomicU64>,
) -> Outcome {
    let mut buf = vec![0u8; CHUNK];
    let mut translated = Vec::with_capacity(if ascii { CHUNK * 2 } else { 0 });
    let mut enc = ToWire::default();
    let mut bytes = 0u64;
    loop {
        let n = match source.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Outcome::Storage {
                    bytes,
                    error: StorageError::Io(e),
                }
            }
        };
        let out = if ascii {
            enc.encode(&buf[..n], &mut translated);
            &translated[..]
        } else {
            &buf[..n]
        };
        if let Err(error) = data.write_all(out).await {
            return Outcome::DataLost { bytes, error };
        }
        bytes += out.len() as u64;
        progress.store(bytes, Ordering::Relaxed);
    }
    // Flush (TLS) and send FIN: only then has the client got every byte.
    if let Err(error) = data.shutdown().await {
        return Outcome::DataLost { bytes, error };
    }
    Outcome::Complete { bytes }
}

/// Reads one chunk; a TLS client that closes its socket without
/// close_notify (common: curl and many others) ends the upload like a plain
/// EOF, as vsftpd does by default.
async fn read_chunk(data: &mut Box<dyn Stream>, buf: &mut [u8]) -> std::io::Result<usize> {
    match data.read(buf).await {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            tracing::debug!("data connection closed without TLS close_notify");
            Ok(0)
        }
        other => other,
    }
}

/// Client to storage. Two buffers: the storage writes one chunk while the
/// next arrives from the network, so neither side waits for the other.
pub(crate) async fn receive(
    mut data: Box<dyn Stream>,
    mut sink: WriteStream,
    ascii: bool,
    progress: Arc<AtomicU64>,
) -> Outcome {
    let mut cur = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    let mut translated = Vec::with_capacity(if ascii { CHUNK } else { 0 });
    let mut dec = FromWire::default();
    let mut bytes = 0u64;
    let mut n = match read_chunk(&mut data, &mut cur).await {
        Ok(n) => n,
        Err(error) => {
            let _ = sink.shutdown().await;
            return Outcome::DataLost { bytes, error };
        }
    };
    while n > 0 {
        bytes += n as u64;
        let out = if ascii {
            dec.decode(&cur[..n], &mut translated);
            &translated[..]
        } else {
            &cur[..n]
        };
        let got: std::io::Result<usize> = {
            let write = sink.write_all(out);
            let read = read_chunk(&mut data, &mut next);
            tokio::pin!(write, read);
            let mut written = false;
            let mut got = None;
            loop {
                if written {
                    if let Some(r) = got.take() {
                        break r;
                    }
                }
                tokio::select! {
                    w = &mut write, if !written => {
                        // A failed write ends the upload at once, without
                        // waiting for more bytes from the client.
                        if let Err(e) = w {
                            return Outcome::Storage {
                                bytes,
                                error: StorageError::from_io(e),
                            };
                        }
                        written = true;
                    }
                    r = &mut read, if got.is_none() => got = Some(r),
                }
            }
        };
        progress.store(bytes, Ordering::Relaxed);
        match got {
            Ok(k) => n = k,
            Err(error) => {
                // Keep what arrived: the file state after a broken upload
                // is "the bytes received so far", as README documents.
                let _ = sink.shutdown().await;
                return Outcome::DataLost { bytes, error };
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    // Close our side too: a TLS client (Python's ftplib) waits for our
    // close_notify after sending its own. Every byte has arrived already,
    // so a failure here changes nothing about the upload.
    let _ = data.shutdown().await;
    if ascii {
        dec.finish(&mut translated);
        if let Err(e) = sink.write_all(&translated).await {
            return Outcome::Storage {
                bytes,
                error: StorageError::from_io(e),
            };
        }
    }
    // shutdown() flushes and, for buffering storages, commits: an error
    // here means the file did not land, so the client must not see 226.
    if let Err(e) = sink.shutdown().await {
        return Outcome::Storage {
            bytes,
            error: StorageError::from_io(e),
        };
    }
    Outcome::Complete { bytes }
}
