"""A test file as a user of the ftpfixture wheel writes it: `pip install
ftpfixture pytest`, then plain ftplib against the `ftp_server` fixture.

tools/test-dist runs it against the wheel in dist/, outside the repository,
plain and under `pytest -n 2`. Nothing here may import from the checkout.
"""
import ftplib
import io
import os
import sysconfig

import pytest


def download(server, path):
    """The code under test: fetch one file."""
    out = io.BytesIO()
    with ftplib.FTP() as ftp:
        ftp.connect(server.host, server.port, timeout=10)
        ftp.login(server.user, server.password)
        ftp.retrbinary("RETR " + path, out.write)
    return out.getvalue()


def upload(server, path, data, attempts=3):
    """The code under test: upload, retrying on a 4xx reply."""
    for attempt in range(1, attempts + 1):
        with ftplib.FTP() as ftp:
            ftp.connect(server.host, server.port, timeout=10)
            ftp.login(server.user, server.password)
            try:
                ftp.storbinary("STOR " + path, io.BytesIO(data))
                return attempt
            except ftplib.error_temp:
                continue
    raise RuntimeError("upload failed after {} attempts".format(attempts))


def test_the_binary_came_with_the_wheel(ftp_server):
    scripts = sysconfig.get_path("scripts")
    assert os.access(os.path.join(scripts, "ftpfixture"), os.X_OK)
    assert ftp_server.port > 0
    assert ftp_server.url.startswith("ftp://")


def test_download_a_seeded_file(ftp_server):
    ftp_server.put_file("inbox/hello.txt", b"hello from ftpfixture\n")
    assert download(ftp_server, "inbox/hello.txt") == b"hello from ftpfixture\n"
    ftp_server.wait_for_session_end(1)
    assert "#1 C> RETR inbox/hello.txt" in ftp_server.render()


def test_upload_lands_in_the_tree(ftp_server):
    # Each test starts clean: nothing from the other tests is there.
    assert [e["name"] for e in ftp_server.list_dir("/")] == []
    assert upload(ftp_server, "report.csv", b"a,b\n1,2\n") == 1
    assert ftp_server.get_file("report.csv") == b"a,b\n1,2\n"


def test_a_fault_injected_at_run_time(ftp_server):
    ftp_server.inject("STOR#1 reply=452")
    ftp_server.expect("STOR", times=2)
    assert upload(ftp_server, "retry.bin", b"\x00\x01\x02") == 2
    ftp_server.verify()
    ftp_server.wait_for_session_end(2)

    events = ftp_server.transcript()
    faults = [e for e in events if e.get("event") == "fault"]
    assert [(e["session"], e["rule"].split()[0]) for e in faults] == [(1, "STOR#1")]
    replies = [e["code"] for e in events if e.get("event") == "reply" and e["session"] == 1]
    assert 452 in replies
    text = ftp_server.render()
    assert "#1 !! fault STOR" in text
    assert "#2 C> STOR retry.bin" in text


@pytest.mark.ftpfixture(faults=["RETR#1 drop-data after=4"])
def test_a_fault_from_the_marker(ftp_server):
    ftp_server.put_file("big.bin", b"x" * 65536)
    try:
        first = download(ftp_server, "big.bin")
    except (ftplib.Error, EOFError, OSError):
        first = None
    assert first != b"x" * 65536, "the fault did not fire"
    # The second try is clean.
    assert download(ftp_server, "big.bin") == b"x" * 65536


@pytest.mark.parametrize("n", range(4))
def test_servers_are_per_worker(ftp_server, n):
    # Under -n 2 these run on two workers at once, each with its own server.
    name = "f{}.txt".format(n)
    assert upload(ftp_server, name, name.encode()) == 1
    assert [e["name"] for e in ftp_server.list_dir("/")] == [name]
