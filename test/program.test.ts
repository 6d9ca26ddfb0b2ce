/**
 * The whole program (index.ts) under the mock runtime, per preset: which layers exist, that every Kubernetes
 * object goes through the cluster's provider, the edges between layers, and which outputs are secret.
 */
import * as assert from "node:assert/strict";
import { commandOutputs, sshKey } from "./cluster/fixtures";
import { isSecretOutput, ProgramRun, RecordedResource, runProgram, unwrap } from "./helpers/pulumi-mocks";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const PROVIDER = "pulumi:providers:kubernetes";

const gpuNode = { preset: "gpu-node", hosts: [{ name: "gpu1", address: "203.0.113.10" }], sshPrivateKey: sshKey };
const cluster = {
    preset: "cluster", sshPrivateKey: sshKey,
    hosts: [
        { name: "s1", role: "server", address: "10.0.0.10" },
        { name: "a1", address: "10.0.0.11", gpu: false }, { name: "a2", address: "10.0.0.12", gpu: false }, { name: "a3", address: "10.0.0.13", gpu: true },
    ],
};

/** A stream Job as the API server reports it once it completed. */
const completedJob = () => ({ status: { startTime: "2026-11-23T10:00:00Z", completionTime: "2026-11-23T10:01:02Z", succeeded: 1 } });

function run(settings: Record<string, unknown>, gpus: Record<string, number> = {}): Promise<ProgramRun> {
    return runProgram(settings, { secretKeys: ["sshPrivateKey"], outputs: { ...commandOutputs(gpus), "kubernetes:batch/v1:Job": completedJob } });
}

const releaseNames = (r: ProgramRun) => r.ofType(RELEASE).map((x) => x.inputs.name).sort();

/** Every resource `r` depends on, directly or through its ancestors' dependencies. */
function reaches(r: ProgramRun, from: RecordedResource, to: RecordedResource): boolean {
    const seen = new Set<string>();
    const stack = [from.urn];
    while (stack.length > 0) {
        const urn = stack.pop()!;
        if (urn === to.urn) {
            return true;
        }
        if (seen.has(urn)) {
            continue;
        }
        seen.add(urn);
        const res = r.byUrn(urn);
        if (res) {
            stack.push(...res.dependencies);
            if (res.parent) {
                stack.push(res.parent);
            }
        }
    }
    return false;
}

describe("the whole program per preset (mock runtime)", function () {
    this.timeout(120_000);

    describe("dev", () => {
        let dev: ProgramRun;
        before(async () => { dev = await run({}); });

        it("builds the cluster, monitoring and Numaflow layers on this machine, without GPU or workflow", () => {
            assert.deepEqual(releaseNames(dev), ["alloy", "grafana", "kube-state-metrics", "mimir", "node-exporter", "numaflow", "prometheus-operator-crds"]);
            assert.equal(dev.ofType("command:remote:Command").length, 0, "dev uses local commands only");
            assert.deepEqual(dev.ofType("command:local:Command").map((c) => c.name).sort(),
                ["charon-dev-firewall", "charon-dev-install", "charon-dev-kubeconfig", "charon-dev-prepare"]);
            assert.equal(dev.resources.filter((r) => r.type.startsWith("charon:gpu") || r.type.startsWith("charon:workflows")).length, 0);
            assert.equal(dev.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService").length, 1);
        });

        it("sends every Kubernetes object through the one provider built from the cluster's kubeconfig", () => {
            const providers = dev.ofType(PROVIDER);
            assert.equal(providers.length, 1);
            assert.ok(providers[0].secretInputs.includes("kubeconfig"), "the provider's kubeconfig input is secret");
            const k8sObjects = dev.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.ok(k8sObjects.length > 20);
            const elsewhere = k8sObjects.filter((r) => !r.provider.startsWith(providers[0].urn));
            assert.deepEqual(elsewhere.map((r) => r.name), []);
        });

        it("exports the kubeconfig and the Grafana password as secrets, the URLs in plain text", async () => {
            assert.equal(await isSecretOutput(dev.outputs.kubeconfig), true);
            assert.equal(await isSecretOutput(dev.outputs.grafanaAdminPassword), true);
            assert.equal(await isSecretOutput(dev.outputs.grafanaUrl), false);
            assert.equal(await unwrap(dev.outputs.grafanaUrl), "http://127.0.0.1:30080");
            assert.equal(await unwrap(dev.outputs.metricsQueryUrl), "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus");
            assert.equal(await unwrap(dev.outputs.metricsTenant), "charon");
            assert.deepEqual(await unwrap(dev.outputs.nodes), [{ name: "dev", role: "server", address: "127.0.0.1", gpuCount: 0 }]);
            assert.equal(dev.outputs.gpuStack, "not installed");
            assert.deepEqual(await unwrap(dev.outputs.experiments), {});
            // No undefined output (the engine would warn about each one in every preview).
            assert.deepEqual(Object.keys(dev.outputs).filter((k) => dev.outputs[k] === undefined), []);
            assert.equal(dev.outputs.actimanagerScheduler, null);
            assert.deepEqual(dev.outputs.controlLoopNames, []);
            assert.deepEqual(dev.outputs.workflowStarts, {});
        });

        it("installs releases only after the cluster, and none waits for an unrelated release (Alloy waits for the CRDs it watches)", () => {
            const kubeconfigStep = dev.resources.find((r) => r.name.endsWith("-kubeconfig"))!;
            for (const release of dev.ofType(RELEASE)) {
                assert.ok(reaches(dev, dev.ofType(PROVIDER)[0], kubeconfigStep), "the provider waits for the kubeconfig");
                const releaseDeps = release.dependencies.map((u) => dev.byUrn(u)).filter((d) => d?.type === RELEASE);
                // Alloy watches the monitor CRDs: the one release edge there is.
                const expected = release.inputs.name === "alloy" ? ["prometheus-operator-crds"] : [];
                assert.deepEqual(releaseDeps.map((d) => d!.inputs.name), expected, `${release.inputs.name}'s release dependencies`);
            }
        });
    });

    describe("gpu-node", () => {
        let gpu: ProgramRun;
        before(async () => { gpu = await run(gpuNode, { gpu1: 1 }); });

        it("adds the GPU stack and the APS pipeline, over SSH", () => {
            assert.deepEqual(releaseNames(gpu), [
                "alloy", "dcgm-exporter", "grafana", "kube-state-metrics", "mimir", "node-exporter", "numaflow", "nvidia-device-plugin", "prometheus-operator-crds",
            ]);
            assert.equal(gpu.ofType("command:local:Command").length, 0);
            assert.ok(gpu.ofType("command:remote:Command").every((c) => c.secretInputs.includes("connection")), "SSH connections are secret");
            const pipelines = gpu.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline");
            assert.equal(pipelines.length, 1);
            const cat = pipelines[0].inputs.spec.vertices.find((v: { name: string }) => v.name === "cat");
            assert.equal(cat.runtimeClassName, "nvidia");
            assert.equal(cat.udf.container.resources.limits["nvidia.com/gpu"], "1");
        });

        it("deploys the pipeline after the ISB it uses", () => {
            const pipeline = gpu.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline")[0];
            const isb = gpu.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService")[0];
            assert.ok(reaches(gpu, pipeline, isb));
            assert.equal(isb.inputs.metadata.namespace, pipeline.inputs.metadata.namespace);
        });

        it("reports the GPU the host found", async () => {
            assert.deepEqual(await unwrap(gpu.outputs.nodes), [{ name: "gpu1", role: "server", address: "203.0.113.10", gpuCount: 1 }]);
            assert.equal(await unwrap(gpu.outputs.grafanaUrl), "http://203.0.113.10:30080");
        });
    });

    describe("gpu-node with the in-place resize loop and an experiment (the example stack file)", () => {
        let gpu: ProgramRun;
        before(async () => {
            gpu = await run({
                ...gpuNode,
                experiments: [{ name: "fps100", frameRate: 100, durationSeconds: 300 }],
                controllers: { inplaceResize: { enabled: true } },
            }, { gpu1: 1 });
        });

        it("deploys the loop next to the pipeline with exactly the RBAC it needs, before the experiment's stream", () => {
            const loops = gpu.get("charon:controllers:ControlLoops", "control-loops");
            const role = gpu.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").find((r) => r.parent === loops.urn)!;
            assert.equal(role.inputs.metadata.namespace, "default");
            assert.deepEqual(role.inputs.rules, [
                { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
                { apiGroups: [""], resources: ["pods/resize"], verbs: ["patch"] },
            ]);
            const deployment = gpu.ofType("kubernetes:apps/v1:Deployment").find((r) => r.parent === loops.urn)!;
            const account = gpu.ofType("kubernetes:core/v1:ServiceAccount").find((r) => r.parent === loops.urn)!;
            const binding = gpu.ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").find((r) => r.parent === loops.urn)!;
            assert.equal(deployment.inputs.spec.template.spec.serviceAccountName, account.inputs.metadata.name);
            assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: account.inputs.metadata.name, namespace: "default" }]);
            assert.equal(binding.inputs.roleRef.name, role.inputs.metadata.name);
            const job = gpu.get("kubernetes:batch/v1:Job", "experiment-fps100-stream");
            assert.ok(reaches(gpu, job, loops), "the stream starts once the loop runs");
        });
    });

    describe("cluster (1 server + 3 agents)", () => {
        let c: ProgramRun;
        before(async () => { c = await run(cluster, { a3: 2 }); });

        it("joins every agent and installs the GPU stack for the GPU agent", async () => {
            const installs = c.ofType("command:remote:Command").filter((r) => r.name.endsWith("-install")).map((r) => r.name).sort();
            assert.deepEqual(installs, ["charon-a1-install", "charon-a2-install", "charon-a3-install", "charon-s1-install"]);
            assert.ok(releaseNames(c).includes("nvidia-device-plugin"));
            const nodes = await unwrap(c.outputs.nodes);
            assert.deepEqual(nodes.map((n: { name: string; gpuCount: number }) => [n.name, n.gpuCount]), [["s1", 0], ["a1", 0], ["a2", 0], ["a3", 2]]);
            const isb = c.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService")[0];
            assert.equal(isb.inputs.spec.jetstream.replicas, 3);
        });
    });

    it("an experiment becomes a stream Job harvested by a hook, and is exported with its results path", async () => {
        const r = await run({ ...gpuNode, experiments: [{ name: "fps100", workflow: "pipeline", frameRate: 100, durationSeconds: 60 }] }, { gpu1: 1 });
        const jobs = r.ofType("kubernetes:batch/v1:Job");
        assert.equal(jobs.length, 1);
        assert.match(jobs[0].inputs.metadata.name, /^fps100-r1-[0-9a-f]+$/);
        const records = await unwrap(r.outputs.experiments);
        assert.deepEqual(records, {
            fps100: {
                window: { start: "2026-11-23T09:59:30Z", end: "2026-11-23T10:01:32Z" },
                run: 1, resultsPath: "results/test/fps100/1", workflow: "pipeline",
            },
        });
    });

    it("experiments run one after another, so each stream has the pipeline and its window to itself", async () => {
        const r = await run({
            ...gpuNode,
            experiments: [{ name: "fps100", workflow: "pipeline", frameRate: 100 }, { name: "fps300", workflow: "pipeline", frameRate: 300 }],
        }, { gpu1: 1 });
        const [first, second] = r.ofType("kubernetes:batch/v1:Job");
        assert.match(first.inputs.metadata.name, /^fps100-/);
        assert.match(second.inputs.metadata.name, /^fps300-/);
        assert.ok(reaches(r, second, first), "the second stream waits for the first");
        assert.ok(!reaches(r, first, second));
    });

    it("requests a GPU only when a node reported one, and replaces the pipeline with its ISB", async () => {
        const withGpu = await run(gpuNode, { gpu1: 1 });
        const withoutGpu = await run({ ...gpuNode, hosts: [{ name: "gpu1", address: "203.0.113.10", gpu: "auto" }] }, { gpu1: 0 });
        const catOf = (r: ProgramRun) => r.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline")[0].inputs.spec.vertices
            .find((v: { name: string }) => v.name === "cat");
        assert.equal(catOf(withGpu).udf.container.resources.limits["nvidia.com/gpu"], "1");
        assert.equal(catOf(withoutGpu).udf.container.resources.limits["nvidia.com/gpu"], undefined);
        assert.equal(catOf(withoutGpu).runtimeClassName, "nvidia");
        const pipeline = withGpu.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline")[0];
        assert.match(pipeline.inputs.metadata.annotations["charon.io/isb-spec"], /^[0-9a-f]{10}$/);
        assert.deepEqual(pipeline.options.replaceOnChanges, ["metadata.annotations"]);
        assert.equal(pipeline.options.deleteBeforeReplace, true);
        const changedIsb = await run({ ...gpuNode, numaflow: { isb: { retention: "Limits" } } }, { gpu1: 1 });
        const changed = changedIsb.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline")[0];
        assert.notEqual(changed.inputs.metadata.annotations["charon.io/isb-spec"], pipeline.inputs.metadata.annotations["charon.io/isb-spec"]);
    });

    it("a workflow namespace other than default is created before the ISB, the pipeline and the baseline", async () => {
        for (const deploy of ["pipeline", "baseline"]) {
            const r = await run({ ...gpuNode, workflows: { aps: { namespace: "aps", deploy } } }, { gpu1: 1 });
            const ns = r.get("kubernetes:core/v1:Namespace", "numaflow-workload-namespace");
            assert.equal(ns.inputs.metadata.name, "aps");
            const isb = r.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService")[0];
            assert.equal(isb.inputs.metadata.namespace, "aps");
            assert.ok(reaches(r, isb, ns));
            const workloads = deploy === "pipeline"
                ? r.ofType("kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline") : r.ofType("kubernetes:apps/v1:Deployment").filter((d) => d.name.startsWith("aps-baseline"));
            assert.deepEqual(workloads.map((w) => w.inputs.metadata.name).sort(),
                deploy === "pipeline" ? ["ptychography"] : ["consumer", "mirror-server"]);
            for (const w of workloads) {
                assert.equal(w.inputs.metadata.namespace, "aps");
                assert.ok(reaches(r, w, ns), `${w.name} waits for the namespace`);
            }
        }
        const dev = await run({});
        assert.equal(dev.ofType("kubernetes:core/v1:Namespace").filter((n) => n.inputs.metadata.name === "default").length, 0, "default is never declared");
    });

    it("an SSH key in plain-text config stops the program (it must be set with --secret)", async () => {
        await assert.rejects(runProgram(gpuNode, { outputs: commandOutputs({ gpu1: 1 }) }),
            /charon:sshPrivateKey: is stored in plain text; store it encrypted with `npm run config -- set --secret charon:sshPrivateKey/);
    });

    it("a bad setting stops the program before any resource, naming the key", async () => {
        await assert.rejects(run({ monitoring: { grafanaNodePort: 80 } }),
            /charon:monitoring\.grafanaNodePort: 80 is out of range; allowed 30000–32767/);
    });
});
