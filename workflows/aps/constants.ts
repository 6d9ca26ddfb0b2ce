/** Names, labels and ports of the APS workflow, defined once (or taken from the layer that owns them). */
import { nvidiaRuntimeClass } from "../../components/gpu/values";
import { MONITORS } from "../../components/monitoring/monitors";

/** Numaflow Pipeline name (vertex pods are `ptychography-<vertex>-<n>-…`). */
export const PIPELINE_NAME = "ptychography";

const workloadMonitor = MONITORS.find((m) => m.name === "workload-metrics");
if (!workloadMonitor?.selector.matchLabels || workloadMonitor.endpoint.portNumber === undefined) {
    throw new Error("the monitoring layer no longer declares the workload-metrics PodMonitor (role=workload, port 9100)");
}
/** Labels the monitoring layer's PodMonitor `workload-metrics` selects (role=workload). */
export const WORKLOAD_LABEL: Readonly<Record<string, string>> = { ...workloadMonitor.selector.matchLabels };
/** Container port of the PvaPy metrics endpoint (pvapy_* metrics), the one that PodMonitor scrapes. */
export const WORKLOAD_METRICS_PORT = { name: "metrics", containerPort: workloadMonitor.endpoint.portNumber } as const;

/** pvAccess server port of the PvaPy mirror server. */
export const PVA_PORT = 5076;

/** k3s's own RuntimeClass for the NVIDIA container runtime (shipped by k3s: never declared here). */
export const NVIDIA_RUNTIME_CLASS = nvidiaRuntimeClass;
/** Extended resource the NVIDIA device plugin advertises. */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** Labels every object of the workflows layer carries. */
export const PART_OF = { "app.kubernetes.io/part-of": "charon" } as const;

/**
 * In-place resizing without restarts. Kubernetes defaults an unset restartPolicy to NotRequired; stating it makes
 * the intent visible and keeps a future default change from restarting the workload on resize.
 */
export const RESIZE_WITHOUT_RESTART = [
    { resourceName: "cpu", restartPolicy: "NotRequired" },
    { resourceName: "memory", restartPolicy: "NotRequired" },
] as const;
