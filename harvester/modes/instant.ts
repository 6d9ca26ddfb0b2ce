/**
 * Instant snapshots (`--at TIME|now` without a window): one instant query per PromQL expression at that time, one
 * row per series (a range selector such as `m[5m]` gives that window's stored samples instead).
 */
import { promSeconds } from "../time";
import { type QueryRun, fetchScanned } from "./context";

export async function runInstant(run: QueryRun): Promise<void> {
    const before = run.part.samples;
    await fetchScanned(run, "api/v1/query", { query: run.query, time: promSeconds(run.end) }, (key, labels, ts, vs, count) => {
        run.part.append(run.part.seriesId(key, labels), ts, vs, count);
    });
    run.onSamples(run.part.samples - before);
}
