/**
 * A streaming Parquet writer specialised for the harvest table (written by hand because the general-purpose
 * WebAssembly writer spent seconds re-hashing every label string of every row):
 *  - query, metric and each label: BYTE_ARRAY UTF8, dictionary-encoded per row group (dictionary page + one
 *    RLE_DICTIONARY data page whose indices are RLE runs, one run per series segment), OPTIONAL except query;
 *  - timestamp: INT64 TIMESTAMP(MILLIS, UTC-adjusted), PLAIN; value: DOUBLE, PLAIN (NaN/±Inf as IEEE bits);
 *  - row groups of at most ROW_GROUP_ROWS rows, data pages of at most PAGE_ROWS rows, so memory is bounded by
 *    one row group whatever the harvest size (two sets of row-group arrays, reused; at most COMPRESS_IN_FLIGHT
 *    pages compressing at once); ZSTD (Node's zlib), SNAPPY, GZIP or no compression.
 *  - streaming: ParquetTableWriter takes queries one at a time, in order, while later queries are still being
 *    fetched. The label columns need not be known up front: the schema lives in the footer, so a label first seen
 *    in a later row group gets all-null column chunks for the earlier row groups, appended before the footer
 *    (column chunks are located by the offsets in the footer, not by their position in the file).
 * Format reference: the Apache Parquet specification (parquet.thrift, Encodings.md).
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import * as snappy from "snappyjs";
import { CompactWriter } from "./thrift";
import { type LabelColumn, type TableInput, seriesOf } from "./table";

export const ROW_GROUP_ROWS = 1 << 19;
export const PAGE_ROWS = 1 << 17;

export type ParquetCompression = "zstd" | "snappy" | "gzip" | "none";

const MAGIC = Buffer.from("PAR1");
const TYPE_INT64 = 2;
const TYPE_DOUBLE = 5;
const TYPE_BYTE_ARRAY = 6;
const REP_REQUIRED = 0;
const REP_OPTIONAL = 1;
const CONVERTED_UTF8 = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;
const ENC_PLAIN = 0;
const ENC_RLE = 3;
const ENC_RLE_DICTIONARY = 8;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const CODEC: Record<ParquetCompression, number> = { none: 0, snappy: 1, gzip: 2, zstd: 6 };

export function zstdAvailable(): boolean {
    return typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === "function";
}

/**
 * zlib's output buffer for one page: the page size (compressed pages are smaller), so the convenience API hands
 * back one piece instead of a callback and a copy per 16 KiB. Only buffering: the compressed bytes are the same.
 */
function outputChunk(b: Buffer): number {
    return Math.max(64 * 1024, b.length + 1024);
}

/** Page compression; zlib codecs run on libuv's thread pool, in parallel with the JavaScript thread. */
function compressor(c: ParquetCompression): (b: Buffer) => Promise<Buffer> {
    switch (c) {
        case "none":
            return async (b) => b;
        case "snappy":
            return async (b) => Buffer.from(snappy.compress(b));
        case "gzip":
            return (b) => new Promise((resolve, reject) => zlib.gzip(b, { level: 1, chunkSize: outputChunk(b) }, (e, r) => (e ? reject(e) : resolve(r))));
        case "zstd": {
            const z = zlib as unknown as {
                zstdCompress: (b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void) => void; constants: Record<string, number>;
            };
            if (!zstdAvailable()) {
                throw new Error("zstd compression needs Node.js ≥ 22.15 (use --parquet-compression snappy)");
            }
            const params = { [z.constants.ZSTD_c_compressionLevel]: 1 };
            return (b) => new Promise((resolve, reject) => z.zstdCompress(b, { params, chunkSize: outputChunk(b) }, (e, r) => (e ? reject(e) : resolve(r))));
        }
    }
}

/** Growable byte buffer for page bodies. */
class Bytes {
    buf: Buffer;
    len = 0;
    constructor(cap = 1024) {
        this.buf = Buffer.allocUnsafe(cap);
    }
    ensure(n: number): void {
        if (this.len + n > this.buf.length) {
            const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
            this.buf.copy(next, 0, 0, this.len);
            this.buf = next;
        }
    }
    byte(b: number): void {
        this.ensure(1);
        this.buf[this.len++] = b;
    }
    uvarint(v: number): void {
        let x = v;
        while (x >= 0x80) {
            this.byte((x % 0x80) | 0x80);
            x = Math.floor(x / 0x80);
        }
        this.byte(x);
    }
    u32le(v: number): void {
        this.ensure(4);
        this.buf.writeUInt32LE(v, this.len);
        this.len += 4;
    }
    bytes(b: Uint8Array): void {
        this.ensure(b.length);
        this.buf.set(b, this.len);
        this.len += b.length;
    }
    /** An RLE run of `count` copies of `value` with the given bit width (RLE/bit-packed hybrid). */
    rleRun(count: number, value: number, bitWidth: number): void {
        this.uvarint(count * 2);
        for (let i = 0, v = value; i < Math.ceil(bitWidth / 8); i++, v = Math.floor(v / 256)) {
            this.byte(v & 0xff);
        }
    }
    view(): Buffer {
        return this.buf.subarray(0, this.len);
    }
}

interface ChunkMeta {
    type: number;
    encodings: number[];
    numValues: number;
    uncompressed: number;
    compressed: number;
    dataPageOffset: number;
    dictionaryPageOffset?: number;
}

/** Column keys: the fixed columns by name, label columns as `L` + label name (resolved to names in the footer). */
const K_QUERY = "query";
const K_METRIC = "metric";
const K_TS = "timestamp";
const K_VALUE = "value";

interface RowGroup {
    rows: number;
    bytes: number;
    chunks: Map<string, ChunkMeta>;
}

/** A run of rows of one series segment: dictionary ids per dict column, in discovery order (-1 or absent = null). */
interface Run {
    rows: number;
    ids: number[];
}

interface Page { type: number; body: Buffer; packed: Promise<Buffer>; header: (w: CompactWriter) => void; meta: ChunkMeta; kind: "dict" | "data" }

/** Pages compressing at once (each holds a zstd context and output buffers on the thread pool). */
export const COMPRESS_IN_FLIGHT = 4;

/** One set of row-group arrays; two sets alternate (one filling, one compressing/writing). */
interface Arrays {
    ts: Float64Array;
    vs: Float64Array;
    /** The same bytes as `ts`: timestamps are rewritten in place as int64 (two int32 words) for the page. */
    tsWords: Int32Array;
}

/**
 * Streams the harvest table into a Parquet file: addQuery() per successful query in output order (may be called
 * while later queries are still running), then finish() with the final label columns and metadata.
 */
export class ParquetTableWriter {
    private readonly fd: number;
    private offset = 0;
    private readonly compress: (b: Buffer) => Promise<Buffer>;
    private readonly codec: number;
    private readonly rowGroups: RowGroup[] = [];
    private totalRows = 0;
    /** Dictionary columns in discovery order: query, metric, then `L<label>` keys. */
    private readonly dictKeys: string[] = [K_QUERY, K_METRIC];
    private readonly dictIndex = new Map<string, number>([[K_QUERY, 0], [K_METRIC, 1]]);
    private readonly sets: Arrays[] = [];
    private cur: Arrays;
    private rows = 0;
    private runs: Run[] = [];
    private dicts: Map<string, number>[] = [];
    private words: string[][] = [];
    private pages: Page[] = [];
    /** The previous row group's pages: compressing in the background, written in order. */
    private pendingWrite: Promise<void> = Promise.resolve();
    private inFlight = 0;
    private readonly waiting: (() => void)[] = [];

    /** `rowGroupRows` is for tests (small row groups); page size is capped by it too. */
    constructor(readonly path: string, compression: ParquetCompression = "zstd", private readonly rowGroupRows = ROW_GROUP_ROWS) {
        this.compress = compressor(compression);
        this.codec = CODEC[compression];
        this.fd = fs.openSync(path, "w");
        this.sets = [this.arrays(), this.arrays()];
        this.cur = this.sets[0];
        this.resetGroup();
        this.write(MAGIC);
    }

    private arrays(): Arrays {
        const n = this.rowGroupRows;
        const ts = new Float64Array(n);
        return { ts, vs: new Float64Array(n), tsWords: new Int32Array(ts.buffer) };
    }

    private resetGroup(): void {
        this.rows = 0;
        this.runs = [];
        this.dicts = this.dictKeys.map(() => new Map<string, number>());
        this.words = this.dictKeys.map(() => []);
    }

    private write(b: Uint8Array): void {
        let done = 0;
        while (done < b.length) {
            done += fs.writeSync(this.fd, b, done, b.length - done, this.offset + done);
        }
        this.offset += b.length;
    }

    private dictColumn(key: string): number {
        let k = this.dictIndex.get(key);
        if (k === undefined) {
            k = this.dictKeys.length;
            this.dictKeys.push(key);
            this.dictIndex.set(key, k);
            this.dicts.push(new Map());
            this.words.push([]);
        }
        return k;
    }

    private idFor(col: number, value: string): number {
        const d = this.dicts[col];
        let id = d.get(value);
        if (id === undefined) {
            id = this.words[col].length;
            d.set(value, id);
            this.words[col].push(value);
        }
        return id;
    }

    /** Compression with at most COMPRESS_IN_FLIGHT pages at once (bounds native memory). */
    private async limitedCompress(b: Buffer): Promise<Buffer> {
        while (this.inFlight >= COMPRESS_IN_FLIGHT) {
            await new Promise<void>((r) => this.waiting.push(r));
        }
        this.inFlight++;
        try {
            return await this.compress(b);
        } finally {
            this.inFlight--;
            this.waiting.shift()?.();
        }
    }

    private addPage(type: number, body: Buffer, header: (w: CompactWriter) => void, meta: ChunkMeta, kind: "dict" | "data"): void {
        const packed = this.limitedCompress(body);
        packed.catch(() => undefined);
        this.pages.push({ type, body, packed, header, meta, kind });
    }

    /** Writes pages in order as their compression finishes, filling in the chunk offsets and sizes. */
    private async writePages(list: Page[]): Promise<void> {
        for (const p of list) {
            const packed = await p.packed;
            const w = new CompactWriter();
            w.structBody(() => {
                w.i32(1, p.type);
                w.i32(2, p.body.length);
                w.i32(3, packed.length);
                p.header(w);
            });
            const h = w.finish();
            if (p.kind === "dict") {
                p.meta.dictionaryPageOffset = this.offset;
            } else if (p.meta.dataPageOffset < 0) {
                p.meta.dataPageOffset = this.offset;
            }
            this.write(h);
            this.write(packed);
            p.meta.uncompressed += h.length + p.body.length;
            p.meta.compressed += h.length + packed.length;
        }
    }

    /** Appends the rows of one query's part file. Calls must not overlap (await each). */
    async addQuery(query: string, partPath: string): Promise<void> {
        // The per-block work is in small synchronous methods (quick for V8 to optimize), this loop only awaits.
        for (const s of seriesOf({ queries: [{ index: 0, query, partPath }], errors: [], labelColumns: [] })) {
            const ids: number[] = [];
            this.fillIds(ids, query, s.labels);
            for (const b of s.blocks) {
                const block = s.reader.readBlock(b);
                let at = 0;
                while (at < block.ts.length) {
                    at = this.take(block.ts, block.vs, at, ids);
                    if (this.rows === this.rowGroupRows) {
                        await this.flushRowGroup();
                        // Ids are per row group: the next group has fresh dictionaries.
                        this.fillIds(ids, query, s.labels);
                    }
                }
            }
        }
    }

    /** The dictionary ids of a series' query, metric and labels in this row group (-1: null). */
    private fillIds(ids: number[], query: string, labels: Record<string, string>): void {
        ids.fill(-1);
        ids[0] = this.idFor(0, query);
        ids[1] = labels.__name__ === undefined ? -1 : this.idFor(1, labels.__name__);
        for (const [label, value] of Object.entries(labels)) {
            if (label !== "__name__") {
                const k = this.dictColumn(`L${label}`);
                ids[k] = this.idFor(k, value);
            }
        }
        for (let k = 0; k < ids.length; k++) {
            if (ids[k] === undefined) {
                ids[k] = -1;
            }
        }
    }

    /** Copies a block's rows from `at` on into the row group, up to its end; returns the index after them. */
    private take(ts: Float64Array, vs: Float64Array, at: number, ids: number[]): number {
        const n = Math.min(ts.length - at, this.rowGroupRows - this.rows) | 0;
        this.cur.ts.set(ts.subarray(at, at + n), this.rows);
        this.cur.vs.set(vs.subarray(at, at + n), this.rows);
        const last = this.runs[this.runs.length - 1];
        if (last !== undefined && sameIds(last.ids, ids)) {
            last.rows += n;
        } else {
            this.runs.push({ rows: n, ids: ids.slice() });
        }
        this.rows += n;
        return at + n;
    }

    private dataPageHeader(w: CompactWriter, numValues: number, encoding: number): void {
        w.struct(5, () => {
            w.i32(1, numValues);
            w.i32(2, encoding);
            w.i32(3, ENC_RLE);
            w.i32(4, ENC_RLE);
        });
    }

    /** An all-null chunk of an OPTIONAL BYTE_ARRAY column (PLAIN, definition levels only). */
    private nullChunk(rows: number): ChunkMeta {
        const meta: ChunkMeta = { type: TYPE_BYTE_ARRAY, encodings: [ENC_PLAIN, ENC_RLE], numValues: rows, uncompressed: 0, compressed: 0, dataPageOffset: -1 };
        const levels = new Bytes();
        levels.rleRun(rows, 0, 1);
        const body = new Bytes();
        body.u32le(levels.len);
        body.bytes(levels.view());
        this.addPage(PAGE_DATA, body.view(), (w) => this.dataPageHeader(w, rows, ENC_PLAIN), meta, "data");
        return meta;
    }

    private dictChunk(k: number): ChunkMeta {
        const meta: ChunkMeta = {
            type: TYPE_BYTE_ARRAY, encodings: [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY], numValues: this.rows,
            uncompressed: 0, compressed: 0, dataPageOffset: -1,
        };
        const runs = this.runs;
        const idOf = (r: Run): number => r.ids[k] ?? -1;
        const dict = new Bytes();
        for (const s of this.words[k]) {
            const b = Buffer.from(s, "utf8");
            dict.u32le(b.length);
            dict.bytes(b);
        }
        const nWords = this.words[k].length;
        this.addPage(PAGE_DICTIONARY, dict.view(), (w) => w.struct(7, () => {
            w.i32(1, nWords);
            w.i32(2, ENC_PLAIN);
        }), meta, "dict");
        const body = new Bytes();
        if (k !== 0) {
            // Every column but query is OPTIONAL: definition levels first.
            const levels = new Bytes();
            let i = 0;
            while (i < runs.length) {
                const defined = idOf(runs[i]) >= 0 ? 1 : 0;
                let n = 0;
                while (i < runs.length && (idOf(runs[i]) >= 0 ? 1 : 0) === defined) {
                    n += runs[i].rows;
                    i++;
                }
                levels.rleRun(n, defined, 1);
            }
            body.u32le(levels.len);
            body.bytes(levels.view());
        }
        const width = Math.max(1, Math.ceil(Math.log2(Math.max(2, nWords))));
        body.byte(width);
        let i = 0;
        while (i < runs.length) {
            const id = idOf(runs[i]);
            let n = 0;
            while (i < runs.length && idOf(runs[i]) === id) {
                n += runs[i].rows;
                i++;
            }
            if (id >= 0) {
                body.rleRun(n, id, width);
            }
        }
        const nRows = this.rows;
        this.addPage(PAGE_DATA, body.view(), (w) => this.dataPageHeader(w, nRows, ENC_RLE_DICTIONARY), meta, "data");
        return meta;
    }

    private plainChunk(timestamp: boolean): ChunkMeta {
        const rows = this.rows;
        const meta: ChunkMeta = {
            type: timestamp ? TYPE_INT64 : TYPE_DOUBLE, encodings: [ENC_PLAIN, ENC_RLE], numValues: rows,
            uncompressed: 0, compressed: 0, dataPageOffset: -1,
        };
        const { ts, vs, tsWords } = this.cur;
        for (let p = 0; p < rows; p += PAGE_ROWS) {
            const n = Math.min(PAGE_ROWS, rows - p);
            let body: Buffer;
            if (timestamp) {
                int64Words(ts, tsWords, p, p + n);
                body = Buffer.from(tsWords.buffer, p * 8, n * 8);
            } else {
                body = Buffer.from(vs.buffer, p * 8, n * 8);
            }
            this.addPage(PAGE_DATA, body, (w) => this.dataPageHeader(w, n, ENC_PLAIN), meta, "data");
        }
        return meta;
    }

    private async flushRowGroup(): Promise<void> {
        if (this.rows === 0) {
            return;
        }
        const chunks = new Map<string, ChunkMeta>();
        chunks.set(K_QUERY, this.dictChunk(0));
        chunks.set(K_METRIC, this.dictChunk(1));
        chunks.set(K_TS, this.plainChunk(true));
        chunks.set(K_VALUE, this.plainChunk(false));
        for (let k = 2; k < this.dictKeys.length; k++) {
            chunks.set(this.dictKeys[k], this.words[k] === undefined || this.words[k].length === 0 ? this.nullChunk(this.rows) : this.dictChunk(k));
        }
        // Let this row group compress while the next one is filled; write it after the previous one.
        const list = this.pages;
        this.pages = [];
        const rg: RowGroup = { rows: this.rows, bytes: 0, chunks };
        this.rowGroups.push(rg);
        const previous = this.pendingWrite;
        this.pendingWrite = previous.then(() => this.writePages(list)).then(() => {
            rg.bytes = [...chunks.values()].reduce((a, c) => a + c.uncompressed, 0);
        });
        this.pendingWrite.catch(() => undefined);
        // The other array set is free once the previous row group is written.
        await previous;
        this.cur = this.cur === this.sets[0] ? this.sets[1] : this.sets[0];
        this.totalRows += this.rows;
        this.resetGroup();
    }

    /** Flushes, adds null chunks for labels first seen after a row group, writes the footer. Returns the row count. */
    async finish(labelColumns: LabelColumn[], metadata: Record<string, string> = {}): Promise<number> {
        await this.flushRowGroup();
        await this.pendingWrite;
        const labelKeys = labelColumns.map((c) => `L${c.label}`);
        for (const rg of this.rowGroups) {
            for (const key of labelKeys) {
                if (!rg.chunks.has(key)) {
                    rg.chunks.set(key, this.nullChunk(rg.rows));
                }
            }
            const list = this.pages;
            this.pages = [];
            await this.writePages(list);
            rg.bytes = [...rg.chunks.values()].reduce((a, c) => a + c.uncompressed, 0);
        }
        const columns: { key: string; name: string; type: number; optional: boolean; timestamp?: boolean }[] = [
            { key: K_QUERY, name: "query", type: TYPE_BYTE_ARRAY, optional: false },
            { key: K_METRIC, name: "metric", type: TYPE_BYTE_ARRAY, optional: true },
            { key: K_TS, name: "timestamp", type: TYPE_INT64, optional: false, timestamp: true },
            { key: K_VALUE, name: "value", type: TYPE_DOUBLE, optional: false },
            ...labelColumns.map((c) => ({ key: `L${c.label}`, name: c.column, type: TYPE_BYTE_ARRAY, optional: true })),
        ];
        const codec = this.codec;
        const w = new CompactWriter();
        w.structBody(() => {
            w.i32(1, 1);
            w.listStruct(2, [undefined, ...columns], (col) => {
                if (col === undefined) {
                    w.binary(4, "schema");
                    w.i32(5, columns.length);
                    return;
                }
                w.i32(1, col.type);
                w.i32(3, col.optional ? REP_OPTIONAL : REP_REQUIRED);
                w.binary(4, col.name);
                if (col.type === TYPE_BYTE_ARRAY) {
                    w.i32(6, CONVERTED_UTF8);
                    w.struct(10, () => w.struct(1, () => undefined));
                } else if (col.timestamp) {
                    w.i32(6, CONVERTED_TIMESTAMP_MILLIS);
                    w.struct(10, () => w.struct(8, () => {
                        w.bool(1, true);
                        w.struct(2, () => w.struct(1, () => undefined));
                    }));
                }
            });
            w.i64(3, this.totalRows);
            w.listStruct(4, this.rowGroups, (rg) => {
                w.listStruct(1, columns, (col) => {
                    const c = rg.chunks.get(col.key) as ChunkMeta;
                    w.i64(2, c.dictionaryPageOffset ?? c.dataPageOffset);
                    w.struct(3, () => {
                        w.i32(1, c.type);
                        w.listI32(2, c.encodings);
                        w.listBinary(3, [col.name]);
                        w.i32(4, codec);
                        w.i64(5, c.numValues);
                        w.i64(6, c.uncompressed);
                        w.i64(7, c.compressed);
                        w.i64(9, c.dataPageOffset);
                        if (c.dictionaryPageOffset !== undefined) {
                            w.i64(11, c.dictionaryPageOffset);
                        }
                    });
                });
                w.i64(2, rg.bytes);
                w.i64(3, rg.rows);
            });
            const kv = Object.entries(metadata);
            if (kv.length > 0) {
                w.listStruct(5, kv, ([k, v]) => {
                    w.binary(1, k);
                    w.binary(2, v);
                });
            }
            w.binary(6, "charon-harvest");
        });
        const footer = w.finish();
        this.write(footer);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(footer.length, 0);
        this.write(len);
        this.write(MAGIC);
        fs.closeSync(this.fd);
        return this.totalRows;
    }

    /** Closes the file after a failure (the caller removes it). */
    async abort(): Promise<void> {
        await this.pendingWrite.catch(() => undefined);
        try {
            fs.closeSync(this.fd);
        } catch {
            // already closed
        }
    }
}

/** Rewrites timestamps [from, to) in place as int64 (two int32 words each, low word first) for a PLAIN page. */
function int64Words(ts: Float64Array, words: Int32Array, from: number, to: number): void {
    for (let i = from; i < to; i++) {
        const t = ts[i];
        const hi = Math.floor(t / 4294967296);
        words[2 * i] = t - hi * 4294967296;
        words[2 * i + 1] = hi;
    }
}

function sameIds(a: number[], b: number[]): boolean {
    if (a.length !== b.length) {
        return false;
    }
    for (let k = 0; k < a.length; k++) {
        if (a[k] !== b[k]) {
            return false;
        }
    }
    return true;
}

/** Writes the whole table at once (all parts present): the streaming writer fed every query in order. */
export async function writeParquet(path: string, input: TableInput, compression: ParquetCompression = "zstd"): Promise<number> {
    const w = new ParquetTableWriter(path, compression);
    try {
        for (const q of input.queries) {
            await w.addQuery(q.query, q.partPath);
        }
        return await w.finish(input.labelColumns, input.metadata);
    } catch (err) {
        await w.abort();
        throw err;
    }
}
