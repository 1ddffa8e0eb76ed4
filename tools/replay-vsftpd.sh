#!/usr/bin/env bash
# Records a real vsftpd 3.0.3 (Debian's) through `ftpfixture record`, in
# plain FTP and in explicit FTPS, replays each recording with
# `ftpfixture --replay`, and checks that Python's ftplib sees the same
# replies and bytes (passive addresses aside), that a command the
# recording does not hold gets a reply naming it, and that no file of the
# recording holds the password.
#
#   tools/replay-vsftpd.sh [path/to/ftpfixture]
#
# Needs root (vsftpd runs as root and logs a local user in through PAM),
# Debian's package lists (apt-get download vsftpd, unpacked with dpkg -x,
# so it does not conflict with another FTP server's package) and openssl.
# Loopback only: vsftpd listens on 127.0.0.1:2124, the proxy and the replay
# on free ports. Prints one line per check and exits non-zero on the first
# that fails. Takes about 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/ftpfixture}
[ -x "$BIN" ] || cargo build --release --bin ftpfixture
WORK=/tmp/ftpfixture-replay-vsftpd
USER_NAME=ftpreplay
PASSWORD='replay-Secret-7'
# Whatever this script started stops with it, even when a check fails.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
rm -rf "$WORK"
mkdir -p "$WORK/pkg" "$WORK/home" /var/run/vsftpd/empty
chmod 0755 "$WORK"

if [ ! -x "$WORK/pkg/usr/sbin/vsftpd" ]; then
    (cd "$WORK" && apt-get download vsftpd >/dev/null 2>&1) || {
        apt-get update -qq && (cd "$WORK" && apt-get download vsftpd >/dev/null)
    }
    dpkg -x "$WORK"/vsftpd_*.deb "$WORK/pkg"
fi
VERSION=$(dpkg-deb -f "$WORK"/vsftpd_*.deb Version)
# vsftpd's PAM service (a conffile of the package; write it if absent).
[ -f /etc/pam.d/vsftpd ] || cp "$WORK/pkg/etc/pam.d/vsftpd" /etc/pam.d/vsftpd

id "$USER_NAME" >/dev/null 2>&1 || useradd --no-create-home --home-dir "$WORK/home" --shell /bin/bash "$USER_NAME"
usermod --home "$WORK/home" "$USER_NAME" >/dev/null 2>&1 || true
echo "$USER_NAME:$PASSWORD" | chpasswd
chown "$USER_NAME:$USER_NAME" "$WORK/home"
printf 'hello world\n' > "$WORK/home/readme.txt"
head -c 300000 /dev/urandom > "$WORK/home/blob.bin"
chown "$USER_NAME:$USER_NAME" "$WORK/home"/*

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

conf() { # $1: ssl_enable
    cat > "$WORK/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=2124
background=NO
write_enable=YES
local_umask=022
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=30400
pasv_max_port=30499
connect_from_port_20=NO
dirmessage_enable=NO
anonymous_enable=NO
local_enable=YES
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
rsa_cert_file=$WORK/cert.pem
rsa_private_key_file=$WORK/key.pem
ssl_enable=$1
vsftpd_log_file=$WORK/vsftpd.log
EOF
}

CLIENT='
import ftplib, hashlib, io, re, sys
port, password = int(sys.argv[1]), sys.argv[2]
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", port, timeout=20)
out = [ftp.getwelcome(), ftp.login("'$USER_NAME'", password), ftp.sendcmd("SYST"), ftp.pwd(),
       ftp.sendcmd("FEAT"), ftp.sendcmd("TYPE I"), ftp.sendcmd("SIZE blob.bin")]
data = []
out.append(ftp.retrbinary("RETR blob.bin", data.append))
out.append("blob: %d bytes, sha256 %s" % (len(b"".join(data)), hashlib.sha256(b"".join(data)).hexdigest()))
lines = []
out.append(ftp.retrlines("LIST", lines.append))
out.append("listing: %d lines" % len(lines))
out.append(ftp.storbinary("STOR up.bin", io.BytesIO(b"x" * 70000)))
try:
    ftp.sendcmd("SIZE missing.txt")
except ftplib.error_perm as e:
    out.append("error: %s" % e)
out.append(ftp.sendcmd("DELE up.bin"))
out.append(ftp.quit())
for line in out:
    print(re.sub(r"\(\|\|\|\d+\|\)|\(\d+,\d+,\d+,\d+,\d+,\d+\)", "(<addr>)", line))
'

check() {
    local tls=$1 name=$2
    conf "$([ "$tls" = explicit ] && echo YES || echo NO)"
    "$WORK/pkg/usr/sbin/vsftpd" "$WORK/vsftpd.conf" &
    local vs=$!
    sleep 1
    rm -rf "$WORK/rec-$name"
    local tls_args=()
    [ "$tls" = explicit ] && tls_args=(--upstream-tls explicit --upstream-ca "$WORK/cert.pem")
    "$BIN" record --port 0 --upstream 127.0.0.1:2124 --out "$WORK/rec-$name" \
        --ready-file "$WORK/proxy-ready" --log-level warn "${tls_args[@]}" >/dev/null 2>"$WORK/proxy.log" &
    local px=$!
    for _ in $(seq 50); do [ -s "$WORK/proxy-ready" ] && break; sleep 0.1; done
    local pport
    pport=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/proxy-ready")
    python3 -c "$CLIENT" "$pport" "$PASSWORD" > "$WORK/through-$name.txt"
    kill "$px" "$vs"; wait "$px" "$vs" 2>/dev/null || true
    rm -f "$WORK/proxy-ready"

    "$BIN" --port 0 --replay "$WORK/rec-$name" --ready-file "$WORK/replay-ready" --log-level warn >/dev/null 2>"$WORK/replay.log" &
    local rp=$!
    for _ in $(seq 50); do [ -s "$WORK/replay-ready" ] && break; sleep 0.1; done
    local rport
    rport=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/replay-ready")
    python3 -c "$CLIENT" "$rport" "not the password" > "$WORK/replayed-$name.txt"
    local miss
    miss=$(python3 - "$rport" <<'EOF'
import ftplib, sys
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", int(sys.argv[1]), timeout=10)
ftp.login("ftpreplay", "x")
try:
    ftp.sendcmd("MKD not-recorded")
except ftplib.error_perm as e:
    print(e)
EOF
)
    kill "$rp"; wait "$rp" 2>/dev/null || true
    rm -f "$WORK/replay-ready"

    diff -u "$WORK/through-$name.txt" "$WORK/replayed-$name.txt"
    echo "ok: vsftpd $VERSION, $name: the replay answered $(wc -l < "$WORK/replayed-$name.txt") lines as vsftpd did"
    case "$miss" in
        *'Replay miss: "MKD not-recorded"'*) echo "ok: $name: a command not recorded gets: $miss" ;;
        *) echo "FAIL: $name: the miss reply was: $miss"; exit 1 ;;
    esac
    if grep -rq -- "$PASSWORD" "$WORK/rec-$name"; then
        echo "FAIL: $name: the password is in the recording"; exit 1
    fi
    echo "ok: $name: no file of the recording holds the password"
    grep -q "^= download 300000 data/" "$WORK/rec-$name/sessions/0001.txt"
    echo "ok: $name: the 300000-byte download is in the recording"
}

check plain plain
check explicit ftps
