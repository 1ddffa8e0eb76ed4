// Clear errors: no binary, a bad option, a server that fails to start.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  startServer,
  findBinary,
  platformKey,
  commandLine,
  BinaryNotFoundError,
  StartError,
  FtpfixtureError,
} from "ftpfixture";

/** Run `fn` with some environment variables changed, then put them back. */
async function withEnv(changes, fn) {
  const saved = {};
  for (const [key, value] of Object.entries(changes)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

test("FTPFIXTURE_BINARY pointing at nothing is a BinaryNotFoundError naming the variable", async () => {
  await withEnv({ FTPFIXTURE_BINARY: "/nonexistent/ftpfixture" }, async () => {
    assert.throws(findBinary, (err) => err instanceof BinaryNotFoundError && /FTPFIXTURE_BINARY="\/nonexistent\/ftpfixture" is not an executable file/.test(err.message));
    await assert.rejects(startServer(), BinaryNotFoundError);
  });
  // A file that is not executable is no better.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftpfixture-node-"));
  try {
    const file = path.join(dir, "ftpfixture");
    fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o644 });
    await withEnv({ FTPFIXTURE_BINARY: file }, () => assert.throws(findBinary, BinaryNotFoundError));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("no binary anywhere: the error names the platform and the package it looked for", async (t) => {
  const where = platformKey();
  assert.equal(where.platform, process.platform);
  assert.equal(where.arch, process.arch);
  await withEnv({ FTPFIXTURE_BINARY: undefined, FTPFIXTURE_BIN: undefined, PATH: "" }, async () => {
    const err = (() => {
      try {
        findBinary();
      } catch (e) {
        return e;
      }
      return null;
    })();
    if (err === null) {
      t.skip("a platform package is installed in node_modules, so there is a binary");
      return;
    }
    assert.ok(err instanceof BinaryNotFoundError && err instanceof FtpfixtureError);
    assert.match(err.message, new RegExp(`platform ${process.platform}, arch ${process.arch}, libc ${where.libc || "n/a"}`));
    assert.match(err.message, /FTPFIXTURE_BINARY/);
    // The platform package is not installed, or (as in this checkout, where it is a workspace) has no binary.
    if (where.key === "linux-x64-gnu") assert.match(err.message, /@ftpfixture\/linux-x64-gnu \(not installed\)|linux-x64-gnu\/bin\/ftpfixture \(missing\)/);
    await assert.rejects(startServer(), BinaryNotFoundError);
  });
});

test("a server that fails to start: StartError with its exit code and stderr", async () => {
  const err = await startServer({ faults: ["STOR bogus=1"] }).then(
    (server) => {
      server.stop();
      assert.fail("the server started with a bad rule");
    },
    (e) => e,
  );
  assert.ok(err instanceof StartError);
  assert.equal(err.exitCode, 2);
  assert.match(err.stderr, /unknown option "bogus"/);
  assert.match(
    err.message,
    /^ftpfixture exited before printing its ready line \(exit code 2; command: \S+ --port 0 --control 0 --fault "STOR bogus=1"\)\n/,
  );
  assert.match(err.message, /stderr:\n.*bad fault rule/);
});

test("a binary that prints no ready line in time: StartError, and the process is killed", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftpfixture-node-"));
  try {
    const file = path.join(dir, "silent");
    fs.writeFileSync(file, "#!/bin/sh\necho starting >&2\nexec sleep 30\n", { mode: 0o755 });
    const started = Date.now();
    const err = await startServer({ binary: file, startupTimeout: 300 }).then(
      () => assert.fail("started"),
      (e) => e,
    );
    assert.ok(err instanceof StartError);
    assert.match(err.message, /printed no ready line within 300ms/);
    assert.equal(err.signal, "SIGKILL");
    assert.match(err.stderr, /starting/);
    assert.ok(Date.now() - started < 5000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("unknown options and bad values are TypeErrors before anything runs", () => {
  assert.throws(() => commandLine({ tsl: "explicit" }), /unknown startServer option\(s\): tsl \(known: /);
  assert.throws(() => commandLine({ tls: "sometimes" }), TypeError);
  assert.throws(() => commandLine({ idleTimeout: -1 }), TypeError);
  assert.throws(() => commandLine({ accounts: [42] }), TypeError);
});

test("options become the CLI's flags", () => {
  assert.deepEqual(
    commandLine({
      tls: true,
      user: "u",
      password: "p",
      accounts: "a:b",
      anonymous: true,
      readOnly: true,
      chroot: true,
      faults: "STOR reply=452",
      fixtures: new URL("file:///tmp/fx"),
      scenario: "s.toml",
      root: "/srv",
      restoreRoot: true,
      replay: "rec",
      memory: false,
      personality: "vsftpd",
      personalityOptions: { utf8_filesystem: "YES" },
      greeting: "hi",
      passivePorts: [50000, 50010],
      idleTimeout: 1500,
      maxSessions: 3,
      logLevel: "debug",
      controlToken: "tok",
      extraArgs: ["--data-timeout", "2s"],
    }),
    [
      "--port", "0", "--control", "0",
      "--tls", "explicit",
      "--user", "u", "--password", "p",
      "--account", "a:b",
      "--anonymous", "--read-only", "--chroot",
      "--fault", "STOR reply=452",
      "--fixtures", "/tmp/fx", "--scenario", "s.toml", "--root", "/srv", "--replay", "rec",
      "--restore-root",
      "--greeting", "hi",
      "--personality", "vsftpd",
      "--personality-option", "utf8_filesystem=YES",
      "--passive-ports", "50000-50010",
      "--idle-timeout", "1500ms",
      "--max-sessions", "3",
      "--log-level", "debug",
      "--control-token", "tok",
      "--data-timeout", "2s",
    ],
  );
});

test("FTPFIXTURE_* variables of the test process do not reach the server; env does", async (t) => {
  await withEnv({ FTPFIXTURE_USER: "leaked", FTPFIXTURE_GREETING: "leaked" }, async () => {
    const server = await startServer({ env: { FTPFIXTURE_PASSWORD: "from-env-option" } });
    t.after(() => server.stop());
    assert.equal(server.user, "admin");
    assert.equal(server.password, "from-env-option");
  });
});
