// Typed Numaflow custom resources (InterStepBufferService, Pipeline) and their validator.
export * from "./numaflow";
export {
    validateInterStepBufferService, validatePipeline, validateNumaflowObject, checkBufferConfig, checkSchema,
    interStepBufferServiceSchema, pipelineSchema, bufferConfigSchema,
} from "./validate";
export type { FieldSchema } from "./validate";
