import type { ServerInfo } from "./index.cjs";

/** The key the servers' ready lines are provided under (inject(PROVIDE_KEY)). */
export declare const PROVIDE_KEY: "ftpfixture:servers";

/** How many workers vitest runs with this (resolved) config. */
export declare function workerCount(config?: { maxWorkers?: number | string; fileParallelism?: boolean }): number;

/** The global setup: one server per worker; returns the teardown. */
export default function setup(project: {
  config?: { maxWorkers?: number | string; fileParallelism?: boolean };
  provide(key: string, value: ServerInfo[]): void;
}): Promise<() => Promise<void>>;

declare module "vitest" {
  interface ProvidedContext {
    "ftpfixture:servers": ServerInfo[];
  }
}
