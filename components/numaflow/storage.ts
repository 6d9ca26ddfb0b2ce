/**
 * Local volumes for the JetStream ISB (storageMode "local-volumes"): a no-provisioner StorageClass and one
 * PersistentVolume per JetStream server, pinned to a real node name from the cluster layer.
 *
 * Why re-creating the ISB needs no manual claimRef reset: Numaflow deletes the JetStream volume claims with the
 * ISB, which leaves a Retain-policy volume "Released" and bound to the old claim's UID forever (the original's
 * manual fix was clearing claimRef). Here every PersistentVolume is named after a digest of exactly the ISB
 * fields whose change replaces the ISB (isb.ts: isbReplaceOnChanges). A replacement therefore comes with fresh
 * volumes under new names and a fresh directory, which the new claims bind to; the Released ones are deleted by
 * Pulumi once the old claims are gone. Nothing that updates the ISB in place changes the digest, so bound
 * volumes are never renamed under a running JetStream. (`pulumi up --replace` of the ISB alone keeps the digest:
 * replace its volumes in the same run.)
 *
 * Volumes are hostPath volumes with type DirectoryOrCreate and node affinity: the kubelet creates each
 * replica's directory under `hostPath` (which the cluster layer prepares), so no per-ISB directory needs to
 * exist in advance and no ${NODE_NAME} substitution is involved.
 */
import { createHash } from "node:crypto";
import { localVolumeStorageClass } from "./isb";
import type { NodeFacts } from "../cluster/host-facts";

/** The nodes as the cluster layer reports them. */
export type { NodeFacts } from "../cluster/host-facts";

/** A stable digest (10 hex characters) of a JSON-able value, keys sorted. */
export function specDigest(value: unknown): string {
    return createHash("sha256").update(stableJson(value)).digest("hex").slice(0, 10);
}

function stableJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(stableJson).join(",")}]`;
    }
    if (value && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/** Picks a node for each JetStream replica: agents before servers, GPU-less before GPU nodes, then round robin. */
export function assignReplicaNodes(nodes: readonly NodeFacts[], replicas: number): string[] {
    if (nodes.length === 0) {
        throw new Error("numaflow.isb: local-volumes needs at least one cluster node to place volumes on");
    }
    const ranked = nodes
        .map((n, i) => ({ n, i }))
        .sort((a, b) =>
            (a.n.role === b.n.role ? 0 : a.n.role === "agent" ? -1 : 1)
            || (Math.sign(a.n.gpuCount) - Math.sign(b.n.gpuCount))
            || a.i - b.i)
        .map(({ n }) => n.name);
    return Array.from({ length: replicas }, (_, i) => ranked[i % ranked.length]);
}

export interface LocalVolumePlanInput {
    isbName: string;
    replicas: number;
    nodes: readonly NodeFacts[];
    hostPath: string;
    volumeSize: string;
    /** specDigest of the ISB fields whose change replaces it. */
    digest: string;
}

/** The StorageClass for pre-created local volumes. */
export function localStorageClassObject(): Record<string, any> {
    return {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: localVolumeStorageClass, labels: { "app.kubernetes.io/part-of": "charon" } },
        provisioner: "kubernetes.io/no-provisioner",
        volumeBindingMode: "WaitForFirstConsumer",
        reclaimPolicy: "Retain",
    };
}

/** One PersistentVolume object per JetStream replica. */
export function localVolumeObjects(p: LocalVolumePlanInput): Record<string, any>[] {
    const nodes = assignReplicaNodes(p.nodes, p.replicas);
    const base = p.hostPath.replace(/\/+$/, "");
    return nodes.map((node, i) => ({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: {
            name: `numaflow-isb-${p.isbName}-${p.digest}-${i}`,
            labels: {
                "app.kubernetes.io/part-of": "charon",
                "charon.io/isb": p.isbName,
                "charon.io/isb-digest": p.digest,
            },
        },
        spec: {
            capacity: { storage: p.volumeSize },
            accessModes: ["ReadWriteOnce"],
            volumeMode: "Filesystem",
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: localVolumeStorageClass,
            hostPath: { path: `${base}/isb-${p.isbName}-${p.digest}/${i}`, type: "DirectoryOrCreate" },
            nodeAffinity: {
                required: {
                    nodeSelectorTerms: [{
                        matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }],
                    }],
                },
            },
        },
    }));
}
