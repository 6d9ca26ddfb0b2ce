/**
 * actimanager's two CustomResourceDefinitions (group cslab.ece.ntua.gr, v1alpha1), written from its API types:
 * NodeCPUTopology (cluster-scoped: a node's sockets → cores → CPUs and NUMA nodes, filled in by the
 * controller-manager from the node's daemon) and PodCPUBinding (namespaced: the CPUs a pod is pinned to and how
 * exclusively). Also the TypeScript shapes of both resources, for code that declares or reads them.
 */

export const ACTIMANAGER_GROUP = "cslab.ece.ntua.gr";
export const ACTIMANAGER_VERSION = "v1alpha1";

export type ExclusivenessLevel = "None" | "CPU" | "Core" | "Socket" | "NUMA";
export const EXCLUSIVENESS_LEVELS: readonly ExclusivenessLevel[] = ["None", "CPU", "Core", "Socket", "NUMA"];

export interface CPUTopology {
    sockets?: Record<string, { cores: Record<string, { cpus: number[] }>; cpus: number[] }>;
    numaNodes?: Record<string, { cpus: number[] }>;
    cpus?: number[];
}

export interface NodeCPUTopology {
    apiVersion: "cslab.ece.ntua.gr/v1alpha1";
    kind: "NodeCPUTopology";
    metadata: { name: string };
    spec: { nodeName: string; topology?: CPUTopology };
    status?: { resourceStatus: "NeedsSync" | "NodeNotFound" | "Fresh" | "Failed"; internalIP?: string };
}

export interface PodCPUBinding {
    apiVersion: "cslab.ece.ntua.gr/v1alpha1";
    kind: "PodCPUBinding";
    metadata: { name: string; namespace: string };
    spec: { podName: string; cpuSet: { cpuID: number }[]; exclusivenessLevel: ExclusivenessLevel };
    status?: { resourceStatus: string; nodeName?: string };
}

const intList = { type: "array", items: { type: "integer" } };
const cpusOnly = { type: "object", required: ["cpus"], properties: { cpus: intList } };

const topologySchema = {
    type: "object",
    description: "Hierarchical CPU topology of the node.",
    properties: {
        sockets: {
            type: "object",
            additionalProperties: {
                type: "object",
                required: ["cores", "cpus"],
                properties: { cores: { type: "object", additionalProperties: cpusOnly }, cpus: intList },
            },
        },
        numaNodes: { type: "object", additionalProperties: cpusOnly },
        cpus: intList,
    },
};

function crd(kind: string, plural: string, shortName: string, scope: "Cluster" | "Namespaced", schema: object,
    columns: { name: string; jsonPath: string }[]) {
    return {
        apiVersion: "apiextensions.k8s.io/v1" as const,
        kind: "CustomResourceDefinition" as const,
        metadata: { name: `${plural}.${ACTIMANAGER_GROUP}` },
        spec: {
            group: ACTIMANAGER_GROUP,
            names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames: [shortName] },
            scope,
            versions: [{
                name: ACTIMANAGER_VERSION,
                served: true,
                storage: true,
                subresources: { status: {} },
                additionalPrinterColumns: columns.map((c) => ({ ...c, type: "string" })),
                schema: { openAPIV3Schema: schema },
            }],
        },
    };
}

/** NodeCPUTopology: one per node, created and filled by the controller-manager. */
export function nodeCpuTopologyCrd() {
    return crd("NodeCPUTopology", "nodecputopologies", "nct", "Cluster", {
        type: "object",
        description: "The CPU and NUMA topology of a node.",
        properties: {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object" },
            spec: {
                type: "object",
                required: ["nodeName"],
                properties: { nodeName: { type: "string" }, topology: topologySchema },
            },
            status: {
                type: "object",
                properties: {
                    resourceStatus: { type: "string", enum: ["NeedsSync", "NodeNotFound", "Fresh", "Failed"] },
                    internalIP: { type: "string" },
                },
            },
        },
    }, [{ name: "Node", jsonPath: ".spec.nodeName" }, { name: "Resource Status", jsonPath: ".status.resourceStatus" }]);
}

/** PodCPUBinding: the CPUs a pod is bound to, with its exclusiveness level. */
export function podCpuBindingCrd() {
    return crd("PodCPUBinding", "podcpubindings", "pcb", "Namespaced", {
        type: "object",
        description: "The allocated CPU resources of a pod.",
        required: ["spec"],
        properties: {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object" },
            spec: {
                type: "object",
                required: ["podName", "cpuSet", "exclusivenessLevel"],
                properties: {
                    podName: { type: "string" },
                    cpuSet: {
                        type: "array",
                        items: { type: "object", required: ["cpuID"], properties: { cpuID: { type: "integer", minimum: 0 } } },
                    },
                    exclusivenessLevel: { type: "string", enum: [...EXCLUSIVENESS_LEVELS], default: "CPU" },
                },
            },
            status: {
                type: "object",
                properties: {
                    resourceStatus: {
                        type: "string",
                        enum: ["Applied", "Pending", "PodNotFound", "InvalidCPUSet", "NodeTopologyNotFound", "Collision", "Failed", "CPUSetAllocationFailed", "Validated"],
                    },
                    nodeName: { type: "string" },
                },
            },
        },
    }, [
        { name: "Pod Name", jsonPath: ".spec.podName" },
        { name: "Exclusiveness Level", jsonPath: ".spec.exclusivenessLevel" },
        { name: "Resource Status", jsonPath: ".status.resourceStatus" },
    ]);
}
