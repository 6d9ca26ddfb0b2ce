import { strict as assert } from "node:assert";
import fc from "fast-check";
import { FrameAssembler, parseFrames } from "../../harvester/remote-read/client";
import { crc32c } from "../../harvester/remote-read/crc32c";
import { Reader, decodeChunkedReadResponse, encodeReadRequest, visitChunkedReadResponse } from "../../harvester/remote-read/protobuf";
import { SampleBuffer, decodeXorChunk, isStaleMarker } from "../../harvester/remote-read/xor";
import { encodeXorChunk, floatBits } from "./xor-encoder";

const STALE = 0x7ff0000000000002n;

function bitsToFloat(b: bigint): number {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, b);
    return dv.getFloat64(0);
}

describe("harvester/remote-read", () => {
    it("CRC-32C matches the standard check values", () => {
        assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
        assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
        assert.equal(crc32c(Buffer.from("")), 0);
    });

    it("property: CRC-32C of any range of any view equals a bit-at-a-time reference", () => {
        const reference = (b: Uint8Array): number => {
            let crc = 0xffffffff;
            for (const x of b) {
                crc ^= x;
                for (let k = 0; k < 8; k++) {
                    crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
                }
            }
            return (crc ^ 0xffffffff) >>> 0;
        };
        fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), fc.nat(40), fc.nat(40), (bytes, lead, a, b) => {
            // A view that does not start at its buffer's start, and a range inside it.
            const view = new Uint8Array(lead + bytes.length).subarray(lead);
            view.set(bytes);
            const start = Math.min(a, bytes.length);
            const end = Math.max(start, bytes.length - b);
            assert.equal(crc32c(view, start, end), reference(bytes.subarray(start, end)));
        }), { numRuns: 1000 });
    });

    it("decodes an XOR chunk, trims to (lower, upper] and drops stale markers", () => {
        const samples: [number, bigint][] = [
            [1000, floatBits(1)], [2000, floatBits(1)], [3000, STALE], [4100, floatBits(NaN)],
            [5000, floatBits(Infinity)], [6000, floatBits(-Infinity)], [70000, floatBits(0.1)], [70001, floatBits(-2.5e300)],
        ];
        const out = new SampleBuffer(2);
        const n = decodeXorChunk(encodeXorChunk(samples), 1000, 70000, out);
        assert.equal(n, 5);
        assert.deepEqual([...out.ts.subarray(0, n)], [2000, 4100, 5000, 6000, 70000]);
        const v = [...out.vs.subarray(0, n)];
        assert.equal(v[0], 1);
        assert.ok(Number.isNaN(v[1]) && !isStaleMarker(v[1]));
        assert.deepEqual(v.slice(2), [Infinity, -Infinity, 0.1]);
    });

    it("property: the fast decoder equals an independent bit-at-a-time encoder's input", () => {
        const value = fc.oneof(
            fc.double().map(floatBits),
            fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
            fc.constantFrom(STALE, floatBits(0), floatBits(1), floatBits(1.5)),
        );
        const gap = fc.oneof(fc.constant(15000), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1e6 }),
            fc.integer({ min: 1, max: 5e11 }));
        fc.assert(fc.property(fc.integer({ min: 0, max: 2e12 }), fc.array(fc.tuple(gap, value), { minLength: 1, maxLength: 200 }), (t0, steps) => {
            let t = t0;
            const samples = steps.map(([g, v], i): [number, bigint] => {
                t = i === 0 ? t0 : t + g;
                return [t, v];
            });
            const out = new SampleBuffer(1);
            decodeXorChunk(encodeXorChunk(samples), -Infinity, Infinity, out);
            const kept = samples.filter(([, v]) => v !== STALE);
            assert.equal(out.n, kept.length);
            kept.forEach(([ts, v], i) => {
                assert.equal(out.ts[i], ts);
                const expected = bitsToFloat(v);
                assert.ok(Object.is(out.vs[i], expected) || (Number.isNaN(expected) && Number.isNaN(out.vs[i])), `sample ${i}`);
            });
        }), { numRuns: 300 });
    });

    it("encodes a ReadRequest field by field", () => {
        const b = encodeReadRequest([{ startMs: 1000, endMs: 2000, matchers: [{ name: "__name__", op: "=~", value: "up" }] }], [1, 0]);
        const r = new Reader(b);
        assert.equal(r.varint(), (1 << 3) | 2);
        const [qs, qe] = r.span();
        const q = new Reader(b, qs, qe);
        assert.equal(q.varint(), 1 << 3);
        assert.equal(q.varint(), 1000);
        assert.equal(q.varint(), 2 << 3);
        assert.equal(q.varint(), 2000);
        assert.equal(q.varint(), (3 << 3) | 2);
        const [ms, me] = q.span();
        const m = new Reader(b, ms, me);
        assert.deepEqual([m.varint(), m.varint()], [1 << 3, 2]);
        assert.equal(m.varint(), (2 << 3) | 2);
        assert.equal(m.string(), "__name__");
        assert.equal(m.varint(), (3 << 3) | 2);
        assert.equal(m.string(), "up");
        assert.deepEqual([r.varint(), r.varint(), r.varint(), r.varint()], [2 << 3, 1, 2 << 3, 0]);
    });

    it("splits a stream into CRC-checked frames and rejects corruption", () => {
        // ChunkedReadResponse{chunked_series:[{labels:[{name:"a", value:"b"}]}], query_index: 0}
        const label = Buffer.from([0x0a, 1, 0x61, 0x12, 1, 0x62]);
        const series = Buffer.concat([Buffer.from([0x0a, label.length]), label]);
        const msg = Buffer.concat([Buffer.from([0x0a, series.length]), series, Buffer.from([0x10, 0])]);
        const frame = (m: Buffer): Buffer => {
            const crc = Buffer.alloc(4);
            crc.writeUInt32BE(crc32c(m));
            return Buffer.concat([Buffer.from([m.length]), crc, m]);
        };
        const stream = Buffer.concat([frame(msg), frame(msg)]);
        const got: Uint8Array[] = [];
        const r = parseFrames(stream.subarray(0, stream.length - 3), (p) => got.push(p));
        assert.equal(got.length, 1);
        assert.equal(r.consumed, frame(msg).length);
        assert.equal(r.need, frame(msg).length);
        assert.deepEqual(decodeChunkedReadResponse(got[0]).series[0].labels, [["a", "b"]]);
        const bad = Buffer.from(stream);
        bad[8] ^= 1;
        assert.throws(() => parseFrames(bad, () => undefined), /checksum mismatch/);
    });

    it("property: frames arriving in pieces cut anywhere come out whole and in order", () => {
        const frame = (m: Buffer): Buffer => {
            const crc = Buffer.alloc(4);
            crc.writeUInt32BE(crc32c(m));
            const len: number[] = [];
            for (let n = m.length; ; n >>>= 7) {
                len.push(n >= 0x80 ? (n & 0x7f) | 0x80 : n);
                if (n < 0x80) {
                    break;
                }
            }
            return Buffer.concat([Buffer.from(len), crc, m]);
        };
        fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { minLength: 1, maxLength: 6 }),
            fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 20 }), (payloads, cuts) => {
                const stream = Buffer.concat(payloads.map((p) => frame(Buffer.from(p))));
                const got: Buffer[] = [];
                const a = new FrameAssembler((p) => got.push(Buffer.from(p)));
                // Pieces sit inside a larger buffer, as they do in a connection's read buffer.
                const readBuffer = Buffer.alloc(stream.length + 20, 0xee);
                let at = 0;
                for (let k = 0; at < stream.length; k++) {
                    const n = Math.min(cuts[k % cuts.length], stream.length - at);
                    stream.copy(readBuffer, 7, at, at + n);
                    a.push(readBuffer, 7, 7 + n);
                    at += n;
                }
                assert.equal(a.pending, 0);
                assert.deepEqual(got.map((g) => g.toString("hex")), payloads.map((p) => Buffer.from(p).toString("hex")));
            }), { numRuns: 300 });
    });

    it("property: visiting a frame's chunks yields what decodeChunkedReadResponse reads, in order", () => {
        const varint = (v: number): number[] => {
            const out: number[] = [];
            let x = v;
            while (x >= 0x80) {
                out.push((x % 0x80) | 0x80);
                x = Math.floor(x / 0x80);
            }
            out.push(x);
            return out;
        };
        const field = (n: number, body: number[]): number[] => [...varint(n * 8 + 2), ...varint(body.length), ...body];
        const int = (n: number, v: number): number[] => [...varint(n * 8), ...varint(v)];
        const str = (t: string): number[] => [...Buffer.from(t, "utf8")];
        const chunk = fc.record({ min: fc.nat(2 ** 45), max: fc.nat(2 ** 45), type: fc.nat(3), data: fc.uint8Array({ maxLength: 20 }) });
        const series = fc.record({ labels: fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 3 }), chunks: fc.array(chunk, { maxLength: 4 }) });
        fc.assert(fc.property(fc.array(series, { maxLength: 4 }), fc.boolean(), (all, chunksFirst) => {
            const bytes: number[] = [];
            for (const s of all) {
                const labels = s.labels.flatMap(([k, v]) => field(1, [...field(1, str(k)), ...field(2, str(v))]));
                // Data first in a chunk, as a server may write its fields in any order.
                const chunks = s.chunks.flatMap((c) => field(2, [...field(4, [...c.data]), ...int(1, c.min), ...int(2, c.max), ...int(3, c.type)]));
                bytes.push(...field(1, chunksFirst ? [...chunks, ...labels] : [...labels, ...chunks]));
            }
            bytes.push(...int(2, 7));
            const frame = Uint8Array.from(bytes);
            const seen: unknown[] = [];
            let pending: unknown[] = [];
            visitChunkedReadResponse(frame, {
                chunk: (minTimeMs, maxTimeMs, type, data) => pending.push({ minTimeMs, maxTimeMs, type, data: [...data] }),
                seriesEnd: (labels) => {
                    seen.push({ labels, chunks: pending });
                    pending = [];
                },
            });
            const want = decodeChunkedReadResponse(frame).series.map((x) => ({ labels: x.labels, chunks: x.chunks.map((c) => ({ ...c, data: [...c.data] })) }));
            assert.deepEqual(seen, want);
        }), { numRuns: 300 });
    });
});
