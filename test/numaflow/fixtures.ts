/** Shared test inputs for the Numaflow layer. */
import { IsbSettingsSchema, type IsbSettings } from "../../components/numaflow/settings";
import { layerSettings } from "../helpers/settings";
import type { NodeFacts } from "../../components/numaflow";

/** The layer schema's defaults for numaflow.isb. */
export const defaultIsb: IsbSettings = layerSettings(IsbSettingsSchema);

export const clusterNodes: NodeFacts[] = [
    { name: "charon-server", role: "server", address: "10.0.0.1", gpuCount: 0 },
    { name: "charon-gpu-1", role: "agent", address: "10.0.0.2", gpuCount: 1 },
    { name: "charon-agent-1", role: "agent", address: "10.0.0.3", gpuCount: 0 },
    { name: "charon-agent-2", role: "agent", address: "10.0.0.4", gpuCount: 0 },
];
