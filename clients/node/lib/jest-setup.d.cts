/** Jest globalSetup: one ftpfixture server per worker. */
declare function setup(globalConfig?: { maxWorkers?: number }): Promise<void>;
declare namespace setup {
  /** The matching globalTeardown (also "ftpfixture/jest-teardown"). */
  function teardown(): Promise<void>;
}
export = setup;
