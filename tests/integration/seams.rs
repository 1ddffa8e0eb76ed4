//! Where two features meet: accounts added at run time under server-wide
//! flags, permission paths and homes that leave the root, the one access
//! function custom commands and MLSD share, explicit options beside a
//! personality, and the one storage mechanism.

use ftpfixture::{
    Access, CommandContext, CommandError, CommandHandler, CustomCommand, MemoryStorage, PathPerm,
    Personality, Server, StartError, StorageFactory, User,
};

use crate::control::{http, json};
use crate::support::{code, RawClient};

async fn control_server(builder: ftpfixture::ServerBuilder) -> (Server, String) {
    let server = builder
        .control("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let url = server.control_url().expect("control API on");
    (server, url)
}

async fn login(server: &Server, user: &str, password: &str) -> RawClient {
    let (mut c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&greeting), 220);
    assert_eq!(code(&c.cmd(&format!("USER {user}")).await), 331);
    let reply = c.cmd(&format!("PASS {password}")).await;
    assert_eq!(code(&reply), 230, "{reply}");
    c
}

/// STOR of a few bytes over EPSV; the final reply.
async fn stor(c: &mut RawClient, server: &Server, name: &str) -> String {
    use tokio::io::AsyncWriteExt;
    let mut data = c.epsv_connect(server.addr()).await;
    let first = c.cmd(&format!("STOR {name}")).await;
    if code(&first) != 150 {
        return first;
    }
    data.write_all(b"bytes\n").await.unwrap();
    drop(data);
    c.reply().await
}

#[tokio::test]
async fn users_added_at_run_time_follow_read_only_and_chroot_and_get_their_home() {
    let builder = Server::builder().read_only(true).chroot(true);
    let (server, url) = control_server(builder).await;
    let (status, body) = http(
        "POST",
        &format!("{url}/users"),
        Some(br#"{"name": "bob", "password": "pw", "home": "/homes/bob"}"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    let root = server.root().unwrap().to_path_buf();
    assert!(root.join("homes/bob").is_dir(), "the home is made");

    let mut c = login(&server, "bob", "pw").await;
    // Chrooted: the home is the client's `/`.
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    // Read-only, as every account of a --read-only server.
    let refused = stor(&mut c, &server, "up.txt").await;
    assert_eq!(code(&refused), 550, "{refused}");
    assert!(!root.join("homes/bob/up.txt").exists());

    // The same through the Rust API.
    server
        .add_user(User::new("carol", "pw").home("/homes/carol"))
        .unwrap();
    assert!(root.join("homes/carol").is_dir());
    let mut c = login(&server, "carol", "pw").await;
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(code(&c.cmd("MKD new").await), 550);
}

#[tokio::test]
async fn post_users_takes_chroot_and_own_root() {
    let (server, url) = control_server(Server::builder().file("shared.txt", "x")).await;
    let (status, body) = http(
        "POST",
        &format!("{url}/users"),
        Some(br#"{"name": "dana", "password": "pw", "own_root": true}"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    let mut c = login(&server, "dana", "pw").await;
    // Her own tree: the server's seeded file is not in it, and what she
    // stores is not in the server's.
    assert_eq!(code(&c.cmd("SIZE shared.txt").await), 550);
    let done = stor(&mut c, &server, "mine.txt").await;
    assert_eq!(code(&done), 226, "{done}");
    assert!(!server.root().unwrap().join("mine.txt").exists());
    assert_eq!(code(&c.cmd("SIZE mine.txt").await), 213);

    let (status, body) = http(
        "POST",
        &format!("{url}/users"),
        Some(br#"{"name": "erin", "password": "pw", "home": "/jail", "chroot": true}"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    let mut c = login(&server, "erin", "pw").await;
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(code(&c.cmd("SIZE shared.txt").await), 550, "confined");

    for bad in [
        &br#"{"name": "x", "password": "p", "chroot": "yes"}"#[..],
        br#"{"name": "x", "password": "p", "own_root": 1}"#,
        br#"{"name": "x", "password": "p", "home": "/a/../.."}"#,
    ] {
        let (status, body) = http("POST", &format!("{url}/users"), Some(bad), None);
        assert_eq!(status, 400, "{}: {body}", String::from_utf8_lossy(bad));
        assert!(json(&body)["error"].is_string(), "{body}");
    }
    let (_, body) = http(
        "POST",
        &format!("{url}/users"),
        Some(br#"{"name": "x", "password": "p", "home": "/a/../.."}"#),
        None,
    );
    assert!(body.contains("leaves the root"), "{body}");
    // The FTP side still serves.
    login(&server, "admin", "123456").await;
}

#[tokio::test]
async fn a_permission_path_or_home_that_leaves_the_root_is_a_start_error() {
    let err = Server::builder()
        .perm(PathPerm::new("/a/../..", Access::None))
        .start()
        .await
        .unwrap_err();
    match err {
        StartError::Config(message) => {
            assert!(message.contains("/a/../.."), "{message}");
            assert!(message.contains("leaves the root"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!("/a/../..=none".parse::<PathPerm>().is_err());
    // Inside the root after all: fine.
    assert!("/a/../b=none".parse::<PathPerm>().is_ok());

    let err = Server::builder()
        .account(User::new("bob", "pw").home("/../up"))
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StartError::Config(m) if m.contains("leaves the root")),
        "{err:?}"
    );
}

/// Answers `200 <access>` for its argument's path.
struct WhatAccess;

#[ftpfixture::async_trait]
impl CommandHandler for WhatAccess {
    async fn handle(&self, cx: &mut CommandContext<'_>) -> Result<(), CommandError> {
        let path = cx.resolve(cx.arg().unwrap_or("."))?;
        let access = cx.access(&path);
        cx.reply(200, access.to_string()).await
    }
}

#[tokio::test]
async fn custom_commands_and_mlsd_see_the_same_access() {
    let server = Server::builder()
        .account(User::new("ro", "pw").read_only())
        .account(User::new("rw", "pw"))
        .perm(PathPerm::new("/inbox", Access::WriteOnly))
        .dir("inbox")
        .file("readme.txt", "hi\n")
        .command(CustomCommand::verb("XACCESS", WhatAccess).needs_arg(true))
        .start()
        .await
        .unwrap();
    let mut ro = login(&server, "ro", "pw").await;
    assert_eq!(ro.cmd("XACCESS readme.txt").await, "200 read-only");
    // Write-only path, read-only account: nothing left to do there.
    assert_eq!(ro.cmd("XACCESS inbox").await, "200 none");
    let mlst = ro.cmd("MLST readme.txt").await;
    assert!(mlst.contains("perm=r;"), "{mlst}");

    let mut rw = login(&server, "rw", "pw").await;
    assert_eq!(rw.cmd("XACCESS readme.txt").await, "200 full");
    assert_eq!(rw.cmd("XACCESS inbox").await, "200 write-only");
}

#[tokio::test]
async fn an_explicit_greeting_beats_the_personality() {
    let server = Server::builder()
        .personality(Personality::Vsftpd)
        .greeting("Hi from the test")
        .start()
        .await
        .unwrap();
    let (_c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(greeting, "220 Hi from the test");

    let server = Server::builder()
        .personality(Personality::Vsftpd)
        .start()
        .await
        .unwrap();
    let (_c, greeting) = RawClient::connect(server.addr()).await;
    assert_eq!(greeting, "220 (vsFTPd 3.0.3)");
}

/// Gives everyone the same memory tree.
struct OneTree(std::sync::Arc<dyn ftpfixture::Storage>);

#[ftpfixture::async_trait]
impl StorageFactory for OneTree {
    async fn storage(
        &self,
        _: &ftpfixture::SessionInfo,
    ) -> Result<std::sync::Arc<dyn ftpfixture::Storage>, ftpfixture::StorageError> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn one_storage_mechanism_own_storage_beside_a_factory_is_refused() {
    let tree: std::sync::Arc<dyn ftpfixture::Storage> = std::sync::Arc::new(MemoryStorage::new());
    let err = Server::builder()
        .storage_factory(OneTree(tree.clone()))
        .account(User::new("bob", "pw").own_root())
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StartError::Config(m) if m.contains("storage factory")),
        "{err:?}"
    );
    // The factory alone serves every account, the default one included.
    let server = Server::builder()
        .storage_factory(OneTree(tree))
        .start()
        .await
        .unwrap();
    let mut c = login(&server, "admin", "123456").await;
    assert_eq!(code(&c.cmd("MKD made").await), 257);
    assert!(!server.root().unwrap().join("made").exists());
}
