/**
 * The worker-thread side of the harvest (bundled to bin/dist/harvest-worker.js): runs whole queries (HTTP,
 * decoding, part file) and renders CSV rows from finished parts, so the JSON scanning, XOR decoding and CSV
 * encoding run on as many cores as there are workers. Messages (see workers.ts): in {id, op: "query", task} and
 * {id, op: "csv", ...} / {id, op: "credit"}; out {id, type: "event" | "chunk" | "done" | "error", ...}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type ClientOptions, makeHttpClient } from "./http";
import { primeHotPaths } from "./prime";
import { type QueryTask, runQuery } from "./query";
import { CSV_CHUNK_BYTES, CsvRenderer } from "./writers/csv";
import type { LabelColumn } from "./writers/table";

export type WorkerRequest =
    | { id: number; op: "query"; task: QueryTask }
    | { id: number; op: "csv"; query: string; partPath: string; labelColumns: LabelColumn[]; credit: number }
    /** One more chunk may be sent; `buffer` is a written chunk's memory handed back for reuse. */
    | { id: number; op: "credit"; buffer?: ArrayBuffer };

/** Flow control of one CSV rendering: chunks the main thread still accepts, and buffers it gave back. */
interface Credit {
    n: number;
    spare: ArrayBuffer[];
    wake?: () => void;
}

const port = parentPort;
if (port !== null) {
    primeHotPaths();
    const client = makeHttpClient(workerData as ClientOptions);
    const credits = new Map<number, Credit>();
    port.on("message", (m: WorkerRequest) => {
        if (m.op === "query") {
            runQuery(client, m.task, (event) => port.postMessage({ id: m.id, type: "event", event })).then(
                (outcome) => port.postMessage({ id: m.id, type: "done", result: outcome }),
                (err: unknown) => port.postMessage({ id: m.id, type: "error", message: (err as Error).message }));
        } else if (m.op === "credit") {
            const c = credits.get(m.id);
            if (c !== undefined) {
                c.n++;
                if (m.buffer !== undefined) {
                    c.spare.push(m.buffer);
                }
                c.wake?.();
            }
        } else {
            const c: Credit = { n: m.credit, spare: [] };
            credits.set(m.id, c);
            (async () => {
                const r = new CsvRenderer(m.labelColumns, (min) => {
                    const b = c.spare.pop();
                    return b !== undefined && b.byteLength >= min ? new Uint8Array(b) : new Uint8Array(Math.max(CSV_CHUNK_BYTES, min));
                });
                for (const chunk of r.render(m.query, m.partPath)) {
                    while (c.n === 0) {
                        await new Promise<void>((wake) => { c.wake = wake; });
                    }
                    c.n--;
                    port.postMessage({ id: m.id, type: "chunk", chunk }, [chunk.buffer as ArrayBuffer]);
                }
                return r.rows;
            })().then((rows) => {
                credits.delete(m.id);
                port.postMessage({ id: m.id, type: "done", result: rows });
            }, (err: unknown) => {
                credits.delete(m.id);
                port.postMessage({ id: m.id, type: "error", message: (err as Error).message });
            });
        }
    });
}
