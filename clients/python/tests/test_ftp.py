"""ftplib against the real binary through the ``ftp_server`` fixture."""

import ftplib
import io
import json

import pytest

from ftp_helpers import retr
from ftpfixture import ControlError, VerifyError, WaitTimeout


def commands(events):
    """The command lines of a list of events."""
    return [e["line"] for e in events if e.get("event") == "command"]


def test_login_and_transfer(ftp_server, ftp_connect):
    ftp_server.put_file("inbox/hello.txt", b"hello\n")
    ftp = ftp_connect(ftp_server)
    ftp.cwd("inbox")
    assert retr(ftp, "hello.txt") == b"hello\n"
    upload = bytes(range(256)) * 40
    ftp.storbinary("STOR up.bin", io.BytesIO(upload))
    ftp.quit()

    ftp_server.wait_for_session_end(1)
    assert ftp_server.get_file("inbox/up.bin") == upload
    session = ftp_server.transcript(session=1)
    assert all(e["session"] == 1 for e in session)
    lines = commands(session)
    assert lines[:2] == ["USER admin", "PASS ******"]
    assert "RETR hello.txt" in lines and "STOR up.bin" in lines and lines[-1] == "QUIT"
    assert ftp_server.password not in json.dumps(session)
    replies = [e["code"] for e in session if e.get("event") == "reply"]
    assert 230 in replies and 226 in replies
    text = ftp_server.render()
    assert "#1 C> USER admin" in text and "#1 C> PASS ******" in text


def test_drop_data_then_good_retry(ftp_server, ftp_connect):
    payload = bytes(range(256)) * 16
    ftp_server.put_file("big.bin", payload)
    fault = ftp_server.inject("RETR#1 drop-data after=1024")
    ftp = ftp_connect(ftp_server)
    got = []
    with pytest.raises(ftplib.error_temp, match="^426"):
        ftp.retrbinary("RETR big.bin", got.append)
    assert b"".join(got) == payload[:1024]
    assert retr(ftp, "big.bin") == payload  # the retry is served in full
    ftp.quit()
    listed = ftp_server.faults()
    assert [(f["id"], f["fired"]) for f in listed] == [(fault, 1)]
    assert "drop-data" in listed[0]["rule"]


def test_stor_452(ftp_server, ftp_connect):
    ftp_server.inject("STOR reply=452")
    ftp = ftp_connect(ftp_server)
    with pytest.raises(ftplib.error_temp, match="^452"):
        ftp.storbinary("STOR report.csv", io.BytesIO(b"a,b\n"))
    ftp.quit()
    assert ftp_server.list_dir("/") == []
    with pytest.raises(ControlError) as info:
        ftp_server.get_file("report.csv")
    assert info.value.status == 404


@pytest.mark.ftpfixture(faults=["STOR reply=452"])
def test_stor_452_from_the_marker(ftp_server, ftp_connect):
    assert [f["rule"].split(" text=")[0] for f in ftp_server.faults()] == ["STOR reply=452"]
    ftp = ftp_connect(ftp_server)
    with pytest.raises(ftplib.error_temp, match="^452"):
        ftp.storbinary("STOR a.txt", io.BytesIO(b"data"))
    ftp.quit()


def test_client_retries_after_450(ftp_server, ftp_connect):
    """The README's retry example: the first two RETRs are refused."""
    ftp_server.put_file("report.csv", "a,b\n")
    ftp_server.inject("RETR first=2 reply=450")
    ftp = ftp_connect(ftp_server)
    attempts = 0
    while True:
        attempts += 1
        try:
            data = retr(ftp, "report.csv")
            break
        except ftplib.error_temp as err:
            assert str(err).startswith("450")
            assert attempts < 5
    ftp.quit()
    assert (data, attempts) == (b"a,b\n", 3)


def test_fault_api(ftp_server):
    ids = ftp_server.inject(["RETR first=2 reply=450", "STOR reply=452"])
    assert len(ids) == 2 and ids[0] != ids[1]
    assert [(f["id"], f["fired"]) for f in ftp_server.faults()] == [(ids[0], 0), (ids[1], 0)]
    ftp_server.remove_fault(ids[0])
    assert [f["id"] for f in ftp_server.faults()] == [ids[1]]
    with pytest.raises(ControlError) as info:
        ftp_server.remove_fault(ids[0])
    assert info.value.status == 404
    assert ftp_server.clear_faults() == 1
    assert ftp_server.faults() == []
    with pytest.raises(ControlError) as info:
        ftp_server.inject("RETR#2 dorp-data after=1024")
    assert info.value.status == 400
    assert "bad fault rule" in info.value.error and "dorp-data" in info.value.error
    assert ftp_server.faults() == []


def test_files_api(ftp_server, ftp_connect):
    assert ftp_server.put_file("/a/b/c.txt", "h\u00e9llo") == {"path": "/a/b/c.txt", "size": 6}
    assert ftp_server.get_file("a/b/c.txt") == "h\u00e9llo".encode("utf-8")
    ftp_server.put_file("a/top.bin", b"\x00" * 10)
    entries = {e["name"]: e for e in ftp_server.list_dir("a")}
    assert sorted(entries) == ["b", "top.bin"]
    assert entries["b"]["type"] == "dir"
    assert (entries["top.bin"]["type"], entries["top.bin"]["size"]) == ("file", 10)

    ftp = ftp_connect(ftp_server)
    ftp.cwd("a")
    assert sorted(ftp.nlst()) == ["b", "top.bin"]
    ftp.storbinary("STOR new.txt", io.BytesIO(b"from ftp"))
    ftp.quit()
    assert ftp_server.get_file("a/new.txt") == b"from ftp"

    ftp_server.delete_file("a/top.bin")
    with pytest.raises(ControlError) as info:
        ftp_server.get_file("a/top.bin")
    assert info.value.status == 404 and info.value.error
    ftp_server.delete_file("a")  # a directory and its contents
    assert ftp_server.list_dir("/") == []
    with pytest.raises(ControlError) as info:
        ftp_server.delete_file("a")
    assert info.value.status == 404
    with pytest.raises(ControlError) as info:
        ftp_server.delete_file("../x")
    assert info.value.status == 400


def test_add_and_remove_users(ftp_server, ftp_connect):
    ftp_server.put_file("bob/hello.txt", "hi bob")
    ftp_server.add_user("bob", "builder", home="/bob")
    ftp = ftp_connect(ftp_server, user="bob", password="builder")
    assert retr(ftp, "hello.txt") == b"hi bob"
    ftp.quit()

    ftp_server.add_user("reader", "pw", read_only=True)
    ftp = ftp_connect(ftp_server, user="reader", password="pw")
    with pytest.raises(ftplib.error_perm, match="^550"):
        ftp.storbinary("STOR nope.txt", io.BytesIO(b"x"))
    ftp.quit()

    ftp_server.add_user("jailed", "pw", home="/jail", chroot=True)
    ftp = ftp_connect(ftp_server, user="jailed", password="pw")
    assert ftp.pwd() == "/"
    ftp.storbinary("STOR in-jail.txt", io.BytesIO(b"x"))
    ftp.quit()
    assert ftp_server.get_file("jail/in-jail.txt") == b"x"

    ftp_server.add_user("alone", "pw", own_root=True)
    ftp = ftp_connect(ftp_server, user="alone", password="pw")
    assert ftp.nlst() == []
    ftp.quit()

    ftp_server.remove_user("bob")
    with pytest.raises(ftplib.error_perm, match="^530"):
        ftp_connect(ftp_server, user="bob", password="builder")
    with pytest.raises(ControlError) as info:
        ftp_server.remove_user("nobody")
    assert info.value.status == 404


def test_expectations_met(ftp_server, ftp_connect):
    assert "STOR" in ftp_server.expect("STOR", times=1)
    ftp_server.expect("DELE", never=True)
    ftp_server.expect("RETR", arg="*.csv", at_least=1)
    ftp_server.expect("QUIT", at_most=1)
    ftp = ftp_connect(ftp_server)
    ftp.storbinary("STOR data.csv", io.BytesIO(b"1,2\n"))
    assert retr(ftp, "data.csv") == b"1,2\n"
    ftp.quit()
    ftp_server.verify()


def test_verify_failure_is_readable(ftp_server, ftp_connect):
    ftp_server.expect("STOR", times=1)
    ftp_server.expect("DELE", never=True)
    ftp_server.put_file("x.txt", "x")
    ftp = ftp_connect(ftp_server)
    ftp.delete("x.txt")
    ftp.quit()
    with pytest.raises(VerifyError) as info:
        ftp_server.verify()
    err = info.value
    assert isinstance(err, AssertionError)
    assert len(err.unmet) == 2
    assert sorted(u["count"] for u in err.unmet) == [0, 1]
    message = str(err)
    assert "expectations not met" in message
    assert "STOR" in message and "DELE" in message
    assert "C> DELE x.txt" in message  # the transcript is part of it


def test_waits(ftp_server, ftp_connect):
    ftp = ftp_connect(ftp_server)
    ftp.voidcmd("NOOP")
    ftp.voidcmd("NOOP")
    events = ftp_server.wait_for_command("NOOP", count=2, timeout=5)
    assert commands(events).count("NOOP") >= 2
    with pytest.raises(WaitTimeout) as info:
        ftp_server.wait_for_command("STOR", timeout=0.3)
    assert info.value.status == 408
    assert "C> NOOP" in info.value.transcript
    with pytest.raises(WaitTimeout):
        ftp_server.wait_for_session_end(1, timeout=0.3)  # still open
    ftp.quit()
    events = ftp_server.wait_for_session_end(1, timeout=5)
    assert commands(events)[-1] == "QUIT"


def test_transcript_control_and_status(ftp_server, ftp_connect):
    ftp_server.put_file("seen.txt", "x")
    ftp = ftp_connect(ftp_server)
    ftp.quit()
    ftp_server.wait_for_session_end(1)
    assert any(e.get("event") == "control" and e["session"] == 0 for e in ftp_server.transcript())
    status = ftp_server.status()
    assert status["port"] == ftp_server.port and status["sessions_total"] >= 1
    assert status["sessions_open"] == 0 and status["certificate_pem"] is None
    ftp_server.clear_transcript()
    assert [e for e in ftp_server.transcript() if e["session"] != 0] == []


def test_reset_clears_everything(ftp_server, ftp_connect):
    ftp_server.put_file("leak.txt", "x")
    ftp_server.inject("NOOP reply=500")
    ftp_server.add_user("temp", "pw")
    ftp_server.expect("STOR", times=1)
    ftp = ftp_connect(ftp_server, user="temp", password="pw")
    ftp.quit()
    ftp_server.wait_for_session_end(1)

    assert ftp_server.reset()["ok"] is True
    assert ftp_server.list_dir("/") == []
    assert ftp_server.faults() == []
    ftp_server.verify()  # expectations are gone
    with pytest.raises(ftplib.error_perm, match="^530"):
        ftp_connect(ftp_server, user="temp", password="pw")
    ftp = ftp_connect(ftp_server)
    assert ftp.voidcmd("NOOP").startswith("200")
    ftp.quit()
    connected = [e["session"] for e in ftp_server.transcript() if e.get("event") == "connected"]
    assert connected == [1, 2]  # numbering restarted: the refused login was 1


def test_isolation_first(ftp_server, ftp_connect):
    """Leaves state behind; ``test_isolation_second`` checks it is gone
    (meaningful when both run in one process, as without xdist; the
    pytester test in test_plugin.py checks the same deterministically)."""
    ftp = ftp_connect(ftp_server)
    ftp.storbinary("STOR isolation.txt", io.BytesIO(b"x"))
    ftp.quit()
    ftp_server.inject("NOOP reply=500")


def test_isolation_second(ftp_server, ftp_connect):
    assert ftp_server.list_dir("/") == []
    assert ftp_server.faults() == []
    ftp = ftp_connect(ftp_server)
    assert ftp.voidcmd("NOOP").startswith("200")
    ftp.quit()
    ftp_server.wait_for_session_end(1)
