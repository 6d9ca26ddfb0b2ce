/**
 * The control loops' stack settings (`charon:controllers.pdReplicas`, `.inplaceResize`, `.custom`): TypeBox
 * schemas (types, defaults and the README lines come from here) and `controlLoopsSettingsProblems` for the rules
 * across keys and layers. Parameters default to the original Charon controller's and to bounds that fit the
 * PtychoNN inference container (1 CPU, 4 GiB by default).
 */
import type { Problem } from "../../model/check";
import { childKey } from "../../model/check";
import { parseDuration } from "../../model/formats/duration";
import { parseQuantity } from "../../model/formats/quantity";
import { Cpu, DnsLabel, Duration, Enum, Integer, Map, Memory, type Static, Type } from "../../model/schema";
import { observationQueryProblems } from "../../controllers/runtime/queries";

const loopBasics = (d: { period: string; minInterval: string; enabled: boolean; what: string }) => ({
    enabled: Type.Boolean({ default: d.enabled, description: `Run ${d.what}.` }),
    dryRun: Type.Boolean({
        default: false,
        description: "Send every action with dryRun=All: the API server validates it (RBAC, resize rules) and nothing changes; metrics show what would have been done.",
    }),
    period: Duration({ default: d.period, description: "How often the loop observes, decides and acts." }),
    minInterval: Duration({ default: d.minInterval, description: "Smallest time between two actions on the same object (Deployment or pod)." }),
});

const ratio = (options: { default: number; description: string }) => Type.Number({ exclusiveMinimum: 0, maximum: 1, ...options });

export const PdReplicasSettingsSchema = Type.Object({
    ...loopBasics({ period: "2s", minInterval: "10s", enabled: false, what: "pd-replicas: the original's PD controller on the baseline consumer Deployment's replicas" }),
    targetFps: Type.Number({ exclusiveMinimum: 0, default: 800, description: "Frames per second the consumers should keep up with (the original's target_fps)." }),
    kp: Type.Number({ default: 0.5, description: "Proportional gain Kp." }),
    kd: Type.Number({ default: 1, description: "Derivative gain Kd (on the error's change per period)." }),
    framesPerReplica: Integer({ minimum: 1, default: 64, description: "Frames one consumer absorbs (the original's CONTAINER_CAPACITY): replicas = max(1, control // framesPerReplica)." }),
    useProcessingRate: Type.Boolean({
        default: true,
        description: "Subtract the consumers' processing rate from the error, as the original's formula says; false reproduces its runs, whose rate input was never fed (always 0).",
    }),
    window: Duration({ default: "5s", description: "How recent a consumer's last queued-frames report must be to count (the original: 5 s)." }),
    minReplicas: Integer({ minimum: 1, default: 1, description: "Fewest consumer replicas the loop sets." }),
    maxReplicas: Integer({ minimum: 1, default: 8, description: "Most consumer replicas the loop sets." }),
}, { additionalProperties: false, default: {}, description: "pd-replicas: scales the PvaPy baseline's consumer Deployment from its queued frames (the original Charon PD controller)." });

export const InplaceResizeSettingsSchema = Type.Object({
    ...loopBasics({ period: "15s", minInterval: "60s", enabled: false, what: "inplace-resize: in-place CPU (and optionally memory) resizing of the pipeline's inference pods" }),
    vertex: DnsLabel({ default: "cat", description: "Pipeline vertex whose pods are resized (the PtychoNN inference vertex)." }),
    container: DnsLabel({ default: "udf", description: "Container resized in those pods (Numaflow's user-defined function container)." }),
    window: Duration({ default: "1m", description: "Window of the CPU and throttling rates." }),
    minCpu: Cpu({ default: "500m", description: "Smallest CPU request (and limit) the loop sets." }),
    maxCpu: Cpu({ default: "4", description: "Largest CPU request (and limit) the loop sets." }),
    throttleHigh: ratio({ default: 0.1, description: "Raise CPU when the container is throttled in more than this share of its CFS periods." }),
    throttleLow: ratio({ default: 0.01, description: "CPU may be lowered only while throttled in fewer than this share of periods." }),
    pendingHigh: Integer({ minimum: 0, default: 1000, description: "Vertex pending messages above which a busy pod gets more CPU (and below which CPU may be lowered)." }),
    busyUtilization: ratio({ default: 0.8, description: "A pod counts as busy (CPU-bound backlog) when it uses at least this share of its CPU." }),
    targetUtilization: ratio({ default: 0.7, description: "Lowering aims at usage / targetUtilization." }),
    stepUp: Type.Number({ exclusiveMinimum: 1, maximum: 4, default: 1.5, description: "Factor of one CPU (and memory) increase." }),
    stepDown: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.8, description: "Largest decrease per step, as a factor of the current value." }),
    resizeMemory: Type.Boolean({ default: false, description: "Also resize memory, from the container's working set." }),
    minMemory: Memory({ default: "2Gi", description: "Smallest memory request (and limit) the loop sets." }),
    maxMemory: Memory({ default: "8Gi", description: "Largest memory request (and limit) the loop sets." }),
    memoryHigh: ratio({ default: 0.85, description: "Raise memory when the working set exceeds this share of the request." }),
    memoryLow: ratio({ default: 0.4, description: "Lower memory when the working set is under this share of the request." }),
    memoryStepUp: Type.Number({ exclusiveMinimum: 1, maximum: 4, default: 1.25, description: "Factor of one memory increase." }),
}, { additionalProperties: false, default: {}, description: "inplace-resize: resizes the PtychoNN inference pods' CPU (and optionally memory) in place from throttling and pending messages." });

const labelMap = (description: string) => Map(Type.String(), { description });

const seriesQueryFields = {
    metric: Type.String({ pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", hint: "a metric name such as container_cpu_usage_seconds_total", description: "Metric name as scraped (for replay it must also be in the harvest's queries file)." }),
    labels: Type.Optional(labelMap("Labels that must have exactly these values.")),
    labelsMatching: Type.Optional(labelMap("Labels whose values must fully match these regular expressions.")),
    fn: Enum(["last", "rate"] as const, { default: "last", description: "last: the latest sample in the window; rate: per-second rate of a counter." }),
    window: Duration({ default: "1m", description: "The window of fn." }),
    aggregate: Enum(["sum", "max", "min", "avg"] as const, { default: "sum", description: "How the selected series are combined." }),
    by: Type.Array(Type.String({ pattern: "^[a-zA-Z_][a-zA-Z0-9_]*$", hint: "a label name" }), { default: [], description: "Labels kept by the aggregation (empty: one value)." }),
};

export const SeriesQuerySchema = Type.Object(seriesQueryFields, { additionalProperties: false, description: "One metric reduced to a value per group." });

export const ObservationQuerySchema = Type.Object({
    ...seriesQueryFields,
    dividedBy: Type.Optional(SeriesQuerySchema),
}, { additionalProperties: false, description: "An observation: a metric reduced per group, optionally divided by a second one aggregated by the same labels." });

export const CustomControllerSettingsSchema = Type.Object({
    name: DnsLabel({ description: "Loop name (its Deployment is charon-loop-<name>; the `controller` label of its metrics)." }),
    file: Type.String({ minLength: 1, description: "TypeScript or JavaScript file exporting `decide`, relative to the project (bundled with the runtime)." }),
    ...loopBasics({ period: "15s", minInterval: "30s", enabled: true, what: "this controller" }),
    target: Type.Object({
        kind: Enum(["deployment", "pods"] as const, { description: "deployment: set a Deployment's replicas; pods: resize the selected pods' container in place." }),
        name: Type.Optional(DnsLabel({ description: "The Deployment (kind deployment)." })),
        selector: Type.Optional(labelMap("Label selector of the pods (kind pods).")),
        container: Type.Optional(DnsLabel({ description: "Container to resize (kind pods)." })),
        namespace: Type.Optional(DnsLabel({ description: "Namespace of the target; defaults to the workflow namespace." })),
    }, { additionalProperties: false, description: "What the controller acts on." }),
    queries: Map(ObservationQuerySchema, { default: {}, keyPattern: "^[a-zA-Z_][a-zA-Z0-9_]*$", keyHint: "a name such as queued", description: "Observations by name, handed to decide as observation.metrics.<name>." }),
    params: Map(Type.Number(), { default: {}, description: "Numbers handed to decide as its third argument." }),
    minReplicas: Type.Optional(Integer({ minimum: 0, description: "Fewest replicas (kind deployment)." })),
    maxReplicas: Type.Optional(Integer({ minimum: 1, description: "Most replicas (kind deployment; required)." })),
    minCpu: Type.Optional(Cpu({ description: "Smallest CPU (kind pods)." })),
    maxCpu: Type.Optional(Cpu({ description: "Largest CPU (kind pods; this or maxMemory required)." })),
    minMemory: Type.Optional(Memory({ description: "Smallest memory (kind pods)." })),
    maxMemory: Type.Optional(Memory({ description: "Largest memory (kind pods; this or maxCpu required)." })),
}, { additionalProperties: false, description: "A researcher's own controller." });

export const CustomControllersSettingsSchema = Type.Array(CustomControllerSettingsSchema, {
    default: [], description: "Your own controllers: each names a file exporting `decide`, deployed like the built-in loops.",
});

/** The loops' keys under charon:controllers (next to actimanager). */
export const ControlLoopsSettingsSchema = Type.Object({
    pdReplicas: PdReplicasSettingsSchema,
    inplaceResize: InplaceResizeSettingsSchema,
    custom: CustomControllersSettingsSchema,
}, { additionalProperties: false, default: {}, description: "Control loops: observe → decide → act on the workflow's resources." });

export type PdReplicasSettings = Static<typeof PdReplicasSettingsSchema>;
export type InplaceResizeSettings = Static<typeof InplaceResizeSettingsSchema>;
export type ObservationQuerySettings = Static<typeof ObservationQuerySchema>;
export type CustomControllerSettings = Static<typeof CustomControllerSettingsSchema>;
export type ControlLoopsSettings = Static<typeof ControlLoopsSettingsSchema>;

/** Names the built-in loops use (a custom controller may not take them). */
export const BUILT_IN_LOOPS = ["pd-replicas", "inplace-resize"] as const;

/** Longest loop name: object names are charon-loop-<name> (DNS labels, at most 63 characters). */
export const MAX_LOOP_NAME = 63 - "charon-loop-".length;

/** What the rules across layers need to know. */
export interface ControlLoopsContext {
    /** The APS workflow's settings: whether it is deployed and which one. */
    aps: { enabled: boolean; deploy: "pipeline" | "baseline" };
    /** Key prefix of the loops' settings. Defaults to "charon:controllers.". */
    keyPrefix?: string;
}

const quantity = (text: string | undefined) => (text === undefined ? undefined : parseQuantity(text));

/** Rules across keys: workflow prerequisites, bounds in order, thresholds in order, custom controllers' targets. */
export function controlLoopsSettingsProblems(s: ControlLoopsSettings, context: ControlLoopsContext): Problem[] {
    const prefix = context.keyPrefix ?? "charon:controllers.";
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${prefix}${key}`, message: `${prefix}${key}: ${message}` });
    const minMax = (base: string, minKey: string, maxKey: string, min: number | undefined, max: number | undefined, shown: [unknown, unknown]) => {
        if (min !== undefined && max !== undefined && min > max) {
            add(`${base}.${maxKey}`, `${JSON.stringify(shown[1])} is below ${minKey} ${JSON.stringify(shown[0])}; the upper bound must be at least the lower one`);
        }
    };
    const period = (base: string, value: string) => {
        const ms = parseDuration(value);
        if (ms !== undefined && ms < 1000) {
            add(`${base}.period`, `${JSON.stringify(value)} is shorter than 1s; metrics are scraped every few seconds, so a faster loop only re-reads the same samples`);
        }
    };

    const pd = s.pdReplicas;
    if (pd.enabled && !(context.aps.enabled && context.aps.deploy === "baseline")) {
        add("pdReplicas.enabled", `true needs the baseline consumer Deployment to scale; set workflows.aps.enabled: true and workflows.aps.deploy: baseline, or disable pdReplicas`);
    }
    minMax("pdReplicas", "minReplicas", "maxReplicas", pd.minReplicas, pd.maxReplicas, [pd.minReplicas, pd.maxReplicas]);
    period("pdReplicas", pd.period);

    const ir = s.inplaceResize;
    if (ir.enabled && !(context.aps.enabled && context.aps.deploy === "pipeline")) {
        add("inplaceResize.enabled", `true needs the Numaflow pipeline's inference pods to resize; set workflows.aps.enabled: true and workflows.aps.deploy: pipeline, or disable inplaceResize`);
    }
    minMax("inplaceResize", "minCpu", "maxCpu", quantity(ir.minCpu), quantity(ir.maxCpu), [ir.minCpu, ir.maxCpu]);
    minMax("inplaceResize", "minMemory", "maxMemory", quantity(ir.minMemory), quantity(ir.maxMemory), [ir.minMemory, ir.maxMemory]);
    if (ir.throttleLow >= ir.throttleHigh) {
        add("inplaceResize.throttleLow", `${ir.throttleLow} must be below throttleHigh ${ir.throttleHigh}, or CPU would go up and down on the same throttling`);
    }
    if (ir.memoryLow >= ir.memoryHigh) {
        add("inplaceResize.memoryLow", `${ir.memoryLow} must be below memoryHigh ${ir.memoryHigh}, or memory would go up and down on the same working set`);
    }
    period("inplaceResize", ir.period);

    const seen = new globalThis.Map<string, number>();
    s.custom.forEach((c, i) => {
        const base = childKey("custom", i);
        const first = seen.get(c.name);
        if ((BUILT_IN_LOOPS as readonly string[]).includes(c.name)) {
            add(`${base}.name`, `${JSON.stringify(c.name)} is the name of a built-in loop; choose another`);
        } else if (first !== undefined) {
            add(`${base}.name`, `${JSON.stringify(c.name)} is already used by custom[${first}]; loop names must be unique`);
        } else {
            seen.set(c.name, i);
        }
        if (c.name.length > MAX_LOOP_NAME) {
            add(`${base}.name`, `${JSON.stringify(c.name)} is longer than ${MAX_LOOP_NAME} characters (its objects are named charon-loop-<name>, at most 63)`);
        }
        if (!/\.(ts|mts|cts|js|mjs|cjs)$/.test(c.file)) {
            add(`${base}.file`, `${JSON.stringify(c.file)} is not a TypeScript or JavaScript file (.ts, .mts, .cts, .js, .mjs, .cjs)`);
        }
        period(base, c.period);
        const t = c.target;
        if (t.kind === "deployment") {
            if (t.name === undefined) {
                add(`${base}.target.name`, "is required for kind deployment (the Deployment to scale)");
            }
            if (c.maxReplicas === undefined) {
                add(`${base}.maxReplicas`, "is required for kind deployment: the loop never sets more replicas than this");
            }
            for (const k of ["selector", "container"] as const) {
                if (t[k] !== undefined) {
                    add(`${base}.target.${k}`, "applies to kind pods only");
                }
            }
            for (const k of ["minCpu", "maxCpu", "minMemory", "maxMemory"] as const) {
                if (c[k] !== undefined) {
                    add(`${base}.${k}`, "applies to kind pods only");
                }
            }
            minMax(base, "minReplicas", "maxReplicas", c.minReplicas, c.maxReplicas, [c.minReplicas, c.maxReplicas]);
        } else {
            if (t.selector === undefined || Object.keys(t.selector).length === 0) {
                add(`${base}.target.selector`, "is required for kind pods (the labels of the pods to resize)");
            }
            if (t.container === undefined) {
                add(`${base}.target.container`, "is required for kind pods (the container to resize)");
            }
            if (t.name !== undefined) {
                add(`${base}.target.name`, "applies to kind deployment only");
            }
            if (c.maxCpu === undefined && c.maxMemory === undefined) {
                add(`${base}.maxCpu`, "is required for kind pods (or maxMemory): the loop never sets more than these");
            }
            for (const k of ["minReplicas", "maxReplicas"] as const) {
                if (c[k] !== undefined) {
                    add(`${base}.${k}`, "applies to kind deployment only");
                }
            }
            minMax(base, "minCpu", "maxCpu", quantity(c.minCpu), quantity(c.maxCpu), [c.minCpu, c.maxCpu]);
            minMax(base, "minMemory", "maxMemory", quantity(c.minMemory), quantity(c.maxMemory), [c.minMemory, c.maxMemory]);
        }
        for (const [name, q] of Object.entries(c.queries)) {
            for (const p of observationQueryProblems(q)) {
                add(`${base}.queries.${name}`, p);
            }
        }
    });
    return problems;
}
