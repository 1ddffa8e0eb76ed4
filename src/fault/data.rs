//! Data-connection faults, as stream wrappers: the copy loops stay
//! unaware of them and report what really happened on the wire.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::DataFault;
use crate::data::Stream;
use crate::storage::WriteStream;

/// A data connection that misbehaves as its [`DataFault`] says.
pub(crate) struct FaultyStream {
    inner: Box<dyn Stream>,
    fault: DataFault,
    /// Bytes that crossed (written for downloads, read for uploads).
    moved: u64,
    extra_left: u64,
    sleep: Option<Pin<Box<Sleep>>>,
    /// How long a stall lasts before the transfer gives up.
    stall: Duration,
    /// Bytes that really went out, for the transcript when a fault lies
    /// (truncate, extra).
    on_wire: Arc<AtomicU64>,
    /// Whether a `Delay` fault has already been waited out.
    delayed: bool,
}

impl FaultyStream {
    pub(crate) fn new(
        inner: Box<dyn Stream>,
        fault: DataFault,
        stall: Duration,
        on_wire: Arc<AtomicU64>,
    ) -> Self {
        let extra_left = match fault {
            DataFault::Extra { bytes } => bytes,
            _ => 0,
        };
        FaultyStream {
            inner,
            fault,
            moved: 0,
            extra_left,
            sleep: None,
            stall,
            on_wire,
            delayed: false,
        }
    }

    fn dropped() -> io::Error {
        io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "data connection dropped by a fault",
        )
    }

    /// Waits out a pending pause (throttle, slice, or the time to first
    /// byte of a delay); ready when the caller may go on.
    fn poll_pause(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let (DataFault::Delay { delay }, false) = (self.fault, self.delayed) {
            self.delayed = true;
            self.sleep = Some(Box::pin(tokio::time::sleep(delay)));
        }
        if let Some(sleep) = self.sleep.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            self.sleep = None;
        }
        Poll::Ready(())
    }

    /// Stall: park until the stall time is over, then fail.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let stall = self.stall;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "data connection stalled by a fault",
        ))
    }

    /// How many of `len` bytes may move now (None: the connection is gone).
    fn allowance(&self, len: usize) -> Option<usize> {
        match self.fault {
            DataFault::Drop { after, .. } => {
                let left = after.saturating_sub(self.moved);
                (left > 0).then(|| len.min(left as usize))
            }
            DataFault::Throttle { bytes_per_sec } => {
                // Small slices, so the rate holds within a fraction of a second.
                Some(len.min((bytes_per_sec / 20).max(1) as usize))
            }
            DataFault::Slice { bytes, .. } => Some(len.min(bytes)),
            _ => Some(len),
        }
    }

    fn after_moving(&mut self, n: usize) {
        self.moved += n as u64;
        let pause = match self.fault {
            DataFault::Throttle { bytes_per_sec } => {
                Duration::from_secs_f64(n as f64 / bytes_per_sec as f64)
            }
            DataFault::Slice { pause, .. } => pause,
            _ => return,
        };
        if n > 0 && !pause.is_zero() {
            self.sleep = Some(Box::pin(tokio::time::sleep(pause)));
        }
    }
}

fn flip(buf: &mut [u8], start: u64, at: u64) {
    if at >= start && at < start + buf.len() as u64 {
        buf[(at - start) as usize] ^= 0xFF;
    }
}

impl AsyncRead for FaultyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.fault == DataFault::Stall {
            return Poll::Ready(Err(ready!(this.poll_stall(cx))));
        }
        ready!(this.poll_pause(cx));
        let Some(n) = this.allowance(buf.remaining()) else {
            return Poll::Ready(Err(Self::dropped()));
        };
        let mut limited = vec![0u8; n];
        let mut lb = ReadBuf::new(&mut limited);
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut lb))?;
        let got = lb.filled().len();
        if let DataFault::Corrupt { at } = this.fault {
            flip(&mut limited[..got], this.moved, at);
        }
        buf.put_slice(&limited[..got]);
        this.after_moving(got);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for FaultyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.fault {
            DataFault::Stall => return Poll::Ready(Err(ready!(this.poll_stall(cx)))),
            DataFault::Truncate { at } if this.moved >= at => {
                // The lie: pretend the bytes went out.
                this.moved += buf.len() as u64;
                return Poll::Ready(Ok(buf.len()));
            }
            _ => {}
        }
        ready!(this.poll_pause(cx));
        let Some(mut n) = this.allowance(buf.len()) else {
            return Poll::Ready(Err(Self::dropped()));
        };
        if let DataFault::Truncate { at } = this.fault {
            n = n.min((at - this.moved) as usize);
        }
        let written = match this.fault {
            DataFault::Corrupt { at } if at >= this.moved && at < this.moved + n as u64 => {
                let mut copy = buf[..n].to_vec();
                flip(&mut copy, this.moved, at);
                ready!(Pin::new(&mut this.inner).poll_write(cx, &copy))?
            }
            _ => ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?,
        };
        this.on_wire.fetch_add(written as u64, Ordering::Relaxed);
        this.after_moving(written);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // An empty file still waits out a delay before its close. (Only
        // then: slow-close keeps its own sleep in the same slot.)
        if let DataFault::Delay { .. } = this.fault {
            ready!(this.poll_pause(cx));
        }
        if let DataFault::SlowClose { delay } = this.fault {
            // Flush first, so the client has every byte while it waits.
            ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            ready!(sleep.as_mut().poll(cx));
        }
        // More bytes than the file holds, right before the end.
        const FILLER: [u8; 4096] = [b'#'; 4096];
        while this.extra_left > 0 {
            let n = this.extra_left.min(FILLER.len() as u64) as usize;
            let w = ready!(Pin::new(&mut this.inner).poll_write(cx, &FILLER[..n]))?;
            this.on_wire.fetch_add(w as u64, Ordering::Relaxed);
            if w == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.extra_left -= w as u64;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// An upload's storage sink that fails as its fault says.
pub(crate) struct FaultySink {
    inner: WriteStream,
    fault: DataFault,
    written: u64,
}

impl FaultySink {
    pub(crate) fn new(inner: WriteStream, fault: DataFault) -> Self {
        FaultySink {
            inner,
            fault,
            written: 0,
        }
    }
}

impl AsyncWrite for FaultySink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut len = buf.len();
        if let DataFault::DiskFull { after } = this.fault {
            let left = after.saturating_sub(this.written);
            if left == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "no space left on device (fault)",
                )));
            }
            len = len.min(left as usize);
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..len]))?;
        this.written += n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.fault == DataFault::FailAfterData {
            ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
            return Poll::Ready(Err(io::Error::other(
                "storage failed after the data arrived (fault)",
            )));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn through(fault: DataFault, data: &[u8]) -> (Vec<u8>, io::Result<()>) {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut s = FaultyStream::new(
            Box::new(a),
            fault,
            Duration::from_millis(50),
            Arc::default(),
        );
        let r = async {
            s.write_all(data).await?;
            s.shutdown().await
        }
        .await;
        drop(s);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        (got, r)
    }

    #[tokio::test]
    async fn each_data_fault_does_what_it_says() {
        let data: Vec<u8> = (0..100u8).collect();
        let (got, r) = through(
            DataFault::Drop {
                after: 10,
                reset: false,
            },
            &data,
        )
        .await;
        assert_eq!(got, &data[..10]);
        assert!(r.is_err());
        let (got, r) = through(DataFault::Corrupt { at: 5 }, &data).await;
        assert!(r.is_ok());
        assert_eq!(got[5], data[5] ^ 0xFF);
        assert_eq!(got.len(), 100);
        let (got, r) = through(DataFault::Truncate { at: 30 }, &data).await;
        assert!(r.is_ok(), "the lie: success");
        assert_eq!(got, &data[..30]);
        let (got, _) = through(DataFault::Extra { bytes: 7 }, &data).await;
        assert_eq!(got.len(), 107);
        let (got, r) = through(
            DataFault::Slice {
                bytes: 7,
                pause: Duration::from_millis(1),
            },
            &data,
        )
        .await;
        assert!(r.is_ok());
        assert_eq!(got, data);
        let (got, r) = through(
            DataFault::Delay {
                delay: Duration::from_millis(5),
            },
            &data,
        )
        .await;
        assert!(r.is_ok());
        assert_eq!(got, data);
        // Slow close and a delayed empty file each end, and not early.
        for (fault, payload) in [
            (
                DataFault::SlowClose {
                    delay: Duration::from_millis(20),
                },
                &data[..],
            ),
            (
                DataFault::Delay {
                    delay: Duration::from_millis(20),
                },
                &[][..],
            ),
        ] {
            let started = std::time::Instant::now();
            let (got, r) = tokio::time::timeout(Duration::from_secs(5), through(fault, payload))
                .await
                .expect("the close completes");
            assert!(r.is_ok());
            assert_eq!(got, payload);
            assert!(started.elapsed() >= Duration::from_millis(20), "{fault:?}");
        }
        let (got, r) = through(DataFault::Stall, &data).await;
        assert!(got.is_empty());
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn disk_full_and_fail_after_data() {
        let mut sink = FaultySink::new(
            Box::new(tokio::io::sink()),
            DataFault::DiskFull { after: 10 },
        );
        let e = sink.write_all(&[0u8; 50]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        let mut sink = FaultySink::new(Box::new(tokio::io::sink()), DataFault::FailAfterData);
        sink.write_all(&[0u8; 50]).await.unwrap();
        assert!(sink.shutdown().await.is_err());
    }
}
