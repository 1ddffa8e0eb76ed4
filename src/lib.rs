//! # ftpfixture
//!
//! A real FTP server made to be the server that FTP *client* code is tested
//! against. Start it in one line inside any test: it listens on an ephemeral
//! port of 127.0.0.1, serves a fresh temp directory, and accepts the account
//! `admin` / `123456`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ftpfixture::Server;
//!
//! let server = Server::builder()
//!     .user("alice", "secret")
//!     .file("inbox/hello.txt", "hi\n")
//!     .start()
//!     .await?;
//! // Point the client under test at server.addr() / server.url().
//! assert!(server.root().unwrap().join("inbox/hello.txt").exists());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The server runs on its own thread and runtime, so a blocking client in a
//! plain `#[test]` ([`ServerBuilder::start_blocking`]) and an async client in
//! a single-threaded `#[tokio::test]` both work.
//!
//! It is also a small framework: plug in your own [`Storage`] (the Go seed's
//! `Driver`, or a [`StorageFactory`] for its `DriverFactory`),
//! [`Authenticator`] (its `Auth`), [`Permissions`] (its `Perm`) and
//! [`CustomCommand`]s (its `Command`). A [`Personality`] makes the server
//! answer as vsftpd, ProFTPD, Pure-FTPd, IIS or FileZilla Server.
//!
//! ## Stability
//!
//! Every item exported here and documented is stable under semantic
//! versioning (before 1.0: a minor release may break, a patch may not).
//! Enums marked `#[non_exhaustive]` may gain variants and [`Event`] and
//! [`SessionInfo`] fields in a minor release; [`Storage`] and
//! [`Authenticator`] may gain methods that have a default. Items hidden from
//! the docs (`__private`) serve the macros and are not part of the API. The
//! README's "API policy" section has the details, and its "Changes" section
//! what moved.

#![warn(missing_docs)]

// The README's Rust blocks run as doctests, so they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod auth;
mod command;
#[cfg(feature = "control")]
mod control;
mod custom;
mod data;
mod expect;
mod fault;
mod glob;
mod listing;
mod matcher;
mod perm;

mod personality;
#[cfg(test)]
mod proptests;
mod protocol;
mod replay;
mod scenario;
mod server;
mod session;
mod session_info;
mod storage;
mod timeval;
mod tls;
mod transcript;

/// The attribute for implementing [`Storage`] and [`Authenticator`], re-exported
/// so that your own backend needs no extra dependency: `#[ftpfixture::async_trait]`.
pub use async_trait::async_trait;
pub use auth::{Account, Authenticator, LoginError, User, UserTable, ANONYMOUS};
pub use custom::{CommandContext, CommandError, CommandHandler, CustomCommand};
pub use expect::{Expectation, Unmet, VerifyError};
pub use fault::{Fault, FaultBuilder, FaultGuard, FaultHandle, FaultParseError, Quirk};
pub use matcher::Matcher;
pub use perm::{Access, Ownership, PathPerm, PermError, Permissions};
pub use personality::{ParsePersonalityError, Personality};
pub use replay::{RecordingError, RedactError, Upstream};
pub use scenario::{Scenario, ScenarioError, ScenarioUser};
pub use server::{
    ResetReport, Server, ServerBuilder, ServerError, StartError, Status, DEFAULT_PASSWORD,
    DEFAULT_USER,
};
pub use session_info::SessionInfo;
pub use storage::{
    DirEntry, FileKind, FsStorage, MemoryStorage, Metadata, PathError, ReadStream, Storage,
    StorageError, StorageFactory, VirtualPath, WriteMode, WriteStream,
};
pub use tls::{Certificate, ParseTlsError, Tls, TlsError};
pub use transcript::{
    Channel, ClosedBy, DataEnd, DataMode, Direction, Event, EventKind, Subscription, Transcript,
    WaitTimeout,
};

/// Asserts a rendered transcript with insta, storing the snapshot in the
/// `snapshots/` directory at the top of your crate.
///
/// It takes a [`Server`] (its transcript so far) or a [`Transcript`] (for
/// example the one [`Server::shutdown`] returns). `assert_transcript!(server)`
/// names the snapshot after the test; `assert_transcript!("name", server)`
/// names it yourself. Files are named as insta names them by default, module
/// path first (`integration__faults__fault_retry.snap`), so two tests of the
/// same name in different modules never share one. Your crate needs `insta`
/// as a dev-dependency.
#[macro_export]
macro_rules! assert_transcript {
    ($value:expr) => {{
        let rendered = $crate::__private::rendered(&$value);
        ::insta::with_settings!({
            snapshot_path => ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        }, {
            ::insta::assert_snapshot!(rendered);
        })
    }};
    ($name:expr, $value:expr) => {{
        let rendered = $crate::__private::rendered(&$value);
        ::insta::with_settings!({
            snapshot_path => ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        }, {
            ::insta::assert_snapshot!($name, rendered);
        })
    }};
}

/// Entry points for the fuzz targets in `fuzz/` (built with
/// `--cfg fuzzing`); not part of the API. Each takes arbitrary bytes and
/// panics only on a broken property, as the property tests check them.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod __fuzz {
    fn text(data: &[u8]) -> &str {
        std::str::from_utf8(data).unwrap_or("")
    }

    /// A control connection's line, parsed into a command.
    pub fn command_line(data: &[u8]) {
        let line = String::from_utf8_lossy(data);
        let _ = crate::protocol::Command::parse(&line);
    }

    /// A fault rule's text form: parses, or fails pointing inside it; what
    /// parses prints back to itself.
    pub fn fault_rule(data: &[u8]) {
        let rule = text(data);
        match rule.parse::<crate::Fault>() {
            Ok(f) => {
                let again: crate::Fault = f.to_string().parse().expect("printed rules parse");
                assert_eq!(again, f);
            }
            Err(e) => {
                assert!(e.at <= rule.len());
                let _ = e.to_string();
            }
        }
    }

    /// A scenario file.
    pub fn scenario(data: &[u8]) {
        let _ = text(data).parse::<crate::Scenario>();
    }

    /// A client path against a working directory: never above the root.
    pub fn virtual_path(data: &[u8]) {
        let (a, b) = data.split_at(data.len() / 2);
        let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        if let Ok(cwd) = crate::VirtualPath::new(&a) {
            if let Ok(p) = cwd.join(&b) {
                assert!(p.as_str().starts_with('/'));
                assert!(p.components().all(|c| c != ".." && !c.is_empty()));
            }
        }
        if let Ok(p) = crate::server::strict_path(&b) {
            assert!(p.components().all(|c| c != ".."));
        }
    }
}

/// Support for the macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// What `assert_transcript!` accepts.
    pub trait Render {
        /// The rendered transcript.
        fn render_transcript(&self) -> String;
    }

    impl Render for crate::Server {
        fn render_transcript(&self) -> String {
            self.transcript().render()
        }
    }

    impl Render for crate::Transcript {
        fn render_transcript(&self) -> String {
            self.render()
        }
    }

    impl<T: Render + ?Sized> Render for &T {
        fn render_transcript(&self) -> String {
            (**self).render_transcript()
        }
    }

    /// The rendered transcript of a server or a transcript.
    pub fn rendered<T: Render + ?Sized>(value: &T) -> String {
        value.render_transcript()
    }

    /// The CLI parses durations and port ranges as the library does (one
    /// parser of each).
    pub use crate::fault::parse::parse_duration;
    pub use crate::scenario::{parse_owner, parse_port_range};
}
