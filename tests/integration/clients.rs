//! Python's ftplib end to end: active and passive mode, TYPE A, MLSD,
//! uploads and downloads; the client's view must match the server's files.

use ftpfixture::Server;

use crate::support::python_async;

const PY: &str = r#"
import ftplib, io, sys
port = int(sys.argv[1])
for passive in (True, False):
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login("admin", "123456")
    ftp.set_pasv(passive)
    mode = "passive" if passive else "active"
    # TYPE A: lines in, lines out.
    ftp.storlines("STOR %s.txt" % mode, io.BytesIO(b"alpha\nbeta\n"))
    lines = []
    ftp.retrlines("RETR %s.txt" % mode, lines.append)
    assert lines == ["alpha", "beta"], lines
    # TYPE I: bytes.
    blob = bytes(range(256)) * 1000
    ftp.storbinary("STOR %s.bin" % mode, io.BytesIO(blob))
    got = bytearray()
    ftp.retrbinary("RETR %s.bin" % mode, got.extend)
    assert bytes(got) == blob
    facts = {name: f for name, f in ftp.mlsd(facts=["type", "size"])}
    assert facts["%s.bin" % mode]["size"] == str(len(blob)), facts
    assert facts["%s.txt" % mode]["type"] == "file"
    ftp.mkd("dir-" + mode)
    assert ("dir-" + mode) in ftp.nlst()
    ftp.rename("%s.txt" % mode, "%s-renamed.txt" % mode)
    # mlsd left the session in TYPE A, where SIZE counts the CRLFs the
    # transfer would send (RFC 3659): 1000 LF bytes become 2 bytes each.
    print(mode, ftp.size("%s.bin" % mode))
    ftp.voidcmd("TYPE I")
    print(mode, ftp.size("%s.bin" % mode))
    ftp.quit()
"#;

#[tokio::test]
async fn ftplib_in_passive_and_active_mode() {
    let server = Server::start().await.unwrap();
    let out = python_async(PY, vec![server.port().to_string()]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "passive 257000\npassive 256000\nactive 257000\nactive 256000\n"
    );
    let root = server.root().unwrap();
    for mode in ["passive", "active"] {
        assert_eq!(
            std::fs::read(root.join(format!("{mode}-renamed.txt"))).unwrap(),
            b"alpha\nbeta\n",
            "TYPE A upload stored with LF"
        );
        assert_eq!(
            std::fs::read(root.join(format!("{mode}.bin")))
                .unwrap()
                .len(),
            256_000
        );
        assert!(root.join(format!("dir-{mode}")).is_dir());
    }
    let t = server.transcript();
    assert!(
        t.count("PORT") + t.count("EPRT") >= 4,
        "active mode was used"
    );
    assert!(
        t.count("PASV") + t.count("EPSV") >= 4,
        "passive mode was used"
    );
}
