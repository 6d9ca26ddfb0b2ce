/**
 * Decoder for Prometheus TSDB XOR chunks (Gorilla encoding): a 2-byte big-endian sample count, the first
 * timestamp as a signed varint and value as 64 raw bits, the second timestamp delta as an unsigned varint, then
 * delta-of-delta timestamps in 1/14/17/20/64-bit buckets and XOR-ed values with leading/trailing zero counts.
 * Bits are read up to 32 at a time from a 5-byte window (not bit by bit); 64-bit values are handled as two
 * 32-bit halves so no BigInt is needed. Stale markers (NaN with bits 0x7ff0000000000002) are dropped.
 */

/** Growable (timestamp, value) columns that decoders append to. */
export class SampleBuffer {
    ts: Float64Array;
    vs: Float64Array;
    n = 0;
    constructor(capacity = 4096) {
        this.ts = new Float64Array(capacity);
        this.vs = new Float64Array(capacity);
    }
    reserve(extra: number): void {
        const need = this.n + extra;
        if (need <= this.ts.length) {
            return;
        }
        let cap = this.ts.length * 2;
        while (cap < need) {
            cap *= 2;
        }
        const ts = new Float64Array(cap);
        ts.set(this.ts.subarray(0, this.n));
        const vs = new Float64Array(cap);
        vs.set(this.vs.subarray(0, this.n));
        this.ts = ts;
        this.vs = vs;
    }
    clear(): void {
        this.n = 0;
    }
}

export const STALE_HI = 0x7ff00000;
export const STALE_LO = 0x00000002;

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/** Whether a float64 is Prometheus' stale marker (a specific NaN payload). */
export function isStaleMarker(v: number): boolean {
    F64[0] = v;
    return U32[HI] === STALE_HI && U32[LO] === STALE_LO;
}

/**
 * Appends the chunk's samples with lowerExclusive < t ≤ upper (stale markers dropped) to `out`.
 * Returns the number of samples appended. Written as one flat loop with local state (no closures) because this
 * is the hottest code of raw mode.
 */
export function decodeXorChunk(chunk: Uint8Array, lowerExclusive: number, upper: number, out: SampleBuffer): number {
    if (chunk.length < 2) {
        return 0;
    }
    if (chunk.length > PADDED_MAX) {
        return decodeXorBits(chunk, lowerExclusive, upper, out);
    }
    // The decoder reads a few bytes past the last bit it uses. Past a typed array's end those reads are undefined
    // (0 in bit arithmetic) but make V8 drop the optimized code; on a copy followed by zeros they are plain zeros.
    PADDED.set(chunk);
    try {
        return decodeXorBits(PADDED, lowerExclusive, upper, out);
    } finally {
        PADDED.fill(0, 0, chunk.length);
    }
}

/**
 * Chunks up to this size are decoded from PADDED, which stays zero past the chunk: as many zeros as the most bits a
 * chunk's 2-byte sample count lets the decoder read (65535 samples × at most 145 bits), so even a corrupt chunk
 * decodes exactly as from the original bytes.
 */
const PADDED_MAX = 1 << 20;
const PADDED = new Uint8Array(PADDED_MAX + Math.ceil((65535 * 145) / 8) + 64);

function decodeXorBits(d: Uint8Array, lowerExclusive: number, upper: number, out: SampleBuffer): number {
    const total = (d[0] << 8) | d[1];
    if (total === 0) {
        return 0;
    }
    out.reserve(total);
    const ots = out.ts;
    const ovs = out.vs;
    const n0 = out.n;
    let n = n0;
    let pos = 16;
    let byte = 0;
    let off = 0;
    let w = 0;

    // First timestamp: zigzag varint, byte aligned.
    let zz = 0;
    let mul = 1;
    for (;;) {
        const b = d[pos >>> 3];
        pos += 8;
        zz += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) {
            break;
        }
        mul *= 128;
    }
    let t = zz % 2 === 0 ? zz / 2 : -(zz - 1) / 2 - 1;
    let hi = ((d[pos >>> 3] << 24) | (d[(pos >>> 3) + 1] << 16) | (d[(pos >>> 3) + 2] << 8) | d[(pos >>> 3) + 3]) >>> 0;
    pos += 32;
    let lo = ((d[pos >>> 3] << 24) | (d[(pos >>> 3) + 1] << 16) | (d[(pos >>> 3) + 2] << 8) | d[(pos >>> 3) + 3]) >>> 0;
    pos += 32;
    if (t > lowerExclusive && t <= upper && !(hi === STALE_HI && lo === STALE_LO)) {
        U32[HI] = hi;
        U32[LO] = lo;
        ots[n] = t;
        ovs[n] = F64[0];
        n++;
    }
    let tDelta = 0;
    let leading = 0;
    let trailing = 0;
    for (let i = 1; i < total && t <= upper; i++) {
        if (i === 1) {
            // Second timestamp: uvarint delta, byte aligned.
            let v = 0;
            let m = 1;
            for (;;) {
                const b = d[pos >>> 3];
                pos += 8;
                v += (b & 0x7f) * m;
                if ((b & 0x80) === 0) {
                    break;
                }
                m *= 128;
            }
            tDelta = v;
        } else {
            // Delta of delta: peek 4 prefix bits.
            byte = pos >>> 3;
            off = pos & 7;
            w = ((d[byte] << 8) | d[byte + 1]) << off;
            const p = (w >>> 12) & 0xf;
            let sz: number;
            if ((p & 8) === 0) {
                pos += 1;
                sz = 0;
            } else if ((p & 4) === 0) {
                pos += 2;
                sz = 14;
            } else if ((p & 2) === 0) {
                pos += 3;
                sz = 17;
            } else if ((p & 1) === 0) {
                pos += 4;
                sz = 20;
            } else {
                pos += 4;
                sz = 64;
            }
            if (sz !== 0) {
                let dod: number;
                byte = pos >>> 3;
                off = pos & 7;
                w = ((d[byte] << 24) | (d[byte + 1] << 16) | (d[byte + 2] << 8) | d[byte + 3]) >>> 0;
                if (off !== 0) {
                    w = ((w << off) | (d[byte + 4] >>> (8 - off))) >>> 0;
                }
                if (sz === 64) {
                    const dhi = w | 0;
                    pos += 32;
                    byte = pos >>> 3;
                    off = pos & 7;
                    w = ((d[byte] << 24) | (d[byte + 1] << 16) | (d[byte + 2] << 8) | d[byte + 3]) >>> 0;
                    if (off !== 0) {
                        w = ((w << off) | (d[byte + 4] >>> (8 - off))) >>> 0;
                    }
                    pos += 32;
                    dod = dhi * 4294967296 + w;
                } else {
                    dod = w >>> (32 - sz);
                    pos += sz;
                    if (dod > 1 << (sz - 1)) {
                        dod -= 1 << sz;
                    }
                }
                tDelta += dod;
            }
        }
        t += tDelta;

        // Value: XOR with the previous one.
        if (((d[pos >>> 3] >>> (7 - (pos & 7))) & 1) === 0) {
            pos += 1;
        } else {
            pos += 1;
            const reuse = ((d[pos >>> 3] >>> (7 - (pos & 7))) & 1) === 0;
            pos += 1;
            if (!reuse) {
                // 5 bits leading, 6 bits significant.
                byte = pos >>> 3;
                off = pos & 7;
                w = (((d[byte] << 16) | (d[byte + 1] << 8) | d[byte + 2]) << off) >>> 0;
                leading = (w >>> 19) & 0x1f;
                let sig = (w >>> 13) & 0x3f;
                pos += 11;
                if (sig === 0) {
                    sig = 64;
                }
                trailing = 64 - leading - sig;
            }
            const sig = 64 - leading - trailing;
            let dh = 0;
            let dl = 0;
            // Read `sig` bits as (dh, dl): high part first when sig > 32.
            let first = sig > 32 ? sig - 32 : sig;
            byte = pos >>> 3;
            off = pos & 7;
            w = ((d[byte] << 24) | (d[byte + 1] << 16) | (d[byte + 2] << 8) | d[byte + 3]) >>> 0;
            if (off !== 0) {
                w = ((w << off) | (d[byte + 4] >>> (8 - off))) >>> 0;
            }
            const part = first === 32 ? w : w >>> (32 - first);
            pos += first;
            if (sig > 32) {
                dh = part;
                first = 32;
                byte = pos >>> 3;
                off = pos & 7;
                w = ((d[byte] << 24) | (d[byte + 1] << 16) | (d[byte + 2] << 8) | d[byte + 3]) >>> 0;
                if (off !== 0) {
                    w = ((w << off) | (d[byte + 4] >>> (8 - off))) >>> 0;
                }
                dl = w;
                pos += 32;
            } else {
                dl = part;
            }
            if (trailing === 0) {
                hi = (hi ^ dh) >>> 0;
                lo = (lo ^ dl) >>> 0;
            } else if (trailing >= 32) {
                hi = (hi ^ (trailing === 32 ? dl : dl << (trailing - 32))) >>> 0;
            } else {
                hi = (hi ^ ((dh << trailing) | (dl >>> (32 - trailing)))) >>> 0;
                lo = (lo ^ (dl << trailing)) >>> 0;
            }
        }
        if (t > lowerExclusive && t <= upper && !(hi === STALE_HI && lo === STALE_LO)) {
            U32[HI] = hi;
            U32[LO] = lo;
            ots[n] = t;
            ovs[n] = F64[0];
            n++;
        }
    }
    out.n = n;
    return n - n0;
}

let primeXorDecoderDone = false;

/**
 * A small chunk through the decoder before the first harvest (once per thread), so V8 optimizes it with feedback
 * for every branch (each delta-of-delta width, repeated values, reused and new XOR windows with more and fewer than
 * 32 significant bits): otherwise the first rare branch after optimization throws the optimized code away and it is
 * compiled again. Samples (t, v): 1000…5000010000 with every delta-of-delta bucket, values -0.1 (both 32-bit halves
 * above 2^31), -0.1, 2, 2.5, 1e300, -3.75, 123456.789, 123456.788, 7, 0.1, 0.2, 0.30000000000000004, NaN, 8.
 */
export function primeXorDecoder(): void {
    if (primeXorDecoderDone) {
        return;
    }
    primeXorDecoderDone = true;
    const chunk = Buffer.from("AA7QD7+5mZmZmZma0A8wf/9zMzMzMzM1AAIAAAAAAAC4lI+M+Q8iAB1nYTJFfHPIeRAA6zuQqzMAEB4EgZP3ztk8y50QAAAAACDc"
        + "rO+AAAAAlPYAsEAcRIGTdLxqn/////2sErAhP9LMzMzMzM0gBwAAAAAAAAgAGABqqqqqqqq6//pAKzMzMzMzNIABj/YAAAAAAAAA", "base64");
    const out = new SampleBuffer(64);
    // V8 starts recording a function's feedback only after its first few calls.
    for (let i = 0; i < 16; i++) {
        out.clear();
        decodeXorChunk(chunk, -Infinity, Infinity, out);
    }
}
