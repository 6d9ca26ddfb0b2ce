/**
 * The workflows layer's settings model: the APS workflow (`charon:workflows`), the experiments run on it
 * (`charon:experiments`) and what the post-experiment hook harvests (`charon:harvest`).
 */
import { apsImages } from "../components/versions";
import type { Problem } from "../model/check";
import { isPinnedImage } from "../model/formats/names";
import { Cpu, DnsLabel, Duration, Enum, ImageReference, Integer, Memory, type Static, Type } from "../model/schema";
import { ManifestsSchema, manifestSettingsProblems } from "./manifests/settings";

const channel = (description: string, value?: string) => Type.String({
    description, ...(value === undefined ? {} : { default: value }),
    pattern: "^[A-Za-z0-9_:.*-]{1,128}$", hint: "a PVA channel name such as pvapy:image (letters, digits, : _ . - *)",
});
const percent = (description: string) => Type.Optional(Integer({ minimum: 1, maximum: 100, description }));
const seconds = (description: string) => Type.Optional(Integer({ minimum: 0, maximum: 86400, description }));

export const VertexSettingsSchema = Type.Object({
    scale: Type.Optional(Type.Object({
        min: Type.Optional(Integer({ minimum: 0, maximum: 1000, description: "Minimum replicas." })),
        max: Type.Optional(Integer({ minimum: 1, maximum: 1000, description: "Maximum replicas." })),
        lookbackSeconds: seconds("Window for the average pending messages and processing rate."),
        scaleUpCooldownSeconds: seconds("Cooldown after a scaling operation before scaling up again."),
        scaleDownCooldownSeconds: seconds("Cooldown after a scaling operation before scaling down again."),
        targetBufferAvailability: percent("Target free share of the vertex's input buffer, in percent."),
        disabled: Type.Optional(Type.Boolean({ description: "Turn Numaflow's autoscaler off for this vertex." })),
    }, { additionalProperties: false, description: "Autoscaling of this vertex (Numaflow scale)." })),
    limits: Type.Optional(Type.Object({
        readBatchSize: Type.Optional(Integer({ minimum: 1, maximum: 100000, description: "Messages read per batch." })),
        bufferMaxLength: Type.Optional(Integer({ minimum: 1, maximum: 10000000, description: "Maximum messages in the vertex's input buffer." })),
        bufferUsageLimit: percent("Buffer usage (percent) above which the buffer counts as full."),
    }, { additionalProperties: false, description: "Buffer limits of this vertex (Numaflow limits)." })),
}, { additionalProperties: false, description: "Per-vertex overrides of the profile." });

export const ApsSettingsSchema = Type.Object({
    enabled: Type.Boolean({ default: false, description: "Deploy the APS workflow (needs a GPU node for inference)." }),
    deploy: Enum(["pipeline", "baseline"] as const, {
        default: "pipeline", description: "pipeline: Numaflow in → cat → out; baseline: PvaPy consumer Deployment + mirror server.",
    }),
    profile: Enum(["fixed", "autoscaling"] as const, {
        default: "fixed", description: "Pipeline scaling preset: fixed (1 replica per vertex) or autoscaling (cat 1–6, out 1–5).",
    }),
    channel: channel("PVA channel the simulated stream publishes and the workflow consumes.", "pvapy:image"),
    mirrorChannel: channel("Baseline: channel the mirror server republishes the stream on.", "ad:image"),
    queueSize: Integer({ minimum: 1, maximum: 1000000, default: 1000, description: "PvaPy receive queue size of the source (PVA_QUEUE_SIZE)." }),
    batchSize: Integer({ minimum: 1, maximum: 1024, default: 8, description: "Frames the inference vertex reads per batch (readBatchSize)." }),
    images: Type.Object({
        udsource: ImageReference({ default: apsImages.udsource, description: "Numaflow source image (PvaPy → Numaflow)." }),
        udf: ImageReference({ default: apsImages.udf, description: "PtychoNN inference UDF image." }),
        pvapy: ImageReference({ default: apsImages.pvapy, description: "PvaPy tools image (simulated stream, mirror server)." }),
        consumer: ImageReference({ default: apsImages.consumer, description: "Baseline consumer image (pvapy-hpc-consumer + PtychoNN)." }),
    }, { additionalProperties: false, default: {}, description: "Workflow images, pinned." }),
    vertices: Type.Object({
        in: Type.Optional(VertexSettingsSchema),
        cat: Type.Optional(VertexSettingsSchema),
        out: Type.Optional(VertexSettingsSchema),
    }, { additionalProperties: false, default: {}, description: "Per-vertex scale and buffer limits, overriding the profile." }),
    cpu: Cpu({ default: "1000m", description: "CPU request and limit of the inference container." }),
    memory: Memory({ default: "4Gi", description: "Memory request and limit of the inference container." }),
    namespace: DnsLabel({
        default: "default", hint: "a namespace name (lower-case letters, digits, -)", description: "Namespace of the workflow and its experiments.",
    }),
}, { additionalProperties: false, default: {}, description: "The APS PtychoNN workflow: Numaflow pipeline `ptychography` or the PvaPy baseline." });

export const WorkflowsSettingsSchema = Type.Object({
    aps: ApsSettingsSchema,
    manifests: ManifestsSchema,
}, { additionalProperties: false, default: {}, description: "The scientific workflows run on the platform." });

export const ExperimentSettingsSchema = Type.Object({
    name: Type.String({
        pattern: "^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", hint: "a DNS label of at most 40 characters (lower-case letters, digits, -)",
        description: "Unique experiment name (results/<stack>/<name>/<run>/).",
    }),
    workflow: Enum(["pipeline", "baseline"] as const, { default: "pipeline", description: "Which workflow the stream feeds; must be the deployed one." }),
    run: Integer({ minimum: 1, maximum: 99999, default: 1, description: "Run counter: increase it to run the same experiment again." }),
    frameRate: Type.Number({ minimum: 0.001, maximum: 100000, default: 100, description: "Frames per second of the simulated stream." }),
    imageWidth: Integer({ minimum: 1, maximum: 16384, default: 512, description: "Frame width in pixels." }),
    imageHeight: Integer({ minimum: 1, maximum: 16384, default: 512, description: "Frame height in pixels." }),
    dtype: Enum(["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"] as const, {
        default: "int16", description: "Pixel data type.",
    }),
    durationSeconds: Integer({ minimum: 1, maximum: 86400, default: 300, description: "How long the stream runs." }),
    channel: Type.Optional(channel("PVA channel to publish on; defaults to workflows.aps.channel.")),
    marginSeconds: Integer({
        minimum: 0, maximum: 86400, default: 600,
        description: "Extra time `pulumi up` waits for the stream Job beyond its duration (image pull, start-up).",
    }),
}, { additionalProperties: false, description: "One experiment: a simulated X-ray stream into the deployed workflow, harvested when it completes." });

export const ExperimentsSchema = Type.Array(ExperimentSettingsSchema, {
    default: [], description: "Experiments to run; each runs once per `run` value and is harvested when it completes.",
});

export const HarvestSettingsSchema = Type.Object({
    enabled: Type.Boolean({ default: true, description: "Harvest each experiment's window when its stream Job completes." }),
    queriesFile: Type.String({ default: "workflows/aps/metrics.txt", description: "Queries file (one PromQL per line, # comments), relative to the project." }),
    format: Enum(["csv", "parquet", "json"] as const, { default: "parquet", description: "Data file format." }),
    mode: Enum(["auto", "raw", "range"] as const, { default: "auto", description: "auto: raw samples for plain selectors without step, range otherwise." }),
    step: Type.Optional(Duration({ description: "Evaluation step for range mode (unset: raw samples where possible)." })),
    marginSeconds: Integer({ minimum: 0, maximum: 3600, default: 30, description: "Seconds added before the Job's start and after its completion." }),
    resultsDir: Type.String({ default: "results", description: "Root directory of harvested results, relative to the project." }),
}, { additionalProperties: false, default: {}, description: "What the post-experiment hook harvests from Mimir." });

export type VertexName = "in" | "cat" | "out";
export type VertexSettings = Static<typeof VertexSettingsSchema>;
export type VertexScaleSettings = NonNullable<VertexSettings["scale"]>;
export type VertexLimitSettings = NonNullable<VertexSettings["limits"]>;
export type ApsSettings = Static<typeof ApsSettingsSchema>;
export type ApsImages = ApsSettings["images"];
export type ApsDeploy = ApsSettings["deploy"];
export type ApsProfileName = ApsSettings["profile"];
export type WorkflowsSettings = Static<typeof WorkflowsSettingsSchema>;
export type ExperimentSettings = Static<typeof ExperimentSettingsSchema>;
export type FrameDtype = ExperimentSettings["dtype"];
export type HarvestSettings = Static<typeof HarvestSettingsSchema>;
export type HarvestFormat = HarvestSettings["format"];
export type HarvestMode = HarvestSettings["mode"];

export interface WorkflowSettingsView {
    workflows: WorkflowsSettings;
    experiments: ExperimentSettings[];
    harvest: HarvestSettings;
}

/** Rules across the workflows layer's keys; `root` prefixes every key (`charon:`). */
export function workflowSettingsProblems(s: WorkflowSettingsView, root: string): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${root}${key}`, message: `${root}${key}: ${message}` });
    const aps = s.workflows.aps;
    for (const [part, image] of Object.entries(aps.images)) {
        if (!isPinnedImage(image)) {
            add(`workflows.aps.images.${part}`, `${JSON.stringify(image)} is not pinned; use an explicit tag other than latest or dev, or a digest`);
        }
    }
    for (const vertex of ["in", "cat", "out"] as const) {
        const scale = aps.vertices[vertex]?.scale;
        if (scale?.min !== undefined && scale.max !== undefined && scale.min > scale.max) {
            add(`workflows.aps.vertices.${vertex}.scale.min`, `${scale.min} is above scale.max ${scale.max}; min must be ≤ max`);
        }
    }
    const seen = new Map<string, number>();
    s.experiments.forEach((e, i) => {
        const key = `experiments[${i}]`;
        const first = seen.get(e.name);
        if (first !== undefined) {
            add(`${key}.name`, `${JSON.stringify(e.name)} is already used by experiments[${first}]; experiment names must be unique`);
        } else {
            seen.set(e.name, i);
        }
        const which = typeof e.name === "string" ? `experiment ${JSON.stringify(e.name)}` : `${key}`;
        if (!aps.enabled) {
            add(`${key}.workflow`, `${which} needs the APS workflow, but workflows.aps.enabled is false; set it to true or remove the experiment`);
        } else if (e.workflow !== aps.deploy) {
            add(`${key}.workflow`, `${JSON.stringify(e.workflow)} is not the deployed workflow (workflows.aps.deploy is ${JSON.stringify(aps.deploy)}); set one of them so they match`);
        }
    });
    problems.push(...manifestSettingsProblems(s.workflows.manifests, root));
    if (s.experiments.length > 0 && s.harvest.enabled && s.harvest.mode === "range" && s.harvest.step === undefined) {
        add("harvest.step", `is required when harvest.mode is "range"; set a duration such as 2s`);
    }
    return problems;
}
