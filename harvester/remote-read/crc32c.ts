/** CRC-32C (Castagnoli), as used by the streamed remote-read frames. Slicing-by-8 table implementation. */

const POLY = 0x82f63b78;
const TABLES: Uint32Array[] = [];
(() => {
    const t0 = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) {
            c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
        }
        t0[n] = c >>> 0;
    }
    TABLES.push(t0);
    for (let k = 1; k < 8; k++) {
        const prev = TABLES[k - 1];
        const t = new Uint32Array(256);
        for (let n = 0; n < 256; n++) {
            t[n] = ((prev[n] >>> 8) ^ t0[prev[n] & 0xff]) >>> 0;
        }
        TABLES.push(t);
    }
})();

/** CRC-32C of bytes[start, end). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
    // Eight bytes per step, read as two little-endian words.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let crc = 0xffffffff;
    let i = start;
    while (end - i >= 8) {
        const a = crc ^ dv.getInt32(i, true);
        const b = dv.getInt32(i + 4, true);
        crc = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24]
            ^ t3[b & 0xff] ^ t2[(b >>> 8) & 0xff] ^ t1[(b >>> 16) & 0xff] ^ t0[b >>> 24];
        i += 8;
    }
    while (i < end) {
        crc = t0[(crc ^ bytes[i++]) & 0xff] ^ (crc >>> 8);
    }
    return (crc ^ 0xffffffff) >>> 0;
}
