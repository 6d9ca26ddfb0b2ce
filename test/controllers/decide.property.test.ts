/**
 * Property tests of the decide functions and the runtime's guard: bounds are never exceeded, no object is acted on
 * inside the minimum interval, and pd-replicas computes the original's formula on recorded series.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import type { ActResult } from "../../controllers/runtime/act";
import { type RawSeries, evaluateAll, seriesStore } from "../../controllers/runtime/evaluate";
import { guardActions } from "../../controllers/runtime/guard";
import { ControlLoop } from "../../controllers/runtime/loop";
import type { Action, Limits, Observation, PodState, TargetState } from "../../controllers/runtime/types";
import { type PdReplicasParams, decide as pdDecide, floorDiv } from "../../controllers/pd-replicas/decide";
import { pdReplicasQueries } from "../../controllers/pd-replicas/queries";
import { type InplaceResizeParams, decide as resizeDecide } from "../../controllers/inplace-resize/decide";

const anyNumber = fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.double({ noDefaultInfinity: false, noNaN: false }));
const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({ kind: fc.constant("scale" as const), replicas: anyNumber }),
    fc.record({
        kind: fc.constant("resize" as const), pod: fc.constantFrom("p0", "p1", "p2", "ghost"),
        cpuMillis: fc.option(anyNumber, { nil: undefined }), memoryBytes: fc.option(anyNumber, { nil: undefined }),
    }),
);
const pod = (name: string): fc.Arbitrary<PodState> => fc.record({
    name: fc.constant(name), phase: fc.constantFrom("Running", "Running", "Pending"),
    cpuRequestMillis: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
    cpuLimitMillis: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
    memoryRequestBytes: fc.option(fc.integer({ min: 1, max: 2 ** 34 }), { nil: undefined }),
    memoryLimitBytes: fc.option(fc.integer({ min: 1, max: 2 ** 34 }), { nil: undefined }),
    resizing: fc.boolean(), sidecar: fc.boolean(),
});
const target: fc.Arbitrary<TargetState> = fc.oneof(
    fc.record({ kind: fc.constant("deployment" as const), namespace: fc.constant("default"), name: fc.constant("consumer"), replicas: fc.integer({ min: 0, max: 50 }) }),
    fc.record({ kind: fc.constant("pods" as const), namespace: fc.constant("default"), container: fc.constant("udf"), pods: fc.tuple(pod("p0"), pod("p1"), pod("p2")).map((t) => [...t]) }),
);
const limits: fc.Arbitrary<Limits> = fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 0, max: 4000 }),
    fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 0, max: 2 ** 32 }))
    .map(([minR, dR, minC, dC, minM, dM]) => ({ minReplicas: minR, maxReplicas: minR + dR, minCpuMillis: minC, maxCpuMillis: minC + dC, minMemoryBytes: minM, maxMemoryBytes: minM + dM }));

function withinBounds(a: Action, l: Limits): boolean {
    if (a.kind === "scale") {
        return Number.isInteger(a.replicas) && a.replicas >= (l.minReplicas ?? 0) && a.replicas <= (l.maxReplicas ?? Infinity);
    }
    const cpuOk = a.cpuMillis === undefined || (Number.isInteger(a.cpuMillis) && a.cpuMillis >= (l.minCpuMillis ?? 1) && a.cpuMillis <= (l.maxCpuMillis ?? Infinity));
    const memOk = a.memoryBytes === undefined || (Number.isInteger(a.memoryBytes) && a.memoryBytes >= (l.minMemoryBytes ?? 1) && a.memoryBytes <= (l.maxMemoryBytes ?? Infinity));
    return cpuOk && memOk && (a.cpuMillis !== undefined || a.memoryBytes !== undefined);
}

describe("controllers: guard and decide properties", () => {
    it("whatever decide asks for, every approved action is inside the bounds and changes something", () => {
        fc.assert(fc.property(fc.array(action, { maxLength: 8 }), target, limits, (actions, t, l) => {
            const { approved, held } = guardActions(actions, t, { limits: l, minIntervalMs: 0, history: {}, now: 0 });
            assert.equal(approved.length + held.length, actions.length);
            for (const a of approved) {
                assert.ok(withinBounds(a.action, l), JSON.stringify({ a, l }));
                if (a.action.kind === "scale") {
                    assert.ok(t.kind === "deployment" && a.action.replicas !== t.replicas);
                } else {
                    const p = t.kind === "pods" ? t.pods.find((x) => x.name === (a.action as { pod: string }).pod) : undefined;
                    assert.ok(p && p.phase === "Running" && !p.resizing, "only running, settled pods are resized");
                    assert.ok(a.action.cpuMillis !== p.cpuRequestMillis || a.action.memoryBytes !== p.memoryRequestBytes);
                }
            }
            assert.equal(new Set(approved.map((a) => a.object)).size, approved.length, "one action per object per tick");
        }), { numRuns: 500 });
    });

    /** A loop over ticks at random times with a fake clock and a recording act that fails some actions. */
    async function runLoop(decide: ControlLoop["settings"] extends never ? never : any, params: unknown, observations: ((time: number) => Observation), times: number[],
        l: Limits, minIntervalMs: number, failEvery: number) {
        const applied: { time: number; object: string; action: Action }[] = [];
        let clock = 0;
        let calls = 0;
        const loop = new ControlLoop({ name: "p", periodMs: 1000, minIntervalMs, dryRun: false, limits: l, params }, {
            decide, now: () => clock,
            observe: async (t) => observations(t),
            act: async (_observed, guarded): Promise<ActResult[]> => guarded.approved.map((a) => {
                calls++;
                const outcome = failEvery > 0 && calls % failEvery === 0 ? "failed" as const : "applied" as const;
                if (outcome === "applied") {
                    applied.push({ time: clock, object: a.object, action: a.action });
                }
                return { approved: a, outcome };
            }),
        });
        for (const t of times) {
            clock = t;
            await loop.tick(t);
        }
        return applied;
    }

    const tickTimes = fc.array(fc.integer({ min: 0, max: 9000 }), { minLength: 2, maxLength: 40 })
        .map((gaps) => gaps.reduce<number[]>((acc, g) => [...acc, (acc[acc.length - 1] ?? 0) + g], []));

    it("pd-replicas through the loop: replicas inside the bounds, no scale inside the minimum interval", async () => {
        await fc.assert(fc.asyncProperty(tickTimes, fc.array(fc.tuple(fc.double({ min: 0, max: 50_000, noNaN: true }), fc.double({ min: 0, max: 5000, noNaN: true })), { minLength: 40, maxLength: 40 }),
            fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 4 }),
            async (times, load, minR, spanR, minIntervalMs, failEvery) => {
                let replicas = 1;
                const l: Limits = { minReplicas: minR, maxReplicas: minR + spanR };
                const params: PdReplicasParams = { targetFps: 800, kp: 0.5, kd: 1, framesPerReplica: 64, useProcessingRate: true };
                let i = 0;
                const applied = await runLoop(pdDecide, params, (time) => {
                    const [queued, rate] = load[i++ % load.length];
                    return { time, target: { kind: "deployment", namespace: "default", name: "consumer", replicas },
                        metrics: { queued: [{ labels: {}, value: queued }], processingRate: [{ labels: {}, value: rate }] } };
                }, times, l, minIntervalMs, failEvery);
                for (const a of applied) {
                    assert.ok(withinBounds(a.action, l));
                    replicas = (a.action as { replicas: number }).replicas;
                }
                for (let k = 1; k < applied.length; k++) {
                    assert.ok(applied[k].time - applied[k - 1].time >= minIntervalMs, `scaled at ${applied[k - 1].time} and ${applied[k].time} (min ${minIntervalMs})`);
                }
            }), { numRuns: 150 });
    });

    it("inplace-resize through the loop: CPU and memory inside the bounds, no pod resized twice inside the minimum interval", async () => {
        const params: InplaceResizeParams = {
            throttleHigh: 0.1, throttleLow: 0.01, pendingHigh: 1000, busyUtilization: 0.8, targetUtilization: 0.7, stepUp: 1.5, stepDown: 0.8,
            resizeMemory: true, memoryHigh: 0.85, memoryLow: 0.4, memoryStepUp: 1.25,
        };
        const podSample = fc.record({ throttled: fc.double({ min: 0, max: 1, noNaN: true }), usage: fc.double({ min: 0, max: 8, noNaN: true }), ws: fc.integer({ min: 0, max: 2 ** 34 }) });
        await fc.assert(fc.asyncProperty(tickTimes, fc.array(fc.tuple(fc.array(podSample, { minLength: 2, maxLength: 2 }), fc.integer({ min: 0, max: 5000 })), { minLength: 40, maxLength: 40 }),
            limits, fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 3 }),
            async (times, load, l, minIntervalMs, failEvery) => {
                const state = new Map<string, PodState>(["ptychography-cat-0-aaaaa", "ptychography-cat-1-bbbbb"].map((name) => [name, {
                    name, phase: "Running", cpuRequestMillis: 1000, cpuLimitMillis: 1000, memoryRequestBytes: 4 * 2 ** 30, memoryLimitBytes: 4 * 2 ** 30, resizing: false, sidecar: true,
                }]));
                let i = 0;
                const applied = await runLoop(resizeDecide, params, (time) => {
                    const [pods, pending] = load[i++ % load.length];
                    const names = [...state.keys()];
                    return {
                        time, target: { kind: "pods", namespace: "default", container: "udf", pods: [...state.values()].map((p) => ({ ...p })) },
                        metrics: {
                            throttled: pods.map((p, k) => ({ labels: { pod: names[k] }, value: p.throttled })),
                            usage: pods.map((p, k) => ({ labels: { pod: names[k] }, value: p.usage })),
                            workingSet: pods.map((p, k) => ({ labels: { pod: names[k] }, value: p.ws })),
                            pending: [{ labels: {}, value: pending }],
                        },
                    };
                }, times, l, minIntervalMs, failEvery);
                const last = new Map<string, number>();
                for (const a of applied) {
                    assert.ok(withinBounds(a.action, l), JSON.stringify({ a, l }));
                    const previous = last.get(a.object);
                    assert.ok(previous === undefined || a.time - previous >= minIntervalMs, `${a.object} resized at ${previous} and ${a.time} (min ${minIntervalMs})`);
                    last.set(a.object, a.time);
                    const r = a.action as { pod: string; cpuMillis?: number; memoryBytes?: number };
                    const p = state.get(r.pod)!;
                    state.set(r.pod, { ...p, cpuRequestMillis: r.cpuMillis ?? p.cpuRequestMillis, cpuLimitMillis: r.cpuMillis ?? p.cpuLimitMillis,
                        memoryRequestBytes: r.memoryBytes ?? p.memoryRequestBytes, memoryLimitBytes: r.memoryBytes ?? p.memoryLimitBytes });
                }
            }), { numRuns: 150 });
    });

    /**
     * The original's formula as its Python code computes it (src/controller/control.py, written out again here
     * independently of decide.ts): error = target + Σ queued − Σ rate; control = Kp·e + Kd·(e − e_prev), e_prev
     * starting at 0; replicas = max(1, control // capacity), Python's floor division of floats.
     */
    function originalReplicas(errors: number[], kp: number, kd: number, capacity: number): number[] {
        let previous = 0;
        return errors.map((e) => {
            const control = kp * e + kd * (e - previous);
            previous = e;
            let q = Math.floor(control / capacity);
            // Python's // is exact: correct the one-off a rounded division can produce.
            if (control - q * capacity < 0) {
                q -= 1;
            } else if (control - q * capacity >= capacity) {
                q += 1;
            }
            return Math.max(1, q);
        });
    }

    it("pd-replicas matches the original's formula on recorded series (raw per-pod samples, as a harvest holds them)", () => {
        const podSeries = fc.array(fc.tuple(fc.integer({ min: 500, max: 2500 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 1200 })), { minLength: 20, maxLength: 60 });
        fc.assert(fc.property(fc.array(podSeries, { minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }),
            fc.integer({ min: 1, max: 300 }), fc.boolean(), (pods, kp, kd, capacity, useRate) => {
                // Each consumer pod reports queued frames and its processing rate every ~2 s (jittered), as scraped.
                const series: RawSeries[] = [];
                pods.forEach((samples, k) => {
                    const times = samples.reduce<number[]>((acc, [gap]) => [...acc, (acc[acc.length - 1] ?? 1_700_000_000_000) + gap], []);
                    const labels = { namespace: "default", pod: `consumer-7d9f8-${"abcde"[k]}x${k}` };
                    series.push({ metric: "pvapy_frame_queued", labels, times, values: samples.map((s) => s[1]) });
                    series.push({ metric: "pvapy_frame_processingrate", labels, times, values: samples.map((s) => s[2]) });
                });
                const store = seriesStore(series);
                const queries = pdReplicasQueries({ namespace: "default", deployment: "consumer", window: "5s" });
                const start = 1_700_000_000_000;
                const end = Math.max(...series.map((s) => s.times[s.times.length - 1]));
                const ticks: number[] = [];
                for (let t = start + 1999; t <= end; t += 2000) {
                    ticks.push(t);
                }
                // The original: each sensor's last report of the past 5 s, summed (brute force over the raw samples).
                const recent = (metric: string, t: number) => series.filter((s) => s.metric === metric).reduce((sum, s) => {
                    let v: number | undefined;
                    s.times.forEach((ts, j) => {
                        if (ts > t - 5000 && ts <= t) {
                            v = s.values[j];
                        }
                    });
                    return sum + (v ?? 0);
                }, 0);
                const errors = ticks.map((t) => 800 + recent("pvapy_frame_queued", t) - (useRate ? recent("pvapy_frame_processingrate", t) : 0));
                const expected = originalReplicas(errors, kp, kd, capacity);
                const params: PdReplicasParams = { targetFps: 800, kp, kd, framesPerReplica: capacity, useProcessingRate: useRate };
                let state: { previousError: number } | undefined;
                ticks.forEach((t, k) => {
                    const d = pdDecide({ time: t, metrics: evaluateAll(queries, store, t), target: { kind: "deployment", namespace: "default", name: "consumer", replicas: 1 } }, state, params);
                    state = d.state;
                    assert.deepEqual(d.actions, [{ kind: "scale", replicas: expected[k] }], `tick ${k}: error ${errors[k]}`);
                    assert.equal(d.signals?.error, errors[k]);
                });
            }), { numRuns: 200 });
    });

    it("floorDiv is Python's float floor division", () => {
        assert.equal(floorDiv(1492.5, 64), 23);
        assert.equal(floorDiv(-146, 64), -3);
        assert.equal(floorDiv(-159, 64), -3);
        assert.equal(floorDiv(0.7, 0.1), 6, "Python: 0.7 // 0.1 == 6.0");
        assert.equal(floorDiv(-0.5, 64), -1);
        fc.assert(fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 1000 }), (a, b) => {
            const q = floorDiv(a, b);
            assert.ok(Number.isInteger(q) && q * b <= a && a < (q + 1) * b, `${a} // ${b} = ${q}`);
        }));
    });
});
