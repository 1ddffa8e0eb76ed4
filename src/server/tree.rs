//! The served tree as the server itself handles it: seeding at start,
//! the control API's file operations, and rebuilding it on reset. All of it
//! goes through the `Storage` trait, as the server itself
//! ([`SessionInfo::server`]), so it works on any backend.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::builder::StartError;
use crate::session_info::SessionInfo;
use crate::storage::{DirEntry, PathError, Storage, StorageError, VirtualPath, WriteMode};

/// What is put into a fresh tree, in order.
#[derive(Debug, Clone)]
pub(crate) enum Seed {
    File(String, Vec<u8>),
    Dir(String),
    Fixture(PathBuf),
}

/// Why a tree operation failed: the path, or what the storage said.
#[derive(Debug)]
pub(crate) enum TreeError {
    Path(PathError),
    Storage(StorageError),
    Local(PathBuf, std::io::Error),
}

impl From<StorageError> for TreeError {
    fn from(e: StorageError) -> Self {
        TreeError::Storage(e)
    }
}

/// Who the storage is told is asking: the server itself.
fn me() -> SessionInfo {
    SessionInfo::server()
}

pub(crate) async fn seed(storage: &dyn Storage, seeds: &[Seed]) -> Result<(), StartError> {
    for s in seeds {
        let result = match s {
            Seed::File(path, content) => write_file(storage, path, content).await,
            Seed::Dir(path) => mkdir_all(storage, path).await.map(|_| ()),
            Seed::Fixture(dir) => copy_tree(storage, dir).await,
        };
        result.map_err(|e| match (e, s) {
            (TreeError::Local(path, source), _) => StartError::Fixture { path, source },
            (TreeError::Path(_), Seed::File(p, _) | Seed::Dir(p)) => StartError::Seed {
                path: p.clone(),
                source: StorageError::InvalidName,
            },
            (TreeError::Storage(source), Seed::File(p, _) | Seed::Dir(p)) => StartError::Seed {
                path: p.clone(),
                source,
            },
            (TreeError::Path(_), Seed::Fixture(dir)) => StartError::Seed {
                path: dir.display().to_string(),
                source: StorageError::InvalidName,
            },
            (TreeError::Storage(source), Seed::Fixture(dir)) => StartError::Seed {
                path: dir.display().to_string(),
                source,
            },
        })?;
    }
    Ok(())
}

fn vpath(path: &str) -> Result<VirtualPath, TreeError> {
    VirtualPath::new(path).map_err(TreeError::Path)
}

/// Creates `path` and its parents; returns it.
pub(crate) async fn mkdir_all(storage: &dyn Storage, path: &str) -> Result<VirtualPath, TreeError> {
    let target = vpath(path)?;
    let mut at = VirtualPath::root();
    for part in target.components() {
        at = at.join(part).map_err(TreeError::Path)?;
        match storage.metadata(&me(), &at).await {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => return Err(StorageError::NotADirectory.into()),
            Err(_) => storage.mkdir(&me(), &at).await?,
        }
    }
    Ok(target)
}

/// Writes a whole file, creating its parents.
pub(crate) async fn write_file(
    storage: &dyn Storage,
    path: &str,
    content: &[u8],
) -> Result<(), TreeError> {
    let target = vpath(path)?;
    mkdir_all(storage, target.parent().as_str()).await?;
    let mut w = storage.write(&me(), &target, WriteMode::Truncate).await?;
    w.write_all(content).await.map_err(StorageError::Io)?;
    // The storage commits on shutdown; only then is the file there.
    w.shutdown().await.map_err(StorageError::Io)?;
    Ok(())
}

/// Reads a whole file.
pub(crate) async fn read_file(
    storage: &dyn Storage,
    path: &VirtualPath,
) -> Result<Vec<u8>, TreeError> {
    let meta = storage.metadata(&me(), path).await?;
    if meta.is_dir() {
        return Err(StorageError::IsADirectory.into());
    }
    let mut r = storage.read(&me(), path, 0).await?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).await.map_err(StorageError::Io)?;
    Ok(out)
}

/// The entries of a directory, sorted by name.
pub(crate) async fn list(
    storage: &dyn Storage,
    path: &VirtualPath,
) -> Result<Vec<DirEntry>, TreeError> {
    let mut entries = storage.list(&me(), path).await?;
    entries.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(entries)
}

/// Removes a file, or a directory with everything in it.
pub(crate) async fn remove(storage: &dyn Storage, path: &VirtualPath) -> Result<(), TreeError> {
    let meta = storage.metadata(&me(), path).await?;
    if meta.is_dir() {
        clear(storage, path).await?;
        if !path.is_root() {
            storage.rmdir(&me(), path).await?;
        }
    } else {
        storage.delete(&me(), path).await?;
    }
    Ok(())
}

/// Removes everything inside directory `dir` (not `dir` itself).
pub(crate) async fn clear(storage: &dyn Storage, dir: &VirtualPath) -> Result<(), TreeError> {
    // Depth first without recursion in async: a stack of directories to
    // empty, and the directories to remove once emptied, deepest last.
    let mut to_visit = vec![dir.clone()];
    let mut to_remove = Vec::new();
    while let Some(d) = to_visit.pop() {
        for e in storage.list(&me(), &d).await? {
            let p = d.join(e.name()).map_err(TreeError::Path)?;
            if e.metadata().is_dir() {
                to_visit.push(p.clone());
                to_remove.push(p);
            } else {
                storage.delete(&me(), &p).await?;
            }
        }
    }
    for d in to_remove.iter().rev() {
        storage.rmdir(&me(), d).await?;
    }
    Ok(())
}

/// Copies a local directory tree into the storage's root.
pub(crate) async fn copy_tree(storage: &dyn Storage, dir: &Path) -> Result<(), TreeError> {
    let local_err = |source| TreeError::Local(dir.to_path_buf(), source);
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((local, virt)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&local)
            .map_err(local_err)?
            .collect::<Result<_, _>>()
            .map_err(local_err)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let v = format!("{virt}/{name}");
            let ty = entry.file_type().map_err(local_err)?;
            if ty.is_dir() {
                mkdir_all(storage, &v).await?;
                stack.push((entry.path(), v));
            } else {
                let content = std::fs::read(entry.path()).map_err(local_err)?;
                write_file(storage, &v, &content).await?;
            }
        }
    }
    Ok(())
}

/// Copies a local directory into another local directory (a snapshot of a
/// user's root, for reset).
pub(crate) fn copy_local(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
    while let Some((src, dst)) = stack.pop() {
        std::fs::create_dir_all(&dst)?;
        for entry in std::fs::read_dir(&src)? {
            let entry = entry?;
            let ty = entry.file_type()?;
            let target = dst.join(entry.file_name());
            if ty.is_dir() {
                stack.push((entry.path(), target));
            } else if ty.is_file() {
                std::fs::copy(entry.path(), target)?;
            }
            // Symlinks are not followed into a snapshot: they could lead
            // out of the root.
        }
    }
    Ok(())
}

/// Where a file of the start state comes from, for a reset.
#[derive(Debug, Clone)]
enum Source {
    Dir,
    Bytes(std::sync::Arc<Vec<u8>>),
    Local(PathBuf),
}

/// What an entry looked like right after it was made: a reset keeps an
/// entry whose signature is unchanged and rebuilds the rest. Any write,
/// chmod, MFMT or replacement changes the size, times, inode or mode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sig {
    dir: bool,
    len: u64,
    modified: Option<std::time::SystemTime>,
    mode: u32,
    /// Inode and change time, where the system has them.
    identity: (u64, i64, i64),
}

impl Sig {
    fn of(m: &std::fs::Metadata) -> Sig {
        #[cfg(unix)]
        let (mode, identity) = {
            use std::os::unix::fs::MetadataExt;
            (m.mode(), (m.ino(), m.ctime(), m.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let (mode, identity) = (u32::from(m.permissions().readonly()), (0, 0, 0));
        Sig {
            dir: m.is_dir(),
            // A directory's size and times change with its entries, which
            // are checked one by one.
            len: if m.is_dir() { 0 } else { m.len() },
            modified: if m.is_dir() { None } else { m.modified().ok() },
            mode,
            identity: if m.is_dir() { (0, 0, 0) } else { identity },
        }
    }
}

/// A root on disk that a reset brings back to its start state, touching
/// only what changed: a reset after a test that changed two files rewrites
/// two files, not the tree.
#[derive(Debug)]
pub(crate) struct LocalTree {
    root: PathBuf,
    /// The start state: every entry and where its content comes from,
    /// sorted so that parents come before their children.
    sources: std::collections::BTreeMap<PathBuf, Source>,
    /// Signatures of the entries as last made.
    made: std::sync::Mutex<std::collections::HashMap<PathBuf, Sig>>,
    /// A copy of a user's directory taken at start (kept alive here).
    _snapshot: Option<tempfile::TempDir>,
}

impl LocalTree {
    /// The start state: the snapshot's tree (if any), then the seeds in
    /// order, as seeding applies them.
    pub(crate) fn new(
        root: PathBuf,
        snapshot: Option<tempfile::TempDir>,
        seeds: &[Seed],
    ) -> std::io::Result<LocalTree> {
        let mut sources = std::collections::BTreeMap::new();
        let add_dirs = |sources: &mut std::collections::BTreeMap<PathBuf, Source>, rel: &Path| {
            for a in rel.ancestors().skip(1) {
                if !a.as_os_str().is_empty() {
                    sources.insert(a.to_path_buf(), Source::Dir);
                }
            }
        };
        let walk = |sources: &mut std::collections::BTreeMap<PathBuf, Source>,
                    dir: &Path,
                    under: &Path|
         -> std::io::Result<()> {
            let mut stack = vec![(dir.to_path_buf(), under.to_path_buf())];
            while let Some((local, rel)) = stack.pop() {
                for entry in std::fs::read_dir(&local)? {
                    let entry = entry?;
                    let ty = entry.file_type()?;
                    let r = rel.join(entry.file_name());
                    if ty.is_dir() {
                        sources.insert(r.clone(), Source::Dir);
                        stack.push((entry.path(), r));
                    } else if ty.is_file() {
                        sources.insert(r, Source::Local(entry.path()));
                    }
                }
            }
            Ok(())
        };
        if let Some(s) = &snapshot {
            walk(&mut sources, s.path(), Path::new(""))?;
        }
        let relative = |virt: &str| -> std::io::Result<PathBuf> {
            let v = VirtualPath::new(virt)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            Ok(v.components().collect())
        };
        for seed in seeds {
            match seed {
                Seed::File(path, content) => {
                    let rel = relative(path)?;
                    add_dirs(&mut sources, &rel);
                    sources.insert(rel, Source::Bytes(std::sync::Arc::new(content.clone())));
                }
                Seed::Dir(path) => {
                    let rel = relative(path)?;
                    add_dirs(&mut sources, &rel);
                    if !rel.as_os_str().is_empty() {
                        sources.insert(rel, Source::Dir);
                    }
                }
                Seed::Fixture(dir) => walk(&mut sources, dir, Path::new(""))?,
            }
        }
        Ok(LocalTree {
            root,
            sources,
            made: Default::default(),
            _snapshot: snapshot,
        })
    }

    /// Notes the signatures of the tree as it is now (after seeding).
    pub(crate) fn record(&self) -> std::io::Result<()> {
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        made.clear();
        for rel in self.sources.keys() {
            if let Ok(m) = std::fs::symlink_metadata(self.root.join(rel)) {
                made.insert(rel.clone(), Sig::of(&m));
            }
        }
        Ok(())
    }

    /// Back to the start state; returns how many entries were removed or
    /// made again.
    pub(crate) fn reset(&self) -> std::io::Result<usize> {
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept = std::collections::HashSet::new();
        let mut touched = 0;
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                let rel = path
                    .strip_prefix(&self.root)
                    .map_err(std::io::Error::other)?
                    .to_path_buf();
                let meta = std::fs::symlink_metadata(&path)?;
                let unchanged = made.get(&rel).is_some_and(|sig| *sig == Sig::of(&meta));
                if unchanged {
                    if meta.is_dir() {
                        stack.push(path);
                    }
                    kept.insert(rel);
                } else {
                    touched += 1;
                    if meta.is_dir() {
                        std::fs::remove_dir_all(&path)?;
                    } else {
                        std::fs::remove_file(&path)?;
                    }
                }
            }
        }
        for (rel, source) in &self.sources {
            if kept.contains(rel) {
                continue;
            }
            touched += 1;
            let target = self.root.join(rel);
            match source {
                Source::Dir => {
                    std::fs::create_dir(&target)?;
                    crate::storage::set_new_dir_mode(&target)?;
                }
                Source::Bytes(content) => {
                    std::fs::write(&target, content.as_slice())?;
                    crate::storage::set_new_file_mode(&target)?;
                }
                Source::Local(from) => {
                    std::fs::write(&target, std::fs::read(from)?)?;
                    crate::storage::set_new_file_mode(&target)?;
                }
            }
            made.insert(rel.clone(), Sig::of(&std::fs::symlink_metadata(&target)?));
        }
        Ok(touched)
    }
}
