"use strict";
// ftpfixture/jest-setup: a Jest globalSetup that starts one server per
// worker for the whole run, and the matching globalTeardown:
//
//   // jest.config.js
//   module.exports = {
//     globalSetup: "ftpfixture/jest-setup",
//     globalTeardown: "ftpfixture/jest-teardown",
//   };
//
// The workers find their server (by JEST_WORKER_ID) through the
// FTPFIXTURE_JEST_SERVERS environment variable, which Jest's workers
// inherit; useFtpServer() from "ftpfixture/jest" resets it before each test.

const { startServer } = require("./index.cjs");
const { ENV } = require("./jest.cjs");

const KEY = Symbol.for("ftpfixture.jest.servers");

async function setup(globalConfig = {}) {
  const count = Math.max(1, Math.trunc(Number(globalConfig.maxWorkers) || 1));
  const servers = await Promise.all(Array.from({ length: count }, () => startServer()));
  globalThis[KEY] = servers;
  process.env[ENV] = JSON.stringify(servers.map((server) => server.info()));
}

async function teardown() {
  const servers = globalThis[KEY] || [];
  globalThis[KEY] = undefined;
  delete process.env[ENV];
  await Promise.all(servers.map((server) => server.stop()));
}

module.exports = setup;
module.exports.setup = setup;
module.exports.teardown = teardown;
