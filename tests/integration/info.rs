//! SYST, FEAT, OPTS, HELP, STAT, NOOP, HOST.

use ftpfixture::Server;

use crate::support::{code, RawClient};

#[tokio::test]
async fn syst_noop_and_feat_format() {
    let server = Server::start().await.unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("SYST").await, "215 UNIX Type: L8");
    assert_eq!(c.cmd("NOOP").await, "200 NOOP ok");
    let feat = c.cmd("FEAT").await;
    let lines: Vec<&str> = feat.lines().collect();
    assert_eq!(lines.first(), Some(&"211-Features:"));
    assert_eq!(lines.last(), Some(&"211 End"));
    // RFC 2389: each feature line starts with one space.
    for l in &lines[1..lines.len() - 1] {
        assert!(l.starts_with(' ') && !l.starts_with("  "), "{l:?}");
    }
    for f in [
        "EPSV",
        "EPRT",
        "MDTM",
        "SIZE",
        "REST STREAM",
        "UTF8",
        "MFMT",
        "HOST",
    ] {
        assert!(lines.contains(&format!(" {f}").as_str()), "{f} in {feat}");
    }
    assert!(lines
        .iter()
        .any(|l| l.starts_with(" MLST type*;size*;modify*;")));
    assert!(!feat.contains("AUTH"), "no TLS, no AUTH");
}

#[tokio::test]
async fn opts_utf8_and_mlst_facts() {
    let server = Server::builder()
        .file("a.txt", "abc")
        .start()
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(code(&c.cmd("OPTS UTF8 ON").await), 200);
    assert_eq!(
        c.cmd("OPTS MLST type;size;").await,
        "200 MLST OPTS type;size;"
    );
    let mlst = c.cmd("MLST a.txt").await;
    assert!(mlst.contains(" type=file;size=3; /a.txt"), "{mlst}");
    assert!(!mlst.contains("modify="), "only the selected facts: {mlst}");
    let feat = c.cmd("FEAT").await;
    assert!(
        feat.contains(" MLST type*;size*;modify;perm;unix.mode;"),
        "{feat}"
    );
    assert_eq!(code(&c.cmd("OPTS NONSENSE").await), 501);
    assert_eq!(code(&c.cmd("OPTS").await), 501);
}

#[tokio::test]
async fn help_is_multi_line() {
    let server = Server::start().await.unwrap();
    let mut c = RawClient::login(server.addr()).await;
    let help = c.cmd("HELP").await;
    assert!(help.starts_with("214-"), "{help}");
    assert!(help.lines().last().unwrap().starts_with("214 "), "{help}");
    assert!(help.contains("RETR") && help.contains("EPSV"));
    let site = c.cmd("SITE HELP").await;
    assert!(site.starts_with("214-") && site.contains("CHMOD"), "{site}");
}

#[tokio::test]
async fn stat_of_the_server_and_of_a_path() {
    let server = Server::builder()
        .file("docs/a.txt", "abc")
        .dir("docs/sub")
        .start()
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    let stat = c.cmd("STAT").await;
    assert!(stat.starts_with("211-"), "{stat}");
    assert!(stat.contains("Logged in as admin"), "{stat}");
    assert!(stat.lines().last().unwrap().starts_with("211 "), "{stat}");
    let listing = c.cmd("STAT docs").await;
    let lines: Vec<&str> = listing.lines().collect();
    assert!(lines[0].starts_with("213-"), "{listing}");
    assert!(lines
        .iter()
        .any(|l| l.contains("a.txt") && l.trim_start().starts_with("-rw")));
    assert!(lines
        .iter()
        .any(|l| l.ends_with(" sub") && l.trim_start().starts_with('d')));
    assert!(lines.last().unwrap().starts_with("213 "));
    assert_eq!(code(&c.cmd("STAT missing").await), 550);
}

#[tokio::test]
async fn host_before_user_only() {
    let server = Server::start().await.unwrap();
    let (mut c, _) = RawClient::connect(server.addr()).await;
    assert_eq!(code(&c.cmd("HOST ftp.example.com").await), 220);
    assert_eq!(code(&c.cmd("HOST [::1]").await), 220);
    assert_eq!(code(&c.cmd("HOST bad_name!").await), 501);
    c.cmd("USER admin").await;
    assert_eq!(code(&c.cmd("HOST example.com").await), 503);
}
