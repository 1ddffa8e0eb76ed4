#!/usr/bin/env bash
# Create (or reset) the local account and the fixture tree that
# tools/record-personality expects, for recording a real server.
#   user ftptest, password ftptest-pw, home /tmp/ftp-personality/home:
#     readme.txt "hello world\n" 0644, dir/a.txt "aaa\n",
#     ro/ root:root 0755 with ro/locked.txt "locked\n" root:root 0644.
# Needs root. Idempotent: the home is rebuilt from scratch every time.
set -euo pipefail
BASE=${FTP_PERSONALITY_BASE:-/tmp/ftp-personality}
USER_NAME=ftptest
PASSWORD=ftptest-pw
HOME_DIR="$BASE/home"

mkdir -p "$BASE"
chmod 0755 "$BASE"
if ! id "$USER_NAME" >/dev/null 2>&1; then
    # A shell listed in /etc/shells: vsftpd's PAM stack checks pam_shells.
    useradd --no-create-home --home-dir "$HOME_DIR" --shell /bin/bash "$USER_NAME"
fi
usermod --home "$HOME_DIR" "$USER_NAME" >/dev/null 2>&1 || true
echo "$USER_NAME:$PASSWORD" | chpasswd

rm -rf "$HOME_DIR"
install -d -m 0755 -o "$USER_NAME" -g "$USER_NAME" "$HOME_DIR" "$HOME_DIR/dir"
printf 'hello world\n' > "$HOME_DIR/readme.txt"
printf 'aaa\n' > "$HOME_DIR/dir/a.txt"
chown "$USER_NAME:$USER_NAME" "$HOME_DIR/readme.txt" "$HOME_DIR/dir/a.txt"
chmod 0644 "$HOME_DIR/readme.txt" "$HOME_DIR/dir/a.txt"
install -d -m 0755 -o root -g root "$HOME_DIR/ro"
printf 'locked\n' > "$HOME_DIR/ro/locked.txt"
chown root:root "$HOME_DIR/ro/locked.txt"
chmod 0644 "$HOME_DIR/ro/locked.txt"
echo "fixture ready: $HOME_DIR (user $USER_NAME, uid $(id -u $USER_NAME))"
