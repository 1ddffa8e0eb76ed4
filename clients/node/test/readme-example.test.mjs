// test/uploader.test.mjs: an FTP uploader tested against ftpfixture.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Readable } from "node:stream";
import { Client } from "basic-ftp";
import { startServer } from "ftpfixture";
import { useFtpServer } from "ftpfixture/node-test";

/** The code under test: upload `data` as `name`, retrying on 4xx replies; resolves to the attempt that worked. */
async function upload({ host, port, user, password, ca }, name, data, attempts = 3) {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const client = new Client(10_000);
    try {
      await client.access({ host, port, user, password, secure: Boolean(ca), secureOptions: { ca } });
      await client.uploadFrom(Readable.from([data]), name);
      return attempt;
    } catch (err) {
      if (!(err.code >= 400 && err.code < 500)) throw err; // basic-ftp's FTPError has the reply code
    } finally {
      client.close();
    }
  }
  throw new Error(`upload failed after ${attempts} attempts`);
}

// One server for this file, reset before each test: the tree as at start,
// no faults, no expectations, an empty transcript, sessions numbered from 1.
const server = useFtpServer();

test("uploads a file", async () => {
  assert.equal(await upload(server, "report.csv", "a,b\n1,2\n"), 1);
  assert.equal(await server.getFile("report.csv", "utf8"), "a,b\n1,2\n");
  await server.waitForSessionEnd(1); // a bounded wait, never a sleep
  assert.match(await server.render(), /^#1 C> STOR report\.csv$/m);
});

test("retries when the disk is full", async () => {
  await server.inject("STOR#1 reply=452"); // the next STOR gets a 452, once
  await server.expect("STOR", { times: 2 });
  assert.equal(await upload(server, "report.csv", "data"), 2);
  await server.verify(); // throws a VerifyError, with the transcript, if not met
});

test("gives up after three 452s", async () => {
  await server.inject("STOR reply=452"); // every STOR
  await assert.rejects(upload(server, "report.csv", "data"), /after 3 attempts/);
  await server.waitForCommand("STOR", { count: 3 });
  assert.deepEqual(await server.listDir("/"), []);
});

test("uploads over explicit FTPS", async (t) => {
  const ftps = await startServer({ tls: "explicit", user: "alice", password: "wonderland" });
  t.after(() => ftps.stop());
  const ca = fs.readFileSync(ftps.caFile);
  assert.equal(await upload({ ...ftps.info(), ca }, "secret.txt", "s3cret"), 1);
  assert.equal(await ftps.getFile("secret.txt", "utf8"), "s3cret");
  await ftps.waitForSessionEnd(1);
  assert.match(await ftps.render(), /^#1 C> PROT P$/m);
});
