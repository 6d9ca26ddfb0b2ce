import { strict as assert } from "node:assert";
import * as fc from "fast-check";
import { KNOWN_METRICS, PromQLError, metricNames, parsePromQL, tokenize } from "../../components/monitoring";

describe("PromQL parser", () => {
    const valid: [string, string[], string][] = [
        ['sum by (vertex) (rate(forwarder_read_total{pipeline="p", vertex=~"$vertex"}[$__rate_interval]))', ["forwarder_read_total"], "vector"],
        ['1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[1m]))', ["node_cpu_seconds_total"], "vector"],
        ["DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)", ["DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_FB_USED"], "vector"],
        ["histogram_quantile(0.99, sum by (le) (rate(forwarder_udf_processing_time_bucket[5m])))", ["forwarder_udf_processing_time_bucket"], "vector"],
        ["max_over_time(up[5m:30s])", ["up"], "vector"],
        ["rate(up[5m] offset 1h)", ["up"], "vector"],
        ['{__name__="up", job!=""}', ["up"], "vector"],
        ['label_replace(up, "a", "$1", "job", "(.*)")', ["up"], "vector"],
        ["count(up == 0) or vector(0)", ["up"], "vector"],
        ["sum(a) by (x) / on (x) group_left sum(b) by (x)", ["a", "b"], "vector"],
        ["up > bool 1", ["up"], "vector"],
        ["time() - node_boot_time_seconds", ["node_boot_time_seconds"], "vector"],
        ["topk(5, rate(x[1m]))", ["x"], "vector"],
        ["scalar(sum(up)) * 2", ["up"], "scalar"],
        ["-up ^ 2", ["up"], "vector"],
        ["1 + 2 * 3", [], "scalar"],
        ["level:metric:rate5m{job='a'}", ["level:metric:rate5m"], "vector"],
        ["rate(x[1h30m]) @ end()", ["x"], "vector"],
        ['count_values("v", up)', ["up"], "vector"],
    ];
    for (const [expr, metrics, type] of valid) {
        it(`parses ${expr}`, () => {
            assert.deepEqual(parsePromQL(expr), { type, metrics });
        });
    }

    const invalid: [string, RegExp][] = [
        ["rate(up)", /argument 1 must be a range vector/],
        ["sum(up", /expected \)/],
        ["up{job=}", /expected a quoted label value/],
        ["rate(up[5m]", /expected \)/],
        ["foo(up)", /unknown function "foo"/],
        ["up[5m] + 1", /only scalar and instant vector/],
        ["{}", /at least one non-empty matcher/],
        ['{job=""}', /at least one non-empty matcher/],
        ['up{job="a"', /expected \}/],
        ["sum by (x (up)", /expected \)/],
        ["up +", /unexpected end of expression/],
        ["1 > 2", /must use the bool modifier/],
        ['up{job=~"("}', /invalid regular expression/],
        ["topk(up)", /expected scalar parameter/],
        ["rate(up[5x])", /malformed number or duration/],
        ['"a" + 1', /found string/],
        ["(up)[5m]", /ranges are only allowed on vector selectors/],
        ["up and 1", /set operator "and" needs instant vectors/],
        ["abs(up, up)", /expects 1 argument/],
        ["$foo + up", /template variable \$foo is only supported/],
        ["up)", /unexpected "\)"/],
        ["'unterminated", /unterminated string/],
        ["up{job=\"a\"}{x=\"b\"}", /unexpected "\{"/],
        ["sum by (a) (up) by (b)", /two grouping clauses/],
    ];
    for (const [expr, message] of invalid) {
        it(`rejects ${expr}`, () => {
            assert.throws(() => parsePromQL(expr), (e: unknown) => e instanceof PromQLError && message.test(e.message));
        });
    }

    it("reports where the error is", () => {
        assert.throws(() => parsePromQL("sum(rate(up[5m])) +"), (e: unknown) => (e as PromQLError).position === 19);
    });

    it("tokenizes durations, numbers, strings and operators", () => {
        assert.deepEqual(tokenize('a[5m] > 1.5e3 =~ "x"').map((t) => `${t.kind}:${t.text}`),
            ["ident:a", "[:[", "duration:5m", "]:]", "op:>", "number:1.5e3", "op:=~", "string:x", "eof:"]);
    });

    it("finds the metric of any catalogued selector with any label matchers (property)", () => {
        const metrics = [...KNOWN_METRICS];
        const label = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/).filter((l) => l !== "__name__");
        const value = fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s));
        const matcher = fc.tuple(label, fc.constantFrom("=", "!="), value).map(([l, op, v]) => `${l}${op}${v}`);
        fc.assert(fc.property(fc.constantFrom(...metrics), fc.array(matcher, { maxLength: 4 }), fc.constantFrom("1m", "5m", "$__rate_interval"),
            (metric, matchers, range) => {
                const selector = matchers.length ? `${metric}{${matchers.join(", ")}}` : metric;
                assert.deepEqual(metricNames(`sum by (instance) (rate(${selector}[${range}]))`), [metric]);
                assert.deepEqual(metricNames(`${selector} / ignoring(x) up`), [...new Set([metric, "up"])].sort());
            }));
    });

    it("never accepts an expression with an unbalanced parenthesis (property)", () => {
        fc.assert(fc.property(fc.constantFrom(...[...KNOWN_METRICS].slice(0, 20)), fc.integer({ min: 1, max: 3 }), (metric, extra) => {
            const expr = `${"(".repeat(extra)}sum(rate(${metric}[1m]))`;
            assert.throws(() => parsePromQL(expr), PromQLError);
        }));
    });
});
