/**
 * Validation of Numaflow custom resources against a schema of their fields (numaflow.ts documents the source).
 *
 * Structure is checked here (unknown fields, types, enums, required fields, ranges, cross-field rules such as
 * "a vertex is exactly one of source, udf or sink" and "edges name existing vertices"); embedded core Kubernetes
 * objects (containers, tolerations, volumes, resources, affinity, security contexts) are checked with the
 * Kubernetes API schema from the `kubernetes-models` package, loaded on demand (it is a development dependency:
 * validation runs in tests and tools, never inside `pulumi up`).
 */
import * as yaml from "js-yaml";
import { numaflowApiVersion } from "./numaflow";

/** A field schema. `core` delegates to the Kubernetes schema named `IoK8sApiCoreV1<def>`. */
export type FieldSchema =
    | { type: "string"; enum?: readonly string[]; pattern?: RegExp; hint?: string }
    | { type: "integer"; min?: number; max?: number }
    | { type: "boolean" }
    | { type: "quantity" }
    | { type: "object"; fields: Record<string, FieldSchema>; required?: readonly string[]; open?: boolean }
    | { type: "map"; values: FieldSchema }
    | { type: "array"; items: FieldSchema; minItems?: number }
    | { type: "core"; def: string }
    | { type: "any" };

const str: FieldSchema = { type: "string" };
const int = (min?: number, max?: number): FieldSchema => ({ type: "integer", min, max });
const bool: FieldSchema = { type: "boolean" };
const obj = (fields: Record<string, FieldSchema>, required: readonly string[] = []): FieldSchema =>
    ({ type: "object", fields, required });
const arr = (items: FieldSchema, minItems?: number): FieldSchema => ({ type: "array", items, minItems });
const core = (def: string): FieldSchema => ({ type: "core", def });
const stringMap: FieldSchema = { type: "map", values: str };
const duration: FieldSchema = { type: "string", pattern: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, hint: "a Go duration such as 90s or 1h" };
const pullPolicy: FieldSchema = { type: "string", enum: ["Always", "IfNotPresent", "Never"] };
const dnsLabel: FieldSchema = { type: "string", pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, hint: "a DNS label (lower-case letters, digits, '-')" };
const empty: FieldSchema = obj({});

const objectMeta = obj({
    name: dnsLabel,
    namespace: dnsLabel,
    labels: stringMap,
    annotations: stringMap,
}, ["name"]);

const containerTemplate = obj({
    resources: core("ResourceRequirements"),
    imagePullPolicy: pullPolicy,
    securityContext: core("SecurityContext"),
    env: arr(core("EnvVar")),
});

const podTemplateFields: Record<string, FieldSchema> = {
    metadata: obj({ labels: stringMap, annotations: stringMap }),
    nodeSelector: stringMap,
    tolerations: arr(core("Toleration")),
    securityContext: core("PodSecurityContext"),
    imagePullSecrets: arr(core("LocalObjectReference")),
    priorityClassName: str,
    priority: int(),
    affinity: core("Affinity"),
    serviceAccountName: str,
};

const userContainer = obj({
    image: { type: "string", pattern: /^\S+$/, hint: "an image reference" },
    command: arr(str),
    args: arr(str),
    env: arr(core("EnvVar")),
    envFrom: arr(core("EnvFromSource")),
    volumeMounts: arr(core("VolumeMount")),
    resources: core("ResourceRequirements"),
    securityContext: core("SecurityContext"),
    imagePullPolicy: pullPolicy,
}, ["image"]);

/** Schema of InterStepBufferService (JetStream only: Redis ISBs are not used by this platform). */
export const interStepBufferServiceSchema: FieldSchema = obj({
    apiVersion: { type: "string", enum: [numaflowApiVersion] },
    kind: { type: "string", enum: ["InterStepBufferService"] },
    metadata: objectMeta,
    spec: obj({
        jetstream: obj({
            ...podTemplateFields,
            version: { type: "string", pattern: /^(?!latest$)\S+$/, hint: "a pinned version key of the controller config (not latest)" },
            replicas: int(1),
            containerTemplate,
            reloaderContainerTemplate: containerTemplate,
            metricsContainerTemplate: containerTemplate,
            persistence: obj({
                storageClassName: str,
                accessMode: { type: "string", enum: ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"] },
                volumeSize: { type: "quantity" },
            }),
            settings: str,
            startArgs: arr(str),
            bufferConfig: str,
            encryption: bool,
            tls: bool,
        }, ["version"]),
    }, ["jetstream"]),
}, ["apiVersion", "kind", "metadata", "spec"]);

/** Keys Numaflow reads from bufferConfig (merged over the controller's defaults). */
export const bufferConfigSchema: FieldSchema = obj({
    stream: obj({
        retention: int(0, 2),
        maxMsgs: int(-1),
        maxAge: duration,
        maxBytes: int(-1),
        storage: int(0, 1),
        replicas: int(1, 5),
        duplicates: duration,
    }),
    consumer: obj({ ackWait: duration, maxAckPending: int(-1) }),
    otBucket: obj({ maxValueSize: int(0), history: int(1), ttl: duration, maxBytes: int(0), storage: int(0, 1), replicas: int(1, 5) }),
    procBucket: obj({ maxValueSize: int(0), history: int(1), ttl: duration, maxBytes: int(0), storage: int(0, 1), replicas: int(1, 5) }),
});

const scale = obj({
    disabled: bool,
    min: int(0),
    max: int(0),
    lookbackSeconds: int(1),
    zeroReplicaSleepSeconds: int(0),
    targetProcessingSeconds: int(0),
    targetBufferAvailability: int(0, 100),
    replicasPerScaleUp: int(0),
    replicasPerScaleDown: int(0),
    scaleUpCooldownSeconds: int(0),
    scaleDownCooldownSeconds: int(0),
});

const vertexLimits = obj({ readBatchSize: int(1), readTimeout: duration, bufferMaxLength: int(1), bufferUsageLimit: int(1, 100) });

const sinkKinds: Record<string, FieldSchema> = {
    log: empty,
    blackhole: empty,
    udsink: obj({ container: userContainer }, ["container"]),
};

const vertex = obj({
    ...podTemplateFields,
    runtimeClassName: str,
    name: dnsLabel,
    source: obj({
        udsource: obj({ container: userContainer }, ["container"]),
        transformer: obj({ container: userContainer, builtin: { type: "any" } }),
        generator: obj({ rpu: int(1), duration, msgSize: int(0), keyCount: int(0), value: int(), jitter: duration }),
        http: { type: "any" },
    }),
    sink: obj({
        ...sinkKinds,
        fallback: obj(sinkKinds),
        retryStrategy: obj({
            backoff: obj({ interval: duration, steps: int(0) }),
            onFailure: { type: "string", enum: ["retry", "fallback", "drop"] },
        }),
    }),
    udf: obj({
        container: userContainer,
        builtin: obj({ name: str, args: arr(str), kwargs: stringMap }, ["name"]),
        groupBy: { type: "any" },
    }),
    containerTemplate,
    initContainerTemplate: containerTemplate,
    volumes: arr(core("Volume")),
    limits: vertexLimits,
    scale,
    initContainers: arr(core("Container")),
    sidecars: arr(core("Container")),
    partitions: int(1),
    sideInputs: arr(str),
    sideInputsContainerTemplate: containerTemplate,
}, ["name"]);

/** Schema of Pipeline. */
export const pipelineSchema: FieldSchema = obj({
    apiVersion: { type: "string", enum: [numaflowApiVersion] },
    kind: { type: "string", enum: ["Pipeline"] },
    metadata: objectMeta,
    spec: obj({
        interStepBufferServiceName: dnsLabel,
        vertices: arr(vertex, 1),
        edges: arr(obj({
            from: dnsLabel,
            to: dnsLabel,
            conditions: obj({ tags: obj({ operator: { type: "string", enum: ["or", "and", "not"] }, values: arr(str, 1) }, ["values"]) }),
            onFull: { type: "string", enum: ["retryUntilSuccess", "discardLatest"] },
        }, ["from", "to"])),
        lifecycle: obj({
            deleteGracePeriodSeconds: int(0),
            desiredPhase: { type: "string", enum: ["Running", "Paused"] },
            pauseGracePeriodSeconds: int(0),
        }),
        limits: obj({ readBatchSize: int(1), bufferMaxLength: int(1), bufferUsageLimit: int(1, 100), readTimeout: duration }),
        watermark: obj({ disabled: bool, maxDelay: duration, idleSource: { type: "any" } }),
        templates: { type: "any" },
        sideInputs: arr({ type: "any" }),
    }, ["vertices", "edges"]),
}, ["apiVersion", "kind", "metadata", "spec"]);

interface CoreCheck { def: string; value: unknown; path: string }

const quantityPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;

/** Checks `value` against `schema`; pushes problems to `issues` and core objects to `cores`. */
export function checkSchema(schema: FieldSchema, value: unknown, path: string, issues: string[], cores: CoreCheck[] = []): void {
    const at = path || "(root)";
    switch (schema.type) {
        case "any":
            return;
        case "string":
            if (typeof value !== "string") {
                issues.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
            } else if (schema.enum && !schema.enum.includes(value)) {
                issues.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(", ")}`);
            } else if (schema.pattern && !schema.pattern.test(value)) {
                issues.push(`${at}: ${JSON.stringify(value)} is not ${schema.hint ?? `matching ${schema.pattern}`}`);
            }
            return;
        case "integer":
            if (typeof value !== "number" || !Number.isInteger(value)) {
                issues.push(`${at}: expected an integer, got ${JSON.stringify(value)}`);
            } else if ((schema.min !== undefined && value < schema.min) || (schema.max !== undefined && value > schema.max)) {
                issues.push(`${at}: ${value} is outside [${schema.min ?? "-∞"}, ${schema.max ?? "∞"}]`);
            }
            return;
        case "boolean":
            if (typeof value !== "boolean") {
                issues.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
            }
            return;
        case "quantity":
            if (!(typeof value === "number" || (typeof value === "string" && quantityPattern.test(value)))) {
                issues.push(`${at}: ${JSON.stringify(value)} is not a Kubernetes quantity`);
            }
            return;
        case "core":
            cores.push({ def: schema.def, value, path: at });
            return;
        case "array":
            if (!Array.isArray(value)) {
                issues.push(`${at}: expected a list, got ${JSON.stringify(value)}`);
                return;
            }
            if (schema.minItems !== undefined && value.length < schema.minItems) {
                issues.push(`${at}: needs at least ${schema.minItems} item(s)`);
            }
            value.forEach((item, i) => checkSchema(schema.items, item, `${path}[${i}]`, issues, cores));
            return;
        case "map":
            if (!isPlainObject(value)) {
                issues.push(`${at}: expected a map, got ${JSON.stringify(value)}`);
                return;
            }
            for (const [k, v] of Object.entries(value)) {
                checkSchema(schema.values, v, `${path}.${k}`, issues, cores);
            }
            return;
        case "object": {
            if (!isPlainObject(value)) {
                issues.push(`${at}: expected an object, got ${JSON.stringify(value)}`);
                return;
            }
            for (const key of schema.required ?? []) {
                if (value[key] === undefined) {
                    issues.push(`${path ? `${path}.` : ""}${key}: required`);
                }
            }
            for (const [k, v] of Object.entries(value)) {
                const field = schema.fields[k];
                const child = path ? `${path}.${k}` : k;
                if (!field) {
                    if (!schema.open) {
                        issues.push(`${child}: unknown field (allowed: ${Object.keys(schema.fields).sort().join(", ") || "none"})`);
                    }
                } else if (v !== undefined) {
                    checkSchema(field, v, child, issues, cores);
                }
            }
            return;
        }
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * kubernetes-models is ESM-only; a TypeScript `import()` compiled to CommonJS (Pulumi's ts-node, tsc) would become
 * `require()` and fail, so the dynamic import is kept out of the compiler's reach.
 */
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<any>;

type CoreValidator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null };

/** Validates embedded core objects with kubernetes-models' generated Kubernetes API schema validators. */
async function checkCore(cores: CoreCheck[], issues: string[]): Promise<void> {
    for (const c of cores) {
        const mod: { validate: CoreValidator } = await importEsm(`kubernetes-models/_schemas/IoK8sApiCoreV1${c.def}`);
        if (!mod.validate(c.value)) {
            for (const e of mod.validate.errors ?? []) {
                issues.push(`${c.path}${e.instancePath.replace(/\//g, ".")}: ${e.keyword} ${JSON.stringify(e.params)} (Kubernetes ${c.def})`);
            }
        }
    }
}

/** Structural problems of `bufferConfig` YAML (empty when it parses and uses only known keys). */
export function checkBufferConfig(text: string, path = "spec.jetstream.bufferConfig"): string[] {
    let parsed: unknown;
    try {
        parsed = yaml.load(text);
    } catch (e) {
        return [`${path}: not YAML (${(e as Error).message})`];
    }
    const issues: string[] = [];
    checkSchema(bufferConfigSchema, parsed, path, issues);
    return issues;
}

/** Problems with an InterStepBufferService object (empty when valid). */
export async function validateInterStepBufferService(object: unknown): Promise<string[]> {
    const issues: string[] = [];
    const cores: CoreCheck[] = [];
    checkSchema(interStepBufferServiceSchema, object, "", issues, cores);
    const js = (object as any)?.spec?.jetstream;
    if (js?.replicas === 2) {
        issues.push("spec.jetstream.replicas: 2 is not a valid JetStream cluster size (use 1 or 3)");
    }
    if (typeof js?.bufferConfig === "string") {
        issues.push(...checkBufferConfig(js.bufferConfig));
    }
    await checkCore(cores, issues);
    return issues;
}

/** Problems with a Pipeline object (empty when valid). */
export async function validatePipeline(object: unknown): Promise<string[]> {
    const issues: string[] = [];
    const cores: CoreCheck[] = [];
    checkSchema(pipelineSchema, object, "", issues, cores);
    const spec = (object as any)?.spec;
    const vertices: any[] = Array.isArray(spec?.vertices) ? spec.vertices : [];
    const names = new Set<string>();
    vertices.forEach((v, i) => {
        const kinds = ["source", "udf", "sink"].filter((k) => v?.[k] !== undefined);
        if (kinds.length !== 1) {
            issues.push(`spec.vertices[${i}]: must be exactly one of source, udf or sink (has ${kinds.join(", ") || "none"})`);
        }
        if (names.has(v?.name)) {
            issues.push(`spec.vertices[${i}].name: duplicate vertex name ${JSON.stringify(v.name)}`);
        }
        names.add(v?.name);
        const s = v?.scale;
        if (s && typeof s.min === "number" && typeof s.max === "number" && s.min > s.max) {
            issues.push(`spec.vertices[${i}].scale: min ${s.min} is greater than max ${s.max}`);
        }
        if (v?.udf && !v.udf.container && !v.udf.builtin) {
            issues.push(`spec.vertices[${i}].udf: needs a container or a builtin`);
        }
        if (v?.source && !["udsource", "generator", "http"].some((k) => v.source[k] !== undefined)) {
            issues.push(`spec.vertices[${i}].source: needs udsource, generator or http`);
        }
        if (v?.sink && !["log", "blackhole", "udsink"].some((k) => v.sink[k] !== undefined)) {
            issues.push(`spec.vertices[${i}].sink: needs log, blackhole or udsink`);
        }
    });
    const edges: any[] = Array.isArray(spec?.edges) ? spec.edges : [];
    edges.forEach((e, i) => {
        for (const end of ["from", "to"] as const) {
            if (typeof e?.[end] === "string" && !names.has(e[end])) {
                issues.push(`spec.edges[${i}].${end}: no vertex named ${JSON.stringify(e[end])}`);
            }
        }
        const from = vertices.find((v) => v?.name === e?.from);
        const to = vertices.find((v) => v?.name === e?.to);
        if (from?.sink) {
            issues.push(`spec.edges[${i}]: a sink (${e.from}) cannot have outgoing edges`);
        }
        if (to?.source) {
            issues.push(`spec.edges[${i}]: a source (${e.to}) cannot have incoming edges`);
        }
    });
    await checkCore(cores, issues);
    return issues;
}

/** Dispatches on `kind`: InterStepBufferService or Pipeline. */
export async function validateNumaflowObject(object: unknown): Promise<string[]> {
    const kind = (object as any)?.kind;
    if (kind === "InterStepBufferService") {
        return validateInterStepBufferService(object);
    }
    if (kind === "Pipeline") {
        return validatePipeline(object);
    }
    return [`kind: ${JSON.stringify(kind)} is not a Numaflow kind this validator knows (InterStepBufferService, Pipeline)`];
}
