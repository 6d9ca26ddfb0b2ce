/**
 * The manifest written beside every output (`<output>.manifest.json`), rewritten atomically as queries finish (at
 * most once a second while they run, and at the end), so an interrupted run still records what finished: at worst
 * the queries of its last second are fetched again by `--resume`. `--resume` reads it back to skip completed
 * queries, and refuses to mix data from other settings (endpoint, tenant, queries, window, mode, step).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "./atomic";

export type QueryStatus = "ok" | "failed" | "pending";
export type EffectiveMode = "range" | "raw-remote-read" | "raw-instant" | "instant";

export interface QueryEntry {
    index: number;
    query: string;
    status: QueryStatus;
    /** How the query was fetched. */
    mode?: EffectiveMode;
    /** The error text (the server's own words where it gave some). */
    error?: string;
    warnings?: string[];
    series: number;
    samples: number;
    requests: number;
    retries: number;
    bytes: number;
    durationMs: number;
    /** Part file (relative to the manifest) holding this query's samples while parts are kept. */
    part?: string;
    /** The part file's exact size: --resume trusts a part only when it still has it. */
    partBytes?: number;
    /** Label names seen in this query's series. */
    labels?: string[];
    /** True when this entry was carried over from an earlier run by --resume. */
    resumed?: boolean;
}

export interface Manifest {
    tool: { name: string; version: string };
    endpoint: string;
    tenant?: string;
    window: { start: string; end: string; startMs: number; endMs: number };
    mode: string;
    /** Step in ms for range queries (undefined when every query was raw). */
    stepMs?: number;
    step?: string;
    format: string;
    output: string;
    status: "running" | "complete" | "partial";
    startedAt: string;
    finishedAt?: string;
    durationMs?: number;
    /** Rows written to the output (undefined until it was written). */
    rows?: number;
    queries: QueryEntry[];
    totals: { queries: number; ok: number; failed: number; series: number; samples: number };
}

export function manifestPath(output: string): string {
    return `${output}.manifest.json`;
}

export function partsDir(output: string): string {
    return `${output}.parts`;
}

export function computeTotals(m: Manifest): Manifest["totals"] {
    const ok = m.queries.filter((q) => q.status === "ok");
    return {
        queries: m.queries.length,
        ok: ok.length,
        failed: m.queries.filter((q) => q.status === "failed").length,
        series: ok.reduce((a, q) => a + q.series, 0),
        samples: ok.reduce((a, q) => a + q.samples, 0),
    };
}

export function writeManifest(output: string, m: Manifest): void {
    m.totals = computeTotals(m);
    writeFileAtomic(manifestPath(output), JSON.stringify(m, null, 2) + "\n");
}

export function readManifest(output: string): Manifest | undefined {
    const p = manifestPath(output);
    if (!fs.existsSync(p)) {
        return undefined;
    }
    try {
        return JSON.parse(fs.readFileSync(p, "utf8")) as Manifest;
    } catch (err) {
        throw new Error(`cannot read manifest ${p}: ${(err as Error).message}`);
    }
}

/** Why a previous manifest cannot be resumed with these settings (every difference, in one line), or undefined. */
export function resumeConflict(prev: Manifest, next: Pick<Manifest, "endpoint" | "tenant" | "queries" | "window" | "mode" | "stepMs">): string | undefined {
    const problems: string[] = [];
    if (prev.endpoint !== next.endpoint) {
        problems.push(`endpoint differs (manifest ${prev.endpoint}, now ${next.endpoint})`);
    }
    if ((prev.tenant ?? null) !== (next.tenant ?? null)) {
        problems.push(`tenant differs (manifest ${prev.tenant ?? "none"}, now ${next.tenant ?? "none"})`);
    }
    const a = prev.queries.map((q) => q.query);
    const b = next.queries.map((q) => q.query);
    if (a.length !== b.length || a.some((q, i) => q !== b[i])) {
        const i = a.findIndex((q, k) => q !== b[k]);
        const at = i >= 0 && i < b.length ? `; #${i + 1} was "${a[i]}", now "${b[i]}"` : "";
        problems.push(`query list differs (manifest ${a.length} queries, now ${b.length}${at})`);
    }
    if (prev.window.startMs !== next.window.startMs || prev.window.endMs !== next.window.endMs) {
        problems.push(`window differs (manifest ${prev.window.start} … ${prev.window.end}, now ${next.window.start} … ${next.window.end})`);
    }
    if (prev.mode !== next.mode) {
        problems.push(`mode differs (manifest ${prev.mode}, now ${next.mode})`);
    }
    if ((prev.stepMs ?? null) !== (next.stepMs ?? null)) {
        problems.push(`step differs (manifest ${prev.step ?? "none"}, now ${next.stepMs === undefined ? "none" : `${next.stepMs} ms`})`);
    }
    return problems.length > 0 ? problems.join("; ") : undefined;
}

/** Rewrites the manifest now, or soon: at most once per `intervalMs` while queries finish (renames are not free). */
export class ManifestWriter {
    private last = 0;
    private timer: NodeJS.Timeout | undefined;

    constructor(private readonly output: string, private readonly manifest: Manifest, private readonly intervalMs = 1000) {}

    now(): void {
        this.stop();
        writeManifest(this.output, this.manifest);
        this.last = Date.now();
    }

    soon(): void {
        const wait = this.last + this.intervalMs - Date.now();
        if (wait <= 0) {
            this.now();
        } else if (this.timer === undefined) {
            this.timer = setTimeout(() => {
                this.timer = undefined;
                this.now();
            }, wait);
            this.timer.unref();
        }
    }

    stop(): void {
        if (this.timer !== undefined) {
            clearTimeout(this.timer);
            this.timer = undefined;
        }
    }
}

/** Absolute path of a part referenced by a manifest entry. */
export function partPath(output: string, rel: string): string {
    return path.resolve(path.dirname(path.resolve(output)), rel);
}
