/**
 * Pure request planning. A query_range request evaluates at start, start+step, …, ≤ end; Prometheus and Mimir
 * reject a request when (end-start)/step > 11,000. The planner splits a window into consecutive requests whose
 * evaluation timestamps are exactly those of one big request, each timestamp in exactly one request (so no
 * boundary sample is duplicated), every request within the point limit and the sample budget.
 */

/** Prometheus' and Mimir's limit: (end-start)/step must not exceed this. */
export const MAX_POINTS_PER_SERIES = 11_000;

export interface RangeRequest {
    /** First evaluation timestamp (ms). */
    start: number;
    /** Last evaluation timestamp (ms), exactly start + (points-1)*step. */
    end: number;
    points: number;
}

export interface PointBudget {
    /** Hard cap on evaluation points per series in one request. Defaults to 11,000. */
    maxPoints?: number;
    /** Samples one response may carry (points × series). Defaults to unlimited. */
    sampleBudget?: number;
    /** Expected number of series the query returns. Defaults to 1. */
    seriesEstimate?: number;
}

/** Total evaluation points of the window [start, end] at `step` (0 when end < start). */
export function totalPoints(start: number, end: number, step: number): number {
    if (end < start) {
        return 0;
    }
    return Math.floor((end - start) / step) + 1;
}

/** How many evaluation points one request may cover under the given budget (at least 1). */
export function pointsPerRequest(budget: PointBudget = {}): number {
    // (end-start)/step ≤ maxPoints allows maxPoints+1 points; stay one below the server's bound.
    const cap = Math.max(1, Math.min(budget.maxPoints ?? MAX_POINTS_PER_SERIES, MAX_POINTS_PER_SERIES));
    const series = Math.max(1, Math.ceil(budget.seriesEstimate ?? 1));
    const byBudget = budget.sampleBudget === undefined ? cap : Math.floor(budget.sampleBudget / series);
    return Math.max(1, Math.min(cap, byBudget));
}

/**
 * The request covering evaluation points [fromPoint, fromPoint+n) of the window starting at `start`;
 * undefined once fromPoint is past the end.
 */
export function nextRangeRequest(start: number, end: number, step: number, fromPoint: number,
    maxPointsInRequest: number): RangeRequest | undefined {
    const total = totalPoints(start, end, step);
    if (fromPoint >= total) {
        return undefined;
    }
    const points = Math.min(Math.max(1, maxPointsInRequest), total - fromPoint);
    const s = start + fromPoint * step;
    return { start: s, end: s + (points - 1) * step, points };
}

/** Splits [start, end] at `step` into requests of at most pointsPerRequest(budget) points each. */
export function planRange(start: number, end: number, step: number, budget: PointBudget = {}): RangeRequest[] {
    if (!(step > 0)) {
        throw new Error(`step must be positive, got ${step}`);
    }
    const per = pointsPerRequest(budget);
    const out: RangeRequest[] = [];
    let from = 0;
    for (;;) {
        const r = nextRangeRequest(start, end, step, from, per);
        if (r === undefined) {
            return out;
        }
        out.push(r);
        from += r.points;
    }
}

/**
 * A slice of a raw (stored-sample) read. Samples with lowerExclusive < t ≤ upper belong to it; the first slice
 * of a window also owns t = window start (lowerExclusive = start - 1).
 */
export interface RawSlice {
    lowerExclusive: number;
    upper: number;
}

/** Splits [start, end] into raw slices of at most `sliceMs` each that tile the window without overlap. */
export function planRawSlices(start: number, end: number, sliceMs: number): RawSlice[] {
    if (!(sliceMs > 0)) {
        throw new Error(`slice length must be positive, got ${sliceMs}`);
    }
    const out: RawSlice[] = [];
    let lower = start - 1;
    while (lower < end) {
        const upper = Math.min(end, lower + sliceMs);
        out.push({ lowerExclusive: lower, upper });
        lower = upper;
    }
    return out;
}

/** Next raw slice from `lowerExclusive` of at most sliceMs, undefined when the window is done. */
export function nextRawSlice(end: number, lowerExclusive: number, sliceMs: number): RawSlice | undefined {
    if (lowerExclusive >= end) {
        return undefined;
    }
    return { lowerExclusive, upper: Math.min(end, lowerExclusive + Math.max(1, Math.floor(sliceMs))) };
}
