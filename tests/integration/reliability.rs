//! Nothing lost when clients misbehave: an upload whose connections drop
//! keeps every byte that reached the server, the transfer's end is recorded
//! before the session's, and the classic recovery (reconnect, SIZE, REST,
//! STOR) completes the file. Hundreds of rounds, with a raw client, suppaftp
//! and ftplib, in every order of dropping.

use ftpfixture::Server;
use suppaftp::tokio::AsyncFtpStream;
use tokio::io::AsyncWriteExt;

use crate::support::{bytes, code, python_async, RawClient, WAIT};

const ROUNDS: usize = 200;

/// The order in which a client's connections go away.
#[derive(Debug, Clone, Copy)]
enum Drop {
    ControlFirst,
    DataFirst,
    Together,
}

fn order(round: usize) -> Drop {
    [Drop::ControlFirst, Drop::DataFirst, Drop::Together][round % 3]
}

/// Reconnects and finishes `name` from where the server says it stands.
async fn resume(server: &Server, name: &str, whole: &[u8]) -> u64 {
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("TYPE I").await, "200 Type set to I");
    let size = c.cmd(&format!("SIZE {name}")).await;
    let have: u64 = size
        .strip_prefix("213 ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("SIZE {name}: {size}"));
    let mut data = c.epsv_connect(server.addr()).await;
    assert_eq!(code(&c.cmd(&format!("REST {have}")).await), 350);
    assert_eq!(code(&c.cmd(&format!("STOR {name}")).await), 150);
    data.write_all(&whole[have as usize..]).await.unwrap();
    data.shutdown().await.unwrap();
    drop(data);
    assert_eq!(code(&c.reply().await), 226);
    c.cmd("QUIT").await;
    have
}

#[tokio::test]
async fn an_upload_cut_by_the_client_keeps_every_byte_raw_client() {
    let server = Server::start().await.unwrap();
    let root = server.root().unwrap().to_path_buf();
    for round in 0..ROUNDS {
        let name = format!("r{round}.bin");
        let sent = 1 + (round * 7919) % 3000;
        let whole = bytes(round as u64, sent + 1000);
        let mut c = RawClient::login(server.addr()).await;
        c.cmd("TYPE I").await;
        let mut data = c.epsv_connect(server.addr()).await;
        assert_eq!(code(&c.cmd(&format!("STOR {name}")).await), 150);
        data.write_all(&whole[..sent]).await.unwrap();
        match order(round) {
            Drop::ControlFirst => {
                drop(c);
                drop(data);
            }
            Drop::DataFirst => {
                drop(data);
                drop(c);
            }
            Drop::Together => drop((c, data)),
        }
        let have = resume(&server, &name, &whole).await;
        assert_eq!(
            have,
            sent as u64,
            "round {round} ({:?}): SIZE after the drop",
            order(round)
        );
        assert_eq!(
            std::fs::read(root.join(&name)).unwrap(),
            whole,
            "round {round}"
        );
    }
    // Every cut upload has its end in the record, before its session's
    // (once the last sessions have finished recording).
    server.wait_until_idle(WAIT).await.unwrap();
    let t = server.transcript();
    for id in (1..=2 * ROUNDS as u64).step_by(2) {
        let s = t.session(id).render();
        let data_end = s.find("#").and(s.find("D> ")).is_some();
        assert!(data_end, "session {id}:\n{s}");
        let lines: Vec<&str> = s.lines().collect();
        let end = lines.iter().position(|l| {
            l.contains("D> received") || l.contains("D> failed") || l.contains("D> aborted")
        });
        let closed = lines.iter().position(|l| l.contains("-- closed by"));
        assert!(
            end.is_some() && end < closed,
            "session {id}: the transfer ends before the session:\n{s}"
        );
    }
}

#[tokio::test]
async fn an_upload_cut_by_the_client_keeps_every_byte_suppaftp() {
    let server = Server::start().await.unwrap();
    let root = server.root().unwrap().to_path_buf();
    for round in 0..ROUNDS {
        let name = format!("s{round}.bin");
        let sent = 1 + (round * 4099) % 5000;
        let whole = bytes(1000 + round as u64, sent + 777);
        let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
        ftp.login("admin", "123456").await.unwrap();
        ftp.transfer_type(suppaftp::types::FileType::Binary)
            .await
            .unwrap();
        let mut stream = ftp.put_with_stream(&name).await.unwrap();
        stream.write_all(&whole[..sent]).await.unwrap();
        stream.flush().await.unwrap();
        match order(round) {
            Drop::ControlFirst => {
                drop(ftp);
                drop(stream);
            }
            Drop::DataFirst | Drop::Together => {
                drop(stream);
                drop(ftp);
            }
        }
        // suppaftp's own recovery: SIZE, then REST and STOR of the rest.
        let mut ftp = AsyncFtpStream::connect(server.addr()).await.unwrap();
        ftp.login("admin", "123456").await.unwrap();
        ftp.transfer_type(suppaftp::types::FileType::Binary)
            .await
            .unwrap();
        let have = ftp.size(&name).await.unwrap();
        assert_eq!(have, sent, "round {round}: SIZE after the drop");
        ftp.resume_transfer(have).await.unwrap();
        let mut rest = ftp.put_with_stream(&name).await.unwrap();
        rest.write_all(&whole[have..]).await.unwrap();
        rest.finish().await.unwrap();
        ftp.quit().await.unwrap();
        assert_eq!(
            std::fs::read(root.join(&name)).unwrap(),
            whole,
            "round {round}"
        );
    }
}

#[tokio::test]
async fn an_upload_cut_by_the_client_keeps_every_byte_ftplib() {
    let server = Server::start().await.unwrap();
    let out = python_async(
        r#"
import ftplib, io, sys
port, rounds = int(sys.argv[1]), int(sys.argv[2])
lost = []
for r in range(rounds):
    name = "p%d.bin" % r
    whole = bytes((r * 31 + i) % 251 for i in range(1 + (r * 613) % 4000 + 500))
    sent = len(whole) - 500
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login("admin", "123456")
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR " + name)
    conn.sendall(whole[:sent])
    if r % 3 == 0:
        ftp.sock.close(); conn.close()
    elif r % 3 == 1:
        conn.close(); ftp.sock.close()
    else:
        ftp.close(); conn.close()
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port)
    ftp.login("admin", "123456")
    ftp.voidcmd("TYPE I")
    have = ftp.size(name)
    if have != sent:
        lost.append((r, sent, have))
    ftp.storbinary("STOR " + name, io.BytesIO(whole[have:]), rest=have)
    back = io.BytesIO()
    ftp.retrbinary("RETR " + name, back.write)
    if back.getvalue() != whole:
        lost.append((r, "content"))
    ftp.quit()
print(len(lost), lost[:5])
"#,
        vec![server.port().to_string(), ROUNDS.to_string()],
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0 []");
}

#[tokio::test]
async fn appe_and_abor_keep_what_arrived() {
    let server = Server::builder()
        .file("log.txt", "start\n")
        .start()
        .await
        .unwrap();
    let root = server.root().unwrap().to_path_buf();
    // APPE, then the client vanishes.
    let mut c = RawClient::login(server.addr()).await;
    c.cmd("TYPE I").await;
    let mut data = c.epsv_connect(server.addr()).await;
    assert_eq!(code(&c.cmd("APPE log.txt").await), 150);
    data.write_all(b"more\n").await.unwrap();
    drop((c, data));
    let mut c = RawClient::login(server.addr()).await;
    assert_eq!(c.cmd("SIZE log.txt").await, "213 11");
    assert_eq!(
        std::fs::read(root.join("log.txt")).unwrap(),
        b"start\nmore\n"
    );

    // ABOR during an upload: the bytes read before it stay.
    c.cmd("TYPE I").await;
    let mut data = c.epsv_connect(server.addr()).await;
    assert_eq!(code(&c.cmd("STOR abor.bin").await), 150);
    // On loopback the bytes are in the server's socket once written: they
    // reached the server before the ABOR did, so they land.
    data.write_all(b"0123456789").await.unwrap();
    let abor = c.cmd("ABOR").await;
    assert!(abor.starts_with("426"), "{abor}");
    assert_eq!(c.reply().await, "226 ABOR successful");
    drop(data);
    assert_eq!(c.cmd("SIZE abor.bin").await, "213 10");
    c.cmd("QUIT").await;
    let t = server.wait_for_session_end(2, WAIT).await.unwrap().render();
    // Whichever the server noticed first (the data FIN or the control
    // close), the 5 bytes are recorded as received, and ABOR's end too.
    assert!(t.contains("#1 D> received 5 bytes"), "{t}");
    assert!(
        t.contains(
            "#2 D> aborted
#2 S> 426"
        ),
        "{t}"
    );
}

#[tokio::test]
async fn a_download_whose_control_connection_drops_ends_cleanly() {
    let server = Server::builder()
        .file("big.bin", bytes(7, 4 * 1024 * 1024))
        .start()
        .await
        .unwrap();
    let mut c = RawClient::login(server.addr()).await;
    c.cmd("TYPE I").await;
    let data = c.epsv_connect(server.addr()).await;
    assert_eq!(code(&c.cmd("RETR big.bin").await), 150);
    // Read nothing, drop the control connection: the server must not wait
    // for a reader that will never come, and must say what happened.
    drop(c);
    let t = server.wait_for_session_end(1, WAIT).await.unwrap().render();
    drop(data);
    let lines: Vec<&str> = t.lines().collect();
    let n = lines.len();
    assert_eq!(
        lines[n - 1],
        "#1 -- closed by client (connection closed)",
        "{t}"
    );
    assert_eq!(
        lines[n - 2],
        "#1 D> aborted (control connection lost)",
        "{t}"
    );
}

#[tokio::test]
async fn ten_thousand_connect_and_drop_cycles_leave_no_task_behind() {
    let server = Server::builder().record(false).start().await.unwrap();
    // Settle the runtime's own tasks first.
    let mut c = RawClient::login(server.addr()).await;
    c.cmd("QUIT").await;
    server.wait_until_idle(WAIT).await.unwrap();
    let tasks = server.alive_tasks();
    for i in 0..10_000 {
        let s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        if i % 2 == 0 {
            // Half of them say something first.
            let mut s = s;
            let _ = s.write_all(b"USER x\r\n").await;
        }
    }
    // Connections wait in the listen backlog until accepted, in order: once
    // a last client is greeted, every earlier one has been accepted, and
    // idle means they have all ended.
    let mut last = RawClient::login(server.addr()).await;
    last.cmd("QUIT").await;
    server.wait_until_idle(WAIT).await.unwrap();
    assert_eq!(server.status().sessions_open, 0);
    // A session counts as ended a moment before its task returns: give the
    // runtime a bounded number of chances to retire the last ones.
    let mut alive = server.alive_tasks();
    for _ in 0..400 {
        if alive <= tasks {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        alive = server.alive_tasks();
    }
    // (The baseline may itself still count the first session's task.)
    assert!(
        alive <= tasks,
        "no task left behind: {alive} alive, {tasks} before"
    );
}

/// The CLI's open descriptors: a process of its own, so nothing else in the
/// test run counts.
fn fds_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn descriptors_come_back_after_drops_and_a_thousand_pasv() {
    use std::io::{BufRead, BufReader, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ftpfixture"))
        .args(["--port", "0", "--log-level", "error"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn ftpfixture");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", ready["port"]).parse().unwrap();
    let pid = child.id();
    let idle = |want: usize| {
        // Sessions end asynchronously: a bounded number of checks of the
        // count, each after yielding the CPU.
        for _ in 0..2000 {
            if fds_of(pid) <= want {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        false
    };
    let before = fds_of(pid);
    for _ in 0..2000 {
        drop(std::net::TcpStream::connect(addr).unwrap());
    }
    // Accepted in order: once this one is greeted, all of them were.
    let mut last = BufReader::new(std::net::TcpStream::connect(addr).unwrap());
    let mut greeting = String::new();
    last.read_line(&mut greeting).unwrap();
    drop(last);
    assert!(
        idle(before),
        "after 2000 connect-and-drop: {before} before, {} after",
        fds_of(pid)
    );
    // One session asks PASV a thousand times and never connects.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    for cmd in ["USER admin", "PASS 123456"] {
        write!(s, "{cmd}\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
    }
    for _ in 0..1000 {
        write!(s, "PASV\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("227"), "{line}");
    }
    // The session's socket and one passive listener: that is all.
    assert!(
        fds_of(pid) <= before + 2,
        "{before} before, {} during",
        fds_of(pid)
    );
    write!(s, "QUIT\r\n").unwrap();
    drop((s, r));
    assert!(
        idle(before),
        "after QUIT: {before} before, {} after",
        fds_of(pid)
    );
    let _ = child.kill();
    let _ = child.wait();
}
