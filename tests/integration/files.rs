//! Navigation and file commands: PWD/CWD/CDUP, MKD/RMD/DELE, RNFR/RNTO,
//! SIZE/MDTM/MFMT, SITE CHMOD; root confinement; both storages; seeding.

use ftpfixture::Server;
use suppaftp::tokio::AsyncFtpStream;

use crate::support::{code, RawClient};

async fn login(server: &Server) -> AsyncFtpStream {
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    ftp
}

#[tokio::test]
async fn navigation_with_suppaftp_and_the_x_variants() {
    let server = Server::builder().dir("a/b").start().await.unwrap();
    let mut ftp = login(&server).await;
    ftp.cwd("a/b").await.unwrap();
    assert_eq!(ftp.pwd().await.unwrap(), "/a/b");
    ftp.cdup().await.unwrap();
    assert_eq!(ftp.pwd().await.unwrap(), "/a");
    assert!(ftp.cwd("nope").await.is_err());

    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(code(&c.cmd("XCWD a").await), 250);
    assert_eq!(c.cmd("XPWD").await, "257 \"/a\" is the current directory");
    assert_eq!(code(&c.cmd("XCUP").await), 250);
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(
        code(&c.cmd("CWD a/../../../..").await),
        250,
        "`..` stops at the root"
    );
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(code(&c.cmd("CDUP").await), 250);
    assert_eq!(code(&c.cmd("CWD").await), 501);
}

#[tokio::test]
async fn directories_files_and_quoting() {
    let server = Server::builder()
        .file("d/f.txt", "x")
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap().to_path_buf();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(
        c.cmd("MKD say \"hi\"").await,
        "257 \"/say \"\"hi\"\"\" created",
        "quotes in 257 replies are doubled"
    );
    assert!(root.join("say \"hi\"").is_dir());
    assert_eq!(code(&c.cmd("XMKD new").await), 257);
    assert_eq!(code(&c.cmd("MKD new").await), 550, "exists");
    assert_eq!(code(&c.cmd("RMD d").await), 550, "not empty");
    assert_eq!(code(&c.cmd("DELE d").await), 550, "a directory");
    assert_eq!(code(&c.cmd("DELE d/f.txt").await), 250);
    assert!(!root.join("d/f.txt").exists());
    assert_eq!(code(&c.cmd("DELE d/f.txt").await), 550, "gone");
    assert_eq!(code(&c.cmd("RMD d").await), 250);
    assert_eq!(code(&c.cmd("XRMD new").await), 250);
    assert_eq!(code(&c.cmd("RMD /").await), 550);
}

#[tokio::test]
async fn rename_and_its_sequence() {
    let server = Server::builder()
        .file("old.txt", "content")
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap().to_path_buf();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(code(&c.cmd("RNTO new.txt").await), 503, "RNTO without RNFR");
    assert_eq!(code(&c.cmd("RNFR missing").await), 550);
    assert_eq!(code(&c.cmd("RNFR old.txt").await), 350);
    assert_eq!(code(&c.cmd("NOOP").await), 200);
    assert_eq!(
        code(&c.cmd("RNTO new.txt").await),
        503,
        "another command in between"
    );
    assert_eq!(code(&c.cmd("RNFR old.txt").await), 350);
    assert_eq!(code(&c.cmd("RNTO new.txt").await), 250);
    assert_eq!(
        std::fs::read_to_string(root.join("new.txt")).unwrap(),
        "content"
    );
    assert!(!root.join("old.txt").exists());

    let mut ftp = login(&server).await;
    ftp.rename("new.txt", "renamed.txt").await.unwrap();
    assert!(root.join("renamed.txt").exists());
}

#[tokio::test]
async fn size_mdtm_mfmt_and_chmod() {
    let server = Server::builder()
        .file("lines.txt", "a\nb\nc\n")
        .dir("d")
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap().to_path_buf();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("SIZE lines.txt").await, "213 6");
    c.cmd("TYPE A").await;
    assert_eq!(
        c.cmd("SIZE lines.txt").await,
        "213 9",
        "CRLF on the wire in TYPE A"
    );
    c.cmd("TYPE I").await;
    assert_eq!(code(&c.cmd("SIZE d").await), 550);
    assert_eq!(code(&c.cmd("SIZE missing").await), 550);

    assert_eq!(
        c.cmd("MFMT 20200102030405 lines.txt").await,
        "213 Modify=20200102030405; lines.txt"
    );
    assert_eq!(c.cmd("MDTM lines.txt").await, "213 20200102030405");
    assert_eq!(code(&c.cmd("MFMT 2020 lines.txt").await), 501);
    assert_eq!(code(&c.cmd("MDTM missing").await), 550);

    assert_eq!(code(&c.cmd("SITE CHMOD 600 lines.txt").await), 200);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(root.join("lines.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(code(&c.cmd("SITE CHMOD 999 lines.txt").await), 501);
    assert_eq!(code(&c.cmd("SITE CHMOD 644").await), 501);
    assert_eq!(code(&c.cmd("SITE NOPE").await), 500);

    let mut ftp = login(&server).await;
    let t = ftp.mdtm("lines.txt").await.unwrap();
    assert_eq!(t.to_string(), "2020-01-02 03:04:05");
}

#[tokio::test]
async fn symlinks_leading_out_of_the_root_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    let server = Server::builder()
        .file("inside.txt", "ok")
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap().to_path_buf();
    std::os::unix::fs::symlink(outside.path(), root.join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("secret")).unwrap();
    std::os::unix::fs::symlink(root.join("inside.txt"), root.join("alias.txt")).unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(code(&c.cmd("CWD escape").await), 550);
    assert_eq!(code(&c.cmd("SIZE escape/secret.txt").await), 550);
    assert_eq!(code(&c.cmd("SIZE secret").await), 550);
    c.cmd("EPSV").await;
    assert_eq!(code(&c.cmd("RETR secret").await), 550);
    assert_eq!(code(&c.cmd("DELE escape/secret.txt").await), 550);
    assert!(outside.path().join("secret.txt").exists());
    assert_eq!(
        c.cmd("SIZE alias.txt").await,
        "213 2",
        "links inside the root work"
    );
}

#[tokio::test]
async fn memory_storage_does_the_same() {
    let server = Server::builder()
        .memory()
        .file("docs/readme.txt", "in memory")
        .start()
        .await
        .unwrap();
    assert!(server.root().is_none(), "no directory behind it");
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("SIZE docs/readme.txt").await, "213 9");
    assert_eq!(code(&c.cmd("MKD docs/sub").await), 257);
    assert_eq!(code(&c.cmd("CWD docs/sub").await), 250);
    assert_eq!(code(&c.cmd("CDUP").await), 250);
    assert_eq!(code(&c.cmd("RNFR readme.txt").await), 350);
    assert_eq!(code(&c.cmd("RNTO sub/moved.txt").await), 250);
    assert_eq!(c.cmd("SIZE sub/moved.txt").await, "213 9");
    assert_eq!(code(&c.cmd("RMD sub").await), 550);
    assert_eq!(code(&c.cmd("MFMT 20210101000000 sub/moved.txt").await), 213);
    assert_eq!(c.cmd("MDTM sub/moved.txt").await, "213 20210101000000");
    assert_eq!(code(&c.cmd("DELE sub/moved.txt").await), 250);
    assert_eq!(code(&c.cmd("RMD sub").await), 250);

    let mut ftp = login(&server).await;
    ftp.cwd("docs").await.unwrap();
    let mut up = ftp.put_with_stream("new.bin").await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut up, b"12345")
        .await
        .unwrap();
    up.finish().await.unwrap();
    assert_eq!(ftp.size("new.bin").await.unwrap(), 5);
}

#[tokio::test]
async fn seeding_files_dirs_and_a_fixture_tree() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
    let server = Server::builder()
        .file("a/b/c.txt", "deep")
        .dir("empty/dir")
        .fixture_dir(&fixtures)
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap();
    assert_eq!(
        std::fs::read_to_string(root.join("a/b/c.txt")).unwrap(),
        "deep"
    );
    assert!(root.join("empty/dir").is_dir());
    assert_eq!(
        std::fs::read(root.join("data/numbers.csv")).unwrap(),
        std::fs::read(fixtures.join("data/numbers.csv")).unwrap()
    );
    let missing = Server::builder().fixture_dir("/no/such/dir").start().await;
    assert!(matches!(
        missing,
        Err(ftpfixture::StartError::Fixture { .. })
    ));
    // The temp root goes away with the server.
    let root = root.to_path_buf();
    drop(server);
    assert!(!root.exists());
}

/// The lines of `LIST` over suppaftp's passive data connection.
async fn listing(ftp: &mut AsyncFtpStream) -> Vec<String> {
    ftp.list(None).await.unwrap()
}

/// SITE UMASK (vsftpd's): reported, set from its leading octal digits,
/// and applied to the directories and new files this session creates,
/// not to files it overwrites; ProFTPD's personality has no UMASK.
#[tokio::test]
async fn site_umask_shapes_new_files_and_directories() {
    for memory in [true, false] {
        let builder = Server::builder().file("old.txt", "old\n");
        let builder = if memory { builder.memory() } else { builder };
        let server = builder.start().await.unwrap();
        let mut c = RawClient::login(server.addr()).await;
        assert_eq!(c.cmd("SITE UMASK").await, "200 Your current UMASK is 022");
        assert_eq!(c.cmd("SITE UMASK 077").await, "200 UMASK set to 077");
        assert_eq!(c.cmd("SITE UMASK").await, "200 Your current UMASK is 077");
        assert_eq!(code(&c.cmd("MKD private").await), 257);
        drop(c);
        let mut ftp = login(&server).await;
        // A new session starts from the default again.
        ftp.mkdir("shared").await.unwrap();
        let mut c = RawClient::login(server.addr()).await;
        assert_eq!(c.cmd("SITE UMASK 027x").await, "200 UMASK set to 027");
        c.cmd("QUIT").await;
        let mut ftp2 = login(&server).await;
        ftp2.site("UMASK 027").await.unwrap();
        ftp2.put_file("new.txt", &mut &b"new\n"[..]).await.unwrap();
        ftp2.put_file("old.txt", &mut &b"over\n"[..]).await.unwrap();
        let lines = listing(&mut ftp2).await;
        let mode_of = |name: &str| {
            lines
                .iter()
                .find(|l| l.ends_with(&format!(" {name}")))
                .map(|l| l[..10].to_string())
                .unwrap_or_else(|| panic!("{name} in {lines:?}"))
        };
        assert_eq!(mode_of("private"), "drwx------", "memory={memory}");
        assert_eq!(mode_of("shared"), "drwxr-xr-x", "memory={memory}");
        assert_eq!(mode_of("new.txt"), "-rw-r-----", "memory={memory}");
        assert_eq!(mode_of("old.txt"), "-rw-r--r--", "memory={memory}");
        ftp.quit().await.unwrap();
        ftp2.quit().await.unwrap();
    }
    let server = Server::builder()
        .personality(ftpfixture::Personality::Proftpd)
        .start()
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("SITE UMASK").await, "500 'SITE UMASK' not understood");
}

/// `{a,b}` alternatives in a listing's last part, as shells (and
/// vsftpd's LIST) read them.
#[tokio::test]
async fn listing_patterns_take_brace_alternatives() {
    let server = Server::builder()
        .file("a.txt", "a")
        .file("b.csv", "b")
        .file("c.bin", "c")
        .start()
        .await
        .unwrap();
    let mut ftp = login(&server).await;
    let mut names = ftp.nlst(Some("*.{txt,csv}")).await.unwrap();
    names.sort();
    assert_eq!(names, ["a.txt", "b.csv"]);
    ftp.quit().await.unwrap();
}

/// MFF (the draft after RFC 3659, "Modify Fact"): each `fact=value;` in
/// order, `modify` and `UNIX.mode`; the reply names the facts and the path.
#[tokio::test]
async fn mff_sets_the_facts_it_names() {
    for memory in [true, false] {
        let builder = Server::builder().file("f.txt", "x");
        let builder = if memory { builder.memory() } else { builder };
        let server = builder.start().await.unwrap();
        let mut c = RawClient::login(server.addr()).await;
        let feat = c.cmd("FEAT").await;
        assert!(feat.contains("\n MFF modify;UNIX.mode;\n"), "{feat}");
        assert_eq!(
            c.cmd("MFF modify=20200102030405;UNIX.mode=0600; f.txt")
                .await,
            "213 modify=20200102030405;UNIX.mode=0600; f.txt"
        );
        assert_eq!(c.cmd("MDTM f.txt").await, "213 20200102030405");
        if let Some(root) = server.root() {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(root.join("f.txt"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            c.cmd("MFF owner=root; f.txt").await,
            "504 Cannot modify fact 'owner=root'"
        );
        assert_eq!(
            c.cmd("MFF modify=20200102030405 f.txt").await,
            "501 modify=20200102030405: each fact ends with ';'"
        );
        assert_eq!(
            c.cmd("MFF modify=2020; f.txt").await,
            "501 2020: Invalid argument"
        );
        assert_eq!(
            c.cmd("MFF modify=20201301000000; f.txt").await,
            "501 f.txt: Invalid argument"
        );
        assert_eq!(
            code(&c.cmd("MFF modify=20200102030405; missing").await),
            550
        );
        assert_eq!(code(&c.cmd("MFF f.txt").await), 501);
        // MFMT tells a time that is no date from one that is no time.
        assert_eq!(
            c.cmd("MFMT 20201301000000 f.txt").await,
            "501 Invalid time-val 20201301000000: not a date"
        );
        assert_eq!(
            c.cmd("MFMT 2020 f.txt").await,
            "501 Invalid time-val, use YYYYMMDDHHMMSS"
        );
    }
}
