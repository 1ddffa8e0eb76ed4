// Type-checked (not run) by types.test.mjs: the ESM view of the types.
import fs from "node:fs";
import {
  startServer,
  connect,
  findBinary,
  FtpServer,
  VerifyError,
  ControlError,
  WaitTimeout,
  type StartOptions,
  type TranscriptEvent,
} from "ftpfixture";
import { useFtpServer } from "ftpfixture/node-test";
import { useFtpServer as useVitest } from "ftpfixture/vitest";
import setup, { PROVIDE_KEY } from "ftpfixture/vitest-setup";
import { useFtpServer as useJest } from "ftpfixture/jest";

const options: StartOptions = {
  tls: "explicit",
  accounts: ["a:b", ["c", "d", "/c"], { name: "e", password: "f" }],
  faults: ["STOR#1 reply=452", { rule: "RETR reply=550" }],
  fixtures: new URL("file:///tmp/x"),
  passivePorts: [50000, 50010],
  idleTimeout: "30s",
  personalityOptions: { utf8_filesystem: "YES" },
};

export async function main(): Promise<void> {
  const server: FtpServer = await startServer(options);
  const port: number = server.port;
  const ca: string | null = server.caFile;
  const id: number = await server.inject("STOR reply=452");
  const ids: number[] = await server.inject(["STOR reply=452", { rule: "* delay=1ms" }]);
  const bytes: Buffer = await server.getFile("a");
  const text: string = await server.getFile("a", "utf8");
  const events: TranscriptEvent[] = await server.waitForCommand("STOR", { count: 2, timeout: 1000 });
  await server.waitForSessionEnd(1, { timeout: "5s" });
  const rendered: string = await server.render(1);
  const described: string = await server.expect("STOR", { times: 1, arg: "*.csv" });
  await server.addUser("bob", "pw", { home: "/bob", chroot: true });
  const entries = await server.listDir();
  const size: number = entries[0].size;
  try {
    await server.verify();
  } catch (err) {
    if (err instanceof VerifyError) err.unmet.map((u) => u.expectation);
    if (err instanceof WaitTimeout) err.transcript.length;
    if (err instanceof ControlError) err.status;
  }
  const other = connect(server.info());
  const code: number | null = await server.stop();
  fs.readFileSync(server.tlsOptions().ca);
  void [port, ca, id, ids, bytes, text, events, rendered, described, size, other, code, findBinary(), useFtpServer, useVitest, useJest, setup, PROVIDE_KEY];
}

// @ts-expect-error: an unknown option
startServer({ tsl: "explicit" });
