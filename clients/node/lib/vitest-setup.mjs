// ftpfixture/vitest-setup: a vitest global setup that starts one server per
// worker for the whole run (vitest.config: test.globalSetup:
// ["ftpfixture/vitest-setup"]); useFtpServer() from "ftpfixture/vitest"
// finds its worker's server (by VITEST_POOL_ID) and resets it before each
// test. The servers are stopped at the end of the run.

import os from "node:os";
import { startServer } from "./index.mjs";

export const PROVIDE_KEY = "ftpfixture:servers";

/** How many workers vitest runs (its maxWorkers, else its default). */
export function workerCount(config = {}) {
  if (config.maxWorkers) return Math.max(1, Math.trunc(Number(config.maxWorkers)));
  if (config.fileParallelism === false) return 1;
  const cpus = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(cpus - 1, 1);
}

export default async function setup(project) {
  const count = workerCount(project && project.config);
  const servers = await Promise.all(Array.from({ length: count }, () => startServer()));
  project.provide(PROVIDE_KEY, servers.map((server) => server.info()));
  return async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
}
