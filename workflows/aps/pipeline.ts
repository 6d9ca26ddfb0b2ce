/**
 * The Numaflow Pipeline `ptychography` as a pure value: in (PvaPy user-defined source) → cat (PtychoNN inference
 * UDF on the GPU) → out (log sink). Two named profiles reproduce the original's fixed and autoscaling manifests;
 * per-vertex settings override a profile key by key.
 *
 * In-place resizing: Numaflow's user container type has no resizePolicy field (the controller would drop it), so
 * vertex pods get Kubernetes' default for an unset policy, NotRequired for cpu and memory: resizing a vertex pod's
 * CPU or memory in place does not restart it. The inference container sets requests = limits for both.
 */
import type { ApsProfileName, VertexName, VertexSettings } from "../settings";
import { GPU_RESOURCE, NVIDIA_RUNTIME_CLASS, PART_OF, PIPELINE_NAME } from "./constants";
import { type AbstractVertex, type Pipeline, type Scale, type VertexLimits, numaflowKinds } from "../../components/crds";

/** Scale and buffer limits of each vertex. */
export type PipelineProfile = Record<VertexName, { scale: Scale; limits?: VertexLimits }>;

/**
 * The original's two pipeline manifests as named profiles.
 * - fixed: one replica per vertex (numaflow-aps.yaml).
 * - autoscaling: the source pinned at 3 replicas (PvaPy's source duplicates frames when its replica count changes),
 *   inference 1–6 replicas reacting within 30 s, the sink 1–5 replicas reacting within 1 s.
 */
export const pipelineProfiles: Record<ApsProfileName, PipelineProfile> = {
    fixed: {
        in: { scale: { min: 1, max: 1 } },
        cat: { scale: { min: 1, max: 1 } },
        out: { scale: { min: 1, max: 1 } },
    },
    autoscaling: {
        in: { scale: { min: 3, max: 3 } },
        cat: {
            scale: { min: 1, max: 6, lookbackSeconds: 30, scaleUpCooldownSeconds: 10, scaleDownCooldownSeconds: 20, targetBufferAvailability: 90 },
            limits: { bufferMaxLength: 20000 },
        },
        out: {
            scale: { min: 1, max: 5, lookbackSeconds: 1, scaleUpCooldownSeconds: 3, scaleDownCooldownSeconds: 10, targetBufferAvailability: 80 },
        },
    },
};

export interface PipelineOptions {
    namespace: string;
    profile: ApsProfileName;
    /** PVA channel the source subscribes to. */
    channel: string;
    /** PvaPy receive queue size of the source. */
    queueSize: number;
    /** Frames the inference vertex reads per batch (limits.readBatchSize). */
    batchSize: number;
    images: { udsource: string; udf: string };
    /** CPU request = limit of the inference container. */
    cpu: string;
    /** Memory request = limit of the inference container. */
    memory: string;
    /** Request one `nvidia.com/gpu` for the inference container (only when the NVIDIA device plugin runs). */
    gpuLimit: boolean;
    /** Per-vertex overrides of the profile. */
    vertices?: Partial<Record<VertexName, VertexSettings>>;
    /** InterStepBufferService the pipeline uses. Defaults to Numaflow's `default`. */
    isbName?: string;
    imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
}

function definedOnly<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The profile's scale and limits of one vertex with the stack's overrides applied key by key. */
export function vertexTuning(profile: ApsProfileName, vertex: VertexName, override: VertexSettings = {}): { scale: Scale; limits?: VertexLimits } {
    const base = pipelineProfiles[profile][vertex];
    const scale = { ...base.scale, ...definedOnly(override.scale ?? {}) };
    const limits = { ...(base.limits ?? {}), ...definedOnly(override.limits ?? {}) };
    return Object.keys(limits).length > 0 ? { scale, limits } : { scale };
}

/** Builds the Pipeline object for one profile. Pure: same options, same object. */
export function ptychographyPipeline(o: PipelineOptions): Pipeline {
    const pull = o.imagePullPolicy ?? "IfNotPresent";
    const tuning = (v: VertexName) => vertexTuning(o.profile, v, o.vertices?.[v]);

    const inTuning = tuning("in");
    const source: AbstractVertex = {
        name: "in",
        source: {
            udsource: {
                container: {
                    image: o.images.udsource,
                    imagePullPolicy: pull,
                    env: [
                        { name: "PVA_INPUT_CHANNEL", value: o.channel },
                        { name: "PVA_QUEUE_SIZE", value: String(o.queueSize) },
                    ],
                },
            },
        },
        scale: inTuning.scale,
        ...(inTuning.limits ? { limits: inTuning.limits } : {}),
    };

    const catTuning = tuning("cat");
    const limits: Record<string, string> = { cpu: o.cpu, memory: o.memory };
    if (o.gpuLimit) {
        limits[GPU_RESOURCE] = "1";
    }
    const inference: AbstractVertex = {
        name: "cat",
        udf: {
            container: {
                image: o.images.udf,
                imagePullPolicy: pull,
                resources: { requests: { cpu: o.cpu, memory: o.memory }, limits },
            },
        },
        scale: catTuning.scale,
        // readBatchSize from the workflow's batch size unless the vertex override sets it explicitly
        limits: { readBatchSize: o.batchSize, ...(catTuning.limits ?? {}) },
        runtimeClassName: NVIDIA_RUNTIME_CLASS,
    };

    const outTuning = tuning("out");
    const sink: AbstractVertex = {
        name: "out",
        sink: { log: {}, retryStrategy: { onFailure: "retry" } },
        scale: outTuning.scale,
        ...(outTuning.limits ? { limits: outTuning.limits } : {}),
    };

    return {
        ...numaflowKinds.pipeline,
        metadata: { name: PIPELINE_NAME, namespace: o.namespace, labels: { ...PART_OF, "charon/workflow": "aps", "charon/profile": o.profile } },
        spec: {
            ...(o.isbName && o.isbName !== "default" ? { interStepBufferServiceName: o.isbName } : {}),
            vertices: [source, inference, sink],
            edges: [{ from: "in", to: "cat" }, { from: "cat", to: "out" }],
        },
    };
}
