export * from "./jest.cjs";
