/** What a mode runner gets for one query: the client, the window, where to spool samples, and counters. */
import type { HttpClient, RequestStats } from "../http";
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
