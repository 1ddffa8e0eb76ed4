/** Jest globalTeardown: stops the servers of "ftpfixture/jest-setup". */
declare function teardown(): Promise<void>;
export = teardown;
