// ftpfixture/node-test: one server per file (or describe block), reset before each test.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { FtpServer, FtpfixtureError } from "ftpfixture";
import { useFtpServer } from "ftpfixture/node-test";
import { connectFtp, download } from "./helpers.mjs";

const server = useFtpServer({ faults: ["RETR#1 reply=550"] });
let firstPid;

assert.throws(() => server.port, FtpfixtureError, "not started at the top level");

test("the first test changes the server", async (t) => {
  assert.ok(server instanceof FtpServer);
  firstPid = server.pid;
  await server.putFile("only-in-test-1.txt", "1");
  await server.inject("STOR reply=452");
  const client = await connectFtp(server);
  t.after(() => client.close());
  await assert.rejects(download(client, "only-in-test-1.txt"), /550/); // the start fault
  await assert.rejects(client.uploadFrom(Readable.from(["x"]), "x.txt"), /452/);
});

test("the next test gets it clean: same process, reset", async (t) => {
  assert.equal(server.pid, firstPid);
  assert.deepEqual(await server.listDir("/"), []);
  assert.deepEqual((await server.faults()).map((f) => [f.rule.split(" ")[0], f.fired]), [["RETR#1", 0]]);
  await server.putFile("b.txt", "b");
  const client = await connectFtp(server);
  t.after(() => client.close());
  await assert.rejects(download(client, "b.txt"), /550/); // fresh count: it fires again
  assert.equal(await download(client, "b.txt"), "b");
  assert.match(await server.render(), /^#1 C> RETR b\.txt$/m);
});

describe("a describe block with a server of its own", () => {
  const tls = useFtpServer({ tls: "explicit", reset: false });

  test("has its own options and process", async () => {
    assert.equal(tls.tls, "explicit");
    assert.notEqual(tls.pid, server.pid);
    await tls.putFile("kept.txt", "k");
  });

  test("reset: false keeps the state between tests", async () => {
    assert.deepEqual((await tls.listDir("/")).map((e) => e.name), ["kept.txt"]);
  });
});

test("the handle spreads like a server object", () => {
  const { host, port, user, password } = { ...server };
  assert.deepEqual({ host, port, user, password }, { host: server.host, port: server.port, user: "admin", password: "123456" });
});
