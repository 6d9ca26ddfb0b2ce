/**
 * Raw mode: the stored samples of a plain selector, with their true timestamps. Preferred path: streamed remote
 * read in slices (no JSON at all). Fallback where remote read is unavailable: instant queries of `sel[Δ]` at the
 * end of each slice, Δ adapted to the observed sample density. Both trim to lowerExclusive < t ≤ upper per slice,
 * so boundary samples appear exactly once whatever the server's range-selector closedness (2.x vs 3.x).
 */
import { BodyTooLargeError } from "../http";
import { nextRawSlice, planRawSlices } from "../planner";
import { RemoteReadUnavailable, remoteRead } from "../remote-read/client";
import type { Selector } from "../selector";
import { promSeconds } from "../time";
import { type QueryRun, fetchScanned, isTooManySamples } from "./context";

/** Remote read slice length: long enough to amortise requests, short enough for Mimir's per-query limits. */
export const REMOTE_READ_SLICE_MS = 12 * 3600 * 1000;
/** First Δ of the instant-query fallback; later slices adapt to the density seen. */
export const INSTANT_FIRST_SLICE_MS = 3600 * 1000;
const INSTANT_MIN_SLICE_MS = 1000;
const INSTANT_MAX_SLICE_MS = 24 * 3600 * 1000;

export { RemoteReadUnavailable };

export async function runRawRemoteRead(run: QueryRun, selector: Selector): Promise<void> {
    for (const slice of planRawSlices(run.start, run.end, REMOTE_READ_SLICE_MS)) {
        const mark = run.part.mark();
        let n = 0;
        await run.client.withRetries(async () => {
            run.part.rollback(mark);
            n = 0;
            const r = await remoteRead(run.client, { matchers: selector.matchers, ...slice }, (labels, samples) => {
                const key = JSON.stringify(labels);
                const id = run.part.seriesId(key, () => Object.fromEntries(labels));
                run.part.append(id, samples.ts, samples.vs, samples.n);
                n += samples.n;
            }, run.stats);
            if (r.skippedChunks > 0) {
                run.warnings.push(`${r.skippedChunks} non-float (native histogram) chunks were skipped`);
            }
        }, run.stats, run.onRetry);
        run.onSamples(n);
    }
}

export async function runRawInstant(run: QueryRun, selectorText: string): Promise<void> {
    let sliceMs = INSTANT_FIRST_SLICE_MS;
    let lower = run.start - 1;
    for (;;) {
        const slice = nextRawSlice(run.end, lower, sliceMs);
        if (slice === undefined) {
            return;
        }
        const span = slice.upper - slice.lowerExclusive;
        const before = run.part.samples;
        try {
            await fetchScanned(run, "api/v1/query", { query: `${selectorText.trim()}[${span}ms]`, time: promSeconds(slice.upper) },
                (key, labels, ts, vs, count) => {
                    // Keep lowerExclusive < t ≤ upper (2.x range selectors also return t = lowerExclusive).
                    let a = 0;
                    while (a < count && ts[a] <= slice.lowerExclusive) {
                        a++;
                    }
                    let b = count;
                    while (b > a && ts[b - 1] > slice.upper) {
                        b--;
                    }
                    if (b > a) {
                        run.part.append(run.part.seriesId(key, labels), ts.subarray(a), vs.subarray(a), b - a);
                    }
                });
        } catch (err) {
            if ((err instanceof BodyTooLargeError || isTooManySamples(err)) && span > INSTANT_MIN_SLICE_MS) {
                sliceMs = Math.max(INSTANT_MIN_SLICE_MS, Math.floor(span / 2));
                continue;
            }
            throw err;
        }
        const n = run.part.samples - before;
        run.onSamples(n);
        const density = n / span;
        const want = density > 0 ? run.sampleBudget / density : INSTANT_MAX_SLICE_MS;
        sliceMs = Math.min(INSTANT_MAX_SLICE_MS, Math.max(INSTANT_MIN_SLICE_MS, Math.floor(want)));
        lower = slice.upper;
    }
}
