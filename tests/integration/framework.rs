//! The framework side: a backend of your own behind the `Storage` trait
//! (the Go seed's Driver), with its errors reaching the client as the reply
//! codes they map to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use ftpfixture::{
    DirEntry, MemoryStorage, Metadata, ReadStream, Server, Storage, StorageError, VirtualPath,
    WriteMode, WriteStream,
};
use suppaftp::tokio::AsyncFtpStream;
use suppaftp::FtpError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Memory storage with a lock on `locked.txt` (reads are busy) and a
/// protected `keep.txt` (deletes are refused), counting every write.
struct Guarded {
    inner: MemoryStorage,
    writes: Arc<AtomicUsize>,
}

fn named(path: &VirtualPath, name: &str) -> bool {
    path.file_name() == Some(name)
}

#[ftpfixture::async_trait]
impl Storage for Guarded {
    async fn metadata(&self, path: &VirtualPath) -> Result<Metadata, StorageError> {
        self.inner.metadata(path).await
    }
    async fn list(&self, path: &VirtualPath) -> Result<Vec<DirEntry>, StorageError> {
        self.inner.list(path).await
    }
    async fn read(&self, path: &VirtualPath, offset: u64) -> Result<ReadStream, StorageError> {
        if named(path, "locked.txt") {
            return Err(StorageError::Busy);
        }
        self.inner.read(path, offset).await
    }
    async fn write(
        &self,
        path: &VirtualPath,
        mode: WriteMode,
    ) -> Result<WriteStream, StorageError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(path, mode).await
    }
    async fn mkdir(&self, path: &VirtualPath) -> Result<(), StorageError> {
        self.inner.mkdir(path).await
    }
    async fn rmdir(&self, path: &VirtualPath) -> Result<(), StorageError> {
        self.inner.rmdir(path).await
    }
    async fn delete(&self, path: &VirtualPath) -> Result<(), StorageError> {
        if named(path, "keep.txt") {
            return Err(StorageError::PermissionDenied);
        }
        self.inner.delete(path).await
    }
    async fn rename(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), StorageError> {
        self.inner.rename(from, to).await
    }
    async fn set_modified(&self, path: &VirtualPath, time: SystemTime) -> Result<(), StorageError> {
        self.inner.set_modified(path, time).await
    }
    async fn set_mode(&self, path: &VirtualPath, mode: u32) -> Result<(), StorageError> {
        self.inner.set_mode(path, mode).await
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
    let server = Server::builder()
        .storage(Guarded {
            inner: MemoryStorage::new(),
            writes: writes.clone(),
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
