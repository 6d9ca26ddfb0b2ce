/**
 * Recognises plain PromQL series selectors (`name`, `name{l="v", l2=~"re"}`, `{__name__="x"}`, Prometheus 3's
 * quoted names `{"a.b"="v"}`) and extracts their matchers, with the parser Prometheus's own UI uses
 * (@prometheus-io/lezer-promql). Anything else (functions, operators, offsets, ranges, `@`) is an expression:
 * `parseSelector` returns undefined for it. Raw mode needs selectors because it reads stored samples, not
 * evaluations.
 */
import type { SyntaxNode } from "@lezer/common";

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
    name: string;
    op: MatchOp;
    value: string;
}

export interface Selector {
    /** The metric name written before the braces (or as a quoted name inside them), if any. */
    metric?: string;
    /** All matchers, including `__name__="metric"` when the name was written on its own. */
    matchers: LabelMatcher[];
}

/**
 * Words the Go parser reads as keywords where lezer's grammar still accepts them as a bare identifier (`sum` alone
 * is a parse error in Prometheus, not the metric "sum").
 */
const KEYWORDS = new Set(["sum", "avg", "count", "min", "max", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "limitk", "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"]);

const SIMPLE_ESCAPES: Record<string, string> = {
    a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "'": "'", "\"": "\"",
};

/** The value of a PromQL string literal (Go escapes in "…" and '…', none in `…`); undefined if malformed. */
export function unquote(literal: string): string | undefined {
    const q = literal[0];
    if (literal.length < 2 || literal[literal.length - 1] !== q) {
        return undefined;
    }
    const body = literal.slice(1, -1);
    if (q === "`") {
        return body;
    }
    let out = "";
    for (let i = 0; i < body.length; i++) {
        const ch = body[i];
        if (ch !== "\\") {
            out += ch;
            continue;
        }
        const e = body[++i];
        if (e !== undefined && e in SIMPLE_ESCAPES) {
            out += SIMPLE_ESCAPES[e];
        } else if (e === "x" || e === "u" || e === "U") {
            const n = e === "x" ? 2 : e === "u" ? 4 : 8;
            const hex = body.slice(i + 1, i + 1 + n);
            if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) {
                return undefined;
            }
            i += n;
            out += e === "x" ? String.fromCharCode(parseInt(hex, 16)) : String.fromCodePoint(parseInt(hex, 16));
        } else if (e !== undefined && /[0-7]/.test(e)) {
            const oct = e + body.slice(i + 1, i + 3);
            if (!/^[0-7]{3}$/.test(oct)) {
                return undefined;
            }
            i += 2;
            out += String.fromCharCode(parseInt(oct, 8));
        } else {
            return undefined;
        }
    }
    return out;
}

type LezerParser = { parse(text: string): { topNode: SyntaxNode; iterate(spec: { enter: (n: { type: { isError: boolean } }) => void }): void } };
let lezer: LezerParser | undefined;

/** The PromQL parser, loaded on first use (the command's --help and --version do not need it). */
function promql(): LezerParser {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lezer ??= (require("@prometheus-io/lezer-promql") as { parser: LezerParser }).parser;
    return lezer;
}

function children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c !== null; c = c.nextSibling) {
        out.push(c);
    }
    return out;
}

/** Answers of parseSelector by query text: a harvest asks once when planning and again when it runs the query. */
const parsed = new Map<string, Selector | undefined>();

/** Returns the selector when `query` is a plain series selector, otherwise undefined. */
export function parseSelector(query: string): Selector | undefined {
    if (!parsed.has(query)) {
        if (parsed.size >= 10_000) {
            parsed.clear();
        }
        parsed.set(query, parseUncached(query));
    }
    const s = parsed.get(query);
    return s === undefined ? undefined : { metric: s.metric, matchers: s.matchers.map((m) => ({ ...m })) };
}

/** A bare metric name, the commonest raw-mode query: answered without loading the grammar. */
const BARE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function parseUncached(query: string): Selector | undefined {
    if (BARE_NAME.test(query)) {
        // What the grammar says of a bare identifier: a metric name, unless it is one of the keywords.
        return KEYWORDS.has(query.toLowerCase()) ? undefined : { metric: query, matchers: [{ name: "__name__", op: "=", value: query }] };
    }
    return parseWithGrammar(query);
}

/** parseSelector through the PromQL grammar alone (exported for the test that holds the bare-name path to it). */
export function parseWithGrammar(query: string): Selector | undefined {
    const tree = promql().parse(query);
    let broken = false;
    tree.iterate({ enter: (n) => { broken ||= n.type.isError; } });
    const top = children(tree.topNode);
    if (broken || top.length !== 1 || top[0].name !== "VectorSelector") {
        return undefined;
    }
    const text = (n: SyntaxNode | undefined): string => (n === undefined ? "" : query.slice(n.from, n.to));
    let metric: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of children(top[0])) {
        if (c.name === "Identifier") {
            metric = text(c);
            if (KEYWORDS.has(metric.toLowerCase())) {
                return undefined;
            }
            matchers.push({ name: "__name__", op: "=", value: metric });
            continue;
        }
        if (c.name !== "LabelMatchers") {
            return undefined;
        }
        for (const m of children(c)) {
            const parts = children(m);
            if (m.name === "QuotedLabelName") {
                // {"utf8.metric"}: a quoted metric name.
                const name = unquote(text(parts[0]));
                if (name === undefined) {
                    return undefined;
                }
                metric = name;
                matchers.push({ name: "__name__", op: "=", value: name });
                continue;
            }
            const nameNode = parts.find((p) => p.name === "LabelName" || p.name === "QuotedLabelName");
            const op = text(parts.find((p) => p.name === "MatchOp")) as MatchOp;
            const valueNode = parts.find((p) => p.name === "StringLiteral");
            const name = nameNode?.name === "QuotedLabelName" ? unquote(text(nameNode.firstChild ?? undefined)) : text(nameNode);
            const value = unquote(text(valueNode));
            if ((m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher") || name === undefined || name === ""
                || value === undefined || !["=", "!=", "=~", "!~"].includes(op)) {
                return undefined;
            }
            matchers.push({ name, op, value });
        }
    }
    if (matchers.length === 0) {
        return undefined;
    }
    return { metric, matchers };
}
