export { ManifestEntrySchema, ManifestsSchema, manifestSettingsProblems, type ManifestEntry } from "./settings";
export { loadManifests, type ManifestContext, type ManifestObject } from "./load";
export { WorkflowManifests, manifestResourceName, type WorkflowManifestsArgs, type WorkflowStarts } from "./component";
export { isWorkflowKind, workflowKinds } from "./kinds";
