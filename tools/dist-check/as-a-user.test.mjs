// A test file as a user of the ftpfixture npm package writes it:
// `npm install --save-dev ftpfixture basic-ftp`, then `node --test`.
//
// tools/test-dist copies it into a fresh Node project outside the repository
// that has only the tarballs from dist/ and basic-ftp installed, and no
// FTPFIXTURE_* variable set: the binary must come from the platform package.
// clients/node/test/package.test.mjs runs it the same way against freshly
// packed tarballs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { Client } from "basic-ftp";
import { startServer } from "ftpfixture";

/** A stream that keeps what basic-ftp downloads into it. */
function memory() {
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  stream.text = () => Buffer.concat(chunks).toString("utf8");
  return stream;
}

async function connect(server) {
  const client = new Client(10_000);
  await client.access({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
  });
  return client;
}

test("download a seeded file, then a fault, and read the transcript", async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  assert.equal(server.host, "127.0.0.1");
  assert.ok(server.port > 0);
  assert.ok(server.pid > 0);

  await server.putFile("inbox/hello.txt", "hello from ftpfixture\n");

  const client = await connect(server);
  try {
    const first = memory();
    await client.downloadTo(first, "inbox/hello.txt");
    assert.equal(first.text(), "hello from ftpfixture\n");

    // The next RETR (the first after the rule is added) gets a 550.
    await server.inject("RETR#1 reply=550");
    await assert.rejects(client.downloadTo(memory(), "inbox/hello.txt"), /550/);

    // The fault fired once: the download after it works again.
    const third = memory();
    await client.downloadTo(third, "inbox/hello.txt");
    assert.equal(third.text(), "hello from ftpfixture\n");
  } finally {
    client.close();
  }
  await server.waitForSessionEnd(1);

  const events = await server.transcript();
  const retrs = events.filter((e) => e.event === "command" && e.line === "RETR inbox/hello.txt");
  assert.equal(retrs.length, 3);
  const fired = events.filter((e) => e.event === "fault");
  assert.equal(fired.length, 1);
  assert.match(fired[0].rule, /^RETR#1 reply=550/);
  assert.deepEqual((await server.faults()).map((f) => f.fired), [1]);

  const text = await server.render();
  assert.match(text, /^#1 C> RETR inbox\/hello\.txt$/m);
  assert.match(text, /^#1 !! fault RETR#1 reply=550/m);
  assert.match(text, /^#1 S> 550 /m);

  const pid = server.pid;
  assert.equal(await server.stop(), 0);
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" }, "stop() reaped the process");
});

test("two servers at once have their own ports and trees", async (t) => {
  const [a, b] = await Promise.all([startServer(), startServer()]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  assert.notEqual(a.port, b.port);
  await a.putFile("only-in-a.txt", "a");
  const client = await connect(b);
  try {
    assert.deepEqual((await client.list()).map((f) => f.name), []);
  } finally {
    client.close();
  }
  assert.deepEqual((await a.listDir("/")).map((e) => e.name), ["only-in-a.txt"]);
});

// Not what a user writes, but what this check is for: the server above ran
// the binary of the platform package npm installed, not some ftpfixture on
// PATH (tools/test-dist's PATH has the wheel's).
const linuxX64 = process.platform === "linux" && process.arch === "x64";
test("the binary is the one of the platform package", { skip: !linuxX64 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  assert.match(server.args[0], /\/node_modules\/@ftpfixture\/linux-x64-gnu\/bin\/ftpfixture$/);
});
