//! Record a real server and replay it.
//!
//! Recording: a server started with
//! [`ServerBuilder::record_upstream`](crate::ServerBuilder::record_upstream)
//! (`ftpfixture record --upstream HOST:PORT --out DIR`) is a proxy: each
//! client session opens a session to the upstream, commands and replies
//! are relayed (data connections too, passive toward the upstream) and
//! written to a directory a person can read and edit ([`format`]).
//!
//! Replaying: [`ServerBuilder::replay`](crate::ServerBuilder::replay)
//! (`--replay DIR`) answers from that directory with no upstream
//! ([`matching`] decides which recorded step answers a command). Both run
//! in the session (`session/relay.rs`, `session/replay.rs`) and send their
//! replies through the one reply path, so faults, expectations, the
//! transcript, the control API and TLS work on top.

pub(crate) mod format;
pub(crate) mod matching;
pub(crate) mod upstream;

pub use format::RecordingError;
pub use upstream::{RedactError, Upstream};
