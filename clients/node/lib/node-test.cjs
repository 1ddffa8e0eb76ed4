"use strict";
// ftpfixture/node-test: one server for the tests of a file (or a describe
// block) under node:test, started in `before`, reset before each test,
// stopped in `after`.
//
//   import { useFtpServer } from "ftpfixture/node-test";
//   const server = useFtpServer({ tls: "explicit" });
//   test("...", async () => { server.port; await server.inject("STOR#1 reply=452"); });

const { before, after, beforeEach } = require("node:test");
const { startServer } = require("./index.cjs");
const { lazyServer } = require("./lazy.cjs");

/**
 * Register before/beforeEach/after hooks in the current file or describe
 * block and return the server handle (usable inside tests and hooks).
 * `options` are startServer()'s; `reset: false` keeps the state between
 * tests.
 */
function useFtpServer(options = {}) {
  const { reset = true, ...startOptions } = options;
  let server = null;
  before(async () => {
    server = await startServer(startOptions);
  });
  if (reset) {
    beforeEach(async () => {
      if (server) await server.reset();
    });
  }
  after(async () => {
    if (server) await server.stop();
  });
  return lazyServer(() => server, "useFtpServer");
}

module.exports = { useFtpServer };
