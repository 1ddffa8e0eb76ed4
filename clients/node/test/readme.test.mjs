// README.md is the npm page: its complete example is test/readme-example.test.mjs
// (which node --test runs), and it documents every option and method.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { FtpServer, commandLine } from "ftpfixture";

const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8");

test("the README's complete example is test/readme-example.test.mjs, byte for byte", () => {
  const marker = "<!-- The block below is test/readme-example.test.mjs; a test keeps them identical. -->\n```js\n";
  const start = readme.indexOf(marker);
  assert.ok(start >= 0, "the marker before the example block");
  const body = readme.slice(start + marker.length, readme.indexOf("\n```\n", start + marker.length) + 1);
  const file = fs.readFileSync(new URL("./readme-example.test.mjs", import.meta.url), "utf8");
  assert.equal(body, file);
});

test("the README documents every startServer option", () => {
  let known;
  try {
    commandLine({ "no such option": 1 });
  } catch (err) {
    known = /\(known: (.*)\)/.exec(err.message)[1].split(", ");
  }
  assert.ok(known.length > 20);
  for (const option of known) assert.match(readme, new RegExp(`^\\| [^|]*\`${option}\``, "m"), `option ${option}`);
});

test("the README documents every method of the handle", () => {
  const methods = Object.entries(Object.getOwnPropertyDescriptors(FtpServer.prototype))
    .filter(([name, d]) => name !== "constructor" && !name.startsWith("_") && typeof d.value === "function")
    .map(([name]) => name);
  assert.ok(methods.includes("waitForCommand"));
  for (const name of methods.filter((n) => n !== "toString")) {
    assert.match(readme, new RegExp(`\\| \`${name}\\(`), `method ${name}`);
  }
});
