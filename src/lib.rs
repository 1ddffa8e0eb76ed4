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
//! `Driver`) and [`Authenticator`] (its `Auth` and `Perm`).

#![warn(missing_docs)]

// The README's Rust blocks run as doctests, so they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod auth;
mod command;
mod data;
mod expect;
mod fault;
mod glob;
mod listing;
mod scenario;
mod server;
mod session;
mod storage;
mod timeval;
mod tls;
mod transcript;

/// The attribute for implementing [`Storage`] and [`Authenticator`], re-exported
/// so that your own backend needs no extra dependency: `#[ftpfixture::async_trait]`.
pub use async_trait::async_trait;
pub use auth::{Account, Authenticator, User, UserTable, ANONYMOUS};
pub use command::{Command, EpsvArg, ParseError, TransferType};
pub use expect::Expectation;
pub use fault::{Fault, FaultBuilder, FaultParseError, Quirk};
pub use scenario::{Scenario, ScenarioError, ScenarioUser};
pub use server::{Server, ServerBuilder, StartError, DEFAULT_PASSWORD, DEFAULT_USER};
pub use session::Reply;
pub use storage::{
    DirEntry, FileKind, FsStorage, MemoryStorage, Metadata, PathError, ReadStream, Storage,
    StorageError, VirtualPath, WriteMode, WriteStream,
};
pub use tls::{Certificate, Tls, TlsError};
pub use transcript::{
    Channel, ClosedBy, DataEnd, DataMode, Direction, Event, EventKind, Transcript, WaitTimeout,
};

/// Asserts the rendered transcript of a server with insta, storing the
/// snapshot in the `snapshots/` directory at the top of your crate.
///
/// `assert_transcript!(server)` names the snapshot after the test;
/// `assert_transcript!("name", server)` names it yourself. Your crate needs
/// `insta` as a dev-dependency.
#[macro_export]
macro_rules! assert_transcript {
    ($server:expr) => {
        ::insta::with_settings!({
            snapshot_path => ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
            prepend_module_to_snapshot => false,
        }, {
            ::insta::assert_snapshot!($server.transcript().render());
        })
    };
    ($name:expr, $server:expr) => {
        ::insta::with_settings!({
            snapshot_path => ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
            prepend_module_to_snapshot => false,
        }, {
            ::insta::assert_snapshot!($name, $server.transcript().render());
        })
    };
}
