/**
 * observe against a real Prometheus (Debian package) with backfilled data behind a Mimir-like proxy that demands
 * the tenant header: the built-in loops' queries, compiled to PromQL, return what the offline evaluator (replay's)
 * computes from the same raw samples, and what the data says by hand.
 */
import * as assert from "node:assert/strict";
import { type RawSeries, evaluateAll, seriesStore } from "../../controllers/runtime/evaluate";
import { PromQueryClient, observeMetrics } from "../../controllers/runtime/observe";
import type { ObservationQuery } from "../../controllers/runtime/queries";
import type { Sample } from "../../controllers/runtime/types";
import { pdReplicasQueries } from "../../controllers/pd-replicas/queries";
import { inplaceResizeQueries } from "../../controllers/inplace-resize/queries";
import { type OmFamily, type TestPrometheus, startPrometheus } from "../helpers/prometheus";
import { type TestProxy, startProxy } from "../helpers/prometheus-proxy";

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const MINUTES = 12;

/** Deterministic pseudo-random numbers (a fixed LCG), so the fixture is the same on every run. */
function lcg(seed: number): () => number {
    let x = seed;
    return () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x / 2 ** 31;
    };
}

/** Raw series as cAdvisor, PvaPy and Numaflow's daemon would produce them, with decoys the selectors must skip. */
function fixture(): RawSeries[] {
    const rnd = lcg(7);
    const out: RawSeries[] = [];
    const every = (stepMs: number, offsetMs: number) => {
        const times: number[] = [];
        for (let t = T0 + offsetMs; t < T0 + MINUTES * 60_000; t += stepMs) {
            times.push(t);
        }
        return times;
    };
    // Counters start high, so extrapolation never reaches their zero point (where Prometheus 2 and 3 differ).
    const counter = (times: number[], start: number, perSecond: () => number) => {
        let v = start;
        return times.map((_, i) => (i === 0 ? v : (v += perSecond() * 5)));
    };
    const pods = [
        { namespace: "default", pod: "ptychography-cat-0-x7k2p", container: "udf" },
        { namespace: "default", pod: "ptychography-cat-1-m3q9z", container: "udf" },
        { namespace: "default", pod: "ptychography-cat-0-x7k2p", container: "numa" }, // decoy: another container
        { namespace: "default", pod: "ptychography-out-0-aaaaa", container: "udf" }, // decoy: another vertex
        { namespace: "other", pod: "ptychography-cat-0-zzzzz", container: "udf" }, // decoy: another namespace
    ];
    pods.forEach((labels, k) => {
        // The second vertex pod stops reporting after 8 minutes: later windows end long after its last sample.
        const times = every(5000, 317 + 211 * k).filter((t) => k !== 1 || t < T0 + 8 * 60_000);
        const periods = counter(times, 1e6 + k, () => 10);
        const throttled = counter(times, 2e5 + k, () => rnd() * 6);
        // A counter reset half way through the first pod's usage (container restart).
        let usage = counter(times, 5e4, () => 0.5 + rnd());
        if (k === 0) {
            usage = usage.map((v, i) => (i < times.length / 2 ? v : v - usage[Math.floor(times.length / 2)] + 3));
        }
        out.push({ metric: "container_cpu_cfs_periods_total", labels, times, values: periods });
        out.push({ metric: "container_cpu_cfs_throttled_periods_total", labels, times, values: throttled });
        out.push({ metric: "container_cpu_usage_seconds_total", labels, times, values: usage });
        out.push({ metric: "container_memory_working_set_bytes", labels, times, values: times.map(() => Math.round(2 ** 31 + rnd() * 2 ** 30)) });
    });
    for (const period of ["1m", "5m", "default"]) {
        const times = every(5000, 1200);
        out.push({ metric: "vertex_pending_messages", labels: { namespace: "default", pipeline: "ptychography", vertex: "cat", period }, times, values: times.map(() => Math.round(rnd() * 4000)) });
    }
    const consumers = ["consumer-5d8f7c9b4-abcde", "consumer-5d8f7c9b4-fghij", "consumer-old-1"]; // the last is no pod of the Deployment
    consumers.forEach((pod, k) => {
        // Gaps longer than the 5 s window: some ticks see a pod's report, some do not.
        const times = every(2000 + 1500 * k, 400 + 333 * k);
        out.push({ metric: "pvapy_frame_queued", labels: { namespace: "default", pod }, times, values: times.map(() => Math.round(rnd() * 900)) });
        out.push({ metric: "pvapy_frame_processingrate", labels: { namespace: "default", pod }, times, values: times.map(() => Math.round(rnd() * 300) / 2) });
    });
    return out;
}

function families(series: RawSeries[]): OmFamily[] {
    const byMetric = new Map<string, OmFamily>();
    for (const s of series) {
        const isCounter = s.metric.endsWith("_total");
        const name = isCounter ? s.metric.slice(0, -"_total".length) : s.metric;
        const f = byMetric.get(name) ?? { name, type: isCounter ? "counter" as const : "gauge" as const, series: [] };
        f.series.push({ name: s.metric, labels: s.labels, samples: s.times.map((t, i) => [t, s.values[i]] as [number, number]) });
        byMetric.set(name, f);
    }
    return [...byMetric.values()];
}

function byLabels(samples: Sample[]): Map<string, number> {
    return new Map(samples.map((s) => [JSON.stringify(Object.entries(s.labels).sort()), s.value]));
}

function assertSameVector(actual: Sample[], expected: Sample[], what: string): void {
    const a = byLabels(actual);
    const e = byLabels(expected);
    assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort(), `${what}: label sets`);
    for (const [k, v] of e) {
        const got = a.get(k)!;
        assert.ok(Math.abs(got - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${what} ${k}: Prometheus ${got}, offline ${v}`);
    }
}

describe("controllers: observe against a real Prometheus", function () {
    this.timeout(120_000);
    const series = fixture();
    const store = seriesStore(series);
    let prom: TestPrometheus;
    let proxy: TestProxy;
    let client: PromQueryClient;

    before(async () => {
        prom = await startPrometheus({ families: families(series), routePrefix: "/prometheus" });
        proxy = await startProxy({ target: () => `http://127.0.0.1:${prom.port}`, requireHeader: "X-Scope-OrgID" });
        client = new PromQueryClient({ url: `${proxy.url}/prometheus`, tenant: "charon" });
    });
    after(async () => {
        client?.close();
        await proxy?.close();
        await prom?.stop();
    });

    const queries: Record<string, ObservationQuery> = {
        ...inplaceResizeQueries({ namespace: "default", pipeline: "ptychography", vertex: "cat", container: "udf", window: "1m" }),
        ...pdReplicasQueries({ namespace: "default", deployment: "consumer", window: "5s" }),
    };
    // Tick times off the sample grid (Prometheus 2 closes the range at t − window, Prometheus 3 and Mimir do not).
    const ticks = Array.from({ length: 20 }, (_, i) => T0 + 90_000 + i * 31_000 + 1000);

    it("every built-in query: Prometheus and the offline evaluator agree at every tick", async () => {
        const seen: Record<string, number> = {};
        for (const t of ticks) {
            const live = await observeMetrics(client, queries, t);
            const offline = evaluateAll(queries, store, t);
            for (const name of Object.keys(queries)) {
                assertSameVector(live[name], offline[name], `${name} at ${new Date(t).toISOString()}`);
                seen[name] = (seen[name] ?? 0) + live[name].length;
            }
        }
        // Two vertex pods per tick until one stops, one value for the sums: nothing compared is empty.
        assert.deepEqual(seen, { throttled: 35, usage: 35, workingSet: 35, pending: 20, queued: 20, processingRate: 20 });
        assert.ok(proxy.requests.every((r) => r.headers["x-scope-orgid"] === "charon"), "every query carries the tenant");
    });

    it("the selectors pick the vertex's udf containers and the Deployment's pods only", async () => {
        const t = ticks[5];
        const live = await observeMetrics(client, queries, t);
        assert.deepEqual(live.usage.map((s) => s.labels.pod).sort(), ["ptychography-cat-0-x7k2p", "ptychography-cat-1-m3q9z"]);
        assert.deepEqual(live.throttled.map((s) => Object.keys(s.labels)), [["pod"], ["pod"]]);
        // pending: the 1m period only, as one value.
        const pending = series.find((s) => s.metric === "vertex_pending_messages" && s.labels.period === "1m")!;
        const last = pending.values[pending.times.filter((x) => x <= t).length - 1];
        assert.deepEqual(live.pending, [{ labels: {}, value: last }]);
        // queued: each consumer pod's last report within 5 s, summed by hand.
        const expected = series.filter((s) => s.metric === "pvapy_frame_queued" && /^consumer-[a-z0-9]+-[a-z0-9]+$/.test(s.labels.pod)).reduce((sum, s) => {
            const i = s.times.filter((x) => x <= t).length - 1;
            return sum + (i >= 0 && s.times[i] > t - 5000 ? s.values[i] : 0);
        }, 0);
        assert.equal(live.queued.length === 0 ? 0 : live.queued[0].value, expected);
    });

    it("a counter reset inside the window is corrected the same way", async () => {
        const first = series.find((s) => s.metric === "container_cpu_usage_seconds_total")!;
        const reset = first.times[Math.floor(first.times.length / 2)];
        const t = reset + 20_000 + 500;
        const q = { usage: queries.usage };
        const live = await observeMetrics(client, q, t);
        assertSameVector(live.usage, evaluateAll(q, store, t).usage, "usage across a reset");
        const pod0 = live.usage.find((s) => s.labels.pod === "ptychography-cat-0-x7k2p")!;
        assert.ok(pod0.value > 0.4 && pod0.value < 1.6, `rate across the reset stays plausible: ${pod0.value}`);
    });

    it("failures name the query and carry the server's error; no tenant, no answer", async () => {
        await assert.rejects(observeMetrics(client, { broken: { ...queries.usage, window: "1m", labelsMatching: { pod: "(" } } }, ticks[0]),
            /observation "broken": .*HTTP 400 bad_data/);
        const noTenant = new PromQueryClient({ url: `${proxy.url}/prometheus` }, { retries: 0 });
        try {
            await assert.rejects(noTenant.query("up", ticks[0]), /HTTP 401.*no org id/);
        } finally {
            noTenant.close();
        }
    });
});
