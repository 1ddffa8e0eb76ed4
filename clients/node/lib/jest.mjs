import jest from "./jest.cjs";

export const { useFtpServer, ENV } = jest;
