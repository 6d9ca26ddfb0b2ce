/**
 * inplace-resize: gives the PtychoNN inference pods the CPU (and optionally memory) they need, in place, without
 * restarting them. Per Running pod, every period:
 *
 *  - raise CPU by `stepUp` when the container is throttled in more than `throttleHigh` of its CFS periods, or when
 *    the vertex's pending messages exceed `pendingHigh` while the pod uses at least `busyUtilization` of its CPU
 *    (the backlog is CPU-bound there);
 *  - lower CPU towards usage / `targetUtilization` (at most by `stepDown` per step) when it is throttled in fewer
 *    than `throttleLow` of its periods, the backlog is under `pendingHigh` and usage is below that target;
 *  - with `resizeMemory`, raise memory by `memoryStepUp` when the working set exceeds `memoryHigh` of the request,
 *    lower it towards working set / `memoryHigh` (at most by `stepDown`) when the working set is under `memoryLow`.
 *
 * Decide only says what it wants; the runtime clamps to the stack's bounds (minCpu…maxCpu, minMemory…maxMemory)
 * and holds a pod resized less than the minimum interval ago.
 */
import type { Action, Decide, PodState, Sample } from "../runtime/types";

export interface InplaceResizeParams {
    throttleHigh: number;
    throttleLow: number;
    pendingHigh: number;
    busyUtilization: number;
    targetUtilization: number;
    stepUp: number;
    stepDown: number;
    resizeMemory: boolean;
    memoryHigh: number;
    memoryLow: number;
    memoryStepUp: number;
}

/** The queries decide reads (built by queries.ts). */
export const RESIZE_QUERIES = { throttled: "throttled", usage: "usage", pending: "pending", workingSet: "workingSet" } as const;

function perPod(samples: readonly Sample[] | undefined): Map<string, number> {
    return new Map((samples ?? []).filter((s) => s.labels.pod !== undefined && Number.isFinite(s.value)).map((s) => [s.labels.pod, s.value]));
}

const MiB = 2 ** 20;

/** The CPU a pod should have (millicores), or undefined to leave it. */
export function desiredCpu(pod: PodState, throttled: number, usageMillis: number, pending: number, p: InplaceResizeParams): number | undefined {
    const cpu = pod.cpuRequestMillis;
    if (cpu === undefined || cpu <= 0) {
        return undefined;
    }
    const allocation = pod.cpuLimitMillis ?? cpu;
    if (throttled > p.throttleHigh || (pending > p.pendingHigh && usageMillis >= p.busyUtilization * allocation)) {
        return Math.ceil(cpu * p.stepUp);
    }
    const target = Math.ceil(usageMillis / p.targetUtilization);
    if (throttled < p.throttleLow && pending <= p.pendingHigh && target < cpu) {
        return Math.max(target, Math.floor(cpu * p.stepDown));
    }
    return undefined;
}

/** The memory a pod should have (bytes, whole MiB), or undefined to leave it. */
export function desiredMemory(pod: PodState, workingSet: number, p: InplaceResizeParams): number | undefined {
    const memory = pod.memoryRequestBytes;
    if (memory === undefined || memory <= 0) {
        return undefined;
    }
    if (workingSet > p.memoryHigh * memory) {
        return Math.ceil((memory * p.memoryStepUp) / MiB) * MiB;
    }
    if (workingSet < p.memoryLow * memory) {
        const target = Math.ceil(workingSet / p.memoryHigh / MiB) * MiB;
        return Math.max(target, Math.floor((memory * p.stepDown) / MiB) * MiB);
    }
    return undefined;
}

export const decide: Decide<InplaceResizeParams, Record<string, never>> = (observation, _previous, params) => {
    const signals: Record<string, number> = {};
    const actions: Action[] = [];
    if (observation.target.kind !== "pods") {
        return { actions, state: {}, signals };
    }
    const throttled = perPod(observation.metrics[RESIZE_QUERIES.throttled]);
    const usage = perPod(observation.metrics[RESIZE_QUERIES.usage]);
    const workingSet = perPod(observation.metrics[RESIZE_QUERIES.workingSet]);
    const pending = Math.max(0, ...(observation.metrics[RESIZE_QUERIES.pending] ?? []).map((s) => s.value).filter(Number.isFinite));
    signals.pending = pending;
    for (const pod of observation.target.pods) {
        if (pod.phase !== "Running" || pod.resizing) {
            continue;
        }
        const t = throttled.get(pod.name) ?? 0;
        const u = (usage.get(pod.name) ?? 0) * 1000;
        signals[`throttled:${pod.name}`] = t;
        signals[`usage_millicores:${pod.name}`] = u;
        const cpu = desiredCpu(pod, t, u, pending, params);
        let memory: number | undefined;
        if (params.resizeMemory && workingSet.has(pod.name)) {
            signals[`working_set_bytes:${pod.name}`] = workingSet.get(pod.name)!;
            memory = desiredMemory(pod, workingSet.get(pod.name)!, params);
        }
        if (cpu !== undefined || memory !== undefined) {
            actions.push({ kind: "resize", pod: pod.name, ...(cpu !== undefined ? { cpuMillis: cpu } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) });
        }
    }
    return { actions, state: {}, signals };
};
