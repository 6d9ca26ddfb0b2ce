/**
 * The library entry: `harvest(options) → manifest`. Validates, probes the endpoint, runs the queries
 * concurrently (each spooled to its own part file) and writes the one output table atomically from the parts of
 * every successful query, in the order the queries were given. CSV and Parquet are written while later queries
 * are still being fetched (a query is appended once it and all before it are done); JSON, and CSV whose label
 * columns turn out to differ from its header, are written from the parts at the end. A failed query never
 * disturbs the others: it is recorded by name in the manifest (and in JSON's errors[]) and the rest are still
 * written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { replaceAtomically, tempPathFor } from "./atomic";
import { type ClientOptions, type Endpoint, HttpClient, type RequestStats, makeHttpClient } from "./http";
import {
    type Manifest, ManifestWriter, type QueryEntry, manifestPath, partPath, partsDir, readManifest, resumeConflict,
} from "./manifest";
import type { HarvestEvent } from "./progress";
import { type QueryEvent, type QueryOutcome, type QueryTask, type RawBackend, runQuery } from "./query";
import { toolVersion } from "./root";
import { primeHotPaths } from "./prime";
import { parseSelector } from "./selector";
import { formatDuration, isoUtc, promSeconds } from "./time";
import { WorkerPool, defaultWorkers } from "./workers";
import { CsvTableWriter, type RemoteCsvRender, writeCsv } from "./writers/csv";
import { writeJson } from "./writers/json";
import { type ParquetCompression, ParquetTableWriter } from "./writers/parquet";
import { type TableInput, labelColumns } from "./writers/table";

export type Format = "csv" | "parquet" | "json";
export type Mode = "auto" | "raw" | "range" | "instant";

export const DEFAULT_STEP_MS = 30_000;
export const DEFAULT_SAMPLE_BUDGET = 1_500_000;

export interface HarvestOptions {
    /** The Prometheus-compatible API (base URL incl. any /prometheus prefix, headers, TLS). */
    endpoint: Endpoint | string;
    /** Tenant for Mimir/Cortex, sent as X-Scope-OrgID. */
    tenant?: string;
    /** PromQL queries; each becomes its own block of rows, labelled with its text. */
    queries: string[];
    /** Window, inclusive, epoch ms or Date. Omitted for an instant snapshot (`at`). */
    start?: number | Date;
    end?: number | Date;
    /** Instead of a window: one instant query per expression at this time (one row per series). */
    at?: number | Date;
    /** Range-query step in ms. Without it, auto mode reads plain selectors raw; range queries use 30 s. */
    step?: number;
    /** auto (default), raw or range. */
    mode?: Mode;
    /** csv (default), parquet or json. */
    format?: Format;
    /** Output file path. The manifest goes to `<output>.manifest.json`. */
    output: string;
    /** Queries in flight at once. Defaults to 4. */
    concurrency?: number;
    /** Per-request timeout in ms. Defaults to 60 s. */
    timeoutMs?: number;
    /** Retries per request. Defaults to 3. */
    retries?: number;
    /** First retry delay in ms (doubles per retry). Defaults to 250 ms. */
    backoffMs?: number;
    /** Skip queries an existing manifest marks complete. */
    resume?: boolean;
    /** Samples per response (bounds memory). Defaults to 1.5M. */
    sampleBudget?: number;
    /** Largest response accepted before asking for smaller pieces. Defaults to 64 MiB. */
    maxBodyBytes?: number;
    /** Parquet codec. Defaults to zstd. */
    parquetCompression?: ParquetCompression;
    /** A query that matches no series fails (instead of passing with a warning). */
    failOnEmpty?: boolean;
    /** Worker threads for fetching, decoding and CSV encoding; 0 runs everything on this thread. Defaults to one per core (up to the concurrency). */
    workers?: number;
    /** Progress and diagnostics. */
    onEvent?: (e: HarvestEvent) => void;
}

/** Bad input detected before any query ran (exit code 2). `option` names the offending option. */
export class UsageError extends Error {
    constructor(message: string, readonly option?: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** The endpoint could not be used at all before any query ran (exit code 2). */
export class EndpointError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EndpointError";
    }
}

export { toolVersion };

interface Planned {
    index: number;
    query: string;
    kind: QueryTask["kind"];
}

/** Decides per query how it is fetched; throws UsageError for raw mode on expressions. */
export function planModes(queries: string[], mode: Mode, step: number | undefined): Planned[] {
    if (mode === "instant") {
        return queries.map((query, index) => ({ index, query, kind: "instant" }));
    }
    return queries.map((query, index) => {
        // Range mode fetches any expression the same way: no need to parse it.
        const selector = mode !== "range" && parseSelector(query) !== undefined;
        if (mode === "raw" && !selector) {
            throw new UsageError(`--mode raw reads stored samples and needs plain series selectors; query #${index + 1} "${query}" is an expression (use --mode range or auto)`, "--mode");
        }
        const kind = mode === "raw" || (mode === "auto" && selector && step === undefined) ? "raw" : "range";
        return { index, query, kind };
    });
}

function ms(t: number | Date): number {
    return t instanceof Date ? t.getTime() : t;
}

function validate(o: HarvestOptions): void {
    if (o.queries.length === 0) {
        throw new UsageError("no queries given (use --query or --queries-file)", "--query");
    }
    o.queries.forEach((q, i) => {
        if (q.trim() === "") {
            throw new UsageError(`query #${i + 1} is empty`, "--query");
        }
    });
    if (o.at !== undefined) {
        if (o.start !== undefined || o.end !== undefined) {
            throw new UsageError("give either a window (--start/--end) or an instant (--at), not both", "--at");
        }
        if (o.mode !== undefined && o.mode !== "auto" && o.mode !== "instant") {
            throw new UsageError(`--at takes instant snapshots of any expression; --mode ${o.mode} needs a window (--start/--end)`, "--mode");
        }
        if (!Number.isFinite(ms(o.at))) {
            throw new UsageError("--at must be a valid time", "--at");
        }
        return;
    }
    if (o.start === undefined || o.end === undefined) {
        throw new UsageError("a window needs both start and end (or an instant: --at)", "--start");
    }
    const start = ms(o.start);
    const end = ms(o.end);
    if (!Number.isFinite(start) || !Number.isFinite(end)) {
        throw new UsageError("start and end must be valid times", "--start");
    }
    if (end < start) {
        throw new UsageError(`--end ${isoUtc(end)} is before --start ${isoUtc(start)}`, "--end");
    }
    if (o.step !== undefined && !(Number.isFinite(o.step) && o.step > 0)) {
        throw new UsageError(`--step must be a positive duration, got ${o.step} ms`, "--step");
    }
    if (o.concurrency !== undefined && !(Number.isInteger(o.concurrency) && o.concurrency >= 1)) {
        throw new UsageError(`--concurrency must be a positive integer, got ${o.concurrency}`, "--concurrency");
    }
    if (o.retries !== undefined && !(Number.isInteger(o.retries) && o.retries >= 0)) {
        throw new UsageError(`--retries must be a non-negative integer, got ${o.retries}`, "--retries");
    }
    if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) {
        throw new UsageError(`--timeout must be positive, got ${o.timeoutMs} ms`, "--timeout");
    }
    if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 0)) {
        throw new UsageError(`--workers must be a non-negative integer, got ${o.workers}`, "--workers");
    }
}

/** Builds the client for an endpoint, adding the tenant header. */
export function makeClient(o: ClientOptions): HttpClient {
    try {
        return makeHttpClient(o);
    } catch (err) {
        throw new UsageError((err as Error).message, "<url>");
    }
}

/** One cheap query proving the endpoint answers (and accepts our tenant/auth) before anything runs. */
export async function probe(client: HttpClient, atMs: number): Promise<void> {
    const stats: RequestStats = { requests: 0, retries: 0, bytes: 0 };
    try {
        await client.postForm("api/v1/query", { query: "1", time: promSeconds(atMs) }, stats);
    } catch (err) {
        throw new EndpointError(`endpoint ${client.base.toString()} is not usable: ${(err as Error).message}`);
    }
}

function clientOptions(o: HarvestOptions): ClientOptions {
    return {
        endpoint: o.endpoint, tenant: o.tenant, timeoutMs: o.timeoutMs, retries: o.retries, backoffMs: o.backoffMs,
        maxBodyBytes: o.maxBodyBytes, concurrency: o.concurrency,
    };
}

function emptyEntry(index: number, query: string): QueryEntry {
    return { index, query, status: "pending", series: 0, samples: 0, requests: 0, retries: 0, bytes: 0, durationMs: 0 };
}

/**
 * The CSV or Parquet output, written while the harvest runs: each successful query is appended as soon as it and
 * every query before it are done, on one promise chain; the temp file is renamed over the output only by finish()
 * (atomic like the JSON path). Parquet keeps its schema in the footer, so label columns may appear at any time.
 * CSV needs its columns in the header: they are taken from every query completed when writing starts, and if a
 * later query brings a label outside them the stream is dropped and the file is written from the parts at the
 * end, as JSON always is.
 */
class StreamingOutput {
    next = 0;
    written = 0;
    /** CSV: a query carried a label the header lacks; the streamed file is abandoned. */
    stale = false;
    private readonly tmp: string;
    private parquet: ParquetTableWriter | undefined;
    private csv: CsvTableWriter | undefined;
    private csvLabels: Set<string> | undefined;
    private chain: Promise<void> = Promise.resolve();

    constructor(private readonly output: string, private readonly format: "csv" | "parquet",
        private readonly compression?: ParquetCompression, private readonly remoteCsv?: RemoteCsvRender) {
        this.tmp = tempPathFor(output);
    }

    /** Queues one query's part; `labels` are its label names, `known` every label name seen so far. */
    add(query: string, part: string, labels: string[], known: () => string[]): void {
        if (this.stale) {
            return;
        }
        if (this.format === "csv") {
            if (this.csv === undefined) {
                const columns = labelColumns(known());
                this.csv = new CsvTableWriter(this.tmp, columns, this.remoteCsv);
                this.csvLabels = new Set(columns.map((c) => c.label));
            }
            if (labels.some((l) => l !== "__name__" && !(this.csvLabels as Set<string>).has(l))) {
                this.stale = true;
                return;
            }
        }
        this.written++;
        this.chain = this.chain.then(() => {
            if (this.format === "csv") {
                return (this.csv as CsvTableWriter).addQuery(query, part);
            }
            this.parquet ??= new ParquetTableWriter(this.tmp, this.compression);
            return this.parquet.addQuery(query, part);
        });
        // A failure surfaces from idle()/finish(); until then it must not count as unhandled.
        this.chain.catch(() => undefined);
    }

    idle(): Promise<void> {
        return this.chain;
    }

    /** Completes the output; undefined when the stream could not be used (CSV whose columns changed). */
    async finish(input: TableInput): Promise<number | undefined> {
        try {
            await this.chain;
            let rows: number;
            if (this.format === "csv") {
                const same = this.csv !== undefined && !this.stale
                    && JSON.stringify(this.csv.labelColumns) === JSON.stringify(input.labelColumns);
                if (!same) {
                    await this.abort();
                    return undefined;
                }
                rows = await (this.csv as CsvTableWriter).finish();
            } else {
                const w = this.parquet ?? new ParquetTableWriter(this.tmp, this.compression);
                rows = await w.finish(input.labelColumns, input.metadata);
            }
            fs.renameSync(this.tmp, this.output);
            return rows;
        } catch (err) {
            await this.abort();
            throw err;
        }
    }

    async abort(): Promise<void> {
        await this.chain.catch(() => undefined);
        await this.parquet?.abort();
        await this.csv?.abort();
        fs.rmSync(this.tmp, { force: true });
    }
}

/** Runs a harvest. Resolves with the manifest (also written to disk) even when some queries failed. */
export async function harvest(o: HarvestOptions): Promise<Manifest> {
    validate(o);
    primeHotPaths();
    const emit = o.onEvent ?? ((): void => undefined);
    const instant = o.at !== undefined;
    const start = instant ? ms(o.at as number | Date) : ms(o.start as number | Date);
    const end = instant ? start : ms(o.end as number | Date);
    const mode: Mode = instant ? "instant" : o.mode ?? "auto";
    const format = o.format ?? "csv";
    const planned = planModes(o.queries, mode, o.step);
    const stepMs = planned.some((p) => p.kind === "range") ? o.step ?? DEFAULT_STEP_MS : o.step;
    const output = path.resolve(o.output);
    const partsRel = path.basename(partsDir(output));
    fs.mkdirSync(path.dirname(output), { recursive: true });
    const client = makeClient(clientOptions(o));
    const t0 = Date.now();

    const manifest: Manifest = {
        tool: { name: "charon-harvest", version: toolVersion() },
        endpoint: client.base.toString(),
        tenant: o.tenant,
        window: { start: isoUtc(start), end: isoUtc(end), startMs: start, endMs: end },
        mode,
        stepMs,
        step: stepMs === undefined ? undefined : formatDuration(stepMs),
        format,
        output,
        status: "running",
        startedAt: new Date(t0).toISOString(),
        queries: planned.map((p) => emptyEntry(p.index, p.query)),
        totals: { queries: 0, ok: 0, failed: 0, series: 0, samples: 0 },
    };

    // Resume: carry over completed queries whose parts are still there, exactly as the manifest recorded them.
    let prev: Manifest | undefined;
    try {
        prev = o.resume ? readManifest(output) : undefined;
    } catch (err) {
        client.close();
        throw new UsageError(`--resume: ${(err as Error).message}`, "--resume");
    }
    if (prev !== undefined) {
        const conflict = resumeConflict(prev, manifest);
        if (conflict !== undefined) {
            client.close();
            throw new UsageError(`--resume: ${manifestPath(output)} was written for different settings: ${conflict}. `
                + "Resume with the same settings, or write to another --output.", "--resume");
        }
        if (prev.status === "complete" && prev.format === format && fs.existsSync(output)) {
            client.close();
            emit({ type: "start", queries: prev.queries.length, skipped: prev.queries.length });
            emit({ type: "done", manifest: prev });
            return prev;
        }
        manifest.queries = manifest.queries.map((e) => {
            const old = prev.queries[e.index];
            const file = old?.status === "ok" && old.part !== undefined ? partPath(output, old.part) : undefined;
            const intact = file !== undefined && fs.existsSync(file) && (old.partBytes === undefined || fs.statSync(file).size === old.partBytes);
            return intact ? { ...old, index: e.index, resumed: true } : e;
        });
    }
    const todo = planned.filter((p) => manifest.queries[p.index].status !== "ok");
    const manifests = new ManifestWriter(output, manifest);
    let pool: WorkerPool | undefined;

    try {
        if (todo.length > 0) {
            await probe(client, end);
        }
        fs.mkdirSync(partsDir(output), { recursive: true });
        manifests.now();
        emit({ type: "start", queries: planned.length, skipped: planned.length - todo.length });

        const workers = o.workers ?? defaultWorkers(o.concurrency ?? 4, todo.length);
        if (workers > 0 && todo.length > 0) {
            try {
                pool = new WorkerPool(workers, clientOptions(o));
            } catch (err) {
                emit({ type: "note", text: `worker threads unavailable (${(err as Error).message}); everything runs on the main thread` });
            }
        }

        let rawBackend: RawBackend = "unknown";
        const runOne = async (p: Planned): Promise<void> => {
            const name = `${String(p.index).padStart(4, "0")}.part`;
            const task: QueryTask = {
                index: p.index, query: p.query, kind: p.kind, start, end, stepMs, sampleBudget: o.sampleBudget ?? DEFAULT_SAMPLE_BUDGET,
                partPath: path.join(partsDir(output), name), rawBackend, failOnEmpty: o.failOnEmpty,
            };
            const onEvent = (e: QueryEvent): void => {
                if (e.type === "samples") {
                    emit({ type: "samples", index: p.index, samples: e.samples });
                } else if (e.type === "retry") {
                    emit({ type: "retry", index: p.index, query: p.query, error: e.error, delayMs: e.delayMs });
                } else {
                    emit({ type: "fallback", index: p.index, query: p.query, reason: e.reason });
                }
            };
            const qt0 = Date.now();
            emit({ type: "query-start", index: p.index, query: p.query });
            let r: QueryOutcome;
            try {
                r = pool !== undefined ? await pool.runQuery(task, onEvent) : await runQuery(client, task, onEvent);
            } catch (err) {
                r = { status: "failed", error: (err as Error).message, mode: p.kind === "range" ? "range" : p.kind === "instant" ? "instant" : "raw-remote-read",
                    stats: { requests: 0, retries: 0, bytes: 0 }, warnings: [], series: 0, samples: 0, labels: [], rawBackend };
            }
            if (r.rawBackend !== "unknown") {
                rawBackend = r.rawBackend;
            }
            const entry: QueryEntry = {
                ...emptyEntry(p.index, p.query), status: r.status, error: r.error, mode: r.mode, series: r.series, samples: r.samples,
                requests: r.stats.requests, retries: r.stats.retries, bytes: r.stats.bytes, durationMs: Date.now() - qt0,
                warnings: r.warnings.length > 0 ? r.warnings : undefined,
            };
            if (r.status === "ok") {
                Object.assign(entry, { part: path.join(partsRel, name), partBytes: r.partBytes, labels: r.labels });
            }
            manifest.queries[p.index] = entry;
            manifests.soon();
            emit({ type: "query-done", entry });
        };

        // CSV and Parquet are written while the queries run (see StreamingOutput): each successful query is appended
        // as soon as it and every query before it are done.
        const remoteCsv: RemoteCsvRender | undefined = pool === undefined ? undefined
            : (q, file, columns, onChunk) => (pool as WorkerPool).renderCsv(q, file, columns, onChunk);
        const stream = format === "json" ? undefined : new StreamingOutput(output, format, o.parquetCompression, remoteCsv);
        const knownLabels = (): string[] => manifest.queries.flatMap((q) => (q.status === "ok" ? q.labels ?? [] : []));
        let announced = false;
        const fed = (): void => {
            while (stream !== undefined && stream.next < manifest.queries.length && manifest.queries[stream.next].status !== "pending") {
                const q = manifest.queries[stream.next++];
                if (q.status === "ok") {
                    if (!announced) {
                        announced = true;
                        emit({ type: "writing", format, output });
                    }
                    stream.add(q.query, partPath(output, q.part as string), q.labels ?? [], knownLabels);
                }
            }
        };
        try {
            fed();
            // A fixed set of lanes taking queries in order.
            let next = 0;
            const lanes = Array.from({ length: Math.min(o.concurrency ?? 4, Math.max(1, todo.length)) }, async () => {
                while (next < todo.length) {
                    await runOne(todo[next++]);
                    fed();
                }
            });
            await Promise.all(lanes);
            fed();
            await stream?.idle();
        } catch (err) {
            await stream?.abort();
            throw err;
        }

        // Write the output from every successful query, in query order.
        const ok = manifest.queries.filter((q) => q.status === "ok");
        if (ok.length > 0) {
            const input: TableInput = {
                queries: ok.map((q) => ({ index: q.index, query: q.query, partPath: partPath(output, q.part as string) })),
                errors: manifest.queries.filter((q) => q.status === "failed")
                    .map((q) => ({ index: q.index, query: q.query, error: q.error ?? "" })),
                labelColumns: labelColumns(ok.flatMap((q) => q.labels ?? [])),
                instant,
                metadata: {
                    "charon.harvest": JSON.stringify({
                        endpoint: manifest.endpoint, window: manifest.window, mode, step: manifest.step,
                        tool: manifest.tool,
                    }),
                },
            };
            const streamed = await stream?.finish(input);
            if (streamed !== undefined) {
                manifest.rows = streamed;
            } else {
                if (!announced) {
                    emit({ type: "writing", format, output });
                }
                manifest.rows = await replaceAtomically(output, (tmp) => format === "csv" ? writeCsv(tmp, input, remoteCsv) : writeJson(tmp, input));
            }
        } else {
            await stream?.abort();
        }
        const failed = manifest.queries.some((q) => q.status !== "ok");
        manifest.status = failed ? "partial" : "complete";
        manifest.finishedAt = new Date().toISOString();
        manifest.durationMs = Date.now() - t0;
        if (!failed) {
            // Everything is in the output; the parts are no longer needed for --resume.
            fs.rmSync(partsDir(output), { recursive: true, force: true });
            for (const q of manifest.queries) {
                delete q.part;
                delete q.partBytes;
            }
        }
        manifests.now();
        emit({ type: "done", manifest });
        return manifest;
    } finally {
        manifests.stop();
        client.close();
        await pool?.close();
    }
}
