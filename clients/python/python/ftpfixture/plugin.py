"""pytest plugin for ftpfixture (registered through the ``pytest11`` entry point).

Fixtures:

``ftp_server_session`` (session scope)
    one server with the default options per pytest process. Under
    pytest-xdist each worker is its own process, so each worker has its own
    server on its own free ports.
``ftp_server`` (function scope)
    a server that starts every test clean: :meth:`Server.reset` is called
    before the test (files, faults, expectations, transcript, API-added users,
    session numbering). With no marker it is the worker's
    ``ftp_server_session``, so it costs no process start.
``ftpfixture_pool`` (session scope)
    the worker's servers, one per distinct set of options
    (``ftpfixture_pool.get(options)``), all stopped when the session ends.

Marker ``@pytest.mark.ftpfixture(**options)`` gives ``ftp_server`` other
start options (see :class:`ftpfixture.Server`). A server is started for each
distinct set of options and reused, reset, by every test with the same
options. ``faults`` in the marker are injected through the control API after
the reset rather than given at start, so they apply afresh to every test and
need no process of their own. Markers on a class or module apply to its
tests; the closest one wins key by key.

When a test fails, the rendered transcript of each ftpfixture server it used
is added to its report as a section titled ``ftpfixture transcript``.

Command-line option ``--ftpfixture-bin PATH`` names the binary (otherwise
``FTPFIXTURE_BIN``, the bundled binary, then ``PATH``).
"""

import json
import os

import pytest

from . import OPTIONS, FtpfixtureError, Server

__all__ = ["ServerPool", "canonical_options"]

MARKER = "ftpfixture"
SECTION = "ftpfixture transcript"
_ATTR = "_ftpfixture_servers"


def pytest_addoption(parser):
    """``--ftpfixture-bin``: the binary the fixtures run."""
    group = parser.getgroup("ftpfixture", "ftpfixture FTP/FTPS mock server")
    group.addoption(
        "--ftpfixture-bin",
        dest="ftpfixture_bin",
        default=None,
        metavar="PATH",
        help="ftpfixture binary to run (default: $FTPFIXTURE_BIN, the bundled binary, then PATH)",
    )


def pytest_configure(config):
    """Register the ``ftpfixture`` marker."""
    config.addinivalue_line(
        "markers",
        "ftpfixture(**options): start options for the ftp_server fixture "
        "(tls, user, password, accounts, anonymous, read_only, faults, fixtures, "
        "scenario, root, restore_root, greeting, passive_ports, idle_timeout, extra_args, ...); "
        "one server process per distinct set of options, reset before each test",
    )


def _normalize(value):
    """A JSON-able, order-stable form of an option value."""
    if isinstance(value, dict):
        return {str(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "__fspath__"):
        return os.path.abspath(os.fspath(value))
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return repr(value)


def canonical_options(options):
    """The key servers are cached under: the options as sorted JSON (lists
    keep their order: fault rules are order-sensitive). Options whose value
    is ``None`` are left out, so ``tls=None`` shares the default server."""
    cleaned = {k: v for k, v in options.items() if v is not None}
    return json.dumps(_normalize(cleaned), sort_keys=True)


class ServerPool:
    """The servers of one pytest process, one per distinct set of options."""

    def __init__(self, binary=None):
        self.binary = binary
        self._servers = {}

    def get(self, options=None):
        """The running server for ``options``, started on first use (or
        again if it died)."""
        options = dict(options or {})
        key = canonical_options(options)
        server = self._servers.get(key)
        if server is not None and not server.running:
            server.stop()
            server = None
        if server is None:
            if self.binary and "binary" not in options:
                options["binary"] = self.binary
            server = Server(**options).start()
            self._servers[key] = server
        return server

    def servers(self):
        """The servers started so far."""
        return list(self._servers.values())

    def close(self):
        """Stop every server (each one is always reaped)."""
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()


def _marker_options(node):
    """Merge the ``ftpfixture`` markers of a test (closest wins)."""
    options = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            if len(mark.args) == 1 and isinstance(mark.args[0], dict):
                options.update(mark.args[0])
            else:
                raise pytest.UsageError(
                    "@pytest.mark.ftpfixture takes keyword options (or one dict), got {!r}".format(mark.args)
                )
        options.update(mark.kwargs)
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise pytest.UsageError(
            "@pytest.mark.ftpfixture: unknown option(s) {} on {} (known: {})".format(
                ", ".join(unknown), node.nodeid, ", ".join(sorted(OPTIONS))
            )
        )
    return options


def _remember(node, server):
    used = getattr(node, _ATTR, None)
    if used is None:
        used = []
        setattr(node, _ATTR, used)
    if all(s is not server for s in used):
        used.append(server)


@pytest.fixture(scope="session")
def ftpfixture_pool(request):
    """The worker's servers, keyed by options; stopped at session end."""
    pool = ServerPool(binary=request.config.getoption("ftpfixture_bin"))
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def ftp_server_session(ftpfixture_pool):
    """One server with the default options for the whole session (per
    xdist worker). Not reset between tests: use ``ftp_server`` for that."""
    return ftpfixture_pool.get({})


@pytest.fixture
def ftp_server(request, ftpfixture_pool):
    """A clean server for this test: the worker's server for the options of
    the ``ftpfixture`` marker (the default server without one), reset before
    the test; the marker's ``faults`` are injected after the reset."""
    options = _marker_options(request.node)
    faults = options.pop("faults", None)
    server = ftpfixture_pool.get(options)
    _remember(request.node, server)
    server.reset()
    if faults:
        server.inject(list(faults) if isinstance(faults, (list, tuple)) else [faults])
    return server


def _servers_used(item):
    found = list(getattr(item, _ATTR, None) or [])
    for value in (getattr(item, "funcargs", None) or {}).values():
        if isinstance(value, Server) and all(s is not value for s in found):
            found.append(value)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test, attach each used server's rendered transcript."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    servers = _servers_used(item)
    for server in servers:
        try:
            text = server.render() if server.running else "(server not running)"
        except FtpfixtureError as exc:
            text = "(transcript unavailable: {})".format(exc)
        title = SECTION if len(servers) == 1 else "{} ({})".format(SECTION, server.url)
        report.sections.append((title, text.rstrip("\n") or "(no events recorded)"))
