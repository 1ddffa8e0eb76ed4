import type { FtpServer } from "./index.cjs";
import type { FixtureOptions } from "./node-test.cjs";

export type { FixtureOptions };

/**
 * Register beforeAll/beforeEach/afterAll hooks (vitest) and return the
 * server, usable inside tests and hooks: the worker's server of the global
 * setup "ftpfixture/vitest-setup" when there is one and no options are
 * given, else one of the file's own.
 */
export declare function useFtpServer(options?: FixtureOptions): FtpServer;
