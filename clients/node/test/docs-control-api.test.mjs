// docs/control-api.md shows Node without this package (spawn the CLI, read
// its ready line, drive the control API with fetch): it must run as written.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findBinary } from "ftpfixture";

const docUrl = new URL("../../../docs/control-api.md", import.meta.url);

test("docs/control-api.md's Node example runs", { skip: !fs.existsSync(docUrl) && "no repository docs (installed package)" }, () => {
  const doc = fs.readFileSync(docUrl, "utf8");
  const block = doc.split("```js\n")[1]?.split("```")[0];
  assert.ok(block && block.includes('spawn("ftpfixture"'), "the page has the js example");
  const file = new URL("./docs-control-api.generated.mjs", import.meta.url);
  fs.writeFileSync(file, block);
  try {
    // The example runs `ftpfixture` from PATH, as a user's CI job would.
    const binDir = path.dirname(findBinary());
    const run = spawnSync(process.execPath, [fileURLToPath(file)], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH}` },
    });
    assert.equal(run.status, 0, `the example failed:\n${run.stdout}\n${run.stderr}`);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
