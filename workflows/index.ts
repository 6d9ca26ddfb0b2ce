/** What runs on the platform: the APS workflows, experiments and their harvest. */
export * from "./aps";
export {
    Experiment, type ExperimentArgs, type ExperimentRecord, experimentRecords, simServerArgs, streamJob, streamJobName, type StreamParameters,
    streamTimeoutSeconds,
} from "./experiment";
export {
    ExperimentHarvestError, type ExperimentWindow, experimentWindow, harvestExperiment, harvestHook, readQueries, resultsPath,
} from "./harvest-hook";
