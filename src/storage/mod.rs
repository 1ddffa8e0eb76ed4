//! Where files live: the [`Storage`] trait and its two implementations.
//!
//! The session never touches the disk itself; every file operation goes
//! through a `Storage`, so a test can run on a real temp directory
//! ([`FsStorage`]), entirely in memory ([`MemoryStorage`]), or on a user's own
//! backend (the role the Go seed gives its `Driver`).

pub(crate) mod chroot;
mod fs;
mod memory;
pub(crate) mod owner_modes;
mod pace;
mod path;

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};

pub use fs::FsStorage;
pub(crate) use fs::{set_new_dir_mode, set_new_file_mode};
pub use memory::MemoryStorage;
pub(crate) use pace::{DiskPace, Stopwatch};
pub(crate) use path::leaves_root;
pub use path::{PathError, VirtualPath};

use crate::session_info::SessionInfo;

/// A readable byte stream handed out by [`Storage::read`].
pub type ReadStream = Box<dyn AsyncRead + Send + Unpin>;
/// A writable byte stream handed out by [`Storage::write`]. The engine calls
/// `shutdown()` on it when the upload is complete and reports success only if
/// that succeeds, so an implementation that buffers must commit there.
pub type WriteStream = Box<dyn AsyncWrite + Send + Unpin>;

/// What kind of thing a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (listed, never followed out of the root).
    Symlink,
}

/// What a listing or `SIZE`/`MDTM` needs to know about a path.
///
/// Built with [`Metadata::file`], [`Metadata::dir`] or [`Metadata::symlink`]
/// and the `with_*` setters, read through getters, so that more facts
/// (owner, group…) can be added without breaking a backend.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use ftpfixture::{FileKind, Metadata};
/// let m = Metadata::file(12).with_modified(UNIX_EPOCH + Duration::from_secs(86_400));
/// assert_eq!((m.kind(), m.size(), m.mode()), (FileKind::File, 12, 0o644));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    kind: FileKind,
    size: u64,
    modified: Option<SystemTime>,
    mode: u32,
    owner: Option<Arc<(String, String)>>,
    links: Option<u32>,
}

impl Metadata {
    /// A regular file of `size` bytes, mode `0644`, time unknown.
    pub fn file(size: u64) -> Self {
        Metadata {
            kind: FileKind::File,
            size,
            modified: None,
            mode: 0o644,
            owner: None,
            links: None,
        }
    }

    /// A directory, mode `0755`, time unknown.
    pub fn dir() -> Self {
        Metadata {
            kind: FileKind::Dir,
            size: 0,
            modified: None,
            mode: 0o755,
            owner: None,
            links: None,
        }
    }

    /// A symbolic link, mode `0777`, time unknown.
    pub fn symlink() -> Self {
        Metadata {
            kind: FileKind::Symlink,
            size: 0,
            modified: None,
            mode: 0o777,
            owner: None,
            links: None,
        }
    }

    /// Sets the size in bytes.
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = size;
        self
    }

    /// Sets the last modification time.
    pub fn with_modified(mut self, time: SystemTime) -> Self {
        self.modified = Some(time);
        self
    }

    /// Sets the Unix permission bits (`0o644`…), as `LIST` and `unix.mode`
    /// show them.
    pub fn with_mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the link count `LIST` shows (by default 2 for a directory, 1
    /// for anything else): a directory's is 2 plus its subdirectories, as
    /// `ls -l` shows them.
    pub fn with_links(mut self, links: u32) -> Self {
        self.links = Some(links);
        self
    }

    /// The link count, when set with [`Metadata::with_links`].
    pub fn links(&self) -> Option<u32> {
        self.links
    }

    /// Sets the owner and group names that `LIST` and the `unix.owner` /
    /// `unix.group` facts show (`ftp ftp` when not set).
    pub fn with_owner(mut self, owner: impl Into<String>, group: impl Into<String>) -> Self {
        self.owner = Some(Arc::new((owner.into(), group.into())));
        self
    }

    /// The owner's name, when the storage (or the permission provider)
    /// gave one.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref().map(|(o, _)| o.as_str())
    }

    /// The group's name, when given.
    pub fn group(&self) -> Option<&str> {
        self.owner.as_deref().map(|(_, g)| g.as_str())
    }

    /// File, directory or link.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Size in bytes (0 for directories).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Last modification time, when the storage knows it.
    pub fn modified(&self) -> Option<SystemTime> {
        self.modified
    }

    /// Unix permission bits.
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// True for directories.
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Dir
    }

    /// True for regular files.
    pub fn is_file(&self) -> bool {
        self.kind == FileKind::File
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    name: String,
    metadata: Metadata,
}

impl DirEntry {
    /// An entry named `name` (no slashes).
    pub fn new(name: impl Into<String>, metadata: Metadata) -> Self {
        DirEntry {
            name: name.into(),
            metadata,
        }
    }

    /// The entry's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub(crate) fn into_parts(self) -> (String, Metadata) {
        (self.name, self.metadata)
    }
}

/// How [`Storage::write`] opens its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteMode {
    /// Create or truncate (`STOR`).
    Truncate,
    /// Create or append at the end (`APPE`).
    Append,
    /// Keep the first `n` bytes, drop the rest and write from there
    /// (`REST n` then `STOR`). An offset past the end is an error.
    At(u64),
    /// Write from byte `n` over what is there, keeping what follows the
    /// written bytes; an offset past the end leaves a gap that reads as
    /// zeros. vsftpd and Pure-FTPd store `REST n` then `STOR` this way
    /// (the personalities use it).
    Over(u64),
    /// Create; fail with [`StorageError::AlreadyExists`] if the path exists (`STOU`).
    CreateNew,
}

/// Why a storage operation failed. Each variant maps onto an FTP reply code
/// ([`StorageError::reply_code`]), so a backend chooses the client-visible
/// outcome by choosing the variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// No such file or directory (550).
    #[error("No such file or directory")]
    NotFound,
    /// The operation is not allowed (550).
    #[error("Permission denied")]
    PermissionDenied,
    /// A directory was expected (550).
    #[error("Not a directory")]
    NotADirectory,
    /// A file was expected (550).
    #[error("Is a directory")]
    IsADirectory,
    /// The target already exists (550).
    #[error("File exists")]
    AlreadyExists,
    /// `RMD` of a directory that still has entries (550).
    #[error("Directory not empty")]
    NotEmpty,
    /// The file name is not allowed (553).
    #[error("File name not allowed")]
    InvalidName,
    /// The file is busy (locked, being written elsewhere): try again
    /// later (450).
    #[error("File busy")]
    Busy,
    /// The storage is full (452).
    #[error("Insufficient storage space")]
    InsufficientStorage,
    /// A per-file or per-user allocation is exceeded (552).
    #[error("Exceeded storage allocation")]
    ExceededAllocation,
    /// An offset (from `REST`) lies beyond the end of the file (554).
    #[error("Invalid restart offset")]
    InvalidOffset,
    /// The backend does not offer this operation (502): what the default
    /// methods of [`Storage`] answer.
    #[error("Operation not supported")]
    Unsupported,
    /// Anything else the backend hit (451 during a transfer, 550 otherwise).
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl StorageError {
    /// The reply code a session sends for this error when it ends a command
    /// outright (transfers map [`StorageError::Io`] to 451 themselves).
    pub fn reply_code(&self) -> u16 {
        match self {
            StorageError::Busy => 450,
            StorageError::InvalidName => 553,
            StorageError::InsufficientStorage => 452,
            StorageError::ExceededAllocation => 552,
            StorageError::InvalidOffset => 554,
            StorageError::Unsupported => 502,
            _ => 550,
        }
    }

    /// Classifies an `io::Error` from a filesystem call.
    pub fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => StorageError::NotFound,
            io::ErrorKind::PermissionDenied => StorageError::PermissionDenied,
            io::ErrorKind::AlreadyExists => StorageError::AlreadyExists,
            io::ErrorKind::NotADirectory => StorageError::NotADirectory,
            io::ErrorKind::IsADirectory => StorageError::IsADirectory,
            io::ErrorKind::DirectoryNotEmpty => StorageError::NotEmpty,
            io::ErrorKind::StorageFull => StorageError::InsufficientStorage,
            io::ErrorKind::ResourceBusy => StorageError::Busy,
            io::ErrorKind::InvalidFilename => StorageError::InvalidName,
            _ => StorageError::Io(e),
        }
    }
}

/// The backend contract: everything the engine does to files goes through it.
///
/// Paths arrive normalised and absolute ([`VirtualPath`]); permissions of the
/// logged-in user are checked by the engine before a call, so a backend only
/// enforces what it itself cannot do. Every method is told who asks
/// ([`SessionInfo`]: session, peer, account, TLS), so a backend can serve
/// each user its own tree. Implementations must be cheap to share: the
/// engine holds one in an `Arc` for all sessions.
///
/// Only [`metadata`](Storage::metadata), [`list`](Storage::list) and
/// [`read`](Storage::read) are required: the other operations answer
/// [`StorageError::Unsupported`] (the client gets `502`) unless implemented,
/// so a read-only backend is three methods, and new optional operations can
/// be added to the trait without breaking yours.
///
/// The trait uses [`async_trait`](crate::async_trait) (re-exported), because
/// the engine keeps backends as `Arc<dyn Storage>`, which native `async fn`
/// in traits does not allow.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Metadata of `path`, a symbolic link followed to what it names, as
    /// stat(2) does ([`list`](Self::list) shows links as links).
    async fn metadata(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError>;

    /// The entries of directory `path`, in any order (the engine sorts).
    async fn list(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError>;

    /// A stream of the file's bytes from `offset` on.
    async fn read(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError>;

    /// The file behind [`read`](Self::read), when the storage keeps it on
    /// the local disk: open, positioned at `offset`, with the same errors as
    /// `read`. A download then goes from the file to the socket inside the
    /// kernel (`sendfile` on Linux) when nothing stands between them: no
    /// TLS, TYPE I, and no data fault. The default, `Ok(None)`, sends every
    /// download through [`read`](Self::read); [`FsStorage`] returns its
    /// files.
    async fn read_local(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<Option<std::fs::File>, StorageError> {
        let _ = (session, path, offset);
        Ok(None)
    }

    /// A stream that writes the file as `mode` says. The parent must exist.
    async fn write(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        let _ = (session, path, mode);
        Err(StorageError::Unsupported)
    }

    /// The file behind [`write`](Self::write), when the storage keeps it on
    /// the local disk: opened as `mode` says and positioned for writing,
    /// with the same errors as `write`. An upload then goes from the
    /// server's receive buffers straight into the file, without the copy
    /// into a stream's buffer, when nothing stands between them: no
    /// storage fault (a simulated full disk wraps the stream).
    ///
    /// When this returns a file, [`write`](Self::write) is not called for
    /// that upload, so a storage whose `write` does more than write the
    /// file (a commit on `shutdown`, a side effect) must keep the default.
    /// The engine writes with plain `write` calls (on the runtime's threads
    /// while they are fast, else on the blocking pool), reports success
    /// once every byte is written, does not `fsync`, and closes the file
    /// by dropping it. The default, `Ok(None)`, sends every upload through
    /// [`write`](Self::write); [`FsStorage`] returns its files.
    async fn write_local(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<Option<std::fs::File>, StorageError> {
        let _ = (session, path, mode);
        Ok(None)
    }

    /// Creates a directory (its parent must exist).
    async fn mkdir(&self, session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let _ = (session, path);
        Err(StorageError::Unsupported)
    }

    /// Removes an empty directory.
    async fn rmdir(&self, session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let _ = (session, path);
        Err(StorageError::Unsupported)
    }

    /// Removes a file.
    async fn delete(&self, session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let _ = (session, path);
        Err(StorageError::Unsupported)
    }

    /// Renames or moves `from` to `to`, replacing what is at `to` as
    /// rename(2) does: a file replaces a file, a directory an empty
    /// directory; otherwise [`StorageError::IsADirectory`] (a file onto a
    /// directory), [`StorageError::NotEmpty`] or
    /// [`StorageError::NotADirectory`] (a directory onto a file).
    async fn rename(
        &self,
        session: &SessionInfo,
        from: &VirtualPath,
        to: &VirtualPath,
    ) -> Result<(), StorageError> {
        let _ = (session, from, to);
        Err(StorageError::Unsupported)
    }

    /// Sets the modification time (`MFMT`).
    async fn set_modified(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        let _ = (session, path, time);
        Err(StorageError::Unsupported)
    }

    /// Sets the unix permission bits (`SITE CHMOD`).
    async fn set_mode(
        &self,
        session: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        let _ = (session, path, mode);
        Err(StorageError::Unsupported)
    }

    /// Makes `link` a symbolic link to `target` (ProFTPD's `SITE
    /// SYMLINK`): [`metadata`](Self::metadata) then reports a link and
    /// [`read`](Self::read) reads the target. `AlreadyExists` when `link`
    /// is there; its parent must exist.
    async fn symlink(
        &self,
        session: &SessionInfo,
        target: &VirtualPath,
        link: &VirtualPath,
    ) -> Result<(), StorageError> {
        let _ = (session, target, link);
        Err(StorageError::Unsupported)
    }
}

/// Builds the storage of each login: the role of the Go seed's
/// `DriverFactory`, which made a driver per connection.
///
/// Called once a login succeeds, with the account in `session`; the
/// session then works on what it returns. It is the one way an account
/// gets a storage of its own: without a factory of yours, the built-in one
/// gives the accounts of the user table theirs ([`User::own_root`],
/// [`User::storage`]) and everyone else the server's storage; with yours,
/// yours decides for everyone (and `own_root`/`User::storage` are a start
/// error beside it). An error refuses the login with `421` and closes the
/// connection.
///
/// [`User::own_root`]: crate::User::own_root
/// [`User::storage`]: crate::User::storage
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use ftpfixture::{MemoryStorage, SessionInfo, Storage, StorageError, StorageFactory};
///
/// /// One in-memory tree per user name, kept across that user's logins.
/// #[derive(Default)]
/// struct PerUser(Mutex<HashMap<String, Arc<dyn Storage>>>);
///
/// #[ftpfixture::async_trait]
/// impl StorageFactory for PerUser {
///     async fn storage(&self, session: &SessionInfo) -> Result<Arc<dyn Storage>, StorageError> {
///         let user = session.user().unwrap_or_default().to_string();
///         let mut trees = self.0.lock().unwrap();
///         Ok(trees.entry(user).or_insert_with(|| Arc::new(MemoryStorage::new())).clone())
///     }
/// }
///
/// let builder = ftpfixture::Server::builder().storage_factory(PerUser::default());
/// # let _ = builder;
/// ```
#[async_trait]
pub trait StorageFactory: Send + Sync + 'static {
    /// The storage for the session that just logged in.
    async fn storage(&self, session: &SessionInfo) -> Result<Arc<dyn Storage>, StorageError>;
}
