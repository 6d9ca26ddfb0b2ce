import * as assert from "node:assert/strict";
import { resolveSettings } from "../../stacks/load";
import { apsWorkflow } from "../../workflows";
import { runComponents } from "../helpers/pulumi-mocks";

describe("workflows: the deployment a stack selects", () => {
    it("nothing when workflows.aps.enabled is false", async () => {
        const run = await runComponents(() => apsWorkflow(resolveSettings({}).workflows.aps, { gpuLimit: true }));
        assert.equal(run.value, undefined);
        assert.equal(run.resources.length, 0);
    });

    it("deploy: pipeline → the Numaflow pipeline with the stack's profile, overrides, channel and images", async () => {
        const aps = resolveSettings({
            workflows: { aps: { enabled: true, profile: "autoscaling", channel: "ad:image", batchSize: 4, vertices: { cat: { scale: { max: 3 } } }, images: { udf: "registry.local/ptychonn-udf:0.0.3" } } },
        }).workflows.aps;
        const run = await runComponents(() => apsWorkflow(aps, { gpuLimit: false }));
        assert.equal(run.value?.workflow, "pipeline");
        const spec = run.get("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline", "aps-pipeline").inputs.spec;
        const [inV, cat] = spec.vertices;
        assert.deepEqual(inV.scale, { min: 3, max: 3 });
        assert.equal(inV.source.udsource.container.env[0].value, "ad:image");
        assert.equal(cat.scale.max, 3);
        assert.equal(cat.scale.lookbackSeconds, 30);
        assert.equal(cat.limits.readBatchSize, 4);
        assert.equal(cat.udf.container.image, "registry.local/ptychonn-udf:0.0.3");
        assert.equal(cat.udf.container.resources.limits["nvidia.com/gpu"], undefined);
        assert.equal(run.ofType("kubernetes:apps/v1:Deployment").length, 0);
    });

    it("deploy: baseline → consumer and mirror server instead of the pipeline", async () => {
        const aps = resolveSettings({ workflows: { aps: { enabled: true, deploy: "baseline", mirrorChannel: "mirror:image", namespace: "aps" } } }).workflows.aps;
        const run = await runComponents(() => apsWorkflow(aps, { gpuLimit: true }));
        assert.equal(run.value?.workflow, "baseline");
        assert.equal(run.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline").length, 0);
        const consumer = run.get("kubernetes:apps/v1:Deployment", "aps-baseline-consumer").inputs;
        const mirror = run.get("kubernetes:apps/v1:Deployment", "aps-baseline-mirror-server").inputs;
        assert.equal(consumer.metadata.namespace, "aps");
        assert.equal(consumer.spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"], "1");
        assert.deepEqual(mirror.spec.template.spec.containers[0].args, ["--channel-map", "(pvapy:image,mirror:image,pva,20000)"]);
    });
});
