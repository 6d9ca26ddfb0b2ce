/** Shared test inputs for the Numaflow layer. */
import type { IsbSettings } from "../../stacks/settings";
import type { NodeFacts } from "../../components/numaflow";

/** The stack schema's defaults for numaflow.isb. */
export const defaultIsb: IsbSettings = {
    replicas: 1,
    retention: "WorkQueue",
    storage: "Memory",
    maxMsgs: 50000,
    maxAge: "1h",
    maxBytes: -1,
    duplicates: "0s",
    volumeSize: "3Gi",
    storageMode: "local-path",
    hostPath: "/var/lib/charon/numaflow",
    cpu: "500m",
    memory: "1Gi",
};

export const clusterNodes: NodeFacts[] = [
    { name: "charon-server", role: "server", address: "10.0.0.1", gpuCount: 0 },
    { name: "charon-gpu-1", role: "agent", address: "10.0.0.2", gpuCount: 1 },
    { name: "charon-agent-1", role: "agent", address: "10.0.0.3", gpuCount: 0 },
    { name: "charon-agent-2", role: "agent", address: "10.0.0.4", gpuCount: 0 },
];
