//! The kernel's permission checks for a server that runs as the logged-in
//! user: what a played server meets after `SITE CHMOD 000 file`.
//!
//! The fixture itself writes as whoever started it (often root, who may do
//! anything), and [`MemoryStorage`](super::MemoryStorage) keeps modes
//! without reading them. A real server such as Pure-FTPd drops to the
//! account's uid after login, so open(2), opendir(2) and friends refuse
//! what the owner's bits forbid. This adapter puts those checks in front of
//! a storage, for a personality that asks for them
//! (`Habits::owner_modes_apply`), reading the owner's bits (`mode >> 6`)
//! because the account owns the files it can change: someone else's files
//! are read-only by path rule already, and their modes are not the
//! account's to change.
//!
//! The checks follow path_resolution(7): every directory on the way needs
//! search (x); reading a file or a directory's entries needs read (r);
//! writing a file needs write (w); creating, removing or renaming an entry
//! needs write on its directory. Setting times and modes needs nothing
//! more: the owner may.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use super::{
    DirEntry, Metadata, ReadStream, Storage, StorageError, VirtualPath, WriteMode, WriteStream,
};
use crate::session_info::SessionInfo;

/// The owner's read, write and search bits.
const READ: u32 = 0o400;
const WRITE: u32 = 0o200;
const SEARCH: u32 = 0o100;

pub(crate) struct OwnerModes {
    inner: Arc<dyn Storage>,
}

impl OwnerModes {
    pub(crate) fn new(inner: Arc<dyn Storage>) -> Self {
        OwnerModes { inner }
    }

    /// Every directory from the root down to `path`'s parent must be
    /// searchable (the root included: a chroot's `/` has a mode too).
    /// Returns the parent's metadata (`None` for the root), for the
    /// checks that need its other bits.
    async fn walk(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Option<Metadata>, StorageError> {
        let mut dirs = Vec::new();
        let mut at = path.clone();
        while !at.is_root() {
            at = at.parent();
            dirs.push(at.clone());
        }
        let mut parent = None;
        for dir in dirs.iter().rev() {
            let meta = self.inner.metadata(s, dir).await?;
            if meta.is_dir() && meta.mode() & SEARCH == 0 {
                return Err(StorageError::PermissionDenied);
            }
            parent = Some(meta);
        }
        Ok(parent)
    }

    /// `path`, reached by the walk, must have `bits`.
    async fn needs(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        bits: u32,
    ) -> Result<(), StorageError> {
        self.walk(s, path).await?;
        let meta = self.inner.metadata(s, path).await?;
        if meta.mode() & bits != bits {
            return Err(StorageError::PermissionDenied);
        }
        Ok(())
    }

    /// A change to the entry `path`: after the walk (which searched its
    /// directory), that directory must be writable. A parent that is no
    /// directory is left to the storage's own ENOTDIR.
    async fn changes_entry(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        let parent = self.walk(s, path).await?;
        match parent {
            Some(dir) if dir.is_dir() && dir.mode() & WRITE == 0 => {
                Err(StorageError::PermissionDenied)
            }
            _ => Ok(()),
        }
    }

    /// Opening `path` for writing: the file's own write bit when it is
    /// there, else its directory's (a new entry); one walk for both.
    async fn opens_for_write(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<(), StorageError> {
        let parent = self.walk(s, path).await?;
        let writable = match self.inner.metadata(s, path).await {
            Ok(meta) => meta.mode() & WRITE != 0,
            Err(_) => parent.is_none_or(|dir| !dir.is_dir() || dir.mode() & WRITE != 0),
        };
        if writable {
            Ok(())
        } else {
            Err(StorageError::PermissionDenied)
        }
    }
}

#[async_trait]
impl Storage for OwnerModes {
    async fn metadata(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError> {
        self.walk(s, path).await?;
        self.inner.metadata(s, path).await
    }

    async fn list(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        self.needs(s, path, READ).await?;
        self.inner.list(s, path).await
    }

    async fn read(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError> {
        self.needs(s, path, READ).await?;
        self.inner.read(s, path, offset).await
    }

    async fn read_local(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<Option<std::fs::File>, StorageError> {
        self.needs(s, path, READ).await?;
        self.inner.read_local(s, path, offset).await
    }

    async fn write(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        self.opens_for_write(s, path).await?;
        self.inner.write(s, path, mode).await
    }

    async fn write_local(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<Option<std::fs::File>, StorageError> {
        self.opens_for_write(s, path).await?;
        self.inner.write_local(s, path, mode).await
    }

    async fn mkdir(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.changes_entry(s, path).await?;
        self.inner.mkdir(s, path).await
    }

    async fn rmdir(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.changes_entry(s, path).await?;
        self.inner.rmdir(s, path).await
    }

    async fn delete(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.changes_entry(s, path).await?;
        self.inner.delete(s, path).await
    }

    async fn rename(
        &self,
        s: &SessionInfo,
        from: &VirtualPath,
        to: &VirtualPath,
    ) -> Result<(), StorageError> {
        self.changes_entry(s, from).await?;
        self.changes_entry(s, to).await?;
        self.inner.rename(s, from, to).await
    }

    async fn set_modified(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        self.walk(s, path).await?;
        self.inner.set_modified(s, path, time).await
    }

    async fn set_mode(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        self.walk(s, path).await?;
        self.inner.set_mode(s, path, mode).await
    }

    async fn symlink(
        &self,
        s: &SessionInfo,
        target: &VirtualPath,
        link: &VirtualPath,
    ) -> Result<(), StorageError> {
        self.changes_entry(s, link).await?;
        self.inner.symlink(s, target, link).await
    }
}
