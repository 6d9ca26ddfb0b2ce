/**
 * The two exporters the metric list needs besides cAdvisor: node_exporter (node_*) and kube-state-metrics
 * (kube_*). Their charts' own ServiceMonitors stay off: this stack declares the monitors (monitors.ts) so the
 * releases do not wait for the CRDs. Keys checked against each chart's values.yaml and templates.
 */
import { NODE_EXPORTER_RELEASE } from "./monitors";

/** Helm values for prometheus-node-exporter (release "node-exporter"). */
export function nodeExporterValues(): Record<string, any> {
    return {
        // Without it the objects would be called node-exporter-prometheus-node-exporter.
        fullnameOverride: NODE_EXPORTER_RELEASE,
        prometheus: { monitor: { enabled: false } },
        resources: { requests: { cpu: "20m", memory: "32Mi" } },
    };
}

/** Helm values for kube-state-metrics (release "kube-state-metrics"; the chart names objects after the release). */
export function kubeStateMetricsValues(): Record<string, any> {
    return {
        prometheus: { monitor: { enabled: false } },
        resources: { requests: { cpu: "20m", memory: "64Mi" } },
    };
}
