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
 *            a straightforward bit-at-a-time decoder (no maintained JavaScript decoder of TSDB chunks exists).
 * --via npm runs the harvests through `npm run harvest --` instead of the bin. Each output's SHA-256 (with the server's port masked) is printed, so two runs on different code prove identical
 * output. Run: npx tsx bench/harvest.ts [--data DIR] [--reps 3] [--metrics 60 --series 20 --hours 2] [--promtool]
 *              [--only range-csv,raw-parquet] [--no-compare]
 */
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { PROMTOOL_BIN, backfillFamilies, startPrometheus, type OmFamily } from "../test/helpers/prometheus";

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
        await execFileP(PROMTOOL_BIN, ["query", "range", `--start=${start / 1000}`, `--end=${end / 1000}`,
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
        const window = ["--start", String(T0 / 1000), "--queries-file", queriesFile, "--concurrency", String(a.concurrency), "--quiet"];
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
        console.log(`harvests run as: ${via.join(" ")} …`);
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

/** Hand-written pieces against the libraries (filled in below). */
async function compareLibraries(_o: { url: string; queries: string[]; start: number; end: number; stepMs: number; reps: number; work: string }): Promise<void> {
    console.log("(library comparisons not available in this version)");
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
