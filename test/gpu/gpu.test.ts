import { strict as assert } from "node:assert";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { validateResource } from "../helpers/kube-schema";
import { runComponents, RecordedResource } from "../helpers/pulumi-mocks";
import * as yaml from "js-yaml";
import { GpuSupport, dcgmExporterValues, devicePluginValues, gpuStackWanted } from "../../components/gpu";
import type { HostSettings } from "../../components/cluster/settings";

type GpuMode = HostSettings["gpu"];

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Stands in for the monitoring layer's CRD release. */
class FakeCrds extends pulumi.CustomResource {
    constructor() {
        super("test:monitoring:Crds", "monitoring-crds", {});
    }
}

const hosts = (...gpu: GpuMode[]) => gpu.map((g) => ({ gpu: g }));

/** What index.ts does: GPU components only when gpuStackWanted says so. */
async function compose(stack: "auto" | "on" | "off", gpus: GpuMode[]) {
    return runComponents(() => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
        const crds = new FakeCrds();
        return gpuStackWanted(stack, hosts(...gpus))
            ? new GpuSupport("gpu", { monitoringCrds: crds, scrapeInterval: "2s", chartSource: "upstream" }, { provider })
            : undefined;
    });
}

const dependsOn = (r: RecordedResource, other: RecordedResource) => r.dependencies.includes(other.urn);

describe("gpuStackWanted", () => {
    it("follows on/off and, for auto, any host that has or may have a GPU", () => {
        assert.equal(gpuStackWanted("on", hosts(false)), true);
        assert.equal(gpuStackWanted("off", hosts(true)), false);
        assert.equal(gpuStackWanted("auto", hosts(false, false)), false);
        assert.equal(gpuStackWanted("auto", hosts(false, true)), true);
        assert.equal(gpuStackWanted("auto", hosts(false, "auto")), true);
        assert.equal(gpuStackWanted("auto", []), false);
    });

    it("auto is exactly 'some host is not gpu: false' (property)", () => {
        fc.assert(fc.property(fc.array(fc.constantFrom<GpuMode>(true, false, "auto"), { maxLength: 6 }), (modes) => {
            assert.equal(gpuStackWanted("auto", hosts(...modes)), modes.some((m) => m !== false));
        }));
    });
});

describe("GPU Helm values", () => {
    it("runs the device plugin with the nvidia runtime on labelled GPU nodes only", () => {
        const v = devicePluginValues();
        assert.equal(v.runtimeClassName, "nvidia");
        assert.deepEqual(v.nodeSelector, { "nvidia.com/gpu.present": "true" });
        assert.deepEqual(v.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
            [{ matchExpressions: [{ key: "nvidia.com/gpu.present", operator: "In", values: ["true"] }] }]);
    });

    it("runs the DCGM exporter with the nvidia runtime, its own ServiceMonitor off, sampling at the scrape interval", () => {
        const v = dcgmExporterValues("2s");
        assert.equal(v.runtimeClassName, "nvidia");
        assert.deepEqual(v.serviceMonitor, { enabled: false });
        assert.deepEqual(v.nodeSelector, { "nvidia.com/gpu.present": "true" });
        assert.deepEqual(v.arguments, ["--collectors=/etc/dcgm-exporter/default-counters.csv", "--collect-interval=2000"]);
    });

    it("converts any settings duration to the exporter's milliseconds (1m30s, 500ms)", () => {
        assert.deepEqual(dcgmExporterValues("1m30s").arguments[1], "--collect-interval=90000");
        assert.deepEqual(dcgmExporterValues("500ms").arguments[1], "--collect-interval=500");
    });

    it("passes arguments that stay strings when the chart splices them into the DaemonSet unquoted", () => {
        // dcgm-exporter's template renders `- {{ . }}` for each entry: a bare "2000" would become an integer and
        // the API server would refuse the DaemonSet (container args are strings).
        for (const arg of dcgmExporterValues("2s").arguments as string[]) {
            assert.equal(yaml.load(`- ${arg}`)?.toString(), [arg].toString());
            assert.equal(typeof (yaml.load(`- ${arg}`) as unknown[])[0], "string", arg);
        }
    });
});

describe("GpuSupport", () => {
    it("exists exactly when gpuStackWanted says so", async () => {
        for (const [stack, gpus, wanted] of [
            ["off", [true], false], ["on", [false], true], ["auto", [false], false], ["auto", [false, "auto"], true], ["auto", [true], true],
        ] as const) {
            const run = await compose(stack, [...gpus]);
            assert.equal(run.ofType("charon:gpu:GpuSupport").length, wanted ? 1 : 0, `${stack} ${gpus}`);
            assert.equal(run.ofType(RELEASE).length, wanted ? 2 : 0, `${stack} ${gpus}`);
        }
    });

    it("pins both charts, installs them atomically with explicit names and the values that matter", async () => {
        const run = await compose("on", [true]);
        const plugin = run.get(RELEASE, "gpu-device-plugin");
        assert.equal(plugin.inputs.chart, "nvidia-device-plugin");
        assert.equal(plugin.inputs.version, "0.18.0");
        assert.deepEqual(plugin.inputs.repositoryOpts, { repo: "https://nvidia.github.io/k8s-device-plugin" });
        assert.equal(plugin.inputs.name, "nvidia-device-plugin");
        assert.equal(plugin.inputs.values.runtimeClassName, "nvidia");

        const dcgm = run.get(RELEASE, "gpu-dcgm-exporter");
        assert.equal(dcgm.inputs.chart, "dcgm-exporter");
        assert.equal(dcgm.inputs.version, "4.8.3");
        assert.deepEqual(dcgm.inputs.repositoryOpts, { repo: "https://nvidia.github.io/dcgm-exporter/helm-charts" });
        assert.equal(dcgm.inputs.name, "dcgm-exporter");
        assert.equal(dcgm.inputs.values.runtimeClassName, "nvidia");
        assert.equal(dcgm.inputs.values.serviceMonitor.enabled, false);

        for (const r of [plugin, dcgm]) {
            assert.equal(r.inputs.namespace, "nvidia-gpu");
            assert.equal(r.inputs.atomic, true);
            assert.equal(r.inputs.cleanupOnFail, true);
            assert.equal(r.inputs.timeout, 600);
            assert.match(r.provider, /::k8s::/);
        }
    });

    it("orders the exporter after the monitoring CRDs and leaves the device plugin unchained", async () => {
        const run = await compose("on", [true]);
        const crds = run.get("test:monitoring:Crds", "monitoring-crds");
        const plugin = run.get(RELEASE, "gpu-device-plugin");
        const dcgm = run.get(RELEASE, "gpu-dcgm-exporter");
        assert.ok(dependsOn(dcgm, crds));
        assert.ok(!dependsOn(plugin, crds));
        assert.ok(!dependsOn(plugin, dcgm) && !dependsOn(dcgm, plugin));
    });

    it("uses k3s's nvidia RuntimeClass without declaring one, and its Namespace validates", async () => {
        const run = await compose("on", [true]);
        assert.equal(run.ofType("kubernetes:node.k8s.io/v1:RuntimeClass").length, 0);
        assert.equal((run.value as GpuSupport).runtimeClassName, "nvidia");
        const namespaces = run.ofType("kubernetes:core/v1:Namespace");
        assert.equal(namespaces.length, 1);
        await validateResource(namespaces[0]);
        const direct = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== RELEASE);
        assert.deepEqual(direct.map((r) => r.type), ["kubernetes:core/v1:Namespace"]);
    });
});
