/**
 * JSON in the original charonctl layout — {results:[{query, data:{status, data:{resultType, result}}}],
 * timestamp, total_queries} — plus errors:[{query, error}]. Each result holds only its own query's series, so
 * names never shift when a query fails. Streamed: one series at a time.
 */
import * as fs from "node:fs";
import { type TableInput, formatValue, seriesOf } from "./table";

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
            buf += `${queryCount > 0 ? "," : ""}{"query":${JSON.stringify(q.query)},"data":{"status":"success","data":{"resultType":"matrix","result":[`;
            currentQuery = q.query;
            queryCount++;
            firstSeries = true;
            for (const s of seriesOf({ ...input, queries: [q] })) {
                buf += `${firstSeries ? "" : ","}{"metric":${JSON.stringify(s.labels)},"values":[`;
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
                buf += "]}";
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
