/**
 * Worker threads for the harvest: each worker runs whole queries (its own keep-alive client, JSON scanning, XOR
 * decoding, part file) and renders CSV from finished parts; the main thread keeps the plan, the manifest, the
 * order of the output and the writes. Results are the same bytes as in-process runs: the same functions run there.
 *
 * Worker threads need JavaScript: from the bundle (bin/dist) the worker script is its sibling; when the harvester
 * runs as TypeScript (tests, the Pulumi program's hook under ts-node) bin/build.js brings bin/dist up to date first.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { type ClientOptions, portableClientOptions } from "./http";
import type { QueryEvent, QueryOutcome, QueryTask } from "./query";
import { REPO_ROOT } from "./root";
import type { WorkerRequest } from "./worker";
import type { LabelColumn } from "./writers/table";

/** CSV chunks a worker may render ahead of what the main thread has written. */
const CSV_CREDIT = 3;

/**
 * Worker threads to use by default: none below 4 cores (there the main thread, libuv's pool compressing and writing,
 * and usually the server itself already fill the machine, and each worker's own start-up and JIT warm-up cost CPU
 * for nothing: measured in bench/harvest.ts), else one per core but one, at most the queries in flight and 8.
 */
export function defaultWorkers(concurrency: number, queries: number, cores = availableCores()): number {
    return cores < 4 ? 0 : Math.max(1, Math.min(cores - 1, concurrency, queries, 8));
}

function availableCores(): number {
    return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

/** The worker script, building bin/dist first when running from TypeScript sources. */
export function workerScript(): string {
    const sibling = path.join(__dirname, "harvest-worker.js");
    if (__filename.endsWith(".js") && fs.existsSync(sibling)) {
        return sibling;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const build = require(path.join(REPO_ROOT, "bin", "build.js")) as { ensureBuilt: () => string };
    return path.join(build.ensureBuilt(), "harvest-worker.js");
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
    resolve: (v: unknown) => void;
    reject: (e: Error) => void;
    onEvent?: (e: QueryEvent) => void;
    onChunk?: (chunk: Uint8Array) => void;
}

interface Slot {
    worker: Worker;
    load: number;
    pending: Map<number, Pending>;
    dead?: Error;
}

export class WorkerPool {
    private readonly slots: Slot[];
    private nextId = 1;

    constructor(readonly size: number, client: ClientOptions, script: string = workerScript()) {
        const data = portableClientOptions({ ...client, concurrency: Math.ceil((client.concurrency ?? 4) / size) });
        this.slots = Array.from({ length: size }, () => this.start(script, data));
    }

    private start(script: string, data: ClientOptions): Slot {
        const worker = new Worker(script, { workerData: data });
        const slot: Slot = { worker, load: 0, pending: new Map() };
        worker.on("message", (m: { id: number; type: string; event?: QueryEvent; chunk?: Uint8Array; result?: unknown; message?: string }) => {
            const p = slot.pending.get(m.id);
            if (p === undefined) {
                return;
            }
            if (m.type === "event") {
                p.onEvent?.(m.event as QueryEvent);
            } else if (m.type === "chunk") {
                p.onChunk?.(m.chunk as Uint8Array);
            } else {
                slot.pending.delete(m.id);
                slot.load--;
                if (m.type === "done") {
                    p.resolve(m.result);
                } else {
                    p.reject(new Error(m.message ?? "worker failed"));
                }
            }
        });
        const fail = (err: Error): void => {
            slot.dead = err;
            for (const p of slot.pending.values()) {
                p.reject(err);
            }
            slot.pending.clear();
        };
        worker.on("error", (err) => fail(new Error(`harvest worker thread failed: ${err.message}`)));
        worker.on("exit", (code) => fail(new Error(`harvest worker thread exited (code ${code})`)));
        return slot;
    }

    private call<T>(req: DistributiveOmit<WorkerRequest, "id">, p: Omit<Pending, "resolve" | "reject">, transfer: ArrayBuffer[] = []): { id: number; slot: Slot; done: Promise<T> } {
        const live = this.slots.filter((s) => s.dead === undefined);
        if (live.length === 0) {
            throw this.slots[0].dead ?? new Error("no harvest worker thread left");
        }
        const slot = live.reduce((a, b) => (b.load < a.load ? b : a));
        const id = this.nextId++;
        slot.load++;
        const done = new Promise<T>((resolve, reject) => {
            slot.pending.set(id, { ...p, resolve: resolve as (v: unknown) => void, reject });
        });
        slot.worker.postMessage({ ...req, id }, transfer);
        return { id, slot, done };
    }

    /** Runs one query on the least busy worker. */
    runQuery(task: QueryTask, onEvent: (e: QueryEvent) => void): Promise<QueryOutcome> {
        return this.call<QueryOutcome>({ op: "query", task }, { onEvent }).done;
    }

    /**
     * Renders one query's CSV rows on a worker; `onChunk` is called in order and resolves once the chunk is written,
     * after which its memory goes back to the worker for the next chunk. Resolves with the row count.
     */
    async renderCsv(query: string, partPath: string, labelColumns: LabelColumn[],
        onChunk: (chunk: Uint8Array, release: () => void) => Promise<void>): Promise<number> {
        let chain: Promise<void> = Promise.resolve();
        let failed: Error | undefined;
        const ref: { slot?: Slot; id: number } = { id: 0 };
        const call = this.call<number>({ op: "csv", query, partPath, labelColumns, credit: CSV_CREDIT }, {
            onChunk: (chunk) => {
                let released = false;
                const release = (): void => {
                    const s = ref.slot as Slot;
                    if (!released && s.dead === undefined) {
                        released = true;
                        s.worker.postMessage({ id: ref.id, op: "credit", buffer: chunk.buffer }, [chunk.buffer as ArrayBuffer]);
                    }
                };
                chain = chain.then(async () => {
                    if (failed !== undefined) {
                        release();
                        return;
                    }
                    try {
                        await onChunk(chunk, release);
                    } catch (err) {
                        failed ??= err as Error;
                        release();
                    }
                });
            },
        });
        ref.slot = call.slot;
        ref.id = call.id;
        const rows = await call.done;
        await chain;
        if (failed !== undefined) {
            throw failed;
        }
        return rows;
    }

    async close(): Promise<void> {
        await Promise.all(this.slots.map((s) => s.worker.terminate()));
    }
}
