//! How fast the local disk has lately been, for the calls that run on a
//! runtime thread while it is fast (the page cache's microseconds) and
//! move to the blocking pool while it is slow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A disk call's clock. What counts is the time the thread waited for the
/// call, not the time it took: on a machine shared with a busy test process
/// a call in the page cache can take milliseconds because the thread was
/// preempted, and taking that for a slow disk sent every call to the
/// blocking pool, where sixteen threads then fought over the directory's
/// lock (benches/peers.rs, python: 20 threads, sys time up 2-7x).
pub(crate) struct Stopwatch {
    started: Instant,
    sleeps: Option<u64>,
}

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Stopwatch {
            started: Instant::now(),
            sleeps: voluntary_switches(),
        }
    }

    /// The call's time if the thread slept during it (waited for the disk
    /// or a lock), zero if it ran or waited for a CPU all along. Where the
    /// sleeps cannot be counted, the call's time.
    pub(crate) fn waited(&self) -> Duration {
        let took = self.started.elapsed();
        if took <= DiskPace::SLOW {
            return took;
        }
        match (self.sleeps, voluntary_switches()) {
            (Some(before), Some(after)) if after == before => Duration::ZERO,
            _ => took,
        }
    }
}

/// How many times this thread has given up its CPU to wait (Linux's
/// voluntary context switches), when the system says.
#[cfg(target_os = "linux")]
fn voluntary_switches() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `struct rusage` to the pointer it is given,
    // which points to one; the value is read only when the call succeeded.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    u64::try_from(usage.ru_nvcsw).ok()
}

#[cfg(not(target_os = "linux"))]
fn voluntary_switches() -> Option<u64> {
    None
}

/// Whether the disk has lately been slow; one per server for uploads'
/// writes, one for downloads' reads, one per [`FsStorage`](super::FsStorage)
/// for its other calls. Inline writes run on the runtime's threads, so at most one
/// per thread can be caught by a disk that turns slow: after that, all go
/// through the blocking pool until writes have been fast for a while.
#[derive(Debug)]
pub(crate) struct DiskPace {
    started: Instant,
    /// Milliseconds after `started` until which writes go to the pool.
    slow_until: AtomicU64,
    /// The calls of this kind on the pool at once.
    on_pool: tokio::sync::Semaphore,
}

impl Default for DiskPace {
    fn default() -> Self {
        DiskPace {
            started: Instant::now(),
            slow_until: AtomicU64::new(0),
            on_pool: tokio::sync::Semaphore::new(Self::POOL_CALLS),
        }
    }
}

impl DiskPace {
    /// A write slower than this is the disk's, not the page cache's.
    pub(crate) const SLOW: Duration = Duration::from_millis(5);
    /// How long after a slow write the pool keeps the writes.
    const BACK_OFF: Duration = Duration::from_secs(10);
    /// Calls of one kind on the blocking pool at once, as many as the
    /// runtime has workers. What makes a call slow on a local disk is
    /// mostly a lock (the directory's, the journal's) that the other calls
    /// want too: sixteen threads at it made the kernel spin, and on two
    /// cores shared with a busy test process every extra runnable thread
    /// takes the CPU from it (benches/peers.rs, python).
    const POOL_CALLS: usize = 2;

    /// Runs `f` on the blocking pool, at most [`Self::POOL_CALLS`] of this
    /// pace's calls at once.
    pub(crate) async fn on_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<T> {
        // Never closed; a dropped caller gives its turn back.
        let _turn = self
            .on_pool
            .acquire()
            .await
            .map_err(std::io::Error::other)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(std::io::Error::other)
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn inline(&self) -> bool {
        self.now_ms() >= self.slow_until.load(Ordering::Relaxed)
    }

    /// Notes how long a read of `bytes` waited ([`Stopwatch::waited`]):
    /// slow only when it is slow for its size too (a large call from the
    /// page cache takes a few milliseconds at memory speed).
    pub(crate) fn took_for(&self, took: Duration, bytes: usize) {
        const PAGE_CACHE: f64 = 256.0 * 1024.0 * 1024.0;
        if took > Self::SLOW && (bytes as f64) < PAGE_CACHE * took.as_secs_f64() {
            self.took(took);
        }
    }

    /// Notes how long a write or call waited ([`Stopwatch::waited`]).
    pub(crate) fn took(&self, took: Duration) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A call whose thread slept counts for its time; one that kept its
    /// CPU (or only waited for one) counts for nothing, however long.
    #[cfg(target_os = "linux")]
    #[test]
    fn only_a_call_that_slept_counts_as_waiting() {
        let watch = Stopwatch::start();
        std::thread::sleep(DiskPace::SLOW * 2);
        assert!(watch.waited() >= DiskPace::SLOW * 2);
        let watch = Stopwatch::start();
        let spin = Instant::now();
        let mut n = 0u64;
        while spin.elapsed() < DiskPace::SLOW * 2 {
            n = std::hint::black_box(n.wrapping_add(1));
        }
        assert_eq!(watch.waited(), Duration::ZERO, "{n} turns without a sleep");
    }

    /// At most [`DiskPace::POOL_CALLS`] calls of one pace are on the pool
    /// at once; the next waits for a turn, then runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_pool_takes_two_calls_of_a_kind_at_once() {
        let pace = std::sync::Arc::new(DiskPace::default());
        let (started_tx, started) = std::sync::mpsc::channel();
        let mut releases = Vec::new();
        let mut calls = Vec::new();
        for _ in 0..DiskPace::POOL_CALLS {
            let (release, held) = std::sync::mpsc::channel::<()>();
            releases.push(release);
            let started_tx = started_tx.clone();
            let pace = pace.clone();
            calls.push(tokio::spawn(async move {
                pace.on_pool(move || {
                    started_tx.send(()).unwrap();
                    held.recv().unwrap();
                })
                .await
            }));
        }
        for _ in 0..DiskPace::POOL_CALLS {
            started.recv().unwrap();
        }
        // Both turns are taken: the next call cannot start.
        let next = pace.on_pool(|| 7);
        tokio::pin!(next);
        assert!(
            tokio::time::timeout(Duration::ZERO, &mut next)
                .await
                .is_err(),
            "a third call started while two held their turns"
        );
        for release in releases {
            release.send(()).unwrap();
        }
        for call in calls {
            call.await.unwrap().unwrap();
        }
        assert_eq!(next.await.unwrap(), 7);
    }
}
