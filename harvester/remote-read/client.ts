/**
 * Streamed remote read: POST /api/v1/read with a snappy-compressed ReadRequest asking for STREAMED_XOR_CHUNKS,
 * then frames of uvarint length + big-endian CRC32C + ChunkedReadResponse. Each series' XOR chunks are decoded
 * and trimmed to the slice (servers return whole chunks overlapping the range). Servers that only speak the
 * older SAMPLES response type are handled too. Endpoints without remote read raise RemoteReadUnavailable.
 */
import * as snappy from "snappyjs";
import { ConnectionError, HttpClient, HttpError, type RequestStats } from "../http";
import type { LabelMatcher } from "../selector";
import { crc32c } from "./crc32c";
import {
    CHUNK_ENCODING_XOR, RESPONSE_TYPE_SAMPLES, RESPONSE_TYPE_STREAMED_XOR_CHUNKS, decodeChunkedReadResponse,
    decodeReadResponse, encodeReadRequest,
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

/** The response's chunks; a connection cut mid-body becomes a (retryable) ConnectionError. */
async function* interrupted(res: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
    try {
        for await (const c of res) {
            yield c as Buffer;
        }
    } catch (err) {
        if (err instanceof ConnectionError) {
            throw err;
        }
        const e = err as NodeJS.ErrnoException;
        throw new ConnectionError(`remote read response interrupted: ${e.message}`, e.code ?? "ECONNRESET");
    }
}

/** Reads one slice by streamed remote read. Connection and server errors propagate (the caller retries). */
export async function remoteRead(client: HttpClient, slice: RemoteReadSlice, sink: SeriesSink,
    stats: RequestStats): Promise<RemoteReadResult> {
    const req = encodeReadRequest([{ startMs: slice.lowerExclusive + 1, endMs: slice.upper, matchers: slice.matchers }],
        [RESPONSE_TYPE_STREAMED_XOR_CHUNKS, RESPONSE_TYPE_SAMPLES]);
    const body = Buffer.from(snappy.compress(req));
    let opened;
    try {
        opened = await client.postStream("api/v1/read", body, {
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Read-Version": "0.1.0",
        }, stats);
    } catch (err) {
        if (err instanceof HttpError && UNAVAILABLE_STATUS.has(err.status)) {
            throw new RemoteReadUnavailable(`remote read not available (${err.message})`);
        }
        throw err;
    }
    const { res, finish } = opened;
    const result: RemoteReadResult = { frames: 0, skippedChunks: 0 };
    const samples = new SampleBuffer();
    try {
        const ctype = String(res.headers["content-type"] ?? "");
        if (ctype.startsWith("application/x-streamed-protobuf")) {
            const onFrame = (payload: Uint8Array): void => {
                result.frames++;
                const msg = decodeChunkedReadResponse(payload);
                for (const s of msg.series) {
                    samples.clear();
                    for (const c of s.chunks) {
                        if (c.maxTimeMs <= slice.lowerExclusive || c.minTimeMs > slice.upper) {
                            continue;
                        }
                        if (c.type !== CHUNK_ENCODING_XOR) {
                            result.skippedChunks++;
                            continue;
                        }
                        decodeXorChunk(c.data, slice.lowerExclusive, slice.upper, samples);
                    }
                    if (samples.n > 0) {
                        sink(s.labels, samples);
                    }
                }
            };
            let chunks: Buffer[] = [];
            let have = 0;
            let need = 1;
            for await (const c of interrupted(res)) {
                const chunk = c as Buffer;
                stats.bytes += chunk.length;
                chunks.push(chunk);
                have += chunk.length;
                if (have < need) {
                    continue;
                }
                const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
                const r = parseFrames(buf, onFrame);
                const rest = buf.subarray(r.consumed);
                chunks = rest.length > 0 ? [rest] : [];
                have = rest.length;
                need = r.need;
            }
            if (have > 0) {
                throw new ConnectionError(`remote read stream ended inside a frame (${have} bytes left)`, "ETRUNCATED");
            }
        } else if (ctype.startsWith("application/x-protobuf")) {
            const parts: Buffer[] = [];
            for await (const c of interrupted(res)) {
                parts.push(c as Buffer);
                stats.bytes += (c as Buffer).length;
            }
            const raw = Buffer.from(snappy.uncompress(Buffer.concat(parts)));
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
            res.resume();
            throw new RemoteReadUnavailable(`remote read not available (unexpected content type "${ctype}")`);
        }
    } catch (err) {
        // A response cut off mid-stream ("aborted": the connection closed before the body's end, as seen through
        // the Kubernetes API server's service proxy) is a connection failure: the caller retries the slice.
        const code = (err as NodeJS.ErrnoException).code;
        if (!(err instanceof ConnectionError) && (code === "ECONNRESET" || code === "EPIPE" || (err as Error).message === "aborted")) {
            throw new ConnectionError(`remote read response interrupted: ${(err as Error).message}`, code ?? "ECONNRESET");
        }
        throw err;
    } finally {
        finish();
    }
    return result;
}
