//! The seed's `Perm` and `DriverFactory`: per-path permissions (read-only
//! subtree, write-only drop box, hidden path), owners in listings, chroot,
//! and storage per account.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ftpfixture::{
    Access, MemoryStorage, Metadata, Ownership, PathPerm, Permissions, Server, SessionInfo,
    StartError, Storage, StorageError, StorageFactory, User, VirtualPath,
};
use suppaftp::tokio::AsyncFtpStream;

use crate::support::{code, curl_async, python_async, RawClient};

fn drop_box_server() -> ftpfixture::ServerBuilder {
    Server::builder()
        .account(User::new("alice", "a"))
        .account(User::new("bob", "b"))
        .file("archive/2024.csv", "a,b\n")
        .file("archive/sub/old.txt", "old")
        .dir("inbox")
        .file("private/secret.txt", "s3cret")
        .file("readme.txt", "hi")
        .perm(PathPerm::new("/archive", Access::ReadOnly))
        .perm(PathPerm::new("/inbox", Access::WriteOnly))
        .perm("/private=none".parse().unwrap())
        .perm("bob:/private=full".parse().unwrap())
        .ownership("/archive", Ownership::new("root", "wheel"))
}

#[tokio::test]
async fn read_only_subtree_refuses_every_change_with_ftplib() {
    let server = drop_box_server().start().await.unwrap();
    const PY: &str = r#"
import ftplib, io, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
ftp.login("alice", "a")
def attempt(what, f):
    try:
        f()
        print(what, "ok")
    except ftplib.all_errors as e:
        print(what, str(e)[:3])
attempt("STOR", lambda: ftp.storbinary("STOR archive/new.csv", io.BytesIO(b"x")))
attempt("APPE", lambda: ftp.storbinary("APPE archive/2024.csv", io.BytesIO(b"x")))
attempt("DELE", lambda: ftp.delete("archive/2024.csv"))
attempt("MKD", lambda: ftp.mkd("archive/new"))
attempt("RMD", lambda: ftp.rmd("archive/sub"))
attempt("RNFR", lambda: ftp.rename("archive/2024.csv", "moved.csv"))
attempt("RNTO", lambda: ftp.rename("readme.txt", "archive/readme.txt"))
attempt("RETR", lambda: ftp.retrbinary("RETR archive/2024.csv", lambda b: None))
attempt("SIZE", lambda: ftp.size("archive/2024.csv"))
lines = []
ftp.retrlines("LIST archive", lines.append)
print(lines[0].split()[2:4], len(lines))
ftp.quit()
"#;
    let out = python_async(PY, vec![server.port().to_string()]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "STOR 553\nAPPE 553\nDELE 550\nMKD 550\nRMD 550\nRNFR 550\nRNTO 550\n\
         RETR ok\nSIZE ok\n['root', 'wheel'] 2\n"
    );
    assert_eq!(
        std::fs::read(server.root().unwrap().join("archive/2024.csv")).unwrap(),
        b"a,b\n",
        "nothing changed"
    );
}

#[tokio::test]
async fn write_only_drop_box_takes_uploads_and_shows_nothing() {
    let server = drop_box_server().start().await.unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("alice", "a").await.unwrap();
    ftp.cwd("inbox").await.unwrap();
    ftp.put_file("order.xml", &mut &b"<order/>"[..])
        .await
        .unwrap();
    assert!(ftp.list(None).await.is_err(), "LIST refused");
    assert!(ftp.nlst(None).await.is_err(), "NLST refused");
    assert!(
        ftp.retr_as_stream("order.xml").await.is_err(),
        "RETR refused"
    );
    ftp.quit().await.unwrap();
    assert_eq!(
        std::fs::read(server.root().unwrap().join("inbox/order.xml")).unwrap(),
        b"<order/>"
    );
    // The perm fact tells the truth from the parent's MLSD.
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER alice").await;
    c.cmd("PASS a").await;
    let mut data = c.epsv_connect(server.addr()).await;
    c.send_raw(b"MLSD\r\n").await;
    assert!(c.reply().await.starts_with("150"));
    let mut listing = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut data, &mut listing)
        .await
        .unwrap();
    assert_eq!(code(&c.reply().await), 226);
    let facts: HashMap<&str, &str> = listing
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(facts, name)| (name, facts))
        .collect();
    assert!(facts["inbox"].contains("perm=ecmpdf;"), "{listing}");
    assert!(facts["archive"].contains("perm=el;"), "{listing}");
    assert!(
        facts["archive"].contains("unix.owner=root;unix.group=wheel;"),
        "{listing}"
    );
    assert!(facts["readme.txt"].contains("perm=rwadf;"), "{listing}");
    assert!(!facts.contains_key("private"), "hidden: {listing}");
    let mdtm = c.cmd("MDTM archive/2024.csv").await;
    let mlst = c.cmd("MLST archive/2024.csv").await;
    assert_eq!(
        mlst.lines().nth(1).unwrap(),
        format!(
            " type=file;size=4;modify={};perm=r;unix.mode=0644;\
             unix.owner=root;unix.group=wheel; /archive/2024.csv",
            &mdtm[4..]
        )
    );
}

/// A rule names what was at its path: a rename carries it along, as a
/// filesystem's owner and mode go with the inode (held-out seeds
/// 17000-17009: a renamed root-owned directory stays root's).
#[tokio::test]
async fn rules_follow_a_renamed_directory() {
    let server = drop_box_server().start().await.unwrap();
    let mut bob = AsyncFtpStream::connect(server.addr()).await.unwrap();
    bob.login("bob", "b").await.unwrap();
    // bob may change /private; alice may not see it.
    bob.rename("private", "vault").await.unwrap();
    bob.rename("inbox", "box").await.unwrap();
    bob.mkdir("private").await.unwrap();
    bob.quit().await.unwrap();

    let mut alice = AsyncFtpStream::connect(server.addr()).await.unwrap();
    alice.login("alice", "a").await.unwrap();
    assert!(
        alice.size("vault/secret.txt").await.is_err(),
        "still hidden"
    );
    let names = alice.nlst(None).await.unwrap();
    assert!(!names.iter().any(|n| n.contains("vault")), "{names:?}");
    assert!(names.iter().any(|n| n == "private"), "{names:?}");
    // The drop box took its rule along: uploads in, nothing out.
    alice
        .put_file("box/order.xml", &mut &b"<order/>"[..])
        .await
        .unwrap();
    assert!(alice.retr_as_stream("box/order.xml").await.is_err());
    // The new directory under the old name is an ordinary one.
    alice
        .put_file("private/note.txt", &mut &b"n"[..])
        .await
        .unwrap();
    assert_eq!(alice.size("private/note.txt").await.unwrap(), 1);
    alice.quit().await.unwrap();
}

#[tokio::test]
async fn hidden_path_is_absent_except_for_its_user() {
    let server = drop_box_server().start().await.unwrap();
    let url = format!("ftp://127.0.0.1:{}/", server.port());
    let list = |user: &str| {
        let (user, url) = (user.to_string(), url.clone());
        async move {
            let out = curl_async(vec!["--list-only".into(), "-u".into(), user, url]).await;
            String::from_utf8_lossy(&out.stdout).to_string()
        }
    };
    assert_eq!(list("alice:a").await, "archive\ninbox\nreadme.txt\n");
    assert_eq!(
        list("bob:b").await,
        "archive\ninbox\nprivate\nreadme.txt\n",
        "bob's rule beats the all-users rule"
    );
    let get = |user: &str| {
        let args = vec![
            "-u".into(),
            user.to_string(),
            format!("{url}private/secret.txt"),
        ];
        curl_async(args)
    };
    // curl walks the path with CWD: the hidden directory refuses it (550,
    // which curl reports as exit code 9).
    let out = get("alice:a").await;
    assert_eq!(
        out.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(get("bob:b").await.stdout, b"s3cret");
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER alice").await;
    c.cmd("PASS a").await;
    for (line, path) in [
        ("CWD private", "/private"),
        ("SIZE private/secret.txt", "/private/secret.txt"),
        ("DELE private/secret.txt", "/private/secret.txt"),
    ] {
        assert_eq!(
            c.cmd(line).await,
            format!("550 {path}: No such file or directory"),
            "{line}"
        );
    }
}

/// Owners from a provider of one's own; access by user name.
struct ByUser;

impl Permissions for ByUser {
    fn access(&self, session: &SessionInfo, path: &VirtualPath) -> Access {
        match (session.user(), path.as_str()) {
            (Some("admin"), _) => Access::Full,
            (_, p) if p.starts_with("/staff") => Access::None,
            _ => Access::ReadOnly,
        }
    }

    fn ownership(&self, s: &SessionInfo, _p: &VirtualPath, _m: &Metadata) -> Option<Ownership> {
        Some(Ownership::new(s.user().unwrap_or("?"), "users"))
    }

    fn mode(&self, _s: &SessionInfo, _p: &VirtualPath, m: &Metadata) -> u32 {
        if m.is_dir() {
            0o700
        } else {
            0o600
        }
    }
}

#[tokio::test]
async fn a_permissions_provider_of_ones_own() {
    let server = Server::builder()
        .user("admin", "123456")
        .account(User::new("guest", "g"))
        .file("staff/pay.csv", "1")
        .file("doc.txt", "d")
        .permissions(ByUser)
        .start()
        .await
        .unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("guest", "g").await.unwrap();
    let list = ftp.list(None).await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert!(
        list[0].starts_with("-rw-------   1 guest    users   "),
        "{list:?}"
    );
    assert!(ftp.mkdir("new").await.is_err());
    ftp.quit().await.unwrap();
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("admin", "123456").await.unwrap();
    assert_eq!(ftp.list(None).await.unwrap().len(), 2);
    ftp.mkdir("new").await.unwrap();
    ftp.quit().await.unwrap();

    let both = Server::builder()
        .permissions(ByUser)
        .perm(PathPerm::new("/x", Access::None))
        .start()
        .await;
    assert!(
        matches!(both, Err(StartError::Config(ref m)) if m.contains("cannot be combined")),
        "{both:?}"
    );
}

#[tokio::test]
async fn chroot_confines_an_account_to_its_home() {
    let server = Server::builder()
        .account(User::new("bob", "b").home("/home/bob").chroot())
        .account(User::new("alice", "a").home("/home/alice"))
        .file("secret.txt", "root only")
        .file("home/bob/mine.txt", "bob's")
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER bob").await;
    c.cmd("PASS b").await;
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(c.cmd("CWD ..").await, "250 Directory changed to /");
    assert_eq!(code(&c.cmd("SIZE ../../secret.txt").await), 550);
    assert_eq!(c.cmd("SIZE /mine.txt").await, "213 5");
    assert_eq!(
        c.cmd("MKD /new").await,
        "257 \"/new\" created",
        "replies name paths as bob sees them"
    );
    assert_eq!(code(&c.cmd("RMD /").await), 550);
    assert!(server.root().unwrap().join("home/bob/new").is_dir());

    // ftplib's listing and upload land in the home.
    const PY: &str = r#"
import ftplib, io, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]))
ftp.login("bob", "b")
ftp.storbinary("STOR /up.txt", io.BytesIO(b"up"))
print(sorted(ftp.nlst("/")))
ftp.quit()
"#;
    let out = python_async(PY, vec![server.port().to_string()]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "['mine.txt', 'new', 'up.txt']\n"
    );
    assert_eq!(
        std::fs::read(server.root().unwrap().join("home/bob/up.txt")).unwrap(),
        b"up"
    );
    // alice is not chrooted: her home is where she starts.
    let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
    ftp.login("alice", "a").await.unwrap();
    assert_eq!(ftp.pwd().await.unwrap(), "/home/alice");
    assert_eq!(ftp.size("/secret.txt").await.unwrap(), 9);
    ftp.quit().await.unwrap();
}

#[tokio::test]
async fn chroot_for_every_account_and_rules_inside_it() {
    let server = Server::builder()
        .account(User::new("bob", "b").home("/bob"))
        .dir("bob/in")
        .chroot(true)
        .perm("bob:/bob/in=write-only".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER bob").await;
    c.cmd("PASS b").await;
    assert_eq!(c.cmd("PWD").await, "257 \"/\" is the current directory");
    assert_eq!(c.cmd("CWD in").await, "250 Directory changed to /in");
    assert_eq!(c.cmd("NLST").await.get(..3), Some("550"));
}

#[tokio::test]
async fn accounts_with_storage_of_their_own_are_isolated() {
    let memory = MemoryStorage::new();
    let server = Server::builder()
        .account(User::new("alice", "a"))
        .account(User::new("carol", "c").own_root())
        .account(User::new("dave", "d").home("/dave").storage(memory))
        .file("shared.txt", "everyone's")
        .start()
        .await
        .unwrap();
    let names = |user: &'static str, pass: &'static str| {
        let addr = server.addr();
        async move {
            let mut ftp = AsyncFtpStream::connect(addr).await.unwrap();
            ftp.login(user, pass).await.unwrap();
            ftp.put_file(format!("{user}.txt"), &mut &b"x"[..])
                .await
                .unwrap();
            let mut n = ftp.nlst(Some("/")).await.unwrap();
            n.sort();
            let pwd = ftp.pwd().await.unwrap();
            ftp.quit().await.unwrap();
            (pwd, n)
        }
    };
    assert_eq!(
        names("carol", "c").await,
        ("/".to_string(), vec!["carol.txt".to_string()])
    );
    assert_eq!(
        names("dave", "d").await,
        ("/dave".to_string(), vec!["dave".to_string()]),
        "a home made in dave's own storage"
    );
    assert_eq!(
        names("alice", "a").await.1,
        ["alice.txt", "shared.txt"],
        "the server's root holds neither carol's nor dave's files"
    );
}

/// One memory tree per user name; "broken" gets an error.
#[derive(Default)]
struct PerUser(Mutex<HashMap<String, Arc<dyn Storage>>>);

#[ftpfixture::async_trait]
impl StorageFactory for PerUser {
    async fn storage(&self, session: &SessionInfo) -> Result<Arc<dyn Storage>, StorageError> {
        let user = session.user().unwrap_or_default().to_string();
        if user == "broken" {
            return Err(StorageError::Io(std::io::Error::other("backend down")));
        }
        let mut trees = self.0.lock().unwrap();
        let tree = trees
            .entry(user)
            .or_insert_with(|| Arc::new(MemoryStorage::new()));
        Ok(tree.clone())
    }
}

#[tokio::test]
async fn a_storage_factory_builds_each_logins_storage() {
    let server = Server::builder()
        .account(User::new("x", "x"))
        .account(User::new("y", "y"))
        .account(User::new("broken", "b"))
        .storage_factory(PerUser::default())
        .start()
        .await
        .unwrap();
    for (user, round) in [("x", 1), ("y", 1), ("x", 2)] {
        let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
        ftp.login(user, user).await.unwrap();
        ftp.put_file(format!("{user}-{round}"), &mut &b"1"[..])
            .await
            .unwrap();
        let mut names = ftp.nlst(None).await.unwrap();
        names.sort();
        let expected: Vec<String> = (1..=round).map(|r| format!("{user}-{r}")).collect();
        assert_eq!(
            names, expected,
            "{user} sees only its own tree, kept across logins"
        );
        ftp.quit().await.unwrap();
    }
    let mut c = RawClient::connect(server.addr()).await.0;
    c.cmd("USER broken").await;
    assert_eq!(
        c.cmd("PASS b").await,
        "421 Storage unavailable: backend down"
    );
    assert!(c.closed().await);
}

#[test]
fn bad_rules_are_refused_with_the_reason() {
    for (text, reason) in [
        ("/inbox", "expected [USER:]PATH=MODE"),
        (
            "/inbox=sometimes",
            "access must be full, read-only, write-only or none",
        ),
        ("inbox=full", "expected [USER:]PATH=MODE"),
        ("/a\u{7}b=full", "\"/a\\u{7}b\""),
    ] {
        let e = text.parse::<PathPerm>().unwrap_err().to_string();
        assert!(e.contains(reason), "{text}: {e}");
    }
}
