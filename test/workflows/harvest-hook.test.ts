import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as fc from "fast-check";
import type { HarvestOptions } from "../../harvester/harvest";
import type { Endpoint } from "../../harvester/http";
import { parseArgs, resolveOptions } from "../../harvester/options";
import type { Manifest } from "../../harvester/manifest";
import { mimirQueryUrl } from "../../components/monitoring/mimir";
import {
    ExperimentHarvestError, experimentWindow, harvestExperiment, harvestHook, readQueries, resultsPath,
} from "../../workflows";
import type { ExperimentHarvestConfig } from "../../workflows/harvest-hook";
import { runComponents } from "../helpers/pulumi-mocks";
import { kubeconfigYaml } from "./kubeconfig";

const REPO = path.resolve(__dirname, "..", "..");
const b64 = (s: string) => Buffer.from(s).toString("base64");

const completedJob = {
    metadata: { name: "fps100-r3-0123abcd", namespace: "default" },
    status: { startTime: "2025-08-18T14:47:57Z", completionTime: "2025-08-18T14:52:59Z", succeeded: 1 },
};

function fakeManifest(o: HarvestOptions, failed: string[] = []): Manifest {
    const queries = o.queries.map((query, index) => ({
        index, query, status: failed.includes(query) ? "failed" as const : "ok" as const,
        error: failed.includes(query) ? "bad_data: parse error" : undefined,
        series: 1, samples: 10, requests: 1, retries: 0, bytes: 100, durationMs: 1,
    }));
    return {
        tool: { name: "charon-harvest", version: "0" }, endpoint: String(o.endpoint), window: { start: "", end: "", startMs: 0, endMs: 0 },
        mode: "auto", format: o.format ?? "csv", output: o.output, status: failed.length ? "partial" : "complete", startedAt: "",
        queries, totals: { queries: queries.length, ok: queries.length - failed.length, failed: failed.length, series: 0, samples: 10 * (queries.length - failed.length) },
    };
}

describe("workflows harvest hook (unit)", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-hook-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the window is the Job's start → completion widened by the margin on both sides", () => {
        assert.deepEqual(experimentWindow(completedJob, 30), { start: "2025-08-18T14:47:27Z", end: "2025-08-18T14:53:29Z" });
        assert.deepEqual(experimentWindow(completedJob, 0), { start: "2025-08-18T14:47:57Z", end: "2025-08-18T14:52:59Z" });
    });

    it("property: the window contains the run and is exactly 2 × margin longer", () => {
        fc.assert(fc.property(
            fc.integer({ min: 1_500_000_000, max: 2_000_000_000 }), fc.integer({ min: 0, max: 86_400 }), fc.integer({ min: 0, max: 3600 }),
            (startS, durS, margin) => {
                const job = { status: { startTime: new Date(startS * 1000).toISOString(), completionTime: new Date((startS + durS) * 1000).toISOString() } };
                const w = experimentWindow(job, margin);
                const s = Date.parse(w.start);
                const e = Date.parse(w.end);
                assert.equal(s, (startS - margin) * 1000);
                assert.equal(e - s, (durS + 2 * margin) * 1000);
                assert.match(w.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
            }));
    });

    it("an unfinished Job has no window (clear message)", () => {
        assert.throws(() => experimentWindow({ metadata: { name: "j" }, status: { startTime: "2025-08-18T14:47:57Z" } }, 30),
            /Job j has not completed \(status\.startTime 2025-08-18T14:47:57Z, status\.completionTime unset\)/);
    });

    it("results go to <resultsDir>/<stack>/<experiment>/<run>", () => {
        assert.equal(resultsPath("results", "dev", "fps100", 3), "results/dev/fps100/3");
    });

    it("metrics.txt holds the original's 60 metrics and the control loops' 18, one per line", () => {
        const q = readQueries(path.join(REPO, "workflows/aps/metrics.txt"));
        assert.equal(q.length, 78);
        assert.equal(new Set(q).size, 78);
        const count = (re: RegExp) => q.filter((m) => re.test(m)).length;
        assert.equal(count(/^(forwarder_|vertex_pending|isb_jetstream_)/), 11);
        assert.equal(count(/^controller_vertex_/), 4);
        assert.equal(count(/^container_/), 26);
        assert.equal(count(/^node_/), 2);
        assert.equal(count(/^kube_(pod_status_phase|node_status_condition)$/), 2);
        assert.equal(count(/^charon_controller_/), 16);
        assert.equal(count(/^kube_(deployment_spec_replicas|pod_container_resource_requests)$/), 2);
        assert.equal(count(/^DCGM_/), 12);
        assert.equal(count(/^pvapy_/), 3);
        assert.ok(q.every((m) => /^[A-Za-z_:][A-Za-z0-9_:]*$/.test(m)), "bare metric names only");
    });

    it("the endpoint is Mimir's query URL through the kubeconfig's API server, with its CA and client certificate", async () => {
        const calls: HarvestOptions[] = [];
        await harvestExperiment(config({
            kubeconfig: kubeconfigYaml("https://10.0.0.5:6443/", { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") }, { "certificate-authority-data": b64("CA") }),
            harvestFn: async (o) => { calls.push(o); return fakeManifest(o); },
        }), completedJob);
        const ep = calls[0].endpoint as Endpoint;
        assert.equal(ep.url, "https://10.0.0.5:6443/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy/prometheus");
        assert.equal(String(ep.tls?.ca), "CA");
        assert.equal(String(ep.tls?.cert), "CERT");
        assert.equal(String(ep.tls?.key), "KEY");
        assert.deepEqual(ep.headers, {});
    });

    function config(over: Partial<ExperimentHarvestConfig> = {}): ExperimentHarvestConfig {
        return {
            stack: "dev", experiment: "fps100", run: 3, workflow: "pipeline", resultsDir: "results",
            queriesFile: path.join(REPO, "workflows/aps/metrics.txt"), format: "parquet", mode: "auto", marginSeconds: 30,
            kubeconfig: kubeconfigYaml("https://10.0.0.5:6443", { token: "t" }), metricsQueryUrl: mimirQueryUrl(), tenant: "charon",
            projectDir: dir, now: () => Date.parse("2025-08-19T00:00:00Z"), sleep: async () => assert.fail("no wait expected"),
            ...over,
        };
    }

    it("harvests the window through the API server proxy into results/<stack>/<experiment>/<run>/", async () => {
        const calls: HarvestOptions[] = [];
        const result = await harvestExperiment(config({
            step: "2s",
            harvestFn: async (o) => {
                calls.push(o);
                return fakeManifest(o);
            },
        }), completedJob);
        assert.equal(calls.length, 1);
        const o = calls[0];
        assert.equal(o.start, Date.parse("2025-08-18T14:47:27Z"));
        assert.equal(o.end, Date.parse("2025-08-18T14:53:29Z"));
        assert.equal(o.step, 2000);
        assert.equal(o.mode, "auto");
        assert.equal(o.format, "parquet");
        assert.equal(o.tenant, "charon");
        assert.equal(o.queries.length, 78);
        assert.equal(o.output, path.join(dir, "results/dev/fps100/3/metrics.parquet"));
        assert.equal((o.endpoint as { url: string }).url, "https://10.0.0.5:6443/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy/prometheus");
        assert.deepEqual(result.window, { start: "2025-08-18T14:47:27Z", end: "2025-08-18T14:53:29Z" });
        assert.equal(result.resultsPath, "results/dev/fps100/3");
        const record = JSON.parse(fs.readFileSync(path.join(dir, "results/dev/fps100/3/experiment.json"), "utf8"));
        assert.deepEqual(record.window, result.window);
        assert.equal(record.job.name, "fps100-r3-0123abcd");
        assert.equal(record.run, 3);
        assert.equal(record.workflow, "pipeline");
    });

    it("waits until the window's end (plus the ingest delay) has passed before harvesting", async () => {
        const end = Date.parse("2025-08-18T14:53:29Z");
        let clock = end - 20_000;
        const slept: number[] = [];
        await harvestExperiment(config({
            now: () => clock,
            sleep: async (ms) => {
                slept.push(ms);
                clock += ms;
            },
            harvestFn: async (o) => {
                assert.ok(clock >= end + 15_000, "harvest starts after end + ingest delay");
                return fakeManifest(o);
            },
        }), completedJob);
        assert.deepEqual(slept, [35_000]);
    });

    it("a partial harvest fails with the failed queries named, and keeps what was written", async () => {
        const bad = ["kube_pod_status_phase", "DCGM_FI_DEV_GPU_UTIL"];
        const err = await harvestExperiment(config({ harvestFn: async (o) => fakeManifest(o, bad) }), completedJob).then(
            () => assert.fail("expected a failure"), (e: unknown) => e);
        assert.ok(err instanceof ExperimentHarvestError);
        assert.match(err.message, /2 of 78 queries failed: kube_pod_status_phase \(bad_data: parse error\); DCGM_FI_DEV_GPU_UTIL \(bad_data: parse error\)/);
        assert.match(err.message, /The other 76 are written to results\/dev\/fps100\/3\/metrics\.parquet/);
        assert.match(err.message, /Complete it with: npm run harvest -- --stack dev --start 2025-08-18T14:47:27Z --end 2025-08-18T14:53:29Z --queries-file \S+metrics\.txt --mode auto --format parquet --output results\/dev\/fps100\/3\/metrics\.parquet --resume$/);
        assert.deepEqual(err.failedQueries, bad);
        assert.ok(fs.existsSync(path.join(dir, "results/dev/fps100/3/experiment.json")));
    });

    it("the retry command in the error is a valid harvester invocation repeating the same harvest", async () => {
        const calls: HarvestOptions[] = [];
        const cfg = config({ step: "2s", mode: "range", harvestFn: async (o) => { calls.push(o); return fakeManifest(o, ["kube_pod_status_phase"]); } });
        const err = await harvestExperiment(cfg, completedJob).then(() => assert.fail("expected a failure"), (e: unknown) => e as Error);
        const command = /Complete it with: (npm run harvest -- .*)$/.exec(err.message)?.[1];
        assert.ok(command, err.message);
        const argv = command.replace(/^npm run harvest -- /, "").split(" ");
        const plan = await resolveOptions(parseArgs(argv), {
            nowMs: Date.now(), workDir: dir,
            readStack: async () => ({ metricsQueryUrl: mimirQueryUrl(), metricsTenant: "charon", kubeconfig: kubeconfigYaml("https://10.0.0.5:6443", { token: "t" }) }),
        });
        assert.equal(plan.kind, "harvest");
        const o = (plan as { options: HarvestOptions }).options;
        const first = calls[0];
        assert.deepEqual([o.start, o.end, o.step, o.mode, o.format, o.tenant, o.resume], [first.start, first.end, first.step, first.mode, first.format, first.tenant, true]);
        assert.deepEqual(o.queries, first.queries);
        assert.equal(path.resolve(dir, o.output), first.output);
        assert.equal((o.endpoint as Endpoint).url, (first.endpoint as Endpoint).url);
    });

    it("a harvest that cannot start says so and where the window is recorded", async () => {
        const err = await harvestExperiment(config({ harvestFn: async () => { throw new Error("endpoint https://x is not usable: ECONNREFUSED"); } }), completedJob)
            .then(() => assert.fail("expected a failure"), (e: unknown) => e as Error);
        assert.match(err.message, /harvest of experiment fps100 run 3 \(window 2025-08-18T14:47:27Z → 2025-08-18T14:53:29Z\) could not run: endpoint https:\/\/x is not usable: ECONNREFUSED/);
        assert.match(err.message, /results\/dev\/fps100\/3\/experiment\.json records the window/);
    });

    it("the resource hook resolves the captured kubeconfig, URL and tenant Outputs and harvests the Job's outputs", async () => {
        const calls: HarvestOptions[] = [];
        const run = await runComponents(() => harvestHook("fps100-harvest", {
            ...config({ harvestFn: async (o) => { calls.push(o); return fakeManifest(o); } }),
            kubeconfig: pulumi.secret(kubeconfigYaml("https://10.9.9.9:6443", { token: "from-output" })),
            metricsQueryUrl: pulumi.output(mimirQueryUrl()),
            tenant: pulumi.output("tenant-x"),
        }));
        const hook = run.value;
        assert.equal(hook.name, "fps100-harvest");
        await hook.callback({ urn: "urn", id: "id", name: "fps100-stream", type: "kubernetes:batch/v1:Job", newOutputs: completedJob });
        assert.equal(calls.length, 1);
        assert.equal((calls[0].endpoint as { url: string }).url, "https://10.9.9.9:6443/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy/prometheus");
        assert.deepEqual((calls[0].endpoint as { headers: unknown }).headers, { Authorization: "Bearer from-output" });
        assert.equal(calls[0].tenant, "tenant-x");
        assert.equal(calls[0].start, Date.parse("2025-08-18T14:47:27Z"));
    });
});
