/**
 * A small PromQL lexer and parser: enough to reject malformed expressions (syntax and the basic type rules:
 * range vectors only where a function expects them, no strings in arithmetic, known functions with the right
 * argument count) and to extract every metric name an expression selects. Grafana template variables are
 * accepted inside strings (label values) and as range/step durations ($__rate_interval, $__interval, ${x}).
 */

export class PromQLError extends Error {
    constructor(message: string, readonly expression: string, readonly position: number) {
        super(`${message} at position ${position} in ${JSON.stringify(expression)}`);
        this.name = "PromQLError";
    }
}

type TokenKind =
    | "number" | "duration" | "string" | "ident" | "variable"
    | "(" | ")" | "{" | "}" | "[" | "]" | "," | ":" | "@"
    | "op" | "eq" | "eof";

interface Token {
    kind: TokenKind;
    text: string;
    pos: number;
}

const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const OPERATORS = ["==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">", "="];

/** Splits an expression into tokens (throws PromQLError on characters PromQL does not allow). */
export function tokenize(expr: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    const fail = (msg: string, at = i): never => {
        throw new PromQLError(msg, expr, at);
    };
    while (i < expr.length) {
        const c = expr[i];
        if (/\s/.test(c)) {
            i++;
            continue;
        }
        if (c === "#") { // comment to end of line
            while (i < expr.length && expr[i] !== "\n") {
                i++;
            }
            continue;
        }
        const start = i;
        if (c === '"' || c === "'" || c === "`") {
            i++;
            let value = "";
            while (i < expr.length && expr[i] !== c) {
                if (expr[i] === "\\" && c !== "`") {
                    i++;
                    if (i >= expr.length) {
                        break;
                    }
                }
                if (expr[i] === "\n" && c !== "`") {
                    fail("unterminated string", start);
                }
                value += expr[i];
                i++;
            }
            if (i >= expr.length) {
                fail("unterminated string", start);
            }
            i++;
            tokens.push({ kind: "string", text: value, pos: start });
            continue;
        }
        if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(expr[i + 1] ?? ""))) {
            const m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+(?:ms|s|m|h|d|w|y))+(?![0-9a-zA-Z_.])|\d*\.?\d+(?:[eE][+-]?\d+)?)/.exec(expr.slice(i));
            if (!m) {
                fail("malformed number");
            }
            const text = m![0];
            i += text.length;
            if (/[a-zA-Z_]/.test(expr[i] ?? "")) {
                fail(`malformed number or duration "${text}${expr[i]}"`, start);
            }
            tokens.push({ kind: DURATION_RE.test(text) ? "duration" : "number", text, pos: start });
            continue;
        }
        if (/[a-zA-Z_]/.test(c)) { // names may contain colons (recording rules) but not start with one here
            const m = /^[a-zA-Z_][a-zA-Z0-9_:]*/.exec(expr.slice(i))!;
            i += m[0].length;
            tokens.push({ kind: "ident", text: m[0], pos: start });
            continue;
        }
        if (c === "$") {
            const m = /^\$(?:\{[a-zA-Z_][a-zA-Z0-9_.:]*\}|[a-zA-Z_][a-zA-Z0-9_]*)/.exec(expr.slice(i));
            if (!m) {
                fail("malformed template variable");
            }
            i += m![0].length;
            tokens.push({ kind: "variable", text: m![0], pos: start });
            continue;
        }
        if ("(){}[],:@".includes(c)) {
            i++;
            tokens.push({ kind: c as TokenKind, text: c, pos: start });
            continue;
        }
        const op = OPERATORS.find((o) => expr.startsWith(o, i));
        if (op) {
            i += op.length;
            tokens.push({ kind: op === "=" ? "eq" : "op", text: op, pos: start });
            continue;
        }
        fail(`unexpected character ${JSON.stringify(c)}`);
    }
    tokens.push({ kind: "eof", text: "", pos: expr.length });
    return tokens;
}

export type ValueType = "scalar" | "vector" | "matrix" | "string";

interface Parsed {
    type: ValueType;
    /** A plain vector selector (a range may still be applied to it). */
    selector?: boolean;
}

const AGGREGATIONS: Record<string, "none" | "scalar" | "string"> = {
    sum: "none", avg: "none", min: "none", max: "none", count: "none", group: "none", stddev: "none", stdvar: "none",
    topk: "scalar", bottomk: "scalar", quantile: "scalar", limitk: "scalar", limit_ratio: "scalar", count_values: "string",
};

type Arg = "scalar" | "vector" | "matrix" | "string";
interface FunctionSig {
    args: Arg[];
    /** How many trailing args are optional. */
    optional?: number;
    /** The last arg repeats (label_join). */
    variadic?: boolean;
    returns: ValueType;
}

const fn = (args: Arg[], returns: ValueType = "vector", optional = 0, variadic = false): FunctionSig => ({ args, returns, optional, variadic });
const rangeFns = ["rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets", "avg_over_time",
    "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "stddev_over_time", "stdvar_over_time",
    "last_over_time", "present_over_time", "absent_over_time", "mad_over_time"];
const mathFns = ["abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn", "sort", "sort_desc", "timestamp",
    "absent", "deg", "rad", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev", "histogram_stdvar"];
const dateFns = ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"];

export const FUNCTIONS: Record<string, FunctionSig> = {
    ...Object.fromEntries(rangeFns.map((n) => [n, fn(["matrix"])])),
    ...Object.fromEntries(mathFns.map((n) => [n, fn(["vector"])])),
    ...Object.fromEntries(dateFns.map((n) => [n, fn(["vector"], "vector", 1)])),
    quantile_over_time: fn(["scalar", "matrix"]),
    predict_linear: fn(["matrix", "scalar"]),
    holt_winters: fn(["matrix", "scalar", "scalar"]),
    double_exponential_smoothing: fn(["matrix", "scalar", "scalar"]),
    round: fn(["vector", "scalar"], "vector", 1),
    clamp: fn(["vector", "scalar", "scalar"]),
    clamp_min: fn(["vector", "scalar"]),
    clamp_max: fn(["vector", "scalar"]),
    histogram_quantile: fn(["scalar", "vector"]),
    histogram_fraction: fn(["scalar", "scalar", "vector"]),
    label_replace: fn(["vector", "string", "string", "string", "string"]),
    label_join: fn(["vector", "string", "string", "string"], "vector", 1, true),
    scalar: fn(["vector"], "scalar"),
    vector: fn(["scalar"]),
    time: fn([], "scalar"),
    pi: fn([], "scalar"),
};

const PRECEDENCE: Record<string, number> = {
    or: 1, and: 2, unless: 2,
    "==": 3, "!=": 3, "<": 3, ">": 3, "<=": 3, ">=": 3,
    "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, atan2: 5, "^": 6,
};
const COMPARISONS = new Set(["==", "!=", "<", ">", "<=", ">="]);
const SET_OPS = new Set(["and", "or", "unless"]);

class Parser {
    private i = 0;
    readonly metrics = new Set<string>();

    constructor(private readonly expr: string, private readonly tokens: Token[]) {}

    private peek(offset = 0): Token {
        return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
    }

    private next(): Token {
        const t = this.peek();
        this.i++;
        return t;
    }

    private fail(message: string, token = this.peek()): never {
        throw new PromQLError(message, this.expr, token.pos);
    }

    private expect(kind: TokenKind, what: string = kind): Token {
        const t = this.peek();
        if (t.kind !== kind) {
            this.fail(`expected ${what}, found ${t.kind === "eof" ? "end of expression" : JSON.stringify(t.text)}`);
        }
        return this.next();
    }

    private isKeyword(word: string, offset = 0): boolean {
        const t = this.peek(offset);
        return t.kind === "ident" && t.text.toLowerCase() === word;
    }

    parseRoot(): Parsed {
        const result = this.parseExpr(1);
        if (this.peek().kind !== "eof") {
            this.fail(`unexpected ${JSON.stringify(this.peek().text)}`);
        }
        return result;
    }

    private binaryOp(): string | undefined {
        const t = this.peek();
        if (t.kind === "op" && t.text in PRECEDENCE) {
            return t.text;
        }
        if (t.kind === "ident" && ["and", "or", "unless", "atan2"].includes(t.text.toLowerCase())) {
            return t.text.toLowerCase();
        }
        return undefined;
    }

    private parseExpr(minPrec: number): Parsed {
        let left = this.parseUnary();
        for (;;) {
            const op = this.binaryOp();
            if (!op || PRECEDENCE[op] < minPrec) {
                return left;
            }
            const opToken = this.next();
            let returnBool = false;
            if (this.isKeyword("bool")) {
                if (!COMPARISONS.has(op)) {
                    this.fail("bool modifier can only be used on comparison operators");
                }
                this.next();
                returnBool = true;
            }
            let matching = false;
            if (this.isKeyword("on") || this.isKeyword("ignoring")) {
                this.next();
                this.parseLabelList();
                matching = true;
                if (this.isKeyword("group_left") || this.isKeyword("group_right")) {
                    if (SET_OPS.has(op)) {
                        this.fail("no grouping allowed for set operations");
                    }
                    this.next();
                    if (this.peek().kind === "(") {
                        this.parseLabelList();
                    }
                }
            }
            const right = this.parseExpr(op === "^" ? PRECEDENCE[op] : PRECEDENCE[op] + 1);
            left = this.combine(op, left, right, returnBool, matching, opToken);
        }
    }

    private combine(op: string, l: Parsed, r: Parsed, returnBool: boolean, matching: boolean, at: Token): Parsed {
        for (const side of [l, r]) {
            if (side.type === "string" || side.type === "matrix") {
                this.fail(`binary expression must contain only scalar and instant vector types, found ${side.type}`, at);
            }
        }
        if (SET_OPS.has(op) && (l.type !== "vector" || r.type !== "vector")) {
            this.fail(`set operator "${op}" needs instant vectors on both sides`, at);
        }
        if (COMPARISONS.has(op) && l.type === "scalar" && r.type === "scalar" && !returnBool) {
            this.fail("comparisons between scalars must use the bool modifier", at);
        }
        if (matching && (l.type !== "vector" || r.type !== "vector")) {
            this.fail("vector matching only allowed between instant vectors", at);
        }
        return { type: l.type === "vector" || r.type === "vector" ? "vector" : "scalar" };
    }

    private parseUnary(): Parsed {
        const t = this.peek();
        if (t.kind === "op" && (t.text === "-" || t.text === "+")) {
            this.next();
            const operand = this.parseExpr(PRECEDENCE["^"]);
            if (operand.type !== "scalar" && operand.type !== "vector") {
                this.fail(`unary expression only allowed on scalars and instant vectors, found ${operand.type}`, t);
            }
            return { type: operand.type };
        }
        return this.parsePostfix(this.parsePrimary());
    }

    private parseDurationLike(what: string): void {
        const t = this.peek();
        if (t.kind === "duration" || t.kind === "number" || t.kind === "variable") {
            this.next();
            return;
        }
        this.fail(`expected ${what}`);
    }

    private parsePostfix(base: Parsed): Parsed {
        let result = base;
        for (;;) {
            const t = this.peek();
            if (t.kind === "[") {
                this.next();
                this.parseDurationLike("a range duration");
                if (this.peek().kind === ":") { // subquery [range:step]
                    this.next();
                    if (this.peek().kind !== "]") {
                        this.parseDurationLike("a subquery step");
                    }
                    this.expect("]");
                    if (result.type !== "vector") {
                        this.fail(`subquery is only allowed on instant vectors, found ${result.type}`, t);
                    }
                } else {
                    this.expect("]");
                    if (!result.selector) {
                        this.fail("ranges are only allowed on vector selectors (use a subquery [range:step])", t);
                    }
                }
                result = { type: "matrix" };
            } else if (this.isKeyword("offset")) {
                this.next();
                if (this.peek().kind === "op" && this.peek().text === "-") {
                    this.next();
                }
                this.parseDurationLike("an offset duration");
                if (result.type !== "vector" && result.type !== "matrix") {
                    this.fail("offset modifier must be preceded by a selector or subquery", t);
                }
            } else if (t.kind === "@") {
                this.next();
                if (this.peek().kind === "number") {
                    this.next();
                } else if (this.isKeyword("start") || this.isKeyword("end")) {
                    this.next();
                    this.expect("(");
                    this.expect(")");
                } else {
                    this.fail("expected a timestamp, start() or end() after @");
                }
            } else {
                return result;
            }
        }
    }

    private parseLabelList(): string[] {
        this.expect("(", "(");
        const labels: string[] = [];
        while (this.peek().kind !== ")") {
            labels.push(this.expect("ident", "a label name").text);
            if (this.peek().kind === ",") {
                this.next();
            } else {
                break;
            }
        }
        this.expect(")", ")");
        return labels;
    }

    /** Parses `{matchers}`; returns the metric name a `__name__="…"` matcher gives, if any. */
    private parseMatchers(named: boolean): string | undefined {
        this.expect("{");
        let name: string | undefined;
        let nonEmpty = named;
        while (this.peek().kind !== "}") {
            const label = this.expect("ident", "a label name");
            const op = this.peek();
            if (!(op.kind === "eq" || (op.kind === "op" && ["!=", "=~", "!~"].includes(op.text)))) {
                this.fail("expected a label matching operator (=, !=, =~, !~)");
            }
            this.next();
            const value = this.expect("string", "a quoted label value");
            if (label.text === "__name__" && op.kind === "eq") {
                name = value.text;
            }
            if (op.text === "=~" || op.text === "!~") {
                try {
                    // Grafana variables ($vertex, ${vertex}) are interpolated before the query runs.
                    new RegExp(`^(?:${value.text.replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, "x")})$`);
                } catch {
                    this.fail(`invalid regular expression ${JSON.stringify(value.text)}`, value);
                }
            }
            // A matcher that matches the empty string does not make a selector non-empty.
            const matchesEmpty = (op.kind === "eq" && value.text === "") || (op.text === "=~" && /^(\.\*|)$/.test(value.text));
            if (!matchesEmpty) {
                nonEmpty = true;
            }
            if (this.peek().kind === ",") {
                this.next();
            } else {
                break;
            }
        }
        this.expect("}", "}");
        if (!nonEmpty) {
            this.fail("vector selector must contain at least one non-empty matcher");
        }
        return name;
    }

    private parsePrimary(): Parsed {
        const t = this.peek();
        switch (t.kind) {
            case "number":
                this.next();
                return { type: "scalar" };
            case "string":
                this.next();
                return { type: "string" };
            case "(": {
                this.next();
                const inner = this.parseExpr(1);
                this.expect(")", ")");
                return { type: inner.type };
            }
            case "{": {
                const name = this.parseMatchers(false);
                if (name !== undefined) {
                    this.metrics.add(name);
                }
                return { type: "vector", selector: true };
            }
            case "ident":
                return this.parseIdentifier();
            case "duration":
                this.fail(`unexpected duration ${JSON.stringify(t.text)}`);
                break;
            case "variable":
                this.fail(`template variable ${t.text} is only supported in label values and durations`);
                break;
            default:
                this.fail(t.kind === "eof" ? "unexpected end of expression" : `unexpected ${JSON.stringify(t.text)}`);
        }
        return this.fail("unreachable");
    }

    private parseIdentifier(): Parsed {
        const t = this.next();
        const lower = t.text.toLowerCase();
        const nextKind = this.peek().kind;
        if (lower in AGGREGATIONS && (nextKind === "(" || this.isKeyword("by") || this.isKeyword("without"))) {
            return this.parseAggregation(lower);
        }
        if (nextKind === "(") {
            const sig = FUNCTIONS[t.text];
            if (!sig) {
                this.fail(`unknown function "${t.text}"`, t);
            }
            return this.parseCall(t, sig);
        }
        if ((lower === "inf" || lower === "nan") && nextKind !== "{") {
            return { type: "scalar" };
        }
        if (["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"].includes(lower)) {
            this.fail(`unexpected keyword "${t.text}"`, t);
        }
        this.metrics.add(t.text);
        if (this.peek().kind === "{") {
            const named = this.parseMatchers(true);
            if (named !== undefined && named !== t.text) {
                this.fail(`metric name given twice (${t.text} and ${named})`, t);
            }
        }
        return { type: "vector", selector: true };
    }

    private parseAggregation(op: string): Parsed {
        const grouping = () => {
            if (this.isKeyword("by") || this.isKeyword("without")) {
                this.next();
                this.parseLabelList();
                return true;
            }
            return false;
        };
        const before = grouping();
        this.expect("(", "(");
        const param = AGGREGATIONS[op];
        if (param !== "none") {
            const p = this.parseExpr(1);
            if (p.type !== param) {
                this.fail(`expected ${param} parameter for ${op}, found ${p.type}`);
            }
            this.expect(",", ",");
        }
        const arg = this.parseExpr(1);
        if (arg.type !== "vector") {
            this.fail(`expected instant vector in aggregation ${op}, found ${arg.type}`);
        }
        this.expect(")", ")");
        const after = grouping();
        if (before && after) {
            this.fail(`${op} has two grouping clauses`);
        }
        return { type: "vector" };
    }

    private parseCall(name: Token, sig: FunctionSig): Parsed {
        this.expect("(");
        const args: Parsed[] = [];
        while (this.peek().kind !== ")") {
            args.push(this.parseExpr(1));
            if (this.peek().kind === ",") {
                this.next();
            } else {
                break;
            }
        }
        this.expect(")", ")");
        const min = sig.args.length - (sig.optional ?? 0);
        const max = sig.variadic ? Infinity : sig.args.length;
        if (args.length < min || args.length > max) {
            this.fail(`function "${name.text}" expects ${min === max ? min : `${min} to ${max === Infinity ? "any" : max}`} argument(s), got ${args.length}`, name);
        }
        args.forEach((a, k) => {
            const want = sig.args[Math.min(k, sig.args.length - 1)];
            if (a.type !== want) {
                this.fail(`function "${name.text}" argument ${k + 1} must be ${want === "matrix" ? "a range vector" : `a ${want}`}, found ${a.type}`, name);
            }
        });
        return { type: sig.returns };
    }
}

export interface ParsedQuery {
    /** The expression's value type. */
    type: ValueType;
    /** Metric names selected, sorted, deduplicated. */
    metrics: string[];
}

/** Parses a PromQL expression; throws PromQLError when it is malformed. */
export function parsePromQL(expr: string): ParsedQuery {
    const parser = new Parser(expr, tokenize(expr));
    const root = parser.parseRoot();
    return { type: root.type, metrics: [...parser.metrics].sort() };
}

/** The metric names an expression selects (throws PromQLError when it is malformed). */
export function metricNames(expr: string): string[] {
    return parsePromQL(expr).metrics;
}
