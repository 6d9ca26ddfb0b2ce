/**
 * Which clusters get the GPU stack, and the Helm values of the NVIDIA charts. Pure functions, tested directly.
 * Keys checked against NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/values.yaml and
 * NVIDIA/dcgm-exporter deployment/values.yaml.
 */
import type { HostSettings } from "../cluster/settings";
import type { GpuSettings } from "./settings";
import { parseDuration } from "../../model/formats/duration";
import { gpuNodeLabel } from "../cluster/constants";

/** k3s ships this RuntimeClass (its containerd detects the NVIDIA runtime); the GPU layer never creates one. */
export const nvidiaRuntimeClass = "nvidia";

/**
 * Whether to install the GPU stack: "on" always, "off" never, "auto" when some host has or may have a GPU
 * (gpu: true or "auto"; detection happens on the host at apply time, and the charts only schedule on nodes the
 * cluster layer labelled nvidia.com/gpu.present=true, so an "auto" host without a GPU runs nothing).
 */
export function gpuStackWanted(stack: GpuSettings["stack"], hosts: readonly Pick<HostSettings, "gpu">[]): boolean {
    if (stack === "on") {
        return true;
    }
    if (stack === "off") {
        return false;
    }
    return hosts.some((h) => h.gpu === true || h.gpu === "auto");
}

/** Pods of both charts run only on labelled GPU nodes. */
export const gpuNodeSelector: Record<string, string> = { [gpuNodeLabel.key]: gpuNodeLabel.value };

const gpuNodeAffinity = {
    nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: gpuNodeLabel.key, operator: "In", values: [gpuNodeLabel.value] }] }],
        },
    },
};

/** NVIDIA device plugin: nvidia runtime, labelled GPU nodes only (replaces the chart's NFD-based affinity terms). */
export function devicePluginValues(): Record<string, any> {
    return {
        runtimeClassName: nvidiaRuntimeClass,
        nodeSelector: gpuNodeSelector,
        affinity: gpuNodeAffinity,
        gfd: { enabled: false },
    };
}

/** The exporter's counters file (mounted by the chart from its metrics ConfigMap). */
export const dcgmCountersFile = "/etc/dcgm-exporter/default-counters.csv";

/**
 * DCGM exporter: nvidia runtime, GPU nodes only, the default counters sampled as often as they are scraped, and
 * the chart's own ServiceMonitor disabled (the monitoring layer declares the DCGM ServiceMonitor once).
 *
 * Each argument is one `--flag=value` token: the chart splices the list into the DaemonSet unquoted, so a
 * separate value such as "2000" would reach the API server as an integer and the release be refused.
 */
export function dcgmExporterValues(scrapeInterval: string): Record<string, any> {
    return {
        runtimeClassName: nvidiaRuntimeClass,
        nodeSelector: gpuNodeSelector,
        arguments: [`--collectors=${dcgmCountersFile}`, `--collect-interval=${parseDuration(scrapeInterval)!}`],
        serviceMonitor: { enabled: false },
    };
}
