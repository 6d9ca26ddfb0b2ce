/**
 * Byte identity of every output path (range/raw × CSV/Parquet, JSON, the instant-query fallback), on the main
 * thread and with worker threads, on a
 * deterministic data set, against digests captured from the harvester before its CPU work (issue 14): a change
 * that alters one byte of any output fails here. The data set is the integration fixture plus 40 series at 1 s
 * for 4 h (576,040 samples), so Parquet crosses a row-group boundary and range mode splits its requests.
 *
 * The digests live in golden-outputs.json (the ZSTD ones were captured the same way from commit 32c0b00, the last
 * before the changes, by running this file there: ZSTD output depends on the zstd that Node bundles, so a Node
 * upgrade may change them, which this test then reports).  Masked before hashing: the server's port (the Parquet footer records
 * the endpoint) and JSON's `timestamp` (the time of writing). To record them anew (only when an output change is
 * intended and reviewed): GOLDEN_CAPTURE=1 npx mocha test/harvester/golden.test.ts
 */
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type HarvestOptions, harvest } from "../../harvester/harvest";
import { type OmFamily, type TestPrometheus, startPrometheus } from "../helpers/prometheus";
import { startProxy } from "../helpers/prometheus-proxy";
import { T0, T_END, fixtureFamilies } from "./fixture";

const GOLDEN = path.join(__dirname, "golden-outputs.json");
const RANGE = ["harvest_gauge", "harvest_special", "rate(harvest_requests_total[1m])", "harvest_requests_total", "golden_wide", "sum by (shard) (golden_wide)"];
const RAW = ["harvest_gauge", "harvest_special", "harvest_requests_total", "harvest_dense", "golden_wide"];

function wideFamily(): OmFamily {
    const n = 4 * 3600 + 1;
    return {
        name: "golden_wide", type: "gauge",
        series: Array.from({ length: 40 }, (_, s) => ({
            name: "golden_wide",
            labels: { shard: `s${s % 4}`, replica: String(s) },
            samples: Array.from({ length: n }, (_, i) => [T0 + i * 1000, ((i * (s + 3)) % 997) / 8 + (i % 50 === 0 ? 0.1 : 0)] as [number, number]),
        })),
    };
}

interface Case {
    name: string;
    options: Partial<HarvestOptions>;
    /** Serve through a proxy that refuses remote read (the m[Δ] fallback). */
    noRemoteRead?: boolean;
}

const CASES: Case[] = [
    { name: "range.csv", options: { mode: "range", step: 1000, queries: RANGE, format: "csv" } },
    { name: "range-none.parquet", options: { mode: "range", step: 1000, queries: RANGE, format: "parquet", parquetCompression: "none" } },
    { name: "range-snappy.parquet", options: { mode: "range", step: 1000, queries: RANGE, format: "parquet", parquetCompression: "snappy" } },
    { name: "range-zstd.parquet", options: { mode: "range", step: 1000, queries: RANGE, format: "parquet" } },
    { name: "range.json", options: { mode: "range", step: 15_000, queries: RANGE, format: "json" } },
    { name: "raw.csv", options: { mode: "raw", queries: RAW, format: "csv" } },
    { name: "raw-none.parquet", options: { mode: "raw", queries: RAW, format: "parquet", parquetCompression: "none" } },
    { name: "raw-snappy.parquet", options: { mode: "raw", queries: RAW, format: "parquet", parquetCompression: "snappy" } },
    { name: "raw-zstd.parquet", options: { mode: "raw", queries: RAW, format: "parquet" } },
    { name: "raw.json", options: { mode: "raw", queries: RAW, format: "json" } },
    { name: "raw-instant.csv", options: { mode: "raw", queries: RAW, format: "csv" }, noRemoteRead: true },
    { name: "auto-small-budget.csv", options: { mode: "auto", step: 1000, queries: ["golden_wide", "sum by (shard) (golden_wide)"], format: "csv", sampleBudget: 100_000 } },
];

/** SHA-256 of an output with the run-dependent parts masked (same length, so structure is untouched). */
export function maskedDigest(file: string, ports: number[]): { sha256: string; bytes: number } {
    const buf = fs.readFileSync(file);
    for (const port of ports) {
        const needle = Buffer.from(`127.0.0.1:${port}`);
        const mask = Buffer.from(`127.0.0.1:${"P".repeat(String(port).length)}`);
        for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + needle.length)) {
            mask.copy(buf, at);
        }
    }
    const ts = /"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/g;
    const text = file.endsWith(".json") ? Buffer.from(buf.toString("latin1").replace(ts, "\"timestamp\":\"0000-00-00T00:00:00.000Z\""), "latin1") : buf;
    return { sha256: crypto.createHash("sha256").update(text).digest("hex"), bytes: buf.length };
}

describe("harvester outputs are byte-identical to the captured ones (all paths)", function () {
    this.timeout(300_000);
    let prom: TestPrometheus;
    let dir: string;
    const golden = JSON.parse(fs.readFileSync(GOLDEN, "utf8")) as Record<string, { sha256: string; bytes: number }>;
    const captured: Record<string, { sha256: string; bytes: number }> = {};

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-golden-"));
        prom = await startPrometheus({ families: [...fixtureFamilies(), wideFamily()] });
    });
    after(async () => {
        await prom?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
        if (process.env.GOLDEN_CAPTURE === "1") {
            fs.writeFileSync(GOLDEN, JSON.stringify(captured, null, 2) + "\n");
        }
    });

    // Each path on the main thread only and with worker threads fetching, decoding and rendering (same bytes).
    for (const [c, workers] of CASES.flatMap((k) => [[k, 0], [k, 3]] as const)) {
        it(`${c.name} (${workers === 0 ? "main thread only" : `${workers} worker threads`})`, async () => {
            const proxy = c.noRemoteRead === true
                ? await startProxy({ target: () => prom.url, fault: (r) => (r.url.startsWith("/api/v1/read") ? { status: 404, body: "404 page not found" } : undefined) })
                : undefined;
            const url = proxy?.url ?? prom.url;
            const port = Number(new URL(url).port);
            try {
                assert.equal(String(port).length, 5, "port masking assumes a 5-digit ephemeral port");
                const output = path.join(dir, c.name);
                const m = await harvest({ endpoint: url, start: T0, end: T_END, output, queries: [], workers, ...c.options });
                assert.equal(m.status, "complete");
                const d = maskedDigest(output, [port]);
                captured[c.name] = d;
                if (process.env.GOLDEN_CAPTURE !== "1") {
                    assert.deepEqual(d, golden[c.name], `${c.name} differs from the captured output`);
                }
            } finally {
                await proxy?.close();
            }
        });
    }
});
