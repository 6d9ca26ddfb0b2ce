import * as assert from "node:assert/strict";
import { ApsSettingsSchema } from "../../workflows/settings";
import { WORKFLOW_READY_TIMEOUT_MINUTES } from "../../workflows/aps/workflow";
import { layerSettings } from "../helpers/settings";
import * as k8s from "@pulumi/kubernetes";
import * as fc from "fast-check";
import { pipelineProblems as validatePipeline } from "../helpers/numaflow";
import { apsImages } from "../../components/versions";
import { ApsPtychoNN, pipelineProfiles, ptychographyPipeline, vertexTuning, type PipelineOptions } from "../../workflows/aps";
import { runComponents, unwrap } from "../helpers/pulumi-mocks";

const base: PipelineOptions = {
    namespace: "default",
    profile: "fixed",
    channel: "pvapy:image",
    queueSize: 1000,
    batchSize: 8,
    images: { udsource: apsImages.udsource, udf: apsImages.udf },
    cpu: "1000m",
    memory: "4Gi",
    gpuLimit: true,
};

const source = {
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
};
const udfContainer = {
    image: "docker.io/gemblerz/ptychonn-udf:0.0.2",
    imagePullPolicy: "IfNotPresent",
    resources: {
        requests: { cpu: "1000m", memory: "4Gi" },
        limits: { cpu: "1000m", memory: "4Gi", "nvidia.com/gpu": "1" },
    },
};
const sink = { name: "out", sink: { log: {}, retryStrategy: { onFailure: "retry" } } };
const edges = [{ from: "in", to: "cat" }, { from: "cat", to: "out" }];

describe("workflows/aps pipeline", () => {
    it("fixed profile: in → cat → out, one replica each, runtimeClassName on the inference vertex, GPU limit", () => {
        assert.deepEqual(ptychographyPipeline(base), {
            apiVersion: "numaflow.numaproj.io/v1alpha1",
            kind: "Pipeline",
            metadata: {
                name: "ptychography", namespace: "default",
                labels: { "app.kubernetes.io/part-of": "charon", "charon/workflow": "aps", "charon/profile": "fixed" },
            },
            spec: {
                vertices: [
                    { ...source, scale: { min: 1, max: 1 } },
                    {
                        name: "cat", udf: { container: udfContainer }, scale: { min: 1, max: 1 },
                        limits: { readBatchSize: 8 }, runtimeClassName: "nvidia",
                    },
                    { ...sink, scale: { min: 1, max: 1 } },
                ],
                edges,
            },
        });
    });

    it("autoscaling profile: source pinned at 3, inference 1–6 and sink 1–5 with the original's knobs", () => {
        const p = ptychographyPipeline({ ...base, profile: "autoscaling" });
        assert.equal(p.metadata.labels?.["charon/profile"], "autoscaling");
        assert.deepEqual(p.spec.vertices, [
            { ...source, scale: { min: 3, max: 3 } },
            {
                name: "cat", udf: { container: udfContainer },
                scale: { min: 1, max: 6, lookbackSeconds: 30, scaleUpCooldownSeconds: 10, scaleDownCooldownSeconds: 20, targetBufferAvailability: 90 },
                limits: { readBatchSize: 8, bufferMaxLength: 20000 }, runtimeClassName: "nvidia",
            },
            {
                ...sink,
                scale: { min: 1, max: 5, lookbackSeconds: 1, scaleUpCooldownSeconds: 3, scaleDownCooldownSeconds: 10, targetBufferAvailability: 80 },
            },
        ]);
        assert.deepEqual(p.spec.edges, edges);
    });

    it("runtimeClassName sits on the inference vertex only, never inside a container", () => {
        for (const profile of ["fixed", "autoscaling"] as const) {
            const p = ptychographyPipeline({ ...base, profile });
            assert.deepEqual(p.spec.vertices.map((v) => [v.name, v.runtimeClassName]), [["in", undefined], ["cat", "nvidia"], ["out", undefined]]);
            assert.ok(!JSON.stringify(p.spec.vertices[1].udf).includes("runtimeClassName"));
        }
    });

    it("requests no GPU without the device plugin (the runtime class stays)", () => {
        const cat = ptychographyPipeline({ ...base, gpuLimit: false }).spec.vertices[1];
        assert.deepEqual(cat.udf?.container?.resources?.limits, { cpu: "1000m", memory: "4Gi" });
        assert.equal(cat.runtimeClassName, "nvidia");
    });

    it("per-vertex settings override the profile key by key; batch size feeds readBatchSize", () => {
        const p = ptychographyPipeline({
            ...base, profile: "autoscaling", batchSize: 16, channel: "ad:image", queueSize: 500,
            vertices: { cat: { scale: { max: 2 }, limits: { bufferUsageLimit: 70 } }, out: { scale: { disabled: true } } },
        });
        const [inV, cat, out] = p.spec.vertices;
        assert.deepEqual(inV.source?.udsource?.container.env, [
            { name: "PVA_INPUT_CHANNEL", value: "ad:image" }, { name: "PVA_QUEUE_SIZE", value: "500" },
        ]);
        assert.deepEqual(cat.scale, { min: 1, max: 2, lookbackSeconds: 30, scaleUpCooldownSeconds: 10, scaleDownCooldownSeconds: 20, targetBufferAvailability: 90 });
        assert.deepEqual(cat.limits, { readBatchSize: 16, bufferMaxLength: 20000, bufferUsageLimit: 70 });
        assert.equal(out.scale?.disabled, true);
        assert.equal(out.scale?.max, 5);
        // an explicit readBatchSize override beats the batch size
        assert.equal(ptychographyPipeline({ ...base, vertices: { cat: { limits: { readBatchSize: 4 } } } }).spec.vertices[1].limits?.readBatchSize, 4);
    });

    it("validates against the Numaflow Pipeline schema for both profiles and with overrides", async () => {
        for (const profile of ["fixed", "autoscaling"] as const) {
            for (const gpuLimit of [true, false]) {
                assert.deepEqual(await validatePipeline(ptychographyPipeline({ ...base, profile, gpuLimit })), []);
            }
        }
        assert.deepEqual(await validatePipeline(ptychographyPipeline({ ...base, vertices: { in: { scale: { min: 2, max: 2 } } } })), []);
    });

    it("property: any override set wins, every other key is the profile's", () => {
        const scaleKeys = ["min", "max", "lookbackSeconds", "scaleUpCooldownSeconds", "scaleDownCooldownSeconds", "targetBufferAvailability"] as const;
        fc.assert(fc.property(
            fc.constantFrom("fixed" as const, "autoscaling" as const),
            fc.constantFrom("in" as const, "cat" as const, "out" as const),
            fc.record(Object.fromEntries(scaleKeys.map((k) => [k, fc.integer({ min: 0, max: 100 })])) as Record<typeof scaleKeys[number], fc.Arbitrary<number>>, { requiredKeys: [] }),
            (profile, vertex, override) => {
                const tuned = vertexTuning(profile, vertex, { scale: override });
                for (const k of scaleKeys) {
                    assert.equal(tuned.scale[k], override[k] ?? pipelineProfiles[profile][vertex].scale[k]);
                }
            }));
    });

    it("ApsPtychoNN declares the Pipeline after the Numaflow controller and ISB, waiting for healthy vertices", async () => {
        const run = await runComponents(() => {
            const isb = new k8s.apiextensions.CustomResource("isb", { apiVersion: "numaflow.numaproj.io/v1alpha1", kind: "InterStepBufferService", metadata: { name: "default" } });
            const controller = new k8s.helm.v3.Release("numaflow", { chart: "numaflow", version: "0.4.0" });
            return new ApsPtychoNN("aps", { ...layerSettings(ApsSettingsSchema, { profile: "autoscaling" }), gpuLimit: true, readyTimeoutMinutes: WORKFLOW_READY_TIMEOUT_MINUTES, numaflow: { controller, isb } });
        });
        const component = run.get("charon:workflows:ApsPtychoNN", "aps");
        const pipeline = run.get("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline", "aps-pipeline");
        assert.equal(pipeline.parent, component.urn);
        assert.deepEqual(pipeline.dependencies.sort(), [run.named("isb").urn, run.named("numaflow").urn].sort());
        assert.equal(pipeline.inputs.metadata.annotations["pulumi.com/waitFor"], "condition=VerticesHealthy");
        const { metadata: _m, ...declared } = pipeline.inputs;
        const { metadata: _e, ...expected } = ptychographyPipeline({ ...base, profile: "autoscaling" });
        assert.deepEqual(declared, expected);
        assert.deepEqual(pipeline.options.customTimeouts, { create: "30m", update: "30m", delete: "" });
        assert.equal(await unwrap(run.value.pipelineName), "ptychography");
        assert.deepEqual(await validatePipeline(pipeline.inputs), []);
    });
});
