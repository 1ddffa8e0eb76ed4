"use strict";
// ftpfixture for Node: start the ftpfixture binary on free ports and drive
// its HTTP control API. No dependencies: node:child_process and the global
// fetch of Node 18+. lib/index.mjs re-exports this module for ESM, so both
// module systems share one implementation (and one set of live servers).

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { fileURLToPath } = require("node:url");
const { AssertionError } = require("node:assert");

const VERSION = require("../package.json").version;

/** Environment variables naming the binary, the first that is set wins. */
const BINARY_ENV = ["FTPFIXTURE_BINARY", "FTPFIXTURE_BIN"];

/** The platform packages, by `${platform}-${arch}[-${libc}]`. */
const PLATFORM_PACKAGES = {
  "linux-x64-gnu": "@ftpfixture/linux-x64-gnu",
};

const OPTIONS = new Set([
  "tls",
  "user",
  "password",
  "accounts",
  "anonymous",
  "readOnly",
  "chroot",
  "faults",
  "fixtures",
  "scenario",
  "root",
  "restoreRoot",
  "memory",
  "replay",
  "personality",
  "personalityOptions",
  "greeting",
  "passivePorts",
  "idleTimeout",
  "maxSessions",
  "logLevel",
  "controlToken",
  "extraArgs",
  "binary",
  "startupTimeout",
  "httpTimeout",
  "env",
]);

// ---------------------------------------------------------------------------
// Errors

/** Base class of every error this package throws (but VerifyError). */
class FtpfixtureError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No ftpfixture binary for this platform, or the configured one is not executable. */
class BinaryNotFoundError extends FtpfixtureError {
  constructor(message, { platform, tried } = {}) {
    super(message);
    this.code = "ENOENT";
    this.platform = platform;
    this.tried = tried || [];
  }
}

/** The process did not start, exited before its ready line, or stayed silent. */
class StartError extends FtpfixtureError {
  constructor(message, { exitCode = null, signal = null, stderr = "", args = [], cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
    this.args = args;
  }
}

/** The control API answered with an error status, or could not be reached (status null). */
class ControlError extends FtpfixtureError {
  constructor(status, error, { body = null, method = "", path: where = "" } = {}) {
    const request = `${method} ${where}`.trim();
    const head = status != null ? `${request} -> ${status}` : request;
    super(head ? `${head}: ${error}` : error);
    this.status = status;
    this.error = error;
    this.body = body;
    this.method = method;
    this.path = where;
  }
}

/** A waitFor* call timed out (HTTP 408); `transcript` is the rendered transcript so far. */
class WaitTimeout extends ControlError {
  constructor(status, error, details = {}) {
    super(status, error, details);
    const body = details.body;
    this.transcript = body && typeof body === "object" && typeof body.transcript === "string" ? body.transcript : "";
    if (this.transcript) this.message += `\ntranscript:\n${this.transcript.replace(/\n+$/, "")}`;
  }
}

/**
 * Expectations were not met, or a replayed recording was not followed
 * (GET /verify answered 409). An AssertionError, so test runners report it
 * as a failed assertion.
 */
class VerifyError extends AssertionError {
  constructor(unmet, transcript, replay) {
    unmet = Array.isArray(unmet) ? unmet : [];
    replay = Array.isArray(replay) ? replay : [];
    transcript = transcript || "";
    const lines = [unmet.length || !replay.length ? "ftpfixture: expectations not met:" : "ftpfixture: replay problems:"];
    for (const item of unmet) {
      if (item && typeof item === "object") {
        lines.push(`  - ${item.expectation ?? JSON.stringify(item)} (received ${item.count ?? "?"})`);
      } else {
        lines.push(`  - ${item}`);
      }
    }
    if (unmet.length && replay.length) lines.push("replay problems:");
    for (const item of replay) lines.push(`  - ${typeof item === "string" ? item : JSON.stringify(item)}`);
    if (transcript) lines.push("transcript:", transcript.replace(/\n+$/, ""));
    super({ message: lines.join("\n") });
    this.name = "VerifyError";
    this.unmet = unmet;
    this.replay = replay;
    this.transcript = transcript;
  }
}

// ---------------------------------------------------------------------------
// Finding the binary

const EXE = process.platform === "win32" ? "ftpfixture.exe" : "ftpfixture";

function isExecutable(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** "gnu", "musl" or null (not Linux, or unknown). */
function detectLibc() {
  if (process.platform !== "linux") return null;
  try {
    const ldd = fs.readFileSync("/usr/bin/ldd", "latin1");
    if (ldd.includes("musl")) return "musl";
    if (ldd.includes("GNU C Library") || ldd.includes("GLIBC")) return "gnu";
  } catch {
    // no ldd script: ask the process report
  }
  try {
    if (process.report && "excludeNetwork" in process.report) process.report.excludeNetwork = true;
    const header = process.report.getReport().header;
    if (header.glibcVersionRuntime) return "gnu";
    const shared = process.report.getReport().sharedObjects || [];
    if (shared.some((f) => f.includes("musl"))) return "musl";
  } catch {
    // fall through
  }
  return null;
}

/** This machine as the platform packages name it: `{ platform, arch, libc, key }`. */
function platformKey() {
  const libc = detectLibc();
  const key = [process.platform, process.arch, libc].filter(Boolean).join("-");
  return { platform: process.platform, arch: process.arch, libc, key };
}

function onPath(name) {
  const dirs = (process.env.PATH || "").split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

/**
 * The path of the ftpfixture binary: FTPFIXTURE_BINARY (or FTPFIXTURE_BIN),
 * else the binary of this platform's package (an optional dependency, e.g.
 * @ftpfixture/linux-x64-gnu), else `ftpfixture` on PATH. Throws
 * BinaryNotFoundError, naming the platform, when there is none.
 */
function findBinary() {
  for (const name of BINARY_ENV) {
    const configured = process.env[name];
    if (configured) {
      if (isExecutable(configured)) return path.resolve(configured);
      throw new BinaryNotFoundError(
        `${name}=${JSON.stringify(configured)} is not an executable file: point it at the ftpfixture binary, ` +
          "or unset it to use the one of the platform package",
        { tried: [configured] },
      );
    }
  }
  const platform = platformKey();
  const tried = [];
  const pkg = PLATFORM_PACKAGES[platform.key];
  if (pkg) {
    let manifest = null;
    try {
      manifest = require.resolve(`${pkg}/package.json`);
    } catch {
      tried.push(`${pkg} (not installed)`);
    }
    if (manifest) {
      const file = path.join(path.dirname(manifest), "bin", EXE);
      if (isExecutable(file)) return file;
      tried.push(`${file} (${fs.existsSync(file) ? "not executable" : "missing"})`);
    }
  }
  const found = onPath(EXE);
  if (found) return found;
  tried.push(`${EXE} on PATH`);
  const where = `platform ${platform.platform}, arch ${platform.arch}, libc ${platform.libc || "n/a"}`;
  const hint = pkg
    ? `install the optional dependency ${pkg} (npm installs it with ftpfixture unless optional dependencies are omitted: ` +
      "check --omit=optional / --no-optional)"
    : `ftpfixture has no prebuilt binary for this platform (${platform.key}); build one with \`cargo install ftpfixture\` ` +
      "and put it on PATH";
  throw new BinaryNotFoundError(
    `cannot find the ftpfixture binary (${where}): ${hint}, or set FTPFIXTURE_BINARY to its path. Looked for: ${tried.join(", ")}`,
    { platform, tried },
  );
}

// ---------------------------------------------------------------------------
// Reaping: every server this process started is stopped when it exits

/**
 * The real `process`. Jest gives each test file a copy whose events are its
 * own (its 'exit' never fires); the host's is the global of Node's main
 * context.
 */
function hostProcess() {
  try {
    const host = require("node:vm").runInThisContext("typeof process === 'object' ? process : undefined");
    if (host && typeof host.on === "function" && host.pid === process.pid) return host;
  } catch {
    // code generation disallowed: this module's process it is
  }
  return process;
}

const host = hostProcess();

/** fetch: this context's, else the main context's (Jest's test environments before Jest 28 have none). */
function hostFetch() {
  if (typeof fetch === "function") return fetch;
  try {
    const found = require("node:vm").runInThisContext("typeof fetch === 'function' ? fetch : undefined");
    if (found) return found;
  } catch {
    // fall through
  }
  throw new FtpfixtureError(`ftpfixture needs a global fetch (Node 18 or later); this is Node ${process.version}`);
}
const SIGNALS = process.platform === "win32" ? ["SIGINT", "SIGTERM"] : ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * One registry per process, shared by every copy of this module (Jest loads
 * one per test file; two versions may be installed): the live servers, one
 * 'exit' hook, and signal handlers while servers run.
 */
const REGISTRY = Symbol.for("ftpfixture.reaper.v1");
const registry =
  host[REGISTRY] ||
  (host[REGISTRY] = {
    live: new Set(), // ChildProcess objects not yet exited
    exitHook: null,
    signalHandlers: new Map(),
  });

// What the exit hook uses, taken now: it may run after a test framework
// tore down the context this module was loaded in (Jest cleans the globals
// of a test file's context when the file is done).
const LINUX = process.platform === "linux";
const readFileSync = fs.readFileSync;
const now = Date.now;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const atomicsWait = Atomics.wait;

function sleepSync(ms) {
  atomicsWait(sleepCell, 0, 0, ms);
}

/** Linux: whether pid has exited (gone or a zombie). Elsewhere: unknown (null). */
function exitedSync(pid) {
  if (!LINUX) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

/**
 * Stop every live server synchronously (process 'exit', or a fatal signal):
 * SIGTERM, which shuts it down gracefully and removes its temp root; on
 * Linux wait up to a second for it and SIGKILL whatever is left.
 */
function reapAllSync() {
  try {
    const children = [...registry.live];
    if (!children.length) return;
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    if (!LINUX) return;
    const deadline = now() + 1000;
    let pending = children.filter((c) => !exitedSync(c.pid));
    while (pending.length && now() < deadline) {
      sleepSync(5);
      pending = pending.filter((c) => !exitedSync(c.pid));
    }
    for (const child of pending) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone after all
      }
    }
  } catch {
    // never throw from an exit hook
  }
}

function installHooks() {
  if (!registry.exitHook) {
    registry.exitHook = reapAllSync;
    host.on("exit", reapAllSync);
  }
  for (const signal of SIGNALS) {
    if (registry.signalHandlers.has(signal)) continue;
    const handler = () => {
      reapAllSync();
      removeSignalHooks();
      // Nobody else listens: die of the signal, as the process would have
      // without us. (Otherwise the other listeners decide.)
      if (host.listenerCount(signal) === 0) host.kill(host.pid, signal);
    };
    registry.signalHandlers.set(signal, handler);
    host.on(signal, handler);
  }
}

function removeSignalHooks() {
  for (const [signal, handler] of registry.signalHandlers) host.removeListener(signal, handler);
  registry.signalHandlers.clear();
}

function track(child) {
  registry.live.add(child);
  installHooks();
  child.once("exit", () => {
    registry.live.delete(child);
    if (!registry.live.size) removeSignalHooks();
  });
}

// ---------------------------------------------------------------------------
// Helpers

/** A duration for the CLI and the API: "30s"/"500ms" pass through, numbers are milliseconds. */
function duration(value, what) {
  if (typeof value === "string") return value;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${what}: expected milliseconds (a number >= 0) or a duration like "30s", got ${String(value)}`);
  }
  return `${Math.round(value)}ms`;
}

function millis(value, fallback, what) {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
    if (m) return Number(m[1]) * ({ ms: 1, s: 1000, m: 60000 }[m[2] || "s"]);
  }
  throw new TypeError(`${what}: expected milliseconds, got ${String(value)}`);
}

function toList(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function fsPath(value) {
  if (value instanceof URL) return fileURLToPath(value);
  return String(value);
}

function accountArg(account) {
  if (typeof account === "string") return account;
  if (Array.isArray(account)) return account.map(String).join(":");
  if (account && typeof account === "object") {
    const parts = [account.name, account.password];
    if (account.home) parts.push(account.home);
    return parts.map(String).join(":");
  }
  throw new TypeError(`accounts: expected "name:pass[:home]", [name, pass, home?] or {name, password, home?}, got ${String(account)}`);
}

/** The CLI arguments for startServer(options) (without the binary). */
function commandLine(options = {}) {
  const unknown = Object.keys(options).filter((k) => !OPTIONS.has(k));
  if (unknown.length) {
    throw new TypeError(`unknown startServer option(s): ${unknown.join(", ")} (known: ${[...OPTIONS].sort().join(", ")})`);
  }
  const o = options;
  const args = ["--port", "0", "--control", "0"];
  let tls = o.tls;
  if (tls === true) tls = "explicit";
  if (tls) {
    if (!["none", "explicit", "implicit"].includes(tls)) {
      throw new TypeError(`tls must be "explicit", "implicit", "none" or true, not ${JSON.stringify(tls)}`);
    }
    args.push("--tls", tls);
  }
  if (o.user != null) args.push("--user", String(o.user));
  if (o.password != null) args.push("--password", String(o.password));
  let accounts = o.accounts;
  if (accounts != null && !Array.isArray(accounts)) accounts = [accounts];
  for (const account of accounts || []) args.push("--account", accountArg(account));
  if (o.anonymous) args.push("--anonymous");
  if (o.readOnly) args.push("--read-only");
  if (o.chroot) args.push("--chroot");
  for (const rule of toList(o.faults)) args.push("--fault", typeof rule === "string" ? rule : rule.rule);
  for (const [key, flag] of [
    ["fixtures", "--fixtures"],
    ["scenario", "--scenario"],
    ["root", "--root"],
    ["replay", "--replay"],
  ]) {
    if (o[key] != null) args.push(flag, fsPath(o[key]));
  }
  if (o.restoreRoot) args.push("--restore-root");
  if (o.memory) args.push("--memory");
  if (o.greeting != null) args.push("--greeting", String(o.greeting));
  if (o.personality != null) args.push("--personality", String(o.personality));
  for (const [key, value] of Object.entries(o.personalityOptions || {})) {
    args.push("--personality-option", `${key}=${value}`);
  }
  if (o.passivePorts != null) {
    const ports = Array.isArray(o.passivePorts) ? `${o.passivePorts[0]}-${o.passivePorts[1]}` : String(o.passivePorts);
    args.push("--passive-ports", ports);
  }
  if (o.idleTimeout != null) args.push("--idle-timeout", duration(o.idleTimeout, "idleTimeout"));
  if (o.maxSessions != null) args.push("--max-sessions", String(Math.trunc(o.maxSessions)));
  if (o.logLevel != null) args.push("--log-level", String(o.logLevel));
  if (o.controlToken != null) args.push("--control-token", String(o.controlToken));
  for (const arg of toList(o.extraArgs)) args.push(fsPath(arg));
  return args;
}

function filePath(p, directory = false) {
  let text = fsPath(p).replace(/^\/+/, "");
  if (directory && text && !text.endsWith("/")) text += "/";
  return "/files/" + text.split("/").map(encodeURIComponent).join("/");
}

function sessionQuery(session) {
  if (session === undefined || session === null) return {};
  if (typeof session === "object") session = session.session;
  return session === undefined || session === null ? {} : { session: String(Math.trunc(session)) };
}

const STDERR_LIMIT = 64 * 1024;

// ---------------------------------------------------------------------------
// The server handle

/**
 * One ftpfixture server: the process startServer() started (or, from
 * connect(), one started elsewhere) and a client of its control API.
 */
class FtpServer {
  constructor(ready, { child = null, args = [], controlToken = null, httpTimeout = 10000, stderr = null } = {}) {
    if (!ready || typeof ready !== "object" || !ready.control) {
      throw new TypeError("a ready line with a control URL is needed (start the server with --control)");
    }
    /** The parsed ready line the server printed. */
    this.ready = ready;
    this.host = ready.host;
    this.port = ready.port;
    this.user = ready.user;
    this.password = ready.password;
    this.url = ready.url;
    this.root = ready.root ?? null;
    this.tls = ready.tls ?? "none";
    this.caFile = ready.certificate ?? null;
    this.controlUrl = String(ready.control).replace(/\/+$/, "");
    /** The command line (binary first), empty for connect(). */
    this.args = args;
    this.exitCode = null;
    this.signalCode = null;
    this._child = child;
    this._token = controlToken;
    this._httpTimeout = httpTimeout;
    this._stderr = stderr || { text: "" };
    this._stopping = null;
    this._exited = child
      ? new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        }).then(() => {
          this.exitCode = child.exitCode;
          this.signalCode = child.signalCode;
        })
      : null;
  }

  /** The process id, or null for a handle from connect(). */
  get pid() {
    return this._child ? this._child.pid : null;
  }

  /** Whether the process is alive (for connect(): whether stop() was not called). */
  get running() {
    if (!this._child) return this._stopping === null;
    return this._child.exitCode === null && this._child.signalCode === null;
  }

  /** The last 64 KiB the process wrote to stderr (its log). */
  get stderr() {
    return this._stderr.text;
  }

  /** What connect() needs to make another handle to this server. */
  info() {
    return { ...this.ready, controlToken: this._token ?? null };
  }

  /** `{ ca }` with the CA certificate to trust, for tls.connect / basic-ftp's secureOptions. */
  tlsOptions() {
    if (!this.caFile) {
      throw new FtpfixtureError('this server runs without TLS (start it with tls: "explicit" or "implicit")');
    }
    return { ca: fs.readFileSync(this.caFile) };
  }

  // -- HTTP ------------------------------------------------------------------

  async _request(method, where, { query, body, contentType, timeout } = {}) {
    let url = this.controlUrl + where;
    const search = query ? new URLSearchParams(query).toString() : "";
    if (search) url += "?" + search;
    const shown = search ? `${where}?${search}` : where;
    const headers = { Accept: "application/json" };
    let payload;
    if (body !== undefined && body !== null) {
      if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
        payload = body;
        headers["Content-Type"] = contentType || "application/octet-stream";
      } else if (typeof body === "string" && contentType) {
        payload = body;
        headers["Content-Type"] = contentType;
      } else {
        payload = JSON.stringify(body);
        headers["Content-Type"] = "application/json";
      }
    } else if (method === "POST" || method === "PUT") {
      payload = "";
    }
    if (this._token) headers.Authorization = `Bearer ${this._token}`;
    const ms = timeout ?? this._httpTimeout;
    let response;
    let bytes;
    try {
      response = await hostFetch()(url, {
        method,
        headers,
        body: payload,
        redirect: "manual",
        signal: AbortSignal.timeout(ms),
      });
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (err) {
      const reason =
        err && (err.name === "TimeoutError" || err.name === "AbortError")
          ? `no answer within ${ms}ms`
          : (err && err.cause && err.cause.message) || (err && err.message) || String(err);
      const state = this._child && !this.running ? ` (the server process has exited: ${this._exitText()})` : "";
      throw new ControlError(null, `control API unreachable at ${this.controlUrl}: ${reason}${state}`, {
        method,
        path: shown,
      });
    }
    if (response.status >= 400) {
      let decoded = null;
      try {
        decoded = JSON.parse(bytes.toString("utf8"));
      } catch {
        decoded = null;
      }
      const text =
        decoded && typeof decoded === "object" && "error" in decoded
          ? String(decoded.error)
          : bytes.toString("utf8").trim() || response.statusText;
      const Cls = response.status === 408 ? WaitTimeout : ControlError;
      throw new Cls(response.status, text, { body: decoded, method, path: shown });
    }
    return { status: response.status, contentType: response.headers.get("content-type") || "", body: bytes };
  }

  async _json(method, where, options) {
    const { body } = await this._request(method, where, options);
    if (!body.length) return null;
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      throw new ControlError(null, `expected JSON, got ${JSON.stringify(body.toString("utf8").slice(0, 200))}`, {
        method,
        path: where,
      });
    }
  }

  _exitText() {
    return this.signalCode ? `signal ${this.signalCode}` : `exit code ${this.exitCode ?? this._child?.exitCode}`;
  }

  // -- status and reset ------------------------------------------------------

  /** GET /status: the ready line plus sessions_open, sessions_total and certificate_pem. */
  status() {
    return this._json("GET", "/status");
  }

  /**
   * POST /reset: back to the state at start. Open sessions get 421, the
   * faults are those given at start (fresh counts), expectations, the
   * transcript and users added through the API are gone, sessions are
   * numbered from 1 again and the tree is rebuilt.
   */
  reset() {
    return this._json("POST", "/reset");
  }

  // -- faults ----------------------------------------------------------------

  /**
   * Add a fault rule ("RETR#2 drop-data after=1024", or {rule}) and resolve
   * to its id; a list of rules resolves to the list of ids. A bad rule is a
   * ControlError (400) pointing at the problem, and nothing is added.
   */
  async inject(rule) {
    if (Array.isArray(rule)) {
      let answer = await this._json("POST", "/faults", { body: rule });
      if (!Array.isArray(answer)) answer = [answer];
      return answer.map((item) => item.id);
    }
    const body = typeof rule === "string" ? { rule } : rule;
    return (await this._json("POST", "/faults", { body })).id;
  }

  /** GET /faults: `[{ id, rule, fired }]`. */
  faults() {
    return this._json("GET", "/faults");
  }

  /** Remove one fault by id (an unknown id is a ControlError with status 404). */
  async removeFault(id) {
    await this._json("DELETE", `/faults/${Math.trunc(Number(id))}`);
  }

  /** Remove every fault; resolves to how many were removed. */
  async clearFaults() {
    const answer = await this._json("DELETE", "/faults");
    return answer && typeof answer.removed === "number" ? answer.removed : 0;
  }

  // -- transcript --------------------------------------------------------------

  /** The recorded events (objects), all or of one session: transcript() / transcript(1) / transcript({ session: 1 }). */
  transcript(session) {
    return this._json("GET", "/transcript", { query: sessionQuery(session) });
  }

  /** The transcript's text form ("#1 C> USER admin" ...), all or of one session. */
  async render(session) {
    const { body } = await this._request("GET", "/transcript", { query: { format: "text", ...sessionQuery(session) } });
    return body.toString("utf8");
  }

  /** Forget the recorded events. */
  async clearTranscript() {
    await this._request("DELETE", "/transcript");
  }

  _wait(query, options) {
    const opts = typeof options === "number" || typeof options === "string" ? { timeout: options } : options || {};
    const ms = millis(opts.timeout, 5000, "timeout");
    return this._json("GET", "/transcript/wait", {
      query: { ...query, timeout: duration(opts.timeout ?? ms, "timeout") },
      timeout: ms + this._httpTimeout,
    });
  }

  /**
   * Resolve, with the events, once session `session` has ended; reject with
   * WaitTimeout (holding the transcript) after `timeout` ms (default 5000).
   */
  waitForSessionEnd(session, options) {
    return this._wait({ session_end: String(Math.trunc(session)) }, options);
  }

  /**
   * Resolve, with the events, once `count` (default 1) commands `verb` have
   * arrived; reject with WaitTimeout after `timeout` ms (default 5000).
   */
  waitForCommand(verb, options = {}) {
    const opts = typeof options === "number" ? { timeout: options } : options;
    return this._wait({ command: String(verb), count: String(Math.trunc(opts.count ?? 1)) }, opts);
  }

  // -- files -------------------------------------------------------------------

  /** Write a file into the served tree (parents are made); data is a string (UTF-8) or bytes. */
  putFile(p, data) {
    let body = data;
    if (typeof data === "string") body = Buffer.from(data, "utf8");
    else if (data instanceof ArrayBuffer) body = Buffer.from(data);
    else if (ArrayBuffer.isView(data)) body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else throw new TypeError("putFile: data must be a string, a Buffer/Uint8Array or an ArrayBuffer");
    return this._json("PUT", filePath(p), { body });
  }

  /** A file's bytes (a Buffer), or its text when an encoding is given: getFile(p, "utf8"). A missing file is a ControlError (404). */
  async getFile(p, encoding) {
    const { body } = await this._request("GET", filePath(p));
    return encoding ? body.toString(encoding) : body;
  }

  /** A directory's entries: `[{ name, type: "file" | "dir" | "symlink", size }]`. */
  listDir(p = "/") {
    return this._json("GET", filePath(p, true));
  }

  /** Delete a file, or a directory with its contents. */
  async deleteFile(p) {
    await this._request("DELETE", filePath(p));
  }

  // -- users -------------------------------------------------------------------

  /**
   * Add an account while the server runs (reset() removes it). Options:
   * home, readOnly, chroot (confined to its home), ownRoot (an empty tree
   * of its own). The server's own readOnly/chroot apply too.
   */
  addUser(name, password, options = {}) {
    const body = {
      name: String(name),
      password: String(password),
      read_only: Boolean(options.readOnly),
      chroot: Boolean(options.chroot),
      own_root: Boolean(options.ownRoot),
    };
    if (options.home != null) body.home = String(options.home);
    return this._json("POST", "/users", { body });
  }

  /** Remove an account (an unknown name is a ControlError with status 404). */
  async removeUser(name) {
    await this._request("DELETE", `/users/${encodeURIComponent(name)}`);
  }

  // -- expectations --------------------------------------------------------------

  /**
   * Expect `command` (a verb) to arrive: options times, atLeast, atMost or
   * never (one of them; none: at least once), narrowed by arg (exact or
   * glob), user or session. Resolves to its text ("STOR: exactly 1
   * time(s)"); verify() checks them.
   */
  async expect(command, options = {}) {
    const body = { command: String(command) };
    if (options.times != null) body.times = Math.trunc(options.times);
    if (options.atLeast != null) body.at_least = Math.trunc(options.atLeast);
    if (options.atMost != null) body.at_most = Math.trunc(options.atMost);
    if (options.never) body.never = true;
    if (options.arg != null) body.arg = String(options.arg);
    if (options.user != null) body.user = String(options.user);
    if (options.session != null) body.session = Math.trunc(options.session);
    const answer = await this._json("POST", "/expectations", { body });
    return answer && typeof answer === "object" ? answer.expectation : answer;
  }

  /**
   * Check the expectations (and a replayed recording): rejects with
   * VerifyError listing what was unmet, with the transcript.
   */
  async verify() {
    try {
      await this._request("GET", "/verify");
    } catch (err) {
      if (err instanceof ControlError && err.status === 409 && err.body && typeof err.body === "object") {
        throw new VerifyError(err.body.unmet, err.body.transcript, err.body.replay);
      }
      throw err;
    }
  }

  // -- stopping ------------------------------------------------------------------

  /**
   * Stop the server: POST /shutdown, wait up to `timeout` ms (default 5000)
   * for it to exit, then SIGTERM, then SIGKILL. The process is always
   * reaped. Resolves to its exit code (null if a signal ended it); calling
   * it again is harmless. For a handle from connect(), asks the server to
   * shut down and resolves to null.
   */
  stop({ timeout = 5000 } = {}) {
    if (this._stopping) return this._stopping;
    this._stopping = this._stop(millis(timeout, 5000, "timeout"));
    return this._stopping;
  }

  async _stop(timeout) {
    const child = this._child;
    if (!child) {
      try {
        await this._request("POST", "/shutdown", { timeout: Math.min(timeout, this._httpTimeout) });
      } catch {
        // already gone
      }
      return null;
    }
    child.ref(); // keep the event loop alive while we wait for it
    try {
      if (this.running) {
        try {
          await this._request("POST", "/shutdown", { timeout: Math.min(timeout, this._httpTimeout) });
        } catch {
          // signals below
        }
        if (!(await this._waitExit(timeout))) {
          child.kill("SIGTERM");
          if (!(await this._waitExit(timeout))) {
            child.kill("SIGKILL");
            await this._exited;
          }
        }
      }
      await this._exited;
    } finally {
      child.unref();
    }
    return this.exitCode;
  }

  _waitExit(ms) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    return Promise.race([this._exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
  }

  toString() {
    const state = this.running ? "running" : "stopped";
    return `FtpServer(${this.url}, ${state}, pid ${this.pid})`;
  }
}

if (typeof Symbol.asyncDispose === "symbol") {
  // `await using server = await startServer()` stops it at the end of the block.
  FtpServer.prototype[Symbol.asyncDispose] = function () {
    return this.stop();
  };
}

// ---------------------------------------------------------------------------
// Starting

/**
 * Start an ftpfixture server on free ports, with its control API, and
 * resolve to its handle once it printed its ready line. Rejects with
 * BinaryNotFoundError (no binary) or StartError (the process failed; its
 * stderr is in the message).
 */
async function startServer(options = {}) {
  const args = commandLine(options);
  const binary = options.binary != null ? fsPath(options.binary) : findBinary();
  if (options.binary != null && !isExecutable(binary)) {
    throw new BinaryNotFoundError(`binary ${JSON.stringify(binary)} is not an executable file`, { tried: [binary] });
  }
  const startupTimeout = millis(options.startupTimeout, 10000, "startupTimeout");
  const httpTimeout = millis(options.httpTimeout, 10000, "httpTimeout");
  // The options alone decide the server's setup: no FTPFIXTURE_* variable
  // of this process reaches it (the CLI reads every flag from one).
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toUpperCase().startsWith("FTPFIXTURE_")) env[key] = value;
  }
  for (const [key, value] of Object.entries(options.env || {})) env[key] = String(value);

  const fullArgs = [binary, ...args];
  const shown = fullArgs.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  const stderr = { text: "" };
  let child;
  try {
    child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], env, windowsHide: true });
  } catch (err) {
    throw new StartError(`cannot run ${binary}: ${err.message}`, { args: fullArgs, cause: err });
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    let stdoutBuffer = "";
    let spawnError = null;
    const timer = setTimeout(() => fail(`printed no ready line within ${startupTimeout}ms`, true), startupTimeout);

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      stderr.text += chunk;
      if (stderr.text.length > STDERR_LIMIT) stderr.text = stderr.text.slice(-STDERR_LIMIT);
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (settled) return; // drained, so the pipe never fills
      stdoutBuffer += chunk;
      const newline = stdoutBuffer.indexOf("\n");
      if (newline < 0) return;
      const line = stdoutBuffer.slice(0, newline).trim();
      let ready;
      try {
        ready = JSON.parse(line);
      } catch (err) {
        return fail(`printed a ready line that is not JSON (${err.message}): ${JSON.stringify(line)}`, true);
      }
      if (!ready || typeof ready !== "object" || !ready.control) {
        return fail(`printed a ready line without a control URL: ${JSON.stringify(line)}`, true);
      }
      settled = true;
      clearTimeout(timer);
      const server = new FtpServer(ready, {
        child,
        args: fullArgs,
        controlToken: options.controlToken ?? null,
        httpTimeout,
        stderr,
      });
      // A forgotten server does not keep the test process alive; the exit
      // hook stops it when the process ends.
      child.unref();
      child.stdout.unref?.();
      child.stderr.unref?.();
      resolve(server);
    });
    child.once("error", (err) => {
      spawnError = err;
      if (child.pid === undefined) {
        // never started: no 'exit' comes
        clearTimeout(timer);
        if (!settled) {
          settled = true;
          reject(new StartError(`cannot run ${binary}: ${err.message}`, { args: fullArgs, cause: err }));
        }
      }
    });
    child.once("close", (code, signal) => {
      if (!settled) finish(`exited before printing its ready line`, code, signal);
    });
    if (child.pid !== undefined) track(child);

    function fail(problem, kill) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (kill) child.kill("SIGKILL");
      if (child.exitCode !== null || child.signalCode !== null) {
        return finishRejected(problem, child.exitCode, child.signalCode);
      }
      child.once("close", (code, signal) => finishRejected(problem, code, signal));
    }

    function finish(problem, code, signal) {
      settled = true;
      clearTimeout(timer);
      finishRejected(problem, code, signal);
    }

    function finishRejected(problem, code, signal) {
      const status = signal ? `signal ${signal}` : `exit code ${code}`;
      let message = `ftpfixture ${problem} (${status}; command: ${shown})`;
      if (stderr.text.trim()) message += `\nstderr:\n${stderr.text.replace(/\n+$/, "")}`;
      reject(
        new StartError(message, { exitCode: code, signal, stderr: stderr.text, args: fullArgs, cause: spawnError || undefined }),
      );
    }
  });
}

/**
 * A handle to a server started elsewhere (a global setup, a CI step, another
 * process): give it the ready line the server printed, what server.info()
 * returns, or the answer of GET /status. It has no process: stop() asks the
 * server to shut down.
 */
function connect(ready, { controlToken, httpTimeout = 10000 } = {}) {
  const token = controlToken ?? (ready && ready.controlToken) ?? null;
  return new FtpServer(ready, { controlToken: token, httpTimeout: millis(httpTimeout, 10000, "httpTimeout") });
}

module.exports = {
  VERSION,
  BINARY_ENV,
  PLATFORM_PACKAGES,
  startServer,
  connect,
  findBinary,
  platformKey,
  commandLine,
  FtpServer,
  FtpfixtureError,
  BinaryNotFoundError,
  StartError,
  ControlError,
  WaitTimeout,
  VerifyError,
};
