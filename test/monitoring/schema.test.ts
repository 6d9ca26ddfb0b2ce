import { strict as assert } from "node:assert";
import { MONITORS, MonitoringStack, monitorManifest } from "../../components/monitoring";
import { validateObject, validateResource } from "../helpers/kube-schema";
import { runComponents } from "../helpers/pulumi-mocks";
import { layerSettings } from "../helpers/settings";
import { MonitoringSettingsSchema } from "../../components/monitoring/settings";
import { monitoringArgs } from "./fixtures";

const nodes = [{ name: "head", role: "server" as const, address: "10.0.0.2", gpuCount: 0 }];

describe("Kubernetes objects declared by the monitoring stack validate against the API schema", () => {
    for (const footprint of ["small", "large"] as const) {
        it(`every directly declared object (${footprint} footprint)`, async () => {
            const run = await runComponents(() => new MonitoringStack("monitoring", monitoringArgs({ ...layerSettings(MonitoringSettingsSchema), footprint, nodes })));
            const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
            assert.ok(objects.length >= 3 + MONITORS.length);
            for (const r of objects) {
                // Fails on a type without a schema model and on inputs whose apiVersion/kind differ from the type.
                await validateResource(r);
            }
        });
    }

    it("the validator rejects a malformed monitor (so the check above means something)", async () => {
        const bad = monitorManifest(MONITORS.find((m) => m.name === "workload-metrics")!, { namespace: "monitoring", workloadNamespaces: ["default"], intervals: { general: "5s", rapid: "2s" } });
        bad.spec.podMetricsEndpoints[0].portNumber = "9100";
        assert.equal(bad.kind, "PodMonitor");
        await assert.rejects(validateObject(bad), /portNumber must be integer/);
        const badSecret = { apiVersion: "v1", kind: "Secret", metadata: { name: "x" }, stringData: { a: 1 } };
        await assert.rejects(validateObject(badSecret), /must be string/);
    });
});
