import { strict as assert } from "node:assert";
import fc from "fast-check";
import {
    NodeFacts, assignReplicaNodes, localStorageClassObject, localVolumeObjects, specDigest,
} from "../../components/numaflow";
import { validateObject } from "../helpers/kube-schema";
import { clusterNodes } from "./fixtures";

const nodeArb = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    role: fc.constantFrom<"server" | "agent">("server", "agent"),
    address: fc.constant("10.0.0.1"),
    gpuCount: fc.integer({ min: 0, max: 4 }),
});
const nodesArb = fc.uniqueArray(nodeArb, { minLength: 1, maxLength: 6, selector: (n) => n.name });

describe("numaflow ISB local volumes", () => {
    it("places 3 replicas on the three GPU-less agents, by their real node names", () => {
        assert.deepEqual(assignReplicaNodes(clusterNodes, 3), ["charon-agent-1", "charon-agent-2", "charon-gpu-1"]);
    });

    it("places a single replica on the only node of a one-node cluster", () => {
        assert.deepEqual(assignReplicaNodes([clusterNodes[0]], 1), ["charon-server"]);
        assert.deepEqual(assignReplicaNodes([clusterNodes[0]], 3), ["charon-server", "charon-server", "charon-server"]);
    });

    it("refuses an empty node list", () => {
        assert.throws(() => assignReplicaNodes([], 1), /at least one cluster node/);
    });

    it("spreads replicas evenly over the given nodes only (property)", () => {
        fc.assert(fc.property(nodesArb, fc.integer({ min: 1, max: 5 }), (nodes: NodeFacts[], replicas) => {
            const placed = assignReplicaNodes(nodes, replicas);
            assert.equal(placed.length, replicas);
            const names = new Set(nodes.map((n) => n.name));
            assert.ok(placed.every((p) => names.has(p)));
            const counts = [...names].map((n) => placed.filter((p) => p === n).length);
            assert.ok(Math.max(...counts) - Math.min(...counts) <= 1);
        }));
    });

    it("builds one PersistentVolume per replica pinned to its node, under a digest-named directory", () => {
        const pvs = localVolumeObjects({
            isbName: "default", replicas: 3, nodes: clusterNodes, hostPath: "/var/lib/charon/numaflow/", volumeSize: "3Gi", digest: "abc1234567",
        });
        assert.deepEqual(pvs.map((p) => p.metadata.name), [
            "numaflow-isb-default-abc1234567-0", "numaflow-isb-default-abc1234567-1", "numaflow-isb-default-abc1234567-2",
        ]);
        assert.deepEqual(pvs.map((p) => p.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]), [
            { key: "kubernetes.io/hostname", operator: "In", values: ["charon-agent-1"] },
            { key: "kubernetes.io/hostname", operator: "In", values: ["charon-agent-2"] },
            { key: "kubernetes.io/hostname", operator: "In", values: ["charon-gpu-1"] },
        ]);
        assert.deepEqual(pvs[1].spec.hostPath, { path: "/var/lib/charon/numaflow/isb-default-abc1234567/1", type: "DirectoryOrCreate" });
        for (const pv of pvs) {
            assert.equal(pv.spec.storageClassName, "numaflow-isb-local");
            assert.equal(pv.spec.persistentVolumeReclaimPolicy, "Retain");
            assert.deepEqual(pv.spec.capacity, { storage: "3Gi" });
            assert.equal(pv.spec.claimRef, undefined, "no claimRef to reset");
            assert.ok(!JSON.stringify(pv).includes("${NODE_NAME}"));
        }
    });

    it("names volumes after the replacing fields only: a new bufferConfig gets fresh volumes, same spec same names", () => {
        const a = specDigest({ bufferConfig: "stream:\n  retention: 2\n", persistence: { volumeSize: "3Gi" }, replicas: 1 });
        const b = specDigest({ replicas: 1, persistence: { volumeSize: "3Gi" }, bufferConfig: "stream:\n  retention: 2\n" });
        const c = specDigest({ bufferConfig: "stream:\n  retention: 0\n", persistence: { volumeSize: "3Gi" }, replicas: 1 });
        assert.equal(a, b, "key order does not matter");
        assert.notEqual(a, c);
        assert.match(a, /^[0-9a-f]{10}$/);
    });

    it("declares valid Kubernetes StorageClass and PersistentVolume objects", async () => {
        const sc = localStorageClassObject();
        assert.equal(sc.provisioner, "kubernetes.io/no-provisioner");
        assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
        assert.equal(sc.kind, "StorageClass");
        await validateObject(sc);
        for (const pv of localVolumeObjects({ isbName: "default", replicas: 3, nodes: clusterNodes, hostPath: "/data", volumeSize: "1Gi", digest: "0123456789" })) {
            assert.equal(pv.kind, "PersistentVolume");
            await validateObject(pv);
        }
    });
});
