/**
 * The harvester against a real Prometheus 2.42 (Debian package) with backfilled data: sample-exact equality with
 * independent queries, chunking past 11,000 points, NaN/±Inf and counter resets, awkward labels in CSV, Parquet
 * read back by pyarrow, retries, invalid PromQL, the /prometheus route prefix behind a tenant-checking proxy.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { harvest, EndpointError, type HarvestOptions } from "../../harvester/harvest";
import { startPrometheus, type TestPrometheus } from "../helpers/prometheus";
import { startProxy, type TestProxy } from "../helpers/prometheus-proxy";
import { T0, T_END, WEIRD_NOTES, fixtureFamilies } from "./fixture";
import { directRange, directRaw, fromHarvestJson, labelKey, parseCsv, python, sameSamples } from "./reference";

const RANGE_QUERIES = ["harvest_gauge", "harvest_special", "rate(harvest_requests_total[1m])", "harvest_requests_total"];
const RAW_QUERIES = ["harvest_gauge", "harvest_special", "harvest_requests_total", "harvest_dense"];

describe("harvester integration (real Prometheus)", function () {
    this.timeout(120_000);
    let prom: TestPrometheus;
    let dir: string;
    const opts = (o: Partial<HarvestOptions>): HarvestOptions => ({
        endpoint: prom.url, queries: RANGE_QUERIES, start: T0, end: T_END, output: path.join(dir, "out.json"),
        format: "json", backoffMs: 20, ...o,
    });
    const readJson = (p: string): Map<string, Map<string, [number, number][]>> => fromHarvestJson(JSON.parse(fs.readFileSync(p, "utf8")));

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-it-"));
        prom = await startPrometheus({ families: fixtureFamilies() });
    });
    after(async () => {
        await prom?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("range mode equals direct query_range calls sample for sample", async () => {
        const out = path.join(dir, "range.json");
        const m = await harvest(opts({ mode: "range", step: 60_000, output: out }));
        assert.equal(m.status, "complete");
        assert.deepEqual(m.queries.map((q) => [q.status, q.mode]), RANGE_QUERIES.map(() => ["ok", "range"]));
        const got = readJson(out);
        for (const q of RANGE_QUERIES) {
            sameSamples(got.get(q)!, await directRange(prom.url, q, T0, T_END, 60_000), q);
        }
        // rate() over the counter resets stays non-negative (resets handled by PromQL), raw counter drops to 0.
        const rates = [...got.get("rate(harvest_requests_total[1m])")!.values()].flat();
        assert.ok(rates.length > 400 && rates.every(([, v]) => v >= 0));
        const counter = got.get("harvest_requests_total")!.get(labelKey({ __name__: "harvest_requests_total", code: "200", method: "GET" }))!;
        assert.ok(counter.some(([t, v], i) => i > 0 && v < counter[i - 1][1] && t === T0 + 50 * 60_000 && v === 0), "reset at sample 200 (50 min)");
        assert.equal(fs.existsSync(`${out}.parts`), false, "parts removed after a complete run");
    });

    it("splits a window needing more than 11,000 points per series without duplicating boundaries", async () => {
        const out = path.join(dir, "dense.json");
        const m = await harvest(opts({ mode: "range", step: 1000, queries: ["harvest_dense"], output: out }));
        assert.equal(m.queries[0].requests, 2);
        assert.equal(m.queries[0].samples, 14_401);
        const mid = T0 + 2 * 3600_000;
        const first = await directRange(prom.url, "harvest_dense", T0, mid, 1000);
        const second = await directRange(prom.url, "harvest_dense", mid + 1000, T_END, 1000);
        const key = [...first.keys()][0];
        const expected = new Map([[key, [...first.get(key)!, ...second.get(key)!]]]);
        sameSamples(readJson(out).get("harvest_dense")!, expected, "harvest_dense at 1s");
    });

    it("raw mode (streamed remote read) returns exactly the stored samples, NaN/±Inf and resets included", async () => {
        const out = path.join(dir, "raw.json");
        const m = await harvest(opts({ mode: "raw", queries: RAW_QUERIES, output: out }));
        assert.deepEqual(m.queries.map((q) => q.mode), RAW_QUERIES.map(() => "raw-remote-read"));
        const got = readJson(out);
        for (const q of RAW_QUERIES) {
            sameSamples(got.get(q)!, await directRaw(prom.url, q, T0, T_END), q);
        }
        const special = [...got.get("harvest_special")!.values()][0].map(([, v]) => v);
        assert.ok(Number.isNaN(special[0]));
        assert.deepEqual(special.slice(1, 7), [Infinity, -Infinity, 1.5, 0.1, 1e-7, 12345678.9]);
        const gauge = got.get("harvest_gauge")!;
        assert.equal(gauge.size, 4);
        // Millisecond scrape jitter survives: the second sample of host-1 is at +15 s + 138 ms.
        const host1 = [...gauge.entries()].find(([k]) => k.includes("host-1"))![1];
        assert.equal(host1[1][0], T0 + 15_000 + 138);
        assert.equal(got.get("harvest_dense")!.values().next().value!.length, 14_401);
    });

    it("raw mode falls back to m[Δ] instant queries where remote read is unavailable, with the same samples", async () => {
        const proxy = await startProxy({ target: () => prom.url, fault: (r) => (r.url.startsWith("/api/v1/read") ? { status: 404, body: "404 page not found" } : undefined) });
        try {
            const out = path.join(dir, "raw-fallback.json");
            const events: string[] = [];
            const m = await harvest(opts({ endpoint: proxy.url, mode: "raw", queries: RAW_QUERIES, output: out, onEvent: (e) => e.type === "fallback" && events.push(e.reason) }));
            assert.deepEqual(m.queries.map((q) => q.mode), RAW_QUERIES.map(() => "raw-instant"));
            assert.match(events[0], /remote read not available \(HTTP 404/);
            // Sliced at T0+1h, where harvest_dense has a sample exactly on the boundary (kept once).
            assert.ok(m.queries[3].requests >= 2, "the 4 h window was sliced");
            const got = readJson(out);
            for (const q of RAW_QUERIES) {
                sameSamples(got.get(q)!, await directRaw(prom.url, q, T0, T_END), q);
            }
        } finally {
            await proxy.close();
        }
    });

    it("auto mode reads selectors raw and expressions at 30 s by default", async () => {
        const m = await harvest(opts({ queries: ["harvest_gauge", "sum(harvest_gauge)"], output: path.join(dir, "auto.json") }));
        assert.deepEqual(m.queries.map((q) => q.mode), ["raw-remote-read", "range"]);
        assert.equal(m.stepMs, 30_000);
        assert.equal(m.queries[1].samples, 481);
    });

    it("CSV keeps commas, quotes, newlines and non-ASCII in label values, and NaN/±Inf", async () => {
        const out = path.join(dir, "weird.csv");
        await harvest(opts({ mode: "raw", queries: ["harvest_gauge", "harvest_special"], format: "csv", output: out }));
        const text = fs.readFileSync(out, "utf8");
        const rows = parseCsv(text);
        assert.deepEqual(rows[0], ["query", "metric", "timestamp", "value", "instance", "job", "kind", "note"]);
        const notes = new Set(rows.slice(1).filter((r) => r[0] === "harvest_gauge").map((r) => r[7]));
        assert.deepEqual([...notes].sort(), [...WEIRD_NOTES].sort());
        assert.equal(rows.length, 1 + 3840 + 961);
        assert.deepEqual(rows[1], ["harvest_gauge", "harvest_gauge", "2024-01-01T00:00:00.000Z", "0", "host-0", "node", "", "a,b"]);
        const special = rows.filter((r) => r[0] === "harvest_special").slice(0, 4).map((r) => r[3]);
        assert.deepEqual(special, ["NaN", "+Inf", "-Inf", "1.5"]);
        // An independent reader (pyarrow's CSV parser) agrees on labels and special values.
        const py = python(`
import sys, json, pyarrow.csv as c, math
t = c.read_csv(sys.argv[1], convert_options=c.ConvertOptions(null_values=[""])).to_pydict()
sp = [v for q, v in zip(t["query"], t["value"]) if q == "harvest_special"][:4]
print(json.dumps({"rows": len(t["query"]), "notes": sorted(set(n for n in t["note"] if n)), "special": [str(v) for v in sp]}))`, [out]);
        assert.equal(py.rows, 3840 + 961);
        assert.deepEqual(py.notes, [...WEIRD_NOTES].sort());
        assert.deepEqual(py.special, ["nan", "inf", "-inf", "1.5"]);
    });

    it("Parquet reads back in pyarrow with UTC ms timestamps, float64 specials and sparse label columns", async () => {
        const out = path.join(dir, "out.parquet");
        const m = await harvest(opts({ mode: "raw", queries: ["harvest_gauge", "harvest_special", "harvest_requests_total"], format: "parquet", output: out }));
        const py = python(`
import sys, json, math, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
t = f.read()
meta = f.metadata
d = t.to_pydict()
first = {k: (str(v[0]) if k == "timestamp" else v[0]) for k, v in d.items()}
sp = [v for q, v in zip(d["query"], d["value"]) if q == "harvest_special"][:4]
print(json.dumps({
  "schema": {f.name: str(f.type) for f in t.schema},
  "rows": t.num_rows, "first": first, "special": [str(v) for v in sp],
  "notes": sorted(set(n for n in d["note"] if n is not None)),
  "method_nulls": sum(1 for x in d["method"] if x is None),
  "encodings": list(meta.row_group(0).column(0).encodings), "codec": meta.row_group(0).column(0).compression,
  "kv": list((f.schema_arrow.metadata or {}).keys()) and [k.decode() for k in f.schema_arrow.metadata.keys()],
}))`, [out]);
        assert.equal(py.rows, m.rows);
        assert.equal(py.rows, 3840 + 961 + 2 * 961);
        assert.equal(py.schema.timestamp, "timestamp[ms, tz=UTC]");
        assert.equal(py.schema.value, "double");
        assert.equal(py.schema.note, "string");
        assert.equal(py.first.timestamp, "2024-01-01 00:00:00+00:00");
        assert.deepEqual([py.first.query, py.first.metric, py.first.instance, py.first.note, py.first.method], ["harvest_gauge", "harvest_gauge", "host-0", "a,b", null]);
        assert.deepEqual(py.special, ["nan", "inf", "-inf", "1.5"]);
        assert.deepEqual(py.notes, [...WEIRD_NOTES].sort());
        assert.equal(py.method_nulls, 3840 + 961);
        assert.ok(py.encodings.includes("RLE_DICTIONARY"));
        assert.equal(py.codec, "ZSTD");
        assert.ok(py.kv.includes("charon.harvest"));
    });

    it("retries 500 and 503 answers and then returns the same data", async () => {
        const proxy = await startProxy({
            target: () => prom.url,
            fault: (r) => (r.n === 2 ? { status: 500 } : r.n === 3 ? { status: 503, body: JSON.stringify({ status: "error", errorType: "timeout", error: "query timed out" }) } : r.n === 4 ? { destroy: true } : undefined),
        });
        try {
            const out = path.join(dir, "retried.json");
            const retries: string[] = [];
            const m = await harvest(opts({ endpoint: proxy.url, mode: "range", step: 60_000, queries: ["harvest_gauge"], output: out, onEvent: (e) => e.type === "retry" && retries.push(e.error) }));
            assert.equal(m.queries[0].status, "ok");
            assert.equal(m.queries[0].retries, 3);
            assert.match(retries[0], /HTTP 500/);
            assert.match(retries[1], /HTTP 503 timeout: query timed out/);
            sameSamples(readJson(out).get("harvest_gauge")!, await directRange(prom.url, "harvest_gauge", T0, T_END, 60_000), "after retries");
        } finally {
            await proxy.close();
        }
    });

    it("reports invalid PromQL with the server's text and still writes the other queries under their own names", async () => {
        const out = path.join(dir, "invalid.json");
        const m = await harvest(opts({ mode: "range", step: 60_000, queries: ["harvest_special", "sum(", "harvest_gauge"], output: out }));
        assert.equal(m.status, "partial");
        assert.deepEqual(m.queries.map((q) => q.status), ["ok", "failed", "ok"]);
        assert.equal(m.queries[1].requests, 1, "bad_data is never retried");
        assert.match(m.queries[1].error!, /^HTTP 400 bad_data: 1:5: parse error: unclosed left parenthesis/);
        const doc = JSON.parse(fs.readFileSync(out, "utf8"));
        assert.deepEqual(doc.results.map((r: any) => r.query), ["harvest_special", "harvest_gauge"]);
        assert.deepEqual(doc.errors.map((e: any) => e.query), ["sum("]);
        assert.equal(doc.total_queries, 2);
        const got = fromHarvestJson(doc);
        sameSamples(got.get("harvest_gauge")!, await directRange(prom.url, "harvest_gauge", T0, T_END, 60_000), "harvest_gauge");
        sameSamples(got.get("harvest_special")!, await directRange(prom.url, "harvest_special", T0, T_END, 60_000), "harvest_special");
    });

    describe("under --web.route-prefix=/prometheus behind a tenant-checking proxy (Mimir layout)", () => {
        let prefixed: TestPrometheus;
        let proxy: TestProxy;
        before(async () => {
            prefixed = await startPrometheus({ dataDir: undefined, families: fixtureFamilies(), routePrefix: "/prometheus" });
            proxy = await startProxy({ target: () => `http://127.0.0.1:${prefixed.port}`, requireHeader: "X-Scope-OrgID" });
        });
        after(async () => {
            await proxy?.close();
            await prefixed?.stop();
        });

        it("sends the tenant on every request and matches direct queries in range and raw mode", async () => {
            const base = `${proxy.url}/prometheus`;
            const hdr = { "X-Scope-OrgID": "team-a" };
            const rangeOut = path.join(dir, "tenant-range.json");
            const rawOut = path.join(dir, "tenant-raw.json");
            await harvest(opts({ endpoint: base, tenant: "team-a", mode: "range", step: 120_000, queries: ["harvest_gauge"], output: rangeOut }));
            const raw = await harvest(opts({ endpoint: base, tenant: "team-a", mode: "raw", queries: ["harvest_requests_total"], output: rawOut }));
            assert.equal(raw.queries[0].mode, "raw-remote-read");
            sameSamples(readJson(rangeOut).get("harvest_gauge")!, await directRange(base, "harvest_gauge", T0, T_END, 120_000, hdr), "range via prefix");
            sameSamples(readJson(rawOut).get("harvest_requests_total")!, await directRaw(base, "harvest_requests_total", T0, T_END, hdr), "raw via prefix");
            const ours = proxy.requests.filter((r) => r.headers["user-agent"] === undefined || !String(r.headers["user-agent"]).includes("node"));
            assert.ok(ours.some((r) => r.url === "/prometheus/api/v1/read"));
            assert.ok(proxy.requests.every((r) => r.headers["x-scope-orgid"] === "team-a"));
        });

        it("fails before any query when the tenant is missing, quoting the gateway", async () => {
            await assert.rejects(harvest(opts({ endpoint: `${proxy.url}/prometheus`, mode: "range", step: 60_000, output: path.join(dir, "notenant.json") })),
                (e: unknown) => e instanceof EndpointError && /HTTP 401: no org id/.test(e.message));
            assert.equal(fs.existsSync(path.join(dir, "notenant.json.manifest.json")), false);
        });
    });
});
