// The ESM entry point: the CommonJS implementation re-exported, so that
// `import` and `require` share one module (one set of live servers).
import ftpfixture from "./index.cjs";

export const {
  VERSION,
  BINARY_ENV,
  PLATFORM_PACKAGES,
  startServer,
  connect,
  findBinary,
  platformKey,
  commandLine,
  FtpServer,
  FtpfixtureError,
  BinaryNotFoundError,
  StartError,
  ControlError,
  WaitTimeout,
  VerifyError,
} = ftpfixture;
