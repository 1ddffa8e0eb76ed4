// Type-checked (not run) by types.test.mjs: the CommonJS view of the types.
import ftpfixture = require("ftpfixture");
import nodeTest = require("ftpfixture/node-test");
import jest = require("ftpfixture/jest");
import jestSetup = require("ftpfixture/jest-setup");
import jestTeardown = require("ftpfixture/jest-teardown");

export async function main(): Promise<void> {
  const server: ftpfixture.FtpServer = await ftpfixture.startServer({ user: "u", password: "p" });
  const fixture: ftpfixture.FtpServer = nodeTest.useFtpServer({ reset: false });
  const shared: ftpfixture.FtpServer = jest.useFtpServer();
  await jestSetup({ maxWorkers: 2 });
  await jestSetup.teardown();
  await jestTeardown();
  await server.stop();
  void [fixture, shared];
}
