#!/usr/bin/env bash
# Stop the ftpfixture that start.sh started: SIGTERM (a graceful stop: open
# sessions get 421, transfers in flight have --shutdown-grace, the transcript
# file is complete), wait for it to be gone, then report the transcript file.
# The logic of the GitHub Action in stop/action.yml, usable anywhere.
#
# Inputs (environment; empty = default):
#   INPUT_PID         the server's pid (default: FTPFIXTURE_PID, or STATE_DIR/state)
#   INPUT_STATE_DIR   the state directory start.sh used (default: FTPFIXTURE_STATE_DIR)
#   INPUT_TRANSCRIPT  the transcript file (default: from the state directory)
#   INPUT_TIMEOUT     seconds to wait after SIGTERM before SIGKILL (default 15)
#   GITHUB_OUTPUT     file to append name=value lines to (optional)
#
# Outputs: transcript (the file, for actions/upload-artifact; empty if
# none) and log-file (the server's stdout and stderr).
# Exits non-zero when the server had already gone (it crashed?) or had to be
# killed, or when there is no transcript file; the log is printed then.
set -euo pipefail

fail() { echo "ftpfixture stop: $*" >&2; exit 1; }

state="${INPUT_STATE_DIR:-${FTPFIXTURE_STATE_DIR:-}}"
pid="${INPUT_PID:-}"
transcript="${INPUT_TRANSCRIPT:-}"
log=""
timeout="${INPUT_TIMEOUT:-15}"
case "$timeout" in ''|*[!0-9]*) fail "timeout must be a number of seconds, not '$timeout'" ;; esac

if [ -n "$state" ] && [ -f "$state/state" ]; then
    saved() { sed -n "s/^$1=//p" "$state/state" | head -1; }
    [ -n "$pid" ] || pid=$(saved pid)
    [ -n "$transcript" ] || transcript=$(saved transcript)
    log=$(saved log)
fi
[ -n "$pid" ] || pid="${FTPFIXTURE_PID:-}"
[ -n "$transcript" ] || transcript="${FTPFIXTURE_TRANSCRIPT_FILE:-}"
[ -n "$pid" ] || fail "no pid: give INPUT_PID, or the state directory (INPUT_STATE_DIR / FTPFIXTURE_STATE_DIR)"
case "$pid" in *[!0-9]*) fail "pid must be a number, not '$pid'" ;; esac

emit() {
    printf '%s=%s\n' "$1" "$2"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"; fi
}
show_log() {
    if [ -n "$log" ] && [ -f "$log" ]; then
        echo "---- ftpfixture's log ($log) ----" >&2
        tail -n 100 "$log" >&2
        echo "----" >&2
    fi
}

# Running, and not a zombie (an exited child nobody has reaped yet).
alive() {
    local st
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)
    if [ -n "$st" ]; then [ "$st" != Z ]; else kill -0 "$1" 2>/dev/null; fi
}

status=0
if ! alive "$pid"; then
    echo "ftpfixture stop: pid $pid is not running: the server had already stopped" >&2
    show_log
    status=1
else
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || echo ftpfixture)
    [ "$comm" = ftpfixture ] || fail "pid $pid is '$comm', not ftpfixture: not stopping it"
    kill -TERM "$pid"
    waited=0
    while alive "$pid"; do
        if [ "$waited" -ge $((timeout * 10)) ]; then
            echo "ftpfixture stop: still running ${timeout}s after SIGTERM: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            show_log
            status=1
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "ftpfixture stop: pid $pid stopped" >&2
fi

emit log-file "$log"
if [ -n "$transcript" ] && [ -f "$transcript" ]; then
    emit transcript "$transcript"
    echo "ftpfixture stop: transcript in $transcript ($(wc -l < "$transcript") lines)" >&2
else
    emit transcript ""
    echo "ftpfixture stop: no transcript file '${transcript}'" >&2
    status=1
fi
exit "$status"
