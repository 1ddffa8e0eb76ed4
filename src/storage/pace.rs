//! How fast the local disk has lately been, for the calls that run on a
//! runtime thread while it is fast (the page cache's microseconds) and
//! move to the blocking pool while it is slow.

use std::sync::atomic::{AtomicU64, Ordering};

/// Whether the disk has lately been slow; one per server for uploads'
/// writes, one for downloads' reads, one per [`FsStorage`](super::FsStorage)
/// for its other calls. Inline writes run on the runtime's threads, so at most one
/// per thread can be caught by a disk that turns slow: after that, all go
/// through the blocking pool until writes have been fast for a while.
#[derive(Debug)]
pub(crate) struct DiskPace {
    started: std::time::Instant,
    /// Milliseconds after `started` until which writes go to the pool.
    slow_until: AtomicU64,
}

impl Default for DiskPace {
    fn default() -> Self {
        DiskPace {
            started: std::time::Instant::now(),
            slow_until: AtomicU64::new(0),
        }
    }
}

impl DiskPace {
    /// A write slower than this is the disk's, not the page cache's.
    pub(crate) const SLOW: std::time::Duration = std::time::Duration::from_millis(5);
    /// How long after a slow write the pool keeps the writes.
    const BACK_OFF: std::time::Duration = std::time::Duration::from_secs(10);

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn inline(&self) -> bool {
        self.now_ms() >= self.slow_until.load(Ordering::Relaxed)
    }

    /// Notes how long a read of `bytes` took: slow only when it is slow
    /// for its size too (a large call from the page cache takes a few
    /// milliseconds at memory speed).
    pub(crate) fn took_for(&self, took: std::time::Duration, bytes: usize) {
        const PAGE_CACHE: f64 = 256.0 * 1024.0 * 1024.0;
        if took > Self::SLOW && (bytes as f64) < PAGE_CACHE * took.as_secs_f64() {
            self.took(took);
        }
    }

    /// Notes how long a write took.
    pub(crate) fn took(&self, took: std::time::Duration) {
        if took > Self::SLOW {
            let now = self.now_ms();
            let until = now + Self::BACK_OFF.as_millis() as u64;
            if self.slow_until.swap(until, Ordering::Relaxed) <= now {
                tracing::info!(
                    ?took,
                    "slow disk: transfers use the blocking pool for their disk calls for now"
                );
            }
        }
    }
}
