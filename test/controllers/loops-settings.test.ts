import * as assert from "node:assert/strict";
import { checkValue } from "../../model/check";
import { type ControlLoopsContext, controlLoopsSettingsProblems } from "../../components/controllers";
import { ControllersRoot, loopSettings } from "./loop-settings";

const baseline: ControlLoopsContext = { aps: { enabled: true, deploy: "baseline" } };
const pipeline: ControlLoopsContext = { aps: { enabled: true, deploy: "pipeline" } };
const messages = (value: Record<string, unknown>, context: ControlLoopsContext = pipeline) => controlLoopsSettingsProblems(loopSettings(value), context).map((p) => p.message);

describe("controllers: loop settings", () => {
    it("defaults: every loop off; pd-replicas with the original's parameters; inplace-resize within 500m–4 CPU", () => {
        const s = loopSettings({});
        assert.deepEqual(s.pdReplicas, {
            enabled: false, dryRun: false, period: "2s", minInterval: "10s", targetFps: 800, kp: 0.5, kd: 1, framesPerReplica: 64,
            useProcessingRate: true, window: "5s", minReplicas: 1, maxReplicas: 8,
        });
        assert.equal(s.inplaceResize.enabled, false);
        assert.equal(s.inplaceResize.minCpu, "500m");
        assert.equal(s.inplaceResize.maxCpu, "4");
        assert.equal(s.inplaceResize.container, "udf");
        assert.deepEqual(s.custom, []);
        assert.deepEqual(controlLoopsSettingsProblems(s, { aps: { enabled: false, deploy: "pipeline" } }), []);
    });

    it("a custom controller's query gets its defaults (last over 1m, summed, no labels kept)", () => {
        const s = loopSettings({ custom: [{ name: "mine", file: "c.ts", target: { kind: "deployment", name: "consumer" }, maxReplicas: 4, queries: { q: { metric: "pvapy_frame_queued" } } }] });
        assert.deepEqual(s.custom[0].queries.q, { metric: "pvapy_frame_queued", fn: "last", window: "1m", aggregate: "sum", by: [] });
        assert.equal(s.custom[0].enabled, true);
        assert.deepEqual(s.custom[0].params, {});
    });

    it("schema errors name the full key and what is allowed", () => {
        const { problems } = checkValue(ControllersRoot, { controllers: {
            pdReplicas: { kp: "high", framesPerReplica: 0, surprise: 1 },
            inplaceResize: { maxCpu: "lots", throttleHigh: 1.5 },
            custom: [{ name: "Bad_Name", file: "x.ts", target: { kind: "daemonset" } }],
        } }, "charon:");
        const text = problems.map((p) => p.message);
        for (const expected of [
            /^charon:controllers\.pdReplicas\.kp: "high" is not valid; expected a number$/,
            /^charon:controllers\.pdReplicas\.framesPerReplica: 0 is out of range; allowed 1–∞$/,
            /^charon:controllers\.pdReplicas\.surprise: unknown setting/,
            /^charon:controllers\.inplaceResize\.maxCpu: "lots" is not valid; expected a CPU quantity such as 500m or 2$/,
            /^charon:controllers\.inplaceResize\.throttleHigh: 1\.5 is out of range; allowed -∞–1$/,
            /^charon:controllers\.custom\[0\]\.name: "Bad_Name" is not valid; expected a DNS label/,
            /^charon:controllers\.custom\[0\]\.target\.kind: "daemonset" is not valid; expected one of "deployment", "pods"$/,
        ]) {
            assert.ok(text.some((t) => expected.test(t)), `${expected} in:\n${text.join("\n")}`);
        }
    });

    it("a loop needs its workflow: pd-replicas the baseline, inplace-resize the pipeline", () => {
        assert.deepEqual(messages({ pdReplicas: { enabled: true } }, pipeline), [
            "charon:controllers.pdReplicas.enabled: true needs the baseline consumer Deployment to scale; set workflows.aps.enabled: true and workflows.aps.deploy: baseline, or disable pdReplicas",
        ]);
        assert.deepEqual(messages({ inplaceResize: { enabled: true } }, baseline), [
            "charon:controllers.inplaceResize.enabled: true needs the Numaflow pipeline's inference pods to resize; set workflows.aps.enabled: true and workflows.aps.deploy: pipeline, or disable inplaceResize",
        ]);
        assert.deepEqual(messages({ inplaceResize: { enabled: true } }, { aps: { enabled: false, deploy: "pipeline" } }).length, 1);
        assert.deepEqual(messages({ pdReplicas: { enabled: true } }, baseline), []);
        assert.deepEqual(messages({ inplaceResize: { enabled: true } }, pipeline), []);
    });

    it("bounds and thresholds in order; loops not faster than 1s", () => {
        assert.deepEqual(messages({
            pdReplicas: { minReplicas: 5, maxReplicas: 2, period: "500ms" },
            inplaceResize: { minCpu: "2", maxCpu: "1500m", minMemory: "4Gi", maxMemory: "1Gi", throttleLow: 0.2, throttleHigh: 0.1, memoryLow: 0.9, memoryHigh: 0.85 },
        }), [
            "charon:controllers.pdReplicas.maxReplicas: 2 is below minReplicas 5; the upper bound must be at least the lower one",
            "charon:controllers.pdReplicas.period: \"500ms\" is shorter than 1s; metrics are scraped every few seconds, so a faster loop only re-reads the same samples",
            "charon:controllers.inplaceResize.maxCpu: \"1500m\" is below minCpu \"2\"; the upper bound must be at least the lower one",
            "charon:controllers.inplaceResize.maxMemory: \"1Gi\" is below minMemory \"4Gi\"; the upper bound must be at least the lower one",
            "charon:controllers.inplaceResize.throttleLow: 0.2 must be below throttleHigh 0.1, or CPU would go up and down on the same throttling",
            "charon:controllers.inplaceResize.memoryLow: 0.9 must be below memoryHigh 0.85, or memory would go up and down on the same working set",
        ]);
    });

    it("custom controllers: unique names apart from the built-ins, a JS/TS file, a target with its bounds, valid queries", () => {
        assert.deepEqual(messages({
            custom: [
                { name: "pd-replicas", file: "a.ts", target: { kind: "deployment", name: "consumer" }, maxReplicas: 3 },
                { name: "mine", file: "b.py", target: { kind: "deployment", selector: { app: "x" } }, minCpu: "1" },
                { name: "mine", file: "c.js", target: { kind: "pods", name: "consumer" }, maxReplicas: 2, minCpu: "2", maxCpu: "1",
                    queries: { bad: { metric: "x", labelsMatching: { pod: "(" }, by: ["pod"], dividedBy: { metric: "y" } } } },
            ],
        }), [
            "charon:controllers.custom[0].name: \"pd-replicas\" is the name of a built-in loop; choose another",
            "charon:controllers.custom[1].file: \"b.py\" is not a TypeScript or JavaScript file (.ts, .mts, .cts, .js, .mjs, .cjs)",
            "charon:controllers.custom[1].target.name: is required for kind deployment (the Deployment to scale)",
            "charon:controllers.custom[1].maxReplicas: is required for kind deployment: the loop never sets more replicas than this",
            "charon:controllers.custom[1].target.selector: applies to kind pods only",
            "charon:controllers.custom[1].minCpu: applies to kind pods only",
            "charon:controllers.custom[2].name: \"mine\" is already used by custom[1]; loop names must be unique",
            "charon:controllers.custom[2].target.selector: is required for kind pods (the labels of the pods to resize)",
            "charon:controllers.custom[2].target.container: is required for kind pods (the container to resize)",
            "charon:controllers.custom[2].target.name: applies to kind deployment only",
            "charon:controllers.custom[2].maxReplicas: applies to kind deployment only",
            "charon:controllers.custom[2].maxCpu: \"1\" is below minCpu \"2\"; the upper bound must be at least the lower one",
            "charon:controllers.custom[2].queries.bad: labelsMatching.pod: \"(\" is not a regular expression (Invalid regular expression: /(/: Unterminated group)",
            "charon:controllers.custom[2].queries.bad: dividedBy must aggregate by the same labels as the query (pod vs none)",
        ]);
        const long = "a".repeat(52);
        assert.deepEqual(messages({ custom: [{ name: long, file: "a.ts", target: { kind: "pods", selector: { a: "b" }, container: "c" }, maxMemory: "1Gi" }] }), [
            `charon:controllers.custom[0].name: "${long}" is longer than 51 characters (its objects are named charon-loop-<name>, at most 63)`,
        ]);
    });

    it("the key prefix follows the context (the lead may mount the loops elsewhere)", () => {
        const p = controlLoopsSettingsProblems(loopSettings({ pdReplicas: { minReplicas: 3, maxReplicas: 2 } }), { ...baseline, keyPrefix: "charon:loops." });
        assert.deepEqual(p, [{ key: "charon:loops.pdReplicas.maxReplicas", message: "charon:loops.pdReplicas.maxReplicas: 2 is below minReplicas 3; the upper bound must be at least the lower one" }]);
    });
});
