import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vm from "node:vm";
import { ControlLoops } from "../../components/controllers";
import { controlLoopImage } from "../../components/versions";
import { parseLoopConfig } from "../../controllers/runtime/config";
import { toPromQL } from "../../controllers/runtime/queries";
import { validateResource } from "../helpers/kube-schema";
import { type ProgramRun, runComponents } from "../helpers/pulumi-mocks";
import { loopSettings } from "./loop-settings";
import { baselineWorkflow, pipelineWorkflow } from "./workflow-fixtures";

const REPO = path.resolve(__dirname, "..", "..");
const QUERY_URL = "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus";

const types = {
    sa: "kubernetes:core/v1:ServiceAccount",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    binding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    configMap: "kubernetes:core/v1:ConfigMap",
    deployment: "kubernetes:apps/v1:Deployment",
    podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
};

function loopObjects(run: ProgramRun, loop: string) {
    const part = `loops-${loop}`;
    return {
        sa: run.get(types.sa, `${part}-service-account`).inputs,
        role: run.get(types.role, `${part}-role`).inputs,
        binding: run.get(types.binding, `${part}-role-binding`).inputs,
        configMap: run.get(types.configMap, `${part}-code`).inputs,
        deployment: run.get(types.deployment, `${part}-deployment`),
    };
}

describe("controllers: ControlLoops under the mock runtime", () => {
    it("pd-replicas on the baseline: exactly get+patch on that Deployment's scale subresource, the bundle and config in a ConfigMap, the pinned Node image", async () => {
        const run = await runComponents(() => {
            const baseline = baselineWorkflow();
            return new ControlLoops("loops", {
                settings: loopSettings({ pdReplicas: { enabled: true } }), namespace: "default",
                metricsQueryUrl: QUERY_URL, metricsTenant: "charon", workflow: baseline, scrapeInterval: "2s", projectDir: REPO,
            });
        });
        const component = run.get("charon:controllers:ControlLoops", "loops");
        const o = loopObjects(run, "pd-replicas");
        assert.deepEqual(o.role.rules, [{ apiGroups: ["apps"], resources: ["deployments/scale"], resourceNames: ["consumer"], verbs: ["get", "patch"] }]);
        assert.equal(o.role.metadata.namespace, "default");
        assert.deepEqual(o.binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "charon-loop-pd-replicas" });
        assert.deepEqual(o.binding.subjects, [{ kind: "ServiceAccount", name: "charon-loop-pd-replicas", namespace: "default" }]);
        assert.equal(o.sa.metadata.name, "charon-loop-pd-replicas");

        const config = parseLoopConfig(o.configMap.data["config.json"]);
        assert.deepEqual(config.target, { kind: "deployment", namespace: "default", name: "consumer" });
        assert.deepEqual(config.metrics, { url: QUERY_URL, tenant: "charon" });
        assert.equal(config.periodMs, 2000);
        assert.deepEqual(config.params, { targetFps: 800, kp: 0.5, kd: 1, framesPerReplica: 64, useProcessingRate: true });
        assert.deepEqual(config.limits, { minReplicas: 1, maxReplicas: 8 });
        assert.equal(toPromQL(config.queries.queued), 'sum (last_over_time(pvapy_frame_queued{namespace="default",pod=~"consumer-[a-z0-9]+-[a-z0-9]+"}[5s]))');
        const code: string = o.configMap.data["loop.js"];
        assert.ok(code.length > 10_000 && code.length < 200_000, `bundle of ${code.length} bytes`);
        assert.doesNotThrow(() => new vm.Script(code, { filename: "loop.js" }), "the bundle is one valid script");
        assert.match(code, /framesPerReplica/, "the PD decide function is in the bundle");

        const d = o.deployment.inputs;
        const pod = d.spec.template.spec;
        const c = pod.containers[0];
        assert.equal(c.image, controlLoopImage);
        assert.match(controlLoopImage, /^docker\.io\/library\/node:\d+\.\d+\.\d+-alpine\d+\.\d+$/);
        assert.deepEqual(c.command, ["node", "/opt/charon-loop/loop.js"]);
        assert.deepEqual(c.resources, { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "160Mi" } });
        assert.deepEqual(c.volumeMounts, [{ name: "code", mountPath: "/opt/charon-loop", readOnly: true }]);
        assert.deepEqual(pod.volumes, [{ name: "code", configMap: { name: "charon-loop-pd-replicas" } }]);
        assert.equal(pod.serviceAccountName, "charon-loop-pd-replicas");
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(d.spec.replicas, 1);
        assert.deepEqual(d.spec.strategy, { type: "Recreate" });
        assert.match(d.spec.template.metadata.annotations["charon.io/loop-checksum"], /^[0-9a-f]{64}$/);
        assert.equal(o.deployment.parent, component.urn);
        const consumer = run.get(types.deployment, "aps-baseline-consumer");
        assert.ok(o.deployment.dependencies.includes(consumer.urn), "the loop starts after the workflow it controls");

        const monitor = run.get(types.podMonitor, "loops-pod-monitor").inputs;
        assert.deepEqual(monitor.spec, {
            namespaceSelector: { matchNames: ["default"] },
            selector: { matchLabels: { "app.kubernetes.io/name": "charon-loop", "app.kubernetes.io/component": "control-loop" } },
            podMetricsEndpoints: [{ port: "metrics", path: "/metrics", scheme: "http", interval: "2s", scrapeTimeout: "2s" }],
        });
        assert.equal(monitor.metadata.namespace, "monitoring");
        assert.ok(c.ports.some((p: any) => p.name === "metrics" && p.containerPort === 9464));

        const mine = run.resources.filter((r) => r.parent === component.urn);
        assert.deepEqual(mine.map((r) => `${r.type}::${r.name}`).sort(), [
            `${types.configMap}::loops-pd-replicas-code`, `${types.sa}::loops-pd-replicas-service-account`, `${types.deployment}::loops-pd-replicas-deployment`,
            `${types.podMonitor}::loops-pod-monitor`, `${types.binding}::loops-pd-replicas-role-binding`, `${types.role}::loops-pd-replicas-role`,
        ].sort());
        for (const r of mine) {
            await validateResource(r);
        }
    });

    it("inplace-resize on the pipeline and a researcher's controller: list pods and patch pods/resize only, each loop its own account", async () => {
        const settings = loopSettings({
            inplaceResize: { enabled: true, dryRun: true, maxCpu: "3" },
            custom: [{
                name: "queue-proportional", file: "controllers/examples/queue-proportional.ts", target: { kind: "pods", selector: { app: "consumer" }, container: "consumer", namespace: "experiments" },
                maxCpu: "2", queries: { queued: { metric: "pvapy_frame_queued", window: "5s" } }, params: { framesPerReplica: 100 },
            }],
        });
        const run = await runComponents(() => {
            const pipeline = pipelineWorkflow();
            return new ControlLoops("loops", {
                settings, namespace: "default", metricsQueryUrl: QUERY_URL, metricsTenant: "charon", workflow: pipeline, projectDir: REPO,
            });
        });
        const resize = loopObjects(run, "inplace-resize");
        const podRules = [
            { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
            { apiGroups: [""], resources: ["pods/resize"], verbs: ["patch"] },
        ];
        assert.deepEqual(resize.role.rules, podRules);
        const config = parseLoopConfig(resize.configMap.data["config.json"]);
        assert.deepEqual(config.target, {
            kind: "pods", namespace: "default", container: "udf",
            selector: { "numaflow.numaproj.io/pipeline-name": "ptychography", "numaflow.numaproj.io/vertex-name": "cat" },
        });
        assert.equal(config.dryRun, true);
        assert.deepEqual(config.limits, { minCpuMillis: 500, maxCpuMillis: 3000, minMemoryBytes: 2 * 2 ** 30, maxMemoryBytes: 8 * 2 ** 30 });
        assert.equal(toPromQL(config.queries.throttled),
            '(sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{namespace="default",container="udf",pod=~"ptychography-cat-[0-9]+-[a-z0-9]+"}[1m]))) / ' +
            '(sum by (pod) (rate(container_cpu_cfs_periods_total{namespace="default",container="udf",pod=~"ptychography-cat-[0-9]+-[a-z0-9]+"}[1m])))');

        const custom = loopObjects(run, "queue-proportional");
        assert.deepEqual(custom.role.rules, podRules);
        assert.equal(custom.role.metadata.namespace, "experiments", "the Role lives where the target is");
        assert.deepEqual(custom.binding.subjects, [{ kind: "ServiceAccount", name: "charon-loop-queue-proportional", namespace: "default" }]);
        const customConfig = parseLoopConfig(custom.configMap.data["config.json"]);
        assert.equal(customConfig.kind, "custom");
        assert.deepEqual(customConfig.params, { framesPerReplica: 100 });
        assert.deepEqual(customConfig.limits, { maxCpuMillis: 2000 });
        assert.match(custom.configMap.data["loop.js"], /lastWanted/, "the researcher's decide is bundled");
        assert.notEqual(resize.deployment.inputs.spec.template.spec.serviceAccountName, custom.deployment.inputs.spec.template.spec.serviceAccountName);
        assert.equal(run.ofType(types.podMonitor).length, 1, "one PodMonitor scrapes every loop");
    });

    it("refuses a loop whose workflow is not deployed, and a custom file without decide, naming the setting", async () => {
        await assert.rejects(runComponents(() => new ControlLoops("loops", {
            settings: loopSettings({ inplaceResize: { enabled: true } }), namespace: "default", metricsQueryUrl: QUERY_URL, metricsTenant: "charon",
            workflow: baselineWorkflow(),
        })), /charon:controllers\.inplaceResize\.enabled is true but the deployed workflow is baseline/);
        await assert.rejects(runComponents(() => new ControlLoops("loops", {
            settings: loopSettings({ custom: [{ name: "x", file: "controllers/runtime/types.ts", target: { kind: "deployment", name: "consumer" }, maxReplicas: 2 }] }),
            namespace: "default", metricsQueryUrl: QUERY_URL, metricsTenant: "charon", projectDir: REPO,
        })), /charon:controllers\.custom\[0\]\.file: .*types\.ts does not export a function named decide/);
        await assert.rejects(runComponents(() => new ControlLoops("loops", {
            settings: loopSettings({ custom: [{ name: "x", file: "no/such/file.ts", target: { kind: "deployment", name: "consumer" }, maxReplicas: 2 }] }),
            namespace: "default", metricsQueryUrl: QUERY_URL, metricsTenant: "charon", projectDir: REPO,
        })), /charon:controllers\.custom\[0\]\.file: .*no\/such\/file\.ts does not exist/);
    });

    it("with every loop off it registers nothing", async () => {
        const run = await runComponents(() => new ControlLoops("loops", {
            settings: loopSettings({}), namespace: "default", metricsQueryUrl: QUERY_URL, metricsTenant: "charon",
        }));
        assert.deepEqual(run.resources.map((r) => r.type), ["charon:controllers:ControlLoops"]);
    });
});
