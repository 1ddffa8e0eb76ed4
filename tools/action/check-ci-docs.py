#!/usr/bin/env python3
"""Run every example of docs/ci.md as its CI system would; tools/test-action
calls it with the Python of its check-jsonschema venv (ruamel.yaml).

  check-ci-docs.py --repo REPO --binary BIN --wheel WHEEL --work DIR --check-jsonschema EXE

Every fenced code block of the page must be one of:
  ```yaml  a GitHub workflow (has `jobs:`): validated against GitHub's schema,
           the inputs/outputs it names checked against action.yml and
           stop/action.yml, then each job run step by step as a runner would;
  ```yaml  the GitLab template (has `.ftpfixture:`): validated against
           GitLab's schema, then before_script + script in one shell and
           after_script in another, as GitLab's bash runner does;
  ```toml  a file the examples use, its path on the first line as a comment;
  ```sh    a script: run with sh.
Anything else is an example no test runs: an error. The page's tables of
the actions' inputs, defaults and outputs must match the metadata.

The test command of each example (`pytest`, `npm test`) is replaced by a
check written here: curl against the server (over TLS when the example has
TLS), the example's faults met, the scenario's files read, the personality's
greeting seen. Install steps (`pip install`, `cargo install`, `npm ci`,
`pipx install`) are left out: the binary under test is on PATH, and the
action's `version:` becomes `binary:`.
"""
import argparse
import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import threading
import tomllib

from ruamel.yaml import YAML

yaml = YAML(typ="safe")
T0 = time.monotonic()

GREETINGS = {
    "vsftpd": "(vsFTPd",
    "proftpd": "ProFTPD",
    "pure-ftpd": "Pure-FTPd",
    "iis": "Microsoft FTP Service",
    "filezilla": "FileZilla Server",
}
TEST_COMMAND = re.compile(r"\b(pytest|npm test)\b")
INSTALL_ONLY = re.compile(r"^\s*((pip|pipx|cargo) install|npm ci)\b[^;&|]*$")

CHECK_SH = r"""
set -euo pipefail
fail() { echo "check: $*" >&2; exit 1; }
port="${FTPFIXTURE_PORT:-${FTP_PORT:-}}"
[ -n "$port" ] || fail "neither FTPFIXTURE_PORT nor FTP_PORT is set"
if [ -n "${FTP_PORT:-}" ] && [ -n "${FTPFIXTURE_PORT:-}" ] && [ "$FTP_PORT" != "$FTPFIXTURE_PORT" ]; then
    fail "FTP_PORT=$FTP_PORT but FTPFIXTURE_PORT=$FTPFIXTURE_PORT"
fi
if [ -n "${FTPFIXTURE_HOST:-}" ]; then
    for v in USER PASSWORD URL PID; do
        eval "val=\${FTPFIXTURE_$v:-}"
        [ -n "$val" ] || fail "FTPFIXTURE_HOST is set but FTPFIXTURE_$v is not"
    done
    [ "$FTPFIXTURE_URL" = "ftp://$FTPFIXTURE_HOST:$port" ] || fail "FTPFIXTURE_URL is $FTPFIXTURE_URL"
    kill -0 "$FTPFIXTURE_PID" || fail "FTPFIXTURE_PID $FTPFIXTURE_PID is not running"
fi
user="${FTPFIXTURE_USER:-admin}"
password="${FTPFIXTURE_PASSWORD:-123456}"
ca="${FTPFIXTURE_CA_FILE:-}"
if [ -z "$ca" ] && [ -s ca.pem ]; then ca="$PWD/ca.pem"; fi
tls=()
host=127.0.0.1
if [ -n "$ca" ]; then tls=(--ssl-reqd --cacert "$ca"); host=localhost; fi
case "${EXPECT_TLS}:${ca:+yes}" in
    1:yes|0:) ;;
    1:) fail "the example has TLS but there is no CA file" ;;
    *) fail "the example has no TLS but there is a CA file ($ca)" ;;
esac
if [ "${EXPECT_CONTROL}" = 0 ] && [ -n "${FTPFIXTURE_CONTROL_URL:-}" ]; then fail "control: false, yet FTPFIXTURE_CONTROL_URL is set"; fi
if [ -n "${FTPFIXTURE_CONTROL_URL:-}" ]; then
    curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' "$FTPFIXTURE_CONTROL_URL/status" | grep -qx 200 ||
        fail "GET $FTPFIXTURE_CONTROL_URL/status is not 200"
fi
base="ftp://$user:$password@$host:$port"
c() { curl -sS --max-time 20 "${tls[@]}" "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
c -v -o "$tmp/listing" "$base/" 2>"$tmp/verbose" || { cat "$tmp/verbose" >&2; fail "listing / failed"; }
if [ -n "$EXPECT_GREETING" ]; then
    grep '^< 220' "$tmp/verbose" | grep -qF -- "$EXPECT_GREETING" ||
        fail "no '$EXPECT_GREETING' in the greeting: $(grep '^< 220' "$tmp/verbose" | head -1)"
fi
stor_first_fails=0 retr_second_short=0
while IFS= read -r rule; do
    case "$rule" in
        "") ;;
        "STOR#1 reply="*) stor_first_fails=1 ;;
        "RETR#2 drop-data after="*) retr_second_short=1 ;;
        *) fail "no check here for the fault rule '$rule'" ;;
    esac
done <<< "$EXPECT_FAULTS"
head -c 65536 /dev/urandom > "$tmp/up.bin"
if [ "$stor_first_fails" = 1 ]; then
    if c -T "$tmp/up.bin" "$base/up.bin" 2>/dev/null; then fail "the first STOR should have met the fault"; fi
fi
c -T "$tmp/up.bin" "$base/up.bin" || fail "STOR failed"
c -o "$tmp/d1" "$base/up.bin" && cmp -s "$tmp/up.bin" "$tmp/d1" || fail "the first RETR is not what was stored"
if [ "$retr_second_short" = 1 ]; then
    if c -o "$tmp/d2" "$base/up.bin" 2>/dev/null && cmp -s "$tmp/up.bin" "$tmp/d2"; then
        fail "the second RETR should have met drop-data"
    fi
fi
c -o "$tmp/d3" "$base/up.bin" && cmp -s "$tmp/up.bin" "$tmp/d3" || fail "a later RETR is not what was stored"
if [ -n "$EXPECT_FILES_DIR" ]; then
    (cd "$EXPECT_FILES_DIR" && find . -type f | sed 's#^\./##') | while IFS= read -r rel; do
        c -o "$tmp/f" "$base/$rel" && cmp -s "$EXPECT_FILES_DIR/$rel" "$tmp/f" ||
            fail "the scenario's $rel is not served as written"
    done
fi
echo "check: OK (port $port, TLS: ${ca:-none}, faults: $(echo $EXPECT_FAULTS))"
"""


class Failure(Exception):
    pass


def log(msg):
    print(f"docs/ci.md [{time.monotonic() - T0:.1f}s]: {msg}", file=sys.stderr, flush=True)


def strings(node, key=None):
    """'key: value' lines of every scalar in a parsed YAML document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v, key)
    elif node is not None:
        yield f"{key}: {node}" if key is not None else str(node)


class Reaper:
    """Orphans (a step's background server once its shell is gone) become
    our children and are reaped at once, as a runner's init would: here
    PID 1 can take seconds, and a zombie still answers kill -0 (the GitLab
    after_script's wait loop) and killpg. Only zombies that are none of
    our Popen children: their exit codes stay with subprocess."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ours = set()
        self.enabled = ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        if self.enabled:
            threading.Thread(target=self.loop, daemon=True).start()

    def popen(self, *args, **kwargs):
        with self.lock:
            p = subprocess.Popen(*args, **kwargs)
            self.ours.add(p.pid)
        return p

    def reap(self):
        me = os.getpid()
        with self.lock:
            for entry in os.listdir("/proc"):
                if not entry.isdigit() or int(entry) in self.ours:
                    continue
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                fields = stat[stat.rindex(")") + 2:].split()
                if fields[0] == "Z" and int(fields[1]) == me:
                    try:
                        os.waitpid(int(entry), os.WNOHANG)
                    except ChildProcessError:
                        pass

    def loop(self):
        while True:
            self.reap()
            time.sleep(0.02)


REAPER = None


class Checker:
    def __init__(self, args):
        self.args = args
        self.repo = args.repo
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.files = {}  # path -> text, from the ```toml blocks
        self.pgids = []  # process groups of run steps (a job's end kills them)
        self.pids = []  # servers the actions started
        self.gitlab_pgids = []  # GitLab jobs' shells, running beside the GitHub jobs
        self.check_sh = os.path.join(self.work, "check.sh")
        with open(self.check_sh, "w") as f:
            f.write(CHECK_SH)
        self.bin = os.path.join(self.work, "bin")
        os.makedirs(self.bin, exist_ok=True)
        os.symlink(args.binary, os.path.join(self.bin, "ftpfixture"))
        py = shutil.which("python3")
        if not py:
            raise Failure("no python3 on PATH")
        os.symlink(os.path.realpath(py), os.path.join(self.bin, "python"))
        self.base_env = {k: v for k, v in os.environ.items()
                         if not k.startswith(("FTPFIXTURE_", "GITHUB_", "INPUT_", "CI_", "RUNNER_"))}
        self.base_env["PATH"] = self.bin + os.pathsep + os.environ["PATH"]
        self.base_env["CI"] = "true"
        self.start_meta = yaml.load(open(os.path.join(self.repo, "action.yml")))
        self.stop_meta = yaml.load(open(os.path.join(self.repo, "stop", "action.yml")))

    # -- the page ---------------------------------------------------------
    def run(self, doc):
        text = open(doc).read()
        blocks = re.findall(r"(?ms)^```([A-Za-z]*)\n(.*?)^```[ \t]*$", text)
        if not blocks:
            raise Failure("no code blocks")
        workflows, gitlab, scripts = [], [], []
        for lang, body in blocks:
            if lang == "toml":
                first = body.splitlines()[0]
                m = re.fullmatch(r"#\s*(\S+)", first)
                if not m:
                    raise Failure(f"a toml block must name its path on its first line: {first!r}")
                tomllib.loads(body)
                self.files[m.group(1)] = body
            elif lang == "yaml":
                data = yaml.load(body)
                if isinstance(data, dict) and ".ftpfixture" in data:
                    gitlab.append((body, data))
                elif isinstance(data, dict) and "jobs" in data:
                    workflows.append((body, data))
                else:
                    raise Failure(f"a yaml block that is neither a workflow nor the GitLab template:\n{body}")
            elif lang == "sh":
                scripts.append(body)
            else:
                raise Failure(f"a ```{lang} block that no test runs:\n{body}")
        log(f"{len(workflows)} GitHub workflows, {len(gitlab)} GitLab template, "
            f"{len(scripts)} shell script, {len(self.files)} file")
        if not workflows or len(gitlab) != 1 or not scripts:
            raise Failure("expected GitHub workflows, one GitLab template and a shell script")
        self.check_tables(text)
        self.validate(workflows, gitlab)
        for _, wf in workflows:
            self.static_workflow_checks(wf)
        # The GitLab job's venv takes seconds of pip: it runs while the
        # GitHub jobs do.
        gitlab_jobs = self.start_gitlab(gitlab[0][1])
        for n, (_, wf) in enumerate(workflows, 1):
            for job_name, job in wf["jobs"].items():
                self.run_github_job(f"gh{n}-{job_name}", job)
        self.finish_gitlab(gitlab[0][1], gitlab_jobs)
        for n, script in enumerate(scripts, 1):
            self.run_script(f"sh{n}", script)

    # -- tables vs metadata -------------------------------------------------
    def check_tables(self, text):
        sections = re.split(r"(?m)^#+ ", text)
        tables = {}
        for sec in sections:
            heading = sec.splitlines()[0].strip() if sec else ""
            for table in re.findall(r"(?m)((?:^\|.*\|[ \t]*\n)+)", sec):
                rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.strip().splitlines()]
                head, body = rows[0], rows[2:]
                if head[0] not in ("input", "output"):
                    continue
                which = "stop" if "stop" in heading.lower() else "start"
                tables[(which, head[0])] = {r[0].strip("`"): (r[1] if head[0] == "input" else None) for r in body}
        bad = []
        for which, meta in (("start", self.start_meta), ("stop", self.stop_meta)):
            for kind in ("input", "output"):
                doc = tables.get((which, kind))
                if doc is None:
                    bad.append(f"no table of the {which} action's {kind}s")
                    continue
                declared = meta.get(kind + "s") or {}
                if set(doc) != set(declared):
                    bad.append(f"{which} action {kind}s: the page has {sorted(set(doc) - set(declared))} "
                               f"too many, {sorted(set(declared) - set(doc))} missing")
                if kind == "input":
                    for name, cell in doc.items():
                        if name in declared:
                            want = str(declared[name].get("default", ""))
                            got = cell.strip("`")
                            if got != want:
                                bad.append(f"{which} input {name}: the page says default {got!r}, action.yml {want!r}")
        if bad:
            raise Failure("the tables and the actions' metadata disagree:\n  " + "\n  ".join(bad))
        log("the tables list every input (with its default) and output of both actions")

    # -- schemas --------------------------------------------------------------
    def validate(self, workflows, gitlab):
        d = os.path.join(self.work, "schema")
        os.makedirs(d, exist_ok=True)
        paths = []
        for n, (body, _) in enumerate(workflows, 1):
            paths.append(os.path.join(d, f"workflow{n}.yml"))
            open(paths[-1], "w").write(body)
        run_checked([self.args.check_jsonschema, "--builtin-schema", "vendor.github-workflows", *paths])
        gl = os.path.join(d, "gitlab-ci.yml")
        open(gl, "w").write(gitlab[0][0])
        run_checked([self.args.check_jsonschema, "--builtin-schema", "vendor.gitlab-ci",
                     "--data-transform", "gitlab-ci", gl])

    def action_of(self, uses):
        if re.match(r"ftpfixture/ftpfixture/stop@", uses or ""):
            return "stop", self.stop_meta
        if re.match(r"ftpfixture/ftpfixture@", uses or ""):
            return "start", self.start_meta
        return None, None

    def static_workflow_checks(self, wf):
        for job_name, job in wf["jobs"].items():
            ids = {}
            for step in job["steps"]:
                which, meta = self.action_of(step.get("uses"))
                if meta is None:
                    continue
                unknown = set(step.get("with") or {}) - set(meta["inputs"])
                if unknown:
                    raise Failure(f"job {job_name}: the {which} action has no inputs {sorted(unknown)}")
                if "id" in step:
                    ids[step["id"]] = meta
            for sid, name in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", "\n".join(strings(job))):
                if sid not in ids or name not in ids[sid]["outputs"]:
                    raise Failure(f"job {job_name}: steps.{sid}.outputs.{name} is no output of an ftpfixture step")

    # -- what an example's check expects ------------------------------------
    def expectations(self, text, workspace):
        env = {"CHECK_SCRIPT": self.check_sh}
        scenario = {}
        m = re.search(r"(?:scenario: |--scenario |FTPFIXTURE_SCENARIO: )(\S+)", text)
        if m:
            scenario = tomllib.loads(self.files[m.group(1)])
        faults = re.findall(r"\b((?:STOR|RETR|LIST|NLST|DELE|MKD|PASV|EPSV)#\d+ [^\n\"';]+)", text)
        faults += scenario.get("faults", [])
        env["EXPECT_FAULTS"] = "\n".join(f.strip() for f in faults)
        tls = re.search(r"(?:\btls: |--tls |FTPFIXTURE_TLS: )(explicit|implicit)", text) or scenario.get("tls", "none") != "none"
        env["EXPECT_TLS"] = "1" if tls else "0"
        env["EXPECT_CONTROL"] = "0" if re.search(r"\bcontrol: (false|False)\b", text) else "1"
        m = re.search(r"(?:personality: |--personality |FTPFIXTURE_PERSONALITY: )([a-z-]+)", text)
        env["EXPECT_GREETING"] = GREETINGS[m.group(1)] if m else ""
        env["EXPECT_FILES_DIR"] = ""
        if scenario.get("files"):
            d = os.path.join(workspace + ".expect")
            for rel, content in scenario["files"].items():
                os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
                open(os.path.join(d, rel), "w").write(content)
            env["EXPECT_FILES_DIR"] = d
        return env

    def workspace(self, name):
        ws = os.path.join(self.work, name)
        os.makedirs(ws)
        for rel, body in self.files.items():
            p = os.path.join(ws, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").write(body)
        return ws

    def spawn(self, argv, env, cwd):
        """Run a step's shell in a process group of its own; what it leaves in
        the background is killed at the job's end, as a runner does."""
        p = REAPER.popen(argv, env=env, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL)
        self.pgids.append(p.pid)
        return p.wait()

    def end_job(self):
        for pgid in self.pgids:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(50):
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.killpg(pgid, signal.SIGKILL)
        self.pgids = []

    def cleanup(self):
        self.end_job()
        self.pgids = self.gitlab_pgids
        self.end_job()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- GitHub ---------------------------------------------------------------
    def run_github_job(self, name, job):
        ws = self.workspace(name)
        expect = self.expectations("\n".join(strings(job)), ws)
        meta_dir = os.path.join(self.work, name + ".runner")
        os.makedirs(os.path.join(meta_dir, "temp"))
        github_env_file = os.path.join(meta_dir, "env")
        open(github_env_file, "w").close()
        outputs = {}
        failed = None
        started = []  # (pid, state-dir) of the start action's servers
        log(f"job {name}: {len(job['steps'])} steps")

        def subst(value):
            if isinstance(value, bool):  # as the runner passes a YAML boolean
                return "true" if value else "false"
            def one(m):
                expr = m.group(1).strip()
                mm = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
                if not mm:
                    raise Failure(f"job {name}: cannot evaluate ${{{{ {expr} }}}}")
                return outputs.get(mm.group(1), {}).get(mm.group(2), "")
            return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))

        for i, step in enumerate(job["steps"]):
            cond = str(step.get("if", ""))
            if failed and "always()" not in cond:
                continue
            label = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            env = dict(self.base_env)
            env.update(read_github_env(github_env_file))
            env.update({"GITHUB_ENV": github_env_file, "GITHUB_WORKSPACE": ws,
                        "RUNNER_TEMP": os.path.join(meta_dir, "temp")})
            out_file = os.path.join(meta_dir, f"output{i}")
            open(out_file, "w").close()
            env["GITHUB_OUTPUT"] = out_file
            env.update({k: subst(v) for k, v in (step.get("env") or {}).items()})
            with_ = {k: subst(v) for k, v in (step.get("with") or {}).items()}
            rc = 0
            uses = step.get("uses")
            which, meta = self.action_of(uses)
            if uses and meta is not None:
                for inp, spec in meta["inputs"].items():
                    env["INPUT_" + inp.upper().replace("-", "_")] = str(with_.get(inp, spec.get("default", "")))
                if which == "start":
                    # The binary under test, not PyPI's wheel of `version:`.
                    env["INPUT_BINARY"] = self.args.binary
                    rc = self.spawn(["bash", os.path.join(self.repo, "tools/action/start.sh")], env, ws)
                    out = read_github_env(out_file)
                    if rc == 0:
                        self.pids.append(int(out["pid"]))
                        started.append((int(out["pid"]), out["state-dir"]))
                else:
                    rc = self.spawn(["bash", os.path.join(self.repo, "tools/action/stop.sh")], env, ws)
                    out = read_github_env(out_file)
                    t = out.get("transcript", "")
                    if rc == 0 and not (t and os.path.getsize(t) > 0):
                        raise Failure(f"job {name}: the stop action names no transcript to upload ({t!r})")
                    log(f"job {name}: the stop action would upload {t} and {out.get('log-file')}")
            elif uses:
                if uses.startswith("actions/upload-artifact@"):
                    for p in str(with_["path"]).split():
                        if not os.path.isfile(os.path.join(ws, p)) or not os.path.getsize(os.path.join(ws, p)):
                            raise Failure(f"job {name}: upload-artifact's {p} is missing or empty")
                    log(f"job {name}: upload-artifact would upload {with_['path']}")
                elif not uses.startswith(("actions/checkout@", "actions/setup-python@", "actions/setup-node@")):
                    raise Failure(f"job {name}: no stand-in here for the action {uses}")
            else:
                script = subst(step["run"])
                if all(INSTALL_ONLY.match(line) or not line.strip() for line in script.splitlines()):
                    log(f"job {name}: left out (the binary under test is on PATH): {script.strip()}")
                elif TEST_COMMAND.search(script):
                    env.update(expect)
                    rc = self.spawn(["bash", self.check_sh], env, ws)
                else:
                    path = os.path.join(meta_dir, f"step{i}.sh")
                    open(path, "w").write(script)
                    rc = self.spawn(["bash", "--noprofile", "--norc", "-eo", "pipefail", path], env, ws)
            outputs[step.get("id", f"step{i}")] = read_github_env(out_file)
            log(f"job {name}: step '{label}': {'ok' if rc == 0 else f'FAILED (exit {rc})'}")
            if rc != 0 and not failed:
                failed = f"job {name}: step '{label}' failed (exit {rc})"
        self.end_job()
        if failed:
            raise Failure(failed)
        for pid, _ in started:
            if alive(pid):
                raise Failure(f"job {name}: the server the action started (pid {pid}) still runs after the stop step")

    # -- GitLab ---------------------------------------------------------------
    def start_gitlab(self, ci):
        tpl = ci[".ftpfixture"]
        jobs = {k: v for k, v in ci.items() if not k.startswith(".") and isinstance(v, dict)}
        if not jobs:
            raise Failure("the GitLab example has no job that extends .ftpfixture")
        started = []
        for job_name, job in jobs.items():
            if job.get("extends") != ".ftpfixture":
                raise Failure(f"GitLab job {job_name} does not extend .ftpfixture")
            ws = self.workspace("gitlab-" + job_name)
            variables = {**(tpl.get("variables") or {}), **(job.get("variables") or {})}
            expect = self.expectations("\n".join(f"{k}: {v}" for k, v in variables.items()), ws)
            variables["FTPFIXTURE_INSTALL"] = self.args.wheel  # the wheel under test, not PyPI's
            env = dict(self.base_env)
            env.update({k: str(v) for k, v in variables.items()})
            env.update(expect)
            env["CI_PROJECT_DIR"] = ws
            script = []
            for line in job["script"]:
                if INSTALL_ONLY.match(line):
                    script.append(": left out: " + shlex.quote(line))
                elif TEST_COMMAND.search(line):
                    script.append('bash "$CHECK_SCRIPT"')
                else:
                    script.append(line)
            main = os.path.join(self.work, f"gitlab-{job_name}.main.sh")
            open(main, "w").write("set -eo pipefail\n" + "\n".join(tpl["before_script"] + script) + "\n")
            # As GitLab's bash runner: before_script and script in one shell.
            p = REAPER.popen(["bash", main], env=env, cwd=ws, start_new_session=True, stdin=subprocess.DEVNULL)
            self.gitlab_pgids.append(p.pid)
            log(f"GitLab job {job_name}: started")
            started.append((job_name, ws, env, expect, p))
        return started

    def finish_gitlab(self, ci, started):
        tpl = ci[".ftpfixture"]
        for job_name, ws, env, expect, p in started:
            rc = p.wait()
            # after_script: a shell of its own.
            after = os.path.join(self.work, f"gitlab-{job_name}.after.sh")
            open(after, "w").write("\n".join(tpl["after_script"]) + "\n")
            rc_after = REAPER.popen(["bash", after], env=env, cwd=ws, stdin=subprocess.DEVNULL).wait()
            pid_file = os.path.join(ws, ".ftpfixture", "pid")
            pid = int(open(pid_file).read()) if os.path.exists(pid_file) else None
            if rc != 0:
                raise Failure(f"GitLab job {job_name}: before_script + script failed (exit {rc})")
            if rc_after != 0:
                raise Failure(f"GitLab job {job_name}: after_script failed (exit {rc_after})")
            if pid is None or alive(pid):
                raise Failure(f"GitLab job {job_name}: after_script left the server (pid {pid}) running")
            art = tpl["artifacts"]
            if art.get("when") != "always":
                raise Failure("GitLab: the artifacts are not kept when the tests fail")
            for path in art["paths"]:
                full = os.path.join(ws, path)
                if not os.path.isfile(full) or not os.path.getsize(full):
                    raise Failure(f"GitLab job {job_name}: the artifact {path} is missing or empty")
            transcript = open(os.path.join(ws, ".ftpfixture", "transcript.jsonl")).read()
            if expect["EXPECT_FAULTS"] and '"event":"fault"' not in transcript:
                raise Failure(f"GitLab job {job_name}: the transcript has no fault")
            log(f"GitLab job {job_name}: ok, artifacts {', '.join(art['paths'])}")

    # -- sh -------------------------------------------------------------------
    def run_script(self, name, script):
        ws = self.workspace(name)
        expect = self.expectations(script, ws)
        if not TEST_COMMAND.search(script):
            raise Failure(f"script {name}: no test command to stand in for")
        path = os.path.join(ws, "..", name + ".sh")
        open(path, "w").write(TEST_COMMAND.sub('bash "$CHECK_SCRIPT"', script))
        env = dict(self.base_env)
        env.update(expect)
        rc = self.spawn(["sh", path], env, ws)
        self.end_job()
        if rc != 0:
            raise Failure(f"script {name}: exit {rc}")
        for artifact in ("ftp.jsonl", "ftp.log"):
            p = os.path.join(ws, artifact)
            if not os.path.isfile(p) or not os.path.getsize(p):
                raise Failure(f"script {name}: {artifact} is missing or empty")
        events = [json.loads(line) for line in open(os.path.join(ws, "ftp.jsonl")) if line.strip()]
        if not any(e.get("event") == "fault" for e in events):
            raise Failure(f"script {name}: the transcript has no fault")
        log(f"script {name}: ok, {len(events)} transcript events")


def run_checked(argv):
    rc = REAPER.popen(argv).wait()
    if rc != 0:
        raise Failure(f"{' '.join(argv)}: exit {rc}")


def read_github_env(path):
    """name=value and name<<DELIM ... DELIM lines, as the runner reads them."""
    out = {}
    if not os.path.exists(path):
        return out
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if m:
            j = lines.index(m.group(2), i + 1)
            out[m.group(1)] = "\n".join(lines[i + 1:j])
            i = j + 1
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        i += 1
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return not re.search(r"^State:\s*Z", f.read(), re.M)
    except FileNotFoundError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", default="docs/ci.md")
    ap.add_argument("--repo", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--check-jsonschema", required=True)
    args = ap.parse_args()
    args.repo = os.path.abspath(args.repo)
    args.binary = os.path.abspath(args.binary)
    args.wheel = os.path.abspath(args.wheel)
    global REAPER
    REAPER = Reaper()
    checker = Checker(args)
    try:
        checker.run(os.path.join(args.repo, args.doc))
    except (Failure, subprocess.CalledProcessError) as e:
        print(f"docs/ci.md: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        checker.cleanup()
    log("every example ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
