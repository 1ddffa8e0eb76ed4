//! Moving bytes between the storage and a data connection.
//!
//! The copy runs in its own task so that the session can keep reading the
//! control connection (for ABOR and STAT). Buffers are allocated once per
//! transfer, never per chunk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::ascii::{FromWire, ToWire};
use crate::data::Stream;
pub(crate) use crate::storage::{DiskPace, Stopwatch};
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
    /// The session asked the transfer to stop (ABOR, a reset, a lost
    /// control connection, the end of the shutdown grace). An upload wrote
    /// every byte it had read, and the storage committed them.
    Stopped { bytes: u64 },
}

/// Asks a running copy loop to stop in good order: it finishes the write in
/// hand, commits the storage, and returns [`Outcome::Stopped`]. Unlike
/// aborting its task, no byte that was read is dropped.
pub(crate) type Stop = watch::Receiver<bool>;

/// Resolves once the stop has been asked for (never, if the sender is gone
/// without asking).
async fn stopped(stop: &mut Stop) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Storage to client.
pub(crate) async fn send(
    mut source: ReadStream,
    mut data: Box<dyn Stream>,
    encoder: Option<ToWire>,
    progress: Arc<AtomicU64>,
    mut stop: Stop,
) -> Outcome {
    let mut buf = vec![0u8; CHUNK];
    let ascii = encoder.is_some();
    let mut translated = Vec::with_capacity(if ascii { CHUNK * 2 } else { 0 });
    let mut enc = encoder.unwrap_or_default();
    let mut bytes = 0u64;
    loop {
        if *stop.borrow() {
            return Outcome::Stopped { bytes };
        }
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
        tokio::select! {
            written = data.write_all(out) => {
                if let Err(error) = written {
                    return Outcome::DataLost { bytes, error };
                }
            }
            // A client that stopped reading must not hold up an ABOR.
            _ = stopped(&mut stop) => return Outcome::Stopped { bytes },
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

/// File to client without a copy through user space: `sendfile` on
/// Linux, for a plain download (no TLS, TYPE I, no data fault) of a file
/// on the local disk. Ends as [`send`] does: FIN once every byte is out, a
/// data timeout without progress, a stop.
///
/// The call runs on the runtime's thread, as pyftpdlib's does on its one
/// thread: from the page cache (where a fixture's files are) it only
/// copies. A call that is slow for its size (the file had to be read from
/// a disk) tells the server's read [`DiskPace`], and every download then
/// makes its calls from the blocking pool for as long as reads stay slow,
/// as uploads do with their writes.
pub(crate) async fn send_file(
    file: std::fs::File,
    data: tokio::net::TcpStream,
    timeout: std::time::Duration,
    progress: Arc<AtomicU64>,
    stop: Stop,
    pace: Arc<DiskPace>,
) -> Outcome {
    #[cfg(target_os = "linux")]
    {
        zero_copy::send(file, data, timeout, progress, stop, pace).await
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pace;
        send_file_copied(file, data, timeout, progress, stop).await
    }
}

/// [`send_file`] through the usual copy loop: elsewhere than Linux, and
/// where the kernel cannot send the file (a filesystem without sendfile).
async fn send_file_copied(
    file: std::fs::File,
    data: tokio::net::TcpStream,
    timeout: std::time::Duration,
    progress: Arc<AtomicU64>,
    stop: Stop,
) -> Outcome {
    let source: ReadStream = Box::new(tokio::fs::File::from_std(file));
    let data: Box<dyn Stream> = Box::new(super::IdleLimit::new(data, timeout));
    send(source, data, None, progress, stop).await
}

#[cfg(target_os = "linux")]
mod zero_copy {
    use std::io;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use tokio::io::{AsyncWriteExt, Interest};

    use super::{stopped, DiskPace, Outcome, Stop, Stopwatch};
    use crate::storage::StorageError;

    /// At most this much per system call, so that a stop is seen between
    /// calls even on a fast connection.
    const MAX_CALL: usize = 4 * 1024 * 1024;

    pub(super) async fn send(
        file: std::fs::File,
        mut data: tokio::net::TcpStream,
        timeout: std::time::Duration,
        progress: Arc<AtomicU64>,
        mut stop: Stop,
        pace: Arc<DiskPace>,
    ) -> Outcome {
        let file = Arc::new(file);
        let mut bytes = 0u64;
        loop {
            if *stop.borrow() {
                return Outcome::Stopped { bytes };
            }
            let ready = tokio::select! {
                ready = tokio::time::timeout(timeout, data.writable()) => ready,
                _ = stopped(&mut stop) => return Outcome::Stopped { bytes },
            };
            match ready {
                Ok(Ok(())) => {}
                Ok(Err(error)) => return Outcome::DataLost { bytes, error },
                Err(_) => {
                    return Outcome::DataLost {
                        bytes,
                        error: io::Error::new(
                            io::ErrorKind::TimedOut,
                            "data connection idle for too long",
                        ),
                    }
                }
            }
            // try_io clears the readiness when the socket is full, so the
            // next writable() waits for room.
            let sent = if pace.inline() {
                let watch = Stopwatch::start();
                let sent = data.try_io(Interest::WRITABLE, || {
                    rustix::fs::sendfile(&data, &*file, None, MAX_CALL).map_err(io::Error::from)
                });
                if let Ok(n) = &sent {
                    pace.took_for(watch.waited(), *n);
                }
                sent
            } else {
                from_pool(&data, &file, &pace).await
            };
            match sent {
                Ok(0) => break,
                Ok(n) => {
                    bytes += n as u64;
                    progress.store(bytes, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The file cannot be sent by the kernel (EINVAL: a
                // filesystem without sendfile): copy it instead.
                Err(e)
                    if bytes == 0
                        && e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) =>
                {
                    return match file.try_clone() {
                        Ok(file) => {
                            super::send_file_copied(file, data, timeout, progress, stop).await
                        }
                        Err(e) => Outcome::Storage {
                            bytes,
                            error: StorageError::Io(e),
                        },
                    };
                }
                Err(error) if is_connection_error(&error) => {
                    return Outcome::DataLost { bytes, error }
                }
                Err(error) => {
                    return Outcome::Storage {
                        bytes,
                        error: StorageError::Io(error),
                    }
                }
            }
        }
        // FIN: only then has the client got every byte.
        if let Err(error) = data.shutdown().await {
            return Outcome::DataLost { bytes, error };
        }
        Outcome::Complete { bytes }
    }

    /// One sendfile call from the blocking pool, on a copy of the socket's
    /// descriptor (the task may be dropped while the call runs; its own
    /// descriptor keeps the socket open until the call is done).
    async fn from_pool(
        data: &tokio::net::TcpStream,
        file: &Arc<std::fs::File>,
        pace: &Arc<DiskPace>,
    ) -> io::Result<usize> {
        let socket = rustix::io::dup(data)?;
        let (file, paced) = (file.clone(), pace.clone());
        let sent = pace
            .on_pool(move || {
                let watch = Stopwatch::start();
                let sent = rustix::fs::sendfile(&socket, &*file, None, MAX_CALL);
                if let Ok(n) = &sent {
                    paced.took_for(watch.waited(), *n);
                }
                sent.map_err(io::Error::from)
            })
            .await?;
        if matches!(&sent, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            // The socket is full: wait for room as try_io would have.
            let _ = data.try_io(Interest::WRITABLE, || {
                Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
            });
        }
        sent
    }

    /// Errors of the socket side of sendfile (the others are the file's).
    fn is_connection_error(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::NotConnected
                | io::ErrorKind::TimedOut
        )
    }
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

/// Where an upload's bytes go.
pub(crate) enum Sink {
    /// The storage's stream ([`Storage::write`](crate::Storage::write)).
    Stream(WriteStream),
    /// A file on the local disk
    /// ([`Storage::write_local`](crate::Storage::write_local)), written
    /// from the copy loop's own buffers: no copy into a stream's buffer.
    File(LocalFile),
}

/// An upload's local file. A write to it lands in the page cache, which
/// takes microseconds, so it is made right on the runtime's thread: on a
/// small machine, a hand-off to the blocking pool per chunk costs more
/// than the write (a third busy thread beside the client and the
/// reader). A write that takes long (a disk that holds writers back, a
/// network filesystem) tells the server's [`DiskPace`], and every upload
/// then writes from the blocking pool for as long as writes stay slow.
pub(crate) struct LocalFile {
    file: Arc<std::fs::File>,
    pace: Arc<DiskPace>,
}

impl LocalFile {
    pub(crate) fn new(file: std::fs::File, pace: Arc<DiskPace>) -> Self {
        LocalFile {
            file: Arc::new(file),
            pace,
        }
    }

    async fn write(&mut self, buf: Vec<u8>, n: usize) -> std::io::Result<Vec<u8>> {
        if self.pace.inline() {
            let watch = Stopwatch::start();
            let written = std::io::Write::write_all(&mut &*self.file, &buf[..n]);
            self.pace.took(watch.waited());
            return written.map(|()| buf);
        }
        let (file, pace) = (self.file.clone(), self.pace.clone());
        self.pace
            .on_pool(move || {
                let watch = Stopwatch::start();
                let written = std::io::Write::write_all(&mut &*file, &buf[..n]);
                // Still slow: the pool keeps the writes a while longer.
                pace.took(watch.waited());
                written.map(|()| buf)
            })
            .await?
    }
}

impl Sink {
    /// Writes `buf[..n]` whole and hands the buffer back for the next
    /// chunk. Never cancelled half-way by the copy loop, which waits for
    /// every write it starts.
    async fn write(&mut self, buf: Vec<u8>, n: usize) -> std::io::Result<Vec<u8>> {
        match self {
            Sink::Stream(s) => s.write_all(&buf[..n]).await.map(|()| buf),
            Sink::File(file) => file.write(buf, n).await,
        }
    }

    /// Flushes and commits: an error means the file did not land.
    async fn finish(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stream(s) => s.shutdown().await,
            // Every write went straight to the file.
            Sink::File(_) => Ok(()),
        }
    }
}

/// Client to storage. Two buffers: the storage writes one chunk while the
/// next arrives from the network, so neither side waits for the other.
///
/// Whatever ends it (EOF, a broken connection, a stop), every byte read
/// from the data connection is written and the sink finished (committed)
/// before it returns: bytes that reached the server stay in the file.
pub(crate) async fn receive(
    mut data: Box<dyn Stream>,
    mut sink: Sink,
    decoder: Option<FromWire>,
    progress: Arc<AtomicU64>,
    mut stop: Stop,
) -> Outcome {
    let mut cur = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    // In ASCII mode (a decoder given) the translation is what gets
    // written; its buffer travels to the storage and back as `cur` does in
    // binary mode.
    let ascii = decoder.is_some();
    let mut translated = Vec::with_capacity(if ascii { CHUNK } else { 0 });
    let mut dec = decoder.unwrap_or_default();
    let mut bytes = 0u64;
    let first = tokio::select! {
        r = read_chunk(&mut data, &mut cur) => Some(r),
        _ = stopped(&mut stop) => None,
    };
    let mut n = match first {
        Some(Ok(n)) => n,
        Some(Err(error)) => {
            let _ = sink.finish().await;
            return Outcome::DataLost { bytes, error };
        }
        None => {
            return drain_and_finish(data, sink, bytes, ascii, &mut dec, &progress, cur, 0).await
        }
    };
    while n > 0 {
        bytes += n as u64;
        let (out, len) = if ascii {
            dec.decode(&cur[..n], &mut translated);
            let len = translated.len();
            (std::mem::take(&mut translated), len)
        } else {
            (std::mem::take(&mut cur), n)
        };
        // With `stopping`, the stop came while the chunk in hand was being
        // written; a read that completed meanwhile is still written below.
        let written: std::io::Result<(Option<std::io::Result<usize>>, bool, Vec<u8>)> = {
            let write = sink.write(out, len);
            let read = read_chunk(&mut data, &mut next);
            tokio::pin!(write, read);
            let mut back = None;
            let mut got = None;
            let mut stopping = false;
            loop {
                if let Some(buf) = back.take() {
                    if stopping {
                        break Ok((got.take(), true, buf));
                    }
                    if let Some(r) = got.take() {
                        break Ok((Some(r), false, buf));
                    }
                    back = Some(buf);
                }
                tokio::select! {
                    w = &mut write, if back.is_none() => match w {
                        Ok(buf) => back = Some(buf),
                        // A failed write ends the upload at once, without
                        // waiting for more bytes from the client.
                        Err(e) => break Err(e),
                    },
                    r = &mut read, if got.is_none() && !stopping => got = Some(r),
                    // The read in flight is dropped: tokio's reads are
                    // cancel-safe, so no byte leaves the socket unwritten.
                    _ = stopped(&mut stop), if !stopping => stopping = true,
                }
            }
        };
        let (got, stopping, back) = match written {
            Ok(written) => written,
            Err(e) => {
                // What the storage took before it failed lands before the
                // client hears of the failure (a storage that writes in
                // the background, as tokio's files do, has it in flight).
                let _ = sink.finish().await;
                return Outcome::Storage {
                    bytes,
                    error: StorageError::from_io(e),
                };
            }
        };
        if ascii {
            translated = back;
        } else {
            cur = back;
        }
        progress.store(bytes, Ordering::Relaxed);
        if stopping {
            // A read that completed before the stop reached the server: it
            // lands, with whatever else is already waiting in the socket.
            let k = match got {
                Some(Ok(k)) => k,
                _ => 0,
            };
            return drain_and_finish(data, sink, bytes, ascii, &mut dec, &progress, next, k).await;
        }
        match got {
            None => {
                return drain_and_finish(data, sink, bytes, ascii, &mut dec, &progress, next, 0)
                    .await
            }
            Some(Ok(k)) => n = k,
            Some(Err(error)) => {
                // Keep what arrived: the file state after a broken upload
                // is "the bytes received so far", as the crate docs say.
                let _ = flush_held(&mut sink, &mut dec).await;
                let _ = sink.finish().await;
                return Outcome::DataLost { bytes, error };
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    // Close our side too: a TLS client (Python's ftplib) waits for our
    // close_notify after sending its own. Every byte has arrived already,
    // so a failure here changes nothing about the upload.
    let _ = data.shutdown().await;
    if let Err(e) = flush_held(&mut sink, &mut dec).await {
        return Outcome::Storage {
            bytes,
            error: StorageError::from_io(e),
        };
    }
    // finish() flushes and, for buffering storages, commits: an error
    // here means the file did not land, so the client must not see 226.
    if let Err(e) = sink.finish().await {
        return Outcome::Storage {
            bytes,
            error: StorageError::from_io(e),
        };
    }
    Outcome::Complete { bytes }
}

/// The end of a stopped upload: the first `pending` bytes of `buf` (read
/// before the stop) and the bytes already waiting in the socket are
/// written, without waiting for more, then the storage commits.
#[allow(clippy::too_many_arguments)]
async fn drain_and_finish(
    mut data: Box<dyn Stream>,
    mut sink: Sink,
    mut bytes: u64,
    ascii: bool,
    dec: &mut FromWire,
    progress: &AtomicU64,
    mut buf: Vec<u8>,
    pending: usize,
) -> Outcome {
    let mut translated = Vec::new();
    let mut n = pending;
    loop {
        if n > 0 {
            let written = if ascii {
                dec.decode(&buf[..n], &mut translated);
                let len = translated.len();
                sink.write(std::mem::take(&mut translated), len)
                    .await
                    .map(|back| translated = back)
            } else {
                sink.write(std::mem::take(&mut buf), n)
                    .await
                    .map(|back| buf = back)
            };
            if let Err(e) = written {
                return Outcome::Storage {
                    bytes,
                    error: StorageError::from_io(e),
                };
            }
            bytes += n as u64;
            progress.store(bytes, Ordering::Relaxed);
        }
        // A zero timeout polls the read once: what is there, never a wait.
        n = match tokio::time::timeout(std::time::Duration::ZERO, data.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
    }
    if let Err(e) = flush_held(&mut sink, dec).await {
        return Outcome::Storage {
            bytes,
            error: StorageError::from_io(e),
        };
    }
    finish_stopped(sink, bytes).await
}

/// Writes the CR that TYPE A decoding holds back at the end of what
/// arrived (it waits to see whether an LF follows): it was received, so it
/// lands, whatever ended the upload.
async fn flush_held(sink: &mut Sink, dec: &mut FromWire) -> std::io::Result<()> {
    let mut held = Vec::new();
    dec.finish(&mut held);
    if held.is_empty() {
        return Ok(());
    }
    let len = held.len();
    sink.write(held, len).await.map(drop)
}

/// The end of a stopped upload: commit what was written.
async fn finish_stopped(mut sink: Sink, bytes: u64) -> Outcome {
    match sink.finish().await {
        Ok(()) => Outcome::Stopped { bytes },
        Err(e) => Outcome::Storage {
            bytes,
            error: StorageError::from_io(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    use tokio::sync::watch;

    use super::{send_file, DiskPace, LocalFile, Outcome};

    /// Both ways of sending a download's file, sendfile on the runtime's
    /// thread and (after a slow read) from the blocking pool, send every
    /// byte; a call is slow only when it is slow for its size.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg(target_os = "linux")]
    async fn a_local_file_is_sent_whole_inline_and_from_the_blocking_pool() {
        use tokio::io::AsyncReadExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("down.bin");
        let content: Vec<u8> = (0..9_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        for slow in [false, true] {
            let pace = std::sync::Arc::new(DiskPace::default());
            if slow {
                // As after a slow read: every call goes through the pool.
                pace.took(DiskPace::BUDGET);
            }
            assert_eq!(pace.inline(), !slow);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let reader = tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.unwrap();
                got
            });
            let data = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (_stop_tx, stop) = watch::channel(false);
            let outcome = send_file(
                std::fs::File::open(&path).unwrap(),
                data,
                std::time::Duration::from_secs(10),
                Arc::new(AtomicU64::new(0)),
                stop,
                pace,
            )
            .await;
            assert!(
                matches!(outcome, Outcome::Complete { bytes } if bytes == content.len() as u64),
                "{outcome:?}"
            );
            assert!(reader.await.unwrap() == content, "slow={slow}: every byte");
        }
        // A fast large call is not slow; a slow small one is.
        let pace = DiskPace::default();
        pace.took_for(DiskPace::BUDGET, 64 << 20);
        assert!(pace.inline());
        pace.took_for(DiskPace::BUDGET, 64 << 10);
        assert!(!pace.inline());
    }

    /// Both ways of writing an upload's file, on the runtime's thread and
    /// (after a slow write) on the blocking pool, write every byte in order
    /// and hand the buffer back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_local_file_is_written_whole_inline_and_from_the_blocking_pool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("up.bin");
        let pace = std::sync::Arc::new(DiskPace::default());
        let mut file = LocalFile::new(std::fs::File::create(&path).unwrap(), pace.clone());
        let mut expected = Vec::new();
        for round in 0..6u8 {
            // Half the chunks inline, then a slow write sends the rest
            // through the pool.
            assert_eq!(pace.inline(), round < 3, "round {round}");
            if round == 2 {
                pace.took(DiskPace::BUDGET);
            }
            let chunk: Vec<u8> = (0..1000u32).map(|i| (i as u8) ^ round).collect();
            let n = 700 + usize::from(round);
            let back = file.write(chunk.clone(), n).await.unwrap();
            if round == 2 {
                assert!(!pace.inline(), "a slow write moves the next ones");
            }
            assert_eq!(back, chunk, "the buffer comes back as it was");
            expected.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }
}
