/**
 * Observation queries as data. A controller states what it observes as a small structured query (one metric, its
 * label matchers, last value or rate over a window, an aggregation, optionally a ratio of two such). The same
 * definition is compiled to PromQL for the live loop (evaluated by Mimir) and evaluated offline over a harvested
 * experiment's raw samples for replay (evaluate.ts), so a replayed strategy sees what the live one would have seen.
 */
import { parseDuration } from "../../model/formats/duration";

/** One metric reduced to one value per group. */
export interface SeriesQuery {
    /** Metric name as scraped (and as listed in the harvest's queries file, e.g. container_cpu_usage_seconds_total). */
    metric: string;
    /** Labels that must equal these values. */
    labels?: Record<string, string>;
    /** Labels whose values must fully match these regular expressions (RE2 syntax, anchored like PromQL's =~). */
    labelsMatching?: Record<string, string>;
    /** last: the latest sample within the window (last_over_time); rate: per-second increase of a counter (rate). */
    fn: "last" | "rate";
    /** The window, a Prometheus duration such as 5s or 1m. */
    window: string;
    /** How the selected series are combined. */
    aggregate: "sum" | "max" | "min" | "avg";
    /** Labels kept by the aggregation (one value per combination); empty: one value overall. */
    by: string[];
}

/**
 * An observation: a series query, optionally divided by a second one aggregated by the same labels (a ratio such as
 * throttled periods / periods, matched one-to-one on those labels).
 */
export interface ObservationQuery extends SeriesQuery {
    dividedBy?: SeriesQuery;
}

/** A PromQL string literal (double-quoted, Go escapes: what JSON produces for these characters). */
function quote(value: string): string {
    return JSON.stringify(value);
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** What is wrong with a series query, one line each (empty when it can be compiled and evaluated). */
export function seriesQueryProblems(q: SeriesQuery): string[] {
    const problems: string[] = [];
    if (typeof q.metric !== "string" || !METRIC_NAME.test(q.metric)) {
        problems.push(`metric ${quote(q.metric)} is not a metric name`);
    }
    if (q.fn !== "last" && q.fn !== "rate") {
        problems.push(`fn ${quote(q.fn)} is not last or rate`);
    }
    if (!["sum", "max", "min", "avg"].includes(q.aggregate)) {
        problems.push(`aggregate ${quote(q.aggregate)} is not sum, max, min or avg`);
    }
    if (!Array.isArray(q.by)) {
        return [...problems, "by must be a list of label names"];
    }
    for (const name of [...Object.keys(q.labels ?? {}), ...Object.keys(q.labelsMatching ?? {}), ...q.by]) {
        if (!LABEL_NAME.test(name)) {
            problems.push(`${quote(name)} is not a label name`);
        }
    }
    for (const [name, pattern] of Object.entries(q.labelsMatching ?? {})) {
        try {
            new RegExp(pattern);
        } catch (e) {
            problems.push(`labelsMatching.${name}: ${quote(pattern)} is not a regular expression (${(e as Error).message})`);
        }
    }
    const windowMs = typeof q.window === "string" ? parseDuration(q.window) : undefined;
    if (windowMs === undefined || windowMs <= 0) {
        problems.push(`window ${quote(q.window)} is not a duration such as 5s or 1m`);
    }
    return problems;
}

/** The selector with its matchers: metric{a="x",b=~"y"}. */
function selector(q: SeriesQuery): string {
    const matchers = [
        ...Object.entries(q.labels ?? {}).map(([k, v]) => `${k}=${quote(v)}`),
        ...Object.entries(q.labelsMatching ?? {}).map(([k, v]) => `${k}=~${quote(v)}`),
    ];
    return matchers.length === 0 ? q.metric : `${q.metric}{${matchers.join(",")}}`;
}

/** PromQL of a series query, e.g. sum by (pod) (rate(container_cpu_usage_seconds_total{container="udf"}[1m])). */
export function seriesPromQL(q: SeriesQuery): string {
    const inner = `${q.fn === "rate" ? "rate" : "last_over_time"}(${selector(q)}[${q.window}])`;
    const by = q.by.length > 0 ? ` by (${q.by.join(", ")})` : "";
    return `${q.aggregate}${by} (${inner})`;
}

/** PromQL of any observation query. */
export function toPromQL(q: ObservationQuery): string {
    return q.dividedBy === undefined ? seriesPromQL(q) : `(${seriesPromQL(q)}) / (${seriesPromQL(q.dividedBy)})`;
}

/** Every metric name a query reads (what a harvest must contain to replay it). */
export function queryMetrics(q: ObservationQuery): string[] {
    return q.dividedBy === undefined ? [q.metric] : [q.metric, q.dividedBy.metric];
}

/** What is wrong with any observation query (a ratio's sides must aggregate by the same labels). */
export function observationQueryProblems(q: ObservationQuery): string[] {
    const problems = seriesQueryProblems(q);
    const d = q.dividedBy;
    if (d === undefined) {
        return problems;
    }
    problems.push(...seriesQueryProblems(d).map((p) => `dividedBy: ${p}`));
    if (Array.isArray(q.by) && Array.isArray(d.by) && [...q.by].sort().join(",") !== [...d.by].sort().join(",")) {
        problems.push(`dividedBy must aggregate by the same labels as the query (${q.by.join(", ") || "none"} vs ${d.by.join(", ") || "none"})`);
    }
    return problems;
}
