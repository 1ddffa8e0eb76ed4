//! A chrooted account's view of a storage: its `/` is its home.
//!
//! The session works with the paths the client sees (so that no reply can
//! name what lies outside the home); this adapter puts the home in front
//! of each one on its way to the real storage.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use super::{
    DirEntry, Metadata, ReadStream, Storage, StorageError, VirtualPath, WriteMode, WriteStream,
};
use crate::session_info::SessionInfo;

pub(crate) struct Chrooted {
    inner: Arc<dyn Storage>,
    home: VirtualPath,
}

impl Chrooted {
    pub(crate) fn new(inner: Arc<dyn Storage>, home: VirtualPath) -> Self {
        Chrooted { inner, home }
    }
}

/// `path` as seen from the root of the storage, for an account confined to
/// `home`. A virtual path is normalised (no `..`), so the result always
/// lies below the home.
pub(crate) fn below(home: &VirtualPath, path: &VirtualPath) -> VirtualPath {
    if path.is_root() {
        return home.clone();
    }
    home.join(path.as_str().trim_start_matches('/'))
        .unwrap_or_else(|_| home.clone())
}

#[async_trait]
impl Storage for Chrooted {
    async fn metadata(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError> {
        self.inner.metadata(s, &below(&self.home, path)).await
    }

    async fn list(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        self.inner.list(s, &below(&self.home, path)).await
    }

    async fn read(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError> {
        self.inner.read(s, &below(&self.home, path), offset).await
    }

    async fn read_local(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<Option<std::fs::File>, StorageError> {
        self.inner
            .read_local(s, &below(&self.home, path), offset)
            .await
    }

    async fn write(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        self.inner.write(s, &below(&self.home, path), mode).await
    }

    async fn write_local(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<Option<std::fs::File>, StorageError> {
        self.inner
            .write_local(s, &below(&self.home, path), mode)
            .await
    }

    async fn mkdir(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.inner.mkdir(s, &below(&self.home, path)).await
    }

    async fn rmdir(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        if path.is_root() {
            // The account's `/` is not its to remove.
            return Err(StorageError::PermissionDenied);
        }
        self.inner.rmdir(s, &below(&self.home, path)).await
    }

    async fn delete(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.inner.delete(s, &below(&self.home, path)).await
    }

    async fn rename(
        &self,
        s: &SessionInfo,
        from: &VirtualPath,
        to: &VirtualPath,
    ) -> Result<(), StorageError> {
        if from.is_root() || to.is_root() {
            return Err(StorageError::PermissionDenied);
        }
        let (from, to) = (below(&self.home, from), below(&self.home, to));
        self.inner.rename(s, &from, &to).await
    }

    async fn set_modified(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        self.inner
            .set_modified(s, &below(&self.home, path), time)
            .await
    }

    async fn set_mode(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        self.inner.set_mode(s, &below(&self.home, path), mode).await
    }

    async fn symlink(
        &self,
        s: &SessionInfo,
        target: &VirtualPath,
        link: &VirtualPath,
    ) -> Result<(), StorageError> {
        let (target, link) = (below(&self.home, target), below(&self.home, link));
        self.inner.symlink(s, &target, &link).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_below_the_home() {
        let home = VirtualPath::new("/home/bob").unwrap();
        let p = |s: &str| VirtualPath::root().join(s).unwrap();
        assert_eq!(below(&home, &p("/")).as_str(), "/home/bob");
        assert_eq!(below(&home, &p("/a/b")).as_str(), "/home/bob/a/b");
        assert_eq!(below(&home, &p("/../../etc")).as_str(), "/home/bob/etc");
    }
}
