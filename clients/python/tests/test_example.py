"""The example from README.md, kept here so that it is known to pass.

An FTP uploader (the code under test) tested against ftpfixture.
"""

import ftplib
import io
import ssl

import pytest


def upload(host, port, user, password, name, data, attempts=3, context=None):
    """The code under test: upload ``data`` as ``name``, retrying on 4xx
    replies; returns the attempt that worked."""
    for attempt in range(1, attempts + 1):
        ftp = ftplib.FTP_TLS(context=context) if context else ftplib.FTP()
        try:
            ftp.connect(host, port, timeout=10)
            ftp.login(user, password)
            if context:
                ftp.prot_p()
            ftp.storbinary("STOR " + name, io.BytesIO(data))
            ftp.quit()
            return attempt
        except ftplib.error_temp:
            ftp.close()
    raise RuntimeError("upload failed after {} attempts".format(attempts))


def test_upload(ftp_server):
    # ftp_server is clean for every test: empty root, no faults, session 1 next.
    assert upload(ftp_server.host, ftp_server.port, ftp_server.user, ftp_server.password,
                  "report.csv", b"a,b\n1,2\n") == 1
    assert ftp_server.get_file("report.csv") == b"a,b\n1,2\n"
    ftp_server.wait_for_session_end(1)  # bounded wait, never sleep
    assert "#1 C> STOR report.csv" in ftp_server.render()


@pytest.mark.ftpfixture(faults=["STOR#1 reply=452"])
def test_upload_retries_when_the_disk_is_full(ftp_server):
    ftp_server.expect("STOR", times=2)
    assert upload(ftp_server.host, ftp_server.port, ftp_server.user, ftp_server.password,
                  "report.csv", b"data") == 2
    ftp_server.verify()  # raises an AssertionError with the transcript if not met


def test_upload_gives_up_after_three_452s(ftp_server):
    ftp_server.inject("STOR reply=452")  # at run time, through the control API
    with pytest.raises(RuntimeError, match="after 3 attempts"):
        upload(ftp_server.host, ftp_server.port, ftp_server.user, ftp_server.password, "x", b"x")
    ftp_server.wait_for_command("STOR", count=3)
    assert ftp_server.list_dir("/") == []


@pytest.mark.ftpfixture(tls="explicit", user="alice", password="wonderland")
def test_upload_over_ftps(ftp_server):
    context = ssl.create_default_context(cafile=ftp_server.ca_file)
    assert upload(ftp_server.host, ftp_server.port, "alice", "wonderland",
                  "secret.txt", b"s3cret", context=context) == 1
    assert ftp_server.get_file("secret.txt") == b"s3cret"
