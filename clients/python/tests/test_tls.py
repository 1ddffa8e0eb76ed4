"""FTPS with ftplib, trusting the server's generated CA (``ca_file``)."""

import ftplib
import io
import os
import ssl

import pytest

from ftp_helpers import ImplicitFTP_TLS, retr


def commands(server, session):
    return [e["line"] for e in server.transcript(session=session) if e.get("event") == "command"]


@pytest.mark.ftpfixture(tls="explicit")
def test_explicit_tls(ftp_server):
    assert ftp_server.tls == "explicit" and os.path.isfile(ftp_server.ca_file)
    with open(ftp_server.ca_file) as f:
        assert f.read().startswith("-----BEGIN CERTIFICATE-----")
    assert ftp_server.status()["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    ftp_server.put_file("secret.txt", b"top secret")

    context = ssl.create_default_context(cafile=ftp_server.ca_file)
    ftp = ftplib.FTP_TLS(context=context, timeout=10)
    ftp.connect(ftp_server.host, ftp_server.port)
    ftp.login(ftp_server.user, ftp_server.password)  # sends AUTH TLS first
    assert isinstance(ftp.sock, ssl.SSLSocket)
    ftp.prot_p()
    assert retr(ftp, "secret.txt") == b"top secret"
    ftp.storbinary("STOR up.txt", io.BytesIO(b"uploaded over TLS"))
    ftp.quit()

    ftp_server.wait_for_session_end(1)
    assert ftp_server.get_file("up.txt") == b"uploaded over TLS"
    lines = commands(ftp_server, 1)
    assert lines[0] == "AUTH TLS" and "PROT P" in lines


@pytest.mark.ftpfixture(tls="explicit")
def test_explicit_tls_untrusted_ca_is_refused(ftp_server):
    ftp = ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=10)  # system CAs only
    ftp.connect(ftp_server.host, ftp_server.port)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            ftp.login(ftp_server.user, ftp_server.password)
    finally:
        ftp.close()


@pytest.mark.ftpfixture(tls="implicit")
def test_implicit_tls(ftp_server):
    assert ftp_server.tls == "implicit"
    ftp_server.put_file("report.csv", "a,b\n1,2\n")
    ftp = ImplicitFTP_TLS(context=ftp_server.ssl_context(), timeout=10)
    ftp.connect(ftp_server.host, ftp_server.port)
    assert isinstance(ftp.sock, ssl.SSLSocket)
    assert ftp.getwelcome().startswith("220")
    ftp.login(ftp_server.user, ftp_server.password)  # no AUTH: already TLS
    ftp.prot_p()
    assert retr(ftp, "report.csv") == b"a,b\n1,2\n"
    ftp.quit()
    ftp_server.wait_for_session_end(1)
    lines = commands(ftp_server, 1)
    assert "AUTH TLS" not in lines and lines[0] == "USER admin"


def test_plain_server_has_no_ssl_context(ftp_server):
    assert ftp_server.ca_file is None
    with pytest.raises(Exception, match="without TLS"):
        ftp_server.ssl_context()
