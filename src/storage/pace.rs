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
    /// What calls this pace is for, for the log.
    kind: &'static str,
    started: Instant,
    /// Milliseconds after `started` until which writes go to the pool.
    slow_until: AtomicU64,
    /// Where the current [`Self::WINDOW`] began (milliseconds after
    /// `started`), and how long slow calls have waited in it.
    window_start: AtomicU64,
    window_waited: AtomicU64,
    /// The calls of this kind on the pool at once.
    on_pool: tokio::sync::Semaphore,
}

impl Default for DiskPace {
    fn default() -> Self {
        DiskPace::new("disk calls")
    }
}

impl DiskPace {
    /// The pace of one kind of call (`kind` names them in the log).
    pub(crate) fn new(kind: &'static str) -> Self {
        DiskPace {
            kind,
            started: Instant::now(),
            slow_until: AtomicU64::new(0),
            window_start: AtomicU64::new(0),
            window_waited: AtomicU64::new(0),
            on_pool: tokio::sync::Semaphore::new(Self::POOL_CALLS),
        }
    }

    /// A call that waited longer than this is the disk's, not the page
    /// cache's.
    pub(crate) const SLOW: Duration = Duration::from_millis(5);
    /// Slow calls that waited this long in all within one [`Self::WINDOW`]
    /// move the calls to the pool. One slow call is not a slow disk: ext4
    /// makes a write wait for its journal's commit now and then (22 ms
    /// seen under the Python bench), and moving every call to the pool
    /// for that cost the CPU-bound client two thread hand-offs per call
    /// for the next ten seconds. A disk that is slow keeps being slow, and
    /// fills the budget within a few calls; a runtime thread is held up
    /// for this long a window at most.
    pub(crate) const BUDGET: Duration = Duration::from_millis(50);
    /// The window the [`Self::BUDGET`] is counted over.
    const WINDOW: Duration = Duration::from_secs(1);
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

    /// Counts a slow call's wait in the current window; whether the
    /// window's waits have reached the [`Self::BUDGET`]. Racy by design:
    /// two calls starting a window at once lose one's count at worst.
    fn over_budget(&self, waited: Duration) -> bool {
        let now = self.now_ms();
        let start = self.window_start.load(Ordering::Relaxed);
        if now.saturating_sub(start) >= Self::WINDOW.as_millis() as u64 {
            self.window_start.store(now, Ordering::Relaxed);
            self.window_waited.store(0, Ordering::Relaxed);
        }
        let ms = waited.as_millis() as u64;
        let total = self.window_waited.fetch_add(ms, Ordering::Relaxed) + ms;
        total >= Self::BUDGET.as_millis() as u64
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
        if took > Self::SLOW && self.over_budget(took) {
            let now = self.now_ms();
            let until = now + Self::BACK_OFF.as_millis() as u64;
            if self.slow_until.swap(until, Ordering::Relaxed) <= now {
                tracing::info!(
                    ?took,
                    kind = self.kind,
                    "slow disk: these calls use the blocking pool for now"
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

    /// One slow call is not a slow disk; slow calls whose waits add up to
    /// the budget within a window are, and so is one that waits that long.
    #[test]
    fn slow_calls_move_to_the_pool_once_their_waits_fill_the_budget() {
        let pace = DiskPace::default();
        // Fast calls never count, however many.
        for _ in 0..1000 {
            pace.took(DiskPace::SLOW);
        }
        assert!(pace.inline());
        let slow = DiskPace::SLOW + Duration::from_millis(5);
        let needed = DiskPace::BUDGET.as_millis() / slow.as_millis();
        for i in 1..needed {
            pace.took(slow);
            assert!(pace.inline(), "after {i} slow calls of {slow:?}");
        }
        pace.took(slow);
        assert!(!pace.inline(), "{needed} slow calls fill the budget");
        let pace = DiskPace::default();
        pace.took(DiskPace::BUDGET);
        assert!(!pace.inline(), "one call as long as the budget");
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
