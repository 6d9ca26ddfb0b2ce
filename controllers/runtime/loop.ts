/**
 * The control loop: observe → decide → guard → act, once per fixed period. Ticks never overlap; a tick that
 * overruns its period makes the loop skip to the next period boundary (counted). A failing observe skips the tick,
 * a throwing decide keeps the previous state, a failing action leaves the object's history untouched so it is
 * retried; every outcome is exported (loop-metrics.ts) and logged as one JSON line.
 */
import type { ActResult } from "./act";
import { type ActionHistory, type GuardResult, guardActions, recordActions } from "./guard";
import type { Decide, Decision, Limits, Observation, TargetState } from "./types";

export interface LoopSettings {
    /** Loop name (the `controller` label). */
    name: string;
    periodMs: number;
    minIntervalMs: number;
    dryRun: boolean;
    limits: Limits;
    params: unknown;
}

export interface LoopDeps {
    observe: (time: number) => Promise<Observation>;
    act: (observed: TargetState, guarded: GuardResult) => Promise<ActResult[]>;
    decide: Decide<any, any>;
    now: () => number;
    /** Called once per tick with its report (metrics export, logging). */
    onTick?: (report: TickReport) => void;
}

/** What one tick did. */
export interface TickReport {
    time: number;
    durationMs: number;
    observation?: Observation;
    decision?: Decision<unknown>;
    guarded?: GuardResult;
    results: ActResult[];
    error?: { stage: "observe" | "decide" | "act"; message: string };
}

export class ControlLoop {
    private state: unknown = undefined;
    private history: ActionHistory = {};
    private overrunCount = 0;

    constructor(readonly settings: LoopSettings, private readonly deps: LoopDeps) {}

    get overruns(): number {
        return this.overrunCount;
    }

    /** One observe → decide → guard → act pass at `time`. */
    async tick(time: number): Promise<TickReport> {
        const started = this.deps.now();
        const finish = (r: Omit<TickReport, "time" | "durationMs">): TickReport => {
            const report = { time, durationMs: this.deps.now() - started, ...r };
            this.deps.onTick?.(report);
            return report;
        };
        let observation: Observation;
        try {
            observation = await this.deps.observe(time);
        } catch (e) {
            return finish({ results: [], error: { stage: "observe", message: (e as Error).message } });
        }
        let decision: Decision<unknown>;
        try {
            decision = this.deps.decide(observation, this.state, this.settings.params);
            if (decision === null || typeof decision !== "object" || !Array.isArray(decision.actions)) {
                throw new Error("decide must return { actions: [...], state, signals? }");
            }
        } catch (e) {
            return finish({ observation, results: [], error: { stage: "decide", message: (e as Error).message } });
        }
        this.state = decision.state;
        const guarded = guardActions(decision.actions, observation.target, {
            limits: this.settings.limits, minIntervalMs: this.settings.minIntervalMs, history: this.history, now: time,
        });
        let results: ActResult[] = [];
        try {
            results = guarded.approved.length === 0 ? [] : await this.deps.act(observation.target, guarded);
        } catch (e) {
            return finish({ observation, decision, guarded, results, error: { stage: "act", message: (e as Error).message } });
        }
        const done = results.filter((r) => r.outcome !== "failed").map((r) => r.approved.object);
        this.history = recordActions(this.history, done, time);
        const failed = results.find((r) => r.outcome === "failed");
        return finish({ observation, decision, guarded, results, ...(failed ? { error: { stage: "act" as const, message: failed.error ?? "failed" } } : {}) });
    }

    /** Ticks at a fixed rate until `signal` aborts. */
    async run(signal: AbortSignal, sleep: (ms: number, signal: AbortSignal) => Promise<void> = abortableSleep): Promise<void> {
        const period = this.settings.periodMs;
        let next = this.deps.now();
        while (!signal.aborted) {
            await this.tick(next);
            next += period;
            const now = this.deps.now();
            if (now > next) {
                const skipped = Math.ceil((now - next) / period);
                this.overrunCount += skipped;
                next += skipped * period;
            }
            await sleep(next - this.deps.now(), signal);
        }
    }
}

/** setTimeout that resolves early when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal.aborted || ms <= 0) {
            resolve();
            return;
        }
        const timer = setTimeout(done, ms);
        function done(): void {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
        }
        signal.addEventListener("abort", done);
    });
}
