// The handle startServer() returns, driven with basic-ftp as the FTP client.
// Run with FTPFIXTURE_BINARY=/path/to/ftpfixture (test.sh sets it).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { Readable } from "node:stream";
import { createRequire } from "node:module";
import {
  startServer,
  connect,
  FtpServer,
  ControlError,
  WaitTimeout,
  VerifyError,
  FtpfixtureError,
} from "ftpfixture";
import { connectFtp, download, pidGone, waitUntil } from "./helpers.mjs";

describe("one server, many operations", () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  test("the handle says where the server is", async () => {
    assert.ok(server instanceof FtpServer);
    assert.equal(server.host, "127.0.0.1");
    assert.ok(Number.isInteger(server.port) && server.port > 0);
    assert.equal(server.user, "admin");
    assert.equal(server.password, "123456");
    assert.equal(server.url, `ftp://127.0.0.1:${server.port}`);
    assert.match(server.controlUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.caFile, null);
    assert.equal(server.tls, "none");
    assert.ok(server.root && fs.statSync(server.root).isDirectory());
    assert.ok(server.running);
    assert.ok(Number.isInteger(server.pid));
    assert.deepEqual(server.args.slice(1, 5), ["--port", "0", "--control", "0"]);
    const status = await server.status();
    assert.equal(status.port, server.port);
    assert.equal(status.sessions_open, 0);
  });

  test("putFile, getFile, listDir, deleteFile, and basic-ftp sees the same tree", async (t) => {
    await server.reset();
    assert.deepEqual(await server.putFile("inbox/hello.txt", "hello\n"), { path: "/inbox/hello.txt", size: 6 });
    await server.putFile("inbox/raw.bin", Buffer.from([0, 1, 2, 255]));
    await server.putFile("inbox/with space.txt", new Uint8Array([104, 105]));

    const bytes = await server.getFile("inbox/raw.bin");
    assert.ok(Buffer.isBuffer(bytes));
    assert.deepEqual([...bytes], [0, 1, 2, 255]);
    assert.equal(await server.getFile("/inbox/hello.txt", "utf8"), "hello\n");
    assert.equal(await server.getFile("inbox/with space.txt", "utf8"), "hi");

    const entries = await server.listDir("inbox");
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]).sort(), [
      ["hello.txt", "file", 6],
      ["raw.bin", "file", 4],
      ["with space.txt", "file", 2],
    ]);
    assert.deepEqual((await server.listDir()).map((e) => [e.name, e.type]), [["inbox", "dir"]]);

    const client = await connectFtp(server);
    t.after(() => client.close());
    assert.equal(await download(client, "inbox/hello.txt"), "hello\n");
    await client.uploadFrom(Readable.from(["uploaded by basic-ftp"]), "inbox/up.txt");
    assert.equal(await server.getFile("inbox/up.txt", "utf8"), "uploaded by basic-ftp");

    await server.deleteFile("inbox/raw.bin");
    assert.deepEqual((await server.listDir("inbox")).map((e) => e.name).sort(), ["hello.txt", "up.txt", "with space.txt"]);
    await assert.rejects(server.getFile("inbox/raw.bin"), (err) => err instanceof ControlError && err.status === 404);
    await server.deleteFile("inbox");
    assert.deepEqual(await server.listDir("/"), []);
  });

  test("a 452 on STOR fails basic-ftp's upload once", async (t) => {
    await server.reset();
    const id = await server.inject("STOR#1 reply=452");
    assert.equal(typeof id, "number");
    const client = await connectFtp(server);
    t.after(() => client.close());
    await assert.rejects(client.uploadFrom(Readable.from(["a,b\n"]), "report.csv"), /452/);
    await client.uploadFrom(Readable.from(["a,b\n"]), "report.csv");
    assert.equal(await server.getFile("report.csv", "utf8"), "a,b\n");
    const faults = await server.faults();
    assert.equal(faults.length, 1);
    assert.equal(faults[0].id, id);
    assert.equal(faults[0].fired, 1);
    assert.match(faults[0].rule, /^STOR#1 reply=452/);
  });

  test("inject a list, remove one, clear the rest; a bad rule is a 400 naming the problem", async () => {
    await server.reset();
    const ids = await server.inject(["RETR#2 drop-data after=10", { rule: "LIST reply=450" }, "* delay=1ms"]);
    assert.equal(ids.length, 3);
    await server.removeFault(ids[1]);
    assert.deepEqual((await server.faults()).map((f) => f.id), [ids[0], ids[2]]);
    await assert.rejects(server.removeFault(9999), (err) => err instanceof ControlError && err.status === 404);
    assert.equal(await server.clearFaults(), 2);
    assert.deepEqual(await server.faults(), []);

    const err = await server.inject("STOR bogus=1").then(
      () => assert.fail("a bad rule was accepted"),
      (e) => e,
    );
    assert.ok(err instanceof ControlError && err instanceof FtpfixtureError);
    assert.equal(err.status, 400);
    assert.equal(err.method, "POST");
    assert.equal(err.path, "/faults");
    assert.match(err.error, /unknown option "bogus"/);
    assert.match(err.message, /^POST \/faults -> 400: bad fault rule/);
    assert.deepEqual(await server.faults(), []);
  });

  test("transcript, render (all or one session) and clearTranscript", async () => {
    await server.reset();
    await server.putFile("report.csv", "a,b\n");
    const client = await connectFtp(server);
    assert.equal(await download(client, "report.csv"), "a,b\n");
    client.close();
    await server.waitForSessionEnd(1);

    const events = await server.transcript();
    assert.ok(Array.isArray(events));
    const retr = events.find((e) => e.event === "command" && e.line === "RETR report.csv");
    assert.ok(retr, "a RETR command event");
    assert.equal(retr.session, 1);
    const ofOne = await server.transcript(1);
    assert.ok(ofOne.length > 0 && ofOne.every((e) => e.session === 1));
    assert.deepEqual(await server.transcript({ session: 1 }), ofOne);

    const text = await server.render();
    assert.match(text, /^#0 \*\* PUT \/files\/report\.csv/m);
    assert.match(text, /^#1 C> PASS \*{6}$/m);
    assert.match(text, /^#1 C> RETR report\.csv$/m);
    assert.match(text, /^#1 S> 226 /m);
    const one = await server.render(1);
    assert.doesNotMatch(one, /^#0 /m);
    assert.match(one, /^#1 C> RETR report\.csv$/m);

    await server.clearTranscript();
    assert.deepEqual(await server.transcript(1), []);
  });

  test("waitForCommand resolves when the command arrives, and times out with the transcript", async (t) => {
    await server.reset();
    await server.putFile("a.txt", "a");
    const client = await connectFtp(server);
    t.after(() => client.close());
    const waiting = server.waitForCommand("RETR", { count: 2, timeout: 5000 });
    await download(client, "a.txt");
    await download(client, "a.txt");
    const events = await waiting;
    assert.equal(events.filter((e) => e.event === "command" && e.line === "RETR a.txt").length, 2);

    const started = Date.now();
    const err = await server.waitForCommand("DELE", { timeout: 200 }).then(
      () => assert.fail("DELE never came"),
      (e) => e,
    );
    assert.ok(err instanceof WaitTimeout && err instanceof ControlError);
    assert.equal(err.status, 408);
    assert.ok(Date.now() - started >= 150, "it waited for the timeout");
    assert.match(err.transcript, /#1 C> RETR a\.txt/);
    assert.match(err.message, /transcript:\n/);
  });

  test("addUser: the new account logs in; removeUser: it no longer does", async () => {
    await server.reset();
    assert.deepEqual(await server.addUser("alice", "wonderland", { home: "/alice" }), { name: "alice" });
    await server.putFile("alice/todo.txt", "write tests\n");
    const client = await connectFtp(server, { user: "alice", password: "wonderland" });
    assert.equal(await client.pwd(), "/alice");
    assert.equal(await download(client, "todo.txt"), "write tests\n");
    client.close();
    await assert.rejects(connectFtp(server, { user: "alice", password: "wrong" }), /530/);

    await server.removeUser("alice");
    await assert.rejects(connectFtp(server, { user: "alice", password: "wonderland" }), /530/);
    await assert.rejects(server.removeUser("alice"), (err) => err instanceof ControlError && err.status === 404);
  });

  test("expect and verify: unmet expectations throw a VerifyError, met ones pass", async (t) => {
    await server.reset();
    assert.equal(await server.expect("STOR", { times: 2 }), "STOR: exactly 2 time(s)");
    await server.expect("DELE", { never: true });
    await server.expect("RETR", { atLeast: 1, arg: "*.csv" });

    const err = await server.verify().then(
      () => assert.fail("verify passed with nothing sent"),
      (e) => e,
    );
    assert.ok(err instanceof VerifyError);
    assert.ok(err instanceof assert.AssertionError, "an AssertionError, as test runners expect");
    assert.equal(err.unmet.length, 2);
    assert.match(err.message, /expectations not met/);
    assert.match(err.message, /STOR: exactly 2 time\(s\) \(received 0\)/);
    assert.deepEqual(
      err.unmet.map((u) => [u.expectation.split(":")[0], u.count]), // "RETR arg=*.csv: at least 1 time(s)"
      [["STOR", 0], ["RETR arg=*.csv", 0]],
    );
    assert.match(err.message, /^  - RETR.*\(received 0\)$/m);
    assert.match(err.transcript, /POST \/expectations/);

    const client = await connectFtp(server);
    t.after(() => client.close());
    await client.uploadFrom(Readable.from(["1"]), "a.csv");
    await client.uploadFrom(Readable.from(["2"]), "b.csv");
    await download(client, "a.csv");
    await server.verify();

    await client.remove("b.csv");
    await assert.rejects(server.verify(), (e) => e instanceof VerifyError && /DELE: exactly 0 time\(s\) \(received 1\)/.test(e.message));
  });

  test("reset: files, faults, users, expectations and the transcript are back to the start", async () => {
    await server.putFile("left-over.txt", "x");
    await server.inject("STOR reply=452");
    await server.addUser("bob", "builder");
    await server.expect("NOOP", { times: 5 });
    const client = await connectFtp(server);

    const answer = await server.reset();
    assert.equal(answer.ok, true);
    assert.equal(answer.root_restored, true);
    assert.equal(answer.sessions_closed, 1);
    client.close();

    assert.deepEqual(await server.listDir("/"), []);
    assert.deepEqual(await server.faults(), []);
    await server.verify();
    await assert.rejects(connectFtp(server, { user: "bob", password: "builder" }), /530/);
    const text = await server.render();
    assert.doesNotMatch(text, /left-over/);
    // sessions are numbered from 1 again (the failed login above was #1)
    assert.match(text, /^#1 C> USER bob$/m);
  });
});

test("start options: accounts, faults at start (again after reset), greeting, readOnly", async (t) => {
  const server = await startServer({
    user: "main",
    password: "pw",
    accounts: ["carol:c1", ["dave", "d1", "/dave"], { name: "erin", password: "e1" }],
    faults: ["RETR#1 reply=550"],
    greeting: "Hello from the Node test",
    readOnly: true,
  });
  t.after(() => server.stop());
  assert.equal(server.user, "main");
  assert.equal(server.password, "pw");
  assert.ok(server.args.includes("--read-only"));
  await server.putFile("f.txt", "f");

  for (const [user, password] of [["main", "pw"], ["carol", "c1"], ["dave", "d1"], ["erin", "e1"]]) {
    const client = await connectFtp(server, { user, password });
    client.close();
  }
  const client = await connectFtp(server);
  t.after(() => client.close());
  await assert.rejects(download(client, "/f.txt"), /550/);
  assert.equal(await download(client, "/f.txt"), "f");
  await assert.rejects(client.uploadFrom(Readable.from(["x"]), "/g.txt"), /55\d/);
  assert.match(await server.render(), /^#1 S> 220 Hello from the Node test$/m);

  await server.reset();
  assert.deepEqual((await server.faults()).map((f) => [f.rule.split(" ")[0], f.fired]), [["RETR#1", 0]]);
});

test("a scenario file and a fixtures directory (paths may be URLs)", async (t) => {
  const scenario = new URL("../../../fixtures/scenarios/basic.toml", import.meta.url);
  const server = await startServer({ scenario });
  t.after(() => server.stop());
  assert.notEqual(server.port, 2121, "--port 0 wins over the scenario's port");
  assert.equal(await server.getFile("pub/hello.txt", "utf8"), "hello from ftpfixture\n");
  const client = await connectFtp(server, { user: "alice", password: "wonderland" });
  t.after(() => client.close());
  assert.equal(await download(client, "todo.txt"), "write tests\n");
});

test("verify lists replay problems: a command the recording cannot answer", async (t) => {
  const recording = fs.mkdtempSync(path.join(os.tmpdir(), "ftpfixture-node-replay-"));
  t.after(() => fs.rmSync(recording, { recursive: true, force: true }));
  fs.mkdirSync(path.join(recording, "sessions"));
  fs.writeFileSync(
    path.join(recording, "sessions", "0001.txt"),
    "< 220 Partner FTP ready\n" +
      "> USER partner\n< 331 Password please\n" +
      "> PASS <redacted>\n< 230 Welcome, partner\n" +
      "> CWD outbox\n< 250 CWD ok\n" +
      "> QUIT\n< 221 Bye\n",
  );
  const server = await startServer({ replay: recording });
  t.after(() => server.stop());

  // A raw control connection: the replay answers exactly what was recorded.
  const socket = net.connect(server.port, server.host);
  t.after(() => socket.destroy());
  socket.setEncoding("utf8");
  const lines = [];
  let buffered = "";
  socket.on("data", (chunk) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf("\r\n")) >= 0) {
      lines.push(buffered.slice(0, i));
      buffered = buffered.slice(i + 2);
    }
  });
  const reply = async (send) => {
    const seen = lines.length;
    if (send) socket.write(send + "\r\n");
    await waitUntil(() => lines.length > seen, `a reply to ${send}`);
    return lines[lines.length - 1];
  };
  assert.equal(await reply(null), "220 Partner FTP ready");
  assert.equal(await reply("USER partner"), "331 Password please");
  assert.match(await reply("PASS whatever"), /^230 Welcome/);
  assert.match(await reply("DELE x"), /^550 Replay miss/);
  assert.equal(await reply("CWD outbox"), "250 CWD ok");
  const closed = once(socket, "close");
  assert.equal(await reply("QUIT"), "221 Bye");
  await closed;

  const err = await server.verify().then(
    () => assert.fail("verify passed despite a replay miss"),
    (e) => e,
  );
  assert.ok(err instanceof VerifyError);
  assert.equal(err.unmet.length, 0);
  assert.equal(err.replay.length, 1);
  assert.match(err.message, /^ftpfixture: replay problems:/);
  assert.match(err.message, /DELE x/);
});

test("TLS explicit and implicit: basic-ftp trusts caFile, and fails without it", async (t) => {
  for (const mode of ["explicit", "implicit"]) {
    const server = await startServer({ tls: mode });
    t.after(() => server.stop());
    assert.equal(server.tls, mode);
    assert.ok(server.caFile && fs.readFileSync(server.caFile, "utf8").includes("BEGIN CERTIFICATE"));
    assert.deepEqual(server.tlsOptions(), { ca: fs.readFileSync(server.caFile) });
    await server.putFile("secret.txt", "s3cret");

    const secure = mode === "implicit" ? "implicit" : true;
    const client = await connectFtp(server, { secure, secureOptions: { ca: fs.readFileSync(server.caFile) } });
    assert.equal(await download(client, "secret.txt"), "s3cret");
    await client.uploadFrom(Readable.from(["up"]), "up.txt");
    client.close();
    assert.equal(await server.getFile("up.txt", "utf8"), "up");
    await server.waitForSessionEnd(1);
    const text = await server.render();
    if (mode === "explicit") assert.match(text, /^#1 C> AUTH TLS$/m);
    assert.match(text, /^#1 C> PROT P$/m);

    await assert.rejects(connectFtp(server, { secure }), /self.signed|unable to verify|certificate/i);
  }
  const plain = await startServer();
  t.after(() => plain.stop());
  assert.throws(() => plain.tlsOptions(), FtpfixtureError);
});

test("stop reaps the process; stop again is harmless; the API is then unreachable", async () => {
  const server = await startServer();
  const pid = server.pid;
  assert.ok(!pidGone(pid));
  const root = server.root;
  const [first, second] = await Promise.all([server.stop(), server.stop()]);
  assert.equal(first, 0);
  assert.equal(second, 0);
  assert.equal(await server.stop(), 0);
  assert.equal(server.running, false);
  assert.equal(server.exitCode, 0);
  // Our own child: reaped by stop(), so the pid is gone, not a zombie.
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
  assert.equal(fs.existsSync(root), false, "the temp root was removed");
  await assert.rejects(
    server.status(),
    (err) => err instanceof ControlError && err.status === null && /unreachable/.test(err.message),
  );
});

test("stop falls back to signals when the server does not shut down", async () => {
  const server = await startServer();
  const pid = server.pid;
  process.kill(pid, "SIGSTOP"); // it cannot answer /shutdown nor act on SIGTERM
  const started = Date.now();
  const code = await server.stop({ timeout: 300 });
  assert.equal(code, null);
  assert.equal(server.signalCode, "SIGKILL");
  assert.ok(Date.now() - started >= 300);
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
});

test("connect(): a second handle to a running server, by its ready line", async (t) => {
  const server = await startServer({ controlToken: "t0ken" });
  t.after(() => server.stop());
  const other = connect(server.info());
  assert.equal(other.port, server.port);
  assert.equal(other.pid, null);
  await other.putFile("x.txt", "x");
  assert.equal(await server.getFile("x.txt", "utf8"), "x");
  const noToken = connect({ ...server.ready });
  await assert.rejects(noToken.status(), (err) => err instanceof ControlError && err.status === 401);
  const fromStatus = connect(await server.status(), { controlToken: "t0ken" });
  assert.equal(fromStatus.url, server.url);
});

test("require() and import give the same module", async () => {
  const require = createRequire(import.meta.url);
  const cjs = require("ftpfixture");
  assert.equal(cjs.startServer, startServer);
  assert.equal(cjs.VerifyError, VerifyError);
  assert.equal(typeof require("ftpfixture/node-test").useFtpServer, "function");
  assert.equal(require("ftpfixture/package.json").name, "ftpfixture");
});
