/**
 * CSV (RFC 4180): header query,metric,timestamp,value,<labels…>; timestamps ISO 8601 UTC with milliseconds;
 * fields with commas, quotes, CR or LF are quoted with doubled quotes; UTF-8 without BOM. The per-series part of
 * each row is rendered once per series, so the cost per sample is a timestamp, a value and a copy.
 */
import * as fs from "node:fs";
import { FIXED_COLUMNS, type TableInput, formatValue, seriesOf } from "./table";

export function csvField(s: string): string {
    if (/[",\r\n]/.test(s)) {
        return `"${s.replace(/"/g, "\"\"")}"`;
    }
    return s;
}

/** Formats epoch ms as 2024-01-01T00:00:00.000Z, caching the minute prefix. */
export class TimestampFormatter {
    private minute = NaN;
    private prefix = "";
    format(ms: number): string {
        const m = Math.floor(ms / 60000);
        if (m !== this.minute) {
            this.minute = m;
            this.prefix = new Date(m * 60000).toISOString().slice(0, 17);
        }
        const r = ms - m * 60000;
        const s = Math.floor(r / 1000);
        const f = Math.round(r - s * 1000);
        return `${this.prefix}${s < 10 ? "0" : ""}${s}.${f < 10 ? "00" : f < 100 ? "0" : ""}${f}Z`;
    }
}

const BUF_BYTES = 1 << 20;

/** Writes ASCII `s` into buf at pos (numbers, timestamps: always ASCII). */
function ascii(buf: Buffer, pos: number, s: string): number {
    for (let i = 0; i < s.length; i++) {
        buf[pos + i] = s.charCodeAt(i);
    }
    return pos + s.length;
}

/** Copies small byte arrays with a plain loop (cheaper than a native call for a few dozen bytes). */
function copy(buf: Buffer, pos: number, src: Uint8Array): number {
    const n = src.length;
    if (n > 64) {
        buf.set(src, pos);
        return pos + n;
    }
    for (let i = 0; i < n; i++) {
        buf[pos + i] = src[i];
    }
    return pos + n;
}

/** Writes the decimal digits of a non-negative integer < 2^53. */
function digits(buf: Buffer, pos: number, x: number): number {
    if (x < 10) {
        buf[pos] = 48 + x;
        return pos + 1;
    }
    let len = 0;
    for (let y = x; y >= 1; y = Math.floor(y / 10)) {
        len++;
    }
    let y = x;
    for (let i = len - 1; i >= 0; i--) {
        const q = Math.floor(y / 10);
        buf[pos + i] = 48 + (y - q * 10);
        y = q;
    }
    return pos + len;
}

/**
 * Writes a sample value exactly as formatValue would. Fast path: values with at most 3 decimals below 1e12
 * (their ≤3-decimal form is the unique, hence shortest, round-trip representation, as String() prints it).
 */
export function writeValue(buf: Buffer, pos: number, v: number): number {
    const a = v < 0 ? -v : v;
    if (a < 1e12 && a >= 1e-3) {
        const x = Math.round(a * 1000);
        if (x / 1000 === a) {
            if (v < 0) {
                buf[pos++] = 45;
            }
            const int = Math.floor(x / 1000);
            let frac = x - int * 1000;
            pos = digits(buf, pos, int);
            if (frac !== 0) {
                buf[pos++] = 46;
                let div = 100;
                while (frac !== 0) {
                    const d = Math.floor(frac / div);
                    buf[pos++] = 48 + d;
                    frac -= d * div;
                    div /= 10;
                }
            }
            return pos;
        }
    }
    return ascii(buf, pos, formatValue(v));
}

/** Writes epoch ms as 2024-01-01T00:00:00.000Z, caching the bytes of the minute prefix. */
class TimestampWriter {
    private minute = NaN;
    private readonly prefix = Buffer.alloc(17);
    write(buf: Buffer, pos: number, ms: number): number {
        const m = Math.floor(ms / 60000);
        if (m !== this.minute) {
            this.minute = m;
            this.prefix.write(new Date(m * 60000).toISOString().slice(0, 17), "latin1");
        }
        const p = this.prefix;
        for (let i = 0; i < 17; i++) {
            buf[pos + i] = p[i];
        }
        const r = ms - m * 60000;
        const s = Math.floor(r / 1000);
        const f = Math.round(r - s * 1000);
        buf[pos + 17] = 48 + Math.floor(s / 10);
        buf[pos + 18] = 48 + (s % 10);
        buf[pos + 19] = 46;
        buf[pos + 20] = 48 + Math.floor(f / 100);
        buf[pos + 21] = 48 + (Math.floor(f / 10) % 10);
        buf[pos + 22] = 48 + (f % 10);
        buf[pos + 23] = 90;
        return pos + 24;
    }
}

export async function writeCsv(path: string, input: TableInput): Promise<number> {
    const fd = fs.openSync(path, "w");
    let rows = 0;
    let buf = Buffer.allocUnsafe(BUF_BYTES);
    let pos = 0;
    let fileOffset = 0;
    const flush = (): void => {
        let done = 0;
        while (done < pos) {
            done += fs.writeSync(fd, buf, done, pos - done, fileOffset + done);
        }
        fileOffset += pos;
        pos = 0;
    };
    try {
        const header = Buffer.from([...FIXED_COLUMNS, ...input.labelColumns.map((c) => c.column)].map(csvField).join(",") + "\n", "utf8");
        if (header.length > buf.length) {
            buf = Buffer.allocUnsafe(header.length * 2);
        }
        buf.set(header, 0);
        pos = header.length;
        const tw = new TimestampWriter();
        for (const s of seriesOf(input)) {
            const prefix = Buffer.from(`${csvField(s.query)},${csvField(s.labels.__name__ ?? "")},`, "utf8");
            const suffix = Buffer.from(input.labelColumns.map((c) => "," + csvField(s.labels[c.label] ?? "")).join("") + "\n", "utf8");
            // Longest possible row: prefix + timestamp (24) + comma + value (≤ 25) + suffix.
            const maxRow = prefix.length + suffix.length + 64;
            if (maxRow > buf.length) {
                flush();
                buf = Buffer.allocUnsafe(maxRow * 2);
            }
            for (const b of s.blocks) {
                const { ts, vs } = s.reader.readBlock(b);
                for (let i = 0; i < ts.length; i++) {
                    if (pos + maxRow > buf.length) {
                        flush();
                    }
                    pos = copy(buf, pos, prefix);
                    pos = tw.write(buf, pos, ts[i]);
                    buf[pos++] = 0x2c;
                    pos = writeValue(buf, pos, vs[i]);
                    pos = copy(buf, pos, suffix);
                }
                rows += ts.length;
            }
        }
        flush();
    } finally {
        fs.closeSync(fd);
    }
    return rows;
}
