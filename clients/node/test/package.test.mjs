// The packages as users get them: npm pack of this package and of the
// platform package (with the binary copied in, as tools/dist does), npm
// install of both tarballs into a fresh project, then the binary found
// through the platform package (no FTPFIXTURE_BINARY), import and require,
// and the vitest and Jest helpers with their global setups.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { findBinary, platformKey, connect, ControlError } from "ftpfixture";
import { pidGone, waitUntil } from "./helpers.mjs";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, "..");
const repoDir = path.resolve(packageDir, "../..");
const devModules = path.join(packageDir, "node_modules");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** This process's environment without any FTPFIXTURE_* variable: the binary must come from the package. */
function userEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("FTPFIXTURE_") && !key.startsWith("NODE_TEST")) env[key] = value;
  }
  return { ...env, ...extra };
}

async function npmPack(dir, dest) {
  const { stdout } = await run(npm, ["pack", "--json", "--pack-destination", dest], { cwd: dir, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout);
  return { file: path.join(dest, info.filename), files: info.files.map((f) => ({ path: f.path, mode: f.mode })) };
}

const supported = platformKey().key === "linux-x64-gnu";

describe("the packed packages, installed", { skip: !supported && "no platform package for this machine" }, () => {
  let work;
  let project;
  let main;
  let platform;
  let stage;
  let mainStage;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ftpfixture-node-pack-"));
    const dist = path.join(work, "dist");
    fs.mkdirSync(dist);
    // Both packages staged as tools/dist stages them: the platform
    // package with the binary, the main one without node_modules, both
    // with the repository's license files.
    const licenses = ["LICENSE-MIT", "LICENSE-APACHE"].map((f) => path.join(packageDir, "..", "..", f));
    stage = path.join(work, "platform");
    fs.cpSync(path.join(packageDir, "npm", "linux-x64-gnu"), stage, { recursive: true });
    fs.copyFileSync(findBinary(), path.join(stage, "bin", "ftpfixture"));
    fs.chmodSync(path.join(stage, "bin", "ftpfixture"), 0o755);
    mainStage = path.join(work, "main");
    fs.mkdirSync(mainStage);
    for (const f of ["package.json", "README.md", "lib"]) {
      fs.cpSync(path.join(packageDir, f), path.join(mainStage, f), { recursive: true });
    }
    for (const dir of [stage, mainStage]) {
      for (const f of licenses) fs.copyFileSync(f, path.join(dir, path.basename(f)));
    }
    [platform, main] = await Promise.all([npmPack(stage, dist), npmPack(mainStage, dist)]);

    project = path.join(work, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({ name: "a-user-project", version: "1.0.0", private: true, type: "module" }, null, 2),
    );
    await run(
      npm,
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", platform.file, main.file],
      { cwd: project, maxBuffer: 16 << 20 },
    );
    // The test tools from this package's devDependencies, linked in.
    for (const name of ["basic-ftp", "vitest", "jest"]) {
      fs.symlinkSync(path.join(devModules, name), path.join(project, "node_modules", name), "dir");
    }
  });

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("the tarballs hold what they should", () => {
    const mainFiles = main.files.map((f) => f.path).sort();
    assert.ok(mainFiles.includes("package.json") && mainFiles.includes("README.md"));
    for (const entry of ["lib/index.cjs", "lib/index.mjs", "lib/index.d.cts", "lib/index.d.mts", "lib/node-test.mjs", "lib/vitest.mjs", "lib/jest.cjs"]) {
      assert.ok(mainFiles.includes(entry), `${entry} in the main package`);
    }
    assert.deepEqual(mainFiles.filter((f) => !f.startsWith("lib/")), ["LICENSE-APACHE", "LICENSE-MIT", "README.md", "package.json"]);
    const platformFiles = Object.fromEntries(platform.files.map((f) => [f.path, f.mode]));
    assert.deepEqual(Object.keys(platformFiles).sort(), ["LICENSE-APACHE", "LICENSE-MIT", "README.md", "bin/ftpfixture", "package.json"]);
    assert.equal(platformFiles["bin/ftpfixture"] & 0o111, 0o111, "the binary is executable in the tarball");
  });

  test("npm publish from the source tree is refused (no binary, no license files); the staged packages pass the same check", async () => {
    const prepublish = (cwd) => run(npm, ["run", "--silent", "prepublishOnly"], { cwd }).then(() => null, (err) => err.stderr);
    const refused = await prepublish(packageDir);
    assert.match(refused ?? "", /LICENSE-MIT, LICENSE-APACHE missing; publish the tarballs tools\/dist writes/);
    const platformSource = path.join(packageDir, "npm", "linux-x64-gnu");
    if (!fs.existsSync(path.join(platformSource, "bin", "ftpfixture"))) {
      assert.match((await prepublish(platformSource)) ?? "", /bin\/ftpfixture, LICENSE-MIT, LICENSE-APACHE missing/);
    }
    assert.equal(await prepublish(stage), null);
    assert.equal(await prepublish(mainStage), null);
  });

  test("the binary comes from the platform package, for import and require", async () => {
    const binary = path.join(project, "node_modules", "@ftpfixture", "linux-x64-gnu", "bin", "ftpfixture");
    fs.accessSync(binary, fs.constants.X_OK);
    const esm =
      'import { findBinary, startServer } from "ftpfixture";' +
      "const s = await startServer(); await s.putFile('a.txt', 'esm');" +
      "console.log(JSON.stringify({ binary: findBinary(), text: await s.getFile('a.txt', 'utf8'), code: await s.stop() }));";
    const cjs =
      'const { findBinary, startServer } = require("ftpfixture");' +
      "startServer().then(async (s) => { await s.putFile('a.txt', 'cjs');" +
      "console.log(JSON.stringify({ binary: findBinary(), text: (await s.getFile('a.txt')).toString(), code: await s.stop() })); });";
    for (const [args, text] of [
      [["--input-type=module", "-e", esm], "esm"],
      [["--input-type=commonjs", "-e", cjs], "cjs"],
    ]) {
      const { stdout } = await run(process.execPath, args, { cwd: project, env: userEnv() });
      assert.deepEqual(JSON.parse(stdout), { binary, text, code: 0 });
    }
  });

  test("tools/dist-check/as-a-user.test.mjs passes in the project", async () => {
    const file = path.join(repoDir, "tools", "dist-check", "as-a-user.test.mjs");
    fs.copyFileSync(file, path.join(project, "as-a-user.test.mjs"));
    const { stdout } = await run(process.execPath, ["--test", "as-a-user.test.mjs"], { cwd: project, env: userEnv() }).catch(
      (err) => assert.fail(`node --test as-a-user.test.mjs failed (exit ${err.code}):\n${err.stdout}\n${err.stderr}`),
    );
    assert.match(stdout, /^# fail 0$/m);
    assert.match(stdout, /^# pass [1-9]/m);
  });

  for (const framework of ["vitest", "jest"]) {
    test(`${framework}: the global setup's servers are shared per worker, reset per test; every server stopped at the end`, async () => {
      const dir = path.join(project, `${framework}-tests`);
      fs.cpSync(path.join(here, "fixtures", framework), dir, { recursive: true });
      const recordFile = path.join(dir, "record.jsonl");
      const command =
        framework === "vitest"
          ? [path.join(devModules, "vitest", "vitest.mjs"), "run", "--root", dir]
          : [path.join(devModules, "jest", "bin", "jest.js"), "--ci", "--config", path.join(dir, "jest.config.cjs")];
      let result;
      try {
        result = await run(process.execPath, command, {
          cwd: dir,
          env: userEnv({ RECORD_FILE: recordFile, CI: "1", NO_COLOR: "1" }),
          maxBuffer: 16 << 20,
        });
      } catch (err) {
        assert.fail(`${framework} failed (exit ${err.code}):\n${err.stdout}\n${err.stderr}`);
      }
      const output = result.stdout + result.stderr;
      assert.match(output, /Tests:?\s+6 passed/);

      const records = fs.readFileSync(recordFile, "utf8").trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(records.length, 6);
      const shared = records.filter((r) => r.file === "a" || r.file === "b");
      const own = records.filter((r) => r.file === "own");
      const forgotten = records.filter((r) => r.file === "forgotten");
      assert.ok(shared.every((r) => r.pid === null), "the shared servers are the global setup's");
      assert.ok(own.length === 1 && Number.isInteger(own[0].pid));
      assert.ok(!shared.some((r) => r.controlUrl === own[0].controlUrl));
      for (const file of ["a", "b"]) {
        const urls = new Set(shared.filter((r) => r.file === file).map((r) => r.controlUrl));
        assert.equal(urls.size, 1, `the tests of file ${file} used one server`);
      }
      if (framework === "vitest") {
        // maxWorkers: 1, so both files ran in the one worker and shared its server.
        assert.equal(new Set(shared.map((r) => r.controlUrl)).size, 1);
      }
      // Every server is gone once the run is over: those of the global
      // setup, the one useFtpServer() started, and the one nobody stopped.
      assert.ok(forgotten.length === 1 && Number.isInteger(forgotten[0].pid));
      await waitUntil(() => pidGone(forgotten[0].pid), `the forgotten server (pid ${forgotten[0].pid}) gone`);
      for (const url of new Set(records.map((r) => r.controlUrl))) {
        await assert.rejects(
          connect({ control: url }, { httpTimeout: 2000 }).status(),
          (err) => err instanceof ControlError && err.status === null,
          `${url} still answers after the run`,
        );
      }
    });
  }
});
