//! A real directory on disk, confined to its root.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::session_info::SessionInfo;

use super::{
    DirEntry, Metadata, ReadStream, Storage, StorageError, VirtualPath, WriteMode, WriteStream,
};

/// The mode of a file the server creates (upload, seed, fixture copy).
const NEW_FILE_MODE: u32 = 0o644;
/// The mode of a directory the server creates.
const NEW_DIR_MODE: u32 = 0o755;

/// Unix permission bits, and what stands in for them elsewhere. Only Unix
/// has modes; on other systems listings show 0755 for directories, 0644
/// for files (0444 when read-only), `SITE CHMOD` sets or clears the
/// read-only flag from the owner's write bit, and new files keep the
/// system's defaults. Both branches are plain functions so the rest of the
/// storage is the same code everywhere.
mod modes {
    use std::path::Path;

    #[cfg(unix)]
    pub(super) fn of(m: &std::fs::Metadata) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o7777
    }

    #[cfg(not(unix))]
    pub(super) fn of(m: &std::fs::Metadata) -> u32 {
        if m.is_dir() {
            0o755
        } else if m.permissions().readonly() {
            0o444
        } else {
            0o644
        }
    }

    /// The permissions `mode` means for the file at `path` now.
    #[cfg(unix)]
    pub(super) fn permissions(_path: &Path, mode: u32) -> std::io::Result<std::fs::Permissions> {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::Permissions::from_mode(mode & 0o7777))
    }

    #[cfg(not(unix))]
    pub(super) fn permissions(path: &Path, mode: u32) -> std::io::Result<std::fs::Permissions> {
        let mut p = std::fs::metadata(path)?.permissions();
        p.set_readonly(mode & 0o200 == 0);
        Ok(p)
    }

    /// Gives a file or directory the server just made its fixed mode (on
    /// Unix: whatever the umask), so listings match across machines.
    pub(crate) fn set_new(path: &Path, mode: u32) -> std::io::Result<()> {
        if cfg!(unix) {
            std::fs::set_permissions(path, permissions(path, mode)?)?;
        }
        Ok(())
    }
}

/// Gives a file the server made mode 0644 (Unix).
pub(crate) fn set_new_file_mode(path: &Path) -> std::io::Result<()> {
    modes::set_new(path, NEW_FILE_MODE)
}

/// Gives a directory the server made mode 0755 (Unix).
pub(crate) fn set_new_dir_mode(path: &Path) -> std::io::Result<()> {
    modes::set_new(path, NEW_DIR_MODE)
}

/// Files in a directory of the local filesystem.
///
/// Files and directories it creates get modes 0644 and 0755 whatever the
/// process umask, so listings are the same on every machine.
///
/// Every virtual path is mapped below the root and checked after symlinks are
/// resolved: a link that leads outside the root is refused with
/// [`StorageError::PermissionDenied`], as is anything else that would escape.
#[derive(Debug, Clone)]
pub struct FsStorage {
    root: PathBuf,
    /// Whether calls have lately been slow (see `run`).
    pace: std::sync::Arc<super::DiskPace>,
}

impl FsStorage {
    /// Serves the directory `root`, which must exist.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = std::fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(FsStorage {
            root,
            pace: std::sync::Arc::new(super::DiskPace::new("file system calls")),
        })
    }

    /// The directory served as `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A copy of what a blocking task needs to find paths.
    fn at(&self) -> Root {
        Root(self.root.clone())
    }
}

/// The root, moved into a storage call. A call runs whole in one place,
/// path resolution included (see [`FsStorage::run`]).
struct Root(PathBuf);

impl Root {
    fn local(&self, path: &VirtualPath) -> PathBuf {
        let mut p = self.0.clone();
        p.extend(path.components());
        p
    }

    /// Maps `path` onto the disk and makes sure that, with links resolved, it
    /// stays under the root. The last component may be missing (for creation)
    /// or a link (which is then not followed).
    fn resolve(&self, path: &VirtualPath) -> Result<PathBuf, StorageError> {
        let local = self.local(path);
        let Some(name) = path.file_name() else {
            return Ok(local);
        };
        let parent =
            std::fs::canonicalize(self.local(&path.parent())).map_err(StorageError::from_io)?;
        if !parent.starts_with(&self.0) {
            return Err(StorageError::PermissionDenied);
        }
        Ok(parent.join(name))
    }

    /// Like [`resolve`](Self::resolve), and follows a final link, which must
    /// also stay under the root.
    fn resolve_target(&self, path: &VirtualPath) -> Result<PathBuf, StorageError> {
        let p = self.resolve(path)?;
        match std::fs::canonicalize(&p) {
            Ok(real) if real.starts_with(&self.0) => Ok(real),
            Ok(_) => Err(StorageError::PermissionDenied),
            // A dangling link or a missing file: let the caller's own call
            // report what is missing.
            Err(_) => Ok(p),
        }
    }

    /// The file at `path`, open for reading at `offset`.
    fn open_at(&self, path: &VirtualPath, offset: u64) -> Result<std::fs::File, StorageError> {
        let p = self.resolve_target(path)?;
        let mut file = std::fs::File::open(&p).map_err(StorageError::from_io)?;
        let m = file.metadata().map_err(StorageError::from_io)?;
        if m.is_dir() {
            return Err(StorageError::IsADirectory);
        }
        if offset > m.len() {
            return Err(StorageError::InvalidOffset);
        }
        if offset > 0 {
            std::io::Seek::seek(&mut file, SeekFrom::Start(offset))
                .map_err(StorageError::from_io)?;
        }
        Ok(file)
    }

    /// Opens (creating as `mode` says) the file an upload writes.
    fn open_for_write(
        &self,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<std::fs::File, StorageError> {
        let p = self.resolve_target(path)?;
        let existing = std::fs::metadata(&p).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(StorageError::IsADirectory);
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true);
        match mode {
            WriteMode::Truncate => opts.create(true).truncate(true),
            WriteMode::Append => opts.create(true).append(true),
            WriteMode::At(_) | WriteMode::Over(_) => opts.create(true),
            WriteMode::CreateNew => opts.create_new(true),
        };
        let mut file = opts.open(&p).map_err(StorageError::from_io)?;
        if existing.is_none() {
            // A new file's mode would otherwise follow the process umask,
            // and listings (snapshots) would differ between machines.
            if cfg!(unix) {
                let mode = modes::permissions(&p, NEW_FILE_MODE).map_err(StorageError::from_io)?;
                file.set_permissions(mode).map_err(StorageError::from_io)?;
            }
        }
        if let WriteMode::At(offset) = mode {
            let len = file.metadata().map_err(StorageError::from_io)?.len();
            if offset > len {
                return Err(StorageError::InvalidOffset);
            }
            file.set_len(offset).map_err(StorageError::from_io)?;
            std::io::Seek::seek(&mut file, SeekFrom::Start(offset))
                .map_err(StorageError::from_io)?;
        }
        if let WriteMode::Over(offset) = mode {
            // Past the end the first write leaves a hole (zeros).
            std::io::Seek::seek(&mut file, SeekFrom::Start(offset))
                .map_err(StorageError::from_io)?;
        }
        Ok(file)
    }
}

impl FsStorage {
    /// Runs one storage call whole: on the calling (runtime) thread while
    /// calls take the page cache's microseconds, and on the blocking pool,
    /// one trip per call, for a while after one was slow (a disk that holds
    /// readers back, a network filesystem). A hand-off to the pool per call
    /// costs two thread wake-ups, which on a small machine shared with a
    /// busy test process cost more than the call (benches/peers.rs, python).
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        if self.pace.inline() {
            let watch = super::Stopwatch::start();
            let result = f();
            self.pace.took(watch.waited());
            return result;
        }
        let pace = self.pace.clone();
        self.pace
            .on_pool(move || {
                let watch = super::Stopwatch::start();
                let result = f();
                pace.took(watch.waited());
                result
            })
            .await
            .map_err(StorageError::Io)?
    }
}

fn to_metadata(m: &std::fs::Metadata) -> Metadata {
    let meta = if m.file_type().is_symlink() {
        Metadata::symlink()
    } else if m.is_dir() {
        Metadata::dir()
    } else {
        Metadata::file(m.len())
    };
    let meta = meta.with_mode(modes::of(m));
    match m.modified() {
        Ok(t) => meta.with_modified(t),
        Err(_) => meta,
    }
}

#[async_trait]
impl Storage for FsStorage {
    async fn metadata(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve_target(&path)?;
            let m = std::fs::metadata(&p).map_err(StorageError::from_io)?;
            Ok(to_metadata(&m))
        })
        .await
    }

    async fn list(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve_target(&path)?;
            let mut out = Vec::new();
            for entry in std::fs::read_dir(&p).map_err(StorageError::from_io)? {
                let entry = entry.map_err(StorageError::from_io)?;
                let Ok(name) = entry.file_name().into_string() else {
                    // A name that is not UTF-8 cannot be addressed by a client
                    // that speaks UTF-8; leave it out rather than mangle it.
                    tracing::debug!(dir = %path, "skipping a non-UTF-8 file name");
                    continue;
                };
                // symlink_metadata: a link is listed as a link, never followed here.
                if let Ok(m) = entry.metadata() {
                    out.push(DirEntry {
                        name,
                        metadata: to_metadata(&m),
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn read(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError> {
        let (root, path) = (self.at(), path.clone());
        let file = self.run(move || root.open_at(&path, offset)).await?;
        Ok(Box::new(tokio::fs::File::from_std(file)))
    }

    async fn read_local(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<Option<std::fs::File>, StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || root.open_at(&path, offset).map(Some))
            .await
    }

    async fn write(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        let (root, path) = (self.at(), path.clone());
        let file = self.run(move || root.open_for_write(&path, mode)).await?;
        Ok(Box::new(tokio::fs::File::from_std(file)))
    }

    async fn write_local(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<Option<std::fs::File>, StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || root.open_for_write(&path, mode).map(Some))
            .await
    }

    async fn mkdir(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve(&path)?;
            std::fs::create_dir(&p).map_err(StorageError::from_io)?;
            // As for files: the same mode whatever the umask.
            if cfg!(unix) {
                let mode = modes::permissions(&p, NEW_DIR_MODE).map_err(StorageError::from_io)?;
                std::fs::set_permissions(&p, mode).map_err(StorageError::from_io)?;
            }
            Ok(())
        })
        .await
    }

    async fn rmdir(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        if path.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve(&path)?;
            std::fs::remove_dir(&p).map_err(StorageError::from_io)
        })
        .await
    }

    async fn delete(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve(&path)?;
            let m = std::fs::symlink_metadata(&p).map_err(StorageError::from_io)?;
            if m.is_dir() {
                return Err(StorageError::IsADirectory);
            }
            std::fs::remove_file(&p).map_err(StorageError::from_io)
        })
        .await
    }

    async fn rename(
        &self,
        _session: &SessionInfo,
        from: &VirtualPath,
        to: &VirtualPath,
    ) -> Result<(), StorageError> {
        if from.is_root() || to.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        let (root, from, to) = (self.at(), from.clone(), to.clone());
        self.run(move || {
            let a = root.resolve(&from)?;
            let b = root.resolve(&to)?;
            std::fs::symlink_metadata(&a).map_err(StorageError::from_io)?;
            std::fs::rename(&a, &b).map_err(StorageError::from_io)
        })
        .await
    }

    async fn set_modified(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve_target(&path)?;
            let f = std::fs::File::options()
                .write(true)
                .open(&p)
                .or_else(|_| std::fs::File::open(&p))
                .map_err(StorageError::from_io)?;
            f.set_modified(time).map_err(StorageError::from_io)
        })
        .await
    }

    async fn set_mode(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        let (root, path) = (self.at(), path.clone());
        self.run(move || {
            let p = root.resolve_target(&path)?;
            let permissions = modes::permissions(&p, mode).map_err(StorageError::from_io)?;
            std::fs::set_permissions(&p, permissions).map_err(StorageError::from_io)
        })
        .await
    }

    /// The link names its target relative to its own directory, so that
    /// it resolves inside the root (an absolute target would name the
    /// host's file, which `Root::resolve_target` refuses to follow).
    #[cfg(unix)]
    async fn symlink(
        &self,
        _session: &SessionInfo,
        target: &VirtualPath,
        link: &VirtualPath,
    ) -> Result<(), StorageError> {
        let (root, link) = (self.at(), link.clone());
        let relative = relative_to(&link.parent(), target);
        self.run(move || {
            let p = root.resolve(&link)?;
            std::os::unix::fs::symlink(&relative, &p).map_err(StorageError::from_io)
        })
        .await
    }
}

/// `target` as seen from the directory `from`: `..` up to their common
/// part, then down (`/dir` to `/readme.txt` is `../readme.txt`).
#[cfg(unix)]
fn relative_to(from: &VirtualPath, target: &VirtualPath) -> String {
    let from: Vec<&str> = from.components().collect();
    let to: Vec<&str> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_name_their_target_from_their_own_directory() {
        let p = |s: &str| VirtualPath::new(s).unwrap();
        assert_eq!(relative_to(&p("/"), &p("/readme.txt")), "readme.txt");
        assert_eq!(relative_to(&p("/dir"), &p("/readme.txt")), "../readme.txt");
        assert_eq!(relative_to(&p("/a/b"), &p("/a/c/d")), "../c/d");
        assert_eq!(relative_to(&p("/a"), &p("/a")), ".");
    }
}
