/**
 * A scanner for Prometheus query / query_range response bodies that reads samples straight from the bytes into
 * Float64Arrays (≈4× faster than JSON.parse + Number() on large bodies). Series labels (small objects) go through
 * JSON.parse. Sample values are strings in the API: "NaN", "+Inf" and "-Inf" are mapped explicitly
 * (Number("+Inf") is NaN in JavaScript); decimals take an exact fast path, anything else goes through Number().
 */

export interface ScannedSeries {
    labels: Record<string, string>;
    /** The raw JSON text of the labels object; equal text ⇔ equal labels for one server. */
    key: string;
    /** Sample timestamps in epoch milliseconds. */
    timestamps: Float64Array;
    values: Float64Array;
}

export interface ScanResult {
    status: string;
    resultType: string;
    /** The series (empty when they were handed to a SeriesSink instead). */
    series: ScannedSeries[];
    /** How many series the result held. */
    seriesCount: number;
    warnings: string[];
    errorType?: string;
    error?: string;
    /** Series that carried native histograms (not exported; reported as a warning). */
    histogramSeries: number;
}

const POW10: number[] = [];
for (let i = 0; i <= 22; i++) {
    POW10.push(10 ** i);
}

const Q = 0x22; // "
const BS = 0x5c; // backslash
const LB = 0x5b; // [
const RB = 0x5d; // ]
const LC = 0x7b; // {
const RC = 0x7d; // }
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * The value of four ASCII digits read as a little-endian uint32 (the first digit in the low byte), already checked
 * to be digits: pairs of digits combined in one step, then the two pairs.
 */
function fourDigits(w: number): number {
    const d = (w - 0x30303030) | 0;
    const pairs = ((d * 10) + (d >>> 8)) & 0x00ff00ff;
    return (pairs & 0xff) * 100 + (pairs >>> 16);
}

class ScanError extends Error {}

/** The body ended in the middle of the JSON (a response cut short): worth fetching again. */
export class TruncatedJsonError extends ScanError {}

class Scanner {
    i = 0;
    ts = new Float64Array(1024);
    vs = new Float64Array(1024);
    n = 0;
    /** Whether the last string passed to stringEnd() contained an escape. */
    escaped = false;
    /** The body as a DataView, for reading four digits at a time. */
    readonly dv: DataView;
    constructor(readonly b: Buffer) {
        this.dv = new DataView(b.buffer, b.byteOffset, b.length);
    }

    fail(what: string): never {
        if (this.i >= this.b.length) {
            throw new TruncatedJsonError(`malformed response JSON: the body ends at byte ${this.b.length} (${what})`);
        }
        const near = this.b.toString("utf8", Math.max(0, this.i - 20), Math.min(this.b.length, this.i + 20));
        throw new ScanError(`malformed response JSON at byte ${this.i}: ${what} (near ${JSON.stringify(near)})`);
    }

    ws(): number {
        const b = this.b;
        let i = this.i;
        let c = b[i];
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
            c = b[++i];
        }
        this.i = i;
        return c;
    }

    expect(ch: number): void {
        if (this.ws() !== ch) {
            this.fail(`expected '${String.fromCharCode(ch)}'`);
        }
        this.i++;
    }

    /** Index just past the closing quote of the string starting at this.i (which must be a quote). */
    stringEnd(): number {
        const b = this.b;
        let i = this.i + 1;
        this.escaped = false;
        for (;;) {
            const c = b[i];
            if (c === Q) {
                return i + 1;
            }
            if (c === BS) {
                this.escaped = true;
                i += 2;
            } else if (c === undefined) {
                this.i = i;
                this.fail("unterminated string");
            } else {
                i++;
            }
        }
    }

    readString(): string {
        if (this.ws() !== Q) {
            this.fail("expected a string");
        }
        const start = this.i;
        const end = this.stringEnd();
        this.i = end;
        if (this.escaped) {
            return JSON.parse(this.b.toString("utf8", start, end)) as string;
        }
        return this.b.toString("utf8", start + 1, end - 1);
    }

    /** Skips any JSON value, returning [start, end) of its text. */
    skipValue(): [number, number] {
        const c = this.ws();
        const start = this.i;
        if (c === Q) {
            this.i = this.stringEnd();
            return [start, this.i];
        }
        if (c === LC || c === LB) {
            let depth = 0;
            const b = this.b;
            let i = this.i;
            for (;;) {
                const d = b[i];
                if (d === undefined) {
                    this.i = i;
                    this.fail("unterminated value");
                }
                if (d === Q) {
                    this.i = i;
                    i = this.stringEnd();
                    continue;
                }
                if (d === LC || d === LB) {
                    depth++;
                } else if (d === RC || d === RB) {
                    depth--;
                    if (depth === 0) {
                        this.i = i + 1;
                        return [start, this.i];
                    }
                }
                i++;
            }
        }
        const b = this.b;
        let i = this.i;
        while (i < b.length && b[i] !== COMMA && b[i] !== RC && b[i] !== RB && b[i] !== 0x20 && b[i] !== 0x0a) {
            i++;
        }
        if (i === start) {
            this.fail("expected a value");
        }
        this.i = i;
        return [start, i];
    }

    /** Iterates object keys: calls onKey with the scanner positioned at the value; onKey must consume it. */
    object(onKey: (key: string) => void): void {
        this.expect(LC);
        if (this.ws() === RC) {
            this.i++;
            return;
        }
        for (;;) {
            const key = this.readString();
            this.expect(COLON);
            onKey(key);
            const c = this.ws();
            this.i++;
            if (c === RC) {
                return;
            }
            if (c !== COMMA) {
                this.i--;
                this.fail("expected ',' or '}'");
            }
        }
    }

    /** A JSON number of unix seconds (up to ms precision) → epoch ms. */
    timestampMs(): number {
        const b = this.b;
        let i = this.i;
        let neg = false;
        if (b[i] === 0x2d) {
            neg = true;
            i++;
        }
        let int = 0;
        let c = b[i];
        const digitsStart = i;
        while (c >= 0x30 && c <= 0x39) {
            int = int * 10 + (c - 0x30);
            c = b[++i];
        }
        if (i === digitsStart) {
            this.i = i;
            this.fail("expected a timestamp");
        }
        let ms = int * 1000;
        if (c === 0x2e) {
            c = b[++i];
            let scale = 100;
            let frac = 0;
            let extra = false;
            while (c >= 0x30 && c <= 0x39) {
                if (scale >= 1) {
                    frac += (c - 0x30) * scale;
                    scale /= 10;
                } else {
                    extra = true;
                }
                c = b[++i];
            }
            if (extra) {
                const start = this.i;
                this.i = i;
                return Math.round(Number(b.toString("latin1", start, i)) * 1000);
            }
            ms += frac;
        }
        if (c === 0x65 || c === 0x45) {
            const start = this.i;
            this.skipValue();
            return Math.round(Number(b.toString("latin1", start, this.i)) * 1000);
        }
        this.i = i;
        return neg ? -ms : ms;
    }

    /** A quoted sample value "…" → float64. */
    sampleValue(): number {
        const b = this.b;
        if (b[this.i] !== Q) {
            this.ws();
            if (b[this.i] !== Q) {
                this.fail("expected a quoted sample value");
            }
        }
        let i = this.i + 1;
        const start = i;
        let c = b[i];
        // Fast exact path: [-]digits[.digits] with ≤ 15 digits in total (Clinger: exact integer / exact 10^k).
        let neg = false;
        if (c === 0x2d) {
            neg = true;
            c = b[++i];
        }
        let mant = 0;
        let digits = 0;
        let scale = 0;
        while (c >= 0x30 && c <= 0x39) {
            mant = mant * 10 + (c - 0x30);
            digits++;
            c = b[++i];
        }
        if (c === 0x2e) {
            c = b[++i];
            while (c >= 0x30 && c <= 0x39) {
                mant = mant * 10 + (c - 0x30);
                digits++;
                scale++;
                c = b[++i];
            }
        }
        if (c === Q && digits > 0 && digits <= 15) {
            this.i = i + 1;
            const v = scale === 0 ? mant : mant / POW10[scale];
            return neg ? -v : v;
        }
        // Slow path: special values, exponents, long mantissas.
        while (c !== Q) {
            if (c === undefined) {
                this.i = i;
                this.fail("unterminated sample value");
            }
            c = b[++i];
        }
        this.i = i + 1;
        const text = b.toString("latin1", start, i);
        switch (text) {
            case "NaN":
                return NaN;
            case "+Inf":
            case "Inf":
                return Infinity;
            case "-Inf":
                return -Infinity;
        }
        const v = Number(text);
        if (Number.isNaN(v)) {
            this.i = start;
            this.fail(`invalid sample value "${text}"`);
        }
        return v;
    }

    grow(): void {
        const ts = new Float64Array(this.ts.length * 2);
        ts.set(this.ts);
        this.ts = ts;
        const vs = new Float64Array(this.vs.length * 2);
        vs.set(this.vs);
        this.vs = vs;
    }

    push(t: number, v: number): void {
        if (this.n === this.ts.length) {
            this.grow();
        }
        this.ts[this.n] = t;
        this.vs[this.n] = v;
        this.n++;
    }

    /** One [ts, "v"] pair. */
    pair(): void {
        this.expect(LB);
        this.ws();
        const t = this.timestampMs();
        this.expect(COMMA);
        const v = this.sampleValue();
        this.expect(RB);
        this.push(t, v);
    }

    /**
     * A `values` array [[ts,"v"],…]. The loop below reads the shape Prometheus writes (no whitespace, unix seconds
     * with up to 3 decimals, plain decimal values) with everything in locals; any other token is handed to the
     * general readers (timestampMs, sampleValue, pair), so every valid body still scans exactly as before.
     */
    pairs(): void {
        this.expect(LB);
        const b = this.b;
        let i = this.i;
        if (b[i] === RB) {
            this.i = i + 1;
            return;
        }
        let ts = this.ts;
        let vs = this.vs;
        let n = this.n;
        const dv = this.dv;
        const end = b.length;
        for (;;) {
            if (b[i] !== LB) {
                // Whitespace or something unusual: the general path for this pair.
                this.i = i;
                this.n = n;
                this.ws();
                this.pair();
                ts = this.ts;
                vs = this.vs;
                n = this.n;
                i = this.i;
            } else {
                i++;
                // Timestamp: integer seconds, optional fraction of at most 3 digits.
                let sec = 0;
                const d0 = i;
                if (i + 8 <= end) {
                    // Eight digits at once where they are (every unix time since 1973 has ten).
                    const w1 = dv.getUint32(i, true);
                    const w2 = dv.getUint32(i + 4, true);
                    if ((w1 & 0xf0f0f0f0) === 0x30303030 && (((w1 + 0x06060606) | 0) & 0xf0f0f0f0) === 0x30303030
                        && (w2 & 0xf0f0f0f0) === 0x30303030 && (((w2 + 0x06060606) | 0) & 0xf0f0f0f0) === 0x30303030) {
                        sec = fourDigits(w1) * 10000 + fourDigits(w2);
                        i += 8;
                    }
                }
                let c = b[i];
                while (c >= 0x30 && c <= 0x39) {
                    sec = sec * 10 + (c - 0x30);
                    c = b[++i];
                }
                let t = sec * 1000;
                let generic = i === d0 || i - d0 > 15;
                if (c === 0x2e && !generic) {
                    c = b[++i];
                    const f0 = i;
                    let f = 0;
                    while (c >= 0x30 && c <= 0x39) {
                        f = f * 10 + (c - 0x30);
                        c = b[++i];
                    }
                    const k = i - f0;
                    if (k === 1) {
                        t += f * 100;
                    } else if (k === 2) {
                        t += f * 10;
                    } else if (k === 3) {
                        t += f;
                    } else {
                        generic = true;
                    }
                }
                if (generic || c !== COMMA) {
                    this.i = d0;
                    this.ws();
                    t = this.timestampMs();
                    this.expect(COMMA);
                    this.ws();
                    i = this.i;
                } else {
                    i++;
                }
                // Value: "[-]digits[.digits]" with ≤ 15 digits is exact as mantissa / 10^k (Clinger's fast path).
                // sampleValue's fast path, inlined on purpose: this loop keeps the cursor in a local for the whole
                // series (one call per sample was the cost ccc4e50 removed); the slow path still goes through it.
                let v: number;
                if (b[i] !== Q) {
                    this.i = i;
                    v = this.sampleValue();
                    i = this.i;
                } else {
                    let j = i + 1;
                    c = b[j];
                    let neg = false;
                    if (c === 0x2d) {
                        neg = true;
                        c = b[++j];
                    }
                    let mant = 0;
                    let digits = 0;
                    let scale = 0;
                    while (c >= 0x30 && c <= 0x39) {
                        mant = mant * 10 + (c - 0x30);
                        digits++;
                        c = b[++j];
                    }
                    if (c === 0x2e) {
                        c = b[++j];
                        while (c >= 0x30 && c <= 0x39) {
                            mant = mant * 10 + (c - 0x30);
                            digits++;
                            scale++;
                            c = b[++j];
                        }
                    }
                    if (c === Q && digits > 0 && digits <= 15) {
                        v = scale === 0 ? mant : mant / POW10[scale];
                        if (neg) {
                            v = -v;
                        }
                        i = j + 1;
                    } else {
                        this.i = i;
                        v = this.sampleValue();
                        i = this.i;
                    }
                }
                if (b[i] === RB) {
                    i++;
                } else {
                    this.i = i;
                    this.expect(RB);
                    i = this.i;
                }
                if (n === ts.length) {
                    this.n = n;
                    this.grow();
                    ts = this.ts;
                    vs = this.vs;
                }
                ts[n] = t;
                vs[n] = v;
                n++;
            }
            const c = b[i];
            if (c === COMMA) {
                i++;
                continue;
            }
            if (c === RB) {
                this.i = i + 1;
                this.n = n;
                return;
            }
            this.i = i;
            this.n = n;
            const d = this.ws();
            this.i++;
            if (d === RB) {
                return;
            }
            if (d !== COMMA) {
                this.i--;
                this.fail("expected ',' or ']'");
            }
            i = this.i;
        }
    }
}

/**
 * Receives each series as it is scanned: its labels' JSON text (equal text ⇔ equal labels for one server), a
 * thunk parsing them, and views of the scanner's sample columns valid only during the call.
 */
export type SeriesSink = (key: string, labels: () => Record<string, string>, ts: Float64Array, vs: Float64Array, n: number) => void;

function emit(out: ScanResult, sink: SeriesSink | undefined, key: string, labels: Record<string, string> | undefined, s: Scanner, n: number): void {
    out.seriesCount++;
    if (sink !== undefined) {
        sink(key, () => labels ?? (JSON.parse(key) as Record<string, string>), s.ts.subarray(0, n), s.vs.subarray(0, n), n);
    } else {
        out.series.push({ labels: labels ?? (JSON.parse(key) as Record<string, string>), key, timestamps: s.ts.slice(0, n), values: s.vs.slice(0, n) });
    }
}

function scanSeries(s: Scanner, out: ScanResult, sink: SeriesSink | undefined): void {
    let key = "{}";
    let histograms = false;
    s.n = 0;
    s.object((k) => {
        switch (k) {
            case "metric": {
                const [a, b] = s.skipValue();
                key = s.b.toString("utf8", a, b);
                break;
            }
            case "values":
                s.pairs();
                break;
            case "value":
                s.pair();
                break;
            case "histograms":
            case "histogram":
                histograms = true;
                s.skipValue();
                break;
            default:
                s.skipValue();
        }
    });
    if (histograms) {
        out.histogramSeries++;
    }
    emit(out, sink, key, undefined, s, s.n);
}

function scanResult(s: Scanner, out: ScanResult, sink: SeriesSink | undefined): void {
    s.ws();
    const open = s.i;
    s.expect(LB);
    let c = s.ws();
    if (c === RB) {
        s.i++;
        return;
    }
    if (c !== LC) {
        // A scalar or string result: [ts, "v"].
        s.i = open;
        s.n = 0;
        if (out.resultType === "string") {
            s.skipValue();
            throw new ScanError("string results cannot be exported as samples");
        }
        s.pair();
        emit(out, sink, "{}", {}, s, 1);
        return;
    }
    for (;;) {
        scanSeries(s, out, sink);
        c = s.ws();
        s.i++;
        if (c === RB) {
            return;
        }
        if (c !== COMMA) {
            s.i--;
            s.fail("expected ',' or ']'");
        }
    }
}

/**
 * Scans a whole response body. Throws an Error with the position on malformed JSON (TruncatedJsonError when the
 * body ends inside it). With a sink, series are handed over as they are read instead of collected.
 */
export function scanResponse(body: Buffer, sink?: SeriesSink): ScanResult {
    const s = new Scanner(body);
    const out: ScanResult = { status: "", resultType: "", series: [], seriesCount: 0, warnings: [], histogramSeries: 0 };
    s.object((k) => {
        switch (k) {
            case "status":
                out.status = s.readString();
                break;
            case "errorType":
                out.errorType = s.readString();
                break;
            case "error":
                out.error = s.readString();
                break;
            case "warnings": {
                const [a, b] = s.skipValue();
                const w = JSON.parse(s.b.toString("utf8", a, b)) as unknown;
                if (Array.isArray(w)) {
                    out.warnings.push(...w.map(String));
                }
                break;
            }
            case "data":
                if (s.ws() !== LC) {
                    s.skipValue();
                    break;
                }
                s.object((dk) => {
                    if (dk === "resultType") {
                        out.resultType = s.readString();
                    } else if (dk === "result") {
                        scanResult(s, out, sink);
                    } else {
                        s.skipValue();
                    }
                });
                break;
            default:
                s.skipValue();
        }
    });
    return out;
}

let primeJsonScanDone = false;

/**
 * One small body through the scanner before the first harvest (once per thread), so the type feedback V8 optimizes
 * `pairs` with already covers the shapes every harvest meets (whole and fractional timestamps, integer, decimal,
 * negative and special values): otherwise the first decimal or negative value after optimization throws the
 * optimized code away and it is compiled again.
 */
export function primeJsonScan(): void {
    if (primeJsonScanDone) {
        return;
    }
    primeJsonScanDone = true;
    const body = Buffer.from(JSON.stringify({
        status: "success",
        data: { resultType: "matrix", result: [{ metric: { a: "b" }, values: [[1, "1"], [2.5, "-1.25"], [3, "NaN"], [4, "+Inf"], [5, "1e-7"], [1704067200, "50.378"]] }] },
    }));
    // V8 starts recording a function's feedback only after its first few calls.
    for (let i = 0; i < 16; i++) {
        scanResponse(body, () => undefined);
    }
}
