//! Many sessions at once, each with its own files, checked byte for byte.

use ftpfixture::Server;
use suppaftp::tokio::AsyncFtpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::bytes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sessions_upload_and_download_distinct_files() {
    const SESSIONS: u64 = 50;
    let server = Server::start().await.unwrap();
    let addr = server.addr();
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|i| {
            tokio::spawn(async move {
                let data = bytes(i, 20_000 + i as usize * 1_000);
                let name = format!("file-{i}.bin");
                let mut ftp = AsyncFtpStream::connect(addr).await.expect("connect");
                ftp.login("admin", "123456").await.expect("login");
                ftp.transfer_type(suppaftp::types::FileType::Binary)
                    .await
                    .expect("TYPE I");
                let mut up = ftp.put_with_stream(&name).await.expect("STOR");
                up.write_all(&data).await.expect("upload");
                up.finish().await.expect("226");
                let mut down = ftp.retr_as_stream(&name).await.expect("RETR");
                let mut got = Vec::new();
                down.read_to_end(&mut got).await.expect("download");
                down.finish().await.expect("226");
                ftp.quit().await.expect("QUIT");
                (name, data, got)
            })
        })
        .collect();
    for task in tasks {
        let (name, sent, got) = task.await.expect("session task");
        assert_eq!(got, sent, "{name} came back intact");
        let stored = std::fs::read(server.root().unwrap().join(&name)).unwrap();
        assert_eq!(stored, sent, "{name} on disk");
    }
    let t = server.transcript();
    assert_eq!(t.sessions().len() as u64, SESSIONS);
    assert_eq!(t.count("STOR"), SESSIONS as usize);
}
