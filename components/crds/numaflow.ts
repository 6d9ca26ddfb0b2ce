/**
 * Typed definitions of the Numaflow custom resources this project declares (group numaflow.numaproj.io, version
 * v1alpha1): InterStepBufferService and Pipeline. Field names follow Numaflow's Go API types
 * (pkg/apis/numaflow/v1alpha1: jetstream_buffer_service.go, persistence_strategy.go, container_template.go,
 * pod_template.go, vertex_types.go, scale.go, user_defined_container.go, retry_strategy.go, pipeline_types.go).
 * Embedded Kubernetes types (containers, tolerations, volumes, resources) reuse the core API shapes.
 *
 * Tests check objects of these kinds against Numaflow's own CRD schemas (test/helpers/numaflow.ts).
 */

export const numaflowApiVersion = "numaflow.numaproj.io/v1alpha1";

/** A Kubernetes quantity ("500m", "1Gi") or a plain number. */
export type Quantity = string | number;

export interface ObjectMeta {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

export interface ResourceRequirements {
    requests?: Record<string, Quantity>;
    limits?: Record<string, Quantity>;
    claims?: { name: string; request?: string }[];
}

export interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: Record<string, unknown>;
}

export interface VolumeMount {
    name: string;
    mountPath: string;
    subPath?: string;
    readOnly?: boolean;
}

/** Core Kubernetes Container (sidecars, init containers): validated against the Kubernetes schema. */
export interface CoreContainer {
    name: string;
    image?: string;
    command?: string[];
    args?: string[];
    env?: EnvVar[];
    ports?: { containerPort: number; name?: string; protocol?: "TCP" | "UDP" | "SCTP" }[];
    resources?: ResourceRequirements;
    volumeMounts?: VolumeMount[];
    imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
    [field: string]: unknown;
}

/** Core Kubernetes Toleration. */
export interface Toleration {
    key?: string;
    operator?: "Exists" | "Equal";
    value?: string;
    effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
    tolerationSeconds?: number;
}

/** Core Kubernetes Volume (validated against the Kubernetes schema). */
export interface Volume {
    name: string;
    [source: string]: unknown;
}

/** Numaflow ContainerTemplate: customisation of a container Numaflow itself creates. */
export interface ContainerTemplate {
    resources?: ResourceRequirements;
    imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
    securityContext?: Record<string, unknown>;
    env?: EnvVar[];
}

/** Numaflow's pod metadata (labels and annotations added to the pods it creates). */
export interface PodMetadata {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

/** Numaflow AbstractPodTemplate fields (inlined into vertices and the JetStream spec). */
export interface AbstractPodTemplate {
    metadata?: PodMetadata;
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    securityContext?: Record<string, unknown>;
    imagePullSecrets?: { name: string }[];
    priorityClassName?: string;
    priority?: number;
    affinity?: Record<string, unknown>;
    serviceAccountName?: string;
    /** Present on vertices (e.g. `nvidia` for GPU workloads). */
    runtimeClassName?: string;
}

// ── InterStepBufferService ─────────────────────────────────────────────────────────────────────────────

export interface PersistenceStrategy {
    storageClassName?: string;
    accessMode?: "ReadWriteOnce" | "ReadWriteMany" | "ReadOnlyMany" | "ReadWriteOncePod";
    volumeSize?: string;
}

export interface JetStreamBufferService extends AbstractPodTemplate {
    /** A version key of the controller ConfigMap's isbsvc.jetstream.versions list (never "latest" here). */
    version: string;
    /** JetStream servers: 1 or 3 here (Numaflow turns 2 into 3). */
    replicas?: number;
    containerTemplate?: ContainerTemplate;
    reloaderContainerTemplate?: ContainerTemplate;
    metricsContainerTemplate?: ContainerTemplate;
    persistence?: PersistenceStrategy;
    /** NATS settings YAML (max_payload, max_memory_store, max_file_store). */
    settings?: string;
    startArgs?: string[];
    /** YAML merged over the controller's defaults: stream, consumer, otBucket, procBucket. */
    bufferConfig?: string;
    encryption?: boolean;
    tls?: boolean;
}

export interface InterStepBufferService {
    apiVersion: typeof numaflowApiVersion;
    kind: "InterStepBufferService";
    metadata: ObjectMeta;
    spec: { jetstream: JetStreamBufferService };
}

// ── Pipeline ───────────────────────────────────────────────────────────────────────────────────────────

/** Numaflow's user-defined container (udsource, udf, udsink, transformer). */
export interface UserContainer {
    image: string;
    command?: string[];
    args?: string[];
    env?: EnvVar[];
    envFrom?: Record<string, unknown>[];
    volumeMounts?: VolumeMount[];
    resources?: ResourceRequirements;
    securityContext?: Record<string, unknown>;
    imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
}

export interface Scale {
    disabled?: boolean;
    /** Minimum replicas. Numaflow's default is 0 (scale to zero): set it. */
    min?: number;
    /** Maximum replicas (Numaflow default 50). */
    max?: number;
    lookbackSeconds?: number;
    zeroReplicaSleepSeconds?: number;
    targetProcessingSeconds?: number;
    /** Target percentage of buffer availability (UDF and sink vertices). */
    targetBufferAvailability?: number;
    replicasPerScaleUp?: number;
    replicasPerScaleDown?: number;
    scaleUpCooldownSeconds?: number;
    scaleDownCooldownSeconds?: number;
}

export interface VertexLimits {
    readBatchSize?: number;
    /** Duration, e.g. "1s". */
    readTimeout?: string;
    bufferMaxLength?: number;
    /** Percentage (< 100). */
    bufferUsageLimit?: number;
}

export interface Source {
    udsource?: { container: UserContainer };
    transformer?: { container?: UserContainer; builtin?: Record<string, unknown> };
    generator?: { rpu?: number; duration?: string; msgSize?: number; keyCount?: number; value?: number; jitter?: string };
    http?: Record<string, unknown>;
}

export interface RetryStrategy {
    backoff?: { interval?: string; steps?: number };
    onFailure?: "retry" | "fallback" | "drop";
}

export interface Sink {
    log?: Record<string, never>;
    blackhole?: Record<string, never>;
    udsink?: { container: UserContainer };
    fallback?: { log?: Record<string, never>; blackhole?: Record<string, never>; udsink?: { container: UserContainer } };
    retryStrategy?: RetryStrategy;
}

export interface Udf {
    container?: UserContainer;
    builtin?: { name: string; args?: string[]; kwargs?: Record<string, string> };
    groupBy?: Record<string, unknown>;
}

export interface AbstractVertex extends AbstractPodTemplate {
    name: string;
    source?: Source;
    sink?: Sink;
    udf?: Udf;
    /** Template for the main `numa` container. */
    containerTemplate?: ContainerTemplate;
    initContainerTemplate?: ContainerTemplate;
    volumes?: Volume[];
    limits?: VertexLimits;
    scale?: Scale;
    initContainers?: CoreContainer[];
    sidecars?: CoreContainer[];
    partitions?: number;
    sideInputs?: string[];
    sideInputsContainerTemplate?: ContainerTemplate;
}

export interface Edge {
    from: string;
    to: string;
    conditions?: { tags: { operator?: "or" | "and" | "not"; values: string[] } };
    onFull?: "retryUntilSuccess" | "discardLatest";
}

export interface PipelineLimits {
    readBatchSize?: number;
    bufferMaxLength?: number;
    bufferUsageLimit?: number;
    readTimeout?: string;
}

export interface PipelineSpec {
    /** Defaults to `default`. */
    interStepBufferServiceName?: string;
    vertices: AbstractVertex[];
    edges: Edge[];
    lifecycle?: { deleteGracePeriodSeconds?: number; desiredPhase?: "Running" | "Paused"; pauseGracePeriodSeconds?: number };
    limits?: PipelineLimits;
    watermark?: { disabled?: boolean; maxDelay?: string; idleSource?: Record<string, unknown> };
    templates?: Record<string, unknown>;
    sideInputs?: Record<string, unknown>[];
}

export interface Pipeline {
    apiVersion: typeof numaflowApiVersion;
    kind: "Pipeline";
    metadata: ObjectMeta;
    spec: PipelineSpec;
}

/** The API version and kind to give a k8s.apiextensions.CustomResource of this kind. */
export const numaflowKinds = {
    interStepBufferService: { apiVersion: numaflowApiVersion, kind: "InterStepBufferService" },
    pipeline: { apiVersion: numaflowApiVersion, kind: "Pipeline" },
} as const;
