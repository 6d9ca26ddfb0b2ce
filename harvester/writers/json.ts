/**
 * JSON in the original charonctl layout — {results:[{query, data:{status, data:{resultType, result}}}],
 * timestamp, total_queries} — plus errors:[{query, error}]. Each result holds only its own query's series, so
 * names never shift when a query fails. An instant snapshot (--at) writes vectors ({metric, value}) where each
 * series has one sample. Streamed: one series at a time.
 */
import * as fs from "node:fs";
import { PartReader } from "../parts";
import { type TableInput, formatValue, seriesOf } from "./table";

/** Whether a query's part holds exactly one sample per series (an instant vector). */
function oneSampleEach(partPath: string): boolean {
    const r = new PartReader(partPath);
    try {
        return r.series.every((s) => s.samples === 1);
    } finally {
        r.close();
    }
}

const FLUSH_CHARS = 1 << 20;

export async function writeJson(path: string, input: TableInput): Promise<number> {
    const fd = fs.openSync(path, "w");
    let rows = 0;
    try {
        let buf = "{\"results\":[";
        let currentQuery: string | undefined;
        let firstSeries = true;
        let queryCount = 0;
        const closeQuery = (): void => {
            if (currentQuery !== undefined) {
                buf += "]}}}";
            }
        };
        // Queries without any series still get a result entry: walk queries, then their series.
        for (const q of input.queries) {
            closeQuery();
            // An instant snapshot of a plain expression is a vector, as the API's instant query returns it.
            const vector = input.instant === true && oneSampleEach(q.partPath);
            buf += `${queryCount > 0 ? "," : ""}{"query":${JSON.stringify(q.query)},"data":{"status":"success","data":{"resultType":"${vector ? "vector" : "matrix"}","result":[`;
            currentQuery = q.query;
            queryCount++;
            firstSeries = true;
            for (const s of seriesOf({ ...input, queries: [q] })) {
                buf += `${firstSeries ? "" : ","}{"metric":${JSON.stringify(s.labels)},${vector ? "\"value\":" : "\"values\":["}`;
                firstSeries = false;
                let first = true;
                for (const b of s.blocks) {
                    const { ts, vs } = s.reader.readBlock(b);
                    for (let i = 0; i < ts.length; i++) {
                        buf += `${first ? "" : ","}[${ts[i] / 1000},"${formatValue(vs[i])}"]`;
                        first = false;
                        if (buf.length > FLUSH_CHARS) {
                            fs.writeSync(fd, buf);
                            buf = "";
                        }
                    }
                    rows += ts.length;
                }
                buf += vector ? "}" : "]}";
            }
        }
        closeQuery();
        buf += `],"timestamp":${JSON.stringify(new Date().toISOString())},"total_queries":${input.queries.length},`;
        buf += `"errors":${JSON.stringify(input.errors.map((e) => ({ query: e.query, error: e.error })))}}\n`;
        fs.writeSync(fd, buf);
    } finally {
        fs.closeSync(fd);
    }
    return rows;
}
