/**
 * Per-query part files: the harvester spools each query's samples to `<output>.parts/NNNN.part` as they arrive
 * (memory stays bounded by one response), and the output writers read the parts back series by series. A part is
 * trusted by `--resume` only when the manifest marks its query ok and records its exact size (`partBytes`), so
 * parts are written in place (no rename per query) and a part of an interrupted query is simply overwritten.
 *
 * Layout: records of [kind u8][seriesId u32 LE][count u32 LE] followed by
 *  - kind 1 (series): `count` bytes of UTF-8 JSON labels;
 *  - kind 2 (samples): `count` float64 timestamps (ms) then `count` float64 values;
 *  - kind 3 (evenly spaced samples, e.g. every query_range block): float64 first timestamp, float64 spacing, then
 *    `count` float64 values (timestamp i = first + i × spacing, exact for integer milliseconds).
 * Records are gathered in a buffer and written in large pieces.
 */
import * as fs from "node:fs";

const KIND_SERIES = 1;
const KIND_SAMPLES = 2;
const KIND_EVEN = 3;
const HEADER = 9;
const BUFFER_BYTES = 1 << 20;
/** Parts up to this size are read back whole, in one read, instead of record by record. */
const WHOLE_READ_BYTES = 32 << 20;

/**
 * Memory handed back by closed writers and readers, reused by the next ones: a fresh buffer per query would be new
 * pages the kernel zeroes every time.
 */
const spareWriteBuffers: Buffer[] = [];
const spareReadBuffers: Buffer[] = [];

function takeSpare(list: Buffer[], min: number): Buffer {
    for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].length >= min) {
            return list.splice(i, 1)[0];
        }
    }
    return Buffer.allocUnsafeSlow(min);
}

function giveSpare(list: Buffer[], b: Buffer): void {
    if (list.length < 8) {
        list.push(b);
    }
}

export type Labels = Record<string, string>;

export interface PartMark {
    offset: number;
    series: number;
    samples: number;
}

export class PartWriter {
    private fd: number;
    /** Bytes on disk (excluding what is still buffered). */
    private flushed = 0;
    private buf = takeSpare(spareWriteBuffers, BUFFER_BYTES);
    private len = 0;
    private readonly ids = new Map<string, number>();
    private readonly keys: string[] = [];
    /** Label names per registered series (so a rollback forgets the names of series it drops). */
    private readonly names: string[][] = [];
    labelNames = new Set<string>();
    samples = 0;

    constructor(readonly path: string) {
        this.fd = fs.openSync(path, "w");
    }

    get seriesCount(): number {
        return this.keys.length;
    }

    /** Bytes written so far (what `partBytes` records once the part is closed). */
    get size(): number {
        return this.flushed + this.len;
    }

    /** The id of the series with this key (labels JSON), registering it on first sight. */
    seriesId(key: string, labels: () => Labels): number {
        let id = this.ids.get(key);
        if (id === undefined) {
            id = this.keys.length;
            const l = labels();
            const names = Object.keys(l);
            for (const k of names) {
                this.labelNames.add(k);
            }
            this.names.push(names);
            const json = Buffer.from(JSON.stringify(l), "utf8");
            this.header(KIND_SERIES, id, json.length, json.length);
            this.bytes(json);
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
        const step = n >= 3 ? ts[1] - ts[0] : 0;
        let even = step > 0;
        for (let i = 2; even && i < n; i++) {
            even = ts[i] - ts[i - 1] === step;
        }
        if (even && ts[0] + (n - 1) * step === ts[n - 1]) {
            this.header(KIND_EVEN, id, n, 16 + n * 8);
            this.buf.writeDoubleLE(ts[0], this.len);
            this.buf.writeDoubleLE(step, this.len + 8);
            this.len += 16;
        } else {
            this.header(KIND_SAMPLES, id, n, n * 16);
            this.bytes(new Uint8Array(ts.buffer, ts.byteOffset, n * 8));
        }
        this.bytes(new Uint8Array(vs.buffer, vs.byteOffset, n * 8));
        this.samples += n;
    }

    /** A point to roll back to if a retried request had already written part of its data. */
    mark(): PartMark {
        return { offset: this.size, series: this.keys.length, samples: this.samples };
    }

    rollback(m: PartMark): void {
        if (m.offset >= this.flushed) {
            this.len = m.offset - this.flushed;
        } else {
            this.len = 0;
            fs.ftruncateSync(this.fd, m.offset);
            this.flushed = m.offset;
        }
        this.samples = m.samples;
        if (this.keys.length > m.series) {
            while (this.keys.length > m.series) {
                this.ids.delete(this.keys.pop() as string);
                this.names.pop();
            }
            this.labelNames = new Set(this.names.flat());
        }
    }

    /** Writes what is buffered and closes the file; returns its size. */
    close(): number {
        this.flush();
        fs.closeSync(this.fd);
        this.fd = -1;
        this.release();
        return this.flushed;
    }

    /** Hands the buffer back for the next writer (this one writes no more). */
    private release(): void {
        if (this.buf.length > 0) {
            giveSpare(spareWriteBuffers, this.buf);
            this.buf = Buffer.alloc(0);
        }
    }

    /** Closes the file and renames it to `finalPath`. */
    commit(finalPath: string): void {
        this.close();
        fs.renameSync(this.path, finalPath);
    }

    /** Closes and deletes the file. */
    discard(): void {
        if (this.fd >= 0) {
            fs.closeSync(this.fd);
            this.fd = -1;
            this.release();
        }
        fs.rmSync(this.path, { force: true });
    }

    /** Reserves room for a record of `body` bytes and writes its header. */
    private header(kind: number, id: number, count: number, body: number): void {
        if (this.len + HEADER + Math.min(body, 16) > this.buf.length) {
            this.flush();
        }
        const b = this.buf;
        b[this.len] = kind;
        b.writeUInt32LE(id, this.len + 1);
        b.writeUInt32LE(count, this.len + 5);
        this.len += HEADER;
    }

    private bytes(b: Uint8Array): void {
        if (this.len + b.length <= this.buf.length) {
            this.buf.set(b, this.len);
            this.len += b.length;
            return;
        }
        this.flush();
        if (b.length >= this.buf.length) {
            this.writeOut(b);
            return;
        }
        this.buf.set(b, 0);
        this.len = b.length;
    }

    private flush(): void {
        if (this.len > 0) {
            this.writeOut(this.buf.subarray(0, this.len));
            this.len = 0;
        }
    }

    private writeOut(b: Uint8Array): void {
        let done = 0;
        while (done < b.length) {
            done += fs.writeSync(this.fd, b, done, b.length - done, this.flushed + done);
        }
        this.flushed += b.length;
    }
}

/** Where one block of samples is: `offset` of its timestamps (or of first + spacing when `even`). */
export interface PartBlock {
    offset: number;
    count: number;
    even?: boolean;
}

export interface SeriesIndex {
    labels: Labels;
    blocks: PartBlock[];
    samples: number;
}

/**
 * Reads a part back: its series in first-seen order, each with its sample blocks in write order. A part of at most
 * WHOLE_READ_BYTES is read in one go and served from memory; a larger one record by record from the file.
 */
export class PartReader {
    readonly series: SeriesIndex[] = [];
    private readonly fd: number;
    /** The whole file, when it was read whole (a view of `mem`). */
    private readonly whole: Buffer | undefined;
    private mem: Buffer | undefined;

    constructor(readonly path: string) {
        this.fd = fs.openSync(path, "r");
        try {
            const size = fs.fstatSync(this.fd).size;
            if (size <= WHOLE_READ_BYTES) {
                this.mem = takeSpare(spareReadBuffers, Math.max(size, BUFFER_BYTES));
                this.whole = this.mem.subarray(0, size);
                readFully(this.fd, this.whole, 0);
            }
            this.index(size);
        } catch (err) {
            this.close();
            throw err;
        }
    }

    /** Walks the records: series labels and where each block of samples is. */
    private index(size: number): void {
        const h = Buffer.alloc(HEADER);
        const whole = this.whole;
        let off = 0;
        while (off < size) {
            let head: Buffer;
            if (whole !== undefined) {
                if (off + HEADER > size) {
                    throw new Error(`truncated part file ${this.path} at ${off}`);
                }
                head = whole.subarray(off, off + HEADER);
            } else {
                if (fs.readSync(this.fd, h, 0, HEADER, off) !== HEADER) {
                    throw new Error(`truncated part file ${this.path} at ${off}`);
                }
                head = h;
            }
            const kind = head[0];
            const id = head.readUInt32LE(1);
            const count = head.readUInt32LE(5);
            off += HEADER;
            if (kind === KIND_SERIES) {
                let json: Buffer;
                if (whole !== undefined) {
                    json = whole.subarray(off, Math.min(size, off + count));
                } else {
                    json = Buffer.alloc(count);
                    fs.readSync(this.fd, json, 0, count, off);
                }
                this.series[id] = { labels: JSON.parse(json.toString("utf8")) as Labels, blocks: [], samples: 0 };
                off += count;
            } else if (kind === KIND_SAMPLES || kind === KIND_EVEN) {
                const s = this.series[id];
                if (s === undefined) {
                    throw new Error(`corrupt part file ${this.path}: samples for unknown series ${id}`);
                }
                s.blocks.push(kind === KIND_EVEN ? { offset: off, count, even: true } : { offset: off, count });
                s.samples += count;
                off += kind === KIND_EVEN ? 16 + count * 8 : count * 16;
            } else {
                throw new Error(`corrupt part file ${this.path}: record kind ${kind} at ${off - HEADER}`);
            }
        }
        if (whole !== undefined && off > size) {
            throw new Error(`part file ${this.path} ended early at ${size}`);
        }
    }

    private scratchTs = new Float64Array(4096);
    private scratchVs = new Float64Array(4096);
    private readonly head = new Float64Array(2);

    /**
     * Reads one block's timestamps and values into this reader's scratch columns: the arrays are valid until the
     * next readBlock (every writer consumes a block before reading the next), so reading allocates nothing.
     */
    readBlock(b: PartBlock): { ts: Float64Array; vs: Float64Array } {
        if (this.scratchTs.length < b.count) {
            this.scratchTs = new Float64Array(Math.max(b.count, 4096));
            this.scratchVs = new Float64Array(Math.max(b.count, 4096));
        }
        const ts = this.scratchTs.subarray(0, b.count);
        const vs = this.scratchVs.subarray(0, b.count);
        const bytes = b.count * 8;
        if (b.even === true) {
            const head = this.head;
            this.bytesAt(new Uint8Array(head.buffer), b.offset);
            const first = head[0];
            const step = head[1];
            for (let i = 0; i < b.count; i++) {
                ts[i] = first + i * step;
            }
            this.bytesAt(new Uint8Array(vs.buffer, 0, bytes), b.offset + 16);
        } else {
            this.bytesAt(new Uint8Array(ts.buffer, 0, bytes), b.offset);
            this.bytesAt(new Uint8Array(vs.buffer, 0, bytes), b.offset + bytes);
        }
        return { ts, vs };
    }

    /** Fills `into` with the part's bytes from offset `at` on. */
    private bytesAt(into: Uint8Array, at: number): void {
        if (this.whole !== undefined) {
            into.set(this.whole.subarray(at, at + into.length));
        } else {
            readFully(this.fd, into, at);
        }
    }

    close(): void {
        if (this.mem !== undefined) {
            giveSpare(spareReadBuffers, this.mem);
            this.mem = undefined;
        }
        fs.closeSync(this.fd);
    }
}

function readFully(fd: number, into: Uint8Array, at: number): void {
    let done = 0;
    while (done < into.length) {
        const n = fs.readSync(fd, into, done, into.length - done, at + done);
        if (n === 0) {
            throw new Error(`part file ended early at ${at + done}`);
        }
        done += n;
    }
}
