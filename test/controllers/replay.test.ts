/**
 * Replay end to end: experiments harvested by the project's own harvest hook (from a real, backfilled Prometheus)
 * into results/<stack>/<experiment>/<run>/ as Parquet and CSV, then `npm run replay`'s main() over them. The data
 * is shaped so each tick's decision can be worked out by hand.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { harvestExperiment } from "../../workflows";
import { type CliIo, main } from "../../replay/cli";
import { labelOfColumn, parseCsv } from "../../replay/read-harvest";
import { type OmFamily, type TestPrometheus, startPrometheus } from "../helpers/prometheus";

const REPO = path.resolve(__dirname, "..", "..");
const T0 = Date.UTC(2025, 2, 3, 10, 0, 0);
const STEP = 2000;
const N = 60; // two minutes

function gauge(name: string, labels: Record<string, string>, f: (i: number) => number, offset = 0): OmFamily["series"][number] {
    return { name, labels, samples: Array.from({ length: N }, (_, i) => [T0 + offset + i * STEP, f(i)] as [number, number]) };
}

function counter(name: string, labels: Record<string, string>, perSecond: (i: number) => number, offset = 0): OmFamily["series"][number] {
    let v = 1e6;
    return { name, labels, samples: Array.from({ length: N }, (_, i) => [T0 + offset + i * STEP, i === 0 ? v : (v += perSecond(i) * STEP / 1000)] as [number, number]) };
}

/**
 * Two consumer pods: 300 and 100 frames queued, 200 fps each, all along (error = 800 + 400 − 400 = 800).
 * Two inference pods: the first throttled in 40% of its periods for the first minute, then 0%; the second never.
 */
function families(): OmFamily[] {
    const consumers = ["consumer-6b7f9-aaaaa", "consumer-6b7f9-bbbbb"];
    const cat = ["ptychography-cat-0-aaaaa", "ptychography-cat-1-bbbbb"];
    const udf = (pod: string) => ({ namespace: "default", pod, container: "udf" });
    return [
        { name: "pvapy_frame_queued", type: "gauge", series: consumers.map((pod, k) => gauge("pvapy_frame_queued", { namespace: "default", pod }, () => (k === 0 ? 300 : 100), 500 + 300 * k)) },
        { name: "pvapy_frame_processingrate", type: "gauge", series: consumers.map((pod, k) => gauge("pvapy_frame_processingrate", { namespace: "default", pod }, () => 200, 500 + 300 * k)) },
        { name: "kube_deployment_spec_replicas", type: "gauge", series: [gauge("kube_deployment_spec_replicas", { namespace: "default", deployment: "consumer" }, () => 1, 100)] },
        { name: "container_cpu_cfs_periods", type: "counter", series: cat.map((pod) => counter("container_cpu_cfs_periods_total", udf(pod), () => 10, 700)) },
        { name: "container_cpu_cfs_throttled_periods", type: "counter", series: cat.map((pod, k) => counter("container_cpu_cfs_throttled_periods_total", udf(pod), (i) => (k === 0 && i < 30 ? 4 : 0), 700)) },
        { name: "container_cpu_usage_seconds", type: "counter", series: cat.map((pod, k) => counter("container_cpu_usage_seconds_total", udf(pod), () => (k === 0 ? 0.95 : 0.2), 700)) },
        { name: "container_memory_working_set_bytes", type: "gauge", series: cat.map((pod) => gauge("container_memory_working_set_bytes", udf(pod), () => 2 ** 31, 700)) },
        { name: "vertex_pending_messages", type: "gauge", series: [gauge("vertex_pending_messages", { namespace: "default", pipeline: "ptychography", vertex: "cat", period: "1m" }, () => 50, 900)] },
        { name: "charon_controller_pod_cpu_millicores", type: "gauge", series: cat.map((pod) => gauge("charon_controller_pod_cpu_millicores", { controller: "inplace-resize", pod }, () => 1000, 1100)) },
    ];
}

describe("controllers: replay over harvested experiments", function () {
    this.timeout(120_000);
    let prom: TestPrometheus;
    let project: string;

    async function harvestRun(experiment: string, format: "parquet" | "csv", queries: string[]): Promise<string> {
        fs.writeFileSync(path.join(project, `${experiment}.txt`), queries.join("\n") + "\n");
        const r = await harvestExperiment({
            stack: "lab", experiment, run: 1, workflow: "baseline", resultsDir: "results", queriesFile: `${experiment}.txt`,
            format, mode: "auto", marginSeconds: 0, endpoint: prom.url, projectDir: project, ingestDelayMs: 0,
        }, { metadata: { name: `stream-${experiment}` }, status: { startTime: new Date(T0).toISOString(), completionTime: new Date(T0 + (N - 1) * STEP).toISOString() } });
        assert.equal(r.manifest.totals.ok, queries.length);
        return r.resultsPath;
    }

    async function replay(argv: string[]): Promise<{ code: number; out: string; err: string }> {
        let out = "";
        let err = "";
        const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), cwd: project };
        const code = await main(argv, io);
        return { code, out, err };
    }

    /** The table's data rows as objects by header. */
    function rows(table: string): Record<string, string>[] {
        const [header, ...lines] = parseCsv(table).filter((r) => r.length > 1);
        return lines.map((l) => Object.fromEntries(header.map((h, i) => [h, l[i]])));
    }

    let pdRun: string;
    let resizeRun: string;

    before(async () => {
        project = fs.mkdtempSync(path.join(os.tmpdir(), "replay-"));
        prom = await startPrometheus({ families: families() });
        pdRun = await harvestRun("pd", "parquet", ["pvapy_frame_queued", "pvapy_frame_processingrate", "kube_deployment_spec_replicas"]);
        resizeRun = await harvestRun("resize", "csv", ["container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total", "container_cpu_usage_seconds_total",
            "container_memory_working_set_bytes", "vertex_pending_messages", "charon_controller_pod_cpu_millicores"]);
    });
    after(async () => {
        await prom?.stop();
        fs.rmSync(project, { recursive: true, force: true });
    });

    it("pd-replicas over a Parquet run: the original's numbers, clamped to maxReplicas, held inside the minimum interval", async () => {
        const r = await replay(["--controller", "pd-replicas", "--run", pdRun, "--format", "csv"]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.err, /^replay of pd-replicas over .*results\/lab\/pd\/1: 2025-03-03T10:00:00\.000Z → 2025-03-03T10:01:58\.000Z, every 2s, settings from schema defaults/);
        assert.doesNotMatch(r.err, /note:/, "the initial replicas come from kube_deployment_spec_replicas");
        const t = rows(r.out);
        assert.equal(t.length, 60, "one row per 2 s tick");
        // Tick 0 (T0): no consumer has reported yet, error = 800 (the target alone), control 0.5·800 + (800 − 0) = 1200,
        // 1200 // 64 = 18 → clamped to maxReplicas 8.
        assert.deepEqual([t[0]["+s"], t[0].queued, t[0].error, t[0].control, t[0].replicas, t[0].action, t[0].outcome],
            ["0", "0", "800", "1200", "18", "scale 1→8", "applied (clamped)"]);
        // From +2 s: 400 queued, 400 fps processed, error 800, control 0.5·800 + 0 = 400 → 6, held inside the 10 s interval.
        assert.deepEqual([t[1].queued, t[1].processing_rate, t[1].error, t[1].control], ["400", "400", "800", "400"]);
        assert.deepEqual(t.slice(1, 5).map((x) => [x.replicas, x.action, x.outcome]), Array(4).fill(["6", "scale 8→6", "held: min-interval"]));
        assert.deepEqual([t[5]["+s"], t[5].action, t[5].outcome], ["10", "scale 8→6", "applied"]);
        assert.deepEqual([t[6].action, t[6].outcome], ["scale 6→6", "held: no-change"]);
        assert.match(r.err, /60 ticks: 1 applied \(clamped\), 4 held: min-interval, 1 applied, 54 held: no-change; end state: consumer at 6 replicas/);
    });

    it("--set changes the loop as a stack setting would; bad values are refused with the setting's key", async () => {
        const r = await replay(["--controller", "pd-replicas", "--run", pdRun, "--format", "csv", "--set", "maxReplicas=20", "--set", "minInterval=0s", "--set", "kp=1"]);
        assert.equal(r.code, 0, r.err);
        const t = rows(r.out);
        // control = 1·800 + 800 = 1600 → 25, clamped to 20; then 800 → 12 at once (no minimum interval).
        assert.deepEqual([t[0].action, t[0].outcome, t[1].action, t[1].outcome], ["scale 1→20", "applied (clamped)", "scale 20→12", "applied"]);
        const bad = await replay(["--controller", "pd-replicas", "--run", pdRun, "--set", "kp=fast"]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /charon:controllers\.pdReplicas\.kp: "fast" is not valid; expected a number/);
    });

    it("inplace-resize over a CSV run: CPU up while throttled (from the recorded 1000m), down after, within bounds", async () => {
        const r = await replay(["--controller", "inplace-resize", "--run", resizeRun, "--format", "csv", "--set", "period=15s", "--set", "minInterval=30s"]);
        assert.equal(r.code, 0, r.err);
        const acted = rows(r.out).filter((x) => x.action !== "");
        assert.ok(acted.length > 0, r.out);
        const first = acted[0];
        assert.equal(first.action, "resize ptychography-cat-0-aaaaa cpu 1→1500m", r.out);
        assert.equal(first.outcome, "applied");
        // The unthrottled second pod uses 200m: lowered towards 200m / 0.7 = 286m, at most 20% per step, never below minCpu 500m.
        assert.ok(acted.some((x) => x.action === "resize ptychography-cat-1-bbbbb cpu 1→800m"), r.out);
        for (const x of acted.filter((y) => y.outcome === "applied")) {
            const cpu = /→(\d+)m?$/.exec(x.action)![1];
            const millis = x.action.endsWith("m") ? Number(cpu) : Number(cpu) * 1000;
            assert.ok(millis >= 500 && millis <= 4000, x.action);
        }
        assert.match(r.err, /end state: ptychography-cat-0-aaaaa cpu \S+, ptychography-cat-1-bbbbb cpu 500m/);
    });

    it("a researcher's controller from the stack file, and --decide to study another strategy on the same queries", async () => {
        fs.writeFileSync(path.join(project, "Pulumi.lab.yaml"), [
            "config:",
            "  charon:controllers:",
            "    custom:",
            "      - name: queue-proportional",
            `        file: ${path.join(REPO, "controllers/examples/queue-proportional.ts")}`,
            "        period: 2s",
            "        minInterval: 0s",
            "        target: { kind: deployment, name: consumer }",
            "        maxReplicas: 8",
            "        queries:",
            "          queued: { metric: pvapy_frame_queued, labels: { namespace: default }, fn: last, window: 5s, aggregate: sum }",
            "        params: { framesPerReplica: 150 }",
            "",
        ].join("\n"));
        const r = await replay(["--controller", "queue-proportional", "--run", pdRun, "--format", "csv", "--actions-only"]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.err, /settings from .*Pulumi\.lab\.yaml/);
        const t = rows(r.out);
        // Nothing queued at T0 (1 replica wanted, as now); then 400 queued / 150 per replica → 3.
        assert.deepEqual(t.map((x) => [x.wanted, x.action, x.outcome]).slice(0, 3),
            [["1", "scale 1→1", "held: no-change"], ["3", "scale 1→3", "applied"], ["3", "scale 3→3", "held: no-change"]]);

        const other = path.join(project, "always-two.ts");
        fs.writeFileSync(other, "export function decide() { return { actions: [{ kind: 'scale', replicas: 2 }], state: null, signals: { fixed: 2 } }; }\n");
        const swapped = await replay(["--controller", "queue-proportional", "--run", pdRun, "--format", "csv", "--decide", other, "--actions-only"]);
        assert.equal(swapped.code, 0, swapped.err);
        assert.deepEqual(rows(swapped.out).slice(0, 2).map((x) => [x.fixed, x.action, x.outcome]), [["2", "scale 1→2", "applied"], ["2", "scale 2→2", "held: no-change"]]);
    });

    it("says what is missing: metrics the loop observes, the run, the controller", async () => {
        const r = await replay(["--controller", "inplace-resize", "--run", pdRun]);
        assert.equal(r.code, 2);
        assert.match(r.err, /metrics\.parquet lacks container_cpu_cfs_throttled_periods_total, container_cpu_cfs_periods_total, container_cpu_usage_seconds_total, container_memory_working_set_bytes, vertex_pending_messages, which inplace-resize observes; add them to the harvest's queries file/);
        const none = await replay(["--controller", "pd-replicas", "--run", "results/lab/nope/1"]);
        assert.match(none.err, /--run .*results\/lab\/nope\/1: no such directory/);
        const unknown = await replay(["--controller", "mystery", "--run", pdRun]);
        assert.match(unknown.err, /--controller "mystery": no such loop; known: pd-replicas, inplace-resize, queue-proportional/);
        const usage = await replay(["--run", pdRun]);
        assert.equal(usage.code, 2);
        assert.match(usage.err, /--controller and --run are required/);
    });

    it("npm run replay is the same command (run from the project, the harvested run given by path)", async () => {
        const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
            execFile("npm", ["run", "--silent", "replay", "--", "--controller", "pd-replicas", "--run", path.join(project, pdRun), "--actions-only"],
                { cwd: REPO, env: { ...process.env, NO_COLOR: "1" } }, (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve({ stdout: out, stderr: err })));
        });
        const lines = stdout.trimEnd().split("\n");
        assert.match(lines[0], /^time +\+s +queued +processing_rate +error +derivative +control +replicas +action +outcome$/);
        assert.match(lines[1], /^2025-03-03T10:00:00\.000Z +0 +0 +0 +800 +800 +1200 +18 +scale 1→8 +applied \(clamped\)$/);
        assert.match(stderr, /end state: consumer at 6 replicas/);
    });

    it("reads the harvester's table conventions back: quoted CSV fields, label_<fixed column> names", () => {
        assert.deepEqual(parseCsv('a,b\n"x,1","say ""hi"""\r\n'), [["a", "b"], ["x,1", "say \"hi\""]]);
        assert.equal(labelOfColumn("label_query"), "query");
        assert.equal(labelOfColumn("label_pod"), "label_pod");
        assert.equal(labelOfColumn("pod"), "pod");
    });
});
