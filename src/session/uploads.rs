//! Uploads in progress, so that another session does not read a file
//! while bytes that already reached the server are still on their way into
//! it.
//!
//! A client whose upload breaks reconnects at once and asks `SIZE` to
//! resume (`REST n` + `STOR`). The old session may still be writing the
//! last bytes it read; answering from the file then would make the client
//! resend (or skip) bytes. So a command of another session on a file being
//! uploaded waits for that upload to end, for [`SETTLE`] at most.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::storage::VirtualPath;

/// The longest another session waits for an upload to end: long enough for
/// the last write of a broken upload, short enough that a client watching a
/// long upload from another session is not held up for long.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Entry {
    ticket: u64,
    session: u64,
    done: watch::Receiver<bool>,
}

/// Which file an upload writes: the storage (its address: accounts may
/// have storages of their own) and the path in it (below a chrooted
/// account's home).
pub(crate) type Key = (usize, VirtualPath);

/// The uploads of one server.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    map: Mutex<HashMap<Key, Entry>>,
    next: AtomicU64,
}

/// Held by a transfer task while it uploads; dropping it ends the upload.
#[derive(Debug)]
pub(crate) struct UploadTicket {
    uploads: Arc<Uploads>,
    key: Key,
    ticket: u64,
    done: watch::Sender<bool>,
}

impl Drop for UploadTicket {
    fn drop(&mut self) {
        let _ = self.done.send(true);
        let mut map = self.uploads.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&self.key).is_some_and(|e| e.ticket == self.ticket) {
            map.remove(&self.key);
        }
    }
}

impl Uploads {
    /// Notes that `session` uploads to `path` until the ticket is dropped.
    pub(crate) fn begin(self: &Arc<Self>, key: &Key, session: u64) -> UploadTicket {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        let (done, rx) = watch::channel(false);
        self.map.lock().unwrap_or_else(|p| p.into_inner()).insert(
            key.clone(),
            Entry {
                ticket,
                session,
                done: rx,
            },
        );
        UploadTicket {
            uploads: self.clone(),
            key: key.clone(),
            ticket,
            done,
        }
    }

    /// Waits (at most [`SETTLE`]) for an upload of another session to
    /// `path` to end.
    pub(crate) async fn settle(&self, key: &Key, session: u64) {
        let done = {
            let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(key) {
                Some(e) if e.session != session => e.done.clone(),
                _ => return,
            }
        };
        let mut done = done;
        if tokio::time::timeout(SETTLE, done.wait_for(|d| *d))
            .await
            .is_err()
        {
            tracing::debug!(path = %key.1, "an upload of another session is still running");
        }
    }
}
