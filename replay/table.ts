/**
 * The replay's actions as a table: one row per tick (one per action when a tick took several), the decide
 * function's signals as columns (or one `signals` column when there are many, as with per-pod signals), what was
 * asked, and what the runtime did with it. Text (aligned) or CSV.
 */
import type { TickReport } from "../controllers/runtime/loop";
import type { Action, TargetState } from "../controllers/runtime/types";

/** What an action would change, read from the observed target (for held actions, which carry no previous values). */
function observedBefore(action: Action, target: TargetState | undefined): { replicas?: number; cpuMillis?: number; memoryBytes?: number } {
    if (target?.kind === "deployment") {
        return { replicas: target.replicas };
    }
    const pod = action.kind === "resize" ? target?.pods.find((p) => p.name === action.pod) : undefined;
    return { cpuMillis: pod?.cpuRequestMillis, memoryBytes: pod?.memoryRequestBytes };
}
import { formatCpu, formatMemory } from "../controllers/runtime/quantity";

/** A number with at most 4 significant decimals, as a table cell. */
export function cell(v: number): string {
    if (!Number.isFinite(v)) {
        return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    }
    if (Number.isInteger(v)) {
        return String(v);
    }
    return String(Number(v.toPrecision(6)));
}

/** "scale 1→8", "resize p cpu 1→1500m mem 4Gi→5Gi". */
export function describeAction(action: Action, previous: { replicas?: number; cpuMillis?: number; memoryBytes?: number } = {}): string {
    if (action.kind === "scale") {
        return `scale ${previous.replicas ?? "?"}→${action.replicas}`;
    }
    const parts = [`resize ${action.pod}`];
    if (action.cpuMillis !== undefined) {
        parts.push(`cpu ${previous.cpuMillis === undefined ? "?" : formatCpu(previous.cpuMillis)}→${formatCpu(action.cpuMillis)}`);
    }
    if (action.memoryBytes !== undefined) {
        parts.push(`mem ${previous.memoryBytes === undefined ? "?" : formatMemory(previous.memoryBytes)}→${formatMemory(action.memoryBytes)}`);
    }
    return parts.join(" ");
}

export interface Table {
    header: string[];
    rows: string[][];
}

/** Signal names in first-seen order; more than `maxColumns` become one signals column. */
export function replayTable(ticks: readonly TickReport[], start: number, maxColumns = 8): Table {
    const names: string[] = [];
    for (const t of ticks) {
        for (const n of Object.keys(t.decision?.signals ?? {})) {
            if (!names.includes(n)) {
                names.push(n);
            }
        }
    }
    const asColumns = names.length <= maxColumns;
    const header = ["time", "+s", ...(asColumns ? names : ["signals"]), "action", "outcome"];
    const rows: string[][] = [];
    for (const t of ticks) {
        const signals = t.decision?.signals ?? {};
        const signalCells = asColumns ? names.map((n) => (signals[n] === undefined ? "" : cell(signals[n])))
            : [Object.entries(signals).map(([k, v]) => `${k}=${cell(v)}`).join(" ")];
        const lead = [new Date(t.time).toISOString(), cell((t.time - start) / 1000), ...signalCells];
        const entries: [string, string][] = [
            ...t.results.map((r): [string, string] => [describeAction(r.approved.action, r.approved.previous), r.approved.clamped ? `${r.outcome} (clamped)` : r.outcome]),
            ...(t.guarded?.held ?? []).map((h): [string, string] => [describeAction(h.action, observedBefore(h.action, t.observation?.target)), `held: ${h.reason}`]),
        ];
        if (t.error && t.error.stage !== "act") {
            entries.push(["", `${t.error.stage} error: ${t.error.message}`]);
        }
        if (entries.length === 0) {
            entries.push(["", ""]);
        }
        entries.forEach(([action, outcome], i) => rows.push([...(i === 0 ? lead : lead.map(() => "")), action, outcome]));
    }
    return { header, rows };
}

export function renderText(table: Table): string {
    const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(table.header), ...table.rows.map(line)].join("\n") + "\n";
}

function csvField(s: string): string {
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, "\"\"")}"` : s;
}

export function renderCsv(table: Table): string {
    return [table.header, ...table.rows].map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

/** One line per counted outcome and the final target. */
export function summary(ticks: readonly TickReport[], final: TargetState): string {
    const counts = new Map<string, number>();
    const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
    for (const t of ticks) {
        t.results.forEach((r) => count(r.approved.clamped ? "applied (clamped)" : "applied"));
        t.guarded?.held.forEach((h) => count(`held: ${h.reason}`));
        if (t.error && t.error.stage !== "act") {
            count(`${t.error.stage} errors`);
        }
    }
    const outcomes = [...counts.entries()].map(([k, v]) => `${v} ${k}`).join(", ") || "no actions";
    const state = final.kind === "deployment" ? `${final.name} at ${final.replicas} replicas`
        : final.pods.map((p) => `${p.name} cpu ${p.cpuRequestMillis === undefined ? "?" : formatCpu(p.cpuRequestMillis)}${p.memoryRequestBytes === undefined ? "" : ` mem ${formatMemory(p.memoryRequestBytes)}`}`).join(", ") || "no pods";
    return `${ticks.length} ticks: ${outcomes}; end state: ${state}`;
}
