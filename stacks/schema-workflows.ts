import { actimanagerMinKubernetesMinor, apsImages } from "../components/versions";
import { cpuHint, cpuPattern, dnsLabelPattern, durationHint, durationPattern, quantityHint, quantityPattern } from "./formats";
import { Field, ObjectField, SettingsProblem } from "./schema-dsl";
import type { ApsSettings, ControllersSettings, ExperimentSettings, HarvestSettings, WorkflowsSettings } from "./settings-workflows";

/**
 * Stack settings of the workflows layer: `workflows` (the APS PtychoNN pipeline or its baseline), `experiments`
 * (simulated-stream runs with a measured window), `harvest` (what the post-experiment hook collects) and
 * `controllers` (optional actimanager). Structural rules live in the fields; cross-key rules in
 * `checkWorkflowSettings`, which stacks/load.ts calls on the merged settings.
 */


/** An image reference with a tag, a digest, or both (registry ports are allowed: host:5000/name:tag). */
export const pinnedImagePattern = /^([^\s/:@]+(:[0-9]+)?\/)?[^\s:@]+(:[\w][\w.-]{0,127}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$/;

/** Whether an image reference names an explicit tag other than latest/dev, or a digest. */
export function isPinnedImage(image: string): boolean {
    if (!pinnedImagePattern.test(image)) {
        return false;
    }
    if (/@sha256:[a-f0-9]{64}$/.test(image)) {
        return true;
    }
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    if (colon < 0) {
        return false;
    }
    const tag = lastSegment.slice(colon + 1);
    return tag !== "" && tag !== "latest" && tag !== "dev";
}

const imageField = (doc: string, image?: string): Field => ({
    kind: "string", doc, ...(image === undefined ? {} : { default: image }),
    pattern: pinnedImagePattern,
    patternHint: "an image reference with a tag or digest: repo/name:tag or repo/name@sha256:<digest>",
});

const channelField = (doc: string, value?: string): Field => ({
    kind: "string", doc, ...(value === undefined ? {} : { default: value }),
    pattern: /^[A-Za-z0-9_:.*-]{1,128}$/, patternHint: "a PVA channel name such as pvapy:image (letters, digits, : _ . - *)",
});

const percent = (doc: string): Field => ({ kind: "number", integer: true, min: 1, max: 100, doc });
const seconds = (doc: string): Field => ({ kind: "number", integer: true, min: 0, max: 86400, doc });

export const vertexField: ObjectField = {
    kind: "object",
    doc: "Per-vertex overrides of the profile.",
    fields: {
        scale: {
            kind: "object", doc: "Autoscaling of this vertex (Numaflow scale).",
            fields: {
                min: { kind: "number", integer: true, min: 0, max: 1000, doc: "Minimum replicas." },
                max: { kind: "number", integer: true, min: 1, max: 1000, doc: "Maximum replicas." },
                lookbackSeconds: seconds("Window for the average pending messages and processing rate."),
                scaleUpCooldownSeconds: seconds("Cooldown after a scaling operation before scaling up again."),
                scaleDownCooldownSeconds: seconds("Cooldown after a scaling operation before scaling down again."),
                targetBufferAvailability: percent("Target free share of the vertex's input buffer, in percent."),
                disabled: { kind: "boolean", doc: "Turn Numaflow's autoscaler off for this vertex." },
            },
        },
        limits: {
            kind: "object", doc: "Buffer limits of this vertex (Numaflow limits).",
            fields: {
                readBatchSize: { kind: "number", integer: true, min: 1, max: 100000, doc: "Messages read per batch." },
                bufferMaxLength: { kind: "number", integer: true, min: 1, max: 10000000, doc: "Maximum messages in the vertex's input buffer." },
                bufferUsageLimit: percent("Buffer usage (percent) above which the buffer counts as full."),
            },
        },
    },
};

export const workflowsField: ObjectField = {
    kind: "object",
    doc: "The scientific workflows run on the platform.",
    fields: {
        aps: {
            kind: "object",
            doc: "The APS PtychoNN workflow: Numaflow pipeline `ptychography` or the PvaPy baseline.",
            fields: {
                enabled: { kind: "boolean", default: false, doc: "Deploy the APS workflow (needs a GPU node for inference)." },
                deploy: {
                    kind: "enum", values: ["pipeline", "baseline"], default: "pipeline",
                    doc: "pipeline: Numaflow in → cat → out; baseline: PvaPy consumer Deployment + mirror server.",
                },
                profile: {
                    kind: "enum", values: ["fixed", "autoscaling"], default: "fixed",
                    doc: "Pipeline scaling preset: fixed (1 replica per vertex) or autoscaling (cat 1–6, out 1–5).",
                },
                channel: channelField("PVA channel the simulated stream publishes and the workflow consumes.", "pvapy:image"),
                mirrorChannel: channelField("Baseline: channel the mirror server republishes the stream on.", "ad:image"),
                queueSize: { kind: "number", integer: true, min: 1, max: 1000000, default: 1000, doc: "PvaPy receive queue size of the source (PVA_QUEUE_SIZE)." },
                batchSize: { kind: "number", integer: true, min: 1, max: 1024, default: 8, doc: "Frames the inference vertex reads per batch (readBatchSize)." },
                images: {
                    kind: "object", doc: "Workflow images, pinned.",
                    fields: {
                        udsource: imageField("Numaflow source image (PvaPy → Numaflow).", apsImages.udsource),
                        udf: imageField("PtychoNN inference UDF image.", apsImages.udf),
                        pvapy: imageField("PvaPy tools image (simulated stream, mirror server).", apsImages.pvapy),
                        consumer: imageField("Baseline consumer image (pvapy-hpc-consumer + PtychoNN).", apsImages.consumer),
                    },
                },
                vertices: {
                    kind: "object", default: {}, doc: "Per-vertex scale and buffer limits, overriding the profile.",
                    fields: { in: vertexField, cat: vertexField, out: vertexField },
                },
                cpu: { kind: "string", default: "1000m", pattern: cpuPattern, patternHint: cpuHint, doc: "CPU request and limit of the inference container." },
                memory: { kind: "string", default: "4Gi", pattern: quantityPattern, patternHint: quantityHint, doc: "Memory request and limit of the inference container." },
                namespace: { kind: "string", default: "default", pattern: dnsLabelPattern, patternHint: "a namespace name (lower-case letters, digits, -)", doc: "Namespace of the workflow and its experiments." },
            },
        },
    },
};

export const experimentField: ObjectField = {
    kind: "object",
    doc: "One experiment: a simulated X-ray stream into the deployed workflow, harvested when it completes.",
    required: ["name"],
    fields: {
        name: {
            kind: "string", doc: "Unique experiment name (results/<stack>/<name>/<run>/).",
            pattern: /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/, patternHint: "a DNS label of at most 40 characters (lower-case letters, digits, -)",
        },
        workflow: { kind: "enum", values: ["pipeline", "baseline"], default: "pipeline", doc: "Which workflow the stream feeds; must be the deployed one." },
        run: { kind: "number", integer: true, min: 1, max: 99999, default: 1, doc: "Run counter: increase it to run the same experiment again." },
        frameRate: { kind: "number", min: 0.001, max: 100000, default: 100, doc: "Frames per second of the simulated stream." },
        imageWidth: { kind: "number", integer: true, min: 1, max: 16384, default: 512, doc: "Frame width in pixels." },
        imageHeight: { kind: "number", integer: true, min: 1, max: 16384, default: 512, doc: "Frame height in pixels." },
        dtype: {
            kind: "enum", values: ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"],
            default: "int16", doc: "Pixel data type.",
        },
        durationSeconds: { kind: "number", integer: true, min: 1, max: 86400, default: 300, doc: "How long the stream runs." },
        channel: channelField("PVA channel to publish on; defaults to workflows.aps.channel."),
        marginSeconds: {
            kind: "number", integer: true, min: 0, max: 86400, default: 600,
            doc: "Extra time `pulumi up` waits for the stream Job beyond its duration (image pull, start-up).",
        },
    },
};

export const experimentsField: Field = {
    kind: "array", items: experimentField, default: [],
    doc: "Experiments to run; each runs once per `run` value and is harvested when it completes.",
};

export const harvestField: ObjectField = {
    kind: "object",
    doc: "What the post-experiment hook harvests from Mimir.",
    fields: {
        enabled: { kind: "boolean", default: true, doc: "Harvest each experiment's window when its stream Job completes." },
        queriesFile: { kind: "string", default: "workflows/aps/metrics.txt", doc: "Queries file (one PromQL per line, # comments), relative to the project." },
        format: { kind: "enum", values: ["csv", "parquet", "json"], default: "parquet", doc: "Data file format." },
        mode: { kind: "enum", values: ["auto", "raw", "range"], default: "auto", doc: "auto: raw samples for plain selectors without step, range otherwise." },
        step: { kind: "string", pattern: durationPattern, patternHint: durationHint, doc: "Evaluation step for range mode (unset: raw samples where possible)." },
        marginSeconds: { kind: "number", integer: true, min: 0, max: 3600, default: 30, doc: "Seconds added before the Job's start and after its completion." },
        resultsDir: { kind: "string", default: "results", doc: "Root directory of harvested results, relative to the project." },
    },
};

export const controllersField: ObjectField = {
    kind: "object",
    doc: "Optional resource-management controllers.",
    fields: {
        actimanager: {
            kind: "object",
            doc: "actimanager: fine-grained CPU pinning (CRDs, controller-manager, per-node daemon, maestro scheduler).",
            fields: {
                enabled: { kind: "boolean", default: false, doc: "Install actimanager (Kubernetes >= 1.31)." },
                image: imageField("actimanager image holding /manager, /daemon and /scheduler; required when enabled (no default: pin a tag or digest)."),
                cgroupDriver: {
                    kind: "enum", values: ["systemd", "cgroupfs"], default: "systemd",
                    doc: "Kubelet cgroup driver the daemon must match: k3s uses systemd when run as a systemd service with the cpuset controller, else cgroupfs.",
                },
                reconcilePeriod: { kind: "string", default: "15s", pattern: durationPattern, patternHint: durationHint, doc: "Daemon reconcile period." },
                verbosity: { kind: "number", integer: true, min: 0, max: 5, default: 3, doc: "Daemon log verbosity (0–5)." },
                schedulerPolicy: {
                    kind: "enum", values: ["MaximumUtilization", "Balanced"], default: "MaximumUtilization",
                    doc: "WorkloadAware policy of the maestro scheduler.",
                },
            },
        },
    },
};

/** The settings checkWorkflowSettings reads (a subset of Settings, so it can be called from stacks/load.ts). */
export interface WorkflowSettingsView {
    k3s?: { version: string };
    workflows: WorkflowsSettings;
    experiments: ExperimentSettings[];
    harvest: HarvestSettings;
    controllers: ControllersSettings;
}

/**
 * Cross-key checks of the workflows layer on merged settings; each problem names the key, the value and what is
 * allowed. stacks/load.ts appends these to its own semantic checks.
 */
export function checkWorkflowSettings(s: WorkflowSettingsView, namespace = "charon"): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${namespace}:${key}`, message: `${namespace}:${key}: ${message}` });
    const aps: ApsSettings = s.workflows.aps;

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
        if (!aps.enabled) {
            add(`${key}.workflow`, `experiment ${JSON.stringify(e.name)} needs the APS workflow, but workflows.aps.enabled is false; set it to true or remove the experiment`);
        } else if (e.workflow !== aps.deploy) {
            add(`${key}.workflow`, `${JSON.stringify(e.workflow)} is not the deployed workflow (workflows.aps.deploy is ${JSON.stringify(aps.deploy)}); set one of them so they match`);
        }
    });
    if (s.experiments.length > 0 && s.harvest.enabled && s.harvest.mode === "range" && s.harvest.step === undefined) {
        add("harvest.step", `is required when harvest.mode is "range"; set a duration such as 2s`);
    }

    const am = s.controllers.actimanager;
    if (am.enabled) {
        if (am.image === undefined) {
            add("controllers.actimanager.image", `is required when controllers.actimanager.enabled is true; pin the image you deploy, e.g. registry.example.com/actimanager:v0.1.0 or …@sha256:<digest> (upstream only publishes a moving "dev" tag, which is not accepted)`);
        } else if (!isPinnedImage(am.image)) {
            add("controllers.actimanager.image", `${JSON.stringify(am.image)} is not pinned; use an explicit tag other than latest or dev, or a digest (repo/name@sha256:<digest>)`);
        }
        const minor = /^v1\.([0-9]+)\./.exec(s.k3s?.version ?? "")?.[1];
        if (minor !== undefined && Number(minor) < actimanagerMinKubernetesMinor) {
            add("controllers.actimanager.enabled", `true needs Kubernetes >= 1.${actimanagerMinKubernetesMinor} (maestro is kube-scheduler 1.${actimanagerMinKubernetesMinor}), but k3s.version is ${JSON.stringify(s.k3s?.version)}; raise k3s.version or disable actimanager`);
        }
    }
    return problems;
}
