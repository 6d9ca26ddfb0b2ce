import { strict as assert } from "node:assert";
import { parseSelector } from "../../harvester/selector";

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
});
