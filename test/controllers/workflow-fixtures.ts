/** The APS workflow components the loops control, built from the workflows layer's defaults (for mock-runtime tests). */
import { ApsBaseline, ApsPtychoNN } from "../../workflows/aps";
import { WORKFLOW_READY_TIMEOUT_MINUTES } from "../../workflows/aps/workflow";
import { ApsSettingsSchema } from "../../workflows/settings";
import { layerSettings } from "../helpers/settings";

export function baselineWorkflow(name = "aps-baseline"): ApsBaseline {
    return new ApsBaseline(name, { ...layerSettings(ApsSettingsSchema), gpuLimit: false, readyTimeoutMinutes: WORKFLOW_READY_TIMEOUT_MINUTES, after: [] });
}

export function pipelineWorkflow(name = "aps"): ApsPtychoNN {
    return new ApsPtychoNN(name, { ...layerSettings(ApsSettingsSchema), gpuLimit: false, readyTimeoutMinutes: WORKFLOW_READY_TIMEOUT_MINUTES });
}
