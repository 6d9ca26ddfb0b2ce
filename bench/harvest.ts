/**
 * Harvester benchmark: backfills ≥ 3M samples (default 60 metrics × 25 series × 2 h at 2 s = 5.4M) into a real
 * Prometheus, then measures in one run
 *   anchors: raw keep-alive transfer of the same query_range responses (node:http, 1 and 4 at a time) and
 *            `promtool query range` for the same queries;
 *   harvester end-to-end (library call in a fresh process, output written): range → CSV, range → Parquet,
 *            raw (remote read) → Parquet and → CSV; peak RSS of each, and again with the window halved, so the
 *            table shows whether memory grows when the window doubles.
 * Prints a table of times and ratios. Run: npx tsx bench/harvest.ts [--metrics 60 --series 25 --hours 2 --reps 3]
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { harvest, type HarvestOptions } from "../harvester/harvest";
import { promSeconds } from "../harvester/time";
import { PROMTOOL_BIN, backfillFamilies, startPrometheus, type OmFamily } from "../test/helpers/prometheus";

const execFileP = promisify(execFile);

interface Args { metrics: number; series: number; hours: number; intervalS: number; reps: number; concurrency: number }

function parseBenchArgs(argv: string[]): Args {
    const get = (k: string, d: number): number => {
        const i = argv.indexOf(`--${k}`);
        return i >= 0 ? Number(argv[i + 1]) : d;
    };
    return { metrics: get("metrics", 60), series: get("series", 25), hours: get("hours", 2), intervalS: get("interval", 2),
        reps: get("reps", 3), concurrency: get("concurrency", 4) };
}

const T0 = Date.UTC(2024, 0, 1);

function* families(a: Args): Generator<OmFamily> {
    const n = Math.round((a.hours * 3600) / a.intervalS) + 1;
    for (let m = 0; m < a.metrics; m++) {
        const counter = m % 2 === 0;
        const name = `bench_metric_${String(m).padStart(2, "0")}`;
        yield {
            name, type: counter ? "counter" : "gauge",
            series: Array.from({ length: a.series }, (_, s) => {
                let v = s * 10;
                let seed = m * 1000 + s + 1;
                const samples: [number, number][] = new Array(n);
                for (let i = 0; i < n; i++) {
                    seed = (seed * 1103515245 + 12345) % 2147483648;
                    const r = seed / 2147483648;
                    v = counter ? v + Math.floor(r * 100) : Math.round((50 + 40 * Math.sin(i / 50 + s) + r) * 1000) / 1000;
                    samples[i] = [T0 + i * a.intervalS * 1000, v];
                }
                return {
                    name: counter ? `${name}_total` : name,
                    labels: { instance: `10.0.${m}.${s}:9100`, job: "bench", pod: `pod-${s}`, namespace: "charon" },
                    samples,
                };
            }),
        };
    }
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

/** Raw keep-alive transfer of each query_range body (no parsing), `conc` at a time. Returns ms and bytes. */
async function rawTransfer(url: string, queries: string[], start: number, end: number, stepMs: number, conc: number): Promise<{ ms: number; bytes: number }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
    let bytes = 0;
    const one = (q: string): Promise<void> => new Promise((resolve, reject) => {
        const body = new URLSearchParams({ query: q, start: promSeconds(start), end: promSeconds(end), step: promSeconds(stepMs) }).toString();
        const req = http.request(`${url}/api/v1/query_range`, {
            method: "POST", agent,
            headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) },
        }, (res) => {
            res.on("data", (c: Buffer) => { bytes += c.length; });
            res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on("error", reject);
        req.end(body);
    });
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: conc }, async () => {
        while (next < queries.length) {
            await one(queries[next++]);
        }
    }));
    const ms = performance.now() - t0;
    agent.destroy();
    return { ms, bytes };
}

async function promtoolRange(url: string, queries: string[], start: number, end: number, stepMs: number): Promise<number> {
    const t0 = performance.now();
    for (const q of queries) {
        await execFileP(PROMTOOL_BIN, ["query", "range", `--start=${promSeconds(start)}`, `--end=${promSeconds(end)}`,
            `--step=${stepMs / 1000}s`, url, q], { maxBuffer: 1 << 30 });
    }
    return performance.now() - t0;
}

interface WorkerResult { ms: number; maxRssMb: number; samples: number; rows: number; bytes: number; failed: number }

/** Runs one harvest in a fresh process (so RSS is the harvest's own) and returns its timing and peak RSS. */
function runWorker(opts: Omit<HarvestOptions, "onEvent">): Promise<WorkerResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, __filename, "--worker", JSON.stringify(opts)], {
            stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
        child.on("exit", (code) => {
            const line = out.trim().split("\n").pop() ?? "";
            if (code !== 0) {
                reject(new Error(`worker exited ${code}: ${out}`));
                return;
            }
            resolve(JSON.parse(line) as WorkerResult);
        });
    });
}

async function worker(json: string): Promise<void> {
    const opts = JSON.parse(json) as HarvestOptions;
    const t0 = performance.now();
    const m = await harvest(opts);
    const ms = performance.now() - t0;
    const size = fs.statSync(opts.output).size;
    process.stdout.write(`${JSON.stringify({
        ms, maxRssMb: process.resourceUsage().maxRSS / 1024, samples: m.totals.samples, rows: m.rows ?? 0, bytes: size,
        failed: m.totals.failed,
    })}\n`);
}

function fmtMs(ms: number): string {
    return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

async function main(): Promise<void> {
    if (process.argv[2] === "--worker") {
        await worker(process.argv[3]);
        return;
    }
    const a = parseBenchArgs(process.argv.slice(2));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "charon-bench-"));
    // --data DIR keeps the backfilled TSDB between runs (backfilled on first use).
    const dataArg = process.argv.indexOf("--data");
    const dataDir = dataArg > 0 ? path.resolve(process.argv[dataArg + 1]) : path.join(work, "data");
    const stepMs = a.intervalS * 1000;
    const end = T0 + a.hours * 3600_000;
    const halfEnd = T0 + (a.hours * 3600_000) / 2;
    const queries = Array.from({ length: a.metrics }, (_, m) => `bench_metric_${String(m).padStart(2, "0")}${m % 2 === 0 ? "_total" : ""}`);
    const expected = a.metrics * a.series * (Math.round((a.hours * 3600) / a.intervalS) + 1);
    console.log(`# charon-harvest bench: ${a.metrics} metrics × ${a.series} series × ${a.hours} h at ${a.intervalS} s = ${(expected / 1e6).toFixed(2)}M samples; ${os.cpus().length} CPUs, node ${process.version}`);
    let t = performance.now();
    if (!fs.existsSync(path.join(dataDir, "bench-complete"))) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        await backfillFamilies(families(a), dataDir, work);
        fs.writeFileSync(path.join(dataDir, "bench-complete"), JSON.stringify(a));
        console.log(`backfill (promtool tsdb create-blocks-from openmetrics): ${fmtMs(performance.now() - t)}`);
    }
    const prom = await startPrometheus({ dataDir });
    if (process.argv.includes("--serve")) {
        console.log(`serving ${prom.url} (Ctrl-C to stop)`);
        await new Promise(() => undefined);
    }
    try {
        // Warm-up: one pass so every contender sees the same warm page cache and TSDB.
        await rawTransfer(prom.url, queries, T0, end, stepMs, 4);

        const seq: number[] = [];
        const par: number[] = [];
        let bytes = 0;
        for (let r = 0; r < a.reps; r++) {
            const s = await rawTransfer(prom.url, queries, T0, end, stepMs, 1);
            seq.push(s.ms);
            bytes = s.bytes;
            par.push((await rawTransfer(prom.url, queries, T0, end, stepMs, a.concurrency)).ms);
        }
        t = performance.now();
        const promtool = await promtoolRange(prom.url, queries, T0, end, stepMs);
        const anchors = { seq: median(seq), par: median(par), promtool };

        const runs: { name: string; opts: Omit<HarvestOptions, "onEvent"> }[] = [
            { name: "harvester range → CSV", opts: { mode: "range", step: stepMs, format: "csv" } as HarvestOptions },
            { name: "harvester range → Parquet", opts: { mode: "range", step: stepMs, format: "parquet" } as HarvestOptions },
            { name: "harvester raw → Parquet", opts: { mode: "raw", format: "parquet" } as HarvestOptions },
            { name: "harvester raw → CSV", opts: { mode: "raw", format: "csv" } as HarvestOptions },
        ];
        const results: { name: string; full: WorkerResult; halfRss: number }[] = [];
        for (const r of runs) {
            const full: WorkerResult[] = [];
            for (let i = 0; i < a.reps; i++) {
                const output = path.join(work, `out-${results.length}-${i}.${r.opts.format}`);
                full.push(await runWorker({ ...r.opts, endpoint: prom.url, queries, start: T0, end, concurrency: a.concurrency, output }));
                fs.rmSync(output, { force: true });
            }
            const half = await runWorker({
                ...r.opts, endpoint: prom.url, queries, start: T0, end: halfEnd, concurrency: a.concurrency,
                output: path.join(work, `half-${results.length}.${r.opts.format}`),
            });
            const best = full.sort((x, y) => x.ms - y.ms)[Math.floor(full.length / 2)];
            if (best.failed > 0 || best.samples !== expected) {
                throw new Error(`${r.name}: ${best.failed} failed queries, ${best.samples} samples (expected ${expected})`);
            }
            results.push({ name: r.name, full: best, halfRss: half.maxRssMb });
        }

        const pad = (s: string, n: number): string => s.padEnd(n);
        const rpad = (s: string, n: number): string => s.padStart(n);
        console.log("");
        console.log(`window ${new Date(T0).toISOString()} … ${new Date(end).toISOString()}, step ${a.intervalS}s, ${queries.length} queries, concurrency ${a.concurrency}, median of ${a.reps}`);
        console.log(`${pad("path", 36)}${rpad("time", 10)}${rpad("÷ xfer(1)", 11)}${rpad("÷ xfer(4)", 11)}${rpad("promtool ÷", 12)}${rpad("RSS", 9)}${rpad("RSS ½win", 10)}${rpad("output", 10)}`);
        const row = (name: string, ms: number, rss?: number, half?: number, out?: number): void => {
            console.log(`${pad(name, 36)}${rpad(fmtMs(ms), 10)}${rpad(`${(ms / anchors.seq).toFixed(2)}×`, 11)}${rpad(`${(ms / anchors.par).toFixed(2)}×`, 11)}`
                + `${rpad(`${(anchors.promtool / ms).toFixed(1)}×`, 12)}${rpad(rss === undefined ? "" : `${Math.round(rss)} MB`, 9)}`
                + `${rpad(half === undefined ? "" : `${Math.round(half)} MB`, 10)}${rpad(out === undefined ? "" : `${(out / 1e6).toFixed(0)} MB`, 10)}`);
        };
        row("anchor: raw JSON transfer, 1 at a time", anchors.seq, undefined, undefined, bytes);
        row(`anchor: raw JSON transfer, ${a.concurrency} at a time`, anchors.par);
        row("anchor: promtool query range (seq.)", anchors.promtool);
        for (const r of results) {
            row(r.name, r.full.ms, r.full.maxRssMb, r.halfRss, r.full.bytes);
        }
        console.log(`(${(expected / 1e6).toFixed(2)}M samples; JSON ${(bytes / expected).toFixed(1)} B/sample; "÷ xfer" = time / anchor time, lower is better; "promtool ÷" = promtool time / time)`);
        console.log("targets: range ≤ 2.0× xfer, raw ≤ 1.0× xfer, ≥ 10× faster than promtool, RSS ≤ 300 MB and flat when the window doubles");
    } finally {
        await prom.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
