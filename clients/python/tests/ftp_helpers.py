"""ftplib helpers for the tests: clients for plain, explicit and implicit FTPS
servers."""

import ftplib
import os
import ssl


class ImplicitFTP_TLS(ftplib.FTP_TLS):
    """ftplib client for implicit FTPS: TLS from the first byte.

    ftplib only knows explicit FTPS (AUTH TLS); wrapping the control socket
    as soon as ``connect`` creates it is all implicit mode needs. ``login``
    then skips AUTH because the socket is already an SSL socket.
    """

    _sock = None

    @property
    def sock(self):
        return self._sock

    @sock.setter
    def sock(self, value):
        if value is not None and not isinstance(value, ssl.SSLSocket):
            value = self.context.wrap_socket(value, server_hostname=self.host)
        self._sock = value


def open_ftp(server, user=None, password=None, login=True, context=None, timeout=10):
    """An ftplib client connected (and logged in) to ``server``, in the
    server's TLS mode, trusting its CA; data connections protected."""
    if server.tls in ("explicit", "implicit"):
        cls = ImplicitFTP_TLS if server.tls == "implicit" else ftplib.FTP_TLS
        ftp = cls(context=context or server.ssl_context(), timeout=timeout)
    else:
        ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(server.host, server.port)
        if login:
            ftp.login(user or server.user, password or server.password)
            if server.tls in ("explicit", "implicit"):
                ftp.prot_p()
    except BaseException:
        ftp.close()
        raise
    return ftp


def retr(ftp, name):
    """Download ``name`` and return its bytes."""
    chunks = []
    ftp.retrbinary("RETR " + name, chunks.append)
    return b"".join(chunks)


def gone(pid):
    """Whether no process ``pid`` exists (it exited and was reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
