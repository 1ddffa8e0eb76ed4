//! Recording: the [`Recorder`] that collects every session's events, the
//! handle a session records through, the live feed, and the waits on the
//! transcript.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, watch};

use super::{ClosedBy, Event, EventKind, Transcript};

/// Collects the events of every session of one server.
pub(crate) struct Recorder {
    enabled: bool,
    events: Mutex<Vec<Event>>,
    /// Wakes blocking waiters on every new event.
    grew: Condvar,
    /// Threads blocked in `wait_blocking`, counted under the `events` lock:
    /// a notification is a system call even with no one waiting, and
    /// recording is on the path of every command.
    blocked: AtomicUsize,
    /// Wakes async waiters on every new event.
    count: watch::Sender<usize>,
    /// Async waiters, counted before they look at the events: as with
    /// `blocked`, no one is woken when no one waits.
    watching: AtomicUsize,
    live: broadcast::Sender<Event>,
}

impl Recorder {
    pub(crate) fn new(enabled: bool) -> Self {
        Recorder {
            enabled,
            events: Mutex::new(Vec::new()),
            grew: Condvar::new(),
            blocked: AtomicUsize::new(0),
            count: watch::Sender::new(0),
            watching: AtomicUsize::new(0),
            live: broadcast::Sender::new(1024),
        }
    }

    pub(crate) fn record(&self, session: u64, kind: EventKind) {
        if !self.enabled {
            return;
        }
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let event = Event { session, at, kind };
        // No subscriber is the common case: then the event is not copied.
        let copy = (self.live.receiver_count() > 0).then(|| event.clone());
        let n = {
            let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            events.push(event);
            events.len()
        };
        if let Some(copy) = copy {
            let _ = self.live.send(copy);
        }
        // A waiter counts itself before it takes its first look under the
        // lock: it either sees this event or is counted here.
        if self.watching.load(Ordering::SeqCst) > 0 {
            self.count.send_replace(n);
        }
        // A waiter counts itself before it sleeps, holding the lock taken
        // above: it either sees this event or is counted here.
        if self.blocked.load(Ordering::SeqCst) > 0 {
            self.grew.notify_all();
        }
    }

    /// Records a server-side disconnect for every session that connected
    /// and has not ended (sessions dropped when the server stopped).
    pub(crate) fn end_open_sessions(&self, reason: &str) {
        let open: Vec<u64> = {
            let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            let mut open = std::collections::BTreeSet::new();
            for e in events.iter() {
                match e.kind {
                    EventKind::Connected { .. } => {
                        open.insert(e.session);
                    }
                    EventKind::Disconnected { .. } => {
                        open.remove(&e.session);
                    }
                    _ => {}
                }
            }
            open.into_iter().collect()
        };
        for id in open {
            self.record(
                id,
                EventKind::Disconnected {
                    by: ClosedBy::Server,
                    reason: reason.to_string(),
                },
            );
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            feed: self.live.subscribe(),
            missed: 0,
        }
    }

    pub(crate) fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Waits until `done` holds for the transcript, or `timeout` passes.
    pub(crate) async fn wait(
        &self,
        timeout: Duration,
        root: Option<&str>,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        let mut changes = self.count.subscribe();
        let _watching = Watching::new(&self.watching);
        let check = || {
            let t = Transcript::new(self.snapshot(), root.map(str::to_string));
            done(&t).then_some(t)
        };
        let waiting = async {
            loop {
                changes.borrow_and_update();
                if let Some(t) = check() {
                    return t;
                }
                if changes.changed().await.is_err() {
                    // The server is gone: nothing more will be recorded.
                    std::future::pending::<()>().await;
                }
            }
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(t) => Ok(t),
            Err(_) => Err(WaitTimeout {
                transcript: Transcript::new(self.snapshot(), root.map(str::to_string)),
            }),
        }
    }

    /// [`wait`](Self::wait) for a thread outside any runtime (or inside
    /// one: it only blocks the calling thread).
    pub(crate) fn wait_blocking(
        &self,
        timeout: Duration,
        root: Option<&str>,
        done: impl Fn(&Transcript) -> bool,
    ) -> Result<Transcript, WaitTimeout> {
        let deadline = Instant::now() + timeout;
        let transcript =
            |events: &Vec<Event>| Transcript::new(events.clone(), root.map(str::to_string));
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let t = transcript(&events);
            if done(&t) {
                return Ok(t);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitTimeout { transcript: t });
            }
            self.blocked.fetch_add(1, Ordering::SeqCst);
            let woken = self.grew.wait_timeout(events, left);
            self.blocked.fetch_sub(1, Ordering::SeqCst);
            events = woken.unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// Counts an async waiter for as long as it waits (a timeout drops it).
struct Watching<'a>(&'a AtomicUsize);

impl<'a> Watching<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Watching(count)
    }
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A live feed of events as they are recorded, from
/// [`Server::subscribe`](crate::Server::subscribe).
///
/// Events recorded before the subscription are not replayed. A subscriber
/// that falls more than 1024 events behind skips the oldest ones; it learns
/// how many from [`missed`](Subscription::missed) (the full record is always
/// in [`Server::transcript`](crate::Server::transcript)).
#[derive(Debug)]
pub struct Subscription {
    feed: broadcast::Receiver<Event>,
    missed: u64,
}

impl Subscription {
    /// The next event, waiting for it; `None` once the server has stopped
    /// and every event has been taken.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            match self.feed.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        loop {
            match self.feed.try_recv() {
                Ok(e) => return Some(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed += n,
                Err(_) => return None,
            }
        }
    }

    /// How many events this subscriber skipped because it fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// A wait on the transcript ran out of time; holds what had been recorded.
/// Its `Display` and `Debug` show the rendered transcript, so `.unwrap()`
/// on a failed wait prints what the client did, readably.
#[derive(Clone, thiserror::Error)]
#[error("timed out waiting on the transcript; recorded so far:\n{transcript}")]
pub struct WaitTimeout {
    transcript: Transcript,
}

impl std::fmt::Debug for WaitTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl WaitTimeout {
    pub(crate) fn new(transcript: Transcript) -> Self {
        WaitTimeout { transcript }
    }

    /// The transcript at the time of the timeout.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The transcript, owned.
    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }
}

/// A handle a session uses to record its own events.
#[derive(Clone)]
pub(crate) struct SessionLog {
    pub id: u64,
    pub recorder: Arc<Recorder>,
}

impl SessionLog {
    pub(crate) fn record(&self, kind: EventKind) {
        self.recorder.record(self.id, kind);
    }
}
