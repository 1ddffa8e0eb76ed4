import type { FtpServer } from "./index.cjs";
import type { FixtureOptions } from "./node-test.cjs";

export type { FixtureOptions };

/** The environment variable the global setup hands the servers' ready lines to the workers in. */
export declare const ENV: "FTPFIXTURE_JEST_SERVERS";

/**
 * Register beforeAll/beforeEach/afterAll hooks (Jest's globals) and return
 * the server, usable inside tests and hooks: the worker's server of the
 * global setup "ftpfixture/jest-setup" when there is one and no options are
 * given, else one of the file's own.
 */
export declare function useFtpServer(options?: FixtureOptions): FtpServer;
