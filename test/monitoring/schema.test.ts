import { strict as assert } from "node:assert";
import { MONITORS, MonitoringStack, monitorManifest } from "../../components/monitoring";
import { RecordedResource, runComponents } from "../helpers/pulumi-mocks";

type Model = { validate(): void };
type ModelClass = new (data: any) => Model;

/** kubernetes-models classes by Pulumi type token (the packages are ESM-only: loaded with import()). */
async function models(): Promise<Record<string, ModelClass>> {
    const core = await import("kubernetes-models/v1");
    const monitoring = await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
    return {
        "kubernetes:core/v1:Namespace": core.Namespace as unknown as ModelClass,
        "kubernetes:core/v1:Secret": core.Secret as unknown as ModelClass,
        "kubernetes:core/v1:ConfigMap": core.ConfigMap as unknown as ModelClass,
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": monitoring.ServiceMonitor as unknown as ModelClass,
        "kubernetes:monitoring.coreos.com/v1:PodMonitor": monitoring.PodMonitor as unknown as ModelClass,
    };
}

/** The object as the API server receives it (inputs minus Pulumi-only fields). */
function objectOf(r: RecordedResource): Record<string, any> {
    const { apiVersion, kind, metadata, ...rest } = r.inputs;
    return { apiVersion, kind, metadata, ...rest };
}

const nodes = [{ name: "head", role: "server" as const, address: "10.0.0.2", gpuCount: 0 }];

describe("Kubernetes objects declared by the monitoring stack validate against the API schema", () => {
    for (const footprint of ["small", "large"] as const) {
        it(`every directly declared object (${footprint} footprint)`, async () => {
            const byType = await models();
            const run = await runComponents(() => new MonitoringStack("monitoring", { footprint, nodes }));
            const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
            assert.ok(objects.length >= 3 + MONITORS.length);
            for (const r of objects) {
                const Model = byType[r.type];
                assert.ok(Model, `no schema model for ${r.type} (${r.name})`);
                const obj = objectOf(r);
                assert.equal(`kubernetes:${obj.apiVersion.includes("/") ? obj.apiVersion : `core/${obj.apiVersion}`}:${obj.kind}`, r.type);
                assert.doesNotThrow(() => new Model(obj).validate(), `${r.name} (${r.type})`);
            }
        });
    }

    it("the validator rejects a malformed monitor (so the check above means something)", async () => {
        const byType = await models();
        const bad = monitorManifest(MONITORS.find((m) => m.name === "workload-metrics")!, { intervals: { general: "5s", rapid: "2s" } });
        bad.spec.podMetricsEndpoints[0].portNumber = "9100";
        assert.throws(() => new byType["kubernetes:monitoring.coreos.com/v1:PodMonitor"](bad).validate(), /portNumber must be integer/);
        const badSecret = { apiVersion: "v1", kind: "Secret", metadata: { name: "x" }, stringData: { a: 1 } };
        assert.throws(() => new byType["kubernetes:core/v1:Secret"](badSecret).validate(), /must be string/);
    });
});
