import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PartWriter } from "../../harvester/parts";
import fc from "fast-check";
import { TimestampFormatter, csvField, writeCsv, writeValue } from "../../harvester/writers/csv";
import { writeJson } from "../../harvester/writers/json";
import { ParquetTableWriter } from "../../harvester/writers/parquet";
import { formatValue, labelColumns } from "../../harvester/writers/table";
import { parseCsv, python } from "./reference";

describe("harvester/writers", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-w-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("quotes CSV fields per RFC 4180 and formats timestamps and specials", () => {
        assert.equal(csvField("plain ü"), "plain ü");
        assert.equal(csvField("a,b"), "\"a,b\"");
        assert.equal(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert.equal(csvField("l1\nl2"), "\"l1\nl2\"");
        const tf = new TimestampFormatter();
        assert.equal(tf.format(Date.UTC(2024, 0, 1, 0, 0, 5, 7)), "2024-01-01T00:00:05.007Z");
        assert.equal(tf.format(Date.UTC(2024, 0, 1, 0, 0, 59, 999)), "2024-01-01T00:00:59.999Z");
        assert.equal(tf.format(Date.UTC(2024, 0, 1, 0, 1, 0, 0)), "2024-01-01T00:01:00.000Z");
        assert.equal(tf.format(-1), "1969-12-31T23:59:59.999Z");
        assert.deepEqual([NaN, Infinity, -Infinity, -0, 1e-7, 0.1].map(formatValue), ["NaN", "+Inf", "-Inf", "-0", "1e-7", "0.1"]);
    });

    it("property: the CSV byte fast path prints values exactly like formatValue", () => {
        const buf = Buffer.alloc(64);
        const check = (v: number): void => {
            const end = writeValue(buf, 0, v);
            assert.equal(buf.toString("latin1", 0, end), formatValue(v));
        };
        [0.001, 0.1, 1.5, 123.456, -0.125, 999999999999.999, 1e12, 0.0001, 5e-324, 2 ** 53].forEach(check);
        fc.assert(fc.property(fc.oneof(fc.double(), fc.integer({ min: -1e9, max: 1e9 }).map((x) => x / 1000), fc.integer().map((x) => x / 8)), (v) => check(v)), { numRuns: 2000 });
    });

    it("property: CSV rows carry the timestamps TimestampFormatter prints, across minutes, days and any year", async () => {
        // Runs of samples a few ms to hours apart (rows of one minute share their head), from anywhere in Date's range.
        const run = fc.tuple(fc.integer({ min: -8.64e15 + 1e9, max: 8.64e15 - 1e12 }),
            fc.array(fc.oneof(fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 0, max: 7.2e6 })), { minLength: 1, maxLength: 60 }));
        let k = 0;
        await fc.assert(fc.asyncProperty(fc.array(run, { minLength: 1, maxLength: 4 }), fc.boolean(), async (runs, year2024) => {
            const p = path.join(dir, `ts-${k++}.part`);
            const w = new PartWriter(p);
            const tf = new TimestampFormatter();
            const want: string[] = [];
            runs.forEach(([t0, gaps], s) => {
                let t = year2024 ? Date.UTC(2024, 0, 1) + (t0 % 4e10) : t0;
                const ts = gaps.map((g) => (t += g));
                want.push(...ts.map((x) => `q,m,${tf.format(x)},1.5,${s}`));
                w.append(w.seriesId(String(s), () => ({ __name__: "m", s: String(s) })), Float64Array.from(ts), new Float64Array(ts.length).fill(1.5), ts.length);
            });
            w.close();
            const out = path.join(dir, `ts-${k}.csv`);
            await writeCsv(out, { queries: [{ index: 0, query: "q", partPath: p }], errors: [], labelColumns: labelColumns(["s"]) });
            assert.deepEqual(fs.readFileSync(out, "latin1").split("\n").slice(1, -1), want);
            fs.rmSync(out);
            fs.rmSync(p);
        }), { numRuns: 300 });
    });

    it("renames label columns that collide with fixed columns", () => {
        assert.deepEqual(labelColumns(["__name__", "value", "job", "query", "label_value"]).map((c) => [c.label, c.column]),
            [["job", "job"], ["label_value", "label_value"], ["query", "label_query"], ["value", "label_label_value"]]);
    });

    it("streams parts into CSV and JSON, series by series, sparse labels empty", async () => {
        const p = path.join(dir, "0000.part");
        const w = new PartWriter(`${p}.tmp`);
        const a = w.seriesId("a", () => ({ __name__: "m", job: "x" }));
        const b = w.seriesId("b", () => ({ __name__: "m", pod: "p,1" }));
        w.append(a, Float64Array.of(1000, 2000), Float64Array.of(1, NaN), 2);
        w.append(b, Float64Array.of(1000), Float64Array.of(Infinity), 1);
        const mark = w.mark();
        w.append(a, Float64Array.of(9), Float64Array.of(9), 1);
        w.seriesId("c", () => ({ z: "1" }));
        w.rollback(mark);
        w.append(a, Float64Array.of(3000), Float64Array.of(-2.5), 1);
        w.commit(p);
        const input = { queries: [{ index: 0, query: "m", partPath: p }], errors: [{ index: 1, query: "bad(", error: "parse error" }], labelColumns: labelColumns(["__name__", "job", "pod"]) };
        const csv = path.join(dir, "o.csv");
        assert.equal(await writeCsv(csv, input), 4);
        assert.deepEqual(parseCsv(fs.readFileSync(csv, "utf8")), [
            ["query", "metric", "timestamp", "value", "job", "pod"],
            ["m", "m", "1970-01-01T00:00:01.000Z", "1", "x", ""],
            ["m", "m", "1970-01-01T00:00:02.000Z", "NaN", "x", ""],
            ["m", "m", "1970-01-01T00:00:03.000Z", "-2.5", "x", ""],
            ["m", "m", "1970-01-01T00:00:01.000Z", "+Inf", "", "p,1"],
        ]);
        const json = path.join(dir, "o.json");
        await writeJson(json, input);
        const doc = JSON.parse(fs.readFileSync(json, "utf8"));
        assert.deepEqual(doc.results, [{ query: "m", data: { status: "success", data: { resultType: "matrix", result: [
            { metric: { __name__: "m", job: "x" }, values: [[1, "1"], [2, "NaN"], [3, "-2.5"]] },
            { metric: { __name__: "m", pod: "p,1" }, values: [[1, "+Inf"]] },
        ] } } }]);
        assert.deepEqual(doc.errors, [{ query: "bad(", error: "parse error" }]);
        assert.equal(doc.total_queries, 1);
    });

    it("streams Parquet across row groups with label columns first seen in a later row group (null chunks)", async () => {
        const mk = (name: string, labels: Record<string, string>, n: number, t0: number): string => {
            const p = path.join(dir, `${name}.part`);
            const w = new PartWriter(`${p}.tmp`);
            const id = w.seriesId(name, () => labels);
            w.append(id, Float64Array.from({ length: n }, (_, i) => t0 + i * 1000), Float64Array.from({ length: n }, (_, i) => (i === 3 ? NaN : i / 2)), n);
            w.commit(p);
            return p;
        };
        const a = mk("a", { __name__: "ma", job: "j" }, 25, 0);
        const b = mk("b", { pod: "p,1", value: "v" }, 7, 5000);
        const out = path.join(dir, "o.parquet");
        const w = new ParquetTableWriter(out, "zstd", 10);
        await w.addQuery("ma", a);
        await w.addQuery("sum(mb)", b);
        assert.equal(await w.finish(labelColumns(["__name__", "job", "pod", "value"]), { k: "v" }), 32);
        const py = python(`
import sys, json, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
d = f.read().to_pydict()
print(json.dumps({"groups": f.metadata.num_row_groups, "cols": list(d.keys()),
  "rows": [[str(d[c][i]) if c in ("timestamp", "value") else d[c][i] for c in d] for i in (0, 3, 24, 25, 31)]}))`, [out]);
        assert.equal(py.groups, 4);
        assert.deepEqual(py.cols, ["query", "metric", "timestamp", "value", "job", "pod", "label_value"]);
        assert.deepEqual(py.rows, [
            ["ma", "ma", "1970-01-01 00:00:00+00:00", "0.0", "j", null, null],
            ["ma", "ma", "1970-01-01 00:00:03+00:00", "nan", "j", null, null],
            ["ma", "ma", "1970-01-01 00:00:24+00:00", "12.0", "j", null, null],
            ["sum(mb)", null, "1970-01-01 00:00:05+00:00", "0.0", null, "p,1", "v"],
            ["sum(mb)", null, "1970-01-01 00:00:11+00:00", "3.0", null, "p,1", "v"],
        ]);
    });
});
