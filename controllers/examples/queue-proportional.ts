/**
 * The README's worked example of a researcher's own controller: a proportional controller for the PvaPy baseline
 * that sizes the consumer Deployment to the backlog, ceil(queued / framesPerReplica), and lowers it one replica at
 * a time. Stack setting (Pulumi.<stack>.yaml):
 *
 *   charon:controllers:
 *     custom:
 *       - name: queue-proportional
 *         file: controllers/examples/queue-proportional.ts
 *         target: { kind: deployment, name: consumer }
 *         maxReplicas: 8
 *         queries:
 *           queued: { metric: pvapy_frame_queued, labels: { namespace: default }, fn: last, window: 5s, aggregate: sum }
 *         params: { framesPerReplica: 200 }
 *
 * Replay it over a harvested run: npm run replay -- --controller queue-proportional --run results/<stack>/<experiment>/<run>
 */
import type { Decide } from "../runtime/types";

interface Params {
    framesPerReplica: number;
}

export const decide: Decide<Params, { lastWanted: number }> = (observation, _previous, params) => {
    const queued = (observation.metrics.queued ?? []).reduce((sum, s) => sum + s.value, 0);
    const current = observation.target.kind === "deployment" ? observation.target.replicas : 1;
    const wanted = Math.max(1, Math.ceil(queued / (params.framesPerReplica || 200)));
    // Grow at once, shrink one replica per action (the runtime's minimum interval paces the steps).
    const replicas = wanted >= current ? wanted : current - 1;
    return { actions: [{ kind: "scale", replicas }], state: { lastWanted: wanted }, signals: { queued, wanted } };
};
