/** The metric catalogue (components/monitoring/monitors.ts) indexed by metric name, for the dashboard checks. */
import { METRIC_CATALOGUE, type MetricSource } from "../../components/monitoring/monitors";

/** Metric name → the sources producing it. */
export function catalogueIndex(catalogue: readonly MetricSource[] = METRIC_CATALOGUE): ReadonlyMap<string, string[]> {
    const index = new Map<string, string[]>();
    for (const entry of catalogue) {
        for (const metric of entry.metrics) {
            index.set(metric, [...(index.get(metric) ?? []), entry.source]);
        }
    }
    return index;
}

/** Every metric name this stack's monitors and scrape jobs produce. */
export const KNOWN_METRICS: ReadonlySet<string> = new Set(catalogueIndex().keys());
