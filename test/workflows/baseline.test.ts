import * as assert from "node:assert/strict";
import { ApsSettingsSchema } from "../../workflows/settings";
import { WORKFLOW_READY_TIMEOUT_MINUTES } from "../../workflows/aps/workflow";
import { layerSettings } from "../helpers/settings";
import { MONITORS } from "../../components/monitoring/monitors";
import { ApsBaseline, consumerArgs, consumerDeployment, mirrorServerDeployment } from "../../workflows/aps";
import { validateObject, validateResource } from "../helpers/kube-schema";
import { runComponents } from "../helpers/pulumi-mocks";

const resize = [{ resourceName: "cpu", restartPolicy: "NotRequired" }, { resourceName: "memory", restartPolicy: "NotRequired" }];

describe("workflows/aps baseline", () => {
    it("consumer: PtychoNN inference on the GPU, role=workload, metrics on 9100, resizable in place", async () => {
        const d = consumerDeployment({
            namespace: "default", image: "local/ptychonn:cuda126", channel: "pvapy:image", queueSize: 1000,
            cpu: "1000m", memory: "4Gi", gpuLimit: true,
        });
        assert.deepEqual(d.spec.selector, { matchLabels: { app: "consumer" } });
        assert.deepEqual(d.spec.template.metadata.labels, { "app.kubernetes.io/part-of": "charon", app: "consumer", role: "workload" });
        const pod = d.spec.template.spec;
        assert.equal(pod.runtimeClassName, "nvidia");
        assert.equal(pod.containers.length, 1);
        const c = pod.containers[0];
        assert.deepEqual(c.command, ["pvapy-hpc-consumer"]);
        assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 9100 }]);
        assert.deepEqual(c.resources, {
            requests: { cpu: "1000m", memory: "4Gi" },
            limits: { cpu: "1000m", memory: "4Gi", "nvidia.com/gpu": "1" },
        });
        assert.deepEqual(c.resizePolicy, resize);
        await validateObject(d);
    });

    it("consumer command line reads the channel and runs the PtychoNN processor", () => {
        const args = consumerArgs("pvapy:image", 1000);
        const flag = (name: string) => args[args.indexOf(name) + 1];
        assert.equal(flag("--input-channel"), "pvapy:image");
        assert.equal(flag("--processor-class"), "InferPtychoNNImageProcessor");
        assert.equal(flag("--processor-file"), "/app/inferPtychoNNImageProcessor.py");
        assert.deepEqual(JSON.parse(flag("--processor-args")), { onnx_mdl: "/app/model_512_fp16.trt", output_x: 64, output_y: 64, net: "wan0", no_nrm: true });
        assert.equal(flag("--server-queue-size"), "1000");
        assert.ok(args.includes("--disable-curses"));
    });

    it("consumer without the device plugin requests no GPU", () => {
        const d = consumerDeployment({ namespace: "default", image: "x/y:1", channel: "c", queueSize: 1, cpu: "2", memory: "1Gi", gpuLimit: false });
        assert.deepEqual(d.spec.template.spec.containers[0].resources.limits, { cpu: "2", memory: "1Gi" });
    });

    it("mirror server: pvapy:image → ad:image on the PVA port, role=workload", async () => {
        const d = mirrorServerDeployment({
            namespace: "default", image: "docker.io/akhileshraj/charon:0.0.1", from: "pvapy:image", to: "ad:image",
            queueSize: 20000, cpu: "500m", memory: "1Gi",
        });
        const c = d.spec.template.spec.containers[0];
        assert.deepEqual(c.command, ["pvapy-mirror-server"]);
        assert.deepEqual(c.args, ["--channel-map", "(pvapy:image,ad:image,pva,20000)"]);
        assert.deepEqual(c.ports, [{ name: "pva", containerPort: 5076 }]);
        assert.equal(d.spec.template.metadata.labels.role, "workload");
        assert.deepEqual(c.resizePolicy, resize);
        await validateObject(d);
    });

    it("workload pods carry exactly the labels and port the monitoring layer's workload PodMonitor selects", () => {
        const monitor = MONITORS.find((m) => m.name === "workload-metrics")!;
        const d = consumerDeployment({ namespace: "default", image: "x/y:1", channel: "c", queueSize: 1, cpu: "1", memory: "1Gi", gpuLimit: false });
        for (const [k, v] of Object.entries(monitor.selector.matchLabels ?? {})) {
            assert.equal(d.spec.template.metadata.labels[k], v);
        }
        assert.equal(d.spec.template.spec.containers[0].ports[0].containerPort, monitor.endpoint.portNumber);
    });

    it("ApsBaseline declares both Deployments under the component with a 30 min readiness wait", async () => {
        const run = await runComponents(() => new ApsBaseline("baseline", { ...layerSettings(ApsSettingsSchema), gpuLimit: true, readyTimeoutMinutes: WORKFLOW_READY_TIMEOUT_MINUTES, after: [] }));
        const component = run.get("charon:workflows:ApsBaseline", "baseline");
        const consumer = run.get("kubernetes:apps/v1:Deployment", "baseline-consumer");
        const mirror = run.get("kubernetes:apps/v1:Deployment", "baseline-mirror-server");
        for (const r of [consumer, mirror]) {
            assert.equal(r.parent, component.urn);
            await validateResource(r);
            assert.deepEqual(r.options.customTimeouts, { create: "30m", update: "30m", delete: "" });
        }
        assert.equal(consumer.inputs.spec.template.spec.containers[0].image, "local/ptychonn:cuda126");
        assert.equal(consumer.inputs.spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"], "1");
        assert.equal(mirror.inputs.spec.template.spec.containers[0].image, "docker.io/akhileshraj/charon:0.0.1");
        assert.equal(run.value.workflow, "baseline");
    });
});
