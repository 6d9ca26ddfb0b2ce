/**
 * Act: applies approved actions through the Kubernetes API — replicas through a Deployment's scale subresource,
 * CPU and memory through a pod's resize subresource — or, in dry-run mode, sends the same requests with
 * dryRun=All so the API server validates them (RBAC, resize rules) without changing anything.
 */
import type { ApprovedAction } from "./guard";
import type { ContainerResources, KubeClient } from "./kube-client";
import type { TargetSpec } from "./observe";
import { formatCpu, formatMemory } from "./quantity";
import type { PodState, TargetState } from "./types";

/** The limit that keeps the container's request/limit relation: equal stays equal, a ratio keeps its ratio. */
function followingLimit(newRequest: number, oldRequest: number | undefined, oldLimit: number | undefined): number | undefined {
    if (oldLimit === undefined) {
        return undefined;
    }
    if (oldRequest === undefined || oldRequest <= 0 || oldLimit === oldRequest) {
        return newRequest;
    }
    return Math.max(newRequest, Math.round(oldLimit * (newRequest / oldRequest)));
}

/**
 * The container resources a resize sets: the new requests, and limits that follow them so the pod's QoS class
 * (which a resize may not change) stays what it was. Only the resources being changed are sent.
 */
export function resizedResources(pod: PodState, cpuMillis: number | undefined, memoryBytes: number | undefined): ContainerResources {
    const requests: Record<string, string> = {};
    const limits: Record<string, string> = {};
    if (cpuMillis !== undefined) {
        requests.cpu = formatCpu(cpuMillis);
        const limit = followingLimit(cpuMillis, pod.cpuRequestMillis, pod.cpuLimitMillis);
        if (limit !== undefined) {
            limits.cpu = formatCpu(limit);
        }
    }
    if (memoryBytes !== undefined) {
        requests.memory = formatMemory(memoryBytes);
        const limit = followingLimit(memoryBytes, pod.memoryRequestBytes, pod.memoryLimitBytes);
        if (limit !== undefined) {
            limits.memory = formatMemory(limit);
        }
    }
    return Object.keys(limits).length > 0 ? { requests, limits } : { requests };
}

export interface ActResult {
    approved: ApprovedAction;
    outcome: "applied" | "dry-run" | "failed";
    error?: string;
}

/** Applies (or dry-runs) each approved action; a failure is reported per action, the others still run. */
export async function act(kube: KubeClient, target: TargetSpec, observed: TargetState, approved: readonly ApprovedAction[], dryRun: boolean): Promise<ActResult[]> {
    const results: ActResult[] = [];
    for (const a of approved) {
        try {
            if (a.action.kind === "scale") {
                if (target.kind !== "deployment") {
                    throw new Error("a scale action needs a Deployment target");
                }
                await kube.scaleDeployment(target.namespace, target.name, a.action.replicas, dryRun);
            } else {
                if (target.kind !== "pods" || observed.kind !== "pods") {
                    throw new Error("a resize action needs a pods target");
                }
                const podName = a.action.pod;
                const pod = observed.pods.find((p) => p.name === podName);
                if (pod === undefined) {
                    throw new Error(`pod ${podName} is not among the observed pods`);
                }
                await kube.resizePod(target.namespace, pod.name, pod.sidecar ? "initContainers" : "containers", target.container,
                    resizedResources(pod, a.action.cpuMillis, a.action.memoryBytes), dryRun);
            }
            results.push({ approved: a, outcome: dryRun ? "dry-run" : "applied" });
        } catch (e) {
            results.push({ approved: a, outcome: "failed", error: (e as Error).message });
        }
    }
    return results;
}
