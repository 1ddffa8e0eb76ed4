"""The pytest plugin, driven through inner pytest runs (``pytester``)."""

import json
import os

import pytest
from ftp_helpers import gone


CLIENT = """
import ftplib

def connect(server, user=None, password=None):
    ftp = ftplib.FTP(timeout=10)
    ftp.connect(server.host, server.port)
    ftp.login(user or server.user, password or server.password)
    return ftp
"""


def test_failed_test_report_has_the_transcript(pytester, plugin_args):
    pytester.makepyfile(
        test_inner=CLIENT
        + """
def test_fails(ftp_server):
    ftp = connect(ftp_server)
    ftp.nlst()
    ftp.quit()
    ftp_server.wait_for_session_end(1)
    assert False, "the client gave up"

def test_passes(ftp_server):
    connect(ftp_server).quit()
"""
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the client gave up*",
            "*- ftpfixture transcript -*",
            "#1 -- connected",
            "#1 C> USER admin",
            "#1 C> PASS ******",
            "#1 C> NLST",
            "#1 C> QUIT",
        ]
    )
    assert result.stdout.str().count("ftpfixture transcript") == 1  # not for the passing test


def test_marker_is_registered(pytester, plugin_args):
    result = pytester.runpytest("--markers", *plugin_args)
    result.stdout.fnmatch_lines(["@pytest.mark.ftpfixture(**options)*"])


def test_reset_isolation_reuse_and_cleanup(pytester, plugin_args):
    """Tests run in order in one process: each starts clean; tests without a
    marker share one server process; markers get their own, cached per
    options; every process is stopped when the session ends."""
    pytester.makepyfile(
        test_inner=CLIENT
        + """
import io, json, pytest

PIDS = {}

def record(name, server):
    PIDS[name] = server.pid
    with open("pids.json", "w") as f:
        json.dump(PIDS, f)

def test_dirty(ftp_server):
    record("default", ftp_server)
    ftp = connect(ftp_server)
    ftp.storbinary("STOR leak.txt", io.BytesIO(b"x"))
    ftp.quit()
    ftp_server.wait_for_session_end(1)
    ftp_server.inject("NOOP reply=500")
    ftp_server.add_user("temp", "pw")
    ftp_server.expect("RETR", times=3)

def test_clean(ftp_server, ftp_server_session):
    assert ftp_server is ftp_server_session
    assert ftp_server.pid == PIDS["default"]
    assert ftp_server.list_dir("/") == []
    assert ftp_server.faults() == []
    ftp_server.verify()
    with pytest.raises(ftplib.error_perm):
        connect(ftp_server, "temp", "pw")
    ftp = connect(ftp_server)
    assert ftp.voidcmd("NOOP").startswith("200")
    ftp.quit()
    ftp_server.wait_for_session_end(2)
    sessions = [e["session"] for e in ftp_server.transcript() if e["event"] == "connected"]
    assert sessions == [1, 2]

@pytest.mark.ftpfixture(greeting="Marked server")
def test_marked_first(ftp_server):
    record("marked", ftp_server)
    assert ftp_server.pid != PIDS["default"]
    ftp = connect(ftp_server)
    assert "Marked server" in ftp.getwelcome()
    ftp.quit()
    ftp_server.put_file("marked.txt", "x")

@pytest.mark.ftpfixture(greeting="Marked server")
def test_marked_again_is_reused_and_reset(ftp_server):
    assert ftp_server.pid == PIDS["marked"]
    assert ftp_server.list_dir("/") == []

@pytest.mark.ftpfixture(faults=["STOR reply=452"])
def test_marker_faults_are_injected(ftp_server):
    assert ftp_server.pid == PIDS["default"]  # faults need no process of their own
    ftp = connect(ftp_server)
    with pytest.raises(ftplib.error_temp, match="^452"):
        ftp.storbinary("STOR a.txt", io.BytesIO(b"x"))
    ftp.quit()

@pytest.mark.ftpfixture(faults=["STOR reply=452"])
def test_marker_faults_apply_again(ftp_server):
    assert [f["fired"] for f in ftp_server.faults()] == [0]

def test_marker_faults_do_not_leak(ftp_server):
    assert ftp_server.faults() == []

@pytest.mark.ftpfixture(greeting="Marked server")
class TestClassMarker:
    @pytest.mark.ftpfixture(user="carol", password="pw")
    def test_merged(self, ftp_server):
        record("merged", ftp_server)
        assert ftp_server.user == "carol"
        ftp = connect(ftp_server)
        assert "Marked server" in ftp.getwelcome()
        ftp.quit()
"""
    )
    result = pytester.runpytest("-p", "no:randomly", *plugin_args)
    result.assert_outcomes(passed=8)
    with open(str(pytester.path / "pids.json")) as f:
        pids = json.load(f)
    assert len(set(pids.values())) == 3
    assert all(gone(pid) for pid in pids.values())


def test_unknown_marker_option_is_reported(pytester, plugin_args):
    pytester.makepyfile(
        test_inner="""
import pytest

@pytest.mark.ftpfixture(tsl="explicit")
def test_typo(ftp_server):
    pass
"""
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option(s) tsl*"])


def test_ftpfixture_bin_option(pytester, plugin_args, monkeypatch):
    binary = os.path.abspath(__import__("ftpfixture").find_binary())
    monkeypatch.setenv("FTPFIXTURE_BIN", "/nonexistent/ftpfixture")
    pytester.makepyfile(
        test_inner="""
def test_it(ftp_server):
    assert ftp_server.args[0] == {!r}
""".format(binary)
    )
    result = pytester.runpytest("--ftpfixture-bin", binary, *plugin_args)
    result.assert_outcomes(passed=1)
