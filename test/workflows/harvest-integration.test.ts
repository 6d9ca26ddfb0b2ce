/**
 * The experiment harvest end to end: a real Prometheus serving under /prometheus (Mimir's layout) behind an HTTPS
 * proxy shaped like the Kubernetes API server's service proxy (bearer token from the kubeconfig, tenant header
 * required), harvested by the real harvester into results/<stack>/<experiment>/<run>/.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Manifest } from "../../harvester/manifest";
import { mimirQueryUrl } from "../../components/monitoring/mimir";
import { ExperimentHarvestError, harvestExperiment } from "../../workflows";
import type { ExperimentHarvestConfig } from "../../workflows/harvest-hook";
import { type OmFamily, type TestPrometheus, startPrometheus } from "../helpers/prometheus";
import { type TestProxy, startProxy } from "../helpers/prometheus-proxy";
import { kubeconfigYaml } from "./kubeconfig";

const REPO = path.resolve(__dirname, "..", "..");
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const STEP_MS = 2000;
const SAMPLES = 600; // 20 minutes every 2 s
const PROXY_PREFIX = "/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy";
const TOKEN = "test-token";
const TENANT = "charon";

function series(name: string, labels: Record<string, string>, f: (i: number) => number) {
    return { name, labels, samples: Array.from({ length: SAMPLES }, (_, i) => [T0 + i * STEP_MS, f(i)] as [number, number]) };
}

function families(): OmFamily[] {
    return [
        {
            name: "forwarder_read", type: "counter",
            series: ["in", "cat", "out"].map((vertex, k) => series("forwarder_read_total", { pipeline: "ptychography", vertex }, (i) => i * (k + 1))),
        },
        { name: "pvapy_frame_processed", type: "counter", series: [series("pvapy_frame_processed_total", { pod: "consumer-0" }, (i) => i * 100)] },
        { name: "DCGM_FI_DEV_GPU_UTIL", type: "gauge", series: [series("DCGM_FI_DEV_GPU_UTIL", { gpu: "0" }, (i) => i % 100)] },
    ];
}

/** A self-signed certificate for 127.0.0.1 (the "API server"). */
function selfSigned(dir: string): { key: string; cert: string } {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
}

/** Independent count of stored samples in [start, end] for one metric (range selectors are closed in 2.x). */
async function storedSamples(prom: TestPrometheus, metric: string, startMs: number, endMs: number): Promise<number> {
    const body = new URLSearchParams({ query: `sum(count_over_time(${metric}[${(endMs - startMs) / 1000}s]))`, time: String(endMs / 1000) });
    const res = await fetch(`${prom.url}/api/v1/query`, { method: "POST", body });
    const json = await res.json() as { data: { result: { value: [number, string] }[] } };
    return Number(json.data.result[0]?.value[1] ?? 0);
}

describe("workflows harvest hook (integration: real Prometheus under /prometheus behind an API-server-shaped proxy)", function () {
    this.timeout(120_000);
    let prom: TestPrometheus;
    let proxy: TestProxy;
    let work: string;
    let kubeconfig: string;

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "charon-hook-it-"));
        prom = await startPrometheus({ families: families(), routePrefix: "/prometheus" });
        const tls = selfSigned(work);
        proxy = await startProxy({
            target: () => `http://127.0.0.1:${prom.port}`,
            tls,
            requireAuth: { bearerToken: TOKEN },
            requireHeader: "X-Scope-OrgID",
            rewrite: (url) => url.startsWith(`${PROXY_PREFIX}/prometheus/`) ? url.slice(PROXY_PREFIX.length) : undefined,
        });
        kubeconfig = kubeconfigYaml(proxy.url, { token: TOKEN }, { "certificate-authority-data": Buffer.from(tls.cert).toString("base64") });
    });

    after(async () => {
        await proxy?.close();
        await prom?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    });

    const job = {
        metadata: { name: "fps100-r1-abcdef01", namespace: "default" },
        // the stream ran from minute 2 to minute 12 of the backfilled data
        status: { startTime: new Date(T0 + 120_000).toISOString(), completionTime: new Date(T0 + 720_000).toISOString(), succeeded: 1 },
    };

    function config(projectDir: string, over: Partial<ExperimentHarvestConfig> = {}): ExperimentHarvestConfig {
        return {
            stack: "it", experiment: "fps100", run: 1, workflow: "pipeline", resultsDir: "results",
            queriesFile: path.join(REPO, "workflows/aps/metrics.txt"), format: "csv", mode: "auto", marginSeconds: 30,
            kubeconfig, metricsQueryUrl: mimirQueryUrl(), tenant: TENANT, projectDir, now: () => Date.now(),
            ...over,
        };
    }

    it("writes the window's samples of all 78 queries (data, manifest, experiment record)", async () => {
        const projectDir = path.join(work, "ok");
        const result = await harvestExperiment(config(projectDir), job);
        const runDir = path.join(projectDir, "results/it/fps100/1");
        assert.deepEqual(fs.readdirSync(runDir).sort(), ["experiment.json", "metrics.csv", "metrics.csv.manifest.json"]);

        const startMs = T0 + 90_000;
        const endMs = T0 + 750_000;
        assert.deepEqual(result.window, { start: new Date(startMs).toISOString().replace(".000Z", "Z"), end: new Date(endMs).toISOString().replace(".000Z", "Z") });
        const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.csv.manifest.json"), "utf8")) as Manifest;
        assert.equal(manifest.status, "complete");
        assert.equal(manifest.tenant, TENANT);
        assert.deepEqual([manifest.window.startMs, manifest.window.endMs], [startMs, endMs]);
        assert.equal(manifest.queries.length, 78);
        assert.ok(manifest.queries.every((q) => q.status === "ok"));

        for (const [metric, nSeries] of [["forwarder_read_total", 3], ["pvapy_frame_processed_total", 1], ["DCGM_FI_DEV_GPU_UTIL", 1]] as const) {
            const entry = manifest.queries.find((q) => q.query === metric)!;
            const expected = await storedSamples(prom, metric, startMs, endMs);
            assert.equal(expected, nSeries * ((endMs - startMs) / STEP_MS + 1), `${metric}: every 2 s sample of the window, both ends included`);
            assert.equal(entry.series, nSeries, metric);
            assert.equal(entry.samples, expected, metric);
        }
        assert.equal(manifest.queries.find((q) => q.query === "container_memory_rss")!.samples, 0, "metrics without data are empty, not failed");

        const csv = fs.readFileSync(path.join(runDir, "metrics.csv"), "utf8").trim().split("\n");
        assert.equal(csv.length - 1, manifest.totals.samples);
        assert.equal(csv.filter((l) => l.startsWith("forwarder_read_total,")).length, manifest.queries.find((q) => q.query === "forwarder_read_total")!.samples);

        const record = JSON.parse(fs.readFileSync(path.join(runDir, "experiment.json"), "utf8"));
        assert.deepEqual(record.window, result.window);
        assert.equal(record.job.completionTime, job.status.completionTime);

        // every request went through the service-proxy path, authenticated, with the tenant
        assert.ok(proxy.requests.length >= 78);
        for (const r of proxy.requests) {
            assert.ok(r.url.startsWith(`${PROXY_PREFIX}/prometheus/api/v1/`), r.url);
            assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
            assert.equal(r.headers["x-scope-orgid"], TENANT);
        }
    });

    it("a failed query fails the harvest by name and keeps the other queries' data", async () => {
        const projectDir = path.join(work, "partial");
        fs.mkdirSync(projectDir, { recursive: true });
        const queries = path.join(projectDir, "queries.txt");
        fs.writeFileSync(queries, "# two good, one broken\nforwarder_read_total\nsum by (vertex) (rate(forwarder_read_total[1m]\npvapy_frame_processed_total\n");
        const err = await harvestExperiment(config(projectDir, { queriesFile: queries, run: 2, step: "10s", mode: "auto" }), job)
            .then(() => assert.fail("expected the harvest to fail"), (e: unknown) => e);
        assert.ok(err instanceof ExperimentHarvestError, String(err));
        assert.match(err.message, /1 of 3 queries failed: sum by \(vertex\) \(rate\(forwarder_read_total\[1m\] \(.*parse error.*\)/);
        assert.match(err.message, /The other 2 are written to results\/it\/fps100\/2\/metrics\.csv/);
        assert.deepEqual(err.failedQueries, ["sum by (vertex) (rate(forwarder_read_total[1m]"]);

        const runDir = path.join(projectDir, "results/it/fps100/2");
        const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.csv.manifest.json"), "utf8")) as Manifest;
        assert.equal(manifest.status, "partial");
        assert.deepEqual(manifest.queries.map((q) => q.status), ["ok", "failed", "ok"]);
        const csv = fs.readFileSync(path.join(runDir, "metrics.csv"), "utf8");
        assert.ok(csv.includes("\nforwarder_read_total,"));
        assert.ok(csv.includes("\npvapy_frame_processed_total,"));
        assert.ok(fs.existsSync(path.join(runDir, "experiment.json")));
    });

    it("an unreachable metrics endpoint fails with the window kept on disk", async () => {
        const projectDir = path.join(work, "down");
        const down = kubeconfigYaml("https://127.0.0.1:1", { token: TOKEN }, { "insecure-skip-tls-verify": true });
        const err = await harvestExperiment(config(projectDir, { kubeconfig: down, run: 3 }), job)
            .then(() => assert.fail("expected the harvest to fail"), (e: unknown) => e as Error);
        assert.ok(err instanceof ExperimentHarvestError);
        assert.match(err.message, /could not run: .*127\.0\.0\.1:1/);
        assert.ok(fs.existsSync(path.join(projectDir, "results/it/fps100/3/experiment.json")));
    });
});
