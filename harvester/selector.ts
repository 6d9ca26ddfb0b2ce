/**
 * Recognises plain PromQL series selectors (`name`, `name{l="v", l2=~"re"}`, `{__name__="x"}`) and extracts
 * their matchers. Anything else (functions, operators, offsets, ranges) is an expression: `parseSelector`
 * returns undefined for it. Raw mode needs selectors because it reads stored samples, not evaluations.
 */

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
    name: string;
    op: MatchOp;
    value: string;
}

export interface Selector {
    /** The metric name written before the braces, if any. */
    metric?: string;
    /** All matchers, including `__name__="metric"` when the name was written before the braces. */
    matchers: LabelMatcher[];
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;
const KEYWORDS = new Set(["sum", "avg", "count", "min", "max", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "atan2", "inf", "nan"]);

class Cursor {
    i = 0;
    constructor(readonly s: string) {}
    ws(): void {
        while (this.i < this.s.length && /\s/.test(this.s[this.i])) {
            this.i++;
        }
    }
    peek(): string {
        return this.s[this.i] ?? "";
    }
    done(): boolean {
        return this.i >= this.s.length;
    }
}

function readIdent(c: Cursor, start: RegExp, rest: RegExp): string | undefined {
    if (!start.test(c.peek())) {
        return undefined;
    }
    const from = c.i;
    c.i++;
    while (!c.done() && rest.test(c.peek())) {
        c.i++;
    }
    return c.s.slice(from, c.i);
}

const SIMPLE_ESCAPES: Record<string, string> = {
    a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "'": "'", "\"": "\"",
};

function readString(c: Cursor): string | undefined {
    const q = c.peek();
    if (q !== "\"" && q !== "'" && q !== "`") {
        return undefined;
    }
    c.i++;
    let out = "";
    while (!c.done()) {
        const ch = c.s[c.i++];
        if (ch === q) {
            return out;
        }
        if (ch === "\\" && q !== "`") {
            const e = c.s[c.i++];
            if (e === undefined) {
                return undefined;
            }
            if (e in SIMPLE_ESCAPES) {
                out += SIMPLE_ESCAPES[e];
            } else if (e === "x" || e === "u" || e === "U") {
                const n = e === "x" ? 2 : e === "u" ? 4 : 8;
                const hex = c.s.slice(c.i, c.i + n);
                if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) {
                    return undefined;
                }
                c.i += n;
                out += e === "x" ? String.fromCharCode(parseInt(hex, 16)) : String.fromCodePoint(parseInt(hex, 16));
            } else if (/[0-7]/.test(e)) {
                const oct = e + c.s.slice(c.i, c.i + 2);
                if (!/^[0-7]{3}$/.test(oct)) {
                    return undefined;
                }
                c.i += 2;
                out += String.fromCharCode(parseInt(oct, 8));
            } else {
                return undefined;
            }
        } else {
            out += ch;
        }
    }
    return undefined;
}

function readOp(c: Cursor): MatchOp | undefined {
    const two = c.s.slice(c.i, c.i + 2);
    if (two === "!=" || two === "=~" || two === "!~") {
        c.i += 2;
        return two;
    }
    if (c.peek() === "=") {
        c.i++;
        return "=";
    }
    return undefined;
}

/** Returns the selector when `query` is a plain series selector, otherwise undefined. */
export function parseSelector(query: string): Selector | undefined {
    const c = new Cursor(query);
    c.ws();
    const metric = readIdent(c, NAME_START, NAME_CHAR);
    if (metric !== undefined && KEYWORDS.has(metric.toLowerCase())) {
        return undefined;
    }
    const matchers: LabelMatcher[] = [];
    if (metric !== undefined) {
        matchers.push({ name: "__name__", op: "=", value: metric });
    }
    c.ws();
    if (c.peek() === "{") {
        c.i++;
        for (;;) {
            c.ws();
            if (c.peek() === "}") {
                c.i++;
                break;
            }
            const name = readIdent(c, LABEL_START, LABEL_CHAR);
            if (name === undefined) {
                return undefined;
            }
            c.ws();
            const op = readOp(c);
            if (op === undefined) {
                return undefined;
            }
            c.ws();
            const value = readString(c);
            if (value === undefined) {
                return undefined;
            }
            matchers.push({ name, op, value });
            c.ws();
            if (c.peek() === ",") {
                c.i++;
                continue;
            }
            if (c.peek() === "}") {
                c.i++;
                break;
            }
            return undefined;
        }
    } else if (metric === undefined) {
        return undefined;
    }
    c.ws();
    if (!c.done() || matchers.length === 0) {
        return undefined;
    }
    return { metric, matchers };
}
