import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { resizedResources } from "../../controllers/runtime/act";
import { parseLoopConfig } from "../../controllers/runtime/config";
import { extrapolatedRate } from "../../controllers/runtime/evaluate";
import { inClusterCredentials } from "../../controllers/runtime/kube-client";
import { ControlLoop } from "../../controllers/runtime/loop";
import { declareLoopMetrics, exportTick, tickLogLine } from "../../controllers/runtime/loop-metrics";
import { healthy, metricsServer } from "../../controllers/runtime/main";
import { CONTROLLER_METRIC_NAMES } from "../../controllers/runtime/metric-names";
import { podState } from "../../controllers/runtime/observe";
import { formatCpu, formatMemory } from "../../controllers/runtime/quantity";
import { observationQueryProblems, toPromQL } from "../../controllers/runtime/queries";
import { Registry } from "../../controllers/runtime/registry";
import type { PodState } from "../../controllers/runtime/types";
import { inplaceResizeQueries } from "../../controllers/inplace-resize/queries";
import { pdReplicasQueries } from "../../controllers/pd-replicas/queries";
import { decide as queueProportional } from "../../controllers/examples/queue-proportional";
import { metricNames, prometheusErrors } from "../helpers/promql";

const pod = (o: Partial<PodState>): PodState => ({ name: "p", phase: "Running", resizing: false, sidecar: false, ...o });

describe("controllers: runtime pieces", () => {
    it("queries compile to PromQL with escaped values and anchored regexes", () => {
        assert.equal(toPromQL({ metric: "up", fn: "last", window: "30s", aggregate: "max", by: [] }), "max (last_over_time(up[30s]))");
        assert.equal(toPromQL({ metric: "x_total", labels: { a: "say \"hi\"" }, labelsMatching: { pod: "c-\\d+" }, fn: "rate", window: "1m", aggregate: "sum", by: ["pod", "node"] }),
            'sum by (pod, node) (rate(x_total{a="say \\"hi\\"",pod=~"c-\\\\d+"}[1m]))');
        assert.deepEqual(observationQueryProblems({ metric: "1bad", fn: "max" as any, window: "0s", aggregate: "median" as any, by: ["ok", "not-ok"] }), [
            'metric "1bad" is not a metric name', 'fn "max" is not last or rate', 'aggregate "median" is not sum, max, min or avg',
            '"not-ok" is not a label name', 'window "0s" is not a duration such as 5s or 1m',
        ]);
    });

    it("the built-in loops' queries are PromQL that Prometheus itself accepts, reading the metrics they name", () => {
        const queries = [
            ...Object.values(pdReplicasQueries({ namespace: "default", deployment: "consumer", window: "5s" })),
            ...Object.values(inplaceResizeQueries({ namespace: "default", pipeline: "ptychography", vertex: "cat", container: "udf", window: "1m" })),
        ];
        const exprs = queries.map(toPromQL);
        assert.deepEqual(prometheusErrors(exprs), exprs.map(() => undefined));
        assert.deepEqual(exprs.map(metricNames), queries.map((q) => [q.metric, ...(q.dividedBy ? [q.dividedBy.metric] : [])].sort()));
    });

    it("the README's example controller: grows to the backlog at once, shrinks one replica at a time", () => {
        const at = (queued: number, replicas: number) => queueProportional({ time: 0, metrics: { queued: [{ labels: {}, value: queued }] },
            target: { kind: "deployment", namespace: "d", name: "consumer", replicas } }, undefined, { framesPerReplica: 150 });
        assert.deepEqual(at(450, 1).actions, [{ kind: "scale", replicas: 3 }]);
        assert.deepEqual(at(0, 3).actions, [{ kind: "scale", replicas: 2 }]);
        assert.deepEqual(at(0, 1).actions, [{ kind: "scale", replicas: 1 }]);
        assert.deepEqual(at(451, 2).signals, { queued: 451, wanted: 4 });
    });

    it("rate() extrapolation: exact inside the threshold, half an interval beyond it, never below the counter's zero", () => {
        // 5 samples 10 s apart from 1000 to 1040, window (0, 60 s] at t = 60 s: first sample at 5 s, last at 45 s.
        const times = [5000, 15000, 25000, 35000, 45000];
        const rate = extrapolatedRate(times, [1000, 1010, 1020, 1030, 1040], 0, 5, 0, 60_000)!;
        // durationToStart 5 s (< 11 s threshold), durationToEnd 15 s (≥ 11 s → 5 s): (40 + 5 + 5) / 40 · 40 / 60.
        assert.ok(Math.abs(rate - (40 * (50 / 40)) / 60) < 1e-12, String(rate));
        // Starting at 0: the zero point caps the start (delta 40 over 40 s, zero at 0 s before the first sample).
        const fromZero = extrapolatedRate(times, [0, 10, 20, 30, 40], 0, 5, 0, 60_000)!;
        assert.ok(Math.abs(fromZero - (40 * ((40 + 0 + 5) / 40)) / 60) < 1e-12, String(fromZero));
        assert.equal(extrapolatedRate([1000], [5], 0, 1, 0, 60_000), undefined);
    });

    it("pod state: the container found among regular or sidecar containers, resize conditions read", () => {
        const p = podState({
            metadata: { name: "v-0" },
            spec: {
                containers: [{ name: "numa", resources: { requests: { cpu: "100m" } } }],
                initContainers: [{ name: "init", resources: { requests: { cpu: "1" } } }, { name: "udf", restartPolicy: "Always", resources: { requests: { cpu: "1500m", memory: "4Gi" }, limits: { cpu: "2" } } }],
            },
            status: { phase: "Running", conditions: [{ type: "PodResizeInProgress", status: "True" }] },
        }, "udf")!;
        assert.deepEqual(p, { name: "v-0", phase: "Running", cpuRequestMillis: 1500, cpuLimitMillis: 2000, memoryRequestBytes: 4 * 2 ** 30, memoryLimitBytes: undefined, resizing: true, sidecar: true });
        assert.equal(podState({ metadata: { name: "x" }, spec: { containers: [], initContainers: [{ name: "init" }] } }, "init"), undefined, "a one-off init container is not resizable");
        assert.equal(podState({ metadata: { name: "x" }, spec: { containers: [{ name: "numa" }] } }, "numa")?.sidecar, false);
    });

    it("resize patches keep the QoS class: equal limits follow, a ratio is kept, no limit stays none", () => {
        assert.deepEqual(resizedResources(pod({ cpuRequestMillis: 1000, cpuLimitMillis: 1000 }), 1500, undefined), { requests: { cpu: "1500m" }, limits: { cpu: "1500m" } });
        assert.deepEqual(resizedResources(pod({ cpuRequestMillis: 1000, cpuLimitMillis: 2000 }), 1500, undefined), { requests: { cpu: "1500m" }, limits: { cpu: "3" } });
        assert.deepEqual(resizedResources(pod({ cpuRequestMillis: 500 }), 750, undefined), { requests: { cpu: "750m" } });
        assert.deepEqual(resizedResources(pod({ memoryRequestBytes: 2 ** 32, memoryLimitBytes: 2 ** 32 }), undefined, 5 * 2 ** 30), { requests: { memory: "5Gi" }, limits: { memory: "5Gi" } });
        assert.equal(formatCpu(2000), "2");
        assert.equal(formatMemory(1536 * 2 ** 20), "1536Mi");
        assert.equal(formatMemory(1000), "1000");
    });

    it("config.json: every problem in one message naming the field", () => {
        assert.throws(() => parseLoopConfig("{", "cfg"), /^Error: cfg is not valid JSON/);
        assert.throws(() => parseLoopConfig(JSON.stringify({ name: "x", kind: "other", periodMs: 5, minIntervalMs: 0, port: 1, dryRun: "no", metrics: {}, target: { kind: "pods", namespace: "d", selector: {} }, queries: { q: { metric: "m" } }, limits: {}, params: {} }), "cfg"),
            (e: Error) => {
                for (const part of ["kind must be pd-replicas, inplace-resize or custom", "periodMs must be a number ≥ 100", "dryRun must be true or false",
                    "metrics.url must be the Prometheus API URL", "target.container must be a non-empty string", "target.selector must be a non-empty map", "queries.q: fn undefined is not last or rate"]) {
                    assert.ok(e.message.includes(part), `${part} in ${e.message}`);
                }
                return e.message.startsWith("cfg: ");
            });
    });

    it("in-cluster credentials: the service account's CA and a token re-read on every use", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-"));
        try {
            assert.throws(() => inClusterCredentials(dir, {}), /KUBERNETES_SERVICE_HOST is not set/);
            assert.throws(() => inClusterCredentials(dir, { KUBERNETES_SERVICE_HOST: "10.32.0.1" }), /no service account token at .*token/);
            fs.writeFileSync(path.join(dir, "token"), "first\n");
            fs.writeFileSync(path.join(dir, "ca.crt"), "CA");
            const c = inClusterCredentials(dir, { KUBERNETES_SERVICE_HOST: "10.32.0.1", KUBERNETES_SERVICE_PORT: "443" });
            assert.equal(c.server, "https://10.32.0.1:443");
            assert.equal(c.token!(), "first");
            fs.writeFileSync(path.join(dir, "token"), "rotated");
            assert.equal(c.token!(), "rotated");
            assert.equal(inClusterCredentials(dir, { KUBERNETES_SERVICE_HOST: "fd00::1" }).server, "https://[fd00::1]:443");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("every tick's observation and decision become metrics, served at /metrics; /healthz follows the ticks", async () => {
        const registry = new Registry({ controller: "pd-replicas" });
        declareLoopMetrics(registry, { kind: "pd-replicas", target: "deployment/consumer", dryRun: false });
        const clock = 1_700_000_000_000;
        const loop = new ControlLoop({ name: "pd-replicas", periodMs: 2000, minIntervalMs: 0, dryRun: false, limits: { maxReplicas: 3 }, params: {} }, {
            now: () => clock,
            decide: () => ({ actions: [{ kind: "scale", replicas: 5 }], state: {}, signals: { error: 1600 } }),
            observe: async (time) => ({ time, target: { kind: "deployment", namespace: "d", name: "consumer", replicas: 1 }, metrics: { queued: [{ labels: { pod: "c-1", query: "clash" }, value: 900 }] } }),
            act: async (_o, g) => g.approved.map((a) => ({ approved: a, outcome: "applied" as const })),
            onTick: (r) => exportTick(registry, r, loop.overruns),
        });
        const report = await loop.tick(clock);
        const text = registry.render();
        for (const line of [
            'charon_controller_observation{controller="pd-replicas",exported_query="clash",pod="c-1",query="queued"} 900',
            'charon_controller_target_replicas{controller="pd-replicas"} 1',
            'charon_controller_signal{controller="pd-replicas",signal="error"} 1600',
            'charon_controller_desired_replicas{controller="pd-replicas"} 5',
            'charon_controller_actions_total{controller="pd-replicas",kind="scale",outcome="applied",reason="clamped"} 1',
            'charon_controller_ticks_total{controller="pd-replicas"} 1',
            'charon_controller_info{controller="pd-replicas",kind="pd-replicas",target="deployment/consumer"} 1',
            "# TYPE charon_controller_actions_total counter",
        ]) {
            assert.ok(text.includes(line), `${line} in\n${text}`);
        }
        for (const name of CONTROLLER_METRIC_NAMES) {
            assert.ok(text.includes(`# TYPE ${name} `), `${name} is declared`);
        }
        assert.match(tickLogLine("pd-replicas", report), /"actions":\[\{"kind":"scale","replicas":3,"outcome":"applied","clamped":true\}\]/);

        let ticking = true;
        const server = metricsServer(registry, () => ticking);
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        try {
            const get = (p: string) => new Promise<{ status: number; body: string }>((resolve, reject) => http.get(`${base}${p}`, (res) => {
                let body = "";
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            }).on("error", reject));
            const m = await get("/metrics");
            assert.equal(m.status, 200);
            assert.ok(m.body.includes("charon_controller_ticks_total"));
            assert.equal((await get("/healthz")).status, 200);
            ticking = false;
            assert.equal((await get("/healthz")).status, 503);
        } finally {
            server.close();
        }
        assert.equal(healthy(undefined, 0, 2000, 59_000), true, "a minute to start");
        assert.equal(healthy(100_000, 0, 30_000, 189_000), true);
        assert.equal(healthy(100_000, 0, 30_000, 191_000), false, "three periods without a tick");
    });

    it("the loop ticks at a fixed rate and skips to the next boundary after an overrun", async () => {
        let clock = 0;
        const starts: number[] = [];
        const stop = new AbortController();
        const loop = new ControlLoop({ name: "x", periodMs: 1000, minIntervalMs: 0, dryRun: false, limits: {}, params: {} }, {
            now: () => clock,
            decide: () => ({ actions: [], state: {} }),
            observe: async (time) => {
                starts.push(time);
                clock += starts.length === 3 ? 2500 : 100; // the third tick overruns two and a half periods
                return { time, metrics: {}, target: { kind: "deployment", namespace: "d", name: "n", replicas: 1 } };
            },
            act: async () => [],
        });
        await loop.run(stop.signal, async (ms) => {
            clock += Math.max(0, ms);
            if (starts.length >= 6) {
                stop.abort();
            }
        });
        assert.deepEqual(starts, [0, 1000, 2000, 5000, 6000, 7000]);
        assert.equal(loop.overruns, 2);
    });

    it("a decide that throws or returns garbage keeps the loop alive and is reported as a decide error", async () => {
        const mk = (decide: any) => new ControlLoop({ name: "x", periodMs: 1000, minIntervalMs: 0, dryRun: false, limits: {}, params: {} }, {
            now: () => 0, decide, act: async () => [],
            observe: async (time) => ({ time, metrics: {}, target: { kind: "deployment", namespace: "d", name: "n", replicas: 1 } }),
        });
        assert.deepEqual((await mk(() => { throw new Error("boom"); }).tick(0)).error, { stage: "decide", message: "boom" });
        assert.match((await mk(() => ({ replicas: 3 })).tick(0)).error!.message, /decide must return \{ actions/);
        const failingObserve = new ControlLoop({ name: "x", periodMs: 1000, minIntervalMs: 0, dryRun: false, limits: {}, params: {} }, {
            now: () => 0, decide: () => ({ actions: [], state: {} }), act: async () => [],
            observe: async () => { throw new Error("observation \"queued\": HTTP 503"); },
        });
        assert.deepEqual((await failingObserve.tick(0)).error, { stage: "observe", message: "observation \"queued\": HTTP 503" });
    });
});
