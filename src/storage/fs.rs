//! A real directory on disk, confined to its root.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::session_info::SessionInfo;
use tokio::io::AsyncSeekExt;

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
        Ok(FsStorage { root })
    }

    /// The directory served as `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn local(&self, path: &VirtualPath) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(path.components());
        p
    }

    /// Maps `path` onto the disk and makes sure that, with links resolved, it
    /// stays under the root. The last component may be missing (for creation)
    /// or a link (which is then not followed).
    async fn resolve(&self, path: &VirtualPath) -> Result<PathBuf, StorageError> {
        let local = self.local(path);
        let Some(name) = path.file_name() else {
            return Ok(local);
        };
        let parent = tokio::fs::canonicalize(self.local(&path.parent()))
            .await
            .map_err(StorageError::from_io)?;
        if !parent.starts_with(&self.root) {
            return Err(StorageError::PermissionDenied);
        }
        Ok(parent.join(name))
    }

    /// Like [`resolve`](Self::resolve), and follows a final link, which must
    /// also stay under the root.
    async fn resolve_target(&self, path: &VirtualPath) -> Result<PathBuf, StorageError> {
        let p = self.resolve(path).await?;
        match tokio::fs::canonicalize(&p).await {
            Ok(real) if real.starts_with(&self.root) => Ok(real),
            Ok(_) => Err(StorageError::PermissionDenied),
            // A dangling link or a missing file: let the caller's own call
            // report what is missing.
            Err(_) => Ok(p),
        }
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
        let p = self.resolve_target(path).await?;
        let m = tokio::fs::metadata(&p)
            .await
            .map_err(StorageError::from_io)?;
        Ok(to_metadata(&m))
    }

    async fn list(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        let p = self.resolve_target(path).await?;
        let mut rd = tokio::fs::read_dir(&p)
            .await
            .map_err(StorageError::from_io)?;
        let mut out = Vec::new();
        while let Some(entry) = rd.next_entry().await.map_err(StorageError::from_io)? {
            let Ok(name) = entry.file_name().into_string() else {
                // A name that is not UTF-8 cannot be addressed by a client
                // that speaks UTF-8; leave it out rather than mangle it.
                tracing::debug!(dir = %path, "skipping a non-UTF-8 file name");
                continue;
            };
            // symlink_metadata: a link is listed as a link, never followed here.
            if let Ok(m) = entry.metadata().await {
                out.push(DirEntry {
                    name,
                    metadata: to_metadata(&m),
                });
            }
        }
        Ok(out)
    }

    async fn read(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError> {
        let p = self.resolve_target(path).await?;
        let mut file = tokio::fs::File::open(&p)
            .await
            .map_err(StorageError::from_io)?;
        let m = file.metadata().await.map_err(StorageError::from_io)?;
        if m.is_dir() {
            return Err(StorageError::IsADirectory);
        }
        if offset > m.len() {
            return Err(StorageError::InvalidOffset);
        }
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))
                .await
                .map_err(StorageError::from_io)?;
        }
        Ok(Box::new(file))
    }

    async fn write(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        let p = self.resolve_target(path).await?;
        let existing = tokio::fs::metadata(&p).await.ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(StorageError::IsADirectory);
        }
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true);
        match mode {
            WriteMode::Truncate => opts.create(true).truncate(true),
            WriteMode::Append => opts.create(true).append(true),
            WriteMode::At(_) => opts.create(true),
            WriteMode::CreateNew => opts.create_new(true),
        };
        let mut file = opts.open(&p).await.map_err(StorageError::from_io)?;
        if existing.is_none() {
            // A new file's mode would otherwise follow the process umask,
            // and listings (snapshots) would differ between machines.
            if cfg!(unix) {
                let mode = modes::permissions(&p, NEW_FILE_MODE).map_err(StorageError::from_io)?;
                file.set_permissions(mode)
                    .await
                    .map_err(StorageError::from_io)?;
            }
        }
        if let WriteMode::At(offset) = mode {
            let len = file.metadata().await.map_err(StorageError::from_io)?.len();
            if offset > len {
                return Err(StorageError::InvalidOffset);
            }
            file.set_len(offset).await.map_err(StorageError::from_io)?;
            file.seek(SeekFrom::Start(offset))
                .await
                .map_err(StorageError::from_io)?;
        }
        Ok(Box::new(file))
    }

    async fn mkdir(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let p = self.resolve(path).await?;
        tokio::fs::create_dir(&p)
            .await
            .map_err(StorageError::from_io)?;
        // As for files: the same mode whatever the umask.
        if cfg!(unix) {
            let mode = modes::permissions(&p, NEW_DIR_MODE).map_err(StorageError::from_io)?;
            tokio::fs::set_permissions(&p, mode)
                .await
                .map_err(StorageError::from_io)?;
        }
        Ok(())
    }

    async fn rmdir(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        if path.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        let p = self.resolve(path).await?;
        tokio::fs::remove_dir(&p)
            .await
            .map_err(StorageError::from_io)
    }

    async fn delete(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let p = self.resolve(path).await?;
        let m = tokio::fs::symlink_metadata(&p)
            .await
            .map_err(StorageError::from_io)?;
        if m.is_dir() {
            return Err(StorageError::IsADirectory);
        }
        tokio::fs::remove_file(&p)
            .await
            .map_err(StorageError::from_io)
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
        let a = self.resolve(from).await?;
        let b = self.resolve(to).await?;
        tokio::fs::symlink_metadata(&a)
            .await
            .map_err(StorageError::from_io)?;
        tokio::fs::rename(&a, &b)
            .await
            .map_err(StorageError::from_io)
    }

    async fn set_modified(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        let p = self.resolve_target(path).await?;
        tokio::task::spawn_blocking(move || {
            let f = std::fs::File::options()
                .write(true)
                .open(&p)
                .or_else(|_| std::fs::File::open(&p))?;
            f.set_modified(time)
        })
        .await
        .map_err(|e| StorageError::Io(std::io::Error::other(e)))?
        .map_err(StorageError::from_io)
    }

    async fn set_mode(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        let p = self.resolve_target(path).await?;
        let permissions = modes::permissions(&p, mode).map_err(StorageError::from_io)?;
        tokio::fs::set_permissions(&p, permissions)
            .await
            .map_err(StorageError::from_io)
    }
}
