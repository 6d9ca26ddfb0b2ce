// Numaflow layer: controller (Helm), UI metrics tab → Mimir, ISB storage, InterStepBufferService `default`.
export { NumaflowPlatform } from "./platform";
export type { NumaflowPlatformArgs } from "./platform";
export * from "./isb";
export * from "./storage";
export * from "./metrics";
export * from "./values";
