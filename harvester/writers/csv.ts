/**
 * CSV (RFC 4180): header query,metric,timestamp,value,<labels…>; timestamps ISO 8601 UTC with milliseconds;
 * fields with commas, quotes, CR or LF are quoted with doubled quotes; UTF-8 without BOM. The per-series part of
 * each row is rendered once per series, so the cost per sample is a timestamp, a value and a copy.
 */
import * as fs from "node:fs";
import { FIXED_COLUMNS, type LabelColumn, type TableInput, formatValue, seriesOf } from "./table";

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

/** Size of the pieces CSV is rendered and written in. */
export const CSV_CHUNK_BYTES = 1 << 20;

/** Writes ASCII `s` into buf at pos (numbers, timestamps: always ASCII). */
function ascii(buf: Uint8Array, pos: number, s: string): number {
    for (let i = 0; i < s.length; i++) {
        buf[pos + i] = s.charCodeAt(i);
    }
    return pos + s.length;
}

/** "00" … "99": two digits per division. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
    PAIRS[2 * i] = 48 + ((i / 10) | 0);
    PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** "000" … "999": the milliseconds of a timestamp. */
const MILLIS = new Uint8Array(3000);
for (let i = 0; i < 1000; i++) {
    MILLIS[3 * i] = 48 + ((i / 100) | 0);
    MILLIS[3 * i + 1] = 48 + (((i / 10) | 0) % 10);
    MILLIS[3 * i + 2] = 48 + (i % 10);
}

/** Writes the decimal digits of a non-negative integer < 2^53 (int32 arithmetic below 2^31: no float divisions). */
function digits(buf: Uint8Array, pos: number, x: number): number {
    if (x < 10) {
        buf[pos] = 48 + x;
        return pos + 1;
    }
    if (x <= 0x7fffffff) {
        let y = x | 0;
        const len = y < 100 ? 2 : y < 1000 ? 3 : y < 10000 ? 4 : y < 100000 ? 5 : y < 1000000 ? 6 : y < 10000000 ? 7
            : y < 100000000 ? 8 : y < 1000000000 ? 9 : 10;
        let i = pos + len;
        while (y >= 100) {
            const q = (y / 100) | 0;
            const r = (y - q * 100) << 1;
            buf[--i] = PAIRS[r + 1];
            buf[--i] = PAIRS[r];
            y = q;
        }
        if (y >= 10) {
            buf[--i] = PAIRS[(y << 1) + 1];
            buf[--i] = PAIRS[y << 1];
        } else {
            buf[--i] = 48 + y;
        }
        return pos + len;
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
export function writeValue(buf: Uint8Array, pos: number, v: number): number {
    const a = v < 0 ? -v : v;
    if (a < 1e12 && a >= 1e-3) {
        const x = Math.round(a * 1000);
        if (x / 1000 === a) {
            if (v < 0) {
                buf[pos++] = 45;
            }
            const int = Math.floor(x / 1000);
            const frac = (x - int * 1000) | 0;
            pos = digits(buf, pos, int);
            if (frac !== 0) {
                // .d, .dd or .ddd: the shortest form drops trailing zeros.
                const d1 = (frac / 100) | 0;
                const r = frac - d1 * 100;
                const d2 = (r / 10) | 0;
                const d3 = r - d2 * 10;
                buf[pos] = 46;
                buf[pos + 1] = 48 + d1;
                if (r === 0) {
                    return pos + 2;
                }
                buf[pos + 2] = 48 + d2;
                if (d3 === 0) {
                    return pos + 3;
                }
                buf[pos + 3] = 48 + d3;
                return pos + 4;
            }
            return pos;
        }
    }
    return ascii(buf, pos, formatValue(v));
}

/**
 * The 17 bytes "2024-01-01T00:00:" of a minute (epoch minutes), as Date#toISOString().slice(0, 17) spells them. The
 * date part comes from toISOString once per day; hours and minutes are plain arithmetic. Years outside 0000–9999
 * (toISOString writes them with six digits and a sign) take the slice itself.
 */
class MinutePrefix {
    private day = NaN;
    private readonly date = new Uint8Array(11);
    private plain = false;

    write(into: Uint8Array, at: number, minute: number): void {
        const day = Math.floor(minute / 1440);
        if (day !== this.day) {
            this.day = day;
            const iso = new Date(day * 86400000).toISOString();
            this.plain = iso.length === 24;
            for (let i = 0; i < 11; i++) {
                this.date[i] = iso.charCodeAt(i);
            }
        }
        if (!this.plain) {
            const iso = new Date(minute * 60000).toISOString();
            for (let i = 0; i < 17; i++) {
                into[at + i] = iso.charCodeAt(i);
            }
            return;
        }
        into.set(this.date, at);
        const m = minute - day * 1440;
        const h = (m / 60) | 0;
        const mm = m - h * 60;
        const h10 = (h / 10) | 0;
        const m10 = (mm / 10) | 0;
        into[at + 11] = 48 + h10;
        into[at + 12] = 48 + (h - h10 * 10);
        into[at + 13] = 58;
        into[at + 14] = 48 + m10;
        into[at + 15] = 48 + (mm - m10 * 10);
        into[at + 16] = 58;
    }
}

/**
 * Renders rows of one series into `buf` from sample `from` on, as many as fit below `limit`, and returns the next
 * sample index; the end position is left in `state.pos`. Everything the loop touches is a local (no closure
 * state), so V8 keeps it in registers. `head` holds the series prefix (query,metric,) followed by the 17 bytes of
 * the current minute (2024-01-01T00:00:), and `joint` the label suffix followed by that same head: between two rows
 * of one minute the end of the one and the start of the next are one native copy. Both are rebuilt only when the
 * minute changes; per row only the seconds, the milliseconds and the value are formatted.
 */
function renderRows(buf: Uint8Array, pos: number, limit: number, ts: Float64Array, vs: Float64Array, from: number,
    state: RowState, head: Uint8Array, joint: Uint8Array): number {
    const n = ts.length;
    const headLen = head.length;
    const jointLen = joint.length;
    const sufLen = jointLen - headLen;
    const minuteAt = headLen - 17;
    const room = limit - headLen - sufLen - 64;
    const prefix = state.prefix;
    const suffix = joint.subarray(0, sufLen);
    let minute = state.minute;
    let minuteStart = minute * 60000;
    let minuteEnd = minuteStart + 60000;
    // Whether the head of row i is already in the buffer (written with the previous row's joint).
    let headDone = false;
    let i = from;
    for (; i < n; i++) {
        if (pos > room) {
            break;
        }
        const t = ts[i];
        if (!headDone) {
            if (!(t >= minuteStart && t < minuteEnd)) {
                minute = Math.floor(t / 60000);
                minuteStart = minute * 60000;
                minuteEnd = minuteStart + 60000;
                prefix.write(head, minuteAt, minute);
                joint.set(head.subarray(minuteAt), sufLen + minuteAt);
            }
            buf.set(head, pos);
        }
        pos += headLen;
        const r = t - minuteStart;
        const ri = r | 0;
        if (ri === r) {
            // Whole milliseconds (always, from Prometheus): seconds and milliseconds from tables.
            const sec = (ri / 1000) | 0;
            const f3 = (ri - sec * 1000) * 3;
            buf[pos] = PAIRS[sec << 1];
            buf[pos + 1] = PAIRS[(sec << 1) + 1];
            buf[pos + 3] = MILLIS[f3];
            buf[pos + 4] = MILLIS[f3 + 1];
            buf[pos + 5] = MILLIS[f3 + 2];
        } else {
            const sec = Math.floor(r / 1000);
            const f = Math.round(r - sec * 1000) | 0;
            const s10 = ((sec | 0) / 10) | 0;
            const f10 = (f / 10) | 0;
            const f100 = (f10 / 10) | 0;
            buf[pos] = 48 + s10;
            buf[pos + 1] = 48 + (sec - s10 * 10);
            buf[pos + 3] = 48 + f100;
            buf[pos + 4] = 48 + (f10 - f100 * 10);
            buf[pos + 5] = 48 + (f - f10 * 10);
        }
        buf[pos + 2] = 46;
        buf[pos + 6] = 90;
        buf[pos + 7] = 0x2c;
        const v = vs[i];
        // Integers (counters) straight to digits; everything else through writeValue.
        pos = v >= 1 && v <= 0x7fffffff && (v | 0) === v ? digits(buf, pos + 8, v) : writeValue(buf, pos + 8, v);
        // The next row starts at pos + sufLen: when it is of this minute and fits, write its head with the suffix.
        const next = i + 1 < n ? ts[i + 1] : NaN;
        headDone = pos + sufLen <= room && next >= minuteStart && next < minuteEnd;
        if (headDone) {
            buf.set(joint, pos);
        } else {
            buf.set(suffix, pos);
        }
        pos += sufLen;
    }
    state.minute = minute;
    state.pos = pos;
    return i;
}

interface RowState {
    minute: number;
    pos: number;
    prefix: MinutePrefix;
}

/** Calls that make V8 record a function's type feedback (it allocates the feedback after the first few). */
export const WARM_UP_CALLS = 16;

let primeCsvRowsDone = false;

/**
 * A few rows through renderRows before the first harvest (once per thread), so V8's type feedback already covers
 * integer, decimal and special values and a minute change: otherwise the first decimal value after optimization (a
 * gauge after a counter) throws the optimized code away and it is compiled again.
 */
export function primeCsvRows(): void {
    if (primeCsvRowsDone) {
        return;
    }
    primeCsvRowsDone = true;
    const head = Buffer.from("q,m,1970-01-01T00:00:");
    const joint = Buffer.concat([Buffer.from(",x\n"), head]);
    const ts = Float64Array.of(0, 1000, 59999, 60000, 61500);
    const vs = Float64Array.of(1, 123456, 2.5, -0.125, NaN);
    const state: RowState = { minute: NaN, pos: 0, prefix: new MinutePrefix() };
    const buf = new Uint8Array(4096);
    // V8 starts recording a function's feedback only after its first few calls.
    for (let i = 0; i < WARM_UP_CALLS; i++) {
        state.minute = NaN;
        renderRows(buf, 0, buf.length, ts, vs, 0, state, head, joint);
    }
}

/**
 * Renders the rows of one query's part file into chunks of at most CSV_CHUNK_BYTES (the memory comes from `take`,
 * so a caller can recycle written chunks). Used on the main thread and inside worker threads alike.
 */
export class CsvRenderer {
    rows = 0;
    private readonly state: RowState = { minute: NaN, pos: 0, prefix: new MinutePrefix() };

    constructor(readonly labelColumns: LabelColumn[],
        private readonly take: (min: number) => Uint8Array = (min) => new Uint8Array(Math.max(CSV_CHUNK_BYTES, min))) {}

    /** Yields filled chunks (each a view of a buffer from `take`, owned by the consumer from then on). */
    *render(query: string, partPath: string): Generator<Uint8Array> {
        const state = this.state;
        let buf: Uint8Array | undefined;
        let pos = 0;
        for (const s of seriesOf({ queries: [{ index: 0, query, partPath }], errors: [], labelColumns: [] })) {
            const prefix = Buffer.from(`${csvField(s.query)},${csvField(s.labels.__name__ ?? "")},`, "utf8");
            const suffix = Buffer.from(this.labelColumns.map((c) => "," + csvField(s.labels[c.label] ?? "")).join("") + "\n", "utf8");
            const head = Buffer.alloc(prefix.length + 17);
            head.set(prefix, 0);
            const joint = Buffer.alloc(suffix.length + head.length);
            joint.set(suffix, 0);
            joint.set(prefix, suffix.length);
            state.minute = NaN;
            // Longest possible row: head + seconds.millis (7) + comma + value (≤ 25) + suffix.
            const maxRow = head.length + suffix.length + 64;
            for (const b of s.blocks) {
                const { ts, vs } = s.reader.readBlock(b);
                let i = 0;
                while (i < ts.length) {
                    if (buf === undefined || pos + maxRow > buf.length) {
                        if (buf !== undefined && pos > 0) {
                            yield buf.subarray(0, pos);
                        }
                        buf = this.take(maxRow);
                        pos = 0;
                    }
                    i = renderRows(buf, pos, buf.length, ts, vs, i, state, head, joint);
                    pos = state.pos;
                }
                this.rows += ts.length;
            }
        }
        if (buf !== undefined && pos > 0) {
            yield buf.subarray(0, pos);
        }
    }
}

/** Sequential writer of whole buffers: a write is in flight on the thread pool while the next buffer is filled. */
class BufferedFile {
    private offset = 0;
    private inFlight: Promise<void> = Promise.resolve();
    readonly spare: Uint8Array[] = [];
    constructor(private readonly fd: number) {}

    /** A buffer to fill (a recycled one when available). */
    take(min: number): Uint8Array {
        const b = this.spare.pop();
        return b !== undefined && b.length >= min ? b : new Uint8Array(Math.max(CSV_CHUNK_BYTES, min));
    }

    /** Queues `chunk` for writing; resolves once at most one write is still in flight. `done` runs once written. */
    async push(chunk: Uint8Array, done: (chunk: Uint8Array) => void = (c) => this.recycle(c)): Promise<void> {
        const previous = this.inFlight;
        const at = this.offset;
        this.offset += chunk.length;
        this.inFlight = previous.then(() => writeAll(this.fd, chunk, at)).then(() => done(chunk));
        await previous;
    }

    drain(): Promise<void> {
        return this.inFlight;
    }

    private recycle(chunk: Uint8Array): void {
        if (chunk.byteOffset === 0 && chunk.buffer.byteLength >= CSV_CHUNK_BYTES && this.spare.length < 4) {
            this.spare.push(new Uint8Array(chunk.buffer as ArrayBuffer));
        }
    }
}

function writeAll(fd: number, buf: Uint8Array, at: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const step = (done: number): void => {
            if (done >= buf.length) {
                resolve();
                return;
            }
            fs.write(fd, buf, done, buf.length - done, at + done, (err, n) => (err ? reject(err) : step(done + n)));
        };
        step(0);
    });
}

/** Renders one query's rows somewhere else (a worker thread) and hands the chunks over in order. */
export type RemoteCsvRender = (query: string, partPath: string, labelColumns: LabelColumn[],
    onChunk: (chunk: Uint8Array, release: () => void) => Promise<void>) => Promise<number>;

/**
 * Streams the table into a CSV file: the label columns are fixed up front (they are in the header), then
 * addQuery() per successful query in output order (may run while later queries are still being fetched). With
 * `remote`, the rows are rendered by a worker thread and only written here.
 */
export class CsvTableWriter {
    private readonly fd: number;
    private readonly out: BufferedFile;
    private readonly renderer: CsvRenderer;
    rows = 0;

    constructor(readonly path: string, readonly labelColumns: LabelColumn[], private readonly remote?: RemoteCsvRender) {
        this.fd = fs.openSync(path, "w");
        this.out = new BufferedFile(this.fd);
        this.renderer = new CsvRenderer(labelColumns, (min) => this.out.take(min));
        const header = Buffer.from([...FIXED_COLUMNS, ...labelColumns.map((c) => c.column)].map(csvField).join(",") + "\n", "utf8");
        void this.out.push(header, () => undefined);
    }

    /** Appends the rows of one query's part file. Calls must not overlap (await each). */
    async addQuery(query: string, partPath: string): Promise<void> {
        if (this.remote !== undefined) {
            this.rows += await this.remote(query, partPath, this.labelColumns, (chunk, release) => this.out.push(chunk, release));
            return;
        }
        const before = this.renderer.rows;
        for (const chunk of this.renderer.render(query, partPath)) {
            await this.out.push(chunk);
        }
        this.rows += this.renderer.rows - before;
    }

    /** Writes what is buffered and closes the file. Returns the row count. */
    async finish(): Promise<number> {
        try {
            await this.out.drain();
        } finally {
            await this.abort();
        }
        return this.rows;
    }

    /** Closes the file (after a failure the caller removes it). */
    async abort(): Promise<void> {
        await this.out.drain().catch(() => undefined);
        try {
            fs.closeSync(this.fd);
        } catch {
            // already closed
        }
    }
}

export async function writeCsv(path: string, input: TableInput, remote?: RemoteCsvRender): Promise<number> {
    const w = new CsvTableWriter(path, input.labelColumns, remote);
    try {
        for (const q of input.queries) {
            await w.addQuery(q.query, q.partPath);
        }
        return await w.finish();
    } catch (err) {
        await w.abort();
        throw err;
    }
}
