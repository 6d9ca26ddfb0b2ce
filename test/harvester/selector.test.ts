import { strict as assert } from "node:assert";
import fc from "fast-check";
import { parseSelector, parseWithGrammar } from "../../harvester/selector";

describe("harvester/selector", () => {
    it("recognises plain selectors and extracts matchers", () => {
        assert.deepEqual(parseSelector("up"), { metric: "up", matchers: [{ name: "__name__", op: "=", value: "up" }] });
        assert.deepEqual(parseSelector(' node_cpu_seconds_total{mode!="idle", cpu=~"0|1",} '), {
            metric: "node_cpu_seconds_total",
            matchers: [
                { name: "__name__", op: "=", value: "node_cpu_seconds_total" },
                { name: "mode", op: "!=", value: "idle" },
                { name: "cpu", op: "=~", value: "0|1" },
            ],
        });
        assert.deepEqual(parseSelector(`{__name__=~"a.*", note='say \\"hi\\"\\n'}`)?.matchers, [
            { name: "__name__", op: "=~", value: "a.*" },
            { name: "note", op: "=", value: "say \"hi\"\n" },
        ]);
        assert.deepEqual(parseSelector("x{a!~`raw\\d`}")?.matchers[1], { name: "a", op: "!~", value: "raw\\d" });
    });

    it("treats everything else as an expression", () => {
        for (const q of ["rate(x[5m])", "x[5m]", "x offset 5m", "sum(x)", "x + y", "1", "{}", "x{a=b}", "sum", "x @ 100", "x{a=\"b\""]) {
            assert.equal(parseSelector(q), undefined, q);
        }
    });

    it("reads Prometheus 3's quoted names and refuses what the PromQL grammar calls an expression or an error", () => {
        assert.deepEqual(parseSelector('{"utf8.metric", "a.b"="v"}'), {
            metric: "utf8.metric",
            matchers: [{ name: "__name__", op: "=", value: "utf8.metric" }, { name: "a.b", op: "=", value: "v" }],
        });
        assert.deepEqual(parseSelector('x{"quoted.name"!="\\x41"}')?.matchers[1], { name: "quoted.name", op: "!=", value: "A" });
        for (const q of ["-x", "x or y", "x{a=\"b\"}[5m:1m]", "x{a=\"b\"} offset -1m", "x{a=\"b\"}}", "count_values", "(x)"]) {
            assert.equal(parseSelector(q), undefined, q);
        }
    });

    it("property: a bare name is answered as the grammar answers it, keywords and grammar terms included", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const grammar = require("@prometheus-io/lezer-promql") as { parser: { nodeSet: { types: { name: string }[] } } };
        const terms = grammar.parser.nodeSet.types.flatMap((t) => [t.name, t.name.toLowerCase(), t.name.toUpperCase()]);
        const check = (q: string): void => assert.deepEqual(parseSelector(q), parseWithGrammar(q), q);
        [...terms, "start", "end", "rate", "Inf", "NaN", "nan", "inf", ":", "_", "a:b:c", "x1"].forEach(check);
        const ident = fc.tuple(fc.constantFrom(..."aAzZ_:bynst"), fc.array(fc.constantFrom(..."aZ09_:onfitdxm"), { maxLength: 12 }))
            .map(([h, t]) => h + t.join(""));
        fc.assert(fc.property(fc.oneof(ident, fc.constantFrom(...terms)), check), { numRuns: 2000 });
    });
});
