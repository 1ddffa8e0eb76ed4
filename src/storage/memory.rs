//! A storage that lives in memory only.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::session_info::SessionInfo;
use tokio::io::AsyncWrite;

use super::{
    DirEntry, FileKind, Metadata, ReadStream, Storage, StorageError, VirtualPath, WriteMode,
    WriteStream,
};

#[derive(Debug, Clone)]
struct Node {
    kind: FileKind,
    data: Arc<Vec<u8>>,
    modified: SystemTime,
    mode: u32,
}

impl Node {
    fn dir() -> Self {
        Node {
            kind: FileKind::Dir,
            data: Arc::default(),
            modified: SystemTime::now(),
            mode: 0o755,
        }
    }

    fn metadata(&self) -> Metadata {
        let meta = match self.kind {
            FileKind::Dir => Metadata::dir(),
            // A link's size is its target's length, as lstat(2) says.
            FileKind::Symlink => Metadata::symlink().with_size(self.data.len() as u64),
            _ => Metadata::file(self.data.len() as u64),
        };
        meta.with_modified(self.modified).with_mode(self.mode)
    }
}

// Keyed by the path's text: the entries below `/a` are then the contiguous
// run of keys that start with `/a/`.
type Map = BTreeMap<String, Node>;
type Tree = Arc<Mutex<Map>>;

/// Files held in memory: nothing touches the disk, and clones share one tree.
///
/// Uploads become visible when the transfer completes (the write stream
/// commits on `shutdown`), like a file that is renamed into place.
#[derive(Debug, Clone)]
pub struct MemoryStorage {
    tree: Tree,
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStorage {
    /// An empty tree holding only `/`.
    pub fn new() -> Self {
        let mut tree = BTreeMap::new();
        tree.insert("/".to_string(), Node::dir());
        MemoryStorage {
            tree: Arc::new(Mutex::new(tree)),
        }
    }

    /// The content of the file at `path`, if there is one (for assertions).
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        let path = VirtualPath::new(path).ok()?;
        let tree = self.lock();
        tree.get(path.as_str())
            .filter(|n| n.kind == FileKind::File)
            .map(|n| n.data.to_vec())
    }

    /// The node at `path`, a link followed to what it names (one level:
    /// the links made here name files or directories, not other links).
    fn followed<'t>(tree: &'t Map, path: &VirtualPath) -> Result<&'t Node, StorageError> {
        let node = tree.get(path.as_str()).ok_or(StorageError::NotFound)?;
        if node.kind != FileKind::Symlink {
            return Ok(node);
        }
        let target = String::from_utf8_lossy(&node.data);
        tree.get(target.as_ref()).ok_or(StorageError::NotFound)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // A panic while holding the lock cannot leave the map half-updated
        // (each operation is a single insert/remove), so poisoning is ignored.
        self.tree.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A filesystem's NAME_MAX, so that memory and disk answer alike: a
    /// name longer than this is [`StorageError::InvalidName`] once the
    /// walk down the path reaches it (a missing directory before it is
    /// `NotFound` first, as the kernel's lookup finds).
    fn name_check(&self, path: &VirtualPath) -> Result<(), StorageError> {
        // A path no longer than NAME_MAX holds no longer name: the walk
        // below is for the rare long one only.
        if path.as_str().len() <= NAME_MAX || path.as_str().split('/').all(|p| p.len() <= NAME_MAX)
        {
            return Ok(());
        }
        let tree = self.lock();
        let mut walked = String::new();
        for part in path.as_str().split('/').filter(|p| !p.is_empty()) {
            if part.len() > NAME_MAX {
                return Err(StorageError::InvalidName);
            }
            walked.push('/');
            walked.push_str(part);
            if !tree.contains_key(walked.as_str()) {
                return Ok(());
            }
        }
        Ok(())
    }

    fn parent_is_dir(tree: &Map, path: &VirtualPath) -> Result<(), StorageError> {
        match tree.get(path.parent().as_str()) {
            Some(n) if n.kind == FileKind::Dir => Ok(()),
            Some(_) => Err(StorageError::NotADirectory),
            None => Err(StorageError::NotFound),
        }
    }

    fn prefix(dir: &VirtualPath) -> String {
        if dir.is_root() {
            "/".to_string()
        } else {
            format!("{dir}/")
        }
    }

    /// Everything below `dir`, at any depth.
    fn descendants<'a>(
        tree: &'a Map,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
        tree.range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ))
        .take_while(move |(p, _)| p.starts_with(prefix))
        .filter(move |(p, _)| p.len() > prefix.len())
    }

    /// The direct entries of `dir`.
    fn children<'a>(
        tree: &'a Map,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Node)> + 'a {
        Self::descendants(tree, prefix).filter(move |(p, _)| !p[prefix.len()..].contains('/'))
    }
}

struct MemoryWriter {
    tree: Tree,
    path: VirtualPath,
    buf: Vec<u8>,
    /// [`WriteMode::Over`]: where the writes began and the old bytes from
    /// there on, which stay past the last byte written.
    over: Option<(usize, Vec<u8>)>,
    mode: u32,
}

impl AsyncWrite for MemoryWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut data = std::mem::take(&mut this.buf);
        if let Some((start, tail)) = this.over.take() {
            let written = data.len() - start;
            data.extend_from_slice(tail.get(written..).unwrap_or_default());
        }
        let mut tree = this.tree.lock().unwrap_or_else(|p| p.into_inner());
        tree.insert(
            this.path.as_str().to_string(),
            Node {
                kind: FileKind::File,
                data: Arc::new(data),
                modified: SystemTime::now(),
                mode: this.mode,
            },
        );
        Poll::Ready(Ok(()))
    }
}

/// Linux's longest file name, in bytes.
const NAME_MAX: usize = 255;

#[async_trait]
impl Storage for MemoryStorage {
    async fn metadata(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError> {
        self.name_check(path)?;
        // stat(2), as `FsStorage`: a link is followed to what it names
        // (listings show it as the link it is).
        Self::followed(&self.lock(), path).map(Node::metadata)
    }

    async fn list(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        self.name_check(path)?;
        let tree = self.lock();
        match tree.get(path.as_str()) {
            None => return Err(StorageError::NotFound),
            Some(n) if n.kind != FileKind::Dir => return Err(StorageError::NotADirectory),
            Some(_) => {}
        }
        let prefix = Self::prefix(path);
        Ok(Self::children(&tree, &prefix)
            .map(|(p, n)| DirEntry {
                name: p[prefix.len()..].to_string(),
                metadata: n.metadata(),
            })
            .collect())
    }

    async fn read(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError> {
        self.name_check(path)?;
        let tree = self.lock();
        let node = Self::followed(&tree, path)?;
        if node.kind != FileKind::File {
            return Err(StorageError::IsADirectory);
        }
        let start = usize::try_from(offset).map_err(|_| StorageError::InvalidOffset)?;
        if start > node.data.len() {
            return Err(StorageError::InvalidOffset);
        }
        // Readers share the bytes: no copy, however large the file.
        let mut cursor = io::Cursor::new(Shared(node.data.clone()));
        cursor.set_position(start as u64);
        Ok(Box::new(cursor))
    }

    async fn write(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        self.name_check(path)?;
        let tree = self.lock();
        Self::parent_is_dir(&tree, path)?;
        let existing = tree.get(path.as_str());
        if existing.is_some_and(|n| n.kind == FileKind::Dir) {
            return Err(StorageError::IsADirectory);
        }
        let old = existing.map(|n| n.data.as_slice()).unwrap_or_default();
        let mut over = None;
        let buf = match mode {
            WriteMode::Truncate => Vec::new(),
            WriteMode::Append => old.to_vec(),
            WriteMode::At(offset) => {
                let end = usize::try_from(offset).map_err(|_| StorageError::InvalidOffset)?;
                old.get(..end).ok_or(StorageError::InvalidOffset)?.to_vec()
            }
            WriteMode::Over(offset) => {
                let start = usize::try_from(offset).map_err(|_| StorageError::InvalidOffset)?;
                let mut head = old.get(..start.min(old.len())).unwrap_or_default().to_vec();
                head.resize(start, 0);
                over = Some((start, old.get(start..).unwrap_or_default().to_vec()));
                head
            }
            WriteMode::CreateNew if existing.is_some() => return Err(StorageError::AlreadyExists),
            WriteMode::CreateNew => Vec::new(),
        };
        let mode = existing.map(|n| n.mode).unwrap_or(0o644);
        drop(tree);
        Ok(Box::new(MemoryWriter {
            tree: self.tree.clone(),
            path: path.clone(),
            buf,
            over,
            mode,
        }))
    }

    async fn mkdir(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.name_check(path)?;
        let mut tree = self.lock();
        Self::parent_is_dir(&tree, path)?;
        if tree.contains_key(path.as_str()) {
            return Err(StorageError::AlreadyExists);
        }
        tree.insert(path.as_str().to_string(), Node::dir());
        Ok(())
    }

    async fn rmdir(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.name_check(path)?;
        let mut tree = self.lock();
        match tree.get(path.as_str()) {
            None => return Err(StorageError::NotFound),
            Some(n) if n.kind != FileKind::Dir => return Err(StorageError::NotADirectory),
            Some(_) if path.is_root() => return Err(StorageError::PermissionDenied),
            Some(_) => {}
        }
        if Self::children(&tree, &Self::prefix(path)).next().is_some() {
            return Err(StorageError::NotEmpty);
        }
        tree.remove(path.as_str());
        Ok(())
    }

    async fn delete(&self, _session: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.name_check(path)?;
        let mut tree = self.lock();
        match tree.get(path.as_str()) {
            None => Err(StorageError::NotFound),
            Some(n) if n.kind == FileKind::Dir => Err(StorageError::IsADirectory),
            Some(_) => {
                tree.remove(path.as_str());
                Ok(())
            }
        }
    }

    async fn rename(
        &self,
        _session: &SessionInfo,
        from: &VirtualPath,
        to: &VirtualPath,
    ) -> Result<(), StorageError> {
        self.name_check(from)?;
        self.name_check(to)?;
        let mut tree = self.lock();
        if from.is_root() || to.starts_with(from) && to != from {
            return Err(StorageError::PermissionDenied);
        }
        let node = tree
            .get(from.as_str())
            .ok_or(StorageError::NotFound)?
            .clone();
        Self::parent_is_dir(&tree, to)?;
        // As rename(2), so that memory and disk answer alike: a directory
        // replaces only an empty directory, a file only a file.
        let moving_dir = node.kind == FileKind::Dir;
        match tree.get(to.as_str()).map(|n| n.kind) {
            Some(FileKind::Dir) if !moving_dir => return Err(StorageError::IsADirectory),
            Some(FileKind::Dir) if Self::descendants(&tree, &Self::prefix(to)).next().is_some() => {
                return Err(StorageError::NotEmpty)
            }
            Some(kind) if moving_dir && kind != FileKind::Dir => {
                return Err(StorageError::NotADirectory)
            }
            _ => {}
        }
        // Move the node and, for a directory, everything below it.
        let prefix = Self::prefix(from);
        let moved: Vec<(String, Node)> = Self::descendants(&tree, &prefix)
            .map(|(p, n)| (p.clone(), n.clone()))
            .collect();
        tree.remove(from.as_str());
        tree.insert(to.as_str().to_string(), node);
        for (p, n) in moved {
            tree.remove(&p);
            tree.insert(format!("{}/{}", to.as_str(), &p[prefix.len()..]), n);
        }
        Ok(())
    }

    async fn set_modified(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        self.name_check(path)?;
        let mut tree = self.lock();
        let node = tree.get_mut(path.as_str()).ok_or(StorageError::NotFound)?;
        node.modified = time;
        Ok(())
    }

    async fn set_mode(
        &self,
        _session: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        self.name_check(path)?;
        let mut tree = self.lock();
        let node = tree.get_mut(path.as_str()).ok_or(StorageError::NotFound)?;
        node.mode = mode & 0o7777;
        Ok(())
    }

    async fn symlink(
        &self,
        _session: &SessionInfo,
        target: &VirtualPath,
        link: &VirtualPath,
    ) -> Result<(), StorageError> {
        self.name_check(link)?;
        let mut tree = self.lock();
        Self::parent_is_dir(&tree, link)?;
        if tree.contains_key(link.as_str()) {
            return Err(StorageError::AlreadyExists);
        }
        let node = Node {
            kind: FileKind::Symlink,
            data: Arc::new(target.as_str().as_bytes().to_vec()),
            modified: SystemTime::now(),
            mode: 0o777,
        };
        tree.insert(link.as_str().to_string(), node);
        Ok(())
    }
}

/// File contents shared between the tree and its readers.
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
