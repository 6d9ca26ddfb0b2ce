/**
 * Instant snapshots (`--at TIME|now` without a window): one instant query per PromQL expression at that time, one
 * row per series (a range selector such as `m[5m]` gives that window's stored samples instead).
 */
import { promSeconds } from "../time";
import { type QueryRun, fetchScanned } from "./context";

export async function runInstant(run: QueryRun): Promise<void> {
    const res = await fetchScanned(run, "api/v1/query", { query: run.query, time: promSeconds(run.end) });
    let n = 0;
    for (const s of res.series) {
        const id = run.part.seriesId(s.key, () => s.labels);
        run.part.append(id, s.timestamps, s.values, s.timestamps.length);
        n += s.timestamps.length;
    }
    run.onSamples(n);
}
