"""The :class:`ftpfixture.Server` class on its own: start, stop, options,
finding the binary, start failures, cleanup."""

import ftplib
import gc
import io
import json
import os
import subprocess
import sys
import textwrap

import pytest

import ftpfixture
from ftp_helpers import gone, open_ftp, retr
from ftpfixture import BinaryNotFoundError, ControlError, Server, StartError, VerifyError



def fake_binary(tmp_path, body):
    """An executable Python script standing in for the binary."""
    path = tmp_path / "fake-ftpfixture"
    path.write_text("#!{}\n{}".format(sys.executable, textwrap.dedent(body)))
    path.chmod(0o755)
    return str(path)


def test_context_manager_starts_and_stops():
    with Server() as server:
        assert server.running
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.url == "ftp://127.0.0.1:{}".format(server.port)
        assert server.control_url.startswith("http://127.0.0.1:")
        assert (server.user, server.password) == ("admin", "123456")
        assert server.tls == "none" and server.ca_file is None
        assert os.path.isdir(server.root)
        assert server.args[1:5] == ["--port", "0", "--control", "0"]
        pid = server.pid
        ftp = open_ftp(server)
        ftp.quit()
        server.wait_for_session_end(1)
    assert not server.running
    assert server.process.returncode == 0  # POST /shutdown is a graceful stop
    assert gone(pid)
    assert server.stop() == 0  # a second stop is harmless


def test_start_options_reach_the_server(tmp_path):
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "fixture.txt").write_text("from fixtures")
    options = dict(
        user="alice",
        password="wonderland",
        accounts=["bob:builder", ("carol", "pw")],
        greeting="Hello from the test",
        fixtures=tmp_path / "seed",
        faults=["STOR reply=452"],
        idle_timeout=30,
        log_level="warn",
    )
    with Server(**options) as server:
        assert (server.user, server.password) == ("alice", "wonderland")
        assert "--fault" in server.args and "--idle-timeout" in server.args
        ftp = open_ftp(server)
        assert "Hello from the test" in ftp.getwelcome()
        assert retr(ftp, "fixture.txt") == b"from fixtures"
        with pytest.raises(ftplib.error_temp, match="^452"):
            ftp.storbinary("STOR x.txt", io.BytesIO(b"x"))
        ftp.quit()
        for user, password in (("bob", "builder"), ("carol", "pw")):
            open_ftp(server, user=user, password=password).quit()


def test_root_and_restore_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "keep.txt").write_text("original")
    with Server(root=root, restore_root=True) as server:
        assert os.path.samefile(server.root, str(root))
        server.put_file("keep.txt", "changed")
        server.put_file("extra.txt", "new")
        answer = server.reset()
        assert answer["root_restored"] is True
        assert server.get_file("keep.txt") == b"original"
        assert [e["name"] for e in server.list_dir("/")] == ["keep.txt"]


def test_anonymous_and_read_only():
    with Server(anonymous=True, read_only=True) as server:
        server.put_file("pub/readme.txt", "public")
        ftp = open_ftp(server, user="anonymous", password="guest@example.com")
        assert retr(ftp, "pub/readme.txt") == b"public"
        ftp.quit()
        ftp = open_ftp(server)
        with pytest.raises(ftplib.error_perm, match="^550"):
            ftp.storbinary("STOR x.txt", io.BytesIO(b"x"))
        ftp.quit()


def test_scenario_file(tmp_path):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(textwrap.dedent("""
        greeting = "Scenario FTP"
        faults = ["RETR first=1 reply=450"]

        [[users]]
        name = "dora"
        password = "explorer"

        [files]
        "docs/a.txt" = "from the scenario"
    """))
    with Server(scenario=scenario) as server:
        ftp = open_ftp(server, user="dora", password="explorer")
        assert "Scenario FTP" in ftp.getwelcome()
        with pytest.raises(ftplib.error_temp, match="^450"):
            retr(ftp, "docs/a.txt")
        assert retr(ftp, "docs/a.txt") == b"from the scenario"
        ftp.quit()


def test_command_line_mapping():
    server = Server(
        binary="/opt/ftpfixture",
        tls=True,
        accounts=[{"name": "d", "password": "p", "home": "/d"}],
        anonymous=True,
        read_only=True,
        passive_ports=(50000, 50010),
        idle_timeout=0.5,
        max_sessions=3,
        control_token="s3cret",
        extra_args=["--require-tls"],
    )
    assert server.command_line() == [
        "/opt/ftpfixture", "--port", "0", "--control", "0",
        "--tls", "explicit",
        "--account", "d:p:/d",
        "--anonymous", "--read-only",
        "--passive-ports", "50000-50010",
        "--idle-timeout", "500ms",
        "--max-sessions", "3",
        "--control-token", "s3cret",
        "--require-tls",
    ]


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="tsl"):
        Server(tsl="explicit")


def test_control_token():
    with Server(control_token="s3cret") as server:
        assert server.status()["port"] == server.port
        anonymous = Server()
        anonymous.control_url = server.control_url
        with pytest.raises(ControlError) as info:
            anonymous.status()
        assert info.value.status == 401


def test_missing_binary_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("FTPFIXTURE_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(ftpfixture, "_bundled_candidates", lambda: [str(tmp_path / "ftpfixture")])
    with pytest.raises(BinaryNotFoundError) as info:
        Server().start()
    message = str(info.value)
    assert "FTPFIXTURE_BIN" in message and "PATH" in message
    assert isinstance(info.value, FileNotFoundError)


def test_bad_ftpfixture_bin_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("FTPFIXTURE_BIN", str(tmp_path / "nope"))
    with pytest.raises(BinaryNotFoundError, match="FTPFIXTURE_BIN=.*nope"):
        Server().start()


def test_bundled_binary_is_found_next_to_the_interpreter(monkeypatch, tmp_path):
    real = ftpfixture.find_binary()
    scripts = tmp_path / "bin"
    scripts.mkdir()
    (scripts / "ftpfixture").symlink_to(os.path.abspath(real))
    monkeypatch.delenv("FTPFIXTURE_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(ftpfixture.sysconfig, "get_path", lambda name, *args, **kw: str(scripts))
    assert ftpfixture.find_binary() == str(scripts / "ftpfixture")
    with Server() as server:
        assert server.args[0] == str(scripts / "ftpfixture")
        assert server.status()["port"] == server.port


def test_bad_flag_fails_with_stderr():
    with pytest.raises(StartError) as info:
        Server(faults=["RETR#2 dorp-data after=1024"]).start()
    err = info.value
    assert err.returncode == 2
    assert "dorp-data" in err.stderr
    assert "dorp-data" in str(err) and "exit code 2" in str(err)


def test_silent_binary_times_out_and_is_killed(tmp_path):
    binary = fake_binary(tmp_path, """
        import os, sys, time
        sys.stderr.write("starting up\\n"); sys.stderr.flush()
        open(sys.argv[0] + ".pid", "w").write(str(os.getpid()))
        time.sleep(60)
    """)
    with pytest.raises(StartError, match="no ready line within 0.5s") as info:
        Server(binary=binary, startup_timeout=0.5).start()
    assert "starting up" in info.value.stderr
    with open(binary + ".pid") as f:
        assert gone(int(f.read()))


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path):
    binary = fake_binary(tmp_path, """
        import json, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(json.dumps({"host": "127.0.0.1", "port": 1, "user": "u", "password": "p",
                          "url": "ftp://127.0.0.1:1", "root": None, "tls": "none",
                          "certificate": None, "control": "http://127.0.0.1:9"}), flush=True)
        time.sleep(60)
    """)
    server = Server(binary=binary).start()
    pid = server.pid
    assert server.stop(timeout=0.5) == -9
    assert gone(pid)


def test_garbage_collected_server_is_stopped():
    server = Server().start()
    pid = server.pid
    del server
    gc.collect()
    assert gone(pid)


def test_interpreter_exit_stops_the_server():
    package_dir = os.path.dirname(os.path.dirname(ftpfixture.__file__))
    env = dict(os.environ, PYTHONPATH=package_dir, FTPFIXTURE_BIN=ftpfixture.find_binary())
    script = "import ftpfixture, json; s = ftpfixture.Server().start(); print(json.dumps(s.pid))"
    out = subprocess.run([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, timeout=60, check=True)
    assert gone(json.loads(out.stdout))


def test_replay_a_recording_written_by_hand(tmp_path):
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    (sessions / "0001.txt").write_text(
        "< 220 Partner FTP ready\n"
        "> USER partner\n< 331 Password please\n"
        "> PASS <redacted>\n< 230 Welcome, partner\n"
        "> CWD outbox\n< 250 CWD ok\n"
        "> QUIT\n< 221 Bye\n"
    )
    with Server(replay=tmp_path, personality=None) as server:
        ftp = ftplib.FTP()
        ftp.connect(server.host, server.port, timeout=10)
        assert ftp.getwelcome() == "220 Partner FTP ready"
        assert ftp.login("partner", "whatever").startswith("230 Welcome")
        with pytest.raises(ftplib.error_perm, match="^550 Replay miss"):
            ftp.sendcmd("DELE x")
        assert ftp.sendcmd("CWD outbox") == "250 CWD ok"
        ftp.quit()
        with pytest.raises(VerifyError) as info:
            server.verify()
        assert len(info.value.replay) == 1
        assert "DELE x" in str(info.value)
