/**
 * What the rules look at: the type tokens the platform registers and the shapes inside them (pod specs,
 * containers, Numaflow vertices, Helm values, a host's K3sNode facts). Pure functions over plain policy props.
 */
import { UnknownValueError } from "@pulumi/policy";
import { K3S_NODE_TYPE, type K3sNodeFacts } from "../../components/cluster/k3s-node";

export const types = {
    helmRelease: "kubernetes:helm.sh/v3:Release",
    helmChart: "kubernetes:helm.sh/v4:Chart",
    secret: "kubernetes:core/v1:Secret",
    service: "kubernetes:core/v1:Service",
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    isbService: "kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService",
    pipeline: "kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline",
    monoVertex: "kubernetes:numaflow.numaproj.io/v1alpha1:MonoVertex",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    remoteCommand: "command:remote:Command",
    localCommand: "command:local:Command",
    copyToRemote: "command:remote:CopyToRemote",
    randomPassword: "random:index/randomPassword:RandomPassword",
    k3sNode: K3S_NODE_TYPE,
    stack: "pulumi:pulumi:Stack",
} as const;

/** Kubernetes workload kinds whose pod template the rules read. */
export const workloadTypes: readonly string[] = [
    types.pod, types.deployment, types.daemonSet, types.statefulSet, types.replicaSet, types.job, types.cronJob,
];

export const commandTypes: readonly string[] = [types.remoteCommand, types.localCommand];

/** Helm releases and charts: both carry chart, version and values. */
export const helmTypes: readonly string[] = [types.helmRelease, types.helmChart];

export type Props = Record<string, any>;

/**
 * Reads `fn()` and returns `fallback` when the value is not known yet (during `pulumi preview`, values computed
 * from other resources' outputs are unknown and throw on access). Use it only where an unknown value cannot be
 * a violation (e.g. an unknown value cannot be a literal password).
 */
export function known<T>(fn: () => T, fallback: T): T {
    try {
        return fn();
    } catch (err) {
        if (err instanceof UnknownValueError) {
            return fallback;
        }
        throw err;
    }
}

export function isObject(value: unknown): value is Record<string, any> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own entries of an object, skipping any whose value is unknown during preview. */
export function knownEntries(obj: Record<string, any>): [string, any][] {
    const out: [string, any][] = [];
    for (const key of Object.keys(obj)) {
        const value = known(() => obj[key], undefined);
        if (value !== undefined) {
            out.push([key, value]);
        }
    }
    return out;
}

/** The pod template of a workload: its spec and the labels its pods carry. */
export interface PodTemplate {
    spec: Props;
    labels: Record<string, string>;
}

export function podTemplateOf(type: string, props: Props): PodTemplate | undefined {
    let template: Props | undefined;
    switch (type) {
        case types.pod:
            template = { metadata: props.metadata, spec: props.spec };
            break;
        case types.cronJob:
            template = props.spec?.jobTemplate?.spec?.template;
            break;
        case types.deployment:
        case types.daemonSet:
        case types.statefulSet:
        case types.replicaSet:
        case types.job:
            template = props.spec?.template;
            break;
        default:
            return undefined;
    }
    if (!template?.spec) {
        return undefined;
    }
    return { spec: template.spec, labels: template.metadata?.labels ?? {} };
}

/** A container with where it sits, for messages. */
export interface PlacedContainer {
    /** e.g. `containers[0] (consumer)` or `vertex cat udf.container`. */
    where: string;
    container: Props;
}

export function containersOf(podSpec: Props): PlacedContainer[] {
    const out: PlacedContainer[] = [];
    for (const field of ["initContainers", "containers"] as const) {
        (podSpec[field] ?? []).forEach((c: Props, i: number) => {
            out.push({ where: `${field}[${i}]${c?.name ? ` (${c.name})` : ""}`, container: c ?? {} });
        });
    }
    return out;
}

/** The role a vertex plays and the containers the user supplies for it. */
export interface VertexContainers {
    vertex: Props;
    name: string;
    /** User-defined function containers (`udf.container`): the pipeline's compute. */
    udf?: PlacedContainer;
    all: PlacedContainer[];
}

const vertexContainerPaths: [string, (v: Props) => Props | undefined][] = [
    ["source.udsource.container", (v) => v.source?.udsource?.container],
    ["source.transformer.container", (v) => v.source?.transformer?.container],
    ["udf.container", (v) => v.udf?.container],
    ["sink.udsink.container", (v) => v.sink?.udsink?.container],
    ["sink.fallback.udsink.container", (v) => v.sink?.fallback?.udsink?.container],
];

export function vertexContainers(vertex: Props): VertexContainers {
    const name = String(vertex.name ?? "?");
    const all: PlacedContainer[] = [];
    let udf: PlacedContainer | undefined;
    for (const [path, get] of vertexContainerPaths) {
        const c = get(vertex);
        if (c) {
            const placed = { where: `vertex ${name} ${path}`, container: c };
            all.push(placed);
            if (path === "udf.container") {
                udf = placed;
            }
        }
    }
    for (const field of ["initContainers", "sidecars"] as const) {
        (vertex[field] ?? []).forEach((c: Props, i: number) => {
            all.push({ where: `vertex ${name} ${field}[${i}]${c?.name ? ` (${c.name})` : ""}`, container: c ?? {} });
        });
    }
    return { vertex, name, udf, all };
}

export function verticesOf(pipelineProps: Props): VertexContainers[] {
    return (pipelineProps.spec?.vertices ?? []).map((v: Props) => vertexContainers(v ?? {}));
}

/** The chart name of a Helm release or chart, without any repository prefix (`grafana/grafana` → `grafana`). */
export function chartName(props: Props): string {
    const chart = String(props.chart ?? "");
    const last = chart.split("/").pop() ?? chart;
    return last.replace(/\.tgz$/, "").replace(/-\d+\.\d+\.\d+.*$/, "");
}

/** A Kubernetes object's name: `metadata.name`, else the Pulumi resource name. */
export function objectName(props: Props, fallback: string): string {
    return String(props.metadata?.name ?? fallback);
}

export function objectNamespace(props: Props): string {
    return String(props.metadata?.namespace ?? "default");
}

/** Parses a `label=value` selector string. */
export function parseLabel(label: string): { key: string; value: string } {
    const i = label.indexOf("=");
    return i < 0 ? { key: label, value: "" } : { key: label.slice(0, i), value: label.slice(i + 1) };
}

/** Whether a label map carries `key=value` (`value` empty: any value). */
export function hasLabel(labels: Record<string, unknown> | undefined, label: string): boolean {
    const { key, value } = parseLabel(label);
    if (!labels || !(key in labels)) {
        return false;
    }
    return value === "" || String(labels[key]) === value;
}

/** The texts a command runs (create and update; delete only undoes). Unknown texts (preview) are skipped. */
export function commandTexts(props: Props): string[] {
    return ["create", "update"].map((k) => known(() => props[k], undefined)).filter((t): t is string => typeof t === "string");
}

/**
 * Whether a resource is a host's K3sNode, whose props are the facts the cluster layer states (role, k3s release,
 * k3s configuration as data, firewall, step names): its inputs to resource policies, its outputs (the same facts)
 * to stack policies. A K3sNode without them fails the rule loudly instead of passing unchecked.
 */
export function isK3sNode<R extends { type: string; props: Props }>(r: R | undefined): r is R & { props: K3sNodeFacts } {
    if (r?.type !== types.k3sNode) {
        return false;
    }
    if (!isObject(r.props.k3sConfig) || !isObject(r.props.steps)) {
        throw new Error(`a ${types.k3sNode} without its facts (role, version, k3sConfig, firewall, steps) in its props: ` +
            "the component must register them as its inputs and as its outputs (components/cluster/k3s-node.ts)");
    }
    return true;
}
