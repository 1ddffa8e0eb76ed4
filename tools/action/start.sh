#!/usr/bin/env bash
# Start ftpfixture in the background for a CI job: the logic of the GitHub
# Action in action.yml, usable anywhere (GitLab CI, a shell) since it reads
# only environment variables and writes only files.
#
# Inputs (environment; empty = default):
#   INPUT_VERSION    the ftpfixture wheel on PyPI to install: "latest" (default) or a version
#   INPUT_WHEEL      a wheel file to install instead of PyPI's
#   INPUT_BINARY     an ftpfixture binary to run as it is (no install; e.g. from cargo install)
#   INPUT_PYTHON     the Python that makes the venv the wheel goes into (default python3)
#   INPUT_TLS        none (default), explicit or implicit
#   INPUT_PERSONALITY  ftpfixture, vsftpd, proftpd, pure-ftpd, iis, filezilla
#   INPUT_FAULTS     fault rules, one a line
#   INPUT_SCENARIO   a TOML scenario file
#   INPUT_FIXTURES   a directory copied into the served root
#   INPUT_CONTROL    true (default) or false: the HTTP control API on a free port
#   INPUT_PORT       the FTP control port (default 0: a free one)
#   INPUT_USER, INPUT_PASSWORD   the main account (default admin / 123456)
#   INPUT_ARGS       more ftpfixture arguments, one a line (e.g. --read-only)
#   INPUT_TRANSCRIPT the transcript file (default: STATE_DIR/transcript.jsonl)
#   INPUT_TRANSCRIPT_FORMAT  jsonl (default; written as events happen) or text (written at exit)
#   INPUT_STATE_DIR  where the venv, ready file, CA file and log go
#                    (default: a new directory in $RUNNER_TEMP, or TMPDIR, or /tmp)
#   INPUT_TIMEOUT    seconds to wait for the ready line (default 60)
#   INPUT_EXPORT_ENV true (default) or false: also write FTPFIXTURE_* to GITHUB_ENV
#   GITHUB_OUTPUT, GITHUB_ENV   files to append name=value lines to (optional)
#
# Outputs (to GITHUB_OUTPUT, and as FTPFIXTURE_* to GITHUB_ENV; always printed):
#   host port user password url control-url ca-file pid transcript ready-file
#   state-dir log-file binary
#   FTPFIXTURE_HOST _PORT _USER _PASSWORD _URL _CONTROL_URL _CA_FILE _PID
#   _TRANSCRIPT_FILE _STATE_DIR
# (FTPFIXTURE_PORT, _USER and _PASSWORD are also flags' variables of the
# ftpfixture CLI: a later `ftpfixture` run in the same job takes them as its
# defaults unless it is given --port/--user/--password or they are unset.)
set -euo pipefail

fail() { echo "ftpfixture start: $*" >&2; exit 1; }

version="${INPUT_VERSION:-latest}"
tls="${INPUT_TLS:-none}"
control="${INPUT_CONTROL:-true}"
port="${INPUT_PORT:-0}"
timeout="${INPUT_TIMEOUT:-60}"
export_env="${INPUT_EXPORT_ENV:-true}"
format="${INPUT_TRANSCRIPT_FORMAT:-jsonl}"

case "$tls" in none|explicit|implicit) ;; *) fail "tls must be none, explicit or implicit, not '$tls'" ;; esac
case "$control" in true|false) ;; *) fail "control must be true or false, not '$control'" ;; esac
case "$export_env" in true|false) ;; *) fail "export-env must be true or false, not '$export_env'" ;; esac
case "$format" in jsonl|text) ;; *) fail "transcript-format must be jsonl or text, not '$format'" ;; esac
case "$port" in ''|*[!0-9]*) fail "port must be a number, not '$port'" ;; esac
case "$timeout" in ''|*[!0-9]*) fail "timeout must be a number of seconds, not '$timeout'" ;; esac

state="${INPUT_STATE_DIR:-}"
if [ -z "$state" ]; then
    # A directory of its own for each start: a job may start two servers.
    state=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ftpfixture.XXXXXX")
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
ready="$state/ready.json"
log="$state/server.log"
transcript="${INPUT_TRANSCRIPT:-$state/transcript.$format}"
case "$transcript" in /*) ;; *) transcript="$PWD/$transcript" ;; esac
rm -f "$ready"

# The binary: as given, or from the wheel installed into a venv of its own
# (never the system's Python: Debian's and Ubuntu's refuse pip installs).
if [ -n "${INPUT_BINARY:-}" ]; then
    binary="$INPUT_BINARY"
    [ -x "$binary" ] || fail "binary '$binary' is not an executable file"
    case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
else
    python="${INPUT_PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 || fail "no $python to install the wheel with (give binary: instead)"
    venv="$state/venv"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" || fail "$python -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    if [ -n "${INPUT_WHEEL:-}" ]; then
        [ -f "$INPUT_WHEEL" ] || fail "wheel '$INPUT_WHEEL' is not a file"
        spec="$INPUT_WHEEL"
    elif [ "$version" = "latest" ]; then
        spec="ftpfixture"
    else
        spec="ftpfixture==$version"
    fi
    echo "ftpfixture start: pip install $spec" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" ||
        fail "pip install $spec failed"
    binary="$venv/bin/ftpfixture"
    [ -x "$binary" ] || fail "the wheel installed no $binary"
fi
echo "ftpfixture start: $("$binary" --version)" >&2

args=(--port "$port" --ready-file "$ready" --transcript "$transcript" --transcript-format "$format")
if [ "$control" = true ]; then args+=(--control 0); fi
if [ "$tls" != none ]; then
    args+=(--tls "$tls" --cert-out "$state/ca.pem")
fi
if [ -n "${INPUT_PERSONALITY:-}" ]; then args+=(--personality "$INPUT_PERSONALITY"); fi
if [ -n "${INPUT_SCENARIO:-}" ]; then args+=(--scenario "$INPUT_SCENARIO"); fi
if [ -n "${INPUT_FIXTURES:-}" ]; then args+=(--fixtures "$INPUT_FIXTURES"); fi
if [ -n "${INPUT_USER:-}" ]; then args+=(--user "$INPUT_USER"); fi
if [ -n "${INPUT_PASSWORD:-}" ]; then args+=(--password "$INPUT_PASSWORD"); fi
while IFS= read -r rule; do
    rule="${rule#"${rule%%[![:space:]]*}"}"; rule="${rule%"${rule##*[![:space:]]}"}"
    if [ -n "$rule" ]; then args+=(--fault "$rule"); fi
done <<< "${INPUT_FAULTS:-}"
while IFS= read -r arg; do
    arg="${arg#"${arg%%[![:space:]]*}"}"; arg="${arg%"${arg##*[![:space:]]}"}"
    if [ -n "$arg" ]; then args+=("$arg"); fi
done <<< "${INPUT_ARGS:-}"

# The server sees only its arguments: no FTPFIXTURE_* of the job (those of
# an earlier start included) changes its setup.
unset_vars=()
for v in $(compgen -e | grep '^FTPFIXTURE_' || true); do unset_vars+=(-u "$v"); done

# In the background, out of this step's session: it outlives the step and
# the job's later steps talk to it; stop.sh (or the job's end) stops it.
setsid env "${unset_vars[@]}" "$binary" "${args[@]}" </dev/null >"$log" 2>&1 &
pid=$!

waited=0
until [ -s "$ready" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$log" >&2
        fail "ftpfixture exited before it was ready (its log is above)"
    fi
    if [ "$waited" -ge $((timeout * 10)) ]; then
        cat "$log" >&2
        kill -TERM "$pid" 2>/dev/null || true
        fail "no ready line after ${timeout}s (the log is above)"
    fi
    sleep 0.1
    waited=$((waited + 1))
done

# The ready line (one JSON object; the file is written atomically), read
# once: KEY=VALUE lines of its strings and numbers (null: empty).
ready_values=""
for py in "${venv:+$venv/bin/python}" python3 python; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    ready_values=$("$py" -c 'import json,sys
for k, v in json.load(open(sys.argv[1])).items():
    print("%s=%s" % (k, "" if v is None else v))' "$ready") || fail "cannot read the ready line in $ready"
    break
done
if [ -z "$ready_values" ]; then
    # No Python (binary: given on a minimal image): a flat object of strings,
    # numbers and nulls is all the ready line is.
    ready_values=$(sed 's/^{//; s/}$//; s/,"/\n"/g' "$ready" | sed 's/^"\([^"]*\)":"\{0,1\}\([^"]*\)"\{0,1\}$/\1=\2/; s/=null$/=/')
fi
read_key() { printf '%s\n' "$ready_values" | sed -n "s/^$1=//p" | head -1; }
host=$(read_key host)
port=$(read_key port)
user=$(read_key user)
password=$(read_key password)
url=$(read_key url)
control_url=$(read_key control)
ca_file=$(read_key certificate)
# TLS from a scenario file (tls: none here): no --cert-out was given, but the
# control API hands out the certificate.
if [ -z "$ca_file" ] && [ "$(read_key tls)" != none ] && [ -n "$control_url" ]; then
    if "${venv:+$venv/bin/}python3" - "$control_url/status" "$state/ca.pem" <<'EOF'
import json, sys, urllib.request
pem = json.load(urllib.request.urlopen(sys.argv[1], timeout=10)).get("certificate_pem")
if not pem:
    sys.exit(1)
open(sys.argv[2], "w").write(pem)
EOF
    then ca_file="$state/ca.pem"; fi
fi

emit() {  # name value: GITHUB_OUTPUT line and stdout
    printf '%s=%s\n' "$1" "$2"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"; fi
}
emit_env() {
    if [ "$export_env" = true ] && [ -n "${GITHUB_ENV:-}" ]; then printf '%s=%s\n' "$1" "$2" >> "$GITHUB_ENV"; fi
}
emit host "$host";                 emit_env FTPFIXTURE_HOST "$host"
emit port "$port";                 emit_env FTPFIXTURE_PORT "$port"
emit user "$user";                 emit_env FTPFIXTURE_USER "$user"
emit password "$password";         emit_env FTPFIXTURE_PASSWORD "$password"
emit url "$url";                   emit_env FTPFIXTURE_URL "$url"
emit control-url "$control_url";   emit_env FTPFIXTURE_CONTROL_URL "$control_url"
emit ca-file "$ca_file";           emit_env FTPFIXTURE_CA_FILE "$ca_file"
emit pid "$pid";                   emit_env FTPFIXTURE_PID "$pid"
emit transcript "$transcript";     emit_env FTPFIXTURE_TRANSCRIPT_FILE "$transcript"
emit state-dir "$state";           emit_env FTPFIXTURE_STATE_DIR "$state"
emit ready-file "$ready"
emit log-file "$log"
emit binary "$binary"

# For stop.sh, wherever it runs from.
{
    printf 'pid=%s\n' "$pid"
    printf 'transcript=%s\n' "$transcript"
    printf 'log=%s\n' "$log"
} > "$state/state"

echo "ftpfixture start: listening on $url (pid $pid)${control_url:+, control API at $control_url}" >&2
