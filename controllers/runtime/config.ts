/**
 * The loop's configuration as the program writes it into the loop's ConfigMap (config.json) and the runtime reads
 * it at start. The program builds it from validated stack settings; the runtime still checks its shape, so a
 * hand-edited or mismatched ConfigMap stops the pod with one message naming the field.
 */
import type { MetricsEndpoint, TargetSpec } from "./observe";
import { type ObservationQuery, observationQueryProblems } from "./queries";
import type { Limits } from "./types";

export type LoopKind = "pd-replicas" | "inplace-resize" | "custom";

export interface LoopConfig {
    /** Loop name: the Deployment's name suffix and the `controller` label of its metrics. */
    name: string;
    kind: LoopKind;
    periodMs: number;
    minIntervalMs: number;
    dryRun: boolean;
    metrics: MetricsEndpoint;
    target: TargetSpec;
    queries: Record<string, ObservationQuery>;
    limits: Limits;
    /** Parameters handed to decide as they are. */
    params: Record<string, unknown>;
    /** Port of /metrics and /healthz. */
    port: number;
}

/** Where the pod finds its configuration (the ConfigMap's mount). */
export const CONFIG_PATH = "/opt/charon-loop/config.json";

type Problems = string[];

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function requireNumber(o: Record<string, unknown>, key: string, problems: Problems, min = 0): void {
    if (typeof o[key] !== "number" || !Number.isFinite(o[key] as number) || (o[key] as number) < min) {
        problems.push(`${key} must be a number ≥ ${min} (found ${JSON.stringify(o[key])})`);
    }
}

function requireString(o: Record<string, unknown>, key: string, problems: Problems, prefix = ""): void {
    if (typeof o[key] !== "string" || o[key] === "") {
        problems.push(`${prefix}${key} must be a non-empty string (found ${JSON.stringify(o[key])})`);
    }
}

function targetProblems(t: unknown): Problems {
    if (!isObject(t)) {
        return ["target must be an object"];
    }
    const problems: Problems = [];
    requireString(t, "namespace", problems, "target.");
    if (t.kind === "deployment") {
        requireString(t, "name", problems, "target.");
    } else if (t.kind === "pods") {
        requireString(t, "container", problems, "target.");
        if (!isObject(t.selector) || Object.keys(t.selector).length === 0 || Object.values(t.selector).some((v) => typeof v !== "string")) {
            problems.push("target.selector must be a non-empty map of label values");
        }
    } else {
        problems.push(`target.kind must be "deployment" or "pods" (found ${JSON.stringify(t.kind)})`);
    }
    return problems;
}

/** Parses and checks config.json; throws one error listing every problem. */
export function parseLoopConfig(text: string, source = CONFIG_PATH): LoopConfig {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new Error(`${source} is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObject(raw)) {
        throw new Error(`${source} must hold a JSON object`);
    }
    const problems: Problems = [];
    requireString(raw, "name", problems);
    if (!["pd-replicas", "inplace-resize", "custom"].includes(raw.kind as string)) {
        problems.push(`kind must be pd-replicas, inplace-resize or custom (found ${JSON.stringify(raw.kind)})`);
    }
    requireNumber(raw, "periodMs", problems, 100);
    requireNumber(raw, "minIntervalMs", problems);
    requireNumber(raw, "port", problems, 1);
    if (typeof raw.dryRun !== "boolean") {
        problems.push("dryRun must be true or false");
    }
    if (!isObject(raw.metrics) || typeof raw.metrics.url !== "string") {
        problems.push("metrics.url must be the Prometheus API URL");
    }
    problems.push(...targetProblems(raw.target));
    if (!isObject(raw.queries)) {
        problems.push("queries must be a map of observation queries");
    } else {
        for (const [name, q] of Object.entries(raw.queries)) {
            problems.push(...(isObject(q) ? observationQueryProblems(q as unknown as ObservationQuery) : ["is not an object"]).map((p) => `queries.${name}: ${p}`));
        }
    }
    if (!isObject(raw.limits)) {
        problems.push("limits must be an object");
    }
    if (!isObject(raw.params)) {
        problems.push("params must be an object");
    }
    if (problems.length > 0) {
        throw new Error(`${source}: ${problems.join("; ")}`);
    }
    return raw as unknown as LoopConfig;
}
