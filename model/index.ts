export * from "./schema";
export { ajv, checkValue, childKey, describeValue, type Problem } from "./check";
