"""Fixtures shared by the test modules."""

import pytest

from ftp_helpers import open_ftp


@pytest.fixture
def ftp_connect():
    """``ftp_connect(server, user=None, password=None, login=True)``: an
    ftplib client; every client is closed after the test."""
    clients = []

    def connect(server, **kwargs):
        ftp = open_ftp(server, **kwargs)
        clients.append(ftp)
        return ftp

    yield connect
    for ftp in clients:
        ftp.close()


@pytest.fixture
def plugin_args(pytestconfig):
    """Arguments an inner ``pytester`` run needs to load the plugin the way
    this run did: nothing when it came from the installed entry point,
    ``-p ftpfixture.plugin`` when running from the source tree."""
    if pytestconfig.pluginmanager.has_plugin("ftpfixture"):
        return []
    return ["-p", "ftpfixture.plugin"]
