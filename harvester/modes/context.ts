/** What a mode runner gets for one query: the client, the window, where to spool samples, and counters. */
import { ConnectionError, type HttpClient, type RequestStats } from "../http";
import { type ScanResult, type SeriesSink, TruncatedJsonError, scanResponse } from "../json-scan";
import type { PartWriter } from "../parts";

export interface QueryRun {
    client: HttpClient;
    query: string;
    /** Window in epoch ms, inclusive at both ends. */
    start: number;
    end: number;
    part: PartWriter;
    stats: RequestStats;
    /** Samples one response may carry; bounds memory per request. */
    sampleBudget: number;
    /** Warnings from the server or about skipped data, reported in the manifest. */
    warnings: string[];
    /** Called as samples are spooled (progress). */
    onSamples: (n: number) => void;
    /** Called before a retry. */
    onRetry: (err: unknown, delayMs: number) => void;
}

/** Prometheus' 422 when a request would load more samples than --query.max-samples. */
export function isTooManySamples(err: unknown): boolean {
    return err instanceof Error && /too many samples|exceeded the maximum number of|max-samples/i.test(err.message);
}

/**
 * POSTs a query form and scans the JSON answer, handing each series to `onSeries` (which spools it), inside the
 * retry loop: a body cut short (the connection closed cleanly mid-JSON) is retried like a dropped connection, and
 * whatever an attempt had spooled is rolled back first. Server warnings and native-histogram notes are recorded;
 * an error status becomes an Error with the server's words.
 */
export async function fetchScanned(run: QueryRun, path: string, params: Record<string, string>, onSeries: SeriesSink): Promise<ScanResult> {
    const mark = run.part.mark();
    const res = await run.client.postFormParsed(path, params, run.stats, run.onRetry, (body) => {
        run.part.rollback(mark);
        try {
            return scanResponse(body, onSeries);
        } catch (err) {
            run.part.rollback(mark);
            if (err instanceof TruncatedJsonError) {
                throw new ConnectionError(`response body cut short: ${err.message}`, "ETRUNCATED");
            }
            throw err;
        }
    });
    if (res.status !== "success") {
        run.part.rollback(mark);
        throw new Error(`${res.errorType ?? "error"}: ${res.error ?? "query failed"}`);
    }
    for (const w of res.warnings) {
        if (!run.warnings.includes(w)) {
            run.warnings.push(w);
        }
    }
    if (res.histogramSeries > 0) {
        run.warnings.push(`${res.histogramSeries} series carried native histograms, which are not exported`);
    }
    return res;
}
