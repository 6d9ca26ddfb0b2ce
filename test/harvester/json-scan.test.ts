import { strict as assert } from "node:assert";
import fc from "fast-check";
import { scanResponse } from "../../harvester/json-scan";

function promValue(v: number): string {
    return Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v);
}

describe("harvester/json-scan", () => {
    it("reads a matrix with special values, ms timestamps, escapes and warnings", () => {
        const body = Buffer.from(JSON.stringify({
            status: "success",
            data: {
                resultType: "matrix",
                result: [
                    { metric: { __name__: "m", note: "a,\"b\"\nü" }, values: [[1704067200, "1"], [1704067200.5, "NaN"], [1704067201.123, "+Inf"], [1704067202, "-Inf"], [1704067203, "1e-07"], [1704067204, "-0.125"], [1704067205, "123456789012345678"]] },
                    { metric: {}, values: [] },
                ],
            },
            warnings: ["careful"],
        }, null, 1));
        const r = scanResponse(body);
        assert.equal(r.status, "success");
        assert.equal(r.resultType, "matrix");
        assert.deepEqual(r.warnings, ["careful"]);
        assert.deepEqual(r.series[0].labels, { __name__: "m", note: "a,\"b\"\nü" });
        assert.deepEqual([...r.series[0].timestamps], [1704067200000, 1704067200500, 1704067201123, 1704067202000, 1704067203000, 1704067204000, 1704067205000]);
        const v = [...r.series[0].values];
        assert.equal(v[0], 1);
        assert.ok(Number.isNaN(v[1]));
        assert.equal(v[2], Infinity);
        assert.equal(v[3], -Infinity);
        assert.equal(v[4], 1e-7);
        assert.equal(v[5], -0.125);
        assert.equal(v[6], Number("123456789012345678"));
        assert.equal(r.series[1].timestamps.length, 0);
    });

    it("reads vectors, scalars and error bodies", () => {
        const vec = scanResponse(Buffer.from('{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1.5,"2"]}]}}'));
        assert.deepEqual([...vec.series[0].timestamps, ...vec.series[0].values], [1500, 2]);
        const sc = scanResponse(Buffer.from('{"status":"success","data":{"resultType":"scalar","result":[10,"3.5"]}}'));
        assert.deepEqual([...sc.series[0].values], [3.5]);
        const err = scanResponse(Buffer.from('{"status":"error","errorType":"bad_data","error":"parse error"}'));
        assert.equal(err.errorType, "bad_data");
        assert.equal(err.error, "parse error");
    });

    it("rejects malformed bodies with a position", () => {
        assert.throws(() => scanResponse(Buffer.from('{"status":"success","data":{"result":[{"metric":{},"values":[[1,"x"]]}]}}')), /invalid sample value "x"/);
        assert.throws(() => scanResponse(Buffer.from('{"status":"success","data":{"result":[{"metric":{},"values":[[1,"2"]')), /malformed response JSON/);
    });

    it("property: equals JSON.parse + explicit ±Inf/NaN mapping, bit for bit", () => {
        const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.1, 1e-7, 1e21));
        const series = fc.record({
            metric: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 4 }),
            values: fc.array(fc.tuple(fc.integer({ min: 0, max: 4e9 }), fc.integer({ min: 0, max: 999 }), value), { maxLength: 30 }),
        });
        fc.assert(fc.property(fc.array(series, { maxLength: 6 }), (result) => {
            const json = JSON.stringify({
                status: "success",
                data: {
                    resultType: "matrix",
                    result: result.map((s) => ({ metric: s.metric, values: s.values.map(([sec, ms, v]) => [sec + ms / 1000, promValue(v)]) })),
                },
            });
            const r = scanResponse(Buffer.from(json));
            const parsed = JSON.parse(json) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
            assert.equal(r.series.length, parsed.data.result.length);
            parsed.data.result.forEach((s, i) => {
                assert.deepEqual(r.series[i].labels, s.metric);
                s.values.forEach(([t, v], j) => {
                    assert.equal(r.series[i].timestamps[j], Math.round(t * 1000));
                    const expected = v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
                    assert.ok(Object.is(r.series[i].values[j], expected), `${v} → ${r.series[i].values[j]}`);
                });
            });
        }), { numRuns: 300 });
    });
});
