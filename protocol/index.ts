export * from "./fields";
export * from "./units";
export * from "./validate";
export * from "./rpc";
