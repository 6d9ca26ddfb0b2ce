/**
 * Every observation and decision of a tick as Prometheus metrics (names in metric-names.ts), so Grafana shows the
 * loop live and a harvested experiment contains what the controller saw and did.
 */
import type { TickReport } from "./loop";
import { CONTROLLER_METRICS as M } from "./metric-names";
import type { Labels, Registry } from "./registry";

const HELP: Record<string, string> = {
    [M.info]: "Control loop identity (kind, target).",
    [M.dryRun]: "1 while actions are only validated by the API server (dryRun=All), not applied.",
    [M.observation]: "Observed query samples at the last tick (query, and the sample's labels).",
    [M.targetReplicas]: "Observed replicas of the controlled Deployment.",
    [M.podCpu]: "Observed CPU request of the controlled container, millicores.",
    [M.podMemory]: "Observed memory request of the controlled container, bytes.",
    [M.signal]: "Internal values of the decide function at the last tick.",
    [M.desiredReplicas]: "Replicas decide asked for at the last tick (before bounds).",
    [M.desiredCpu]: "CPU decide asked for at the last tick, millicores (before bounds).",
    [M.desiredMemory]: "Memory decide asked for at the last tick, bytes (before bounds).",
    [M.actions]: "Actions by kind, outcome (applied, dry-run, failed, held) and reason.",
    [M.ticks]: "Ticks run.",
    [M.overruns]: "Periods skipped because a tick overran.",
    [M.errors]: "Failures by stage (observe, decide, act).",
    [M.tickDuration]: "Duration of the last tick, seconds.",
    [M.lastTick]: "Start of the last tick, Unix seconds.",
};

/** Sample labels with the loop's own label names moved aside (exported_<name>), as Prometheus does on conflicts. */
function sampleLabels(query: string, labels: Record<string, string>): Labels {
    const out: Labels = { query };
    for (const [k, v] of Object.entries(labels)) {
        out[k === "controller" || k === "query" ? `exported_${k}` : k] = v;
    }
    return out;
}

/** Declares every family at start, so scrapes see them (and their HELP) before the first tick completes. */
export function declareLoopMetrics(registry: Registry, info: { kind: string; target: string; dryRun: boolean }): void {
    for (const [name, help] of Object.entries(HELP)) {
        registry.declare(name, help, name.endsWith("_total") ? "counter" : "gauge");
    }
    registry.setGauges(M.info, HELP[M.info], [{ labels: { kind: info.kind, target: info.target }, value: 1 }]);
    registry.setGauges(M.dryRun, HELP[M.dryRun], [{ labels: {}, value: info.dryRun ? 1 : 0 }]);
}

/** Records one tick's report. */
export function exportTick(registry: Registry, report: TickReport, overruns: number): void {
    registry.inc(M.ticks, HELP[M.ticks]);
    registry.setGauges(M.tickDuration, HELP[M.tickDuration], [{ labels: {}, value: report.durationMs / 1000 }]);
    registry.setGauges(M.lastTick, HELP[M.lastTick], [{ labels: {}, value: report.time / 1000 }]);
    registry.setCounter(M.overruns, HELP[M.overruns], {}, overruns);
    if (report.error) {
        registry.inc(M.errors, HELP[M.errors], { stage: report.error.stage });
    }
    const obs = report.observation;
    if (obs) {
        registry.setGauges(M.observation, HELP[M.observation], Object.entries(obs.metrics).flatMap(([query, samples]) =>
            samples.map((s) => ({ labels: sampleLabels(query, s.labels), value: s.value }))));
        if (obs.target.kind === "deployment") {
            registry.setGauges(M.targetReplicas, HELP[M.targetReplicas], [{ labels: {}, value: obs.target.replicas }]);
        } else {
            const pods = obs.target.pods;
            registry.setGauges(M.podCpu, HELP[M.podCpu], pods.filter((p) => p.cpuRequestMillis !== undefined)
                .map((p) => ({ labels: { pod: p.name }, value: p.cpuRequestMillis! })));
            registry.setGauges(M.podMemory, HELP[M.podMemory], pods.filter((p) => p.memoryRequestBytes !== undefined)
                .map((p) => ({ labels: { pod: p.name }, value: p.memoryRequestBytes! })));
        }
    }
    const decision = report.decision;
    if (decision) {
        registry.setGauges(M.signal, HELP[M.signal], Object.entries(decision.signals ?? {}).map(([signal, value]) => ({ labels: { signal }, value })));
        const scale = decision.actions.filter((a) => a.kind === "scale");
        registry.setGauges(M.desiredReplicas, HELP[M.desiredReplicas], scale.slice(0, 1).map((a) => ({ labels: {}, value: a.replicas })));
        const resizes = decision.actions.filter((a) => a.kind === "resize");
        registry.setGauges(M.desiredCpu, HELP[M.desiredCpu], resizes.filter((a) => a.cpuMillis !== undefined).map((a) => ({ labels: { pod: a.pod }, value: a.cpuMillis! })));
        registry.setGauges(M.desiredMemory, HELP[M.desiredMemory], resizes.filter((a) => a.memoryBytes !== undefined).map((a) => ({ labels: { pod: a.pod }, value: a.memoryBytes! })));
    }
    for (const h of report.guarded?.held ?? []) {
        registry.inc(M.actions, HELP[M.actions], { kind: h.action.kind, outcome: "held", reason: h.reason });
    }
    for (const r of report.results) {
        registry.inc(M.actions, HELP[M.actions], { kind: r.approved.action.kind, outcome: r.outcome, reason: r.approved.clamped ? "clamped" : "" });
    }
}

/** The tick as one log line: time, signals, what was done and held, and any error. */
export function tickLogLine(name: string, report: TickReport): string {
    return JSON.stringify({
        controller: name,
        time: new Date(report.time).toISOString(),
        ms: Math.round(report.durationMs),
        signals: report.decision?.signals,
        actions: report.results.map((r) => ({ ...r.approved.action, outcome: r.outcome, ...(r.approved.clamped ? { clamped: true } : {}), ...(r.error ? { error: r.error } : {}) })),
        held: report.guarded?.held.map((h) => ({ ...h.action, reason: h.reason })),
        ...(report.error ? { error: report.error } : {}),
    });
}
