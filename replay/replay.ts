/**
 * Replay: a loop's decide function over a harvested experiment, tick by tick at the loop's period, with the
 * runtime's own tick (same guard: bounds, minimum interval, no-change). Observations are the loop's queries
 * evaluated over the harvest's raw samples (evaluate.ts, the query engine's semantics). The target is simulated:
 * it starts from what the harvest recorded (or what the caller says) and every approved action takes effect at
 * once. Replay is open-loop: the measurements are the recorded ones, not how the system would have responded.
 */
import { type SeriesStore, evaluateAll, evaluateSeries } from "../controllers/runtime/evaluate";
import type { LoopConfig } from "../controllers/runtime/config";
import { ControlLoop, type TickReport } from "../controllers/runtime/loop";
import { CONTROLLER_METRICS } from "../controllers/runtime/metric-names";
import type { Decide, PodState, TargetState } from "../controllers/runtime/types";

export interface InitialTarget {
    replicas?: number;
    cpuMillis?: number;
    memoryBytes?: number;
}

export interface ReplayResult {
    ticks: TickReport[];
    notes: string[];
    final: TargetState;
}

/**
 * A recorded series' value at t: the latest sample at or before t (within Prometheus' 5-minute lookback), else —
 * at the start of a run, before the first scrape — the first sample after t.
 */
function recorded(store: SeriesStore, metric: string, labels: Record<string, string>, t: number): number | undefined {
    const before = evaluateSeries({ metric, labels, fn: "last", window: "5m", aggregate: "max", by: [] }, store, t);
    if (before.length > 0 && Number.isFinite(before[0].value)) {
        return before[0].value;
    }
    const candidates = (store.get(metric) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    let first: { t: number; v: number } | undefined;
    for (const s of candidates) {
        const i = s.times.findIndex((x) => x > t);
        if (i >= 0 && (first === undefined || s.times[i] < first.t) && Number.isFinite(s.values[i])) {
            first = { t: s.times[i], v: s.values[i] };
        }
    }
    return first?.v;
}

class SimulatedTarget {
    private replicas: number | undefined;
    private readonly pods = new Map<string, PodState>();
    readonly notes: string[] = [];

    constructor(private readonly config: LoopConfig, private readonly store: SeriesStore, private readonly initial: InitialTarget) {}

    /** The target as decide sees it at t: recorded or given initial values, then whatever replayed actions set. */
    observe(t: number, metrics: Record<string, { labels: Record<string, string> }[]>): TargetState {
        const target = this.config.target;
        if (target.kind === "deployment") {
            if (this.replicas === undefined) {
                const fromLoop = recorded(this.store, CONTROLLER_METRICS.targetReplicas, { controller: this.config.name }, t);
                const fromKsm = recorded(this.store, "kube_deployment_spec_replicas", { namespace: target.namespace, deployment: target.name }, t);
                this.replicas = this.initial.replicas ?? fromLoop ?? fromKsm;
                if (this.replicas === undefined) {
                    this.replicas = 1;
                    this.notes.push(`initial replicas unknown (the harvest has neither ${CONTROLLER_METRICS.targetReplicas} nor kube_deployment_spec_replicas): assumed 1; set --replicas`);
                }
            }
            return { kind: "deployment", namespace: target.namespace, name: target.name, replicas: this.replicas };
        }
        const seen = new Set(Object.values(metrics).flatMap((samples) => samples.map((s) => s.labels.pod)).filter((p): p is string => p !== undefined));
        for (const name of [...this.pods.keys()]) {
            if (!seen.has(name)) {
                this.pods.delete(name);
            }
        }
        for (const name of [...seen].sort()) {
            if (!this.pods.has(name)) {
                this.pods.set(name, this.newPod(name, t));
            }
        }
        return { kind: "pods", namespace: target.namespace, container: target.container, pods: [...this.pods.values()].map((p) => ({ ...p })) };
    }

    private newPod(name: string, t: number): PodState {
        const container = this.config.target.kind === "pods" ? this.config.target.container : "";
        const own = { controller: this.config.name, pod: name };
        const ksm = (resource: string) => recorded(this.store, "kube_pod_container_resource_requests", { pod: name, container, resource }, t);
        const ksmCpu = ksm("cpu");
        const cpu = this.initial.cpuMillis ?? recorded(this.store, CONTROLLER_METRICS.podCpu, own, t) ?? (ksmCpu === undefined ? undefined : Math.round(ksmCpu * 1000));
        const memory = this.initial.memoryBytes ?? recorded(this.store, CONTROLLER_METRICS.podMemory, own, t) ?? ksm("memory");
        if (cpu === undefined) {
            this.notes.push(`pod ${name}: CPU request unknown (no ${CONTROLLER_METRICS.podCpu} or kube_pod_container_resource_requests in the harvest); set --cpu`);
        }
        // The inference container runs with requests = limits; a replayed pod is assumed to as well.
        return { name, phase: "Running", resizing: false, sidecar: false, cpuRequestMillis: cpu, cpuLimitMillis: cpu, memoryRequestBytes: memory, memoryLimitBytes: memory };
    }

    apply(action: { kind: string; replicas?: number; pod?: string; cpuMillis?: number; memoryBytes?: number }): void {
        if (action.kind === "scale") {
            this.replicas = action.replicas;
            return;
        }
        const p = this.pods.get(action.pod!);
        if (p !== undefined) {
            this.pods.set(p.name, {
                ...p,
                cpuRequestMillis: action.cpuMillis ?? p.cpuRequestMillis, cpuLimitMillis: action.cpuMillis ?? p.cpuLimitMillis,
                memoryRequestBytes: action.memoryBytes ?? p.memoryRequestBytes, memoryLimitBytes: action.memoryBytes ?? p.memoryLimitBytes,
            });
        }
    }
}

/** Replays `decide` with the loop's configuration over the store, from start to end (epoch ms). */
export async function replay(config: LoopConfig, decide: Decide<any, any>, store: SeriesStore, start: number, end: number, initial: InitialTarget = {}): Promise<ReplayResult> {
    const target = new SimulatedTarget(config, store, initial);
    let last: TargetState | undefined;
    const loop = new ControlLoop({
        name: config.name, periodMs: config.periodMs, minIntervalMs: config.minIntervalMs, dryRun: false, limits: config.limits, params: config.params,
    }, {
        decide,
        now: () => 0,
        observe: async (time) => {
            const metrics = evaluateAll(config.queries, store, time);
            last = target.observe(time, metrics);
            return { time, metrics, target: last };
        },
        act: async (_observed, guarded) => guarded.approved.map((a) => {
            target.apply(a.action);
            return { approved: a, outcome: "applied" as const };
        }),
    });
    const ticks: TickReport[] = [];
    for (let t = start; t <= end; t += config.periodMs) {
        ticks.push(await loop.tick(t));
    }
    const final = last === undefined ? target.observe(end, {}) : target.observe(end, ticks[ticks.length - 1]?.observation?.metrics ?? {});
    return { ticks, notes: [...new Set(target.notes)], final };
}
