//! The accept loop, the state every session shares, and graceful shutdown.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::data::PassivePorts;
use crate::expect::ExpectationSet;
use crate::fault::FaultSet;
use crate::session::Session;
use crate::storage::Storage;
use crate::tls::TlsSettings;
use crate::transcript::Recorder;

/// How long after the shutdown grace sessions may take to stop their
/// transfers in good order and say goodbye.
pub(crate) const WIND_DOWN: Duration = Duration::from_millis(500);

/// Settings the sessions read; fixed once the server starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The greeting the test asked for; `None`: the personality's, or
    /// ftpfixture's own.
    pub greeting: Option<String>,
    pub idle_timeout: Duration,
    pub data_timeout: Duration,
    pub max_sessions: Option<usize>,
    pub public_ip: Option<IpAddr>,
    pub max_line: usize,
    pub shutdown_grace: Duration,
    /// Failed logins on one connection before it gets 421 and closes
    /// (`None`: no limit).
    pub max_login_failures: Option<u32>,
    /// Wait this long before answering a failed login.
    pub login_failure_delay: Duration,
    /// Sessions from one client address at a time (`None`: no limit).
    pub max_sessions_per_ip: Option<usize>,
}

/// What all sessions of one server share.
pub(crate) struct Shared {
    pub config: Config,
    pub storage: Arc<dyn Storage>,
    pub auth: Arc<dyn Authenticator>,
    /// Gives each login its storage (the seed's DriverFactory): the one the
    /// test gave, or the built-in one (an account's own, else `storage`).
    pub storage_factory: Arc<dyn crate::StorageFactory>,
    /// Per-path access, owners and modes; `None` when nothing is set, so
    /// that the common case asks nobody.
    pub permissions: Option<Arc<dyn crate::Permissions>>,
    /// Custom verbs and SITE subcommands.
    pub commands: crate::custom::Commands,
    /// A recording being replayed.
    pub replay: Option<Arc<crate::replay::matching::Replay>>,
    /// The server being recorded through this one (a proxy).
    pub upstream: Option<Arc<crate::replay::upstream::RecordTo>>,
    /// The server the engine plays; `None` for its own replies.
    pub profile: Option<&'static crate::personality::Profile>,
    /// What `--personality-option` turned on.
    pub profile_settings: crate::personality::Settings,
    pub passive: PassivePorts,
    pub recorder: Arc<Recorder>,
    pub tls: Option<TlsSettings>,
    pub faults: Arc<FaultSet>,
    pub expectations: Arc<ExpectationSet>,
    /// How many sessions there are: the accept loop's counters.
    pub(crate) counts: Counts,
    /// Bumped by a reset and by the stop: every open session says 421 and
    /// closes, and `shutdown` tells which of the two it was. One channel, so
    /// that an idle session waits on one future, not two.
    pub(crate) interrupt: watch::Sender<u64>,
    /// Uploads in progress, which other sessions' commands on the same file
    /// wait for.
    pub(crate) uploads: Arc<crate::session::Uploads>,
    /// Whether uploads' writes to local files have lately been slow.
    pub(crate) disk_pace: Arc<crate::data::copy::DiskPace>,
    /// Whether downloads' reads of local files have lately been slow.
    pub(crate) read_pace: Arc<crate::data::copy::DiskPace>,
    /// Flips to true once when the server is asked to stop.
    pub shutdown: watch::Receiver<bool>,
}

/// The accept loop's counters: session numbers, live sessions (in all
/// and per client address). The sessions only hold a [`LiveGuard`].
#[derive(Debug)]
pub(crate) struct Counts {
    next_session: AtomicU64,
    /// Number of live sessions; the shutdown and a reset wait for zero.
    live: watch::Sender<usize>,
    /// Live sessions per client address, for `max_sessions_per_ip`.
    per_ip: std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            next_session: AtomicU64::new(1),
            live: watch::Sender::new(0),
            per_ip: Default::default(),
        }
    }
}

impl Counts {
    /// Numbers a new connection and counts it as live; says whether a
    /// limit turns it away.
    fn admit(&self, peer: IpAddr, config: &Config) -> (u64, Option<Refusal>) {
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let mut refusal = None;
        // The count changes with every connection; waking nobody costs
        // nothing, and a waiter that subscribes later reads the new value.
        self.live.send_if_modified(|n| {
            *n += 1;
            if config.max_sessions.is_some_and(|max| *n > max) {
                refusal = Some(Refusal::TooMany);
            }
            self.live.receiver_count() > 0
        });
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let n = per_ip.entry(peer).or_insert(0);
        *n += 1;
        if config.max_sessions_per_ip.is_some_and(|max| *n > max) {
            refusal.get_or_insert(Refusal::TooManyFromAddress);
        }
        (id, refusal)
    }

    /// A session from `peer` has ended.
    fn leave(&self, peer: IpAddr) {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_ip.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&peer);
            }
        }
        drop(per_ip);
        self.live.send_if_modified(|n| {
            *n -= 1;
            // Only waiters need waking (see `Counts::admit`).
            self.live.receiver_count() > 0
        });
    }

    /// Sessions open now.
    pub(crate) fn open(&self) -> usize {
        *self.live.borrow()
    }

    /// Sessions since start or the last reset.
    pub(crate) fn total(&self) -> u64 {
        self.next_session.load(Ordering::Relaxed) - 1
    }

    /// Numbers sessions from 1 again (a reset).
    pub(crate) fn restart_numbering(&self) {
        self.next_session.store(1, Ordering::Relaxed);
    }

    /// Waits until no session is open.
    pub(crate) async fn wait_idle(&self) {
        let mut live = self.live.subscribe();
        let _ = live.wait_for(|n| *n == 0).await;
    }
}

/// Counts a session as live (and as one of its address's) for as long as
/// it exists.
pub(crate) struct LiveGuard(Arc<Shared>, IpAddr);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.counts.leave(self.1);
    }
}

/// Why a new connection is turned away at once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    TooMany,
    TooManyFromAddress,
}

/// Accepts on every listener until shutdown, then gives running sessions
/// the grace period to finish before returning.
pub(crate) async fn run(listeners: Vec<TcpListener>, shared: Arc<Shared>) {
    let mut accepting = tokio::task::JoinSet::new();
    for listener in listeners {
        accepting.spawn(accept_loop(listener, shared.clone()));
    }
    let config = &shared.config;
    accepting.spawn(lead_the_timers(timer_period(
        config.idle_timeout,
        config.data_timeout,
    )));
    let mut stop = shared.shutdown.clone();
    let _ = stop.wait_for(|s| *s).await;
    accepting.abort_all();
    // Transfers get the grace; then they are stopped in good order (an
    // upload commits what it read) and their sessions say 426 and 421,
    // which takes this long at most on a healthy machine.
    let drained = tokio::time::timeout(
        shared.config.shutdown_grace + WIND_DOWN,
        shared.counts.wait_idle(),
    )
    .await;
    if drained.is_err() {
        tracing::warn!("sessions still running after the shutdown grace period; closing them");
    }
}

/// How often [`lead_the_timers`] fires: the shortest timeout every session
/// or transfer sets (within a second and a day, so that a tiny timeout does
/// not make it spin and a huge one fits a timer).
fn timer_period(idle_timeout: Duration, data_timeout: Duration) -> Duration {
    idle_timeout
        .min(data_timeout)
        .clamp(Duration::from_secs(1), Duration::from_secs(86_400))
}

/// Keeps one of the runtime's timers due no later than any session's idle
/// timer or any transfer's data timeout.
///
/// Why: tokio wakes the thread parked in its timer driver (an eventfd
/// write, an `epoll_wait` and a context switch on the other core) whenever
/// a timer is registered that is due sooner than every timer the driver
/// knows of. With no other timer, each new session's idle timer was that:
/// a test that connects one client at a time paid a cross-thread wake-up
/// per session. This timer, set again every `period`, is always due sooner
/// than `now + timeout` of any session's, and costs one wake-up a period.
async fn lead_the_timers(period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

/// The socket options every control connection wants: replies are small
/// and answered at once, so Nagle would only hold a split reply's pieces (a
/// fault) back into one segment; and clients send ABOR with the Telnet
/// "synch" as TCP urgent data, which with OOB inline stays in the stream
/// instead of being silently dropped from the middle of the line.
fn tune(socket: socket2::SockRef<'_>) -> std::io::Result<()> {
    socket.set_tcp_nodelay(true)?;
    socket.set_out_of_band_inline(true)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // On Linux an accepted connection inherits both options from its
    // listener: set there once, they cost no system calls per connection.
    let inherited = cfg!(target_os = "linux") && tune(socket2::SockRef::from(&listener)).is_ok();
    // Bound to one address, the listener knows each connection's local
    // address without asking the kernel.
    let local = listener
        .local_addr()
        .ok()
        .filter(|a| !a.ip().is_unspecified());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: log, breathe, go on.
                tracing::error!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !inherited {
            if let Err(e) = tune(socket2::SockRef::from(&stream)) {
                tracing::debug!(error = %e, "socket options of the control connection");
            }
        }
        let (id, refusal) = shared.counts.admit(peer.ip(), &shared.config);
        let guard = LiveGuard(shared.clone(), peer.ip());
        // Boxed: the task then holds a pointer, and the runtime's moves of
        // it (into the task, and its final stage) copy 8 bytes, not the
        // whole session.
        tokio::spawn(Box::pin(Session::run(
            id,
            stream,
            peer,
            local,
            shared.clone(),
            refusal,
            guard,
        )));
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    /// The leading timer comes no later than the shorter timeout, within a
    /// second (no spinning) and a day (an idle timeout of "never").
    #[test]
    fn the_leading_timer_fires_once_per_shortest_timeout() {
        let s = Duration::from_secs;
        assert_eq!(super::timer_period(s(300), s(10)), s(10));
        assert_eq!(super::timer_period(s(5), s(10)), s(5));
        assert_eq!(super::timer_period(Duration::from_millis(50), s(10)), s(1));
        assert_eq!(super::timer_period(Duration::MAX, Duration::MAX), s(86_400));
    }

    /// What `accept_loop` relies on: accepted connections inherit the
    /// listener's TCP_NODELAY and SO_OOBINLINE.
    #[tokio::test]
    async fn accepted_connections_inherit_the_listeners_options() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        super::tune(socket2::SockRef::from(&listener)).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let socket = socket2::SockRef::from(&accepted);
        assert!(socket.tcp_nodelay().unwrap());
        assert!(socket.out_of_band_inline().unwrap());
    }
}
