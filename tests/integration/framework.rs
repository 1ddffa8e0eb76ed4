//! The framework side: a backend of your own behind the `Storage` trait
//! (the Go seed's Driver), with its errors reaching the client as the reply
//! codes they map to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ftpfixture::{
    DirEntry, MemoryStorage, Metadata, ReadStream, Server, SessionInfo, Storage, StorageError,
    VirtualPath, WriteMode, WriteStream,
};
use suppaftp::tokio::AsyncFtpStream;
use suppaftp::FtpError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Who wrote: the session id and the logged-in user.
type Writer = (u64, Option<String>);

/// Memory storage with a lock on `locked.txt` (reads are busy) and a
/// protected `keep.txt` (deletes are refused), counting every write and
/// noting who wrote.
struct Guarded {
    inner: MemoryStorage,
    writes: Arc<AtomicUsize>,
    writers: Arc<Mutex<Vec<Writer>>>,
}

fn named(path: &VirtualPath, name: &str) -> bool {
    path.file_name() == Some(name)
}

#[ftpfixture::async_trait]
impl Storage for Guarded {
    async fn metadata(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError> {
        self.inner.metadata(s, path).await
    }
    async fn list(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        self.inner.list(s, path).await
    }
    async fn read(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        offset: u64,
    ) -> Result<ReadStream, StorageError> {
        if named(path, "locked.txt") {
            return Err(StorageError::Busy);
        }
        self.inner.read(s, path, offset).await
    }
    async fn write(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.writers
            .lock()
            .unwrap()
            .push((s.session(), s.user().map(str::to_string)));
        self.inner.write(s, path, mode).await
    }
    async fn mkdir(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.inner.mkdir(s, path).await
    }
    async fn rmdir(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        self.inner.rmdir(s, path).await
    }
    async fn delete(&self, s: &SessionInfo, path: &VirtualPath) -> Result<(), StorageError> {
        if named(path, "keep.txt") {
            return Err(StorageError::PermissionDenied);
        }
        self.inner.delete(s, path).await
    }
    async fn rename(
        &self,
        s: &SessionInfo,
        from: &VirtualPath,
        to: &VirtualPath,
    ) -> Result<(), StorageError> {
        self.inner.rename(s, from, to).await
    }
    async fn set_modified(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        time: SystemTime,
    ) -> Result<(), StorageError> {
        self.inner.set_modified(s, path, time).await
    }
    async fn set_mode(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        mode: u32,
    ) -> Result<(), StorageError> {
        self.inner.set_mode(s, path, mode).await
    }
}

/// A read-only backend: only the three required methods. Everything else
/// answers the trait's default, "not supported".
struct ThreeFiles;

#[ftpfixture::async_trait]
impl Storage for ThreeFiles {
    async fn metadata(
        &self,
        _: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Metadata, StorageError> {
        match path.as_str() {
            "/" => Ok(Metadata::dir()),
            "/a.txt" | "/b.txt" | "/c.txt" => Ok(Metadata::file(2)),
            _ => Err(StorageError::NotFound),
        }
    }
    async fn list(
        &self,
        _: &SessionInfo,
        path: &VirtualPath,
    ) -> Result<Vec<DirEntry>, StorageError> {
        if !path.is_root() {
            return Err(StorageError::NotADirectory);
        }
        Ok(["a.txt", "b.txt", "c.txt"]
            .iter()
            .map(|n| DirEntry::new(*n, Metadata::file(2)))
            .collect())
    }
    async fn read(
        &self,
        s: &SessionInfo,
        path: &VirtualPath,
        _offset: u64,
    ) -> Result<ReadStream, StorageError> {
        self.metadata(s, path).await?;
        Ok(Box::new(std::io::Cursor::new(b"x\n".to_vec())))
    }
}

fn code_of(e: FtpError) -> u32 {
    match e {
        FtpError::UnexpectedResponse(r) => r.status.code(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[tokio::test]
async fn your_own_storage_behind_the_trait() {
    let writes = Arc::new(AtomicUsize::new(0));
    let writers = Arc::new(Mutex::new(Vec::new()));
    let server = Server::builder()
        .storage(Guarded {
            inner: MemoryStorage::new(),
            writes: writes.clone(),
            writers: writers.clone(),
        })
        // Seeding goes through the storage too.
        .file("locked.txt", "busy\n")
        .file("keep.txt", "kept\n")
        .start()
        .await
        .unwrap();
    assert_eq!(server.root(), None, "no directory behind a custom storage");
    assert_eq!(writes.load(Ordering::SeqCst), 2);

    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    let mut up = ftp.put_with_stream("new.txt").await.unwrap();
    up.write_all(b"written through the trait\n").await.unwrap();
    up.finish().await.unwrap();
    assert_eq!(writes.load(Ordering::SeqCst), 3);
    // Each call says who asks: the server itself while seeding (session 0),
    // then session 1 logged in as admin.
    assert_eq!(
        *writers.lock().unwrap(),
        [(0, None), (0, None), (1, Some("admin".to_string()))]
    );
    let mut down = ftp.retr_as_stream("new.txt").await.unwrap();
    let mut got = Vec::new();
    down.read_to_end(&mut got).await.unwrap();
    down.finish().await.unwrap();
    assert_eq!(got, b"written through the trait\n");

    // The backend's errors become the replies they map to.
    let Err(busy) = ftp.retr_as_stream("locked.txt").await else {
        panic!("RETR of a locked file must fail");
    };
    assert_eq!(code_of(busy), 450);
    let refused = ftp.rm("keep.txt").await.unwrap_err();
    assert_eq!(code_of(refused), 550);
    ftp.rm("new.txt").await.unwrap();
    let mut names = ftp.nlst(None).await.unwrap();
    names.sort();
    assert_eq!(names, ["keep.txt", "locked.txt"]);
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn a_backend_with_only_the_required_methods() {
    let server = Server::builder().storage(ThreeFiles).start().await.unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    let mut names = ftp.nlst(None).await.unwrap();
    names.sort();
    assert_eq!(names, ["a.txt", "b.txt", "c.txt"]);
    assert_eq!(ftp.size("b.txt").await.unwrap(), 2);
    // The operations it left out answer 502 (not implemented), never 451.
    assert_eq!(code_of(ftp.mkdir("new").await.unwrap_err()), 502);
    assert_eq!(code_of(ftp.rm("a.txt").await.unwrap_err()), 502);
    assert_eq!(
        code_of(ftp.rename("a.txt", "z.txt").await.unwrap_err()),
        502
    );
    let refused = ftp.put_file("up.txt", &mut &b"data"[..]).await.unwrap_err();
    assert_eq!(code_of(refused), 502);
    ftp.quit().await.unwrap();
}
