// Types of the ftpfixture package (hand-written; lib/index.cjs is the code).

import type { AssertionError } from "node:assert";

/** Milliseconds, or a duration string the server understands: "500ms", "30s", "1m". */
export type Duration = number | string;

/** A file system path; file: URLs are accepted too. */
export type PathLike = string | URL;

/** An extra account: "name:pass[:home]", [name, pass, home?] or an object. */
export type Account = string | [string, string] | [string, string, string] | { name: string; password: string; home?: string };

/** Options of startServer(). Every one is optional; each maps to a CLI flag. */
export interface StartOptions {
  /** "explicit" (AUTH TLS; true means this), "implicit" or "none". With TLS, `caFile` names the CA to trust. */
  tls?: "explicit" | "implicit" | "none" | boolean;
  /** The main account's name (default "admin"). */
  user?: string;
  /** The main account's password (default "123456"). */
  password?: string;
  /** More accounts. */
  accounts?: Account | Account[];
  /** Allow anonymous login (read-only). */
  anonymous?: boolean;
  /** Every account read-only, those added with addUser() too. */
  readOnly?: boolean;
  /** Every account confined to its home (its "/"), those added with addUser() too. */
  chroot?: boolean;
  /** Fault rules active from the start (and again after each reset()), e.g. "STOR reply=452". */
  faults?: string | { rule: string } | Array<string | { rule: string }>;
  /** A directory copied into the root at start. */
  fixtures?: PathLike;
  /** A TOML scenario file. */
  scenario?: PathLike;
  /** The directory to serve (default: a fresh temp dir, removed at exit). */
  root?: PathLike;
  /** With `root`: copy it aside at start so that reset() puts it back. */
  restoreRoot?: boolean;
  /** Keep files in memory instead of a temp dir (`root` is then null). */
  memory?: boolean;
  /** Serve a recording made by `ftpfixture record` (a directory). */
  replay?: PathLike;
  /** Answer as "vsftpd", "proftpd", "pure-ftpd", "iis" or "filezilla". */
  personality?: string;
  /** Settings of the played server, as it names them: { utf8_filesystem: "YES" }. */
  personalityOptions?: Record<string, string | number | boolean>;
  /** The text of the 220 greeting. */
  greeting?: string;
  /** Passive data ports: "50000-50100" or [50000, 50100]. */
  passivePorts?: string | [number, number];
  /** Close idle control connections after this long (default 300s). */
  idleTimeout?: Duration;
  /** Refuse connections beyond this many with 421. */
  maxSessions?: number;
  /** The server's log level (its log is `server.stderr`): "error", "warn", "info", "debug", "trace". */
  logLevel?: string;
  /** Protect the control API with this bearer token (the handle sends it). */
  controlToken?: string;
  /** More command-line arguments, appended as given. */
  extraArgs?: Array<string | URL>;
  /** The binary to run (default: findBinary()). */
  binary?: PathLike;
  /** How long to wait for the ready line (default 10000 ms). */
  startupTimeout?: Duration;
  /** How long a control API call may take (default 10000 ms; waits add their own timeout). */
  httpTimeout?: Duration;
  /** Extra environment variables for the process. FTPFIXTURE_* variables of this process are not passed on. */
  env?: Record<string, string | number | boolean>;
}

/** The JSON line the server prints once it listens. */
export interface ReadyLine {
  host: string;
  port: number;
  user: string;
  password: string;
  url: string;
  /** The temp root or --root; null with `memory`. */
  root: string | null;
  tls: "none" | "explicit" | "implicit";
  /** PEM file with the CA to trust (TLS only). */
  certificate: string | null;
  /** The control API's base URL. */
  control: string;
  [key: string]: unknown;
}

/** What GET /status answers. */
export interface Status extends ReadyLine {
  sessions_open: number;
  sessions_total: number;
  certificate_pem: string | null;
}

/** One transcript event (the JSON Lines objects). */
export interface TranscriptEvent {
  /** Milliseconds since the Unix epoch. */
  at: number;
  /** "connected", "command", "reply", "data_open", "data_close", "tls", "fault", "disconnected", "control", ... */
  event: string;
  /** The session (1, 2, ...); 0 for control API calls. */
  session: number;
  /** command: the line as received (PASS masked). */
  line?: string;
  /** fault: the rule that fired. */
  rule?: string;
  [key: string]: unknown;
}

export interface Fault {
  id: number;
  rule: string;
  /** How often it fired. */
  fired: number;
}

export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink";
  size: number;
}

export interface ResetResult {
  ok: boolean;
  root_restored: boolean;
  detail: string;
  sessions_closed: number;
  [key: string]: unknown;
}

export interface WaitOptions {
  /** Give up after this long (default 5000 ms; at most 600s). */
  timeout?: Duration;
}

export interface WaitForCommandOptions extends WaitOptions {
  /** How many commands to wait for (default 1). */
  count?: number;
}

export interface AddUserOptions {
  /** Its home directory (made if missing). */
  home?: string;
  readOnly?: boolean;
  /** Confined to its home. */
  chroot?: boolean;
  /** An empty tree of its own. */
  ownRoot?: boolean;
}

export interface ExpectOptions {
  /** Exactly this many times. */
  times?: number;
  atLeast?: number;
  atMost?: number;
  /** Never (exactly 0 times). */
  never?: boolean;
  /** The argument, exact or a glob ("*.csv"). */
  arg?: string;
  /** Only commands of this user. */
  user?: string;
  /** Only commands of this session. */
  session?: number;
}

/** What connect() needs: a ready line (or GET /status's answer), plus the control token if any. */
export interface ServerInfo extends Partial<ReadyLine> {
  control: string;
  controlToken?: string | null;
}

/** A running ftpfixture server and a client of its control API. */
export declare class FtpServer {
  /** Use startServer() or connect(). */
  private constructor();
  readonly ready: ReadyLine;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** "ftp://127.0.0.1:PORT" */
  readonly url: string;
  /** The control API's base URL, "http://127.0.0.1:PORT". */
  readonly controlUrl: string;
  /** The PEM file with the CA to trust (TLS only), else null. */
  readonly caFile: string | null;
  /** The served directory (null with `memory`). */
  readonly root: string | null;
  readonly tls: "none" | "explicit" | "implicit";
  /** The command line, binary first (empty for connect()). */
  readonly args: string[];
  /** The process id (null for connect()). */
  readonly pid: number | null;
  readonly running: boolean;
  /** The exit code once stopped (null while running, or when a signal ended it). */
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  /** The last 64 KiB of the server's log (stderr). */
  readonly stderr: string;

  /** What connect() needs to make another handle to this server. */
  info(): ServerInfo;
  /** `{ ca }` for tls.connect() and basic-ftp's secureOptions (TLS servers only). */
  tlsOptions(): { ca: Buffer };

  status(): Promise<Status>;
  reset(): Promise<ResetResult>;

  inject(rule: string | { rule: string }): Promise<number>;
  inject(rules: Array<string | { rule: string }>): Promise<number[]>;
  faults(): Promise<Fault[]>;
  removeFault(id: number): Promise<void>;
  clearFaults(): Promise<number>;

  transcript(session?: number | { session?: number }): Promise<TranscriptEvent[]>;
  render(session?: number | { session?: number }): Promise<string>;
  clearTranscript(): Promise<void>;
  waitForSessionEnd(session: number, options?: WaitOptions | Duration): Promise<TranscriptEvent[]>;
  waitForCommand(verb: string, options?: WaitForCommandOptions | Duration): Promise<TranscriptEvent[]>;

  putFile(path: string, data: string | ArrayBuffer | ArrayBufferView): Promise<{ path: string; size: number }>;
  getFile(path: string): Promise<Buffer>;
  getFile(path: string, encoding: BufferEncoding): Promise<string>;
  listDir(path?: string): Promise<DirEntry[]>;
  deleteFile(path: string): Promise<void>;

  addUser(name: string, password: string, options?: AddUserOptions): Promise<{ name: string }>;
  removeUser(name: string): Promise<void>;

  expect(command: string, options?: ExpectOptions): Promise<string>;
  verify(): Promise<void>;

  stop(options?: { timeout?: Duration }): Promise<number | null>;
  [Symbol.asyncDispose](): Promise<number | null>;
}

/** Start a server on free ports with its control API; resolves once it is ready. */
export declare function startServer(options?: StartOptions): Promise<FtpServer>;

/** A handle to a server started elsewhere, from its ready line / info() / GET /status. */
export declare function connect(
  ready: ServerInfo,
  options?: { controlToken?: string; httpTimeout?: Duration },
): FtpServer;

/** The binary startServer() runs: FTPFIXTURE_BINARY, the platform package's, or PATH's. */
export declare function findBinary(): string;

/** This machine as the platform packages name it. */
export declare function platformKey(): { platform: string; arch: string; libc: "gnu" | "musl" | null; key: string };

/** The CLI arguments startServer(options) passes (without the binary). */
export declare function commandLine(options?: StartOptions): string[];

export declare const VERSION: string;
export declare const BINARY_ENV: readonly string[];
export declare const PLATFORM_PACKAGES: Readonly<Record<string, string>>;

export declare class FtpfixtureError extends Error {}

export declare class BinaryNotFoundError extends FtpfixtureError {
  readonly code: "ENOENT";
  readonly platform?: { platform: string; arch: string; libc: string | null; key: string };
  readonly tried: string[];
}

export declare class StartError extends FtpfixtureError {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the process wrote to stderr. */
  readonly stderr: string;
  readonly args: string[];
}

export declare class ControlError extends FtpfixtureError {
  /** The HTTP status; null when the control API could not be reached. */
  readonly status: number | null;
  /** The server's "error" text. */
  readonly error: string;
  /** The decoded JSON body, if any. */
  readonly body: unknown;
  readonly method: string;
  readonly path: string;
}

export declare class WaitTimeout extends ControlError {
  /** The rendered transcript when the wait gave up. */
  readonly transcript: string;
}

export declare class VerifyError extends AssertionError {
  readonly unmet: Array<{ expectation: string; count: number }>;
  readonly replay: unknown[];
  readonly transcript: string;
}
