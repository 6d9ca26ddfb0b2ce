export { ApsPtychoNN, type ApsPtychoNNArgs } from "./ptychonn";
export { apsWorkflow, type ApsWorkflowDeps } from "./workflow";
export { ApsBaseline, type ApsBaselineArgs, consumerArgs, consumerDeployment, mirrorServerDeployment } from "./baseline";
export { pipelineProfiles, ptychographyPipeline, vertexTuning, type PipelineOptions, type PipelineProfile } from "./pipeline";
export * from "./constants";
