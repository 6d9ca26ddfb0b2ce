import { strict as assert } from "node:assert";
import { resolveSettings } from "../../stacks";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { validateResource } from "../helpers/kube-schema";
import { runComponents, unwrap, RecordedResource } from "../helpers/pulumi-mocks";
import { NumaflowPlatform, NumaflowPlatformArgs } from "../../components/numaflow";
import { isbProblems as validateInterStepBufferService } from "../helpers/numaflow";
import { clusterNodes, defaultIsb } from "./fixtures";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ISB = "kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService";

/** Stands in for the monitoring layer's CRD release (a custom resource, so a dependency on it shows by URN). */
class FakeCrds extends pulumi.CustomResource {
    constructor() {
        super("test:monitoring:Crds", "monitoring-crds", {});
    }
}

function deploy(overrides: Partial<NumaflowPlatformArgs> = {}) {
    return runComponents(() => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
        const crds = new FakeCrds();
        return new NumaflowPlatform("numaflow", {
            isb: defaultIsb,
            nodes: pulumi.output(clusterNodes),
            metricsQueryUrl: pulumi.output("http://mimir-gateway.monitoring.svc:80/prometheus"),
            metricsTenant: pulumi.output("charon"),
            monitoringCrds: crds,
            isbNamespace: "default",
            chartSource: "upstream",
            ...overrides,
        }, { provider });
    });
}

const dependsOn = (r: RecordedResource, other: RecordedResource) => r.dependencies.includes(other.urn);

describe("NumaflowPlatform", () => {
    it("installs the pinned Numaflow chart into numaflow-system, atomically, with an explicit name", async () => {
        const run = await deploy();
        const release = run.get(RELEASE, "numaflow-controller");
        assert.equal(release.inputs.chart, "numaflow");
        assert.equal(release.inputs.version, "0.4.6");
        assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://numaproj.io/helm-charts" });
        assert.equal(release.inputs.name, "numaflow");
        assert.equal(release.inputs.namespace, "numaflow-system");
        assert.equal(release.inputs.atomic, true);
        assert.equal(release.inputs.cleanupOnFail, true);
        assert.equal(release.inputs.timeout, 600);
        assert.equal(release.inputs.values.numaflow.image.pullPolicy, "IfNotPresent");
        assert.match(release.provider, /::k8s::/);
    });

    it("does not chain the controller behind the monitoring CRDs (independent releases install in parallel)", async () => {
        const run = await deploy();
        const crds = run.get("test:monitoring:Crds", "monitoring-crds");
        for (const r of run.resources.filter((x) => x.custom)) {
            assert.ok(!dependsOn(r, crds), `${r.name} should not wait for the monitoring CRDs`);
        }
    });

    it("declares the ISB `default` in namespace default: valid, pinned JetStream, after the controller (its CRDs)", async () => {
        const run = await deploy();
        const isb = run.get(ISB, "numaflow-isb");
        assert.equal(isb.inputs.metadata.name, "default");
        assert.equal(isb.inputs.metadata.namespace, "default");
        assert.equal(isb.inputs.spec.jetstream.version, "2.10.29");
        assert.equal(yaml.dump(yaml.load(isb.inputs.spec.jetstream.bufferConfig)).includes("retention: 2"), true);
        assert.deepEqual(await validateInterStepBufferService(isb.inputs), []);
        assert.ok(dependsOn(isb, run.get(RELEASE, "numaflow-controller")));
        assert.equal(await unwrap(run.value.isbName), "default");
    });

    it("replaces (delete first) the ISB when bufferConfig changes", async () => {
        const run = await deploy();
        const opts = run.get(ISB, "numaflow-isb").options;
        assert.ok(opts.replaceOnChanges.includes("spec.jetstream.bufferConfig"));
        assert.equal(opts.deleteBeforeReplace, true);
    });

    it("uses k3s's local-path class and creates no volumes in local-path mode", async () => {
        const run = await deploy();
        assert.equal(run.get(ISB, "numaflow-isb").inputs.spec.jetstream.persistence.storageClassName, "local-path");
        assert.equal(run.ofType("kubernetes:core/v1:PersistentVolume").length, 0);
        assert.equal(run.ofType("kubernetes:storage.k8s.io/v1:StorageClass").length, 0);
    });

    it("in local-volumes mode pins one volume per replica to real node names, and the ISB waits for them", async () => {
        const run = await deploy({ isb: { ...defaultIsb, storageMode: "local-volumes", replicas: 3 } });
        const pvs = run.ofType("kubernetes:core/v1:PersistentVolume");
        assert.deepEqual(pvs.map((p) => p.name), ["numaflow-isb-pv-0", "numaflow-isb-pv-1", "numaflow-isb-pv-2"]);
        const nodes = pvs.map((p) => p.inputs.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]);
        assert.deepEqual(nodes, ["charon-agent-1", "charon-agent-2", "charon-gpu-1"]);
        const sc = run.get("kubernetes:storage.k8s.io/v1:StorageClass", "numaflow-isb-storage-class");
        assert.equal(sc.inputs.metadata.name, "numaflow-isb-local");
        const isb = run.get(ISB, "numaflow-isb");
        assert.equal(isb.inputs.spec.jetstream.persistence.storageClassName, "numaflow-isb-local");
        for (const pv of pvs) {
            assert.ok(dependsOn(isb, pv), `ISB waits for ${pv.name}`);
            assert.ok(dependsOn(pv, sc));
            assert.equal(pv.inputs.spec.storageClassName, "numaflow-isb-local");
        }
    });

    it("gives a replaced ISB fresh volumes: a bufferConfig change renames every volume, a CPU change none", async () => {
        const names = async (isb: typeof defaultIsb) => (await deploy({ isb }))
            .ofType("kubernetes:core/v1:PersistentVolume").map((p) => p.inputs.metadata.name as string);
        const base = { ...defaultIsb, storageMode: "local-volumes" as const };
        const before = await names(base);
        const afterBuffer = await names({ ...base, maxMsgs: 1000 });
        const afterCpu = await names({ ...base, cpu: "2" });
        assert.equal(before.length, 1);
        assert.notEqual(afterBuffer[0], before[0]);
        assert.deepEqual(afterCpu, before);
    });

    it("points the UI's metrics tab at a tenant gateway in front of Mimir and restarts the server on change", async () => {
        const run = await deploy();
        const patch = run.get("kubernetes:core/v1:ConfigMapPatch", "numaflow-metrics-proxy-config");
        assert.equal(patch.inputs.metadata.name, "numaflow-server-metrics-proxy-config");
        assert.equal(patch.inputs.metadata.namespace, "numaflow-system");
        assert.equal(patch.inputs.metadata.annotations["pulumi.com/patchForce"], "true");
        assert.equal(patch.inputs.metadata.annotations["charon.io/numaflow-chart"], "0.4.6");
        const config = yaml.load(patch.inputs.data["config.yaml"]) as any;
        assert.equal(config.url, "http://numaflow-metrics-gateway.numaflow-system.svc:8080");
        assert.ok(dependsOn(patch, run.get(RELEASE, "numaflow-controller")));

        const restart = run.get("kubernetes:apps/v1:DeploymentPatch", "numaflow-server-restart");
        assert.equal(restart.inputs.metadata.name, "numaflow-server");
        assert.match(restart.inputs.spec.template.metadata.annotations["charon.io/metrics-proxy-config"], /^[0-9a-f]{10}$/);
        assert.ok(dependsOn(restart, patch));

        const template = run.get("kubernetes:core/v1:ConfigMap", "numaflow-metrics-gateway").inputs.data["default.conf.template"];
        assert.match(template, /set \$upstream "http:\/\/mimir-gateway\.monitoring\.svc\.cluster\.local\/prometheus";/);
        assert.match(template, /proxy_set_header X-Scope-OrgID "charon";/);
        const gateway = run.get("kubernetes:apps/v1:Deployment", "numaflow-metrics-gateway");
        assert.equal(gateway.inputs.spec.template.spec.containers[0].image, "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine");
        assert.equal(await unwrap(run.value.metricsProxyUrl), "http://numaflow-metrics-gateway.numaflow-system.svc:8080");
    });

    it("exports the UI URL and the command that makes it reachable", async () => {
        const run = await deploy();
        assert.equal(await unwrap(run.value.uiUrl), "https://localhost:8443/");
        assert.equal(await unwrap(run.value.uiAccessCommand), "kubectl -n numaflow-system port-forward svc/numaflow-server 8443:8443");
    });

    it("2 ISB replicas fail the stack's validation, before anything is created", () => {
        assert.throws(() => resolveSettings({ numaflow: { isb: { replicas: 2 } } }), /charon:numaflow\.isb\.replicas: 2 is not valid; expected one of 1, 3/);
    });

    it("declares only Kubernetes objects that validate against the API schema", async () => {
        const run = await deploy({ isb: { ...defaultIsb, storageMode: "local-volumes", replicas: 3 } });
        const seen = new Set<string>();
        for (const r of run.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:") && x.type !== "pulumi:providers:kubernetes")) {
            seen.add(r.type);
            if (r.type === RELEASE) {
                continue;
            }
            if (r.type === ISB) {
                assert.deepEqual(await validateInterStepBufferService(r.inputs), [], r.name);
                continue;
            }
            if (r.type === "kubernetes:apps/v1:DeploymentPatch") {
                // a partial Deployment: its pod template metadata is what it sets
                const { validate } = await import("@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1ObjectMeta");
                assert.ok(validate(r.inputs.metadata) && validate(r.inputs.spec.template.metadata), r.name);
                continue;
            }
            // a ConfigMapPatch is a complete ConfigMap (metadata + data); a type without a schema model fails
            await validateResource(r);
        }
        assert.deepEqual([...seen].sort(), [
            "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:DeploymentPatch", "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:ConfigMapPatch", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolume",
            "kubernetes:core/v1:Service", RELEASE, "kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService",
            "kubernetes:storage.k8s.io/v1:StorageClass",
        ].sort());
    });
});
