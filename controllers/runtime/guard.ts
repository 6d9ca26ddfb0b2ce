/**
 * The runtime's safety net between decide and act (pure): every action is checked against what is observed,
 * clamped to the loop's bounds, dropped when it would change nothing, and held when its object was acted on less
 * than the minimum interval ago. Whatever decide returns, what reaches the API server stays inside the bounds.
 */
import type { Action, Limits, ResizeAction, ScaleAction, TargetState } from "./types";

/** When each object (deployment/<name>, pod/<name>) was last acted on, epoch ms. */
export type ActionHistory = Readonly<Record<string, number>>;

export type HoldReason =
    | "min-interval" // the object was acted on less than minInterval ago
    | "no-change" // the clamped value is what the object already has
    | "duplicate" // an earlier action of this tick already targets the object
    | "unknown-pod" // no such pod among the observed ones
    | "not-running" // the pod is not Running
    | "resizing" // a resize of the pod is still pending or in progress
    | "invalid"; // the action does not fit the target or carries no usable value

/** An action the runtime will apply, with what decide asked for and the value it replaces. */
export interface ApprovedAction {
    object: string;
    action: ScaleAction | ResizeAction;
    requested: Action;
    /** Some value was outside the bounds and was clamped. */
    clamped: boolean;
    /** The observed values the action changes. */
    previous: { replicas?: number; cpuMillis?: number; memoryBytes?: number };
}

export interface HeldAction {
    object: string;
    action: Action;
    reason: HoldReason;
}

export interface GuardResult {
    approved: ApprovedAction[];
    held: HeldAction[];
}

export interface GuardOptions {
    limits: Limits;
    /** No two actions on the same object closer than this, ms. */
    minIntervalMs: number;
    history: ActionHistory;
    now: number;
}

function clamp(value: number, min: number | undefined, max: number | undefined): number {
    return Math.min(max ?? Infinity, Math.max(min ?? -Infinity, value));
}

export function objectOf(action: Action, target: TargetState): string {
    return action.kind === "scale" ? `deployment/${target.kind === "deployment" ? target.name : "?"}` : `pod/${action.pod}`;
}

type Check = { ok: ApprovedAction } | { hold: HoldReason };

function checkScale(action: ScaleAction, target: TargetState, limits: Limits, object: string): Check {
    if (target.kind !== "deployment" || !Number.isInteger(action.replicas)) {
        return { hold: "invalid" };
    }
    const replicas = clamp(action.replicas, Math.max(0, limits.minReplicas ?? 0), limits.maxReplicas);
    if (replicas === target.replicas) {
        return { hold: "no-change" };
    }
    return { ok: { object, action: { kind: "scale", replicas }, requested: action, clamped: replicas !== action.replicas, previous: { replicas: target.replicas } } };
}

function usable(v: number | undefined): boolean {
    return v === undefined || (Number.isFinite(v) && v > 0);
}

function checkResize(action: ResizeAction, target: TargetState, limits: Limits, object: string): Check {
    if (target.kind !== "pods" || (action.cpuMillis === undefined && action.memoryBytes === undefined)
        || !usable(action.cpuMillis) || !usable(action.memoryBytes)) {
        return { hold: "invalid" };
    }
    const pod = target.pods.find((p) => p.name === action.pod);
    if (pod === undefined) {
        return { hold: "unknown-pod" };
    }
    if (pod.phase !== "Running") {
        return { hold: "not-running" };
    }
    if (pod.resizing) {
        return { hold: "resizing" };
    }
    const approved: ResizeAction = { kind: "resize", pod: action.pod };
    let clamped = false;
    const previous: ApprovedAction["previous"] = {};
    if (action.cpuMillis !== undefined) {
        const cpu = Math.round(clamp(action.cpuMillis, limits.minCpuMillis, limits.maxCpuMillis));
        clamped ||= cpu !== action.cpuMillis && (cpu === limits.minCpuMillis || cpu === limits.maxCpuMillis);
        if (cpu !== pod.cpuRequestMillis) {
            approved.cpuMillis = cpu;
            previous.cpuMillis = pod.cpuRequestMillis;
        }
    }
    if (action.memoryBytes !== undefined) {
        const memory = Math.round(clamp(action.memoryBytes, limits.minMemoryBytes, limits.maxMemoryBytes));
        clamped ||= memory !== action.memoryBytes && (memory === limits.minMemoryBytes || memory === limits.maxMemoryBytes);
        if (memory !== pod.memoryRequestBytes) {
            approved.memoryBytes = memory;
            previous.memoryBytes = pod.memoryRequestBytes;
        }
    }
    if (approved.cpuMillis === undefined && approved.memoryBytes === undefined) {
        return { hold: "no-change" };
    }
    return { ok: { object, action: approved, requested: action, clamped, previous } };
}

/** Splits decide's actions into those to apply (clamped) and those held, with the reason. */
export function guardActions(actions: readonly Action[], target: TargetState, o: GuardOptions): GuardResult {
    const result: GuardResult = { approved: [], held: [] };
    const seen = new Set<string>();
    for (const action of actions) {
        const object = objectOf(action, target);
        const hold = (reason: HoldReason) => result.held.push({ object, action, reason });
        if (seen.has(object)) {
            hold("duplicate");
            continue;
        }
        seen.add(object);
        const check = action.kind === "scale" ? checkScale(action, target, o.limits, object)
            : action.kind === "resize" ? checkResize(action, target, o.limits, object) : { hold: "invalid" as const };
        if ("hold" in check) {
            hold(check.hold);
            continue;
        }
        const last = o.history[object];
        if (last !== undefined && o.now - last < o.minIntervalMs) {
            hold("min-interval");
            continue;
        }
        result.approved.push(check.ok);
    }
    return result;
}

/** The history after acting on these objects at `now`. */
export function recordActions(history: ActionHistory, objects: readonly string[], now: number): ActionHistory {
    const next: Record<string, number> = { ...history };
    for (const o of objects) {
        next[o] = now;
    }
    return next;
}
