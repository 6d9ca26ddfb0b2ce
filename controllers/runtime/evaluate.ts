/**
 * Offline evaluation of observation queries over raw samples, with the semantics of the query engine the platform
 * runs (Mimir 3 / Prometheus 3): range selectors are left-open, (t − window, t]; last_over_time takes the latest
 * sample in it; rate() corrects counter resets and extrapolates to the window's edges exactly as Prometheus'
 * extrapolatedRate does; aggregations drop the metric name and keep only the `by` labels that have a value.
 */
import { parseDuration } from "../../model/formats/duration";
import type { ObservationQuery, SeriesQuery } from "./queries";
import type { Sample } from "./types";

/** One raw series: its metric name, labels and samples in time order. */
export interface RawSeries {
    metric: string;
    labels: Record<string, string>;
    /** Timestamps (epoch ms), strictly increasing, and values. */
    times: number[];
    values: number[];
}

/** Raw series grouped by metric name, the form replay loads a harvest into. */
export type SeriesStore = ReadonlyMap<string, readonly RawSeries[]>;

/** Groups series by metric name (keeps each series' samples sorted by time). */
export function seriesStore(series: Iterable<RawSeries>): SeriesStore {
    const store = new Map<string, RawSeries[]>();
    for (const s of series) {
        const list = store.get(s.metric) ?? [];
        list.push(s);
        store.set(s.metric, list);
    }
    return store;
}

const compiledRegex = new Map<string, RegExp>();

function fullMatch(pattern: string): RegExp {
    let re = compiledRegex.get(pattern);
    if (re === undefined) {
        re = new RegExp(`^(?:${pattern})$`);
        compiledRegex.set(pattern, re);
    }
    return re;
}

/** PromQL matching: a missing label has the empty value. */
function matches(q: SeriesQuery, labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(q.labels ?? {})) {
        if ((labels[k] ?? "") !== v) {
            return false;
        }
    }
    for (const [k, pattern] of Object.entries(q.labelsMatching ?? {})) {
        if (!fullMatch(pattern).test(labels[k] ?? "")) {
            return false;
        }
    }
    return true;
}

/** Index range [from, to) of the samples with time in (start, end]. */
function windowRange(times: number[], start: number, end: number): [number, number] {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (times[mid] <= start) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    const from = lo;
    hi = times.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (times[mid] <= end) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return [from, lo];
}

/**
 * Prometheus' rate() of one counter over (rangeStart, rangeEnd], or undefined with fewer than two samples. The
 * order of the adjustments follows Prometheus 3 (and Mimir's engine): the start gap is capped by the
 * extrapolation threshold first, then by the counter's extrapolated zero point.
 */
export function extrapolatedRate(times: number[], values: number[], from: number, to: number, rangeStart: number, rangeEnd: number): number | undefined {
    const n = to - from;
    if (n < 2) {
        return undefined;
    }
    const firstT = times[from];
    const firstV = values[from];
    const lastT = times[to - 1];
    let delta = values[to - 1] - firstV;
    for (let i = from + 1; i < to; i++) {
        if (values[i] < values[i - 1]) {
            delta += values[i - 1];
        }
    }
    let durationToStart = (firstT - rangeStart) / 1000;
    let durationToEnd = (rangeEnd - lastT) / 1000;
    const sampledInterval = (lastT - firstT) / 1000;
    const averageInterval = sampledInterval / (n - 1);
    const threshold = averageInterval * 1.1;
    if (durationToStart >= threshold) {
        durationToStart = averageInterval / 2;
    }
    if (delta > 0 && firstV >= 0) {
        const durationToZero = sampledInterval * (firstV / delta);
        if (durationToZero < durationToStart) {
            durationToStart = durationToZero;
        }
    }
    if (durationToEnd >= threshold) {
        durationToEnd = averageInterval / 2;
    }
    const factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval / ((rangeEnd - rangeStart) / 1000);
    return delta * factor;
}

/** The per-series value of a query at time t, or undefined when the window holds too few samples. */
function seriesValue(q: SeriesQuery, s: RawSeries, t: number, windowMs: number): number | undefined {
    const [from, to] = windowRange(s.times, t - windowMs, t);
    if (q.fn === "last") {
        return to > from ? s.values[to - 1] : undefined;
    }
    return extrapolatedRate(s.times, s.values, from, to, t - windowMs, t);
}

interface Group {
    labels: Record<string, string>;
    values: number[];
}

function combine(op: SeriesQuery["aggregate"], values: number[]): number {
    switch (op) {
        case "sum":
            return values.reduce((a, b) => a + b, 0);
        case "avg":
            return values.reduce((a, b) => a + b, 0) / values.length;
        case "max":
        case "min": {
            // Prometheus: a NaN is replaced by any number that follows it.
            let result = values[0];
            for (const v of values.slice(1)) {
                if (Number.isNaN(result) || (op === "max" ? v > result : v < result)) {
                    result = v;
                }
            }
            return result;
        }
    }
}

/** Evaluates a series query at time t (epoch ms) over the store. */
export function evaluateSeries(q: SeriesQuery, store: SeriesStore, t: number): Sample[] {
    const windowMs = parseDuration(q.window);
    if (windowMs === undefined || windowMs <= 0) {
        throw new Error(`window ${JSON.stringify(q.window)} is not a duration`);
    }
    const groups = new Map<string, Group>();
    for (const s of store.get(q.metric) ?? []) {
        if (!matches(q, s.labels)) {
            continue;
        }
        const v = seriesValue(q, s, t, windowMs);
        if (v === undefined) {
            continue;
        }
        const labels: Record<string, string> = {};
        for (const name of q.by) {
            const value = s.labels[name] ?? "";
            if (value !== "") {
                labels[name] = value;
            }
        }
        const key = q.by.map((name) => s.labels[name] ?? "").join("\u0000");
        const group = groups.get(key) ?? { labels, values: [] };
        group.values.push(v);
        groups.set(key, group);
    }
    return [...groups.values()].map((g) => ({ labels: g.labels, value: combine(q.aggregate, g.values) }));
}

function labelKey(labels: Record<string, string>): string {
    return Object.keys(labels).sort().map((k) => `${k}\u0000${labels[k]}`).join("\u0001");
}

/** Evaluates any observation query at time t; a ratio matches both sides one-to-one on their labels. */
export function evaluateQuery(q: ObservationQuery, store: SeriesStore, t: number): Sample[] {
    if (q.dividedBy === undefined) {
        return evaluateSeries(q, store, t);
    }
    const denominators = new Map(evaluateSeries(q.dividedBy, store, t).map((s) => [labelKey(s.labels), s.value]));
    const out: Sample[] = [];
    for (const s of evaluateSeries(q, store, t)) {
        const d = denominators.get(labelKey(s.labels));
        if (d !== undefined) {
            out.push({ labels: s.labels, value: s.value / d });
        }
    }
    return out;
}

/** Every query of a controller evaluated at time t. */
export function evaluateAll(queries: Record<string, ObservationQuery>, store: SeriesStore, t: number): Record<string, Sample[]> {
    return Object.fromEntries(Object.entries(queries).map(([name, q]) => [name, evaluateQuery(q, store, t)]));
}
