/**
 * Instant snapshots (issue 16): without a window and with --at, every query is one instant query (one row per
 * series), in every output format, equal to direct instant queries against a real Prometheus; the command line's
 * --at forms and their conflicts.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { harvest } from "../../harvester/harvest";
import { parseArgs, resolveOptions } from "../../harvester/options";
import { type TestPrometheus, startPrometheus } from "../helpers/prometheus";
import { T0, fixtureFamilies } from "./fixture";
import { type SeriesMap, fromHarvestJson, labelKey, parseCsv, promNumber, python, sameSamples } from "./reference";

const AT = T0 + 3600_000 + 7_250;
const QUERIES = ["harvest_gauge", "sum by (job) (harvest_gauge)", "harvest_requests_total", "harvest_special", "harvest_gauge{instance=\"host-1\"}[1m]"];
const ROOT = path.resolve(__dirname, "..", "..");

/** One direct instant query (JSON.parse): a vector or, for a range selector, a matrix. */
async function directInstant(base: string, query: string, atMs: number): Promise<SeriesMap> {
    const res = await fetch(`${base}/api/v1/query`, { method: "POST", body: new URLSearchParams({ query, time: String(atMs / 1000) }) });
    const j = await res.json() as { data: { result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] } };
    const m: SeriesMap = new Map();
    for (const s of j.data.result) {
        const pts = s.values ?? [s.value as [number, string]];
        m.set(labelKey(s.metric), pts.map(([t, v]) => [Math.round(t * 1000), promNumber(v)]));
    }
    return m;
}

function csvTable(file: string): Map<string, SeriesMap> {
    const rows = parseCsv(fs.readFileSync(file, "utf8"));
    const header = rows[0];
    const out = new Map<string, SeriesMap>();
    for (const r of rows.slice(1)) {
        const labels: Record<string, string> = r[1] === "" ? {} : { __name__: r[1] };
        header.slice(4).forEach((h, i) => {
            if (r[4 + i] !== "") {
                labels[h] = r[4 + i];
            }
        });
        const m = out.get(r[0]) ?? new Map();
        out.set(r[0], m);
        const k = labelKey(labels);
        m.set(k, [...(m.get(k) ?? []), [Date.parse(r[2]), promNumber(r[3])]]);
    }
    return out;
}

describe("harvester instant snapshots (--at, real Prometheus)", function () {
    this.timeout(120_000);
    let prom: TestPrometheus;
    let dir: string;
    const expected = new Map<string, SeriesMap>();
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-instant-"));
        prom = await startPrometheus({ families: fixtureFamilies() });
        for (const q of QUERIES) {
            expected.set(q, await directInstant(prom.url, q, AT));
        }
        // The reference itself is what an instant snapshot means: one sample per series at the instant.
        assert.equal(expected.get("harvest_gauge")!.size, 4);
        assert.ok([...expected.get("harvest_gauge")!.values()].every((s) => s.length === 1 && s[0][0] === AT));
        assert.equal(expected.get("sum by (job) (harvest_gauge)")!.size, 1);
    });
    after(async () => {
        await prom?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("CSV: one row per series at the instant, equal to direct instant queries", async () => {
        const out = path.join(dir, "snap.csv");
        const m = await harvest({ endpoint: prom.url, queries: QUERIES, at: AT, output: out, format: "csv" });
        assert.equal(m.status, "complete");
        assert.equal(m.mode, "instant");
        assert.deepEqual(m.queries.map((q) => q.mode), QUERIES.map(() => "instant"));
        assert.deepEqual([m.window.startMs, m.window.endMs], [AT, AT]);
        assert.deepEqual(m.queries.map((q) => q.requests), QUERIES.map(() => 1));
        const got = csvTable(out);
        for (const q of QUERIES) {
            sameSamples(got.get(q)!, expected.get(q)!, q);
        }
        // 4 + 1 + 2 + 1 series at one instant, plus the 1 m range selector's 4 stored samples of host-1.
        assert.equal(m.rows, 4 + 1 + 2 + 1 + 4);
    });

    it("JSON: vectors ({metric, value}) like the API's instant query, a matrix for the range selector", async () => {
        const out = path.join(dir, "snap.json");
        await harvest({ endpoint: prom.url, queries: QUERIES, at: AT, output: out, format: "json" });
        const doc = JSON.parse(fs.readFileSync(out, "utf8"));
        assert.deepEqual(doc.results.map((r: any) => r.data.data.resultType), ["vector", "vector", "vector", "vector", "matrix"]);
        assert.deepEqual(doc.results[1].data.data.result[0], { metric: { job: "node" }, value: [AT / 1000, expected.get("sum by (job) (harvest_gauge)")!.values().next().value![0][1].toString()] });
        const asMatrix = { results: doc.results.map((r: any) => ({ ...r, data: { ...r.data, data: { ...r.data.data, result: r.data.data.result.map((s: any) => ({ metric: s.metric, values: s.values ?? [s.value] })) } } })) };
        const got = fromHarvestJson(asMatrix);
        for (const q of QUERIES) {
            sameSamples(got.get(q)!, expected.get(q)!, q);
        }
    });

    it("Parquet: read back by pyarrow with the instant's timestamp and the series' labels", async () => {
        const out = path.join(dir, "snap.parquet");
        const m = await harvest({ endpoint: prom.url, queries: QUERIES, at: AT, output: out, format: "parquet" });
        const py = python(`
import sys, json, pyarrow.parquet as pq
d = pq.read_table(sys.argv[1]).to_pydict()
rows = [{k: (int(d[k][i].timestamp() * 1000) if k == "timestamp" else repr(d[k][i]) if k == "value" else d[k][i]) for k in d} for i in range(len(d["query"]))]
print(json.dumps({"rows": rows}))`, [out]);
        assert.equal(py.rows.length, m.rows);
        const got = new Map<string, SeriesMap>();
        for (const r of py.rows as Record<string, any>[]) {
            const labels: Record<string, string> = {};
            for (const [k, v] of Object.entries(r)) {
                if (!["query", "metric", "timestamp", "value"].includes(k) && v !== null) {
                    labels[k] = v as string;
                }
            }
            if (r.metric !== null) {
                labels.__name__ = r.metric;
            }
            const sm = got.get(r.query) ?? new Map();
            got.set(r.query, sm);
            const k = labelKey(labels);
            const v = r.value === "nan" ? NaN : r.value === "inf" ? Infinity : r.value === "-inf" ? -Infinity : Number(r.value);
            sm.set(k, [...(sm.get(k) ?? []), [r.timestamp, v]]);
        }
        for (const q of QUERIES) {
            sameSamples(got.get(q)!, expected.get(q)!, q);
        }
    });

    it("the command line: --at TIME through the bin, --at now, and a window together with --at is refused", async () => {
        const out = path.join(dir, "cli.csv");
        const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [path.join(ROOT, "bin", "charon-harvest.js"), prom.url, "--at", new Date(AT).toISOString(),
                "--query", "harvest_gauge", "--query", "harvest_nothing", "--output", out, "--quiet"], { stdio: ["ignore", "ignore", "pipe"] });
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
            child.on("exit", (code) => resolve({ code: code ?? -1, stderr }));
        });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /^charon-harvest: warning: #2 harvest_nothing: no series: the query matched nothing at 2024-01-01T01:00:07\.250Z/m);
        sameSamples(csvTable(out).get("harvest_gauge")!, expected.get("harvest_gauge")!, "harvest_gauge via the bin");

        const now = Date.UTC(2025, 0, 1);
        const noStack = async (): Promise<Record<string, unknown>> => ({});
        const plan = await resolveOptions(parseArgs(["http://p", "--query", "up", "--at", "now"]), { nowMs: now, readStack: noStack });
        assert.ok(plan.kind === "harvest");
        assert.deepEqual([plan.options.at, plan.options.start, plan.options.end], [now, undefined, undefined]);
        await assert.rejects(resolveOptions(parseArgs(["http://p", "--query", "up", "--at", "now", "--start", "-1h"]), { nowMs: now, readStack: noStack }),
            /give either a window \(--start\/--end\) or an instant \(--at now\), not both/);
        await assert.rejects(resolveOptions(parseArgs(["http://p", "--query", "up", "--at", "now", "--mode", "raw"]), { nowMs: now, readStack: noStack }),
            /--at takes instant snapshots of any expression; --mode raw needs a window/);
    });
});
