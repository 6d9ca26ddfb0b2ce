/**
 * What inplace-resize observes, per pod of the inference vertex: the share of CFS periods its container was
 * throttled in and its CPU usage (kubelet cAdvisor counters, as rates over the window), its memory working set,
 * and the vertex's pending messages (Numaflow's daemon).
 */
import type { ObservationQuery, SeriesQuery } from "../runtime/queries";
import { RESIZE_QUERIES } from "./decide";

export interface InplaceResizeTarget {
    namespace: string;
    pipeline: string;
    vertex: string;
    /** The controlled container (Numaflow's UDF container is `udf`). */
    container: string;
    /** Window of the rates, e.g. 1m. */
    window: string;
}

/** Numaflow's vertex pod names: <pipeline>-<vertex>-<replica>-<suffix>. */
export function vertexPodPattern(pipeline: string, vertex: string): string {
    return `${pipeline}-${vertex}-[0-9]+-[a-z0-9]+`;
}

/** The labels Numaflow puts on a vertex's pods (the loop's pod selector). */
export function vertexPodSelector(pipeline: string, vertex: string): Record<string, string> {
    return { "numaflow.numaproj.io/pipeline-name": pipeline, "numaflow.numaproj.io/vertex-name": vertex };
}

export function inplaceResizeQueries(t: InplaceResizeTarget): Record<string, ObservationQuery> {
    const container = (metric: string, fn: "rate" | "last"): SeriesQuery => ({
        metric,
        labels: { namespace: t.namespace, container: t.container },
        labelsMatching: { pod: vertexPodPattern(t.pipeline, t.vertex) },
        fn,
        window: t.window,
        aggregate: fn === "rate" ? "sum" : "max",
        by: ["pod"],
    });
    return {
        [RESIZE_QUERIES.throttled]: {
            ...container("container_cpu_cfs_throttled_periods_total", "rate"),
            dividedBy: container("container_cpu_cfs_periods_total", "rate"),
        },
        [RESIZE_QUERIES.usage]: container("container_cpu_usage_seconds_total", "rate"),
        [RESIZE_QUERIES.workingSet]: container("container_memory_working_set_bytes", "last"),
        [RESIZE_QUERIES.pending]: {
            metric: "vertex_pending_messages",
            labels: { namespace: t.namespace, pipeline: t.pipeline, vertex: t.vertex, period: "1m" },
            fn: "last", window: t.window, aggregate: "max", by: [],
        },
    };
}
