// Shared by the tests: a basic-ftp client, an in-memory sink, and bounded
// polls (never a fixed sleep).
import fs from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { Writable } from "node:stream";
import { Client } from "basic-ftp";

/** A basic-ftp client logged in to `server` (as its main account unless told otherwise). */
export async function connectFtp(server, { user = server.user, password = server.password, ...more } = {}) {
  const client = new Client(10_000);
  try {
    await client.access({ host: server.host, port: server.port, user, password, ...more });
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/** A Writable that keeps what it is given; `.text()` and `.bytes()` read it. */
export function sink() {
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  stream.bytes = () => Buffer.concat(chunks);
  stream.text = () => Buffer.concat(chunks).toString("utf8");
  return stream;
}

/** Download `name` with basic-ftp and return its text. */
export async function download(client, name) {
  const out = sink();
  await client.downloadTo(out, name);
  return out.text();
}

/** Whether process `pid` has exited: gone, or a zombie its new parent has not reaped yet. */
export function pidGone(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code === "ESRCH") return true;
    throw err;
  }
  if (process.platform === "linux") {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      return state === "Z" || state === "X";
    } catch {
      return true;
    }
  }
  return false;
}

/** Poll `check` every 10 ms until it returns truthy; fail after `timeout` ms with `what`. */
export async function waitUntil(check, what, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeout}ms: ${what}`);
    await delay(10);
  }
}
