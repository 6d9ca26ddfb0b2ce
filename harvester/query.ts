/**
 * One query, start to finish: fetch it the way its plan says (range, raw by remote read with the m[Δ] fallback,
 * or an instant snapshot), spool its samples to its part file, and report what happened. The same function runs
 * on the main thread or inside a worker thread (harvester/worker.ts), so both give the same part file.
 */
import type { HttpClient, RequestStats } from "./http";
import type { EffectiveMode } from "./manifest";
import type { QueryRun } from "./modes/context";
import { runInstant } from "./modes/instant";
import { runRange } from "./modes/range";
import { RemoteReadUnavailable, runRawInstant, runRawRemoteRead } from "./modes/raw";
import { PartWriter } from "./parts";
import { parseSelector } from "./selector";
import { isoUtc } from "./time";

/** How raw queries reach the server, as far as the harvest has found out. */
export type RawBackend = "unknown" | "remote-read" | "instant";

/** What to run: plain data, so it can be posted to a worker thread. */
export interface QueryTask {
    index: number;
    query: string;
    kind: "range" | "raw" | "instant";
    /** Window in epoch ms, inclusive (for an instant snapshot, start = end = the evaluation time). */
    start: number;
    end: number;
    stepMs?: number;
    sampleBudget: number;
    /** Where the part file goes (written in place; trusted only through the manifest). */
    partPath: string;
    rawBackend: RawBackend;
    /** A query that matches no series fails instead of passing with a warning. */
    failOnEmpty?: boolean;
}

export type QueryEvent =
    | { type: "samples"; samples: number }
    | { type: "retry"; error: string; delayMs: number }
    | { type: "fallback"; reason: string };

export interface QueryOutcome {
    status: "ok" | "failed";
    error?: string;
    mode: EffectiveMode;
    stats: RequestStats;
    warnings: string[];
    series: number;
    samples: number;
    labels: string[];
    /** Size of the finished part file (the manifest records it; --resume checks it). */
    partBytes?: number;
    /** What this query learned about remote read (the harvest shares it with later queries). */
    rawBackend: RawBackend;
}

export async function runQuery(client: HttpClient, t: QueryTask, onEvent: (e: QueryEvent) => void): Promise<QueryOutcome> {
    const part = new PartWriter(t.partPath);
    const stats: RequestStats = { requests: 0, retries: 0, bytes: 0 };
    const warnings: string[] = [];
    const run: QueryRun = {
        client, query: t.query, start: t.start, end: t.end, part, stats, warnings, sampleBudget: t.sampleBudget,
        onSamples: (n) => onEvent({ type: "samples", samples: n }),
        onRetry: (err, delayMs) => onEvent({ type: "retry", error: (err as Error).message, delayMs }),
    };
    let mode: EffectiveMode = t.kind === "instant" ? "instant" : "range";
    let rawBackend = t.rawBackend;
    try {
        if (t.kind === "range") {
            await runRange(run, t.stepMs as number);
        } else if (t.kind === "instant") {
            await runInstant(run);
        } else {
            const selector = parseSelector(t.query);
            if (selector === undefined) {
                throw new Error(`raw mode needs a plain series selector, "${t.query}" is an expression`);
            }
            if (rawBackend !== "instant") {
                try {
                    mode = "raw-remote-read";
                    await runRawRemoteRead(run, selector);
                    rawBackend = "remote-read";
                } catch (err) {
                    if (!(err instanceof RemoteReadUnavailable)) {
                        throw err;
                    }
                    rawBackend = "instant";
                    part.rollback({ offset: 0, series: 0, samples: 0 });
                    onEvent({ type: "fallback", reason: `${err.message}; using instant range-selector queries` });
                }
            }
            if (rawBackend === "instant") {
                mode = "raw-instant";
                await runRawInstant(run, t.query);
            }
        }
        if (part.seriesCount === 0) {
            const what = t.kind === "instant" ? `at ${isoUtc(t.end)}` : `in ${isoUtc(t.start)} … ${isoUtc(t.end)}`;
            const text = `no series: the query matched nothing ${what} (a misspelt metric or label?)`;
            if (t.failOnEmpty === true) {
                throw new Error(`${text}; failed because of --fail-on-empty`);
            }
            warnings.push(text);
        }
        const partBytes = part.close();
        return {
            status: "ok", mode, stats, warnings, series: part.seriesCount, samples: part.samples,
            labels: [...part.labelNames].sort(), partBytes, rawBackend,
        };
    } catch (err) {
        part.discard();
        return { status: "failed", error: (err as Error).message, mode, stats, warnings, series: 0, samples: 0, labels: [], rawBackend };
    }
}
