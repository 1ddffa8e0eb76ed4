//! Recording: the [`Recorder`] that collects every session's events, the
//! handle a session records through, the live feed, and the waits on the
//! transcript.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, watch};

use super::{ClosedBy, Event, EventKind, Transcript};

/// What a transcript no longer holds but still counts: the sessions whose
/// events were dropped (all ended) and their commands per verb.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Dropped session ids as sorted, disjoint ranges (the oldest sessions
    /// go first, so a long run keeps a handful of ranges, not one entry per
    /// session).
    sessions: Vec<(u64, u64)>,
    /// Commands per verb (upper case).
    commands: HashMap<String, usize>,
}

impl Dropped {
    pub(crate) fn has_session(&self, id: u64) -> bool {
        let i = self.sessions.partition_point(|&(_, end)| end < id);
        self.sessions.get(i).is_some_and(|&(start, _)| start <= id)
    }

    pub(crate) fn commands(&self, verb: &str) -> usize {
        if self.commands.is_empty() {
            return 0;
        }
        self.commands
            .get(&verb.to_ascii_uppercase())
            .copied()
            .unwrap_or(0)
    }

    /// Counts one dropped command of `verb` (any case); no allocation
    /// for a verb already counted in upper case, the usual one.
    fn count_command(&mut self, verb: &str) {
        if let Some(n) = self.commands.get_mut(verb) {
            *n += 1;
        } else {
            *self.commands.entry(verb.to_ascii_uppercase()).or_default() += 1;
        }
    }

    fn add_session(&mut self, id: u64) {
        let i = self.sessions.partition_point(|&(_, end)| end < id);
        if self.sessions.get(i).is_some_and(|&(start, _)| start <= id) {
            return;
        }
        let joins_before = i > 0 && self.sessions[i - 1].1 + 1 == id;
        let joins_after = self
            .sessions
            .get(i)
            .is_some_and(|&(start, _)| start == id + 1);
        match (joins_before, joins_after) {
            (true, true) => {
                self.sessions[i - 1].1 = self.sessions[i].1;
                self.sessions.remove(i);
            }
            (true, false) => self.sessions[i - 1].1 = id,
            (false, true) => self.sessions[i].0 = id,
            (false, false) => self.sessions.insert(i, (id, id)),
        }
    }
}

/// The events kept, and what was dropped of them.
#[derive(Default)]
struct Log {
    events: Vec<Event>,
    dropped: Arc<Dropped>,
    /// The transcript file's writer: every event goes to it as recorded,
    /// whatever the limit later drops from `events`.
    sink: Option<std::sync::mpsc::Sender<Event>>,
}

impl Log {
    fn transcript(&self, root: Option<&str>) -> Transcript {
        Transcript::with_dropped(
            self.events.clone(),
            root.map(str::to_string),
            self.dropped.clone(),
        )
    }

    /// Drops the events of the oldest ended sessions until at most `keep`
    /// events are left (or no ended session is left to drop); returns how
    /// many sessions and events went.
    ///
    /// Two passes over the events and no hashing: a server at its limit
    /// runs this every thousand sessions or so, and hashing each event led
    /// the user-space profile of the session bench (benches/peers.rs,
    /// sessions).
    fn drop_oldest(&mut self, keep: usize) -> (u64, u64) {
        let excess = self.events.len().saturating_sub(keep);
        if excess == 0 {
            return (0, 0);
        }
        let mut ended: Vec<u64> = self
            .events
            .iter()
            .filter(|e| e.session != 0 && matches!(e.kind, EventKind::Disconnected { .. }))
            .map(|e| e.session)
            .collect();
        ended.sort_unstable();
        ended.dedup();
        let index = EndedIndex::new(&ended);
        let mut counts = vec![0usize; ended.len()];
        for e in &self.events {
            if let Some(i) = index.of(e.session) {
                counts[i] += 1;
            }
        }
        // The oldest ended sessions whose events cover the excess.
        let mut going = 0;
        let mut left = excess;
        while left > 0 && going < ended.len() {
            left = left.saturating_sub(counts[going]);
            going += 1;
        }
        if going == 0 {
            return (0, 0);
        }
        let dropped = Arc::make_mut(&mut self.dropped);
        let before = self.events.len();
        self.events.retain(|e| {
            if index.of(e.session).is_none_or(|i| i >= going) {
                return true;
            }
            if let EventKind::Command { line, .. } = &e.kind {
                dropped.count_command(&crate::protocol::split(line).0);
            }
            false
        });
        for &id in &ended[..going] {
            dropped.add_session(id);
        }
        (going as u64, (before - self.events.len()) as u64)
    }
}

/// Where a session stands among the ended ones (sorted ids): a table
/// indexed by id when the ids are dense (sessions are numbered in turn, so
/// they nearly always are), else a binary search.
enum EndedIndex<'a> {
    Dense { first: u64, table: Vec<u32> },
    Sparse(&'a [u64]),
}

impl<'a> EndedIndex<'a> {
    const NONE: u32 = u32::MAX;

    fn new(ended: &'a [u64]) -> Self {
        let (Some(&first), Some(&last)) = (ended.first(), ended.last()) else {
            return EndedIndex::Sparse(ended);
        };
        let span = last - first + 1;
        if span > 4 * ended.len() as u64 + 1024 || ended.len() >= Self::NONE as usize {
            return EndedIndex::Sparse(ended);
        }
        let mut table = vec![Self::NONE; span as usize];
        for (i, &id) in ended.iter().enumerate() {
            table[(id - first) as usize] = i as u32;
        }
        EndedIndex::Dense { first, table }
    }

    fn of(&self, session: u64) -> Option<usize> {
        match self {
            EndedIndex::Dense { first, table } => session
                .checked_sub(*first)
                .and_then(|d| table.get(usize::try_from(d).ok()?))
                .filter(|&&i| i != Self::NONE)
                .map(|&i| i as usize),
            EndedIndex::Sparse(ended) => ended.binary_search(&session).ok(),
        }
    }
}

/// Events a server keeps by default: about 15 MiB of them, the sessions of
/// a long CI job's last hours.
pub(crate) const DEFAULT_MAX_EVENTS: usize = 100_000;

/// Collects the events of every session of one server.
pub(crate) struct Recorder {
    enabled: bool,
    /// The most events kept (`None`: all); past it the oldest ended
    /// sessions' events are dropped, down to nine tenths of it, so that a
    /// drop is rare and its cost (one pass over the events) is spread.
    limit: Option<usize>,
    log: Mutex<Log>,
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
    /// The thread writing the transcript file, joined at the end.
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Recorder {
    /// Writes every event from now on to `out` as JSON Lines (passwords
    /// masked unless `secrets`), on a thread of its own so that recording
    /// never waits for the disk. [`finish_file`](Self::finish_file) ends it.
    pub(crate) fn write_file(&self, out: std::fs::File, secrets: bool) -> std::io::Result<()> {
        let (tx, rx) = std::sync::mpsc::channel::<Event>();
        let thread = std::thread::Builder::new()
            .name("ftpfixture-transcript".into())
            .spawn(move || {
                use std::io::Write;
                let mut out = std::io::BufWriter::new(out);
                let write = |mut e: Event, out: &mut std::io::BufWriter<std::fs::File>| {
                    if !secrets {
                        super::render::mask_event(&mut e);
                    }
                    if let Ok(line) = serde_json::to_string(&e) {
                        let _ = writeln!(out, "{line}");
                    }
                };
                // A burst is written in one go, then flushed, so that a
                // reader sees each event soon after it happened.
                while let Ok(e) = rx.recv() {
                    write(e, &mut out);
                    while let Ok(e) = rx.try_recv() {
                        write(e, &mut out);
                    }
                    if let Err(e) = out.flush() {
                        tracing::warn!(error = %e, "cannot write the transcript file");
                    }
                }
                let _ = out.flush();
            })?;
        self.log.lock().unwrap_or_else(|p| p.into_inner()).sink = Some(tx);
        *self.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(thread);
        Ok(())
    }

    /// Ends the transcript file: every event recorded so far is written
    /// when this returns.
    pub(crate) fn finish_file(&self) {
        drop(
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .sink
                .take(),
        );
        if let Some(thread) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }

    pub(crate) fn new(enabled: bool, limit: Option<usize>) -> Self {
        Recorder {
            enabled,
            limit,
            log: Mutex::new(Log::default()),
            grew: Condvar::new(),
            blocked: AtomicUsize::new(0),
            count: watch::Sender::new(0),
            watching: AtomicUsize::new(0),
            live: broadcast::Sender::new(1024),
            writer: Mutex::new(None),
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
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(sink) = &log.sink {
                let _ = sink.send(event.clone());
            }
            log.events.push(event);
            if let Some(limit) = self.limit.filter(|&l| log.events.len() > l) {
                let (sessions, events) = log.drop_oldest(limit - limit / 10);
                if sessions > 0 {
                    tracing::info!(sessions, events, "transcript limit: dropped old sessions");
                    log.events.push(Event {
                        session: 0,
                        at,
                        kind: EventKind::Dropped { sessions, events },
                    });
                }
            }
            log.events.len()
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
            let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            let mut open = std::collections::BTreeSet::new();
            for e in log.events.iter() {
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

    /// The transcript as it stands.
    pub(crate) fn snapshot(&self, root: Option<&str>) -> Transcript {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.transcript(root)
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            feed: self.live.subscribe(),
            missed: 0,
        }
    }

    pub(crate) fn clear(&self) {
        *self.log.lock().unwrap_or_else(|p| p.into_inner()) = Log::default();
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
            let t = self.snapshot(root);
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
                transcript: self.snapshot(root),
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
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let t = log.transcript(root);
            if done(&t) {
                return Ok(t);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitTimeout { transcript: t });
            }
            self.blocked.fetch_add(1, Ordering::SeqCst);
            let woken = self.grew.wait_timeout(log, left);
            self.blocked.fetch_sub(1, Ordering::SeqCst);
            log = woken.unwrap_or_else(|p| p.into_inner()).0;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(session: u64, kind: EventKind) -> Event {
        Event {
            session,
            at: 0,
            kind,
        }
    }

    fn command(session: u64, line: &str) -> Event {
        event(
            session,
            EventKind::Command {
                line: line.into(),
                wire: None,
            },
        )
    }

    fn ended(session: u64) -> Event {
        event(
            session,
            EventKind::Disconnected {
                by: ClosedBy::Client,
                reason: "test".into(),
            },
        )
    }

    /// The oldest ended sessions go, whole, until the log fits; an open
    /// session stays however old, and the dropped commands are counted by
    /// verb in any case. Both ways of finding a session among the ended
    /// ones, by table and by search, drop the same.
    #[test]
    fn the_oldest_ended_sessions_go_first_and_are_counted() {
        // Session 1 stays open; `gap` spreads the ids so that the ended
        // ones are dense (a table) or sparse (a search).
        for gap in [1u64, 10_000] {
            let id = |k: u64| 1 + k * gap;
            let mut log = Log::default();
            log.events.push(command(1, "USER open"));
            for k in 1..=6 {
                log.events.push(command(id(k), "user x"));
                log.events.push(command(id(k), "NOOP"));
            }
            for k in 1..=6 {
                log.events.push(ended(id(k)));
            }
            assert!(
                matches!(
                    (gap, EndedIndex::new(&[id(1), id(6)])),
                    (1, EndedIndex::Dense { .. }) | (10_000, EndedIndex::Sparse(_))
                ),
                "gap {gap}: the index the test means to take"
            );
            // 19 events; keeping 12 takes three sessions of three events.
            let (sessions, events) = log.drop_oldest(12);
            assert_eq!((sessions, events), (3, 9), "gap {gap}");
            assert_eq!(log.events.len(), 10);
            assert!(log.events.iter().any(|e| e.session == 1), "open stays");
            for k in 1..=3 {
                assert!(log.dropped.has_session(id(k)), "gap {gap}: {k} went");
                assert!(!log.events.iter().any(|e| e.session == id(k)));
            }
            for k in 4..=6 {
                assert!(!log.dropped.has_session(id(k)), "gap {gap}: {k} stays");
            }
            assert_eq!(log.dropped.commands("USER"), 3);
            assert_eq!(log.dropped.commands("noop"), 3);
            // Nothing to drop: within the limit, or only open sessions.
            assert_eq!(log.drop_oldest(100), (0, 0));
        }
        let mut log = Log::default();
        log.events.push(command(1, "NOOP"));
        log.events.push(command(2, "NOOP"));
        assert_eq!(log.drop_oldest(0), (0, 0), "no session has ended");
    }
}
