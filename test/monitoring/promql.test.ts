import { strict as assert } from "node:assert";
import * as fc from "fast-check";

import { metricNames, prometheusErrors, withoutGrafanaVariables } from "../helpers/promql";
import { KNOWN_METRICS } from "./catalogue";

describe("PromQL (Prometheus's parser decides; lezer-promql finds metric names)", () => {
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
        ["rate(x[1h30m] @ end())", ["x"], "vector"], // the hand-written parser accepted `rate(x[1h30m]) @ end()`, which Prometheus refuses
        ['count_values("v", up)', ["up"], "vector"],
    ];
    for (const [expr, metrics] of valid) {
        it(`finds the metrics of ${expr}`, () => {
            assert.deepEqual(metricNames(expr), metrics);
        });
    }

    it("Prometheus itself accepts every one of them", () => {
        assert.deepEqual(prometheusErrors(valid.map(([expr]) => withoutGrafanaVariables(expr))), valid.map(() => undefined));
    });

    // Each with the words of Prometheus's own parser (promtool), which is what Mimir and Grafana users will see.
    const invalid: [string, RegExp][] = [
        ["rate(up)", /expected type range vector in call to function "rate"/],
        ["sum(up", /unclosed left parenthesis/],
        ["up{job=}", /in label matching, expected string/],
        ["rate(up[5m]", /unclosed left parenthesis/],
        ["foo(up)", /unknown function with name "foo"/],
        ["up[5m] + 1", /only scalar and instant vector/],
        ["{}", /at least one non-empty matcher/],
        ['{job=""}', /at least one non-empty matcher/],
        ['up{job="a"', /unexpected end of input inside braces/],
        ["sum by (x (up)", /in grouping opts, expected "," or "\)"/],
        ["up +", /unexpected end of input/],
        ["1 > 2", /must use BOOL modifier/],
        ['up{job=~"("}', /error parsing regexp/],
        ["topk(up)", /wrong number of arguments for aggregate expression/],
        ["rate(up[5x])", /bad duration syntax/],
        ['"a" + 1', /only scalar and instant vector/],
        ["(up)[5m]", /ranges only allowed for vector selectors/],
        ["up and 1", /set operator "and" not allowed in binary scalar expression/],
        ["abs(up, up)", /expected 1 argument\(s\) in call to "abs"/],
        ["up)", /unexpected right parenthesis/],
        ["'unterminated", /unterminated quoted string/],
        ["up{job=\"a\"}{x=\"b\"}", /unexpected "\{"/],
        ["sum by (a) (up) by (b)", /unexpected <by>/],
    ];
    it("Prometheus rejects every malformed one, saying why", () => {
        const errors = prometheusErrors(invalid.map(([expr]) => expr));
        invalid.forEach(([expr, message], i) => assert.match(errors[i] ?? "accepted", message, expr));
    });

    it("reports where the error is", () => {
        assert.match(prometheusErrors(["sum(rate(up[5m])) +"])[0] ?? "", /1:20: parse error/);
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

    it("Prometheus never accepts an expression with an unbalanced parenthesis (property)", () => {
        const exprs: string[] = [];
        fc.assert(fc.property(fc.constantFrom(...[...KNOWN_METRICS].slice(0, 20)), fc.integer({ min: 1, max: 3 }), (metric, extra) => {
            exprs.push(`${"(".repeat(extra)}sum(rate(${metric}[1m]))`);
        }), { numRuns: 50 });
        const errors = prometheusErrors(exprs);
        exprs.forEach((expr, i) => assert.match(errors[i] ?? "accepted", /unclosed left parenthesis/, expr));
    });
});
