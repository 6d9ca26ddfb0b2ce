import { strict as assert } from "node:assert";
import { Pipeline, numaflowKinds, validateNumaflowObject, validatePipeline } from "../../components/crds";

/** The original's autoscaling ptychography pipeline, as the workflows layer declares it. */
function ptychography(): Pipeline {
    return {
        ...numaflowKinds.pipeline,
        metadata: { name: "ptychography", namespace: "default" },
        spec: {
            interStepBufferServiceName: "default",
            vertices: [
                {
                    name: "in",
                    source: {
                        udsource: {
                            container: {
                                image: "docker.io/gemblerz/pvapy-udsource:0.0.1",
                                imagePullPolicy: "IfNotPresent",
                                env: [{ name: "PVA_INPUT_CHANNEL", value: "pvapy:image" }, { name: "PVA_QUEUE_SIZE", value: "1000" }],
                            },
                        },
                    },
                    scale: { min: 3, max: 3 },
                },
                {
                    name: "cat",
                    udf: {
                        container: {
                            image: "docker.io/gemblerz/ptychonn-udf:0.0.2",
                            resources: { requests: { cpu: "1000m" }, limits: { cpu: "1000m", "nvidia.com/gpu": 1 } },
                        },
                    },
                    runtimeClassName: "nvidia",
                    nodeSelector: { "nvidia.com/gpu.present": "true" },
                    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                    limits: { readBatchSize: 8, bufferMaxLength: 20000, bufferUsageLimit: 80 },
                    scale: {
                        min: 1, max: 6, lookbackSeconds: 30, scaleUpCooldownSeconds: 10, scaleDownCooldownSeconds: 20,
                        targetBufferAvailability: 90, disabled: false,
                    },
                    containerTemplate: { resources: { requests: { cpu: "100m", memory: "128Mi" } } },
                    sidecars: [{ name: "metrics", image: "docker.io/example/exporter:1.0", ports: [{ containerPort: 9100, name: "metrics" }] }],
                    volumes: [{ name: "scratch", emptyDir: {} }],
                },
                { name: "out", sink: { log: {}, retryStrategy: { onFailure: "retry" } }, scale: { min: 1, max: 5, lookbackSeconds: 1 } },
            ],
            edges: [{ from: "in", to: "cat" }, { from: "cat", to: "out" }],
        },
    };
}

describe("Numaflow Pipeline validator", () => {
    it("accepts the ptychography pipeline with every vertex field the workflows use", async () => {
        assert.deepEqual(await validatePipeline(ptychography()), []);
        assert.deepEqual(await validateNumaflowObject(ptychography()), []);
    });

    it("rejects unknown fields with the path and the allowed names", async () => {
        const p: any = ptychography();
        p.spec.vertices[1].scale.maxReplicas = 4;
        const issues = await validatePipeline(p);
        assert.equal(issues.length, 1);
        assert.match(issues[0], /^spec\.vertices\[1\]\.scale\.maxReplicas: unknown field \(allowed: .*lookbackSeconds/);
    });

    it("rejects a vertex that is both a source and a sink, and edges to unknown vertices", async () => {
        const p: any = ptychography();
        p.spec.vertices[0].sink = { log: {} };
        p.spec.edges.push({ from: "cat", to: "nowhere" });
        const issues = await validatePipeline(p);
        assert.ok(issues.includes("spec.vertices[0]: must be exactly one of source, udf or sink (has source, sink)"), issues.join("\n"));
        assert.ok(issues.includes("spec.edges[2].to: no vertex named \"nowhere\""), issues.join("\n"));
    });

    it("rejects scale.min above scale.max, out-of-range percentages and bad durations", async () => {
        const p: any = ptychography();
        p.spec.vertices[1].scale.min = 7;
        p.spec.vertices[1].limits.bufferUsageLimit = 120;
        p.spec.vertices[1].limits.readTimeout = "soon";
        const issues = await validatePipeline(p);
        assert.ok(issues.includes("spec.vertices[1].scale: min 7 is greater than max 6"));
        assert.ok(issues.some((i) => i.startsWith("spec.vertices[1].limits.bufferUsageLimit: 120 is outside [1, 100]")));
        assert.ok(issues.some((i) => i.startsWith("spec.vertices[1].limits.readTimeout: \"soon\" is not a Go duration")));
    });

    it("checks embedded core objects against the Kubernetes schema", async () => {
        const p: any = ptychography();
        p.spec.vertices[1].tolerations[0].effect = "Sometimes";
        delete p.spec.vertices[1].sidecars[0].name;
        const issues = await validatePipeline(p);
        assert.ok(issues.some((i) => i.startsWith("spec.vertices[1].tolerations[0].effect: enum") && i.endsWith("(Kubernetes Toleration)")), issues.join("\n"));
        assert.ok(issues.some((i) => i.startsWith("spec.vertices[1].sidecars[0]: required") && i.includes("name")), issues.join("\n"));
    });

    it("rejects a UDF without a container image and unknown kinds", async () => {
        const p: any = ptychography();
        delete p.spec.vertices[1].udf.container.image;
        assert.ok((await validatePipeline(p)).includes("spec.vertices[1].udf.container.image: required"));
        assert.deepEqual(await validateNumaflowObject({ kind: "MonoVertex" }),
            ["kind: \"MonoVertex\" is not a Numaflow kind this validator knows (InterStepBufferService, Pipeline)"]);
    });
});

describe("Numaflow InterStepBufferService validator", () => {
    const isb = () => ({
        ...numaflowKinds.interStepBufferService,
        metadata: { name: "default", namespace: "default" },
        spec: { jetstream: { version: "2.10.29", replicas: 3, bufferConfig: "stream:\n  retention: 0\n" } },
    });

    it("accepts a pinned 3-server ISB", async () => {
        assert.deepEqual(await validateNumaflowObject(isb()), []);
    });

    it("rejects latest, 2 replicas and unknown bufferConfig keys", async () => {
        const bad: any = isb();
        bad.spec.jetstream.version = "latest";
        bad.spec.jetstream.replicas = 2;
        bad.spec.jetstream.bufferConfig = "stream:\n  retention: 5\n  maxMessages: 10\n";
        const issues = await validateNumaflowObject(bad);
        assert.ok(issues.some((i) => i.startsWith("spec.jetstream.version: \"latest\" is not a pinned version key")));
        assert.ok(issues.includes("spec.jetstream.replicas: 2 is not a valid JetStream cluster size (use 1 or 3)"));
        assert.ok(issues.some((i) => i.startsWith("spec.jetstream.bufferConfig.stream.retention: 5 is outside [0, 2]")));
        assert.ok(issues.some((i) => i.startsWith("spec.jetstream.bufferConfig.stream.maxMessages: unknown field")));
    });
});
