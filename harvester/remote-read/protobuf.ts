/**
 * The few protobuf messages remote read needs, encoded and decoded by hand (wire format: varints, length-
 * delimited fields). Messages (prometheus/prompb): ReadRequest, Query, LabelMatcher, ChunkedReadResponse,
 * ChunkedSeries, Label, Chunk, and the non-streamed ReadResponse/QueryResult/TimeSeries/Sample fallback.
 */
import type { LabelMatcher } from "../selector";

export const RESPONSE_TYPE_SAMPLES = 0;
export const RESPONSE_TYPE_STREAMED_XOR_CHUNKS = 1;
export const CHUNK_ENCODING_XOR = 1;

const MATCH_TYPE: Record<LabelMatcher["op"], number> = { "=": 0, "!=": 1, "=~": 2, "!~": 3 };

class Writer {
    private parts: number[] = [];
    varint(v: number): void {
        // Non-negative integers up to 2^53; negative int64 as 10-byte two's complement.
        if (v < 0) {
            const big = BigInt.asUintN(64, BigInt(v));
            let x = big;
            while (x >= 0x80n) {
                this.parts.push(Number(x & 0x7fn) | 0x80);
                x >>= 7n;
            }
            this.parts.push(Number(x));
            return;
        }
        let x = v;
        while (x >= 0x80) {
            this.parts.push((x % 0x80) | 0x80);
            x = Math.floor(x / 0x80);
        }
        this.parts.push(x);
    }
    tag(field: number, wire: number): void {
        this.varint(field * 8 + wire);
    }
    bytes(field: number, b: Uint8Array): void {
        this.tag(field, 2);
        this.varint(b.length);
        for (const x of b) {
            this.parts.push(x);
        }
    }
    string(field: number, s: string): void {
        this.bytes(field, Buffer.from(s, "utf8"));
    }
    int(field: number, v: number): void {
        this.tag(field, 0);
        this.varint(v);
    }
    finish(): Uint8Array {
        return Uint8Array.from(this.parts);
    }
}

export interface ReadQuery {
    startMs: number;
    endMs: number;
    matchers: LabelMatcher[];
}

/** Encodes a ReadRequest (not yet snappy-compressed). */
export function encodeReadRequest(queries: ReadQuery[], acceptedTypes: number[]): Uint8Array {
    const w = new Writer();
    for (const q of queries) {
        const qw = new Writer();
        qw.int(1, q.startMs);
        qw.int(2, q.endMs);
        for (const m of q.matchers) {
            const mw = new Writer();
            mw.int(1, MATCH_TYPE[m.op]);
            mw.string(2, m.name);
            mw.string(3, m.value);
            qw.bytes(3, mw.finish());
        }
        w.bytes(1, qw.finish());
    }
    for (const t of acceptedTypes) {
        w.int(2, t);
    }
    return w.finish();
}

/** A protobuf reader over bytes[pos, end). */
export class Reader {
    constructor(readonly b: Uint8Array, public pos = 0, readonly end = b.length) {}

    done(): boolean {
        return this.pos >= this.end;
    }

    /** Varint as a JS number (exact below 2^53; int64 negatives come back negative). */
    varint(): number {
        const b = this.b;
        let lo = 0;
        let shift = 0;
        let byte: number;
        // First 4 bytes (28 bits) with 32-bit ops.
        do {
            if (this.pos >= this.end) {
                throw new Error("truncated protobuf varint");
            }
            byte = b[this.pos++];
            lo |= (byte & 0x7f) << shift;
            shift += 7;
        } while (byte & 0x80 && shift < 28);
        lo >>>= 0;
        if (!(byte & 0x80)) {
            return lo;
        }
        let result = lo;
        let mul = 2 ** 28;
        let nBytes = 4;
        do {
            if (this.pos >= this.end) {
                throw new Error("truncated protobuf varint");
            }
            byte = b[this.pos++];
            nBytes++;
            result += (byte & 0x7f) * mul;
            mul *= 128;
        } while (byte & 0x80);
        if (nBytes === 10 && result >= 2 ** 63) {
            return result - 2 ** 64;
        }
        return result;
    }

    /** Skips a field's value of the given wire type. */
    skip(wire: number): void {
        switch (wire) {
            case 0:
                this.varint();
                return;
            case 1:
                this.pos += 8;
                return;
            case 2: {
                const n = this.varint();
                this.pos += n;
                return;
            }
            case 5:
                this.pos += 4;
                return;
            default:
                throw new Error(`unsupported protobuf wire type ${wire}`);
        }
    }

    /** Reads a length prefix and returns [start, end) of the payload, advancing past it. */
    span(): [number, number] {
        const n = this.varint();
        const s = this.pos;
        this.pos += n;
        if (this.pos > this.end) {
            throw new Error("truncated protobuf message");
        }
        return [s, this.pos];
    }

    string(): string {
        const [s, e] = this.span();
        return Buffer.from(this.b.buffer, this.b.byteOffset + s, e - s).toString("utf8");
    }
}

export interface RawChunk {
    minTimeMs: number;
    maxTimeMs: number;
    type: number;
    /** The chunk's bytes, a view into the frame. */
    data: Uint8Array;
}

export interface ChunkedSeries {
    labels: [string, string][];
    chunks: RawChunk[];
}

function decodeLabel(r: Reader, end: number): [string, string] {
    const lr = new Reader(r.b, r.pos, end);
    let name = "";
    let value = "";
    while (!lr.done()) {
        const key = lr.varint();
        const f = key >>> 3;
        if (f === 1) {
            name = lr.string();
        } else if (f === 2) {
            value = lr.string();
        } else {
            lr.skip(key & 7);
        }
    }
    return [name, value];
}

function decodeChunk(b: Uint8Array, start: number, end: number): RawChunk {
    const r = new Reader(b, start, end);
    const c: RawChunk = { minTimeMs: 0, maxTimeMs: 0, type: 0, data: new Uint8Array(0) };
    while (!r.done()) {
        const key = r.varint();
        switch (key >>> 3) {
            case 1:
                c.minTimeMs = r.varint();
                break;
            case 2:
                c.maxTimeMs = r.varint();
                break;
            case 3:
                c.type = r.varint();
                break;
            case 4: {
                const [s, e] = r.span();
                c.data = b.subarray(s, e);
                break;
            }
            default:
                r.skip(key & 7);
        }
    }
    return c;
}

function decodeChunkedSeries(b: Uint8Array, start: number, end: number): ChunkedSeries {
    const r = new Reader(b, start, end);
    const out: ChunkedSeries = { labels: [], chunks: [] };
    while (!r.done()) {
        const key = r.varint();
        const f = key >>> 3;
        if (f === 1) {
            const [s, e] = r.span();
            out.labels.push(decodeLabel(new Reader(b, s, e), e));
        } else if (f === 2) {
            const [s, e] = r.span();
            out.chunks.push(decodeChunk(b, s, e));
        } else {
            r.skip(key & 7);
        }
    }
    return out;
}

/** Decodes one ChunkedReadResponse frame payload. */
export function decodeChunkedReadResponse(b: Uint8Array): { series: ChunkedSeries[]; queryIndex: number } {
    const r = new Reader(b);
    const series: ChunkedSeries[] = [];
    let queryIndex = 0;
    while (!r.done()) {
        const key = r.varint();
        const f = key >>> 3;
        if (f === 1) {
            const [s, e] = r.span();
            series.push(decodeChunkedSeries(b, s, e));
        } else if (f === 2) {
            queryIndex = r.varint();
        } else {
            r.skip(key & 7);
        }
    }
    return { series, queryIndex };
}

/** Receives the chunks of one ChunkedReadResponse frame as they are read (views into the frame). */
export interface ChunkVisitor {
    chunk(minTimeMs: number, maxTimeMs: number, type: number, data: Uint8Array): void;
    /** After all of a series' chunks (and labels) were read. */
    seriesEnd(labels: [string, string][]): void;
}

/**
 * Walks one ChunkedReadResponse frame payload as decodeChunkedReadResponse reads it, without building the series and
 * chunk objects: each chunk goes to the visitor as soon as its fields are read, then the series' labels.
 */
export function visitChunkedReadResponse(b: Uint8Array, v: ChunkVisitor): void {
    const r = new Reader(b);
    while (!r.done()) {
        const key = r.varint();
        if (key >>> 3 !== 1) {
            r.skip(key & 7);
            continue;
        }
        const seriesLength = r.varint();
        const seriesStart = r.pos;
        const seriesEnd = seriesStart + seriesLength;
        if (seriesEnd > b.length) {
            throw new Error("truncated protobuf message");
        }
        const sr = new Reader(b, seriesStart, seriesEnd);
        const labels: [string, string][] = [];
        while (!sr.done()) {
            const k = sr.varint();
            const f = k >>> 3;
            if (f === 1) {
                const [ls, le] = sr.span();
                labels.push(decodeLabel(new Reader(b, ls, le), le));
            } else if (f === 2) {
                const len = sr.varint();
                const end = sr.pos + len;
                if (end > seriesEnd) {
                    throw new Error("truncated protobuf message");
                }
                let minT = 0;
                let maxT = 0;
                let type = 0;
                let dataStart = 0;
                let dataEnd = 0;
                while (sr.pos < end) {
                    const ck = sr.varint();
                    switch (ck >>> 3) {
                        case 1:
                            minT = sr.varint();
                            break;
                        case 2:
                            maxT = sr.varint();
                            break;
                        case 3:
                            type = sr.varint();
                            break;
                        case 4: {
                            const n = sr.varint();
                            dataStart = sr.pos;
                            dataEnd = dataStart + n;
                            sr.pos = dataEnd;
                            break;
                        }
                        default:
                            sr.skip(ck & 7);
                    }
                }
                if (sr.pos > end) {
                    throw new Error("truncated protobuf message");
                }
                v.chunk(minT, maxT, type, b.subarray(dataStart, dataEnd));
            } else {
                sr.skip(k & 7);
            }
        }
        r.pos = seriesEnd;
        v.seriesEnd(labels);
    }
}

export interface SampleSeries {
    labels: [string, string][];
    timestamps: Float64Array;
    values: Float64Array;
}

/** Decodes a (decompressed) non-streamed ReadResponse: results[].timeseries[] with plain samples. */
export function decodeReadResponse(b: Uint8Array): SampleSeries[][] {
    const r = new Reader(b);
    const results: SampleSeries[][] = [];
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    while (!r.done()) {
        const key = r.varint();
        if (key >>> 3 !== 1) {
            r.skip(key & 7);
            continue;
        }
        const [qs, qe] = r.span();
        const qr = new Reader(b, qs, qe);
        const series: SampleSeries[] = [];
        while (!qr.done()) {
            const qk = qr.varint();
            if (qk >>> 3 !== 1) {
                qr.skip(qk & 7);
                continue;
            }
            const [ts, te] = qr.span();
            const tr = new Reader(b, ts, te);
            const labels: [string, string][] = [];
            const times: number[] = [];
            const values: number[] = [];
            while (!tr.done()) {
                const tk = tr.varint();
                const f = tk >>> 3;
                if (f === 1) {
                    const [ls, le] = tr.span();
                    labels.push(decodeLabel(new Reader(b, ls, le), le));
                } else if (f === 2) {
                    const [ss, se] = tr.span();
                    const sr = new Reader(b, ss, se);
                    let v = 0;
                    let t = 0;
                    while (!sr.done()) {
                        const sk = sr.varint();
                        if (sk === 0x09) {
                            v = view.getFloat64(sr.pos, true);
                            sr.pos += 8;
                        } else if (sk === 0x10) {
                            t = sr.varint();
                        } else {
                            sr.skip(sk & 7);
                        }
                    }
                    times.push(t);
                    values.push(v);
                } else {
                    tr.skip(tk & 7);
                }
            }
            series.push({ labels, timestamps: Float64Array.from(times), values: Float64Array.from(values) });
        }
        results.push(series);
    }
    return results;
}
