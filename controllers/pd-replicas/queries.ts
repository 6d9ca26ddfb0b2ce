/**
 * What pd-replicas observes: the consumer pods' queued frames and processing rates (PvaPy's pvapy_frame_queued and
 * pvapy_frame_processingrate, scraped from role=workload pods), each pod's latest value within the window summed —
 * the original summed each sensor's last report of the past 5 s.
 */
import type { ObservationQuery } from "../runtime/queries";
import { PD_QUERIES } from "./decide";

export interface PdReplicasTarget {
    namespace: string;
    /** The consumer Deployment; its pods are <deployment>-<replicaset hash>-<suffix>. */
    deployment: string;
    /** How far back a pod's last report still counts, e.g. 5s. */
    window: string;
}

/** Pod names of a Deployment's pods (ReplicaSet hash and random suffix). */
export function deploymentPodPattern(deployment: string): string {
    return `${deployment.replace(/[.]/g, "\\.")}-[a-z0-9]+-[a-z0-9]+`;
}

export function pdReplicasQueries(t: PdReplicasTarget): Record<string, ObservationQuery> {
    const select = { labels: { namespace: t.namespace }, labelsMatching: { pod: deploymentPodPattern(t.deployment) } };
    return {
        [PD_QUERIES.queued]: { metric: "pvapy_frame_queued", ...select, fn: "last", window: t.window, aggregate: "sum", by: [] },
        [PD_QUERIES.processingRate]: { metric: "pvapy_frame_processingrate", ...select, fn: "last", window: t.window, aggregate: "sum", by: [] },
    };
}
