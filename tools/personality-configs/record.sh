#!/usr/bin/env bash
# Record fixtures/personalities/SERVER.txt from a real server, twice, and
# check that both recordings are identical.
#
#   tools/personality-configs/record.sh vsftpd|proftpd|pure-ftpd [OUT]
#
# Needs root and the server's Debian package installed (they conflict with
# each other, so one at a time): apt-get install -y vsftpd | proftpd-basic |
# pure-ftpd. Rebuilds the fixture account and tree (setup-fixture.sh), starts
# the daemon in the foreground from the config beside this script, on
# 127.0.0.1 only, runs tools/record-personality, stops the daemon.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
server="${1:?usage: record.sh vsftpd|proftpd|pure-ftpd [OUT]}"
out="${2:-$repo/fixtures/personalities/$server.txt}"
base=/tmp/ftp-personality
user=ftptest
password=ftptest-pw

case "$server" in
vsftpd)
    pkg=vsftpd port=2121
    config="tools/personality-configs/vsftpd/vsftpd.conf"
    settings="Debian's vsftpd.conf plus listen=YES on 127.0.0.1:2121, background=NO, write_enable=YES, local_umask=022, chroot_local_user=YES, allow_writeable_chroot=YES, pasv_address=127.0.0.1, pasv ports 30000-30099, dirmessage_enable=NO (use_localtime=YES, hide_ids=NO, ssl_enable=NO as in Debian)"
    start() { mkdir -p /var/run/vsftpd/empty; exec vsftpd "$repo/$config"; }
    ;;
proftpd)
    pkg=proftpd-basic port=2122
    config="tools/personality-configs/proftpd/proftpd.conf"
    settings="Debian's proftpd.conf plus Port 2122, DefaultAddress 127.0.0.1 with SocketBindTight on, UseIPv6 off, DefaultRoot ~, PassivePorts 30100-30199, pid/scoreboard/logs in $base/proftpd (ServerName \"Debian\", AllowOverwrite on, ListOptions -l, Umask 022 as in Debian)"
    start() { exec proftpd --nodaemon --config "$repo/$config"; }
    ;;
pure-ftpd)
    pkg=pure-ftpd port=2123
    config="tools/personality-configs/pure-ftpd/pure-ftpd.args"
    settings="pure-ftpd run directly with the options in pure-ftpd.args: $(grep -v '^#' "$here/pure-ftpd/pure-ftpd.args" | tr '\n' ' ' | sed 's/ $//')"
    start() { exec pure-ftpd $(grep -v '^#' "$here/pure-ftpd/pure-ftpd.args"); }
    ;;
*) echo "unknown server: $server" >&2; exit 2 ;;
esac

version="$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)"
if [ -z "$version" ]; then
    echo "$pkg is not installed: apt-get install -y $pkg" >&2
    exit 2
fi

"$here/setup-fixture.sh"
mkdir -p "$base/$server"
tree_state() { (cd "$base/home" && find . -printf '%p %M %u:%g %s\n' | sort); }
before="$(tree_state)"

start >"$base/$server/daemon.out" 2>&1 &
pid=$!
trap 'sleep 1; kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; then break; fi
    sleep 0.2
done

cmd="tools/record-personality --host 127.0.0.1 --port $port --user $user --password $password --root $base/home --out fixtures/personalities/$server.txt"
header=(
    --comment "Personality transcript of $server, recorded from the real server."
    --comment "Server: $server, Debian package $pkg $version (dpkg -s $pkg), Debian $(cat /etc/debian_version)"
    --comment "Recorded: $(date -u +%Y-%m-%d) with tools/personality-configs/record.sh $server"
    --comment "Config: $config"
    --comment "Settings: $settings"
    --comment "Account: $user, home $base/home, chrooted so / is the fixture tree; ro/ root:root 0755"
    --comment "Command: $cmd (plus these --comment lines)"
    --comment "Compare without the lines starting with '#'; the format is described in tools/record-personality --help."
)
cd "$repo"
mkdir -p "$(dirname "$out")"
tools/record-personality --host 127.0.0.1 --port $port --user $user --password $password --root "$base/home" "${header[@]}" --out "$out"
after1="$(tree_state)"
tools/record-personality --host 127.0.0.1 --port $port --user $user --password $password --root "$base/home" "${header[@]}" --out "$base/$server/second.txt"
after2="$(tree_state)"

status=0
if ! diff -u "$out" "$base/$server/second.txt"; then
    echo "NOT DETERMINISTIC: the two recordings differ" >&2; status=1
fi
if [ "$before" != "$after1" ] || [ "$before" != "$after2" ]; then
    echo "the fixture tree changed during the run:" >&2
    diff <(echo "$before") <(echo "$after2") >&2 || true
    status=1
fi
echo "recorded $out ($(grep -vc '^#' "$out") lines); second run identical: $([ $status = 0 ] && echo yes || echo no)"
exit $status
