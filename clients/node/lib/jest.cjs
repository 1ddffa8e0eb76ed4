"use strict";
// ftpfixture/jest: a server for the tests of a file, reset before each test.
//
// With the global setup (jest.config: globalSetup: "ftpfixture/jest-setup",
// globalTeardown: "ftpfixture/jest-teardown")
// useFtpServer() without options uses the server of its worker, started
// once per worker for the whole run; otherwise, or with options, it starts
// one for the file in beforeAll and stops it in afterAll.
//
//   const { useFtpServer } = require("ftpfixture/jest");
//   const server = useFtpServer();
//   test("...", async () => { await server.putFile("a.txt", "a"); ... });

const { connect, startServer, FtpfixtureError } = require("./index.cjs");
const { lazyServer } = require("./lazy.cjs");

const ENV = "FTPFIXTURE_JEST_SERVERS";

function hook(name) {
  const fn = globalThis[name];
  if (typeof fn !== "function") {
    throw new FtpfixtureError(
      `ftpfixture/jest: no global ${name}(): call useFtpServer() in a Jest test file (with injectGlobals on)`,
    );
  }
  return fn;
}

/** The ready line of this worker's shared server, if the global setup started one. */
function sharedServer() {
  let servers;
  try {
    servers = JSON.parse(process.env[ENV] || "null");
  } catch {
    return null;
  }
  const id = Number(process.env.JEST_WORKER_ID || 1);
  return Array.isArray(servers) ? servers[id - 1] || null : null;
}

/**
 * Register beforeAll/beforeEach/afterAll hooks and return the server handle
 * (usable inside tests and hooks). `options` are startServer()'s; with any
 * of them the file gets a server of its own. `reset: false` keeps the state
 * between tests.
 */
function useFtpServer(options = {}) {
  const { reset = true, ...startOptions } = options;
  let server = null;
  let owned = false;
  hook("beforeAll")(async () => {
    const shared = Object.keys(startOptions).length === 0 ? sharedServer() : null;
    if (shared) {
      server = connect(shared);
      // Clean for this file: before each test, or (reset: false) once now.
      if (!reset) await server.reset();
    } else {
      server = await startServer(startOptions);
      owned = true;
    }
  });
  if (reset) {
    hook("beforeEach")(async () => {
      if (server) await server.reset();
    });
  }
  hook("afterAll")(async () => {
    if (server && owned) await server.stop();
  });
  return lazyServer(() => server, "useFtpServer");
}

module.exports = { useFtpServer, ENV };
