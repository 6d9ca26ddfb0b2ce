/**
 * Harvester benchmark: backfills a real Prometheus (default 60 metrics × 20 series × 2 h at 2 s = 4.32M samples),
 * then measures in one run, each repeated --reps times (medians printed):
 *   anchors: `curl` moving the same query_range responses, one at a time and 4 at a time (keep-alive, body
 *            discarded), and `promtool query range` for the same queries (with --promtool);
 *   the harvester as a user runs it: `node bin/charon-harvest.js …` (range → CSV, range → Parquet, raw → Parquet,
 *            raw → CSV), wall time and client CPU-seconds (user+sys of the process tree, from /usr/bin/time),
 *            peak RSS, and again with the window halved so the table shows whether memory grows with the window;
 *   launch: `charon-harvest --version` through the bin and through `npm run harvest`;
 *   hand-written pieces against libraries (in this process, CPU-seconds): the Parquet writer against
 *            hyparquet-writer at equal output, the JSON scanner against JSON.parse, the XOR chunk decoder against
 *            a straightforward bit-at-a-time decoder (no maintained JavaScript decoder of TSDB chunks exists), the
 *            bulk HTTP transport against node:http and undici moving the same query_range bodies.
 * --via npm runs the harvests through `npm run harvest --` instead of the bin. Each output's SHA-256 (with the server's port masked) is printed, so two runs on different code prove identical
 * output. Run: npx tsx bench/harvest.ts [--data DIR] [--reps 3] [--metrics 60 --series 20 --hours 2] [--promtool]
 *              [--only range-csv,raw-parquet] [--no-compare] [--workers N] [--via npm]
 */
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { promtoolBin, backfillFamilies, startPrometheus, type OmFamily } from "../test/helpers/prometheus";

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "charon-harvest.js");

interface Args { metrics: number; series: number; hours: number; intervalS: number; reps: number; concurrency: number }

function parseBenchArgs(argv: string[]): Args {
    const get = (k: string, d: number): number => {
        const i = argv.indexOf(`--${k}`);
        return i >= 0 ? Number(argv[i + 1]) : d;
    };
    return { metrics: get("metrics", 60), series: get("series", 20), hours: get("hours", 2), intervalS: get("interval", 2),
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

/** One measured command: wall ms, CPU-seconds of its process tree, peak RSS (largest process) in MB. */
interface Measured { ms: number; cpuS: number; rssMb: number; stdout: string; stderr: string; code: number }

/** Runs argv under GNU time (rusage of the whole waited-for process tree). */
function measure(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Measured> {
    return new Promise((resolve, reject) => {
        const marker = "@@rusage";
        const t0 = performance.now();
        const child = spawn("/usr/bin/time", ["-f", `${marker} %U %S %M`, ...argv], {
            cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        child.on("error", reject);
        child.on("exit", (code) => {
            const ms = performance.now() - t0;
            const line = stderr.split("\n").reverse().find((l) => l.startsWith(marker));
            if (line === undefined) {
                reject(new Error(`no rusage from /usr/bin/time for ${argv.join(" ")}: ${stderr}`));
                return;
            }
            const [, u, s, m] = line.split(" ");
            resolve({ ms, cpuS: Number(u) + Number(s), rssMb: Number(m) / 1024, stdout, stderr: stderr.replace(/^@@rusage.*\n?/m, ""), code: code ?? -1 });
        });
    });
}

function curlArgs(url: string, queries: string[], start: number, end: number, stepMs: number, parallel: number): string[] {
    const args = ["curl", "-sS", "--fail"];
    if (parallel > 1) {
        args.push("--parallel", "--parallel-max", String(parallel));
    }
    queries.forEach((q, i) => {
        if (i > 0) {
            args.push("--next");
        }
        args.push("-o", "/dev/null", "--data-urlencode", `query=${q}`, "-d", `start=${start / 1000}`, "-d", `end=${end / 1000}`,
            "-d", `step=${stepMs / 1000}`, `${url}/api/v1/query_range`);
    });
    return args;
}

async function promtoolRange(url: string, queries: string[], start: number, end: number, stepMs: number): Promise<number> {
    const t0 = performance.now();
    for (const q of queries) {
        await execFileP(promtoolBin(), ["query", "range", `--start=${start / 1000}`, `--end=${end / 1000}`,
            `--step=${stepMs / 1000}s`, url, q], { maxBuffer: 1 << 30 });
    }
    return performance.now() - t0;
}

/** SHA-256 of a file with the test server's port masked (the Parquet footer records the endpoint). */
function outputDigest(file: string, port: number): string {
    const buf = fs.readFileSync(file);
    const needle = Buffer.from(`127.0.0.1:${port}`);
    const mask = Buffer.from(`127.0.0.1:${"P".repeat(String(port).length)}`);
    for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + needle.length)) {
        mask.copy(buf, at);
    }
    return crypto.createHash("sha256").update(buf).digest("hex").slice(0, 16);
}

function fmtMs(ms: number): string {
    return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function load(): string {
    return os.loadavg().map((x) => x.toFixed(2)).join(" ");
}

interface PathSpec { key: string; name: string; args: string[]; format: string }

async function main(): Promise<void> {
    const argv = process.argv.slice(2);
    const a = parseBenchArgs(argv);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "charon-bench-"));
    // --data DIR keeps the backfilled TSDB between runs (backfilled on first use).
    const dataArg = argv.indexOf("--data");
    const dataDir = dataArg >= 0 ? path.resolve(argv[dataArg + 1]) : path.join(work, "data");
    const onlyArg = argv.indexOf("--only");
    const only = onlyArg >= 0 ? new Set(argv[onlyArg + 1].split(",")) : undefined;
    const stepMs = a.intervalS * 1000;
    const end = T0 + a.hours * 3600_000;
    const halfEnd = T0 + (a.hours * 3600_000) / 2;
    const queries = Array.from({ length: a.metrics }, (_, m) => `bench_metric_${String(m).padStart(2, "0")}${m % 2 === 0 ? "_total" : ""}`);
    const expected = a.metrics * a.series * (Math.round((a.hours * 3600) / a.intervalS) + 1);
    console.log(`# charon-harvest bench: ${a.metrics} metrics × ${a.series} series × ${a.hours} h at ${a.intervalS} s = ${(expected / 1e6).toFixed(2)}M samples; ${os.cpus().length} CPUs, node ${process.version}; load average ${load()}`);
    let t = performance.now();
    const want = JSON.stringify(a);
    const stamp = path.join(dataDir, "bench-complete");
    if (!fs.existsSync(stamp) || JSON.parse(fs.readFileSync(stamp, "utf8")).series !== a.series || JSON.parse(fs.readFileSync(stamp, "utf8")).metrics !== a.metrics
        || JSON.parse(fs.readFileSync(stamp, "utf8")).hours !== a.hours) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        await backfillFamilies(families(a), dataDir, work);
        fs.writeFileSync(stamp, want);
        console.log(`backfill (promtool tsdb create-blocks-from openmetrics): ${fmtMs(performance.now() - t)}`);
    }
    const prom = await startPrometheus({ dataDir });
    if (argv.includes("--serve")) {
        console.log(`serving ${prom.url} (Ctrl-C to stop)`);
        await new Promise(() => undefined);
    }
    const queriesFile = path.join(work, "queries.txt");
    fs.writeFileSync(queriesFile, queries.join("\n") + "\n");
    try {
        // Warm-up: one pass so every contender sees the same warm page cache and TSDB.
        await measure(curlArgs(prom.url, queries, T0, end, stepMs, 4));

        const seq: Measured[] = [];
        const par: Measured[] = [];
        for (let r = 0; r < a.reps; r++) {
            seq.push(await measure(curlArgs(prom.url, queries, T0, end, stepMs, 1)));
            par.push(await measure(curlArgs(prom.url, queries, T0, end, stepMs, a.concurrency)));
        }
        const anchor = { seq: median(seq.map((m) => m.ms)), seqCpu: median(seq.map((m) => m.cpuS)), par: median(par.map((m) => m.ms)), parCpu: median(par.map((m) => m.cpuS)) };
        t = performance.now();
        const promtool = argv.includes("--promtool") ? await promtoolRange(prom.url, queries, T0, end, stepMs) : undefined;

        // --via npm runs each harvest as `npm run harvest -- …` (what a user types), default the bin directly.
        const via = argv.includes("--via") && argv[argv.indexOf("--via") + 1] === "npm" ? ["npm", "run", "--silent", "harvest", "--"] : [process.execPath, BIN];
        // --workers N is passed to every harvest (default: the harvester's own choice for this machine).
        const workersArg = argv.indexOf("--workers");
        const workers = workersArg >= 0 ? ["--workers", argv[workersArg + 1]] : [];
        const window = ["--start", String(T0 / 1000), "--queries-file", queriesFile, "--concurrency", String(a.concurrency), "--quiet", ...workers];
        const paths: PathSpec[] = [
            { key: "range-csv", name: "range → CSV", args: ["--mode", "range", "--step", `${a.intervalS}s`], format: "csv" },
            { key: "range-parquet", name: "range → Parquet", args: ["--mode", "range", "--step", `${a.intervalS}s`], format: "parquet" },
            { key: "raw-parquet", name: "raw → Parquet", args: ["--mode", "raw"], format: "parquet" },
            { key: "raw-csv", name: "raw → CSV", args: ["--mode", "raw"], format: "csv" },
        ].filter((p) => only === undefined || only.has(p.key));

        const results: { spec: PathSpec; ms: number; cpuS: number; rssMb: number; halfRssMb: number; bytes: number; digest: string; cpuRuns: number[]; msRuns: number[] }[] = [];
        for (const p of paths) {
            const runs: Measured[] = [];
            let bytes = 0;
            let digest = "";
            for (let i = 0; i < a.reps; i++) {
                const output = path.join(work, `out-${p.key}-${i}.${p.format}`);
                const m = await measure([...via, prom.url, ...window, "--end", String(end / 1000), ...p.args, "--format", p.format, "--output", output]);
                if (m.code !== 0) {
                    throw new Error(`${p.name}: exit ${m.code}: ${m.stderr}`);
                }
                const manifest = JSON.parse(fs.readFileSync(`${output}.manifest.json`, "utf8")) as { rows?: number; totals: { samples: number } };
                if (manifest.totals.samples !== expected || manifest.rows !== expected) {
                    throw new Error(`${p.name}: ${manifest.totals.samples} samples, ${manifest.rows} rows (expected ${expected})`);
                }
                bytes = fs.statSync(output).size;
                const d = outputDigest(output, prom.port);
                if (digest !== "" && d !== digest) {
                    throw new Error(`${p.name}: output differs between repetitions (${digest} vs ${d})`);
                }
                digest = d;
                fs.rmSync(output, { force: true });
                fs.rmSync(`${output}.manifest.json`, { force: true });
                runs.push(m);
            }
            const halfOut = path.join(work, `half-${p.key}.${p.format}`);
            const half = await measure([...via, prom.url, ...window, "--end", String(halfEnd / 1000), ...p.args, "--format", p.format, "--output", halfOut]);
            fs.rmSync(halfOut, { force: true });
            results.push({
                spec: p, ms: median(runs.map((r) => r.ms)), cpuS: median(runs.map((r) => r.cpuS)), rssMb: median(runs.map((r) => r.rssMb)),
                halfRssMb: half.rssMb, bytes, digest, cpuRuns: runs.map((r) => r.cpuS), msRuns: runs.map((r) => r.ms),
            });
        }

        const launches: { name: string; runs: Measured[] }[] = [
            { name: "launch: node bin/charon-harvest.js --version", runs: [] },
            { name: "launch: npm run harvest -- --version", runs: [] },
        ];
        for (let i = 0; i < a.reps; i++) {
            launches[0].runs.push(await measure([process.execPath, BIN, "--version"]));
            launches[1].runs.push(await measure(["npm", "run", "--silent", "harvest", "--", "--version"]));
        }

        const pad = (s: string, n: number): string => s.padEnd(n);
        const rpad = (s: string, n: number): string => s.padStart(n);
        console.log("");
        console.log(`harvests run as: ${via.join(" ")} … ${workers.join(" ")}`);
        console.log(`window ${new Date(T0).toISOString()} … ${new Date(end).toISOString()}, step ${a.intervalS}s, ${queries.length} queries, concurrency ${a.concurrency}, median of ${a.reps}; load average ${load()}`);
        console.log(`${pad("path", 46)}${rpad("wall", 9)}${rpad("CPU-s", 8)}${rpad("÷ curl(1)", 11)}${rpad("÷ curl(4)", 11)}${rpad("RSS", 8)}${rpad("RSS ½win", 10)}${rpad("output", 9)}  sha256 (port masked)`);
        const row = (name: string, ms: number, cpuS: number, rss?: number, half?: number, out?: number, digest?: string): void => {
            console.log(`${pad(name, 46)}${rpad(fmtMs(ms), 9)}${rpad(cpuS.toFixed(2), 8)}${rpad(`${(ms / anchor.seq).toFixed(2)}×`, 11)}${rpad(`${(ms / anchor.par).toFixed(2)}×`, 11)}`
                + `${rpad(rss === undefined ? "" : `${Math.round(rss)} MB`, 8)}${rpad(half === undefined ? "" : `${Math.round(half)} MB`, 10)}`
                + `${rpad(out === undefined ? "" : `${(out / 1e6).toFixed(0)} MB`, 9)}  ${digest ?? ""}`);
        };
        row("anchor: curl query_range, 1 at a time", anchor.seq, anchor.seqCpu);
        row(`anchor: curl query_range, ${a.concurrency} at a time`, anchor.par, anchor.parCpu);
        if (promtool !== undefined) {
            row("anchor: promtool query range (seq.)", promtool, NaN);
        }
        for (const r of results) {
            row(`charon-harvest ${r.spec.name}`, r.ms, r.cpuS, r.rssMb, r.halfRssMb, r.bytes, r.digest);
        }
        for (const l of launches) {
            row(l.name, median(l.runs.map((m) => m.ms)), median(l.runs.map((m) => m.cpuS)));
        }
        console.log(`(${(expected / 1e6).toFixed(2)}M samples; "÷ curl" = wall time / anchor wall time, lower is better; CPU-s = user+sys of the process tree)`);
        console.log("repetitions (wall ms / CPU-s): " + results.map((r) => `${r.spec.key} ${r.msRuns.map((x) => Math.round(x)).join("/")} / ${r.cpuRuns.map((x) => x.toFixed(2)).join("/")}`).join("; "));
        console.log("targets: CPU-s range→CSV ≤ 0.8, range→Parquet ≤ 0.7, raw→Parquet ≤ 0.6, raw→CSV ≤ 0.7, launch ≤ 0.1 and ≤ 150 ms; RSS ≤ 300 MB, flat when the window doubles");
        if (!argv.includes("--no-compare")) {
            console.log("");
            await compareLibraries({ url: prom.url, queries, start: T0, end, stepMs, reps: a.reps, work });
        }
        console.log(`load average at the end: ${load()}`);
    } finally {
        await prom.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

interface CompareInput { url: string; queries: string[]; start: number; end: number; stepMs: number; reps: number; work: string }

/** CPU-seconds (user+sys of this process, threads included) and wall ms of `f`, best of `reps`. */
async function cpuOf<T>(reps: number, f: () => Promise<T> | T): Promise<{ cpuS: number; ms: number; value: T }> {
    let best: { cpuS: number; ms: number; value: T } | undefined;
    for (let i = 0; i < reps; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const value = await f();
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const cpuS = (c.user + c.system) / 1e6;
        if (best === undefined || cpuS < best.cpuS) {
            best = { cpuS, ms, value };
        }
    }
    return best as { cpuS: number; ms: number; value: T };
}

/** A straightforward XOR chunk decoder (one bit at a time, BigInt for 64-bit words), as an independent reference. */
function naiveXorDecode(d: Uint8Array): { ts: number[]; vs: number[] } {
    let bit = 16;
    const readBit = (): number => (d[bit >>> 3] >>> (7 - (bit++ & 7))) & 1;
    const readBits = (n: number): bigint => {
        let v = 0n;
        for (let i = 0; i < n; i++) {
            v = (v << 1n) | BigInt(readBit());
        }
        return v;
    };
    const readVarint = (signed: boolean): number => {
        let x = 0n;
        let shift = 0n;
        for (;;) {
            const b = readBits(8);
            x |= (b & 0x7fn) << shift;
            shift += 7n;
            if ((b & 0x80n) === 0n) {
                break;
            }
        }
        return signed ? Number((x >> 1n) ^ -(x & 1n)) : Number(x);
    };
    const total = (d[0] << 8) | d[1];
    const ts: number[] = [];
    const vs: number[] = [];
    const dv = new DataView(new ArrayBuffer(8));
    let t = readVarint(true);
    let v = readBits(64);
    const push = (): void => {
        dv.setBigUint64(0, v);
        if (v !== 0x7ff0000000000002n) {
            ts.push(t);
            vs.push(dv.getFloat64(0));
        }
    };
    push();
    let delta = 0;
    let leading = 0n;
    let trailing = 0n;
    for (let i = 1; i < total; i++) {
        if (i === 1) {
            delta = readVarint(false);
        } else {
            let n = 0;
            while (n < 4 && readBit() === 1) {
                n++;
            }
            const sz = [0, 14, 17, 20, 64][n];
            if (sz > 0) {
                let dod = readBits(sz);
                if (sz !== 64 && dod > 1n << BigInt(sz - 1)) {
                    dod -= 1n << BigInt(sz);
                }
                delta += Number(BigInt.asIntN(64, dod));
            }
        }
        t += delta;
        if (readBit() === 1) {
            if (readBit() === 1) {
                leading = readBits(5);
                let sig = readBits(6);
                if (sig === 0n) {
                    sig = 64n;
                }
                trailing = 64n - leading - sig;
            }
            const sig = 64n - leading - trailing;
            v ^= readBits(Number(sig)) << trailing;
        }
        push();
    }
    return { ts, vs };
}

/**
 * The hand-written pieces against libraries, on this bench's data: the Parquet writer against hyparquet-writer
 * writing the same table (same columns, types, nulls, ZSTD through the same zlib, same row groups; read back by
 * pyarrow and compared), the JSON scanner against JSON.parse + Number, the XOR decoder against a naive one.
 */
async function compareLibraries(o: CompareInput): Promise<void> {
    const { makeHttpClient } = await import("../harvester/http");
    const { runQuery } = await import("../harvester/query");
    const { scanResponse } = await import("../harvester/json-scan");
    const { ParquetTableWriter } = await import("../harvester/writers/parquet");
    const { labelColumns, seriesOf } = await import("../harvester/writers/table");
    const { decodeXorChunk, SampleBuffer } = await import("../harvester/remote-read/xor");
    const { encodeReadRequest, decodeChunkedReadResponse, RESPONSE_TYPE_STREAMED_XOR_CHUNKS } = await import("../harvester/remote-read/protobuf");
    const { parseFrames } = await import("../harvester/remote-read/client");
    const { parseSelector } = await import("../harvester/selector");
    const snappy = await import("snappyjs");
    const zlib = await import("node:zlib");
    const client = makeHttpClient({ endpoint: o.url, concurrency: 4 });
    const stats = { requests: 0, retries: 0, bytes: 0 };
    try {
        // Parts of every query (raw samples), the input both Parquet writers get.
        const parts: { query: string; partPath: string; labels: string[] }[] = [];
        for (const [index, query] of o.queries.entries()) {
            const partPath = path.join(o.work, `cmp-${index}.part`);
            const r = await runQuery(client, { index, query, kind: "raw", start: o.start, end: o.end, sampleBudget: 1_500_000, partPath, rawBackend: "unknown" }, () => undefined);
            parts.push({ query, partPath, labels: r.labels });
        }
        const cols = labelColumns(parts.flatMap((p) => p.labels));
        const mineOut = path.join(o.work, "cmp-mine.parquet");
        const mine = await cpuOf(o.reps, async () => {
            const w = new ParquetTableWriter(mineOut, "zstd");
            for (const p of parts) {
                await w.addQuery(p.query, p.partPath);
            }
            return w.finish(cols);
        });
        // The node entry (parquetWriteFile); TypeScript resolves the package's browser types.
        const hw = (await import("hyparquet-writer")) as unknown as { parquetWriteFile: (o: Record<string, unknown>) => void | Promise<void> };
        const libOut = path.join(o.work, "cmp-hyparquet.parquet");
        const rows = mine.value;
        let columnsMs = 0;
        const lib = await cpuOf(o.reps, async () => {
            const t0 = performance.now();
            const query: string[] = new Array(rows);
            const metric: (string | null)[] = new Array(rows);
            const timestamp = new BigInt64Array(rows);
            const value = new Float64Array(rows);
            const labels = cols.map(() => new Array<string | null>(rows));
            let at = 0;
            for (const s of seriesOf({ queries: parts.map((p, index) => ({ index, query: p.query, partPath: p.partPath })), errors: [], labelColumns: cols })) {
                for (const b of s.blocks) {
                    const { ts, vs } = s.reader.readBlock(b);
                    for (let i = 0; i < ts.length; i++, at++) {
                        query[at] = s.query;
                        metric[at] = s.labels.__name__ ?? null;
                        timestamp[at] = BigInt(ts[i]);
                        value[at] = vs[i];
                        cols.forEach((c, k) => {
                            labels[k][at] = s.labels[c.label] ?? null;
                        });
                    }
                }
            }
            columnsMs = performance.now() - t0;
            await hw.parquetWriteFile({
                filename: libOut, codec: "ZSTD", statistics: false, rowGroupSize: 1 << 19,
                compressors: { ZSTD: (b: Uint8Array) => zlib.zstdCompressSync(b, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } }) },
                columnData: [
                    { name: "query", data: query, nullable: false },
                    { name: "metric", data: metric },
                    { name: "timestamp", data: timestamp, nullable: false },
                    { name: "value", data: value, nullable: false },
                    ...cols.map((c, k) => ({ name: c.column, data: labels[k] })),
                ],
                schema: [
                    { name: "root", num_children: 4 + cols.length },
                    { name: "query", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
                    { name: "metric", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
                    { name: "timestamp", type: "INT64", converted_type: "TIMESTAMP_MILLIS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" }, repetition_type: "REQUIRED" },
                    { name: "value", type: "DOUBLE", repetition_type: "REQUIRED" },
                    ...cols.map((c) => ({ name: c.column, type: "BYTE_ARRAY" as const, converted_type: "UTF8" as const, repetition_type: "OPTIONAL" as const })),
                ],
            });
            return rows;
        });
        const same = await new Promise<string>((resolve) => {
            const child = spawn("python3", ["-c", `
import sys, pyarrow.parquet as pq
a = pq.read_table(sys.argv[1]).replace_schema_metadata(None)
b = pq.read_table(sys.argv[2]).replace_schema_metadata(None)
print("equal" if a.equals(b) else f"DIFFERENT: {a.schema} vs {b.schema}")`, mineOut, libOut], { stdio: ["ignore", "pipe", "inherit"] });
            let out = "";
            child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
            child.on("exit", () => resolve(out.trim()));
        });
        const mb = (f: string): string => `${(fs.statSync(f).size / 1e6).toFixed(1)} MB`;
        console.log(`Parquet, ${(rows / 1e6).toFixed(2)}M rows, ZSTD level 1, row groups of 2^19, read back by pyarrow: ${same}`);
        console.log(`  hand-written ParquetTableWriter   ${mine.cpuS.toFixed(2)} CPU-s  ${fmtMs(mine.ms).padStart(7)}  ${mb(mineOut)}`);
        console.log(`  hyparquet-writer 0.17             ${lib.cpuS.toFixed(2)} CPU-s  ${fmtMs(lib.ms).padStart(7)}  ${mb(libOut)}  (of which building its column arrays ${fmtMs(columnsMs)})`);

        // JSON: the query_range bodies of every query, scanned by the hand-written scanner and by JSON.parse.
        const bodies: Buffer[] = [];
        for (const q of o.queries) {
            bodies.push((await client.postForm("api/v1/query_range", { query: q, start: String(o.start / 1000), end: String(o.end / 1000), step: String(o.stepMs / 1000) }, stats)).body);
        }
        const total = bodies.reduce((a, b) => a + b.length, 0);
        const scanned = await cpuOf(o.reps, () => bodies.reduce((n, b) => n + scanResponse(b, (_k, _l, _t, _v, c) => void c).seriesCount, 0));
        const parsed = await cpuOf(o.reps, () => {
            let n = 0;
            for (const b of bodies) {
                const j = JSON.parse(b.toString("utf8")) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
                for (const s of j.data.result) {
                    const ts = new Float64Array(s.values.length);
                    const vs = new Float64Array(s.values.length);
                    s.values.forEach(([t, v], i) => {
                        ts[i] = Math.round(t * 1000);
                        vs[i] = v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
                    });
                    n++;
                }
            }
            return n;
        });
        console.log(`JSON, ${(total / 1e6).toFixed(0)} MB of query_range bodies (${scanned.value} series)`);
        console.log(`  hand-written scanner              ${scanned.cpuS.toFixed(2)} CPU-s  ${(total / 1e6 / scanned.cpuS).toFixed(0)} MB/s`);
        console.log(`  JSON.parse + Number + ±Inf map    ${parsed.cpuS.toFixed(2)} CPU-s  ${(total / 1e6 / parsed.cpuS).toFixed(0)} MB/s`);

        // HTTP: the same query_range bodies moved 4 at a time (keep-alive), each gathered into one buffer, by the bulk
        // transport (what the harvester uses), node:http and undici (the maintained client, a dev dependency pinned in
        // package.json for this comparison).
        const forms = o.queries.map((q) => new URLSearchParams({ query: q, start: String(o.start / 1000), end: String(o.end / 1000), step: String(o.stepMs / 1000) }).toString());
        const fourAtATime = async (one: (form: string) => Promise<number>): Promise<number> => {
            let next = 0;
            let bytes = 0;
            await Promise.all([0, 1, 2, 3].map(async () => {
                while (next < forms.length) {
                    bytes += await one(forms[next++]);
                }
            }));
            return bytes;
        };
        const http = await import("node:http");
        const bulk = makeHttpClient({ endpoint: o.url, concurrency: 4 });
        const viaBulk = await cpuOf(o.reps, () => fourAtATime(async (form) => bulk.postFormParsed("api/v1/query_range",
            Object.fromEntries(new URLSearchParams(form)), stats, undefined, (b) => b.length)));
        bulk.close();
        const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
        const viaNode = await cpuOf(o.reps, () => fourAtATime((form) => new Promise<number>((resolve, reject) => {
            const req = http.request(`${o.url}/api/v1/query_range`, {
                method: "POST", agent, headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(form.length) },
            }, (res) => {
                const parts: Buffer[] = [];
                res.on("data", (c: Buffer) => parts.push(c));
                res.on("end", () => resolve(Buffer.concat(parts).length));
                res.on("error", reject);
            });
            req.on("error", reject);
            req.end(form);
        })));
        agent.destroy();
        let viaUndici: { cpuS: number; ms: number; version: string } | undefined;
        try {
            const undici = (await import("undici")) as unknown as {
                Pool: new (url: string, o: { connections: number }) => {
                    request: (o: Record<string, unknown>) => Promise<{ body: { arrayBuffer: () => Promise<ArrayBuffer> } }>; close: () => Promise<void>;
                };
            };
            const pool = new undici.Pool(o.url, { connections: 4 });
            const run = await cpuOf(o.reps, () => fourAtATime(async (form) => {
                const r = await pool.request({ path: "/api/v1/query_range", method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
                return (await r.body.arrayBuffer()).byteLength;
            }));
            await pool.close();
            const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "undici", "package.json"), "utf8")) as { version: string }).version;
            viaUndici = { ...run, version };
        } catch {
            viaUndici = undefined;
        }
        console.log(`HTTP, the same ${(total / 1e6).toFixed(0)} MB moved 4 at a time over keep-alive connections, each body gathered into one buffer`);
        console.log(`  hand-written bulk transport       ${viaBulk.cpuS.toFixed(2)} CPU-s  ${fmtMs(viaBulk.ms).padStart(7)}`);
        console.log(`  node:http                         ${viaNode.cpuS.toFixed(2)} CPU-s  ${fmtMs(viaNode.ms).padStart(7)}`);
        console.log(viaUndici === undefined ? "  undici                            (not installed)"
            : `  undici ${viaUndici.version.padEnd(26)} ${viaUndici.cpuS.toFixed(2)} CPU-s  ${fmtMs(viaUndici.ms).padStart(7)}`);

        // XOR chunks of every query, from one streamed remote read per query.
        const chunks: Uint8Array[] = [];
        for (const q of o.queries) {
            const req = encodeReadRequest([{ startMs: o.start, endMs: o.end, matchers: parseSelector(q)!.matchers }], [RESPONSE_TYPE_STREAMED_XOR_CHUNKS]);
            const { res, finish } = await client.postStream("api/v1/read", Buffer.from(snappy.compress(req)), {
                "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Read-Version": "0.1.0",
            }, stats);
            const bufs: Buffer[] = [];
            for await (const c of res) {
                bufs.push(c as Buffer);
            }
            finish();
            parseFrames(Buffer.concat(bufs), (payload) => {
                for (const s of decodeChunkedReadResponse(payload).series) {
                    chunks.push(...s.chunks.map((c) => c.data.slice()));
                }
            });
        }
        const out = new SampleBuffer();
        const fast = await cpuOf(o.reps, () => chunks.reduce((n, c) => {
            out.clear();
            return n + decodeXorChunk(c, -Infinity, Infinity, out);
        }, 0));
        const naive = await cpuOf(1, () => chunks.reduce((n, c) => n + naiveXorDecode(c).ts.length, 0));
        let mismatches = 0;
        for (const c of chunks.slice(0, 200)) {
            out.clear();
            decodeXorChunk(c, -Infinity, Infinity, out);
            const r = naiveXorDecode(c);
            if (r.ts.length !== out.n || r.ts.some((t, i) => t !== out.ts[i] || !Object.is(r.vs[i], out.vs[i]))) {
                mismatches++;
            }
        }
        console.log(`XOR chunks, ${chunks.length} chunks, ${(fast.value / 1e6).toFixed(2)}M samples (first 200 chunks compared: ${mismatches} mismatches)`);
        console.log(`  hand-written decoder              ${fast.cpuS.toFixed(2)} CPU-s  ${(fast.value / 1e6 / fast.cpuS).toFixed(0)}M samples/s`);
        console.log(`  naive bit-at-a-time decoder       ${naive.cpuS.toFixed(2)} CPU-s  ${(naive.value / 1e6 / naive.cpuS).toFixed(1)}M samples/s (no maintained JavaScript decoder of TSDB chunks exists to compare with)`);
    } finally {
        client.close();
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
