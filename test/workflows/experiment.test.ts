import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ApsSettingsSchema, type ExperimentSettings, type HarvestSettings } from "../../workflows/settings";
import { layerSettings } from "../helpers/settings";
import {
    Experiment, experimentRecords, simServerArgs, streamJob, streamJobName, streamTimeoutSeconds, type StreamParameters,
} from "../../workflows";
import { validateObject, validateResource } from "../helpers/kube-schema";
import { isSecretOutput, runComponents, unwrap } from "../helpers/pulumi-mocks";

const stream: StreamParameters = { channel: "pvapy:image", frameRate: 100, imageWidth: 512, imageHeight: 512, dtype: "int16", durationSeconds: 300 };
const experiment: ExperimentSettings = {
    name: "fps100", workflow: "pipeline", run: 2, frameRate: 100, imageWidth: 512, imageHeight: 512, dtype: "int16",
    durationSeconds: 300, marginSeconds: 600,
};
const harvest: HarvestSettings = {
    enabled: true, queriesFile: "workflows/aps/metrics.txt", format: "parquet", mode: "auto", marginSeconds: 30, resultsDir: "results",
};

/** What index.ts passes besides the experiment: the APS workflow's channel, namespace and tools image. */
const aps = layerSettings(ApsSettingsSchema);
const fromWorkflow = { defaultChannel: aps.channel, namespace: aps.namespace, image: aps.images.pvapy, metricsTenant: "charon" };

describe("workflows experiment (stream Job)", () => {
    it("pvapy-ad-sim-server gets the stream parameters", () => {
        assert.deepEqual(simServerArgs({ ...stream, frameRate: 700, imageWidth: 256, imageHeight: 128, dtype: "uint8", durationSeconds: 200, channel: "ad:image" }), [
            "--channel-name", "ad:image", "--n-x-pixels", "256", "--n-y-pixels", "128", "--datatype", "uint8",
            "--frame-rate", "700", "--runtime", "200", "--disable-curses",
        ]);
    });

    it("the Job runs one never-retried pod, bounded by duration + margin, resizable in place", async () => {
        const job = streamJob({
            namespace: "default", experiment: "fps100", run: 2, workflow: "pipeline",
            image: "docker.io/akhileshraj/charon:0.0.1", stream, marginSeconds: 600,
        });
        assert.equal(job.metadata.name, streamJobName("fps100", 2, stream, "docker.io/akhileshraj/charon:0.0.1", "pipeline"));
        assert.match(job.metadata.name, /^fps100-r2-[0-9a-f]{8}$/);
        assert.equal(job.metadata.annotations["pulumi.com/replaceUnready"], "true");
        assert.deepEqual(job.metadata.labels, {
            "app.kubernetes.io/part-of": "charon", "charon/experiment": "fps100", "charon/run": "2", "charon/workflow": "pipeline",
        });
        assert.equal(job.spec.backoffLimit, 0);
        assert.equal(job.spec.completions, 1);
        assert.equal(job.spec.activeDeadlineSeconds, 900);
        assert.equal(job.spec.ttlSecondsAfterFinished, undefined, "the finished Job must stay: its status is the window");
        const pod = job.spec.template.spec;
        assert.equal(pod.restartPolicy, "Never");
        assert.deepEqual(pod.containers[0].command, ["pvapy-ad-sim-server"]);
        assert.deepEqual(pod.containers[0].args, simServerArgs(stream));
        assert.deepEqual(pod.containers[0].resources, { requests: { cpu: "1000m", memory: "500Mi" }, limits: { memory: "3Gi" } });
        assert.deepEqual(pod.containers[0].resizePolicy, [
            { resourceName: "cpu", restartPolicy: "NotRequired" }, { resourceName: "memory", restartPolicy: "NotRequired" },
        ]);
        await validateObject(job);
    });

    it("the Job name changes with every parameter, the image, the workflow and the run counter — and only then", () => {
        const name = (p: Partial<StreamParameters> = {}, run = 1, image = "img:1", workflow = "pipeline") =>
            streamJobName("exp", run, { ...stream, ...p }, image, workflow);
        const same = name();
        assert.equal(name(), same);
        const variants = [
            name({ frameRate: 101 }), name({ imageWidth: 1024 }), name({ imageHeight: 256 }), name({ dtype: "float32" }),
            name({ durationSeconds: 60 }), name({ channel: "ad:image" }), name({}, 2), name({}, 1, "img:2"), name({}, 1, "img:1", "baseline"),
        ];
        assert.equal(new Set([same, ...variants]).size, variants.length + 1);
        assert.ok([same, ...variants].every((n) => n.length <= 63));
    });

    it("waits duration + margin", () => {
        assert.equal(streamTimeoutSeconds(300, 600), 900);
    });

    it("Experiment: the Job waits for the workflow, has a bounded wait and the harvest hook after create and update", async () => {
        const run = await runComponents(() => {
            const workflow = new k8s.apiextensions.CustomResource("pipeline", { apiVersion: "numaflow.numaproj.io/v1alpha1", kind: "Pipeline", metadata: { name: "ptychography" } });
            const monitoring = new k8s.core.v1.Namespace("monitoring", {});
            const x = new Experiment("fps100", {
                ...fromWorkflow, experiment, workflow, after: [monitoring], stack: "dev", harvest,
                kubeconfig: pulumi.secret("apiVersion: v1"), metricsQueryUrl: "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus",
                metricsTenant: "charon",
            });
            return { x, records: experimentRecords([x]) };
        }, {
            outputs: {
                "kubernetes:batch/v1:Job": () => ({
                    status: { startTime: "2025-08-18T14:47:57Z", completionTime: "2025-08-18T14:52:59Z", succeeded: 1 },
                }),
            },
        });
        const component = run.get("charon:workflows:Experiment", "fps100");
        const job = run.get("kubernetes:batch/v1:Job", "fps100-stream");
        assert.equal(job.parent, component.urn);
        assert.deepEqual(job.dependencies.sort(), [run.named("pipeline").urn, run.named("monitoring").urn].sort());
        assert.deepEqual(job.options.customTimeouts, { create: "900s", update: "900s", delete: "" });
        assert.deepEqual(job.options.hooks, {
            beforeCreate: [], afterCreate: ["fps100-harvest"], beforeUpdate: [], afterUpdate: ["fps100-harvest"], beforeDelete: [], afterDelete: [],
        });
        assert.equal(job.inputs.metadata.name, streamJobName("fps100", 2, stream, "docker.io/akhileshraj/charon:0.0.1", "pipeline"));
        await validateResource(job);

        const x = run.value.x;
        assert.deepEqual(await unwrap(x.window), { start: "2025-08-18T14:47:27Z", end: "2025-08-18T14:53:29Z" });
        assert.equal(await unwrap(x.run), 2);
        assert.equal(await unwrap(x.resultsPath), "results/dev/fps100/2");
        assert.equal(await unwrap(x.workflow), "pipeline");
        assert.deepEqual(await unwrap(run.value.records), {
            fps100: { window: { start: "2025-08-18T14:47:27Z", end: "2025-08-18T14:53:29Z" }, run: 2, resultsPath: "results/dev/fps100/2", workflow: "pipeline" },
        });
        assert.equal(await isSecretOutput(run.value.records), false, "the experiments output carries no secret");
    });

    it("without harvest settings (or enabled: false) no hook is attached", async () => {
        const run = await runComponents(() => {
            const workflow = new k8s.core.v1.Namespace("wf", {});
            new Experiment("quiet", {
                ...fromWorkflow, after: [], experiment: { ...experiment, name: "quiet" }, workflow, stack: "dev", harvest: { ...harvest, enabled: false },
                kubeconfig: "k", metricsQueryUrl: "http://mimir-gateway.monitoring.svc:80/prometheus",
            });
        });
        assert.deepEqual(run.get("kubernetes:batch/v1:Job", "quiet-stream").options.hooks, {
            beforeCreate: [], afterCreate: [], beforeUpdate: [], afterUpdate: [], beforeDelete: [], afterDelete: [],
        });
    });

    it("the channel defaults to the workflow's channel", async () => {
        const run = await runComponents(() => new Experiment("ch", {
            ...fromWorkflow, after: [], harvest, experiment: { ...experiment, name: "ch" }, defaultChannel: "ad:image", workflow: new k8s.core.v1.Namespace("wf2", {}),
            stack: "dev", kubeconfig: "k", metricsQueryUrl: "http://mimir-gateway.monitoring.svc:80/prometheus",
        }));
        const args: string[] = run.get("kubernetes:batch/v1:Job", "ch-stream").inputs.spec.template.spec.containers[0].args;
        assert.equal(args[args.indexOf("--channel-name") + 1], "ad:image");
    });
});
