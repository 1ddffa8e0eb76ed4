// A server is never left behind: the test process ending (normally, by
// process.exit, by an uncaught exception, or by a signal) stops it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pidGone, waitUntil } from "./helpers.mjs";

const script = fileURLToPath(new URL("./fixtures/exit-child.mjs", import.meta.url));

/** Run the child script in `mode`; resolve to its exit and the server it started. */
function runChild(mode, signal) {
  return new Promise((resolve, reject) => {
    // The 15 s timeout only bounds a hang (a forgotten server keeping the
    // child alive would be one); it kills the child with SIGKILL.
    const child = spawn(process.execPath, [script, mode], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 15000,
      killSignal: "SIGKILL",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
      if (signal && stdout.includes("\n")) child.kill(signal);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, sig) => {
      try {
        resolve({ code, signal: sig, stderr, server: JSON.parse(stdout.split("\n")[0]) });
      } catch {
        reject(new Error(`the child printed no server (exit ${code}, signal ${sig}): ${stdout}\n${stderr}`));
      }
    });
  });
}

const cases = [
  { mode: "return", code: 0, signal: null, how: "the event loop empties (server never stopped)" },
  { mode: "exit", code: 3, signal: null, how: "process.exit(3)" },
  { mode: "throw", code: 1, signal: null, how: "an uncaught exception" },
  { mode: "signal", send: "SIGTERM", code: null, signal: "SIGTERM", how: "SIGTERM" },
  { mode: "signal", send: "SIGINT", code: null, signal: "SIGINT", how: "SIGINT" },
  { mode: "signal", send: "SIGHUP", code: null, signal: "SIGHUP", how: "SIGHUP" },
];

for (const c of cases) {
  test(`the server stops when the test process ends by ${c.how}`, async () => {
    const result = await runChild(c.mode, c.send);
    assert.equal(result.signal, c.signal, `child stderr: ${result.stderr}`);
    assert.equal(result.code, c.code, `child stderr: ${result.stderr}`);
    if (c.mode === "throw") assert.match(result.stderr, /boom \(expected by the test\)/);
    const { pid, root } = result.server;
    assert.ok(Number.isInteger(pid));
    await waitUntil(() => pidGone(pid), `server pid ${pid} gone`);
    // SIGTERM first, so the server shut down cleanly and removed its temp root.
    await waitUntil(() => !fs.existsSync(root), `temp root ${root} removed`);
  });
}
