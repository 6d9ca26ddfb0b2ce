import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../harvester/harvest";
import { parseArgs, parseQueriesFile, resolveOptions } from "../../harvester/options";

const NOW = Date.UTC(2024, 0, 1, 12);
const noStack = async (): Promise<Record<string, unknown>> => {
    throw new Error("no stack in this test");
};
const resolve = (argv: string[]) => resolveOptions(parseArgs(argv), { nowMs: NOW, readStack: noStack });

describe("harvester/options", () => {
    it("parses repeatable queries with spaces and quotes, --flag=value and booleans", () => {
        const a = parseArgs(["http://p:9090", "--query", "sum by (pod) (rate(x{a=\"b c\"}[5m]))", "--query=up", "--header", "A: b", "--resume", "--quiet"]);
        assert.equal(a.url, "http://p:9090");
        assert.deepEqual(a.queries, ["sum by (pod) (rate(x{a=\"b c\"}[5m]))", "up"]);
        assert.deepEqual(a.headers, ["A: b"]);
        assert.equal(a.resume && a.quiet, true);
    });

    it("names the option in usage errors", () => {
        assert.throws(() => parseArgs(["--query"]), (e: unknown) => e instanceof UsageError && e.option === "--query" && /needs a value/.test(e.message));
        assert.throws(() => parseArgs(["--nope"]), /unknown option --nope/);
        assert.throws(() => parseArgs(["http://a", "up"]), /unexpected argument "up"/);
        assert.throws(() => parseArgs(["--resume=yes"]), /--resume takes no value/);
    });

    it("reads the original metrics.txt format", () => {
        assert.deepEqual(parseQueriesFile("# numaflow\nforwarder_read_total\n\n  # gpu\nDCGM_FI_DEV_GPU_UTIL  \r\n"), ["forwarder_read_total", "DCGM_FI_DEV_GPU_UTIL"]);
    });

    it("applies the original window defaults and infers the format from the output", async () => {
        const p = await resolve(["http://p", "--query", "up", "--output", "x.parquet"]);
        assert.equal(p.kind, "harvest");
        if (p.kind !== "harvest") {
            return;
        }
        assert.equal(p.options.format, "parquet");
        assert.equal(p.options.end, NOW);
        assert.equal(p.options.start, NOW - 3600_000);
        const s = await resolve(["http://p", "--query", "up", "--start", "-2h"]);
        assert.deepEqual(s.kind === "harvest" && [s.options.start, s.options.end, s.options.output, s.options.format], [NOW - 7_200_000, NOW, "metrics.csv", "csv"]);
        const e = await resolve(["http://p", "--query", "up", "--end", "2024-01-01T06:00:00Z", "--step", "15s"]);
        assert.deepEqual(e.kind === "harvest" && [e.options.start, e.options.end, e.options.step], [Date.UTC(2024, 0, 1, 5), Date.UTC(2024, 0, 1, 6), 15_000]);
    });

    it("builds auth headers and TLS from files", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-opt-"));
        try {
            fs.writeFileSync(path.join(dir, "tok"), "abc\n");
            fs.writeFileSync(path.join(dir, "basic"), "user:pa:ss\n");
            fs.writeFileSync(path.join(dir, "q.txt"), "# c\nup\nrate(x[1m])\n");
            const p = await resolve(["https://p/prometheus", "--queries-file", path.join(dir, "q.txt"), "--bearer-token-file", path.join(dir, "tok"),
                "--header", "X-A: 1", "--insecure-skip-verify", "--tenant", "t1"]);
            assert.ok(p.kind === "harvest");
            if (p.kind !== "harvest" || typeof p.options.endpoint === "string") {
                return;
            }
            assert.deepEqual(p.options.queries, ["up", "rate(x[1m])"]);
            assert.deepEqual(p.options.endpoint.headers, { "X-A": "1", Authorization: "Bearer abc" });
            assert.equal(p.options.endpoint.tls?.insecureSkipVerify, true);
            assert.equal(p.options.tenant, "t1");
            const b = await resolve(["http://p", "--query", "up", "--basic-auth-file", path.join(dir, "basic")]);
            assert.ok(b.kind === "harvest" && typeof b.options.endpoint !== "string"
                && b.options.endpoint.headers?.Authorization === `Basic ${Buffer.from("user:pa:ss").toString("base64")}`);
            await assert.rejects(resolve(["http://p", "--query", "up", "--ca-file", path.join(dir, "missing.pem")]), /--ca-file .*missing\.pem: no such file/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("rejects conflicting or invalid settings with the option and value", async () => {
        await assert.rejects(resolve(["http://p", "--stack", "dev", "--query", "up"]), /either a URL or --stack/);
        await assert.rejects(resolve(["--experiment", "e", "--query", "up"]), /--experiment needs --stack/);
        await assert.rejects(resolve(["--workflow", "w", "--query", "up"]), /--workflow needs --stack/);
        await assert.rejects(resolve(["--stack", "dev", "--workflow", "w", "--experiment", "e", "--query", "up"]), /give either --experiment or --workflow, not both/);
        await assert.rejects(resolve(["ftp://p", "--query", "up"]), /invalid URL "ftp:\/\/p": scheme must be http or https/);
        await assert.rejects(resolve(["http://p", "--query", "up", "--header", "novalue"]), /--header must look like Name:value, got "novalue"/);
        await assert.rejects(resolve(["http://p", "--query", "up", "--timeout", "-1s"]), /--timeout: invalid duration "-1s"/);
        await assert.rejects(resolve(["http://p", "--query", "up", "--retries", "x"]), /--retries must be an integer ≥ 0, got "x"/);
        await assert.rejects(resolve(["--stack", "dev", "--query", "up"]), /--stack dev: no stack in this test/);
    });
});
