/**
 * Range mode: query_range at a fixed step for any PromQL expression. The window is cut into requests by the
 * planner (≤ 11,000 points per series, ≤ the sample budget once the series count is known); a response that is
 * too large or that the server refuses for loading too many samples is retried as two halves.
 */
import { BodyTooLargeError } from "../http";
import type { ScanResult } from "../json-scan";
import { MAX_POINTS_PER_SERIES, nextRangeRequest, pointsPerRequest } from "../planner";
import { promSeconds } from "../time";
import { type QueryRun, fetchScanned, isTooManySamples } from "./context";

/** Series count assumed before the first response tells the real one. */
export const INITIAL_SERIES_GUESS = 400;

export async function runRange(run: QueryRun, stepMs: number): Promise<void> {
    let from = 0;
    let maxPoints = MAX_POINTS_PER_SERIES;
    let seriesSeen = 0;
    for (;;) {
        const per = pointsPerRequest({
            maxPoints, sampleBudget: run.sampleBudget, seriesEstimate: seriesSeen > 0 ? seriesSeen : INITIAL_SERIES_GUESS,
        });
        const r = nextRangeRequest(run.start, run.end, stepMs, from, per);
        if (r === undefined) {
            return;
        }
        let res: ScanResult;
        const before = run.part.samples;
        try {
            res = await fetchScanned(run, "api/v1/query_range", {
                query: run.query, start: promSeconds(r.start), end: promSeconds(r.end), step: promSeconds(stepMs),
            }, (key, labels, ts, vs, count) => {
                run.part.append(run.part.seriesId(key, labels), ts, vs, count);
            });
        } catch (err) {
            if ((err instanceof BodyTooLargeError || isTooManySamples(err)) && r.points > 1) {
                maxPoints = Math.max(1, Math.floor(r.points / 2));
                continue;
            }
            throw err;
        }
        seriesSeen = Math.max(seriesSeen, res.seriesCount);
        const n = run.part.samples - before;
        run.onSamples(n);
        from += r.points;
    }
}
