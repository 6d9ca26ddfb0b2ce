/**
 * The command line end to end: exit codes and messages, the server killed mid-run then --resume, and --stack
 * reaching Prometheus through a Kubernetes-style API-server service proxy (HTTPS, bearer token, CA from the
 * kubeconfig) and a tenant-checking gateway.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../harvester/cli";
import { freePort, startPrometheus, type TestPrometheus } from "../helpers/prometheus";
import { startProxy } from "../helpers/prometheus-proxy";
import { T0, T_END, fixtureFamilies } from "./fixture";
import { directRange, directRaw, labelKey, parseCsv, sameSamples, type SeriesMap } from "./reference";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "charon-harvest.js");

function run(args: string[], o: { command?: string[]; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const [cmd, ...pre] = o.command ?? [process.execPath, BIN];
        const child = spawn(cmd, [...pre, ...args], { cwd: o.cwd ?? ROOT, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

async function inProcess(args: string[], readStack?: Parameters<typeof main>[1]["readStack"]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, {
        stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } },
        nowMs: T_END, readStack,
    });
    return { code, stdout, stderr };
}

/** CSV rows of one query as a series map keyed like the references. */
function csvSeries(file: string, query: string): SeriesMap {
    const rows = parseCsv(fs.readFileSync(file, "utf8"));
    const header = rows[0];
    const m: SeriesMap = new Map();
    for (const r of rows.slice(1)) {
        if (r[0] !== query) {
            continue;
        }
        const labels: Record<string, string> = {};
        if (r[1] !== "") {
            labels.__name__ = r[1];
        }
        header.slice(4).forEach((h, i) => {
            if (r[4 + i] !== "") {
                labels[h] = r[4 + i];
            }
        });
        const k = labelKey(labels);
        const v = r[3] === "+Inf" ? Infinity : r[3] === "-Inf" ? -Infinity : Number(r[3]);
        m.set(k, [...(m.get(k) ?? []), [Date.parse(r[2]), v]]);
    }
    return m;
}

const ISO = (ms: number): string => new Date(ms).toISOString();

describe("harvester CLI", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-cli-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the bin runs the compiled bundle: no TypeScript loader or .ts file is loaded", async () => {
        const probe = path.join(dir, "probe.js");
        fs.writeFileSync(probe, [
            "const M = require('node:module'); const load = M._load; const seen = new Set();",
            "M._load = function (request, parent, isMain) { try { seen.add(M._resolveFilename(request, parent, isMain)); } catch {} return load.apply(this, arguments); };",
            "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...seen].filter((f) => /[\\/](tsx|typescript|ts-node)[\\/]/.test(f) || f.endsWith('.ts'))) + '\\n'));",
        ].join("\n"));
        const version = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
        const r = await run(["--version"], { command: [process.execPath, "--require", probe, BIN] });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `charon-harvest ${version}\n`);
        assert.match(r.stderr, /^LOADED \[\]$/m);
        const h = await run(["--help"], { command: [process.execPath, "--require", probe, BIN] });
        assert.match(h.stdout, /--at T\|now/);
        assert.match(h.stderr, /^LOADED \[\]$/m);
    });

    describe("exit code 2 with a clear message before any query runs", () => {
        it("unreachable URL (through the bin launcher)", async () => {
            const port = await freePort();
            const r = await run([`http://127.0.0.1:${port}`, "--query", "up", "--retries", "0", "--output", path.join(dir, "x.csv")]);
            assert.equal(r.code, 2);
            assert.match(r.stderr, new RegExp(`endpoint http://127\\.0\\.0\\.1:${port}/ is not usable: cannot reach http://127\\.0\\.0\\.1:${port}/api/v1/query: connect ECONNREFUSED`));
            assert.equal(fs.existsSync(path.join(dir, "x.csv.manifest.json")), false);
        });

        it("end before start, bad step, bad format, raw mode on an expression, no queries", async () => {
            const cases: [string[], RegExp][] = [
                [["--start", "2024-01-02T00:00:00Z", "--end", "2024-01-01T00:00:00Z"], /--end \(2024-01-01T00:00:00\.000Z\) is before --start \(2024-01-02T00:00:00\.000Z\)/],
                [["--step", "abc"], /--step: invalid duration "abc"/],
                [["--step", "0"], /--step must be greater than zero, got "0"/],
                [["--start", "yesterday"], /--start: invalid time "yesterday"/],
                [["--format", "xlsx"], /--format must be one of csv, parquet, json, got "xlsx"/],
                [["--mode", "raw", "--query", "rate(x[5m])"], /--mode raw .* query #2 "rate\(x\[5m\]\)" is an expression/],
                [["--concurrency", "0"], /--concurrency must be an integer ≥ 1, got "0"/],
                [["--bogus"], /unknown option --bogus/],
            ];
            for (const [extra, re] of cases) {
                const r = await inProcess(["http://127.0.0.1:1", "--query", "up", "--output", path.join(dir, "y.csv"), ...extra]);
                assert.equal(r.code, 2, extra.join(" "));
                assert.match(r.stderr, re);
            }
            const none = await inProcess(["http://127.0.0.1:1"]);
            assert.equal(none.code, 2);
            assert.match(none.stderr, /no queries given/);
        });
    });

    describe("server killed mid-run, then --resume", () => {
        let prom: TestPrometheus;
        before(async () => {
            prom = await startPrometheus({ families: fixtureFamilies() });
        });
        after(async () => prom?.stop());

        it("keeps finished queries, exits 1 listing the failed ones, and --resume completes the file", async () => {
            let rangeRequests = 0;
            const proxy = await startProxy({
                target: () => `http://127.0.0.1:${prom.port}`,
                fault: (r) => {
                    if (r.url.startsWith("/api/v1/query_range") && ++rangeRequests === 3) {
                        prom.kill();
                    }
                    return undefined;
                },
            });
            const queries = ["harvest_gauge", "harvest_special", "harvest_requests_total", "sum(harvest_gauge)"];
            const out = path.join(dir, "killed.csv");
            const args = [proxy.url, ...queries.flatMap((q) => ["--query", q]), "--mode", "range", "--step", "1m",
                "--start", ISO(T0), "--end", ISO(T_END), "--concurrency", "1", "--retries", "1", "--output", out];
            try {
                const first = await run(args);
                assert.equal(first.code, 1, first.stderr);
                assert.match(first.stderr, /2 of 4 queries failed:/);
                assert.match(first.stderr, /#3 harvest_requests_total: .*HTTP 502/);
                assert.match(first.stderr, /#4 sum\(harvest_gauge\): /);
                const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, "utf8"));
                assert.deepEqual(manifest.queries.map((q: any) => q.status), ["ok", "ok", "failed", "failed"]);
                assert.equal(manifest.status, "partial");

                await prom.restart();
                // Finished queries are intact and exact (checked against the restarted server directly).
                for (const q of queries.slice(0, 2)) {
                    sameSamples(csvSeries(out, q), await directRange(prom.url, q, T0, T_END, 60_000), q);
                }
                assert.equal(csvSeries(out, queries[2]).size, 0);

                const second = await run([...args, "--resume"]);
                assert.equal(second.code, 0, second.stderr);
                assert.match(second.stderr, /resuming: 2 of 4 queries already complete/);
                const resumed = JSON.parse(fs.readFileSync(`${out}.manifest.json`, "utf8"));
                assert.equal(resumed.status, "complete");
                assert.deepEqual(resumed.queries.map((q: any) => [q.status, q.resumed ?? false]), [["ok", true], ["ok", true], ["ok", false], ["ok", false]]);
                for (const q of queries) {
                    sameSamples(csvSeries(out, q), await directRange(prom.url, q, T0, T_END, 60_000), `${q} after resume`);
                }
                // Byte-identical to a fresh uninterrupted run.
                const fresh = path.join(dir, "fresh.csv");
                const f = await inProcess([prom.url, ...queries.flatMap((q) => ["--query", q]), "--mode", "range", "--step", "1m",
                    "--start", ISO(T0), "--end", ISO(T_END), "--output", fresh, "--quiet"]);
                assert.equal(f.code, 0);
                assert.equal(fs.readFileSync(out, "utf8"), fs.readFileSync(fresh, "utf8"));
                assert.equal(fs.existsSync(`${out}.parts`), false);
            } finally {
                await proxy.close();
            }
        });
    });

    describe("--stack through the API server's service proxy", () => {
        let prom: TestPrometheus;
        before(async () => {
            prom = await startPrometheus({ families: fixtureFamilies(), routePrefix: "/prometheus" });
        });
        after(async () => prom?.stop());

        it("reads endpoint, tenant, window and output from stack outputs and harvests through HTTPS with the kubeconfig's CA and token", async () => {
            const key = path.join(dir, "key.pem");
            const cert = path.join(dir, "cert.pem");
            execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
            const gateway = await startProxy({ target: () => `http://127.0.0.1:${prom.port}`, requireHeader: "X-Scope-OrgID" });
            const PREFIX = "/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy";
            const apiServer = await startProxy({
                target: () => gateway.url, tls: { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") },
                requireAuth: { bearerToken: "kube-token" }, rewrite: (u) => (u.startsWith(`${PREFIX}/`) ? u.slice(PREFIX.length) : undefined),
            });
            const kubeconfig = [
                "apiVersion: v1", "kind: Config", "current-context: dev",
                "clusters:", `- name: dev`, "  cluster:", `    server: ${apiServer.url}`,
                `    certificate-authority-data: ${fs.readFileSync(cert).toString("base64")}`,
                "users:", "- name: admin", "  user:", "    token: kube-token",
                "contexts:", "- name: dev", "  context:", "    cluster: dev", "    user: admin",
            ].join("\n");
            const results = path.join(dir, "results", "run-1") + "/";
            const windowEnd = T0 + 3600_000;
            const readStack = async (name: string, workDir: string): Promise<Record<string, unknown>> => {
                assert.equal(name, "dev");
                assert.equal(workDir, ROOT);
                return {
                    metricsQueryUrl: "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus",
                    metricsTenant: "team-a", kubeconfig,
                    experiments: { "run-1": { window: { start: ISO(T0), end: ISO(windowEnd) }, run: 1, resultsPath: results, workflow: "aps" } },
                };
            };
            try {
                const r = await inProcess(["--stack", "dev", "--experiment", "run-1", "--query", "harvest_requests_total", "--query", "harvest_gauge", "--quiet"], readStack);
                assert.equal(r.code, 0, r.stderr);
                const out = path.join(results, "metrics.csv");
                const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, "utf8"));
                assert.equal(manifest.endpoint, `${apiServer.url}${PREFIX}/prometheus`);
                assert.equal(manifest.tenant, "team-a");
                assert.equal(manifest.window.end, ISO(windowEnd));
                assert.deepEqual(manifest.queries.map((q: any) => q.mode), ["raw-remote-read", "raw-remote-read"]);
                const direct = `http://127.0.0.1:${prom.port}/prometheus`;
                for (const q of ["harvest_requests_total", "harvest_gauge"]) {
                    sameSamples(csvSeries(out, q), await directRaw(direct, q, T0, windowEnd), q);
                }
                assert.ok(apiServer.requests.length >= 3 && apiServer.requests.every((x) => x.headers.authorization === "Bearer kube-token"));
                assert.ok(gateway.requests.every((x) => x.headers["x-scope-orgid"] === "team-a"));

                const unknown = await inProcess(["--stack", "dev", "--experiment", "nope", "--query", "up"], readStack);
                assert.equal(unknown.code, 2);
                assert.match(unknown.stderr, /--experiment: stack "dev" has no experiment "nope" \(known: run-1\)/);
            } finally {
                await apiServer.close();
                await gateway.close();
            }
        });
    });

    describe("rough edges a new user meets", () => {
        let prom: TestPrometheus;
        before(async () => {
            prom = await startPrometheus({ families: fixtureFamilies() });
        });
        after(async () => prom?.stop());

        it("after a run with a relative window, the printed --resume hint works, and so does --resume alone", async () => {
            const out = path.join(dir, "relative.csv");
            const args = [prom.url, "--query", "harvest_gauge", "--query", "sum(", "--start", "-10m", "--output", out, "--retries", "0"];
            const first = await run(args);
            assert.equal(first.code, 1, first.stderr);
            const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, "utf8"));
            const hint = /rerun the same command with (--resume --start (\S+) --end (\S+)) \(or --resume alone/.exec(first.stderr);
            assert.ok(hint, first.stderr);
            assert.deepEqual([hint[2], hint[3]], [manifest.window.start, manifest.window.end]);
            await new Promise((r) => setTimeout(r, 1100)); // "now" has moved: -10m means another window now
            const again = await run([...args, ...hint[1].split(" ")]);
            assert.equal(again.code, 1, again.stderr);
            assert.doesNotMatch(again.stderr, /differs/);
            assert.match(again.stderr, /resuming: 1 of 2 queries already complete/);
            const alone = await run([prom.url, "--query", "harvest_gauge", "--query", "sum(", "--output", out, "--retries", "0", "--resume"]);
            assert.match(alone.stderr, /resuming: 1 of 2 queries already complete/);
            assert.doesNotMatch(alone.stderr, /differs/);
            const moved = await run([...args, "--resume"]);
            assert.equal(moved.code, 2);
            assert.match(moved.stderr, /^charon-harvest: --resume: .*relative\.csv\.manifest\.json was written for different settings: window differs \(manifest /m);
        });

        it("through npm run harvest from a subfolder, relative paths mean that subfolder", async () => {
            const sub = fs.mkdtempSync(path.join(dir, "sub-"));
            fs.writeFileSync(path.join(sub, "qq.txt"), "# two queries\nharvest_gauge\nharvest_special\n");
            const r = await run(["--", prom.url, "--queries-file", "qq.txt", "--output", "snap.csv", "--start", ISO(T0), "--end", ISO(T0 + 600_000), "--quiet"],
                { command: ["npm", "run", "--silent", "--prefix", ROOT, "harvest"], cwd: sub });
            assert.equal(r.code, 0, r.stderr);
            assert.ok(fs.existsSync(path.join(sub, "snap.csv")), "output written in the subfolder");
            assert.equal(fs.existsSync(path.join(ROOT, "snap.csv")), false);
            sameSamples(csvSeries(path.join(sub, "snap.csv"), "harvest_special"), await directRaw(prom.url, "harvest_special", T0, T0 + 600_000), "harvest_special");
        });

        it("--stack without any Pulumi CLI says so in one line (no spawn ENOENT dump)", async () => {
            const home = fs.mkdtempSync(path.join(dir, "home-"));
            const r = await run(["--stack", "dev", "--query", "up"], { env: { PATH: path.dirname(process.execPath), HOME: home } });
            assert.equal(r.code, 2);
            assert.match(r.stderr, new RegExp(`^charon-harvest: --stack dev: the Pulumi CLI is not on PATH and not installed in ${home.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\.pulumi/versions/\\d+\\.\\d+\\.\\d+ \\(where npm run up installs Pulumi \\d+\\.\\d+\\.\\d+\\); run npm run up once`));
            assert.doesNotMatch(r.stderr, /ENOENT|code: -2|at /);
            assert.equal(r.stderr.trim().split("\n").length, 2, r.stderr);
        });
    });
});
