/**
 * pd-replicas: the original Charon PD controller (perarnau/charon src/controller/control.py), scaling the PvaPy
 * baseline's consumer Deployment. Every period (2 s):
 *
 *     error     = targetFps + queued − processingRate      (frames)
 *     control   = kp · error + kd · (error − previousError)
 *     replicas  = max(1, control // framesPerReplica)       (Python floor division)
 *
 * with queued and processingRate summed over the consumer pods' latest pvapy_frame_queued and
 * pvapy_frame_processingrate (within 5 s), previousError starting at 0, and the original's parameters as
 * defaults (target 800 fps, Kp 0.5, Kd 1, 64 frames per container). The original computed the rate term but never
 * fed it (its processing-rate collection was commented out), so its rate was always 0: `useProcessingRate: false`
 * reproduces that exactly.
 */
import type { Decide, Sample } from "../runtime/types";

export interface PdReplicasParams {
    /** Frames per second the consumers should keep up with. */
    targetFps: number;
    kp: number;
    kd: number;
    /** Frames one consumer replica absorbs (the original's CONTAINER_CAPACITY). */
    framesPerReplica: number;
    /** Subtract the observed processing rate from the error (the formula); false: the original's run, rate 0. */
    useProcessingRate: boolean;
}

export interface PdReplicasState {
    previousError: number;
}

/** The queries decide reads (built by queries.ts). */
export const PD_QUERIES = { queued: "queued", processingRate: "processingRate" } as const;

/** Python's float floor division a // b (CPython float_divmod), so fractional gains give the original's replicas. */
export function floorDiv(a: number, b: number): number {
    let mod = a % b;
    let div = (a - mod) / b;
    if (mod !== 0 && (b < 0) !== (mod < 0)) {
        mod += b;
        div -= 1;
    }
    if (div === 0) {
        return 0;
    }
    let floor = Math.floor(div);
    if (div - floor > 0.5) {
        floor += 1;
    }
    return floor;
}

function total(samples: readonly Sample[] | undefined): number {
    return (samples ?? []).reduce((sum, s) => sum + (Number.isFinite(s.value) ? s.value : 0), 0);
}

/** One PD step on the original's formula (exported for tests and replay tables). */
export function pdStep(queued: number, processingRate: number, previousError: number, p: PdReplicasParams) {
    const error = p.targetFps + queued - (p.useProcessingRate ? processingRate : 0);
    const derivative = error - previousError;
    const control = p.kp * error + p.kd * derivative;
    const replicas = Math.max(1, floorDiv(control, p.framesPerReplica));
    return { error, derivative, control, replicas };
}

export const decide: Decide<PdReplicasParams, PdReplicasState> = (observation, previous, params) => {
    const queued = total(observation.metrics[PD_QUERIES.queued]);
    const processingRate = total(observation.metrics[PD_QUERIES.processingRate]);
    const step = pdStep(queued, processingRate, previous?.previousError ?? 0, params);
    return {
        actions: [{ kind: "scale", replicas: step.replicas }],
        state: { previousError: step.error },
        signals: { queued, processing_rate: processingRate, ...step },
    };
};
