"""Drive the ``ftpfixture`` FTP/FTPS mock server from Python tests.

:class:`Server` starts the ``ftpfixture`` binary on free ports, waits for its
ready line and talks to its HTTP control API: inject faults, read the
transcript, seed and inspect files, add users, set expectations and verify
them, and reset everything between tests::

    import ftplib
    from ftpfixture import Server

    with Server() as server:
        server.put_file("inbox/hello.txt", b"hi\\n")
        ftp = ftplib.FTP()
        ftp.connect(server.host, server.port)
        ftp.login(server.user, server.password)
        ...

The pytest plugin (:mod:`ftpfixture.plugin`, loaded automatically once the
package is installed) wraps this in the ``ftp_server`` and
``ftp_server_session`` fixtures.

Only the standard library is used.
"""

import collections
import datetime
import json
import os
import queue
import shutil
import signal
import site
import ssl
import subprocess
import sysconfig
import threading
import urllib.error
import urllib.parse
import urllib.request
import weakref
from typing import Any, Dict, List, Optional

__version__ = "0.2.0"

__all__ = [
    "Server",
    "find_binary",
    "FtpfixtureError",
    "BinaryNotFoundError",
    "StartError",
    "ControlError",
    "WaitTimeout",
    "VerifyError",
    "BINARY_ENV",
]

#: Environment variable naming the ``ftpfixture`` binary to run.
BINARY_ENV = "FTPFIXTURE_BIN"

_BINARY_NAME = "ftpfixture.exe" if os.name == "nt" else "ftpfixture"

#: Options :class:`Server` accepts (keyword arguments).
OPTIONS = frozenset(
    {
        "tls",
        "user",
        "password",
        "accounts",
        "anonymous",
        "read_only",
        "faults",
        "fixtures",
        "scenario",
        "root",
        "restore_root",
        "replay",
        "personality",
        "greeting",
        "passive_ports",
        "idle_timeout",
        "max_sessions",
        "log_level",
        "control_token",
        "extra_args",
        "binary",
        "startup_timeout",
        "http_timeout",
        "env",
    }
)


# --------------------------------------------------------------------------
# Errors


class FtpfixtureError(Exception):
    """Base class of every error this package raises (except
    :class:`VerifyError`, which is an :class:`AssertionError`)."""


class BinaryNotFoundError(FtpfixtureError, FileNotFoundError):
    """The ``ftpfixture`` binary could not be found."""


class StartError(FtpfixtureError):
    """The server process did not start or did not print its ready line.

    ``returncode`` is the process's exit code (``None`` if it was still
    running and had to be killed), ``stderr`` what it wrote to stderr.
    """

    def __init__(self, message, returncode=None, stderr=""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class ControlError(FtpfixtureError):
    """The control API answered with an error (or could not be reached).

    ``status`` is the HTTP status (``None`` when the API was unreachable),
    ``error`` the server's ``"error"`` text, ``body`` the decoded JSON body
    (or ``None``), ``method`` and ``path`` the request.
    """

    def __init__(self, status, error, body=None, method="", path=""):
        self.status = status
        self.error = error
        self.body = body
        self.method = method
        self.path = path
        where = "{} {}".format(method, path).strip()
        head = "{} -> {}".format(where, status) if status is not None else where
        super().__init__("{}: {}".format(head, error) if head else error)


class WaitTimeout(ControlError):
    """A ``wait_for_*`` call timed out (HTTP 408).

    ``transcript`` holds the rendered transcript at the time, which is also
    part of the message.
    """

    def __init__(self, status, error, body=None, method="", path=""):
        self.transcript = (body or {}).get("transcript", "") if isinstance(body, dict) else ""
        super().__init__(status, error, body, method, path)

    def __str__(self):
        text = super().__str__()
        if self.transcript:
            text += "\ntranscript:\n" + self.transcript.rstrip("\n")
        return text


class VerifyError(AssertionError):
    """Expectations were not met (``GET /verify`` answered 409).

    ``unmet`` is the list of ``{"expectation": ..., "count": N}`` objects,
    ``replay`` what a replayed recording could not answer (misses, and with
    its ``strict`` setting the recorded commands never sent), ``transcript``
    the rendered transcript.
    """

    def __init__(self, unmet, transcript, replay=()):
        self.unmet = list(unmet)
        self.replay = list(replay)
        self.transcript = transcript or ""
        lines = ["ftpfixture: expectations not met:" if self.unmet or not self.replay else "ftpfixture: replay problems:"]
        for item in self.unmet:
            if isinstance(item, dict):
                lines.append(
                    "  - {} (received {})".format(item.get("expectation", item), item.get("count", "?"))
                )
            else:
                lines.append("  - {}".format(item))
        for item in self.replay:
            lines.append("  - {}".format(item))
        if self.transcript:
            lines.append("transcript:")
            lines.append(self.transcript.rstrip("\n"))
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------
# Finding the binary


def _bundled_candidates():
    """Where a wheel installs the binary: the scripts directory of this
    interpreter's environment, or of the user scheme when this package was
    installed with ``pip install --user``."""
    dirs = []
    try:
        dirs.append(sysconfig.get_path("scripts"))
    except KeyError:  # pragma: no cover - exotic installs
        pass
    if _installed_for_user():
        try:
            user_scheme = sysconfig.get_preferred_scheme("user")  # Python >= 3.10
        except AttributeError:  # pragma: no cover - Python < 3.10
            user_scheme = "nt_user" if os.name == "nt" else "posix_user"
        try:
            dirs.append(sysconfig.get_path("scripts", user_scheme))
        except KeyError:  # pragma: no cover
            pass
    seen = []
    for directory in dirs:
        if directory and directory not in seen:
            seen.append(directory)
    return [os.path.join(directory, _BINARY_NAME) for directory in seen]


def _installed_for_user():
    """Whether this package lives in the user site-packages."""
    try:
        user_site = site.getusersitepackages()
    except AttributeError:  # pragma: no cover - some embedded interpreters
        return False
    here = os.path.abspath(os.path.dirname(__file__))
    return bool(user_site) and here.startswith(os.path.abspath(user_site) + os.sep)


def _is_executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_binary():
    """Return the path of the ``ftpfixture`` binary to run.

    Looked up in this order: the ``FTPFIXTURE_BIN`` environment variable, the
    binary a wheel installed next to this interpreter (its scripts
    directory), then ``ftpfixture`` on ``PATH``. Raises
    :class:`BinaryNotFoundError` when none is found.
    """
    configured = os.environ.get(BINARY_ENV)
    if configured:
        if _is_executable(configured):
            return configured
        raise BinaryNotFoundError(
            "{}={!r} is not an executable file; point {} at the ftpfixture binary "
            "(or unset it to use the bundled one or PATH)".format(BINARY_ENV, configured, BINARY_ENV)
        )
    for candidate in _bundled_candidates():
        if _is_executable(candidate):
            return candidate
    found = shutil.which("ftpfixture")
    if found:
        return found
    raise BinaryNotFoundError(
        "cannot find the ftpfixture binary: set {} to its path, install the ftpfixture "
        "wheel (which bundles it), or put ftpfixture on PATH "
        "(e.g. `cargo install ftpfixture`); looked in {} and PATH".format(
            BINARY_ENV, ", ".join(_bundled_candidates()) or "(no scripts dir)"
        )
    )


# --------------------------------------------------------------------------
# Helpers


def _duration(value):
    """A duration for the CLI/API: ``"30s"`` and ``"500ms"`` pass through,
    numbers are seconds, :class:`datetime.timedelta` works too."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    seconds = float(value)
    if seconds < 0:
        raise ValueError("negative duration: {!r}".format(value))
    if seconds.is_integer():
        return "{}s".format(int(seconds))
    return "{}ms".format(max(1, int(round(seconds * 1000))))


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (str, bytes, dict)):
        return [value]
    return list(value)


def _account_arg(account):
    """``--account`` value from ``"name:pass[:home]"``, a tuple or a dict."""
    if isinstance(account, str):
        return account
    if isinstance(account, dict):
        parts = [account["name"], account["password"]]
        if account.get("home"):
            parts.append(account["home"])
        return ":".join(str(p) for p in parts)
    return ":".join(str(p) for p in account)


def _reap(process, grace):
    """Make sure ``process`` has exited and is reaped: wait ``grace``
    seconds, then SIGTERM and wait ``grace`` seconds more, then SIGKILL."""
    if process is None:
        return
    try:
        process.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        process.terminate()
    except OSError:  # already gone
        pass
    try:
        process.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        process.kill()
    except OSError:
        pass
    process.wait()


def _finalize(process, threads):
    """Interpreter exit / garbage collection: stop a server that was never
    stopped. Must not reference the :class:`Server` object."""
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
        except OSError:
            pass
        _reap(process, 5)
    for stream in (process.stdout, process.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    for thread in threads:
        thread.join(timeout=1)


class _LogTail:
    """The last lines a process wrote, appended from a reader thread."""

    def __init__(self, limit=500):
        self._lines = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def append(self, line):
        with self._lock:
            self._lines.append(line)

    def text(self):
        with self._lock:
            return "".join(self._lines)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # pragma: no cover - never expected
        return None


# --------------------------------------------------------------------------
# The server


class Server:
    """One ``ftpfixture`` process and a client of its control API.

    Options (keyword arguments, all optional):

    ``tls``
        ``"explicit"`` (AUTH TLS), ``"implicit"`` or ``"none"``; ``True``
        means ``"explicit"``. With TLS, :attr:`ca_file` names the CA to trust.
    ``user``, ``password``
        the main account (default ``admin`` / ``123456``).
    ``accounts``
        more accounts: ``"name:pass[:home]"`` strings, ``(name, pass[, home])``
        tuples or ``{"name", "password", "home"}`` dicts.
    ``anonymous``, ``read_only``
        allow anonymous login; make every account read-only.
    ``faults``
        fault rules active from the start, e.g. ``["STOR reply=452"]``.
    ``fixtures``, ``scenario``, ``root``, ``restore_root``
        a directory copied into the root; a TOML scenario file; the
        directory to serve; snapshot ``root`` so :meth:`reset` restores it.
    ``replay``
        serve a recording made by ``ftpfixture record`` (a directory);
        ``personality`` play vsftpd, proftpd, pure-ftpd, iis or filezilla.
    ``greeting``, ``passive_ports`` (``"A-B"`` or ``(a, b)``),
    ``idle_timeout`` (seconds or ``"30s"``), ``max_sessions``, ``log_level``
        passed to the matching flag.
    ``control_token``
        protect the control API with this bearer token (sent automatically).
    ``extra_args``
        more command-line arguments, appended as given.
    ``binary``
        the binary to run (default: :func:`find_binary`).
    ``startup_timeout``
        seconds to wait for the ready line (default 10).
    ``http_timeout``
        seconds for a control API call (default 10; waits add their own).
    ``env``
        extra environment variables for the process. ``FTPFIXTURE_*``
        variables of this process are *not* passed on, so that the options
        alone decide the server's setup.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. The
    process is stopped at interpreter exit at the latest.
    """

    def __init__(self, **options):
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise TypeError(
                "unknown Server option(s): {} (known: {})".format(", ".join(unknown), ", ".join(sorted(OPTIONS)))
            )
        self.options = dict(options)  # type: Dict[str, Any]
        self.process = None  # type: Optional[subprocess.Popen]
        self.ready = None  # type: Optional[Dict[str, Any]]
        self.args = []  # type: List[str]
        self.host = None  # type: Optional[str]
        self.port = None  # type: Optional[int]
        self.user = None  # type: Optional[str]
        self.password = None  # type: Optional[str]
        self.url = None  # type: Optional[str]
        self.root = None  # type: Optional[str]
        self.tls = None  # type: Optional[str]
        self.ca_file = None  # type: Optional[str]
        self.control_url = None  # type: Optional[str]
        self._token = options.get("control_token")
        self._http_timeout = float(options.get("http_timeout", 10.0))
        self._stderr = _LogTail()
        self._threads = []  # type: List[threading.Thread]
        self._finalizer = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    # -- lifecycle ---------------------------------------------------------

    def command_line(self):
        """The argument list :meth:`start` runs (binary first)."""
        opts = self.options
        binary = opts.get("binary") or find_binary()
        args = [os.fspath(binary), "--port", "0", "--control", "0"]
        tls = opts.get("tls")
        if tls is True:
            tls = "explicit"
        if tls:
            if tls not in ("none", "explicit", "implicit"):
                raise ValueError("tls must be 'none', 'explicit' or 'implicit', not {!r}".format(tls))
            args += ["--tls", tls]
        if opts.get("user") is not None:
            args += ["--user", str(opts["user"])]
        if opts.get("password") is not None:
            args += ["--password", str(opts["password"])]
        for account in _as_list(opts.get("accounts")):
            args += ["--account", _account_arg(account)]
        if opts.get("anonymous"):
            args.append("--anonymous")
        if opts.get("read_only"):
            args.append("--read-only")
        for rule in _as_list(opts.get("faults")):
            args += ["--fault", rule if isinstance(rule, str) else rule["rule"]]
        for key, flag in (
            ("fixtures", "--fixtures"),
            ("scenario", "--scenario"),
            ("root", "--root"),
            ("replay", "--replay"),
        ):
            if opts.get(key) is not None:
                args += [flag, os.fspath(opts[key])]
        if opts.get("restore_root"):
            args.append("--restore-root")
        if opts.get("greeting") is not None:
            args += ["--greeting", str(opts["greeting"])]
        if opts.get("personality") is not None:
            args += ["--personality", str(opts["personality"])]
        ports = opts.get("passive_ports")
        if ports is not None:
            if not isinstance(ports, str):
                first, last = ports
                ports = "{}-{}".format(first, last)
            args += ["--passive-ports", ports]
        if opts.get("idle_timeout") is not None:
            args += ["--idle-timeout", _duration(opts["idle_timeout"])]
        if opts.get("max_sessions") is not None:
            args += ["--max-sessions", str(int(opts["max_sessions"]))]
        if opts.get("log_level") is not None:
            args += ["--log-level", str(opts["log_level"])]
        if self._token:
            args += ["--control-token", str(self._token)]
        args += [os.fspath(a) if not isinstance(a, str) else a for a in _as_list(opts.get("extra_args"))]
        return args

    def start(self):
        """Start the process and wait for its ready line. Returns ``self``.

        Raises :class:`BinaryNotFoundError` if there is no binary and
        :class:`StartError` (with the process's stderr) if it exits or stays
        silent for ``startup_timeout`` seconds.
        """
        if self.process is not None:
            raise RuntimeError("this Server was already started")
        self.args = self.command_line()
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("FTPFIXTURE_")}
        env.update({str(k): str(v) for k, v in (self.options.get("env") or {}).items()})
        try:
            process = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
        except OSError as err:
            raise StartError("cannot run {}: {}".format(self.args[0], err)) from err
        self.process = process
        lines = queue.Queue()  # type: queue.Queue
        out = threading.Thread(target=self._read_stdout, args=(process.stdout, lines), daemon=True,
                               name="ftpfixture-stdout-{}".format(process.pid))
        err = threading.Thread(target=self._read_stderr, args=(process.stderr, self._stderr), daemon=True,
                               name="ftpfixture-stderr-{}".format(process.pid))
        self._threads = [out, err]
        out.start()
        err.start()
        self._finalizer = weakref.finalize(self, _finalize, process, list(self._threads))

        timeout = float(self.options.get("startup_timeout", 10.0))
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = None
            problem = "printed no ready line within {}s".format(timeout)
        else:
            problem = "exited before printing its ready line" if line is None else None
        if line is not None:
            try:
                ready = json.loads(line)
                if not isinstance(ready, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                problem = "printed a ready line that is not a JSON object ({}): {!r}".format(exc, line)
            else:
                if not ready.get("control"):
                    problem = "printed a ready line without a control URL: {!r}".format(line)
                else:
                    self._apply_ready(ready)
                    return self
        self._fail_start(problem)
        raise AssertionError("unreachable")  # pragma: no cover

    def _fail_start(self, problem):
        process = self.process
        if process.poll() is None:
            try:
                process.kill()
            except OSError:
                pass
        process.wait()
        returncode = process.returncode
        for thread in self._threads:
            thread.join(timeout=2)
        self._finalizer.detach()
        self._close_pipes()
        stderr = self.stderr
        message = "ftpfixture {} (command: {}; exit code {})".format(
            problem, " ".join(self.args), returncode
        )
        if stderr.strip():
            message += "\nstderr:\n" + stderr.rstrip("\n")
        raise StartError(message, returncode=returncode, stderr=stderr)

    def _apply_ready(self, ready):
        self.ready = ready
        self.host = ready.get("host")
        self.port = ready.get("port")
        self.user = ready.get("user")
        self.password = ready.get("password")
        self.url = ready.get("url")
        self.root = ready.get("root")
        self.tls = ready.get("tls")
        self.ca_file = ready.get("certificate")
        self.control_url = ready["control"].rstrip("/")

    @staticmethod
    def _read_stdout(stream, lines):
        first = True
        for raw in iter(stream.readline, b""):
            if first:
                lines.put(raw.decode("utf-8", "replace").strip())
                first = False
        if first:
            lines.put(None)

    @staticmethod
    def _read_stderr(stream, sink):
        # A static method: the thread must not keep the Server alive, so
        # that its finalizer can run when it is garbage collected.
        for raw in iter(stream.readline, b""):
            sink.append(raw.decode("utf-8", "replace"))

    def _close_pipes(self):
        for stream in (self.process.stdout, self.process.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    @property
    def stderr(self):
        """The last lines the process wrote to stderr (its log)."""
        return self._stderr.text()

    @property
    def pid(self):
        """The process id (``None`` before :meth:`start`)."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self):
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=5.0):
        """Stop the server: ``POST /shutdown``, wait up to ``timeout`` seconds
        for the exit, then SIGTERM and SIGKILL if needed. The process is always
        reaped. Returns its exit code; calling it again is harmless."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            try:
                self._call("POST", "/shutdown", timeout=min(self._http_timeout, timeout))
            except (ControlError, OSError):
                pass  # falls back to signals below
            _reap(process, timeout)
        for thread in self._threads:
            thread.join(timeout=2)
        self._close_pipes()
        if self._finalizer is not None:
            self._finalizer.detach()
        return process.returncode

    def __enter__(self):
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        state = "running" if self.running else ("stopped" if self.process else "not started")
        return "<ftpfixture.Server {} {} pid={}>".format(self.url or "", state, self.pid)

    def ssl_context(self):
        """An :class:`ssl.SSLContext` that trusts exactly this server's CA
        (TLS servers only)."""
        if not self.ca_file:
            raise FtpfixtureError("this server runs without TLS (start it with tls='explicit' or 'implicit')")
        return ssl.create_default_context(cafile=self.ca_file)

    # -- HTTP ------------------------------------------------------------------

    def _call(self, method, path, query=None, body=None, content_type=None, timeout=None):
        """One control API request. Returns ``(status, content_type, bytes)``;
        raises :class:`ControlError` (or a subclass) for an error status."""
        __tracebackhide__ = True  # pytest: show the caller, not this plumbing
        if self.control_url is None:
            raise FtpfixtureError("the server is not started")
        url = self.control_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            if isinstance(body, (bytes, bytearray, memoryview)):
                data = bytes(body)
                headers["Content-Type"] = content_type or "application/octet-stream"
            elif isinstance(body, str) and content_type:
                data = body.encode("utf-8")
                headers["Content-Type"] = content_type
            else:
                data = json.dumps(body).encode("utf-8")
                headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            data = b""
        if self._token:
            headers["Authorization"] = "Bearer {}".format(self._token)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        shown = path if not query else path + "?" + urllib.parse.urlencode(query)
        try:
            with self._opener.open(request, timeout=timeout or self._http_timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as err:
            payload = err.read()
            try:
                decoded = json.loads(payload.decode("utf-8"))
            except ValueError:
                decoded = None
            if isinstance(decoded, dict) and "error" in decoded:
                text = str(decoded["error"])
            else:
                text = payload.decode("utf-8", "replace").strip() or err.reason
            cls = WaitTimeout if err.code == 408 else ControlError
            raise cls(err.code, text, decoded, method, shown) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise ControlError(None, "control API unreachable at {}: {}".format(self.control_url, reason),
                               None, method, shown) from None

    def _json(self, method, path, query=None, body=None, timeout=None):
        __tracebackhide__ = True
        _, _, payload = self._call(method, path, query=query, body=body, timeout=timeout)
        if not payload:
            return None
        try:
            return json.loads(payload.decode("utf-8"))
        except ValueError:
            raise ControlError(None, "expected JSON, got {!r}".format(payload[:200]), None, method, path) from None

    @staticmethod
    def _file_path(path, directory=False):
        text = os.fspath(path).lstrip("/")
        if directory and text and not text.endswith("/"):
            text += "/"
        return "/files/" + urllib.parse.quote(text, safe="/")

    # -- status ------------------------------------------------------------------

    def status(self):
        """``GET /status``: the ready line plus ``sessions_open``,
        ``sessions_total`` and ``certificate_pem``."""
        return self._json("GET", "/status")

    def reset(self):
        """``POST /reset``: back to the state at start. Open sessions are
        closed (421), the faults are those the server was started with (with
        fresh counts), expectations, the transcript and API-added users are
        gone, session numbering restarts at 1 and the tree is restored.
        Returns the server's answer."""
        return self._json("POST", "/reset")

    # -- faults ------------------------------------------------------------------

    def inject(self, rule):
        """Add a fault rule (text, e.g. ``"RETR#1 drop-data after=1024"``, or
        ``{"rule": ...}``) and return its id; given a list, add them all and
        return the list of ids. A bad rule raises :class:`ControlError` (400)
        whose message points at the problem."""
        if isinstance(rule, (list, tuple)):
            answer = self._json("POST", "/faults", body=[r for r in rule])
            if isinstance(answer, dict):  # tolerate a single object for a one-element list
                answer = [answer]
            return [item["id"] for item in answer]
        body = {"rule": rule} if isinstance(rule, str) else rule
        return self._json("POST", "/faults", body=body)["id"]

    def faults(self):
        """``GET /faults``: ``[{"id", "rule", "fired"}]``."""
        return self._json("GET", "/faults")

    def clear_faults(self):
        """Remove every fault; returns how many were removed."""
        return self._json("DELETE", "/faults").get("removed")

    def remove_fault(self, fault_id):
        """Remove one fault by id (an unknown id raises :class:`ControlError`
        with status 404)."""
        self._json("DELETE", "/faults/{}".format(int(fault_id)))

    # -- transcript ----------------------------------------------------------------

    def transcript(self, session=None):
        """The recorded events as a list of dicts (optionally of one session).
        Control API calls appear as session 0."""
        query = {"session": int(session)} if session is not None else None
        return self._json("GET", "/transcript", query=query)

    def render(self, session=None):
        """The transcript in its text form (``#1 C> USER admin`` ...)."""
        query = {"format": "text"}
        if session is not None:
            query["session"] = int(session)
        _, _, payload = self._call("GET", "/transcript", query=query)
        return payload.decode("utf-8", "replace")

    def clear_transcript(self):
        """Forget the recorded events."""
        self._call("DELETE", "/transcript")

    def _wait(self, query, timeout):
        query = dict(query)
        query["timeout"] = _duration(timeout)
        return self._json("GET", "/transcript/wait", query=query, timeout=float(timeout) + self._http_timeout)

    def wait_for_session_end(self, session, timeout=5.0):
        """Block until session ``session`` has ended; returns the events.
        Raises :class:`WaitTimeout` (with the transcript) after ``timeout``
        seconds."""
        return self._wait({"session_end": int(session)}, timeout)

    def wait_for_command(self, verb, count=1, timeout=5.0):
        """Block until ``count`` commands ``verb`` have arrived; returns the
        events. Raises :class:`WaitTimeout` after ``timeout`` seconds."""
        return self._wait({"command": verb, "count": int(count)}, timeout)

    # -- files -------------------------------------------------------------------------

    def put_file(self, path, data):
        """Write a file into the served tree (parents are created). ``data``
        is bytes or text (UTF-8). Returns ``{"path", "size"}``."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self._json("PUT", self._file_path(path), body=bytes(data))

    def get_file(self, path):
        """The bytes of a file in the served tree (404 -> :class:`ControlError`)."""
        _, _, payload = self._call("GET", self._file_path(path))
        return payload

    def list_dir(self, path="/"):
        """Entries of a directory: ``[{"name", "type", "size"}]``."""
        return self._json("GET", self._file_path(path, directory=True))

    def delete_file(self, path):
        """Delete a file (or a directory with its contents)."""
        self._call("DELETE", self._file_path(path))

    # -- users ---------------------------------------------------------------------------

    def add_user(self, name, password, home=None, read_only=False, chroot=False, own_root=False):
        """Add an account while the server runs (removed again by :meth:`reset`).

        The server's own ``read_only`` and ``chroot`` apply to it as to the
        accounts it started with; its home is made; ``chroot`` confines it to
        the home, ``own_root`` gives it an empty tree of its own."""
        body = {
            "name": name,
            "password": password,
            "read_only": bool(read_only),
            "chroot": bool(chroot),
            "own_root": bool(own_root),
        }
        if home is not None:
            body["home"] = home
        return self._json("POST", "/users", body=body)

    def remove_user(self, name):
        """Remove an account (404 -> :class:`ControlError`)."""
        self._call("DELETE", "/users/{}".format(urllib.parse.quote(name, safe="")))

    # -- expectations ------------------------------------------------------------------------

    def expect(self, command, times=None, at_least=None, at_most=None, never=False, arg=None):
        """Expect ``command`` (a verb) to arrive exactly ``times`` times, at
        least/at most some times, or ``never``; ``arg`` is a glob on its
        argument. Counted as commands arrive; check with :meth:`verify`.
        Returns the server's description (``"STOR: exactly 1 time(s)"``)."""
        body = {"command": command}  # type: Dict[str, Any]
        if times is not None:
            body["times"] = int(times)
        if at_least is not None:
            body["at_least"] = int(at_least)
        if at_most is not None:
            body["at_most"] = int(at_most)
        if never:
            body["never"] = True
        if arg is not None:
            body["arg"] = arg
        answer = self._json("POST", "/expectations", body=body)
        return answer.get("expectation") if isinstance(answer, dict) else answer

    def verify(self):
        """Check the expectations. Raises :class:`VerifyError` (an
        :class:`AssertionError`) listing the unmet ones, with the transcript."""
        __tracebackhide__ = True
        try:
            self._call("GET", "/verify")
        except ControlError as err:
            if err.status == 409 and isinstance(err.body, dict):
                raise VerifyError(
                    err.body.get("unmet", []),
                    err.body.get("transcript", ""),
                    err.body.get("replay", []),
                ) from None
            raise
