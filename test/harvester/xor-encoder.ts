/**
 * A straightforward (BigInt, bit-at-a-time) XOR chunk encoder following the TSDB chunk format, used only to test
 * the fast decoder against an independent implementation.
 */

class BitWriter {
    bytes: number[] = [];
    private bit = 0;
    writeBit(b: number): void {
        if (this.bit === 0) {
            this.bytes.push(0);
        }
        if (b) {
            this.bytes[this.bytes.length - 1] |= 0x80 >> this.bit;
        }
        this.bit = (this.bit + 1) % 8;
    }
    writeBits(v: bigint, n: number): void {
        for (let i = n - 1; i >= 0; i--) {
            this.writeBit(Number((v >> BigInt(i)) & 1n));
        }
    }
    writeByte(b: number): void {
        this.writeBits(BigInt(b), 8);
    }
}

function uvarintBytes(v: bigint): number[] {
    const out: number[] = [];
    let x = v;
    while (x >= 0x80n) {
        out.push(Number(x & 0x7fn) | 0x80);
        x >>= 7n;
    }
    out.push(Number(x));
    return out;
}

function floatBits(v: number): bigint {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, v);
    return dv.getBigUint64(0);
}

function clz64(x: bigint): number {
    let n = 0;
    for (let i = 63; i >= 0 && ((x >> BigInt(i)) & 1n) === 0n; i--) {
        n++;
    }
    return n;
}

function ctz64(x: bigint): number {
    let n = 0;
    for (let i = 0; i < 64 && ((x >> BigInt(i)) & 1n) === 0n; i++) {
        n++;
    }
    return n;
}

function bitRange(x: bigint, nbits: number): boolean {
    return -((1n << BigInt(nbits - 1)) - 1n) <= x && x <= 1n << BigInt(nbits - 1);
}

/** Encodes (t, bits) samples; values given as raw 64-bit patterns so stale-marker NaNs survive. */
export function encodeXorChunk(samples: [number, bigint][]): Uint8Array {
    const w = new BitWriter();
    w.writeBits(BigInt(samples.length), 16);
    let prevT = 0n;
    let prevV = 0n;
    let tDelta = 0n;
    let leading = 0xff;
    let trailing = 0;
    samples.forEach(([tn, v], i) => {
        const t = BigInt(tn);
        if (i === 0) {
            const zz = t >= 0n ? t << 1n : ((-t) << 1n) - 1n;
            for (const b of uvarintBytes(zz)) {
                w.writeByte(b);
            }
            w.writeBits(v, 64);
        } else {
            if (i === 1) {
                tDelta = t - prevT;
                for (const b of uvarintBytes(tDelta)) {
                    w.writeByte(b);
                }
            } else {
                const d = t - prevT;
                const dod = d - tDelta;
                tDelta = d;
                const mask = (n: number): bigint => BigInt.asUintN(n, dod);
                if (dod === 0n) {
                    w.writeBit(0);
                } else if (bitRange(dod, 14)) {
                    w.writeBits(0b10n, 2);
                    w.writeBits(mask(14), 14);
                } else if (bitRange(dod, 17)) {
                    w.writeBits(0b110n, 3);
                    w.writeBits(mask(17), 17);
                } else if (bitRange(dod, 20)) {
                    w.writeBits(0b1110n, 4);
                    w.writeBits(mask(20), 20);
                } else {
                    w.writeBits(0b1111n, 4);
                    w.writeBits(mask(64), 64);
                }
            }
            const delta = v ^ prevV;
            if (delta === 0n) {
                w.writeBit(0);
            } else {
                w.writeBit(1);
                let nl = clz64(delta);
                const nt = ctz64(delta);
                if (nl >= 32) {
                    nl = 31;
                }
                if (leading !== 0xff && nl >= leading && nt >= trailing) {
                    w.writeBit(0);
                    w.writeBits(delta >> BigInt(trailing), 64 - leading - trailing);
                } else {
                    leading = nl;
                    trailing = nt;
                    w.writeBit(1);
                    w.writeBits(BigInt(nl), 5);
                    const sig = 64 - nl - nt;
                    w.writeBits(BigInt(sig === 64 ? 0 : sig), 6);
                    w.writeBits(delta >> BigInt(nt), sig);
                }
            }
        }
        prevT = t;
        prevV = v;
    });
    return Uint8Array.from(w.bytes);
}

export { floatBits };
