// Typed Numaflow custom resources (InterStepBufferService, Pipeline).
export * from "./numaflow";
