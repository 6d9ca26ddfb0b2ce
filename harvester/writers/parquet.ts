/**
 * A streaming Parquet writer specialised for the harvest table (written by hand because the general-purpose
 * WebAssembly writer spent seconds re-hashing every label string of every row):
 *  - query, metric and each label: BYTE_ARRAY UTF8, dictionary-encoded per row group (dictionary page + one
 *    RLE_DICTIONARY data page whose indices are RLE runs, one run per series segment), OPTIONAL except query;
 *  - timestamp: INT64 TIMESTAMP(MILLIS, UTC-adjusted), PLAIN; value: DOUBLE, PLAIN (NaN/±Inf as IEEE bits);
 *  - row groups of at most ROW_GROUP_ROWS rows, data pages of at most PAGE_ROWS rows, so memory is bounded by
 *    one row group whatever the harvest size; ZSTD (Node's zlib), SNAPPY, GZIP or no compression.
 * Format reference: the Apache Parquet specification (parquet.thrift, Encodings.md).
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import * as snappy from "snappyjs";
import { CompactWriter } from "./thrift";
import { type TableInput, seriesOf } from "./table";

export const ROW_GROUP_ROWS = 1 << 20;
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

/** Page compression; zlib codecs run on libuv's thread pool, in parallel with the JavaScript thread. */
function compressor(c: ParquetCompression): (b: Buffer) => Promise<Buffer> {
    switch (c) {
        case "none":
            return async (b) => b;
        case "snappy":
            return async (b) => Buffer.from(snappy.compress(b));
        case "gzip":
            return (b) => new Promise((resolve, reject) => zlib.gzip(b, { level: 1 }, (e, r) => (e ? reject(e) : resolve(r))));
        case "zstd": {
            const z = zlib as unknown as {
                zstdCompress: (b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void) => void; constants: Record<string, number>;
            };
            if (!zstdAvailable()) {
                throw new Error("zstd compression needs Node.js ≥ 22.15 (use --parquet-compression snappy)");
            }
            const params = { [z.constants.ZSTD_c_compressionLevel]: 1 };
            return (b) => new Promise((resolve, reject) => z.zstdCompress(b, { params }, (e, r) => (e ? reject(e) : resolve(r))));
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
    name: string;
    type: number;
    encodings: number[];
    numValues: number;
    uncompressed: number;
    compressed: number;
    dataPageOffset: number;
    dictionaryPageOffset?: number;
}

interface ColumnDef {
    name: string;
    type: number;
    optional: boolean;
    dict: boolean;
    timestamp?: boolean;
}

/** A run of rows of one series segment: dictionary ids per dict column (-1 = null). */
interface Run {
    rows: number;
    ids: Int32Array;
}

export async function writeParquet(path: string, input: TableInput, compression: ParquetCompression = "zstd"): Promise<number> {
    const compress = compressor(compression);
    const codec = CODEC[compression];
    const dictCols: ColumnDef[] = [
        { name: "query", type: TYPE_BYTE_ARRAY, optional: false, dict: true },
        { name: "metric", type: TYPE_BYTE_ARRAY, optional: true, dict: true },
        ...input.labelColumns.map((c) => ({ name: c.column, type: TYPE_BYTE_ARRAY, optional: true, dict: true })),
    ];
    const tsCol: ColumnDef = { name: "timestamp", type: TYPE_INT64, optional: false, dict: false, timestamp: true };
    const valCol: ColumnDef = { name: "value", type: TYPE_DOUBLE, optional: false, dict: false };
    // File column order: query, metric, timestamp, value, labels…
    const columns: ColumnDef[] = [dictCols[0], dictCols[1], tsCol, valCol, ...dictCols.slice(2)];

    const fd = fs.openSync(path, "w");
    let offset = 0;
    const write = (b: Uint8Array): void => {
        let done = 0;
        while (done < b.length) {
            done += fs.writeSync(fd, b, done, b.length - done, offset + done);
        }
        offset += b.length;
    };
    const rowGroups: { rows: number; bytes: number; chunks: ChunkMeta[] }[] = [];
    let totalRows = 0;

    // Row-group state. Arrays are fresh per row group: the previous one may still be compressing.
    let ts = new Float64Array(ROW_GROUP_ROWS);
    let vs = new Float64Array(ROW_GROUP_ROWS);
    let rows = 0;
    /** The previous row group's pages: compressing in the background, written in order. */
    let pendingWrite: Promise<void> = Promise.resolve();
    let runs: Run[] = [];
    let dicts = dictCols.map(() => new Map<string, number>());
    let words: string[][] = dictCols.map(() => []);

    const idFor = (col: number, value: string | undefined): number => {
        if (value === undefined) {
            return -1;
        }
        const d = dicts[col];
        let id = d.get(value);
        if (id === undefined) {
            id = words[col].length;
            d.set(value, id);
            words[col].push(value);
        }
        return id;
    };

    interface Page { type: number; body: Buffer; packed: Promise<Buffer>; header: (w: CompactWriter) => void; meta: ChunkMeta; kind: "dict" | "data" }
    let pages: Page[] = [];
    const addPage = (type: number, body: Buffer, header: (w: CompactWriter) => void, meta: ChunkMeta, kind: "dict" | "data"): void => {
        pages.push({ type, body, packed: compress(body), header, meta, kind });
    };
    /** Writes pages in order as their compression finishes, filling in the chunk offsets and sizes. */
    const writePages = async (list: Page[]): Promise<void> => {
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
                p.meta.dictionaryPageOffset = offset;
            } else if (p.meta.dataPageOffset < 0) {
                p.meta.dataPageOffset = offset;
            }
            write(h);
            write(packed);
            p.meta.uncompressed += h.length + p.body.length;
            p.meta.compressed += h.length + packed.length;
        }
    };

    const dataPageHeader = (w: CompactWriter, numValues: number, encoding: number): void => {
        w.struct(5, () => {
            w.i32(1, numValues);
            w.i32(2, encoding);
            w.i32(3, ENC_RLE);
            w.i32(4, ENC_RLE);
        });
    };

    const flushRowGroup = async (): Promise<void> => {
        if (rows === 0) {
            return;
        }
        const chunks: ChunkMeta[] = [];
        for (const col of columns) {
            const meta: ChunkMeta = {
                name: col.name, type: col.type, encodings: col.dict ? [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY] : [ENC_PLAIN, ENC_RLE],
                numValues: rows, uncompressed: 0, compressed: 0, dataPageOffset: -1,
            };
            if (col.dict) {
                const k = dictCols.indexOf(col);
                const dict = new Bytes();
                for (const s of words[k]) {
                    const b = Buffer.from(s, "utf8");
                    dict.u32le(b.length);
                    dict.bytes(b);
                }
                const nWords = words[k].length;
                addPage(PAGE_DICTIONARY, dict.view(), (w) => w.struct(7, () => {
                    w.i32(1, nWords);
                    w.i32(2, ENC_PLAIN);
                }), meta, "dict");
                const body = new Bytes();
                if (col.optional) {
                    const levels = new Bytes();
                    let i = 0;
                    while (i < runs.length) {
                        const defined = runs[i].ids[k] >= 0 ? 1 : 0;
                        let n = 0;
                        while (i < runs.length && (runs[i].ids[k] >= 0 ? 1 : 0) === defined) {
                            n += runs[i].rows;
                            i++;
                        }
                        levels.rleRun(n, defined, 1);
                    }
                    body.u32le(levels.len);
                    body.bytes(levels.view());
                }
                const width = Math.max(1, Math.ceil(Math.log2(Math.max(2, words[k].length))));
                body.byte(width);
                let i = 0;
                while (i < runs.length) {
                    const id = runs[i].ids[k];
                    let n = 0;
                    while (i < runs.length && runs[i].ids[k] === id) {
                        n += runs[i].rows;
                        i++;
                    }
                    if (id >= 0) {
                        body.rleRun(n, id, width);
                    }
                }
                const nRows = rows;
                addPage(PAGE_DATA, body.view(), (w) => dataPageHeader(w, nRows, ENC_RLE_DICTIONARY), meta, "data");
            } else {
                for (let p = 0; p < rows; p += PAGE_ROWS) {
                    const n = Math.min(PAGE_ROWS, rows - p);
                    let body: Buffer;
                    if (col.timestamp) {
                        const tsWords = new Int32Array(n * 2);
                        for (let i = 0; i < n; i++) {
                            const t = ts[p + i];
                            const hi = Math.floor(t / 4294967296);
                            tsWords[2 * i] = t - hi * 4294967296;
                            tsWords[2 * i + 1] = hi;
                        }
                        body = Buffer.from(tsWords.buffer, 0, n * 8);
                    } else {
                        body = Buffer.from(vs.buffer, p * 8, n * 8);
                    }
                    addPage(PAGE_DATA, body, (w) => dataPageHeader(w, n, ENC_PLAIN), meta, "data");
                }
            }
            chunks.push(meta);
        }
        // Let this row group compress while the next one is filled; write it after the previous one.
        const list = pages;
        pages = [];
        const rg = { rows, bytes: 0, chunks };
        rowGroups.push(rg);
        const previous = pendingWrite;
        pendingWrite = previous.then(() => writePages(list)).then(() => {
            rg.bytes = chunks.reduce((a, c) => a + c.uncompressed, 0);
        });
        await previous;
        ts = new Float64Array(ROW_GROUP_ROWS);
        vs = new Float64Array(ROW_GROUP_ROWS);
        totalRows += rows;
        rows = 0;
        runs = [];
        dicts = dictCols.map(() => new Map<string, number>());
        words = dictCols.map(() => []);
    };

    try {
        write(MAGIC);
        for (const s of seriesOf(input)) {
            const values = [s.query, s.labels.__name__, ...input.labelColumns.map((c) => s.labels[c.label])];
            for (const b of s.blocks) {
                const block = s.reader.readBlock(b);
                let at = 0;
                while (at < block.ts.length) {
                    const n = Math.min(block.ts.length - at, ROW_GROUP_ROWS - rows);
                    ts.set(block.ts.subarray(at, at + n), rows);
                    vs.set(block.vs.subarray(at, at + n), rows);
                    const last = runs[runs.length - 1];
                    const ids = Int32Array.from(values, (v, k) => idFor(k, v));
                    if (last !== undefined && last.ids.every((x, k) => x === ids[k])) {
                        last.rows += n;
                    } else {
                        runs.push({ rows: n, ids });
                    }
                    rows += n;
                    at += n;
                    if (rows === ROW_GROUP_ROWS) {
                        await flushRowGroup();
                    }
                }
            }
        }
        await flushRowGroup();
        await pendingWrite;

        // Footer: FileMetaData.
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
            w.i64(3, totalRows);
            w.listStruct(4, rowGroups, (rg) => {
                w.listStruct(1, rg.chunks, (c) => {
                    w.i64(2, c.dictionaryPageOffset ?? c.dataPageOffset);
                    w.struct(3, () => {
                        w.i32(1, c.type);
                        w.listI32(2, c.encodings);
                        w.listBinary(3, [c.name]);
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
            const kv = Object.entries(input.metadata ?? {});
            if (kv.length > 0) {
                w.listStruct(5, kv, ([k, v]) => {
                    w.binary(1, k);
                    w.binary(2, v);
                });
            }
            w.binary(6, "charon-harvest");
        });
        const footer = w.finish();
        write(footer);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(footer.length, 0);
        write(len);
        write(MAGIC);
    } finally {
        await pendingWrite.catch(() => undefined);
        fs.closeSync(fd);
    }
    return totalRows;
}
