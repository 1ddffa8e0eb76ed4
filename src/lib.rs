//! # ftpfixture
//!
//! A real FTP/FTPS server made to be the server that FTP **client** code is
//! tested against. Start it inside any test on an ephemeral port with a
//! temp-dir root (and, for FTPS, a generated certificate); run the client under
//! test against it; then assert the recorded command/reply transcript with
//! [insta], check expectations, and inject faults (a dropped data connection, a
//! 452 on STOR, a stalled PASV) to see how the client copes. The same server is
//! a command-line tool with an HTTP control API, for CI jobs and test suites in
//! any language ([cli.md], [control-api.md], the Python and Node packages).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ftpfixture::Server;
//!
//! let server = Server::builder()
//!     .user("alice", "secret")            // instead of the default admin / 123456
//!     .file("inbox/hello.txt", "hi\n")    // seed files (or .fixture_dir(..))
//!     .start()
//!     .await?;
//!
//! // The client under test connects to server.addr() (or server.url()).
//! let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(server.addr()).await?;
//! ftp.login("alice", "secret").await?;
//! assert_eq!(ftp.size("inbox/hello.txt").await?, 3);
//! ftp.quit().await?;
//!
//! // Then look at what happened.
//! server.wait_for_session_end(1, std::time::Duration::from_secs(5)).await?;
//! assert_eq!(server.transcript().count("SIZE"), 1);
//! server.shutdown().await; // dropping it also stops it and removes the temp root
//! # Ok(()) }
//! ```
//!
//! It descends from the Go framework goftp/server, so it is also a small
//! server framework: storage, authentication, permissions and commands are
//! traits and values you can supply.
//!
//! This page is the guide:
//!
//! - [Starting a server](#starting-a-server): async and blocking tests, defaults, features
//! - [The builder](#the-builder): the options, scenario files
//! - [Storage and authentication](#storage-and-authentication), and the Go seed's interfaces
//! - [Permissions, owners, chroot, storage per account](#permissions-owners-chroot-storage-per-account)
//! - [Commands of your own](#commands-of-your-own)
//! - [The transcript](#the-transcript), snapshots with [`assert_transcript!`], waiting
//! - [Expectations](#expectations)
//! - [Faults](#faults): the rule language, its grammar, every action
//! - [Personalities](#personalities): vsftpd, ProFTPD, Pure-FTPd, IIS, FileZilla Server
//! - [FTPS](#ftps)
//! - [Record and replay](#record-and-replay)
//! - [When clients misbehave](#when-clients-misbehave): what the server guarantees
//! - [Beyond Rust](#beyond-rust): the CLI, the control API, CI
//! - [Platforms](#platforms) and [Stability](#stability)
//!
//! The replies to every command are in [protocol.md]; what changed from
//! release to release in [CHANGELOG.md].
//!
//! ## Starting a server
//!
//! [`Server::start()`] (the defaults) or [`Server::builder()`] …
//! [`.start()`](ServerBuilder::start) binds, starts serving on a thread and
//! runtime of its own, and returns once it accepts connections (in about a
//! quarter of a millisecond, so a suite can start one per test). Because it
//! has its own runtime it works from any test: an async client in a
//! current-thread `#[tokio::test]`, or a blocking client in a plain `#[test]`
//! with [`start_blocking()`](ServerBuilder::start_blocking) (which works
//! inside a runtime too) and the `_blocking` twins of the waits and of
//! [`shutdown`](Server::shutdown_blocking):
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//!
//! let server = ftpfixture::Server::builder().start_blocking()?;
//!
//! // A blocking client: here three commands by hand.
//! let mut control = TcpStream::connect(server.addr())?;
//! let mut replies = BufReader::new(control.try_clone()?);
//! let mut reply = String::new();
//! replies.read_line(&mut reply)?; // 220 ftpfixture ready
//! for command in ["USER admin", "PASS 123456", "QUIT"] {
//!     control.write_all(format!("{command}\r\n").as_bytes())?;
//!     reply.clear();
//!     replies.read_line(&mut reply)?;
//! }
//! assert_eq!(reply.trim_end(), "221 Goodbye");
//!
//! server.wait_for_session_end_blocking(1, Duration::from_secs(5))?;
//! assert_eq!(server.transcript().codes(), [220, 331, 230, 221]);
//! server.shutdown_blocking();
//! # Ok(()) }
//! ```
//!
//! Defaults: 127.0.0.1, an ephemeral port, a fresh temp root removed when the
//! server goes, no TLS, and the account `admin` / `123456` ([`DEFAULT_USER`],
//! [`DEFAULT_PASSWORD`]; there only while no other account is added).
//! [`Server::addr`], [`Server::url`], [`Server::credentials`] and
//! [`Server::root`] say where it is and how to log in. Dropping the server
//! stops it (waiting at most the shutdown grace plus one second) and removes
//! the temp root; [`Server::shutdown`] stops it gracefully and returns the
//! final transcript.
//!
//! In your `Cargo.toml`, skip the CLI's dependencies (clap,
//! tracing-subscriber, hyper), which a test does not need:
//!
//! ```toml
//! [dev-dependencies]
//! ftpfixture = { version = "0.2", default-features = false }
//! ```
//!
//! Features: `cli` (on by default) builds the `ftpfixture` binary and turns on
//! `control`, the HTTP control API (`ServerBuilder::control`), which a Rust
//! test can turn on alone.
//!
//! ## The builder
//!
//! [`ServerBuilder`] holds the options, each with a default fit for a test
//! (the methods' docs say more):
//!
//! - **Where it listens**: [`bind`](ServerBuilder::bind),
//!   [`dual_stack`](ServerBuilder::dual_stack) (127.0.0.1 and ::1 on one
//!   port), [`port`](ServerBuilder::port), [`listener`](ServerBuilder::listener)
//!   (serve a `std::net::TcpListener` you made, as the Go seed's `Serve(l)`),
//!   [`passive_ports`](ServerBuilder::passive_ports),
//!   [`public_ip`](ServerBuilder::public_ip).
//! - **Who logs in**: [`user`](ServerBuilder::user),
//!   [`account`](ServerBuilder::account)`(User::new(..).home(..).read_only())`,
//!   [`anonymous`](ServerBuilder::anonymous),
//!   [`read_only`](ServerBuilder::read_only) and
//!   [`chroot`](ServerBuilder::chroot) (every account, those added at run time
//!   too), [`authenticator`](ServerBuilder::authenticator) (instead of the
//!   accounts: combining them is a start error),
//!   [`max_login_failures`](ServerBuilder::max_login_failures) (default 3),
//!   [`login_failure_delay`](ServerBuilder::login_failure_delay) (default 0),
//!   [`max_sessions`](ServerBuilder::max_sessions),
//!   [`max_sessions_per_ip`](ServerBuilder::max_sessions_per_ip).
//! - **What it serves**: [`root`](ServerBuilder::root),
//!   [`memory`](ServerBuilder::memory), [`storage`](ServerBuilder::storage),
//!   [`storage_factory`](ServerBuilder::storage_factory),
//!   [`file`](ServerBuilder::file), [`dir`](ServerBuilder::dir),
//!   [`fixture_dir`](ServerBuilder::fixture_dir),
//!   [`restore_root`](ServerBuilder::restore_root) (for
//!   [`Server::reset`]), [`perm`](ServerBuilder::perm),
//!   [`ownership`](ServerBuilder::ownership),
//!   [`permissions`](ServerBuilder::permissions),
//!   [`command`](ServerBuilder::command).
//! - **How it speaks**: [`personality`](ServerBuilder::personality) and
//!   `personality_option`, [`greeting`](ServerBuilder::greeting),
//!   [`idle_timeout`](ServerBuilder::idle_timeout) (default 300 s),
//!   [`data_timeout`](ServerBuilder::data_timeout) (default 10 s),
//!   [`max_line`](ServerBuilder::max_line) (default 4096 bytes),
//!   [`shutdown_grace`](ServerBuilder::shutdown_grace) (default 1 s).
//! - **FTPS**: [`tls`](ServerBuilder::tls),
//!   [`certificate`](ServerBuilder::certificate),
//!   [`certificate_out`](ServerBuilder::certificate_out),
//!   [`require_tls`](ServerBuilder::require_tls),
//!   [`require_tls_control`](ServerBuilder::require_tls_control),
//!   [`require_tls_data`](ServerBuilder::require_tls_data),
//!   [`require_tls_resumption`](ServerBuilder::require_tls_resumption),
//!   [`allow_ccc`](ServerBuilder::allow_ccc),
//!   [`tls_handshake_timeout`](ServerBuilder::tls_handshake_timeout).
//! - **Testing**: [`fault`](ServerBuilder::fault),
//!   [`record`](ServerBuilder::record) (`false`: no transcript, for load
//!   tests), [`max_transcript_events`](ServerBuilder::max_transcript_events),
//!   [`replay`](ServerBuilder::replay),
//!   [`record_upstream`](ServerBuilder::record_upstream), and with the
//!   `control` feature `control` and `control_token`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ftpfixture::{Server, User};
//!
//! let server = Server::builder()
//!     .memory()                                   // files in memory, no temp dir
//!     .account(User::new("bob", "pw").home("/bob"))
//!     .dir("bob/outbox")
//!     .greeting("Flaky FTP")
//!     .idle_timeout(Duration::from_secs(30))
//!     .start()
//!     .await?;
//! assert!(server.root().is_none());
//! let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(server.addr()).await?;
//! assert!(ftp.get_welcome_msg().unwrap_or_default().contains("Flaky FTP"));
//! ftp.login("bob", "pw").await?;
//! assert_eq!(ftp.pwd().await?, "/bob");
//! # Ok(()) }
//! ```
//!
//! The whole setup also fits in a TOML [`Scenario`] file, the CLI's
//! `--scenario`: `Scenario::from_file(path)?.apply(Server::builder())?`.
//! [cli.md] lists its keys; every builder option but the Rust values (a
//! storage, a handler, a socket) has a CLI flag, a scenario key or both.
//!
//! ## Storage and authentication
//!
//! The served tree is a [`Storage`]: [`FsStorage`] (a directory; the default is
//! a fresh temp dir) or [`MemoryStorage`] ([`memory()`](ServerBuilder::memory)).
//! `FsStorage` creates files 0644 and directories 0755 whatever the process
//! umask, so listings, and snapshots of them, match from machine to machine.
//!
//! Your own backend implements `Storage` with `#[ftpfixture::async_trait]` and
//! goes in with [`Server::builder().storage(backend)`](ServerBuilder::storage).
//! Every method is told who asks ([`SessionInfo`]: session id, peer, logged-in
//! account, TLS), so one backend can give each user its own tree. Only
//! `metadata`, `list` and `read` are required; `write`, `mkdir`, `rmdir`,
//! `delete`, `rename`, `set_modified`, `set_mode` and `symlink` answer "not supported"
//! (502) unless you implement them, and [`read_local`](Storage::read_local) /
//! [`write_local`](Storage::write_local) hand over a local file so that
//! downloads go through `sendfile` on Linux and uploads skip a copy
//! (`FsStorage` does both). Errors reach the client as codes
//! ([`StorageError::reply_code`]): missing or forbidden 550, busy 450, full
//! 452, quota 552, bad name 553, bad restart offset 554, not supported 502;
//! other I/O 451 during a transfer and 550 otherwise.
//!
//! ```
//! use ftpfixture::{DirEntry, Metadata, ReadStream, SessionInfo, Storage, StorageError, VirtualPath};
//!
//! /// A read-only tree of one file.
//! struct OneFile;
//!
//! #[ftpfixture::async_trait]
//! impl Storage for OneFile {
//!     async fn metadata(&self, _: &SessionInfo, path: &VirtualPath) -> Result<Metadata, StorageError> {
//!         match path.as_str() {
//!             "/" => Ok(Metadata::dir()),
//!             "/hello.txt" => Ok(Metadata::file(3)),
//!             _ => Err(StorageError::NotFound),
//!         }
//!     }
//!     async fn list(&self, _: &SessionInfo, _: &VirtualPath) -> Result<Vec<DirEntry>, StorageError> {
//!         Ok(vec![DirEntry::new("hello.txt", Metadata::file(3))])
//!     }
//!     async fn read(&self, s: &SessionInfo, path: &VirtualPath, _: u64) -> Result<ReadStream, StorageError> {
//!         self.metadata(s, path).await?;
//!         Ok(Box::new(std::io::Cursor::new(b"hi\n".to_vec())))
//!     }
//! }
//! # let _ = ftpfixture::Server::builder().storage(OneFile);
//! ```
//!
//! `tests/integration/framework.rs` has a fuller one that locks a file (450)
//! and protects another (550), delegating the rest to `MemoryStorage`. A
//! [`StorageFactory`] ([`storage_factory`](ServerBuilder::storage_factory))
//! builds a storage per login instead; it is the one way an account gets a
//! storage (see [below](#permissions-owners-chroot-storage-per-account)).
//!
//! [`Authenticator`] works the same way
//! ([`.authenticator(..)`](ServerBuilder::authenticator)): `authenticate` gets
//! the `SessionInfo`, the name and the password and returns the [`Account`]
//! (name, home, read-only, chroot) or a [`LoginError`]: `Rejected(text)` is
//! `530 text` and the client may try again, `Unavailable(text)` is `421 text`
//! and the connection closes. The built-in one is the [`UserTable`] the
//! builder's accounts fill.
//!
//! The traits use `async_trait` (re-exported as `ftpfixture::async_trait`) rather
//! than native `async fn` in traits: the engine holds backends as
//! `Arc<dyn Storage>`, and a trait with native `async fn` is not `dyn`
//! compatible. When Rust can box those futures itself, the change will be a
//! major release.
//!
//! ### Coming from goftp/server
//!
//! Each interface of the Go seed has a Rust counterpart:
//!
//! | goftp/server | ftpfixture |
//! |---|---|
//! | `Driver` (Stat, ListDir, GetFile, PutFile, …) | [`Storage`]: `metadata`, `list`, `read` required; `write`, `mkdir`, `rmdir`, `delete`, `rename`, `set_modified`, `set_mode`, `symlink` optional (502); `read_local`, `write_local` optional (a local file for zero-copy downloads, copy-free uploads); [`FsStorage`], [`MemoryStorage`] |
//! | `DriverFactory` (a driver per connection) | [`StorageFactory`] (a storage per login), [`ServerBuilder::storage_factory`]; for accounts of the built-in table, [`User::own_root`] and [`User::storage`] (served by the built-in factory) |
//! | `Auth` (CheckPasswd) | [`Authenticator`] (`authenticate` returns an [`Account`] or a [`LoginError`]); built in: [`UserTable`] |
//! | `Perm` (GetOwner, GetGroup, GetMode; ChMode) | [`Permissions`] (`access`, `ownership`, `mode`, `renamed`); built in: [`PathPerm`] rules ([`ServerBuilder::perm`], [`ownership`](ServerBuilder::ownership)); [`Storage::set_mode`] for `SITE CHMOD` |
//! | `FileInfo` (Owner, Group, Mode) | [`Metadata`] ([`with_owner`](Metadata::with_owner), [`with_mode`](Metadata::with_mode), …) |
//! | `Logger` (Print, PrintCommand, PrintResponse) | `tracing` events (one span per session) and the [`Transcript`]: every command and reply, [`Server::subscribe`] for a live feed |
//! | `Command` (IsExtend, RequireParam, RequireAuth, Execute) | [`CustomCommand::verb`] / [`::site`](CustomCommand::site) with `.needs_arg()`, `.needs_login()`, `.feature()`, `.help()`, `.replace_builtin()`; [`CommandHandler::handle`] |
//! | `Conn` (LoginUser, IsLogin, PassivePort, PublicIp, Close) | [`CommandContext`]: `user()`, `session()`, `passive_port()`, `public_ip()`, `close()`, plus `cwd()`, `storage()`, `access()`, `control_tls()`, `reply()`, `reply_lines()`, `send_data()` |
//! | `ServerOpts` (Factory, Auth, Name, Hostname, Port, PassivePorts, PublicIp, WelcomeMessage, TLS, KeyFile, CertFile, ExplicitFTPS, Logger, Perm) | [`ServerBuilder`]: `storage`/`root`/`memory`/`storage_factory`, `authenticator`/`user`/`account`, `bind`, `port`, `passive_ports`, `public_ip`, `greeting`, `tls`, `certificate`, `permissions`/`perm` |
//! | `NewServer` + `ListenAndServe` | `Server::builder()…start()` (binds, serves on its own thread, returns when ready) |
//! | `Serve(l)` | [`ServerBuilder::listener`] |
//! | `Shutdown` | [`Server::shutdown`] (graceful: transfers get a grace period), or drop |
//!
//! In the source: `Storage`, `StorageFactory` and `Metadata` in
//! `src/storage/mod.rs` (with `FsStorage` and `MemoryStorage` beside it),
//! accounts and the built-in factory in `src/auth.rs`, permissions in
//! `src/perm.rs`, custom commands in `src/custom.rs`, the transcript in
//! `src/transcript/`, the builder in `src/server/builder.rs` and `Server` in
//! `src/server/mod.rs`.
//!
//! ## Permissions, owners, chroot, storage per account
//!
//! - **Per path** ([`.perm(PathPerm::new("/inbox", Access::WriteOnly))`](ServerBuilder::perm),
//!   the text form `[USER:]PATH=MODE` for `--perm` and the scenario's
//!   `perm = [..]`): `read-only` refuses every change (`550`; `553` for
//!   `STOR`/`APPE`/`STOU`, as vsftpd in a directory it may not write),
//!   `write-only` takes uploads and refuses `LIST`, `NLST`, `MLSD`, `RETR`,
//!   `SIZE`, `MDTM` (the B2B inbox), `none` hides the path (absent from
//!   listings, `550 No such file or directory` on every access), `full` lifts
//!   a rule above it. The rule for the longest matching path wins; for the
//!   same path a user's rule beats an all-users rule. Paths name the
//!   account's storage as the server sees it (`/bob/inbox` for a chrooted bob
//!   whose home is `/bob`); a path that climbs above the root (`/a/../..`) is
//!   a start error, not `/`.
//! - **Owners** in `LIST` and the `unix.owner`/`unix.group` facts are `ftp ftp`
//!   unless the storage says otherwise ([`Metadata::with_owner`]) or
//!   [`.ownership("/archive", Ownership::new("root", "wheel"))`](ServerBuilder::ownership)
//!   does. MLSD/MLST's `perm` fact says what this user may really do there.
//! - **A provider of your own** ([`.permissions(impl Permissions)`](ServerBuilder::permissions),
//!   the seed's `Perm`) replaces the rules: `access`, `ownership` and `mode`
//!   per session and path.
//! - **chroot** ([`User::chroot`], [`.chroot(true)`](ServerBuilder::chroot) /
//!   `--chroot` for every account, `chroot = true` in a scenario's user or at
//!   the top): the account's `/` is its home, as vsftpd's
//!   `chroot_local_user`; `PWD` after login answers `/`, `..` stops there,
//!   and replies name paths as the user sees them.
//! - **Storage per account**: [`User::own_root`] (a temp dir of its own,
//!   removed with the server; `own_root = true` in a scenario),
//!   [`User::storage`]`(MemoryStorage::new())`, or
//!   [`.storage_factory(..)`](ServerBuilder::storage_factory) to build one per
//!   login. That is the one mechanism: the server asks one `StorageFactory` at
//!   every login; the built-in factory serves the first two, and a factory of
//!   yours decides for every account (`own_root` or `User::storage` beside it
//!   is a start error). Seeds, [`reset`](Server::reset) and the control API's
//!   file endpoints work on the server's storage.
//! - **Accounts added while the server runs** ([`Server::add_user`],
//!   `POST /users`) are prepared as those given at start: the server-wide
//!   `read_only` and `chroot` apply, the home is made, `own_root` gets its own
//!   temp dir, and a home that leaves the root is refused.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ftpfixture::{Access, PathPerm, Server, User};
//!
//! let server = Server::builder()
//!     .account(User::new("bob", "pw").home("/bob").chroot())
//!     .perm(PathPerm::new("/bob/inbox", Access::WriteOnly)) // the server's path
//!     .file("bob/inbox/today.csv", "a,b\n")
//!     .start()
//!     .await?;
//! let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(server.addr()).await?;
//! ftp.login("bob", "pw").await?;
//! assert_eq!(ftp.pwd().await?, "/"); // bob's / is /bob
//! assert!(ftp.size("inbox/today.csv").await.is_err()); // write-only: 550
//! # Ok(()) }
//! ```
//!
//! ## Commands of your own
//!
//! A [`CustomCommand`] adds a verb or a `SITE` subcommand (or, with
//! `.replace_builtin()`, takes the place of a built-in verb). The engine answers
//! `530` before login and `501` without a required argument before the
//! handler runs; the command is recorded in the transcript and matched by
//! fault rules like any other; `FEAT` shows its `.feature(..)` line, `HELP` (or
//! `SITE HELP`) lists it. A handler that panics, or returns without replying,
//! gets `451` sent for it and the session goes on. Two registrations of one
//! name, a bad name, or a built-in name without `.replace_builtin()` make
//! `start()` fail with [`StartError::Config`]. [`CommandContext::access`] says
//! what the user may do at a path, by the same function the built-in commands
//! and MLSD's `perm` fact use. Here `SITE QUOTA` and `HASH`
//! (draft-bryan-ftpext-hash, with CRC-32) on a `MemoryStorage`:
//!
//! ```
//! use ftpfixture::{CommandContext, CommandError, CommandHandler, CustomCommand, Server};
//! use tokio::io::AsyncReadExt;
//!
//! /// `SITE QUOTA`: a multi-line reply.
//! struct Quota;
//!
//! #[ftpfixture::async_trait]
//! impl CommandHandler for Quota {
//!     async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
//!         let user = cx.user().unwrap_or("nobody").to_string();
//!         cx.reply_lines(200, [format!("Quota for {user}"), "limit 1048576".into(), "End".into()])
//!             .await
//!     }
//! }
//!
//! /// `HASH path`: `213 CRC32 0-<size> <crc> <path>`; `?` turns a storage
//! /// error into the reply the engine would give (550 for a missing file).
//! struct Hash;
//!
//! #[ftpfixture::async_trait]
//! impl CommandHandler for Hash {
//!     async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
//!         let arg = cx.arg().unwrap_or_default().to_string();
//!         let path = cx.resolve(&arg)?;
//!         let (storage, session) = (cx.storage(), cx.session());
//!         if !storage.metadata(&session, &path).await?.is_file() {
//!             return Err(CommandError::new(550, format!("{arg}: not a plain file")));
//!         }
//!         let mut bytes = Vec::new();
//!         storage.read(&session, &path, 0).await?.read_to_end(&mut bytes).await?;
//!         let crc = bytes.iter().fold(!0u32, |mut crc, &b| {
//!             crc ^= u32::from(b);
//!             for _ in 0..8 {
//!                 crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
//!             }
//!             crc
//!         });
//!         cx.reply(213, format!("CRC32 0-{} {:08x} {arg}", bytes.len(), !crc)).await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder()
//!     .memory()
//!     .file("readme.txt", "hello world\n")
//!     .command(CustomCommand::site("QUOTA", Quota).help("SITE QUOTA: your limits"))
//!     .command(CustomCommand::verb("HASH", Hash).needs_arg(true).feature("HASH CRC32*"))
//!     .start()
//!     .await?;
//! // HASH readme.txt -> 213 CRC32 0-12 af083b2d readme.txt
//! # let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(server.addr()).await?;
//! # ftp.login("admin", "123456").await?;
//! # let r = ftp.custom_command("HASH readme.txt", &[suppaftp::Status::File]).await?;
//! # assert_eq!(String::from_utf8_lossy(&r.body).trim_end(), "213 CRC32 0-12 af083b2d readme.txt");
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`CommandContext::send_data`] sends bytes over the data connection the
//! client prepared (`150`, the bytes, then `226` from the engine; data faults
//! apply), so a listing command of your own is a few lines
//! (`tests/integration/custom.rs` has one, read by ftplib's `retrlines`).
//!
//! ## The transcript
//!
//! Every session records its connection, each line received, each reply line
//! sent, data-connection events, TLS handshakes, fault firings and the
//! disconnect. [`Server::transcript`] gives the record: `.session(1)`,
//! `.commands()`, `.replies()`, `.codes()`, `.count("RETR")`, `.ended(1)`,
//! `.events()`, `.to_jsonl()`, and [`.render()`](Transcript::render), a text
//! form that is the same on every run (ports, addresses, times and the temp
//! root become placeholders; passwords are masked). A command that arrived as
//! anything but its line and CRLF (a bare LF, Telnet bytes) keeps the exact
//! bytes in the event's `wire` field and is marked in the rendered form
//! (`#1 C> SYST  [bare LF]`), so a client's framing bugs show.
//! [`Server::shutdown`] returns the final transcript, which also holds what the
//! shutdown itself did (421s, transfers finished in the grace period,
//! disconnects).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::{BufRead, BufReader, Read, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//!
//! let server = ftpfixture::Server::builder().file("hello.txt", "hi\n").start_blocking()?;
//! // A client that downloads hello.txt in passive mode.
//! let mut control = TcpStream::connect(server.addr())?;
//! let mut replies = BufReader::new(control.try_clone()?);
//! let mut reply = || -> std::io::Result<String> {
//!     let mut line = String::new();
//!     replies.read_line(&mut line)?;
//!     Ok(line)
//! };
//! reply()?;
//! control.write_all(b"USER admin\r\n")?;
//! reply()?;
//! control.write_all(b"PASS 123456\r\n")?;
//! reply()?;
//! control.write_all(b"EPSV\r\n")?;
//! let port: u16 = reply()?.split('|').nth(3).unwrap().parse()?;
//! let mut data = TcpStream::connect((server.addr().ip(), port))?;
//! control.write_all(b"RETR hello.txt\r\n")?;
//! reply()?;
//! let mut bytes = Vec::new();
//! data.read_to_end(&mut bytes)?;
//! reply()?;
//! control.write_all(b"QUIT\r\n")?;
//! reply()?;
//!
//! server.wait_for_session_end_blocking(1, Duration::from_secs(5))?;
//! assert_eq!(server.transcript().render(), "\
//! #1 -- connected
//! #1 S> 220 ftpfixture ready
//! #1 C> USER admin
//! #1 S> 331 Password required for admin
//! #1 C> PASS ******
//! #1 S> 230 User admin logged in
//! #1 C> EPSV
//! #1 S> 229 Entering Extended Passive Mode (|||<port>|)
//! #1 C> RETR hello.txt
//! #1 D> open (passive)
//! #1 S> 150 Opening BINARY mode data connection for hello.txt (3 bytes)
//! #1 D> sent 3 bytes
//! #1 S> 226 Transfer complete
//! #1 C> QUIT
//! #1 S> 221 Goodbye
//! #1 -- closed by server (QUIT)
//! ");
//! # Ok(()) }
//! ```
//!
//! ### Snapshots
//!
//! [`assert_transcript!`] compares the rendered form with a reviewed snapshot
//! (your crate needs `insta` as a dev-dependency). It takes a `Server` or a
//! `Transcript` (such as the one `shutdown()` returns) and puts snapshots in
//! the top-level `snapshots/` directory, named as insta names them by default,
//! module path first (`snapshots/my_tests__my_client_downloads_the_report.snap`),
//! so two tests of the same name in different modules never share a file.
//! Review new ones with `cargo insta review` (never commit `.snap.new`). A
//! `Transcript` also implements `Display` (the rendered form), and events are
//! `serde::Serialize`, so `insta::assert_json_snapshot!` with redactions works
//! on `server.transcript().events()` too.
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ftpfixture::{assert_transcript, Server};
//!
//! let server = Server::builder().file("report.csv", "a,b\n1,2\n").start().await?;
//! // ... the client under test downloads report.csv ...
//! server.wait_for_session_end(1, Duration::from_secs(5)).await?; // never sleep
//! assert_transcript!(server);
//! # Ok(()) }
//! ```
//!
//! ### Waiting and reacting
//!
//! [`server.wait_until(timeout, |t| ..)`](Server::wait_until),
//! [`wait_for_command("STOR", timeout)`](Server::wait_for_command),
//! [`wait_for_session_end(id, timeout)`](Server::wait_for_session_end) (each
//! with a `_blocking` twin for plain `#[test]`s; a timeout's [`WaitTimeout`]
//! holds the transcript so far), and [`server.subscribe()`](Server::subscribe),
//! a live feed of events ([`Subscription`]: `next().await`, `try_next()`,
//! `missed()`). [`.record(false)`](ServerBuilder::record) switches recording
//! off (load tests).
//!
//! ### A long-running server
//!
//! A server keeps at most [`max_transcript_events`](ServerBuilder::max_transcript_events)
//! events (default 100,000, about 15 MiB; `0`: no limit). Past it, the events
//! of the oldest sessions that have ended are dropped and an
//! [`EventKind::Dropped`] event says how many, so a CLI that serves a whole CI
//! job stays small. What was dropped still counts: [`Transcript::count`],
//! [`Transcript::ended`], the waits and the expectations see it (kept as verb
//! tallies and session-id ranges), and a subscriber still gets every event
//! (unless it falls behind: [`Subscription::missed`]). A test's own server
//! rarely comes near the limit.
//!
//! ## Expectations
//!
//! Expectations in the style of wiremock-rs count commands as they arrive (so
//! clearing the transcript or recording nothing cannot make them pass), with
//! the same [`Matcher`] faults use. [`Server::verify`] returns a `Result` whose
//! [`VerifyError`] lists what was expected and holds the transcript; dropping
//! the server verifies too, and panics on an unmet expectation (not while the
//! test is already panicking). [`Server::shutdown`] never panics: it hands back
//! the final transcript, and verifying is up to you.
//!
//! ```
//! use ftpfixture::{Expectation, Matcher, Server};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = Server::start().await.unwrap();
//! server.expect(Expectation::command("STOR").never());
//! server.expect(Expectation::command("QUIT").at_most(1));
//! server.expect(Expectation::matching(Matcher::command("RETR").arg("*.csv").user("admin")).times(0));
//! server.verify().unwrap(); // Err: what was expected, what arrived, the transcript
//! # }
//! ```
//!
//! ## Faults
//!
//! A [`Fault`] is a matcher plus an action. Add faults on the builder
//! ([`.fault(..)`](ServerBuilder::fault)) or while the server runs:
//! [`server.inject(..)`](Server::inject) returns a [`FaultHandle`] (`id()`,
//! `times_fired()`, `remove()`), [`server.inject_scoped(..)`](Server::inject_scoped)
//! a [`FaultGuard`] that removes the fault when dropped (wiremock's
//! `MockGuard`), and [`faults()`](Server::faults),
//! [`remove_fault(id)`](Server::remove_fault) and
//! [`clear_faults()`](Server::clear_faults) manage the rest. Each firing is
//! recorded in the transcript as `!! fault RULE`, in the text form below.
//!
//! Matchers: `Fault::on("RETR")` (case-insensitive), `Fault::on("CONNECT")`
//! (the connection itself: its action replaces, delays or splits the greeting)
//! or `Fault::any()` (every command, not the greeting); then `.arg("*.csv")`
//! (exact or glob), `.nth(2)` (only the 2nd, counted across the server),
//! `.first(3)` (the first 3, then the server behaves), `.session(2)`,
//! `.user("bob")`, `.before_login()`, `.after_login()`. The same selection is a
//! [`Matcher`] of its own (`Matcher::command("RETR").arg("*.csv")`), which
//! `Fault::matching(..)` and `Expectation::matching(..)` both take.
//!
//! | Action (builder) | Text form | What the client sees |
//! |---|---|---|
//! | `reply(452, "text")` | `reply=452 text="..."` | that reply instead of the command running |
//! | `reply_lines(211, &[..])` | `reply=211 lines="a\|b\|c"` | a multi-line reply instead |
//! | `reply_after(550, "text")` | `reply-after=550 text="..."` | the command runs, then that final reply |
//! | `delay(d)`, `delay_jitter(d, j)` | `delay=200ms jitter=50ms` | each reply late (with `*`: latency on every reply) |
//! | `split_reply(n)` | `split=3 pause=20ms` | each reply in n-byte TCP writes, split inside lines (pause between them: 20ms unless given) |
//! | `close()` | `close` | the connection closes, no reply |
//! | `close_after_reply()` | `close-after-reply` | the reply, then the close |
//! | `shutdown()` | `shutdown` | `421` and the close |
//! | `stall()` | `stall` | no reply ever; the server stops reading |
//! | `never_connect_data()` | `no-data` | passive connection never accepted / active never made; `425` after the data timeout |
//! | `drop_data_after(n)` | `drop-data after=1024` | exactly n bytes, a FIN, `426` (n = 0: closed before any byte) |
//! | `reset_data_after(n)` | `reset-data after=1024` | at most n bytes, an RST, `426` |
//! | `stall_data()` | `stall-data` | the data connection opens and stays silent (until ABOR, or `426` after the data timeout) |
//! | `throttle(bps)` | `throttle=64k` | bytes at that rate |
//! | `corrupt_at(n)` | `corrupt at=100` | byte n flipped, `226` |
//! | `truncate_at(n)` | `truncate at=500` | n bytes and still `226` (a lying server) |
//! | `extra_bytes(n)` | `extra=64` | n bytes more than SIZE said, `226` |
//! | `slow_close(d)` | `slow-close=500ms` | every byte, then the connection held open for d before the close and `226` |
//! | `slice_data(n, pause)` | `slice-data=16 pause=5ms` | the data in n-byte pieces, each its own TCP segment, pause apart (toxiproxy's slicer) |
//! | `delay_data(d)` | `delay-data=500ms` | the data connection opens, then nothing for d before the first byte (an upload goes unread for d) |
//! | `disk_full_after(n)` | `disk-full after=64k` | upload fails with `452` after n bytes |
//! | `fail_after_data()` | `fail-after-data` | every byte taken, then `451` |
//! | `fail_tls()` | `tls-fail` | on AUTH: a fatal alert instead of a handshake; on a PROT P data command: the data handshake fails, `425` |
//! | `quirk(Quirk::MultilineMismatch)` | `quirk=multiline-mismatch` | the last line of a multi-line reply has another code |
//! | `quirk(Quirk::PasvOutOfRange)` | `quirk=pasv-out-of-range` | 227 octets over 255 |
//! | `quirk(Quirk::EpsvAs227)` | `quirk=epsv-227` | EPSV answered in the PASV format |
//! | `quirk(Quirk::EpsvTrailingPeriod)` | `quirk=epsv-period` | `229 ... (\|\|\|port\|).` |
//! | `quirk(Quirk::DosListing)` | `quirk=dos-list` | LIST in the IIS/DOS format |
//! | `quirk(Quirk::GarbageListing)` | `quirk=garbage-list` | LIST lines no parser reads |
//! | `quirk(Quirk::NonUtf8Names)` | `quirk=non-utf8-names` | a Latin-1 name in LIST/NLST/MLSD |
//! | `quirk(Quirk::BusyData)` | `quirk=busy-data` | the command during a transfer gets `425` instead of waiting |
//!
//! Coming from toxiproxy: `latency` is `* delay=` (with `jitter=`) on the
//! control channel and `delay-data` on data connections, `bandwidth` is
//! `throttle`, `slow_close` is `slow-close`, `timeout` is `stall` /
//! `stall-data` (and `CONNECT stall` for a server that accepts and never
//! speaks), `reset_peer` is `reset-data`, `slicer` is `split` / `slice-data`,
//! `limit_data` is `drop-data after=N`; and unlike a TCP proxy these follow
//! each transfer's own data connection.
//!
//! On `CONNECT`: `CONNECT delay=2s` greets late, `CONNECT stall` never greets
//! (the idle timeout ends it), `CONNECT shutdown` answers 421 and closes,
//! `CONNECT reply=530 text="Go away"` refuses with its own reply (4xx/5xx close
//! the connection), `CONNECT split=3` sends the greeting in pieces;
//! `CONNECT#2` is the second connection.
//!
//! Login faults are matchers on USER/PASS:
//! `Fault::on("PASS").user("bob").reply(530, "Login incorrect")`,
//! `Fault::on("USER").shutdown()` (421, too many users).
//!
//! ### The text form
//!
//! The CLI (`--fault`), scenario files, the control API (`POST /faults`) and
//! [`str::parse`] take the same rules, and a `Fault` prints back as one:
//!
//! ```text
//! RULE     := SELECTOR OPTION*
//! SELECTOR := * | VERB | VERB#N                     e.g. RETR#2 = the second RETR;
//!                                                   CONNECT = the greeting
//! OPTION   := first=N | nth=N | arg=GLOB | session=N | user=NAME | login=before|after
//!           | one action from the table, with its parameters
//! ```
//!
//! Values with spaces go in double quotes; durations are `20ms`, `2s`, `1m`
//! (a bare number is milliseconds); byte counts take `k` and `m` (binary
//! multiples). Errors point at the bad part:
//!
//! ```text
//! bad fault rule: unknown option "dorp-data"
//!   RETR#2 dorp-data after=1024
//!          ^^^^^^^^^
//! ```
//!
//! A test of a client's retry logic:
//!
//! ```
//! use ftpfixture::{Fault, Server};
//! use tokio::io::AsyncReadExt;
//!
//! /// The code under test: retry a download on 4xx replies.
//! async fn fetch(addr: std::net::SocketAddr, name: &str, attempts: u32) -> Option<(Vec<u8>, u32)> {
//!     let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(addr).await.ok()?;
//!     ftp.login("admin", "123456").await.ok()?;
//!     for attempt in 1..=attempts {
//!         if let Ok(mut stream) = ftp.retr_as_stream(name).await {
//!             let mut data = Vec::new();
//!             stream.read_to_end(&mut data).await.ok()?;
//!             stream.finish().await.ok()?;
//!             return Some((data, attempt));
//!         }
//!     }
//!     None
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let server = Server::builder()
//!         .file("report.csv", "a,b\n")
//!         .fault(Fault::on("RETR").first(2).reply(450, "File busy, try again"))
//!         .start()
//!         .await
//!         .unwrap();
//!     let (data, attempt) = fetch(server.addr(), "report.csv", 5).await.unwrap();
//!     assert_eq!((data.as_slice(), attempt), (&b"a,b\n"[..], 3));
//!
//!     // At run time, from the builder or the text form; a guard removes its
//!     // fault when dropped.
//!     let handle = server.inject(Fault::on("RETR").nth(4).drop_data_after(1024));
//!     let guard = server.inject_scoped("STOR reply=452".parse().unwrap());
//!     assert_eq!(server.faults().len(), 3);
//!     drop(guard);
//!     handle.remove();
//!     assert_eq!(server.faults().len(), 1);
//! }
//! ```
//!
//! ## Personalities
//!
//! [`.personality(Personality::Vsftpd)`](ServerBuilder::personality)
//! (`--personality vsftpd`) makes ftpfixture answer as that server: greeting,
//! SYST, FEAT, HELP, which verbs exist, which checks come first, reply codes
//! and texts, listing style. vsftpd 3.0.3, ProFTPD 1.3.8 and Pure-FTPd 1.0.50
//! were recorded from the real servers and are checked against those
//! recordings in `cargo test`; IIS and FileZilla Server follow their
//! documentation. A personality is data, applied where every reply is
//! written, before faults, so faults, quirks, TLS, expectations and the
//! transcript work on top of it. [personalities.md] has the table of what
//! each changes, the servers' own settings (`personality_option`), and how
//! the profiles were recorded and are checked. One client test against all of
//! them:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ftpfixture::{Personality, Server};
//!
//! for personality in Personality::ALL {
//!     let server = Server::builder()
//!         .personality(*personality)
//!         .file("readme.txt", "hello\n")
//!         .start()
//!         .await?;
//!     let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(server.addr()).await?;
//!     ftp.login("admin", "123456").await?;
//!     // The real servers start in TYPE A, and ProFTPD refuses SIZE there.
//!     ftp.transfer_type(suppaftp::types::FileType::Binary).await?;
//!     assert_eq!(ftp.size("readme.txt").await?, 6, "{personality}");
//!     ftp.quit().await?;
//!     server.shutdown().await;
//! }
//! # Ok(()) }
//! ```
//!
//! ## FTPS
//!
//! [`Tls::Explicit`] answers `AUTH TLS` (RFC 4217) on a plain control port;
//! [`Tls::Implicit`] speaks TLS from the first byte and protects every data
//! connection (`PROT C` gets 534).
//!
//! ```
//! use std::sync::Arc;
//! use ftpfixture::{Server, Tls};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = Server::builder().tls(Tls::Explicit).start().await?; // or Tls::Implicit
//!
//!     // Rust (rustls, as used by suppaftp): trust exactly the server's CA.
//!     let mut roots = rustls::RootCertStore::empty();
//!     roots.add(server.certificate_der().unwrap().into())?;
//!     let config = rustls::ClientConfig::builder_with_provider(Arc::new(
//!         rustls::crypto::ring::default_provider(),
//!     ))
//!     .with_safe_default_protocol_versions()?
//!     .with_root_certificates(roots)
//!     .with_no_client_auth();
//!     let connector = suppaftp::tokio::AsyncRustlsConnector::from(
//!         tokio_rustls::TlsConnector::from(Arc::new(config)),
//!     );
//!     let ftp = suppaftp::tokio::AsyncRustlsFtpStream::connect(server.addr()).await?;
//!     let mut ftp = ftp.into_secure(connector, "localhost").await?; // AUTH TLS, PBSZ 0, PROT P
//!     ftp.login("admin", "123456").await?;
//!     ftp.quit().await?;
//!     Ok(())
//! }
//! ```
//!
//! The certificate is generated with rcgen once per process (a CA and a leaf
//! for `localhost`, `127.0.0.1` and `::1`), so starting many TLS servers stays
//! fast; [`Certificate::from_pem`] / [`from_pem_files`](Certificate::from_pem_files)
//! use your own. Clients trust [`server.certificate_pem()`](Server::certificate_pem)
//! (PEM) or [`certificate_der()`](Server::certificate_der), or the file
//! [`certificate_out`](ServerBuilder::certificate_out) writes:
//!
//! ```sh
//! # curl, explicit (AUTH TLS) and implicit:
//! curl --ssl-reqd --cacert ca.pem ftp://admin:123456@localhost:PORT/file
//! curl --cacert ca.pem ftps://admin:123456@localhost:PORT/file
//! ```
//!
//! ```python
//! # Python's ftplib
//! import ftplib, ssl
//! ctx = ssl.create_default_context(cadata=pem)   # or cafile="ca.pem"
//! ftp = ftplib.FTP_TLS(context=ctx)
//! ftp.connect("localhost", port); ftp.login("admin", "123456"); ftp.prot_p()
//! ```
//!
//! Policies, after vsftpd: `require_tls_control` (USER before AUTH gets 530),
//! `require_tls_data` (PROT C gets 534, a clear data command 521),
//! `require_tls` (both), `require_tls_resumption` (a data connection that does
//! not resume the control session's TLS session gets 522, like
//! `require_ssl_reuse`). Also `allow_ccc` (CCC is refused with 534 unless
//! allowed) and `tls_handshake_timeout` (default 10 s).
//!
//! Clients that present the control connection's session every time (lftp,
//! the usual ftplib `session=` recipe) resume any number of data connections.
//! Clients that spend a TLS 1.3 ticket per connection run on the tickets they
//! were given: the control handshake gives eight, each download or listing two
//! more, an upload none, because a ticket on an upload's connection sits
//! unread in the client's socket and turns its close into a reset that loses
//! upload data. So suppaftp (rustls) resumes eight data connections in a row,
//! and curl 7.88 only its first upload on a connection. Clients that never
//! resume (plain ftplib, Apache Commons Net's `FTPSClient`) get 522, as from
//! vsftpd. rustls runs on the ring provider chosen explicitly, TLS 1.2 and
//! 1.3; data handshakes happen after the 150 reply, the way clients expect.
//!
//! ## Record and replay
//!
//! Much client code talks to one particular server (a partner's drop box, a
//! mainframe, an appliance). Record a conversation with it once, through a
//! proxy, into a directory a person can read and edit; replay the directory
//! in CI with no upstream at all. On the command line that is
//! `ftpfixture record --upstream HOST:21 --out DIR`, then `ftpfixture --replay
//! DIR`; from Rust, [`ServerBuilder::record_upstream`] with an [`Upstream`] and
//! [`ServerBuilder::replay`]. Faults, expectations, the transcript and TLS
//! work on top of a replay as on any server; a command the recording does not
//! hold gets a reply naming what was expected and fails
//! [`verify()`](Server::verify) ([`VerifyError::replay_problems`]).
//! [record-replay.md] has the workflow, the recording's format, matching,
//! misses, secrets and limits.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ftpfixture::{Server, Upstream};
//!
//! // Stands in for the real server, which a test would not have.
//! let upstream = Server::builder()
//!     .greeting("Partner FTP")
//!     .file("report.csv", "a,b\n")
//!     .start()
//!     .await?;
//! let recording = tempfile::tempdir()?;
//!
//! // Once: the client talks to a recording proxy in front of the upstream.
//! let proxy = Server::builder()
//!     .record_upstream(Upstream::new(upstream.addr().to_string(), recording.path()))
//!     .start()
//!     .await?;
//! let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(proxy.addr()).await?;
//! ftp.login("admin", "123456").await?;
//! assert_eq!(ftp.size("report.csv").await?, 4);
//! ftp.quit().await?;
//! proxy.wait_for_session_end(1, Duration::from_secs(5)).await?;
//! proxy.shutdown().await;
//! upstream.shutdown().await;
//!
//! // In CI: the same conversation from the recording, no upstream.
//! let replay = Server::builder().replay(recording.path()).start().await?;
//! let mut ftp = suppaftp::tokio::AsyncFtpStream::connect(replay.addr()).await?;
//! assert!(ftp.get_welcome_msg().unwrap_or_default().contains("Partner FTP"));
//! ftp.login("admin", "123456").await?;
//! assert_eq!(ftp.size("report.csv").await?, 4);
//! ftp.quit().await?;
//! replay.wait_for_session_end(1, Duration::from_secs(5)).await?;
//! replay.verify()?;
//! # Ok(()) }
//! ```
//!
//! ## When clients misbehave
//!
//! What the server guarantees, whatever the client does:
//!
//! - **Uploads keep every byte that reached the server.** Every byte read from
//!   a data connection is written to storage, and the storage committed,
//!   before the transfer counts as over: when the client closes the data
//!   connection early, resets it, drops the control connection (first, last
//!   or together), sends ABOR (bytes already waiting in the socket are kept
//!   too), or lets the data connection go idle past the data timeout. The file
//!   then holds exactly the bytes received (from the `REST` offset, or after
//!   the old end for `APPE`), so `SIZE` and `REST n` + `STOR` resume it. A
//!   `TYPE A` upload that ends on a CR (ABOR, a broken connection, the stop)
//!   still writes it. A command of another session on a file still being
//!   uploaded (`SIZE`, `MDTM`, `RETR`, `STOR`, `APPE`, `DELE`, `RNFR`) waits
//!   for that upload to end (2 s at most), so a client that reconnects at once
//!   sees every byte.
//! - **The client is told.** `226` only when every byte landed (for a
//!   download: when the last byte and the close went out); `426` when the data
//!   connection broke or the transfer was stopped (ABOR, reset, the end of the
//!   shutdown grace); `451`/`452`/`552` when the storage failed.
//! - **The transcript says how each transfer ended,** with the bytes, before
//!   its session's end: `D> received 512 bytes`, `D> failed`, `D> aborted
//!   (control connection lost)`, `D> aborted (shutdown)`. A session whose
//!   control connection goes during an upload lets the upload finish (until
//!   its data connection ends) before its own end is recorded; a download is
//!   stopped, since nobody is left to read it.
//! - **Shutdown** gives running transfers the grace period
//!   ([`shutdown_grace`](ServerBuilder::shutdown_grace), default 1 s); after
//!   it they are stopped in good order (`426`, the upload's bytes kept), every
//!   session gets `421`, and the server is gone 0.5 s later at most.
//! - **Password guessing** is cut off: the third failed login on a connection
//!   ([`max_login_failures`](ServerBuilder::max_login_failures), 0 for no
//!   limit) gets `421` and the connection closes;
//!   [`login_failure_delay`](ServerBuilder::login_failure_delay) slows each
//!   failure down (vsftpd uses 1 s; the default 0 keeps tests fast);
//!   [`max_sessions_per_ip`](ServerBuilder::max_sessions_per_ip) refuses an
//!   address's extra connections with `421`.
//! - **Secrets stay out of artifacts:** every exported transcript (the CLI's
//!   `--transcript` file, [`Transcript::to_jsonl`], the control API) shows
//!   `PASS ******`; `--transcript-secrets` (or
//!   [`to_jsonl_unmasked()`](Transcript::to_jsonl_unmasked)) keeps the
//!   passwords. The in-memory record of a Rust test keeps them. A recording
//!   ([record-replay.md]) never holds a password unless asked.
//! - **Bad input never panics the server:** every parser of outside input
//!   (command lines, PORT/EPRT arguments, MFMT times, fault rules, scenario
//!   files, paths) is property-tested in `cargo test` (`src/proptests.rs`: no
//!   panic, no path above the root, rules and times round-trip) and has a fuzz
//!   target ([development.md]). Resource bounds are tests too: 10,000
//!   connect-and-drop cycles leave no task behind, and a thousand `PASV`
//!   without a connection leave one listener, not a thousand.
//! - **A slow disk holds up no one for long:** disk calls (uploads' writes,
//!   downloads' `sendfile`, `FsStorage`'s other calls) run on the server's
//!   runtime threads while the disk answers in the page cache's microseconds;
//!   once calls of a kind whose threads slept in them for over 5 ms have
//!   waited 50 ms within a second, the calls of that kind go to the blocking
//!   pool, two at a time, until 10 s after the last slow one
//!   ([performance.md]).
//!
//! ## Beyond Rust
//!
//! - **The CLI**: `ftpfixture` (`cargo install ftpfixture`, or the binary in
//!   the Python wheel and the npm package) is this server as a process: every
//!   option as a flag and an environment variable, a JSON ready line, scenario
//!   files. [cli.md] is its manual.
//! - **The control API**: `--control PORT` (`ServerBuilder::control`) serves
//!   HTTP/1.1 JSON beside the FTP port: faults, files, users, expectations, the
//!   transcript and its waits, reset, shutdown. [control-api.md] has every
//!   endpoint, request and error.
//! - **Python and Node**: `pip install ftpfixture` gives pytest fixtures
//!   (`ftp_server`, a clean server per test, safe under pytest-xdist);
//!   `npm install --save-dev ftpfixture` gives `startServer()`. Both drive the
//!   CLI through the control API.
//! - **CI**: a GitHub Action, a GitLab CI template and a recipe for any other
//!   system are in [ci.md].
//!
//! ## Platforms
//!
//! Linux is built and tested in CI (x86-64). The library avoids Linux-only
//! calls: Unix permission bits (`SITE CHMOD`, `unix.mode`, the fixed 0644/0755
//! of new files) are behind `cfg(unix)`, and elsewhere listings show 0755 for
//! directories and 0644 for files (0444 when read-only) and `SITE CHMOD` sets
//! the read-only flag from the owner's write bit; `sendfile` is Linux only,
//! and other systems copy. macOS and other Unixes should work as Linux does;
//! Windows should build and serve, but neither is checked by CI here, and the
//! test suite itself uses Linux facilities (`/proc`, curl, python3). The IPv6
//! test needs `::1`; `tools/test` says when it was skipped.
//!
//! ## Stability
//!
//! ftpfixture follows [semantic versioning](https://semver.org). Before 1.0, a
//! minor release (0.2 → 0.3) may break the API and a patch release (0.2.0 →
//! 0.2.1) may not; from 1.0 on, only a major release breaks it. The minimum
//! supported Rust version is 1.87 (`rust-version` in `Cargo.toml`); raising it
//! is a minor release and is said in the changelog.
//!
//! Stable (covered by the above): everything exported from the crate root and
//! documented, the text form of fault rules, the scenario keys, the CLI flags,
//! the ready line's keys, the control API's endpoints and the JSON objects of
//! events. A minor release may add, without it counting as a break:
//!
//! - variants to the `#[non_exhaustive]` enums ([`EventKind`],
//!   [`StorageError`], [`StartError`], [`TlsError`], [`ScenarioError`],
//!   [`LoginError`], [`PathError`], [`FileKind`], [`WriteMode`], [`DataEnd`],
//!   [`ClosedBy`], [`Channel`], [`Direction`], [`DataMode`], [`Quirk`]) and
//!   fields to `#[non_exhaustive]` structs ([`Event`], [`SessionInfo`]): match
//!   them with a `_` arm;
//! - methods with a default to the [`Storage`] and [`Authenticator`] traits
//!   (a new optional operation answers "not supported" until you implement
//!   it);
//! - builder options, methods, fault actions, quirks, scenario keys, CLI flags,
//!   ready-line keys, control API endpoints and event fields;
//! - new replies where the server answered 502 before.
//!
//! Not stable: anything `#[doc(hidden)]` (`__private`, the support of the
//! macros), the exact wording of error messages and log lines, and the
//! rendered transcript's layout (snapshots may need a review after a minor
//! release; the changelog says so).
//!
//! [insta]: https://insta.rs
//! [cli.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/cli.md
//! [control-api.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/control-api.md
//! [protocol.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/protocol.md
//! [personalities.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/personalities.md
//! [record-replay.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/record-replay.md
//! [performance.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/performance.md
//! [development.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/development.md
//! [ci.md]: https://github.com/ftpfixture/ftpfixture/blob/main/docs/ci.md
//! [CHANGELOG.md]: https://github.com/ftpfixture/ftpfixture/blob/main/CHANGELOG.md

#![warn(missing_docs)]

// The README's Rust blocks run as doctests, so they cannot rot (the guide
// itself is the crate documentation above, whose examples are doctests too).
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
mod facts;
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
