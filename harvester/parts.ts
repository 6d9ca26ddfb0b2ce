/**
 * Per-query part files: the harvester spools each query's samples to `<output>.parts/NNNN.part` as they arrive
 * (memory stays bounded by one response), and the output writers read the parts back series by series. A part is
 * only renamed from `.part.tmp` to `.part` when its query completed, so `--resume` can trust every `.part` file.
 *
 * Layout: records of [kind u8][seriesId u32 LE][count u32 LE] followed by
 *  - kind 1 (series): `count` bytes of UTF-8 JSON labels;
 *  - kind 2 (samples): `count` float64 timestamps (ms) then `count` float64 values.
 */
import * as fs from "node:fs";

const KIND_SERIES = 1;
const KIND_SAMPLES = 2;
const HEADER = 9;

export type Labels = Record<string, string>;

export interface PartMark {
    offset: number;
    series: number;
}

export class PartWriter {
    private fd: number;
    private offset = 0;
    private readonly ids = new Map<string, number>();
    private readonly keys: string[] = [];
    readonly labelNames = new Set<string>();
    samples = 0;
    private readonly header = Buffer.alloc(HEADER);

    constructor(readonly tmpPath: string) {
        this.fd = fs.openSync(tmpPath, "w");
    }

    get seriesCount(): number {
        return this.keys.length;
    }

    /** The id of the series with this key (labels JSON), registering it on first sight. */
    seriesId(key: string, labels: () => Labels): number {
        let id = this.ids.get(key);
        if (id === undefined) {
            id = this.keys.length;
            const l = labels();
            for (const k of Object.keys(l)) {
                this.labelNames.add(k);
            }
            const json = Buffer.from(JSON.stringify(l), "utf8");
            this.writeHeader(KIND_SERIES, id, json.length);
            this.write(json);
            this.ids.set(key, id);
            this.keys.push(key);
        }
        return id;
    }

    /** Appends samples [0, n) of the given columns to a series. */
    append(id: number, ts: Float64Array, vs: Float64Array, n: number): void {
        if (n === 0) {
            return;
        }
        this.writeHeader(KIND_SAMPLES, id, n);
        this.write(new Uint8Array(ts.buffer, ts.byteOffset, n * 8));
        this.write(new Uint8Array(vs.buffer, vs.byteOffset, n * 8));
        this.samples += n;
    }

    /** A point to roll back to if a retried request had already written part of its data. */
    mark(): PartMark {
        return { offset: this.offset, series: this.keys.length };
    }

    rollback(m: PartMark): void {
        fs.ftruncateSync(this.fd, m.offset);
        this.offset = m.offset;
        while (this.keys.length > m.series) {
            this.ids.delete(this.keys.pop() as string);
        }
    }

    /** Closes and renames the temp file to `finalPath`. */
    commit(finalPath: string): void {
        fs.closeSync(this.fd);
        this.fd = -1;
        fs.renameSync(this.tmpPath, finalPath);
    }

    /** Closes and deletes the temp file. */
    discard(): void {
        if (this.fd >= 0) {
            fs.closeSync(this.fd);
            this.fd = -1;
        }
        fs.rmSync(this.tmpPath, { force: true });
    }

    private writeHeader(kind: number, id: number, count: number): void {
        this.header[0] = kind;
        this.header.writeUInt32LE(id, 1);
        this.header.writeUInt32LE(count, 5);
        this.write(this.header);
    }

    private write(b: Uint8Array): void {
        let done = 0;
        while (done < b.length) {
            done += fs.writeSync(this.fd, b, done, b.length - done, this.offset + done);
        }
        this.offset += b.length;
    }
}

export interface SeriesIndex {
    labels: Labels;
    blocks: { offset: number; count: number }[];
    samples: number;
}

/** Reads a part back: its series in first-seen order, each with its sample blocks in write order. */
export class PartReader {
    readonly series: SeriesIndex[] = [];
    private readonly fd: number;

    constructor(readonly path: string) {
        this.fd = fs.openSync(path, "r");
        const size = fs.fstatSync(this.fd).size;
        const h = Buffer.alloc(HEADER);
        let off = 0;
        while (off < size) {
            if (fs.readSync(this.fd, h, 0, HEADER, off) !== HEADER) {
                throw new Error(`truncated part file ${path} at ${off}`);
            }
            const kind = h[0];
            const id = h.readUInt32LE(1);
            const count = h.readUInt32LE(5);
            off += HEADER;
            if (kind === KIND_SERIES) {
                const json = Buffer.alloc(count);
                fs.readSync(this.fd, json, 0, count, off);
                this.series[id] = { labels: JSON.parse(json.toString("utf8")) as Labels, blocks: [], samples: 0 };
                off += count;
            } else if (kind === KIND_SAMPLES) {
                const s = this.series[id];
                if (s === undefined) {
                    throw new Error(`corrupt part file ${path}: samples for unknown series ${id}`);
                }
                s.blocks.push({ offset: off, count });
                s.samples += count;
                off += count * 16;
            } else {
                throw new Error(`corrupt part file ${path}: record kind ${kind} at ${off - HEADER}`);
            }
        }
    }

    /** Reads one block's timestamps and values. */
    readBlock(b: { offset: number; count: number }): { ts: Float64Array; vs: Float64Array } {
        const ts = new Float64Array(b.count);
        const vs = new Float64Array(b.count);
        fs.readSync(this.fd, new Uint8Array(ts.buffer), 0, b.count * 8, b.offset);
        fs.readSync(this.fd, new Uint8Array(vs.buffer), 0, b.count * 8, b.offset + b.count * 8);
        return { ts, vs };
    }

    close(): void {
        fs.closeSync(this.fd);
    }
}
