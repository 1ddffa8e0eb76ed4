"""Per-test cost of the ftpfixture pytest plugin against pytest-localftpserver.

What one test costs the suite, measured side by side in one run
(alternating, medians):

- ftpfixture: ``reset()`` (what the ``ftp_server`` fixture does before each
  test: a clean tree, no faults, session 1 next) + login + one 1 KiB upload
  and download + QUIT;
- pytest-localftpserver's shared server (its ``ftpserver`` fixture: one
  server per session, nothing reset between tests): ``reset_tmp_dirs()`` (its
  own clean-up call) + the same login and transfers.

Run: ``pip install ./clients/python pytest-localftpserver`` then
``python clients/python/bench/per_test_cost.py [ROUNDS]``.
"""

import ftplib
import io
import logging
import statistics
import sys
import time

import ftpfixture

PAYLOAD = bytes(range(256)) * 4


def one_test(host, port, user, password):
    ftp = ftplib.FTP()
    ftp.connect(host, port, timeout=10)
    ftp.login(user, password)
    ftp.storbinary("STOR data.bin", io.BytesIO(PAYLOAD))
    got = io.BytesIO()
    ftp.retrbinary("RETR data.bin", got.write)
    assert got.getvalue() == PAYLOAD
    ftp.quit()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    # pyftpdlib logs every command at INFO; that would be measured too.
    logging.disable(logging.INFO)
    from pytest_localftpserver.servers import PytestLocalFTPServer

    theirs = PytestLocalFTPServer()
    login = theirs.get_login_data()
    with ftpfixture.Server(log_level="error") as ours:
        ours_t, theirs_t = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            ours.reset()
            one_test(ours.host, ours.port, ours.user, ours.password)
            ours_t.append(time.perf_counter() - t)

            t = time.perf_counter()
            theirs.reset_tmp_dirs()
            one_test(login["host"], login["port"], login["user"], login["passwd"])
            theirs_t.append(time.perf_counter() - t)
    theirs.stop()
    a, b = statistics.median(ours_t), statistics.median(theirs_t)
    print(
        "per-test cost (reset + login + 1 KiB up and down), median of {} rounds: "
        "ftpfixture {:.2f} ms, pytest-localftpserver (shared server) {:.2f} ms; "
        "ratio {:.2}".format(rounds, a * 1e3, b * 1e3, a / b)
    )


if __name__ == "__main__":
    main()
