/**
 * From resolved settings to each enabled loop's runtime configuration (the config.json its pod reads) and the
 * module holding its decide function. Pure; the component resolves the Outputs (query URL, tenant, the workflow's
 * object names) before calling it.
 */
import * as path from "node:path";
import { milliCores, parseQuantity } from "../../model/formats/quantity";
import { parseDuration } from "../../model/formats/duration";
import type { LoopConfig } from "../../controllers/runtime/config";
import { METRICS_PORT } from "../../controllers/runtime/metric-names";
import type { MetricsEndpoint } from "../../controllers/runtime/observe";
import type { Limits } from "../../controllers/runtime/types";
import { pdReplicasQueries } from "../../controllers/pd-replicas/queries";
import { inplaceResizeQueries, vertexPodSelector } from "../../controllers/inplace-resize/queries";
import type { ControlLoopsSettings, CustomControllerSettings } from "./loops-settings";

/** What the loops need from the other layers, resolved. */
export interface LoopEnvironment {
    /** The workflow namespace: the loops run there and act there unless a custom target says otherwise. */
    namespace: string;
    metrics: MetricsEndpoint;
    /** Name of the baseline's consumer Deployment, when the baseline is deployed. */
    baselineDeployment?: string;
    /** Name of the Numaflow pipeline, when it is deployed. */
    pipeline?: string;
}

/** A loop known from the settings alone (before the other layers' Outputs resolve). */
export interface EnabledLoop {
    name: string;
    kind: LoopConfig["kind"];
    /** The setting that enabled the loop (for error messages). */
    settingKey: string;
    /** Absolute path of the module exporting decide (bundled with the runtime). */
    decideModule: string;
    /** Namespace of the loop's target (where its Role lives). */
    targetNamespace: string;
}

export interface PlannedLoop extends EnabledLoop {
    config: LoopConfig;
}

/** The built-in controllers' decide modules. */
export const BUILT_IN_DECIDE = {
    "pd-replicas": path.resolve(__dirname, "../../controllers/pd-replicas/decide.ts"),
    "inplace-resize": path.resolve(__dirname, "../../controllers/inplace-resize/decide.ts"),
} as const;

function ms(duration: string): number {
    const v = parseDuration(duration);
    if (v === undefined) {
        throw new Error(`${JSON.stringify(duration)} is not a duration`);
    }
    return v;
}

function bytes(q: string | undefined): number | undefined {
    const v = q === undefined ? undefined : parseQuantity(q);
    return v === undefined ? undefined : Math.round(v);
}

function millis(q: string | undefined): number | undefined {
    return q === undefined ? undefined : milliCores(q);
}

function definedOnly<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The enabled loops, built-ins first, in settings order. */
export function enabledLoops(s: ControlLoopsSettings, namespace: string, projectDir: string): EnabledLoop[] {
    const loops: EnabledLoop[] = [];
    if (s.pdReplicas.enabled) {
        loops.push({ name: "pd-replicas", kind: "pd-replicas", settingKey: "charon:controllers.pdReplicas", decideModule: BUILT_IN_DECIDE["pd-replicas"], targetNamespace: namespace });
    }
    if (s.inplaceResize.enabled) {
        loops.push({ name: "inplace-resize", kind: "inplace-resize", settingKey: "charon:controllers.inplaceResize", decideModule: BUILT_IN_DECIDE["inplace-resize"], targetNamespace: namespace });
    }
    s.custom.forEach((c, i) => {
        if (c.enabled) {
            loops.push({
                name: c.name, kind: "custom", settingKey: `charon:controllers.custom[${i}].file`,
                decideModule: path.resolve(projectDir, c.file), targetNamespace: c.target.namespace ?? namespace,
            });
        }
    });
    return loops;
}

function customConfig(c: CustomControllerSettings, env: LoopEnvironment): LoopConfig {
    const namespace = c.target.namespace ?? env.namespace;
    const target = c.target.kind === "deployment"
        ? { kind: "deployment" as const, namespace, name: c.target.name! }
        : { kind: "pods" as const, namespace, selector: c.target.selector!, container: c.target.container! };
    const limits: Limits = definedOnly({
        minReplicas: c.minReplicas, maxReplicas: c.maxReplicas,
        minCpuMillis: millis(c.minCpu), maxCpuMillis: millis(c.maxCpu),
        minMemoryBytes: bytes(c.minMemory), maxMemoryBytes: bytes(c.maxMemory),
    });
    return {
        name: c.name, kind: "custom", periodMs: ms(c.period), minIntervalMs: ms(c.minInterval), dryRun: c.dryRun,
        metrics: env.metrics, target, queries: c.queries, limits, params: c.params, port: METRICS_PORT.containerPort,
    };
}

function pdReplicasConfig(s: ControlLoopsSettings, env: LoopEnvironment): LoopConfig {
    const pd = s.pdReplicas;
    if (env.baselineDeployment === undefined) {
        throw new Error("charon:controllers.pdReplicas.enabled is true but the baseline consumer Deployment is not deployed (workflows.aps.deploy: baseline)");
    }
    return {
        name: "pd-replicas", kind: "pd-replicas", periodMs: ms(pd.period), minIntervalMs: ms(pd.minInterval), dryRun: pd.dryRun,
        metrics: env.metrics,
        target: { kind: "deployment", namespace: env.namespace, name: env.baselineDeployment },
        queries: pdReplicasQueries({ namespace: env.namespace, deployment: env.baselineDeployment, window: pd.window }),
        limits: { minReplicas: pd.minReplicas, maxReplicas: pd.maxReplicas },
        params: { targetFps: pd.targetFps, kp: pd.kp, kd: pd.kd, framesPerReplica: pd.framesPerReplica, useProcessingRate: pd.useProcessingRate },
        port: METRICS_PORT.containerPort,
    };
}

function inplaceResizeConfig(s: ControlLoopsSettings, env: LoopEnvironment): LoopConfig {
    const ir = s.inplaceResize;
    if (env.pipeline === undefined) {
        throw new Error("charon:controllers.inplaceResize.enabled is true but the Numaflow pipeline is not deployed (workflows.aps.deploy: pipeline)");
    }
    return {
        name: "inplace-resize", kind: "inplace-resize", periodMs: ms(ir.period), minIntervalMs: ms(ir.minInterval), dryRun: ir.dryRun,
        metrics: env.metrics,
        target: { kind: "pods", namespace: env.namespace, selector: vertexPodSelector(env.pipeline, ir.vertex), container: ir.container },
        queries: inplaceResizeQueries({ namespace: env.namespace, pipeline: env.pipeline, vertex: ir.vertex, container: ir.container, window: ir.window }),
        limits: {
            minCpuMillis: millis(ir.minCpu), maxCpuMillis: millis(ir.maxCpu),
            minMemoryBytes: bytes(ir.minMemory), maxMemoryBytes: bytes(ir.maxMemory),
        },
        params: {
            throttleHigh: ir.throttleHigh, throttleLow: ir.throttleLow, pendingHigh: ir.pendingHigh,
            busyUtilization: ir.busyUtilization, targetUtilization: ir.targetUtilization, stepUp: ir.stepUp, stepDown: ir.stepDown,
            resizeMemory: ir.resizeMemory, memoryHigh: ir.memoryHigh, memoryLow: ir.memoryLow, memoryStepUp: ir.memoryStepUp,
        },
        port: METRICS_PORT.containerPort,
    };
}

/** Every enabled loop with its runtime configuration. Throws naming the setting when its workflow object is missing. */
export function plannedLoops(s: ControlLoopsSettings, env: LoopEnvironment, projectDir: string): PlannedLoop[] {
    const custom = new globalThis.Map(s.custom.map((c) => [c.name, c]));
    return enabledLoops(s, env.namespace, projectDir).map((loop) => ({
        ...loop,
        config: loop.kind === "pd-replicas" ? pdReplicasConfig(s, env)
            : loop.kind === "inplace-resize" ? inplaceResizeConfig(s, env)
                : customConfig(custom.get(loop.name)!, env),
    }));
}
