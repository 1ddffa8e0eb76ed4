import nodeTest from "./node-test.cjs";

export const { useFtpServer } = nodeTest;
