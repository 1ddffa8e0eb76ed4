import type { FtpServer, StartOptions } from "./index.cjs";

export interface FixtureOptions extends StartOptions {
  /** Reset the server before each test (default true). */
  reset?: boolean;
}

/**
 * Register before/beforeEach/after hooks (node:test) in the current file or
 * describe block and return the server, usable inside tests and hooks.
 */
export declare function useFtpServer(options?: FixtureOptions): FtpServer;
