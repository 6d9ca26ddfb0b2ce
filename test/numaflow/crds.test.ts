import { strict as assert } from "node:assert";
import { Pipeline, numaflowKinds } from "../../components/crds";
import { numaflowObjectProblems, pipelineProblems } from "../helpers/numaflow";

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

describe("Numaflow Pipeline against Numaflow's CRD and webhook rules", () => {
    it("accepts the ptychography pipeline with every vertex field the workflows use", async () => {
        assert.deepEqual(await pipelineProblems(ptychography()), []);
        assert.deepEqual(await numaflowObjectProblems(ptychography()), []);
    });

    it("rejects unknown fields with the path and the field", async () => {
        const p: any = ptychography();
        p.spec.vertices[1].scale.maxReplicas = 4;
        assert.deepEqual(await pipelineProblems(p), ["spec.vertices[1].scale: must NOT have additional properties (maxReplicas)"]);
    });

    it("rejects a vertex that is both a source and a sink, and edges to unknown vertices", async () => {
        const p: any = ptychography();
        p.spec.vertices[0].sink = { log: {} };
        p.spec.edges.push({ from: "cat", to: "nowhere" });
        const problems = await pipelineProblems(p);
        assert.ok(problems.includes("invalid vertex \"in\", only one of 'source', 'sink' and 'udf' can be specified (has source, sink)"), problems.join("\n"));
        assert.ok(problems.includes("invalid edge: no vertex named \"nowhere\""), problems.join("\n"));
    });

    it("rejects scale.min above scale.max and wrong types", async () => {
        const p: any = ptychography();
        p.spec.vertices[1].scale.min = 7;
        p.spec.vertices[1].limits.bufferUsageLimit = "80%";
        p.spec.vertices[1].scale.lookbackSeconds = -1.5;
        const problems = await pipelineProblems(p);
        assert.ok(problems.includes("vertex \"cat\": max number of replicas should be greater than or equal to min"), problems.join("\n"));
        assert.ok(problems.includes("spec.vertices[1].limits.bufferUsageLimit: must be integer"), problems.join("\n"));
        assert.ok(problems.includes("spec.vertices[1].scale.lookbackSeconds: must be integer"), problems.join("\n"));
    });

    it("checks embedded core objects against the Kubernetes schema", async () => {
        const p: any = ptychography();
        p.spec.vertices[1].tolerations[0].operator = 7;
        delete p.spec.vertices[1].sidecars[0].name;
        const problems = await pipelineProblems(p);
        assert.ok(problems.some((i) => i.startsWith("spec.vertices[1].tolerations[0].operator: must be string")), problems.join("\n"));
        assert.ok(problems.some((i) => i.startsWith("spec.vertices[1].sidecars[0]: must have required property 'name'")), problems.join("\n"));
    });

    it("rejects a UDF without a container image and unknown kinds", async () => {
        const p: any = ptychography();
        delete p.spec.vertices[1].udf.container.image;
        assert.ok((await pipelineProblems(p)).includes("invalid vertex \"cat\": invalid udf spec, a customized image is required"));
        assert.deepEqual(await numaflowObjectProblems({ kind: "MonoVertex" }), ["kind \"MonoVertex\" is not InterStepBufferService or Pipeline"]);
    });
});

describe("Numaflow InterStepBufferService against Numaflow's CRD, webhook rules and controller config", () => {
    const isb = () => ({
        ...numaflowKinds.interStepBufferService,
        metadata: { name: "default", namespace: "default" },
        spec: { jetstream: { version: "2.10.29", replicas: 3, bufferConfig: "stream:\n  retention: 0\n" } },
    });

    it("accepts a pinned 3-server ISB", async () => {
        assert.deepEqual(await numaflowObjectProblems(isb()), []);
    });

    it("rejects a missing version, 2 replicas and unknown or mistyped bufferConfig keys", async () => {
        const bad: any = isb();
        delete bad.spec.jetstream.version;
        bad.spec.jetstream.replicas = 2;
        bad.spec.jetstream.bufferConfig = "stream:\n  retention: \"Limits\"\n  maxMessages: 10\n";
        const problems = await numaflowObjectProblems(bad);
        assert.ok(problems.includes("invalid spec: \"spec.jetstream.version\" is not defined"), problems.join("\n"));
        assert.ok(problems.includes("invalid spec: min value for \"spec.jetstream.replicas\" is 1 and can't be 2"), problems.join("\n"));
        assert.ok(problems.includes("bufferConfig.stream.retention: \"Limits\" is a string, Numaflow's default is a number (0)"), problems.join("\n"));
        assert.ok(problems.includes("bufferConfig.stream.maxMessages: not a key of Numaflow's bufferConfig"), problems.join("\n"));
    });
});
