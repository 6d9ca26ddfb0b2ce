/**
 * The policy pack over what ControlLoops registers (with the workflows it controls): once the lead wires the
 * component into index.ts, no mandatory rule may stop `pulumi up` — pinned image, no credentials in env, no
 * NodePorts, resources on the pods the rules look at.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { ControlLoops } from "../../components/controllers";
import { policies } from "../../policies/rules";
import { type FakeResource, runPolicies } from "../policies/harness";
import { runComponents } from "../helpers/pulumi-mocks";
import { loopSettings } from "./loop-settings";
import { baselineWorkflow, pipelineWorkflow } from "./workflow-fixtures";

const REPO = path.resolve(__dirname, "..", "..");

describe("controllers: the policy pack over the control loops", () => {
    for (const workflow of ["baseline", "pipeline"] as const) {
        it(`no violation with the ${workflow} and its loop on (dry-run and live)`, async () => {
            const run = await runComponents(() => {
                const w = workflow === "baseline" ? baselineWorkflow() : pipelineWorkflow();
                return new ControlLoops("loops", {
                    settings: loopSettings(workflow === "baseline" ? { pdReplicas: { enabled: true, dryRun: true } } : { inplaceResize: { enabled: true } }),
                    namespace: "default", metricsQueryUrl: "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus", metricsTenant: "charon",
                    workflow: w, projectDir: REPO,
                });
            });
            const loops = run.get("charon:controllers:ControlLoops", "loops");
            const resources: FakeResource[] = run.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
            assert.ok(run.resources.filter((r) => r.parent === loops.urn).length >= 6);
            const violations = await runPolicies(policies, resources);
            assert.deepEqual(violations.filter((v) => v.urn !== undefined && run.byUrn(v.urn)?.parent === loops.urn), []);
            // Stack-wide rules see only this partial stack (no Numaflow layer, so no ISB): none may be about a loop.
            assert.deepEqual(violations.filter((v) => v.urn === undefined && /loop/i.test(v.message)), []);
        });
    }
});
