// The repository's README shows a Node test ("## A Node test"): it must run
// as written, against this package.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const readmeUrl = new URL("../../../README.md", import.meta.url);

test("the root README's Node test runs and passes", { skip: !fs.existsSync(readmeUrl) && "no repository README (installed package)" }, () => {
  const readme = fs.readFileSync(readmeUrl, "utf8");
  const section = readme.split("## A Node test")[1];
  assert.ok(section, "README has a '## A Node test' section");
  const block = section.split("```js\n")[1]?.split("```")[0];
  assert.ok(block && block.includes("startServer"), "the section has a js block using startServer");
  // Inside the package directory, so that `import ... from "ftpfixture"`
  // resolves to this package, as it does in a user's project.
  const file = new URL("./root-readme-example.generated.test.mjs", import.meta.url);
  fs.writeFileSync(file, block);
  try {
    // A child of the test runner reports to it unless told it is on its own.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ["--test", fileURLToPath(file)], {
      encoding: "utf8",
      timeout: 60_000,
      env,
    });
    assert.equal(run.status, 0, `the README's example failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /# pass 1/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
