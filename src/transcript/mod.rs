//! The record of everything said: commands, replies, data-channel events,
//! and how each session began and ended.
//!
//! The raw [`Event`]s keep exact text and timestamps; [`Transcript::render`]
//! gives the stable form for snapshots, where what changes from run to run
//! (ports, addresses, times, the temp root, passwords) becomes a placeholder.

mod event;
mod recorder;
mod render;

pub(crate) use event::escape_bytes;
pub use event::{Channel, ClosedBy, DataEnd, DataMode, Direction, Event, EventKind};
pub(crate) use recorder::{Recorder, SessionLog, DEFAULT_MAX_EVENTS};
pub use recorder::{Subscription, WaitTimeout};
pub use render::Transcript;
