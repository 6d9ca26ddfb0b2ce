// GPU layer: NVIDIA device plugin and DCGM exporter on k3s's `nvidia` RuntimeClass.
export { GpuSupport } from "./support";
export type { GpuSupportArgs } from "./support";
export * from "./values";
