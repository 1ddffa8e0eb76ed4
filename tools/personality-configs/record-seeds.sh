#!/usr/bin/env bash
# Record the differential tester's seeds from a real server, each twice, and
# check that both recordings of every seed are identical.
#
#   tools/personality-configs/record-seeds.sh SERVER [VARIANT] [SEEDS]
#
# SERVER   vsftpd | proftpd | pure-ftpd (its Debian package installed; they
#          conflict, so one at a time: apt-get install -y vsftpd |
#          proftpd-basic | pure-ftpd)
# VARIANT  plain (default: the config of record.sh) or an option, recorded
#          into fixtures/personalities/SERVER/options/VARIANT/:
#            vsftpd:    ssl_enable=YES, utf8_filesystem=YES, hide_ids=YES
#            proftpd:   TLSEngine=on
#            pure-ftpd: TLS=1
#          The TLS variants run the TLS flavour of the grammar (difftest
#          --tls; files tls-seed-N.txt), with a self-signed certificate made
#          here under /tmp/ftp-personality/tls.
# SEEDS    default 1-30 for plain, 1-3 for a variant. Never 1000-1009: those
#          are held out (difftest refuses them), unless HELD_OUT_DIR is set:
#          then the held-out seeds are recorded there (outside the repo, so
#          that they stay out of the fitting set), to measure how well the
#          personalities hold on conversations they were not fitted to.
#
# Like record.sh: rebuilds the account and tree (setup-fixture.sh), starts
# the daemon in the foreground on 127.0.0.1 from the config beside this
# script, runs `tools/difftest record-many --twice` with setup-fixture.sh as
# the reset command (the tree is rebuilt before every recording), stops the
# daemon (only the pid it started). Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
server="${1:?usage: record-seeds.sh vsftpd|proftpd|pure-ftpd [VARIANT] [SEEDS]}"
variant="${2:-plain}"
if [ "$variant" = plain ]; then seeds="${3:-1-30}"; else seeds="${3:-1-3}"; fi
base=/tmp/ftp-personality
user=ftptest
password=ftptest-pw
tls=()
prefix=""

make_cert() {
    mkdir -p "$base/tls"
    if [ ! -s "$base/tls/cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
            -keyout "$base/tls/key.pem" -out "$base/tls/cert.pem" 2>/dev/null
        cat "$base/tls/key.pem" "$base/tls/cert.pem" > "$base/tls/both.pem"
        chmod 0600 "$base/tls/key.pem" "$base/tls/both.pem"
    fi
}

case "$server:$variant" in
vsftpd:plain) config=vsftpd/vsftpd.conf ;;
vsftpd:ssl_enable=YES) config=vsftpd/vsftpd.ssl_enable=YES.conf; tls=(--tls); make_cert ;;
vsftpd:utf8_filesystem=YES) config=vsftpd/vsftpd.utf8_filesystem=YES.conf ;;
vsftpd:hide_ids=YES) config=vsftpd/vsftpd.hide_ids=YES.conf ;;
proftpd:plain) config=proftpd/proftpd.conf ;;
proftpd:TLSEngine=on) config=proftpd/proftpd.TLSEngine=on.conf; tls=(--tls); make_cert ;;
pure-ftpd:plain) config=pure-ftpd/pure-ftpd.args ;;
pure-ftpd:TLS=1) config=pure-ftpd/pure-ftpd.TLS=1.args; tls=(--tls); make_cert ;;
*) echo "unknown server or variant: $server $variant" >&2; exit 2 ;;
esac
if [ ${#tls[@]} -gt 0 ]; then prefix=tls-; fi

case "$server" in
vsftpd)
    pkg=vsftpd port=2121
    start() { mkdir -p /var/run/vsftpd/empty; exec vsftpd "$here/$config"; }
    ;;
proftpd)
    pkg=proftpd-basic port=2122
    start() { exec proftpd --nodaemon --config "$here/$config"; }
    ;;
pure-ftpd)
    pkg=pure-ftpd port=2123
    start() { exec pure-ftpd $(grep -v '^#' "$here/$config"); }
    ;;
esac

# Installed ("ii"), not only known: a removed package keeps its version.
version="$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$pkg" 2>/dev/null || true)"
case "$version" in ii*) version="$(echo "${version#ii}" | tr -d ' ')" ;; *) version="" ;; esac
if [ -z "$version" ]; then
    echo "$pkg is not installed: apt-get install -y $pkg" >&2
    exit 2
fi
if [ "$variant" = plain ]; then
    out="fixtures/personalities/$server"
else
    out="fixtures/personalities/$server/options/$variant"
fi

"$here/setup-fixture.sh" >/dev/null
mkdir -p "$base/$server"
start >"$base/$server/daemon.out" 2>&1 &
pid=$!
trap 'sleep 1; kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; then break; fi
    sleep 0.2
done

cd "$repo"
mkdir -p "$out" "$base/$server/second"
# Files named like the ones recorded here: other seeds' files are kept.
status=0
held=()
if [ -n "${HELD_OUT_DIR:-}" ]; then
    out="$HELD_OUT_DIR/$server"
    held=(--allow-held-out)
fi
tools/difftest record-many --seeds "$seeds" "${tls[@]}" "${held[@]}" --prefix "$prefix" --out-dir "$out" --twice \
    --second-dir "$base/$server/second" \
    --host 127.0.0.1 --port "$port" --user "$user" --password "$password" --root "$base/home" \
    --reset-cmd "tools/personality-configs/setup-fixture.sh" \
    --comment "Server: $server, Debian package $pkg $version (dpkg-query -W $pkg), Debian $(cat /etc/debian_version), on 127.0.0.1:$port" \
    --comment "Recorded: $(date -u +%Y-%m-%d) with tools/personality-configs/record-seeds.sh $server $variant $seeds (each seed recorded twice and compared)" \
    --comment "Config: tools/personality-configs/$config (variant: $variant)" \
    --comment "Account: $user, home $base/home rebuilt by setup-fixture.sh before each recording, chrooted so / is the fixture tree; ro/ root:root 0755" \
    --comment "Compare without the lines starting with '#': tools/difftest diff" || status=$?
exit $status
