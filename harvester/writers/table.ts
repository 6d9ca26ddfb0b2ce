/**
 * The tidy table every format shares: query, metric, timestamp, value, then one column per label name seen in
 * any series (sorted; sparse where a series lacks the label). A label whose name collides with a fixed column is
 * written as `label_<name>`. Also the value formatting shared by the text formats.
 */
import { type Labels, type PartBlock, PartReader } from "../parts";

export const FIXED_COLUMNS = ["query", "metric", "timestamp", "value"] as const;

export interface LabelColumn {
    /** The label name in the series. */
    label: string;
    /** The column name in the output. */
    column: string;
}

/** The part of the harvest the writers turn into a file. */
export interface TableInput {
    /** Successful queries in the order they were given. */
    queries: { index: number; query: string; partPath: string }[];
    /** Failed queries (JSON lists them; tabular formats only through the manifest). */
    errors: { index: number; query: string; error: string }[];
    labelColumns: LabelColumn[];
    /** Free-form provenance stored where the format allows (Parquet key-value metadata). */
    metadata?: Record<string, string>;
    /** An instant snapshot: JSON writes vectors (one `value` per series) like the API's instant queries. */
    instant?: boolean;
}

export function labelColumns(names: Iterable<string>): LabelColumn[] {
    const fixed = new Set<string>(FIXED_COLUMNS);
    const uniq = [...new Set(names)].filter((n) => n !== "__name__").sort();
    const used = new Set<string>(fixed);
    return uniq.map((label) => {
        let column = fixed.has(label) ? `label_${label}` : label;
        while (used.has(column) && column !== label) {
            column = `label_${column}`;
        }
        used.add(column);
        return { label, column };
    });
}

/** Prometheus' spelling of a float: NaN, +Inf, -Inf, otherwise the shortest round-trip decimal. */
export function formatValue(v: number): string {
    if (Number.isFinite(v)) {
        return v === 0 && 1 / v < 0 ? "-0" : String(v);
    }
    if (v !== v) {
        return "NaN";
    }
    return v > 0 ? "+Inf" : "-Inf";
}

/** Calls back for every series of every query, in order; blocks are read lazily. */
export function* seriesOf(input: TableInput): Generator<{ query: string; labels: Labels; reader: PartReader; blocks: PartBlock[] }> {
    for (const q of input.queries) {
        const reader = new PartReader(q.partPath);
        try {
            for (const s of reader.series) {
                yield { query: q.query, labels: s.labels, reader, blocks: s.blocks };
            }
        } finally {
            reader.close();
        }
    }
}
