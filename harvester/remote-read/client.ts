/**
 * Streamed remote read: POST /api/v1/read with a snappy-compressed ReadRequest asking for STREAMED_XOR_CHUNKS,
 * then frames of uvarint length + big-endian CRC32C + ChunkedReadResponse. Each series' XOR chunks are decoded
 * and trimmed to the slice (servers return whole chunks overlapping the range). Servers that only speak the
 * older SAMPLES response type are handled too. Endpoints without remote read raise RemoteReadUnavailable.
 */
import * as snappy from "snappyjs";
import { ConnectionError, type HttpClient, HttpError, type RequestStats } from "../http";
import type { LabelMatcher } from "../selector";
import { crc32c } from "./crc32c";
import {
    CHUNK_ENCODING_XOR, type ChunkVisitor, RESPONSE_TYPE_SAMPLES, RESPONSE_TYPE_STREAMED_XOR_CHUNKS, decodeReadResponse,
    encodeReadRequest, visitChunkedReadResponse,
} from "./protobuf";
import { SampleBuffer, decodeXorChunk, isStaleMarker } from "./xor";

/** The endpoint does not serve remote read (the caller falls back to instant range-selector queries). */
export class RemoteReadUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RemoteReadUnavailable";
    }
}

export interface RemoteReadSlice {
    matchers: LabelMatcher[];
    /** Samples with lowerExclusive < t ≤ upper are returned. */
    lowerExclusive: number;
    upper: number;
}

/** Receives one series' samples of the slice (possibly several calls per series across frames). */
export type SeriesSink = (labels: [string, string][], samples: SampleBuffer) => void;

export interface RemoteReadResult {
    frames: number;
    /** Chunks of an encoding other than XOR (native histograms), skipped. */
    skippedChunks: number;
}

const UNAVAILABLE_STATUS = new Set([404, 405, 406, 415, 501]);

/** Parses consecutive frames in buf[0..), calling onFrame; returns the offset of the first incomplete frame. */
export function parseFrames(buf: Buffer, onFrame: (payload: Uint8Array) => void): { consumed: number; need: number } {
    let pos = 0;
    for (;;) {
        // uvarint length
        let size = 0;
        let mul = 1;
        let p = pos;
        let complete = false;
        while (p < buf.length && p - pos < 10) {
            const b = buf[p++];
            size += (b & 0x7f) * mul;
            mul *= 128;
            if ((b & 0x80) === 0) {
                complete = true;
                break;
            }
        }
        if (!complete) {
            return { consumed: pos, need: buf.length - pos + 1 };
        }
        const frameEnd = p + 4 + size;
        if (frameEnd > buf.length) {
            return { consumed: pos, need: frameEnd - pos };
        }
        const expected = buf.readUInt32BE(p);
        const actual = crc32c(buf, p + 4, frameEnd);
        if (expected !== actual) {
            throw new Error(`remote read frame checksum mismatch (expected ${expected.toString(16)}, got ${actual.toString(16)})`);
        }
        onFrame(buf.subarray(p + 4, frameEnd));
        pos = frameEnd;
    }
}

/**
 * Gathers streamed frames from the body pieces as they arrive: whole frames inside one piece are parsed in place,
 * a frame that straddles pieces is assembled in one reused buffer.
 */
export class FrameAssembler {
    private acc = Buffer.allocUnsafe(0);
    private len = 0;
    /** Bytes the frame being assembled needs in all (parseFrames' estimate). */
    private need = 1;
    constructor(private readonly onFrame: (payload: Uint8Array) => void) {}

    push(b: Buffer, from: number, to: number): void {
        if (this.len === 0) {
            const r = parseFrames(b.subarray(from, to), this.onFrame);
            from += r.consumed;
            this.need = r.need;
            if (from === to) {
                return;
            }
        }
        const k = to - from;
        if (this.len + k > this.acc.length) {
            const next = Buffer.allocUnsafe(Math.max(this.acc.length * 2, this.len + k, 1 << 20));
            this.acc.copy(next, 0, 0, this.len);
            this.acc = next;
        }
        b.copy(this.acc, this.len, from, to);
        this.len += k;
        if (this.len < this.need) {
            return;
        }
        const r = parseFrames(this.acc.subarray(0, this.len), this.onFrame);
        this.acc.copy(this.acc, 0, r.consumed, this.len);
        this.len -= r.consumed;
        this.need = r.need;
    }

    /** Bytes of an unfinished frame left at the end of the stream. */
    get pending(): number {
        return this.len;
    }
}

/** Reads one slice by streamed remote read. Connection and server errors propagate (the caller retries). */
export async function remoteRead(client: HttpClient, slice: RemoteReadSlice, sink: SeriesSink,
    stats: RequestStats): Promise<RemoteReadResult> {
    const req = encodeReadRequest([{ startMs: slice.lowerExclusive + 1, endMs: slice.upper, matchers: slice.matchers }],
        [RESPONSE_TYPE_STREAMED_XOR_CHUNKS, RESPONSE_TYPE_SAMPLES]);
    const body = Buffer.from(snappy.compress(req));
    const result: RemoteReadResult = { frames: 0, skippedChunks: 0 };
    const samples = new SampleBuffer();
    // Each series' chunks are decoded into `samples` as the frame is read, then handed on with its labels.
    const visitor: ChunkVisitor = {
        chunk: (minTimeMs, maxTimeMs, type, data) => {
            if (maxTimeMs <= slice.lowerExclusive || minTimeMs > slice.upper) {
                return;
            }
            if (type !== CHUNK_ENCODING_XOR) {
                result.skippedChunks++;
                return;
            }
            decodeXorChunk(data, slice.lowerExclusive, slice.upper, samples);
        },
        seriesEnd: (labels) => {
            if (samples.n > 0) {
                sink(labels, samples);
            }
            samples.clear();
        },
    };
    const onFrame = (payload: Uint8Array): void => {
        result.frames++;
        samples.clear();
        visitChunkedReadResponse(payload, visitor);
    };
    const frames = new FrameAssembler(onFrame);
    let kind: "streamed" | "samples" | undefined;
    let ctype = "";
    let res: { headers: Record<string, string>; body: Buffer };
    try {
        res = await client.postBinary("api/v1/read", body, {
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Read-Version": "0.1.0",
        }, stats, (headers) => {
            ctype = headers["content-type"] ?? "";
            if (ctype.startsWith("application/x-streamed-protobuf")) {
                kind = "streamed";
                return (b, from, to) => {
                    stats.bytes += to - from;
                    frames.push(b, from, to);
                };
            }
            // The older SAMPLES answer is read whole (snappy-compressed); anything else is no remote read.
            kind = ctype.startsWith("application/x-protobuf") ? "samples" : undefined;
            return undefined;
        });
    } catch (err) {
        if (err instanceof HttpError && UNAVAILABLE_STATUS.has(err.status)) {
            throw new RemoteReadUnavailable(`remote read not available (${err.message})`);
        }
        // A response cut off mid-stream (the connection closed before the body's end, as seen through the
        // Kubernetes API server's service proxy) is a connection failure: the caller retries the slice.
        if (err instanceof ConnectionError && kind !== undefined) {
            throw new ConnectionError(`remote read response interrupted: ${err.message}`, err.code ?? "ECONNRESET");
        }
        throw err;
    }
    if (kind === "streamed") {
        if (frames.pending > 0) {
            throw new ConnectionError(`remote read stream ended inside a frame (${frames.pending} bytes left)`, "ETRUNCATED");
        }
    } else if (kind === "samples") {
        stats.bytes += res.body.length;
        const raw = Buffer.from(snappy.uncompress(res.body));
        result.frames = 1;
        for (const s of decodeReadResponse(raw)[0] ?? []) {
            samples.clear();
            samples.reserve(s.timestamps.length);
            for (let i = 0; i < s.timestamps.length; i++) {
                const t = s.timestamps[i];
                if (t > slice.lowerExclusive && t <= slice.upper && !isStaleMarker(s.values[i])) {
                    samples.ts[samples.n] = t;
                    samples.vs[samples.n] = s.values[i];
                    samples.n++;
                }
            }
            if (samples.n > 0) {
                sink(s.labels, samples);
            }
        }
    } else {
        throw new RemoteReadUnavailable(`remote read not available (unexpected content type "${ctype}")`);
    }
    return result;
}
