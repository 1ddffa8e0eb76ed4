// ftpfixture/vitest: a server for the tests of a file, reset before each test.
//
// With the global setup (vitest.config: test.globalSetup: ["ftpfixture/vitest-setup"])
// useFtpServer() without options uses the server of its worker, started
// once per worker for the whole run; otherwise, or with options, it starts
// one for the file in beforeAll and stops it in afterAll.
//
//   import { useFtpServer } from "ftpfixture/vitest";
//   const server = useFtpServer();
//   test("...", async () => { await server.putFile("a.txt", "a"); ... });

import { afterAll, beforeAll, beforeEach, inject } from "vitest";
import { connect, startServer } from "./index.mjs";
import lazy from "./lazy.cjs";
import { PROVIDE_KEY } from "./vitest-setup.mjs";

/** The ready line of this worker's shared server, if the global setup started one. */
function sharedServer() {
  let servers;
  try {
    servers = inject(PROVIDE_KEY);
  } catch {
    return null;
  }
  const id = Number(process.env.VITEST_POOL_ID || 1);
  return Array.isArray(servers) ? servers[id - 1] || null : null;
}

/**
 * Register beforeAll/beforeEach/afterAll hooks and return the server handle
 * (usable inside tests and hooks). `options` are startServer()'s; with any
 * of them the file gets a server of its own. `reset: false` keeps the state
 * between tests.
 */
export function useFtpServer(options = {}) {
  const { reset = true, ...startOptions } = options;
  let server = null;
  let owned = false;
  beforeAll(async () => {
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
    beforeEach(async () => {
      if (server) await server.reset();
    });
  }
  afterAll(async () => {
    if (server && owned) await server.stop();
  });
  return lazy.lazyServer(() => server, "useFtpServer");
}
