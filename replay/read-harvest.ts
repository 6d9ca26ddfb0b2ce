/**
 * Reads a harvested run back into raw series: the harvester's tidy table (query, metric, timestamp, value, one
 * column per label; a label named like a fixed column is written label_<name>) from metrics.csv or metrics.parquet,
 * plus experiment.json (stack, experiment, run, window) when the harvest hook wrote one.
 */
import { parse } from "csv-parse/sync";
import { parseSampleValue } from "../model/formats/sample";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { FIXED_COLUMNS } from "../harvester/writers/table";
import type { RawSeries } from "../controllers/runtime/evaluate";

export interface RunRecord {
    dir: string;
    /** The data file read (metrics.parquet or metrics.csv). */
    dataFile: string;
    stack?: string;
    experiment?: string;
    run?: number;
    workflow?: string;
    /** Measured window, epoch ms (from experiment.json, else the data's first and last sample). */
    start: number;
    end: number;
    series: RawSeries[];
}

/** Column name → label name: the harvester writes a label named like a fixed column as label_<name>. */
export function labelOfColumn(column: string): string {
    const rest = column.startsWith("label_") ? column.slice("label_".length) : undefined;
    return rest !== undefined && (FIXED_COLUMNS as readonly string[]).includes(rest) ? rest : column;
}

/** RFC 4180 CSV into rows of fields (quoted fields may hold commas, quotes and line breaks), with csv-parse. */
export function parseCsv(text: string): string[][] {
    return parse(text, { relaxColumnCount: true, recordDelimiter: ["\r\n", "\n"] }) as string[][];
}

/** Collects rows into series keyed by metric and labels; duplicate timestamps (the same series in two queries) count once. */
class SeriesCollector {
    private readonly byKey = new Map<string, { metric: string; labels: Record<string, string>; samples: Map<number, number> }>();

    add(metric: string, labels: Record<string, string>, t: number, v: number): void {
        const key = `${metric}\u0001${Object.keys(labels).sort().map((k) => `${k}\u0000${labels[k]}`).join("\u0001")}`;
        let s = this.byKey.get(key);
        if (s === undefined) {
            s = { metric, labels, samples: new Map() };
            this.byKey.set(key, s);
        }
        s.samples.set(t, v);
    }

    series(): RawSeries[] {
        return [...this.byKey.values()].map((s) => {
            const times = [...s.samples.keys()].sort((a, b) => a - b);
            return { metric: s.metric, labels: s.labels, times, values: times.map((t) => s.samples.get(t)!) };
        });
    }
}

export function readCsvSeries(file: string): RawSeries[] {
    const rows = parseCsv(fs.readFileSync(file, "utf8"));
    const header = rows[0] ?? [];
    const [qi, mi, ti, vi] = FIXED_COLUMNS.map((c) => header.indexOf(c));
    if (qi < 0 || mi < 0 || ti < 0 || vi < 0) {
        throw new Error(`${file} is not a harvest table (its header lacks ${FIXED_COLUMNS.join(", ")})`);
    }
    const labelColumns = header.map((c, i) => ({ i, label: labelOfColumn(c) })).filter((c) => c.i > Math.max(qi, mi, ti, vi));
    const collector = new SeriesCollector();
    for (const row of rows.slice(1)) {
        if (row.length < header.length) {
            continue;
        }
        const labels: Record<string, string> = {};
        for (const c of labelColumns) {
            if (row[c.i] !== "") {
                labels[c.label] = row[c.i];
            }
        }
        const t = Date.parse(row[ti]);
        if (!Number.isFinite(t)) {
            throw new Error(`${file}: timestamp ${JSON.stringify(row[ti])} is not ISO 8601`);
        }
        collector.add(row[mi], labels, t, parseSampleValue(row[vi]));
    }
    return collector.series();
}

export async function readParquetSeries(file: string): Promise<RawSeries[]> {
    const { parquetReadObjects, parquetMetadata } = await import("hyparquet");
    const bytes = fs.readFileSync(file);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const metadata = parquetMetadata(buffer);
    const columns = metadata.schema.slice(1).map((e) => e.name);
    const labelColumns = columns.filter((c) => !(FIXED_COLUMNS as readonly string[]).includes(c)).map((c) => ({ column: c, label: labelOfColumn(c) }));
    const rows = await parquetReadObjects({
        file: buffer,
        compressors: {
            ZSTD: (input: Uint8Array) => new Uint8Array(zlib.zstdDecompressSync(input)),
            GZIP: (input: Uint8Array) => new Uint8Array(zlib.gunzipSync(input)),
        },
    });
    const collector = new SeriesCollector();
    for (const r of rows as Record<string, unknown>[]) {
        const labels: Record<string, string> = {};
        for (const c of labelColumns) {
            const v = r[c.column];
            if (v !== null && v !== undefined && v !== "") {
                labels[c.label] = String(v);
            }
        }
        const ts = r.timestamp;
        const t = ts instanceof Date ? ts.getTime() : Number(ts);
        collector.add(String(r.metric), labels, t, Number(r.value));
    }
    return collector.series();
}

/** Reads a run directory (results/<stack>/<experiment>/<run>). Throws naming what is missing. */
export async function readRun(dir: string): Promise<RunRecord> {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new Error(`--run ${dir}: no such directory (expected results/<stack>/<experiment>/<run>)`);
    }
    let record: { stack?: string; experiment?: string; run?: number; workflow?: string; window?: { start: string; end: string }; dataFile?: string } = {};
    const recordFile = path.join(dir, "experiment.json");
    if (fs.existsSync(recordFile)) {
        try {
            record = JSON.parse(fs.readFileSync(recordFile, "utf8"));
        } catch (e) {
            throw new Error(`${recordFile} is not valid JSON: ${(e as Error).message}`);
        }
    }
    const candidates = [record.dataFile, "metrics.parquet", "metrics.csv"].filter((f): f is string => f !== undefined);
    const dataName = candidates.find((f) => /\.(parquet|csv)$/.test(f) && fs.existsSync(path.join(dir, f)));
    if (dataName === undefined) {
        const json = fs.existsSync(path.join(dir, "metrics.json")) ? " (this run was harvested as JSON; harvest it again with --format parquet or csv)" : "";
        throw new Error(`${dir} holds no metrics.parquet or metrics.csv${json}`);
    }
    const dataFile = path.join(dir, dataName);
    const series = dataName.endsWith(".parquet") ? await readParquetSeries(dataFile) : readCsvSeries(dataFile);
    const allTimes = series.flatMap((s) => [s.times[0], s.times[s.times.length - 1]]).filter((t) => t !== undefined);
    const start = record.window ? Date.parse(record.window.start) : Math.min(...allTimes);
    const end = record.window ? Date.parse(record.window.end) : Math.max(...allTimes);
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
        throw new Error(`${dir}: no usable window (experiment.json window ${JSON.stringify(record.window)}, ${series.length} series)`);
    }
    return { dir, dataFile, stack: record.stack, experiment: record.experiment, run: record.run, workflow: record.workflow, start, end, series };
}
