import { strict as assert } from "node:assert";
import { CADVISOR_JOB, METRIC_CATALOGUE, MONITORS, MonitorSpec, monitorManifest } from "../../components/monitoring";
import { KNOWN_METRICS, catalogueIndex } from "./catalogue";

const byName = (name: string): MonitorSpec => {
    const m = MONITORS.find((x) => x.name === name);
    assert.ok(m, `monitor ${name} missing`);
    return m!;
};
const ctx = { namespace: "monitoring", workloadNamespaces: ["default"], intervals: { general: "5s", rapid: "2s" } };
const endpointOf = (name: string) => {
    const manifest = monitorManifest(byName(name), ctx);
    return manifest.spec.endpoints?.[0] ?? manifest.spec.podMetricsEndpoints[0];
};

/** The original's monitors (charon-inventory.md §1 item 10 / provision-masternode.yaml). */
const inventory: Record<string, {
    kind: string; namespaces: unknown; matchLabels: Record<string, string>; exists?: string[];
    port?: string; targetPort?: number; portNumber?: number; scheme: string; interval: string; insecure?: boolean;
}> = {
    "dcgm-monitor": {
        kind: "ServiceMonitor", namespaces: { any: true }, matchLabels: { "app.kubernetes.io/name": "dcgm-exporter" },
        port: "metrics", scheme: "http", interval: "2s",
    },
    "numaflow-pipeline-metrics": {
        kind: "ServiceMonitor", namespaces: { matchNames: ["default"] },
        matchLabels: { "app.kubernetes.io/component": "vertex", "app.kubernetes.io/managed-by": "vertex-controller", "app.kubernetes.io/part-of": "numaflow" },
        exists: ["numaflow.numaproj.io/pipeline-name", "numaflow.numaproj.io/vertex-name"],
        port: "metrics", targetPort: 2469, scheme: "https", interval: "5s", insecure: true,
    },
    "numaflow-pipeline-daemon-metrics": {
        kind: "ServiceMonitor", namespaces: { matchNames: ["default"] },
        matchLabels: { "app.kubernetes.io/component": "daemon", "app.kubernetes.io/managed-by": "pipeline-controller", "app.kubernetes.io/part-of": "numaflow" },
        exists: ["numaflow.numaproj.io/pipeline-name"],
        port: "tcp", targetPort: 4327, scheme: "https", interval: "5s", insecure: true,
    },
    "numaflow-mvtx-metrics": {
        kind: "ServiceMonitor", namespaces: { matchNames: ["default"] },
        matchLabels: { "app.kubernetes.io/component": "mono-vertex", "app.kubernetes.io/managed-by": "mono-vertex-controller", "app.kubernetes.io/part-of": "numaflow" },
        exists: ["numaflow.numaproj.io/mono-vertex-name"],
        port: "metrics", targetPort: 2469, scheme: "https", interval: "5s", insecure: true,
    },
    "numaflow-mvtx-daemon-metrics": {
        kind: "ServiceMonitor", namespaces: { matchNames: ["default"] },
        matchLabels: { "app.kubernetes.io/component": "mono-vertex-daemon", "app.kubernetes.io/managed-by": "mono-vertex-controller", "app.kubernetes.io/part-of": "numaflow" },
        exists: ["numaflow.numaproj.io/mono-vertex-name"],
        port: "tcp", targetPort: 4327, scheme: "https", interval: "5s", insecure: true,
    },
    "numaflow-controller-metrics": {
        kind: "PodMonitor", namespaces: { matchNames: ["numaflow-system"] },
        matchLabels: { "app.kubernetes.io/component": "controller-manager", "app.kubernetes.io/name": "controller-manager", "app.kubernetes.io/part-of": "numaflow" },
        port: "metrics", portNumber: 9090, scheme: "http", interval: "2s",
    },
    "numaflow-isbsvc-jetstream-metrics": {
        kind: "ServiceMonitor", namespaces: { matchNames: ["default"] },
        matchLabels: {
            "app.kubernetes.io/component": "isbsvc", "app.kubernetes.io/managed-by": "isbsvc-controller",
            "app.kubernetes.io/part-of": "numaflow", "numaflow.numaproj.io/isbsvc-type": "jetstream",
        },
        exists: ["numaflow.numaproj.io/isbsvc-name"],
        port: "metrics", targetPort: 7777, scheme: "http", interval: "5s",
    },
    "workload-metrics": {
        kind: "PodMonitor", namespaces: { matchNames: ["default"] }, matchLabels: { role: "workload" },
        portNumber: 9100, scheme: "http", interval: "2s",
    },
};

describe("monitors", () => {
    it("declares every monitor of the original plus the two exporters, each once", () => {
        const names = MONITORS.map((m) => m.name);
        assert.equal(new Set(names).size, names.length);
        assert.deepEqual(names, [...Object.keys(inventory), "node-exporter", "kube-state-metrics"]);
    });

    for (const [name, want] of Object.entries(inventory)) {
        it(`${name}: same kind, selector, namespaces, port, scheme and interval as the original`, () => {
            const manifest = monitorManifest(byName(name), ctx);
            assert.equal(manifest.kind, want.kind);
            assert.equal(manifest.metadata.namespace, "monitoring");
            assert.deepEqual(manifest.spec.namespaceSelector, want.namespaces);
            assert.deepEqual(manifest.spec.selector.matchLabels, want.matchLabels);
            assert.deepEqual((manifest.spec.selector.matchExpressions ?? []).map((e: any) => [e.key, e.operator]),
                (want.exists ?? []).map((k) => [k, "Exists"]));
            const e = endpointOf(name);
            assert.equal(e.port, want.port);
            assert.equal(e.targetPort, want.targetPort);
            assert.equal(e.portNumber, want.portNumber);
            assert.equal(e.path, "/metrics");
            assert.equal(e.scheme, want.scheme);
            assert.equal(e.interval, want.interval);
            assert.equal(e.scrapeTimeout, want.interval);
            assert.equal(e.tlsConfig?.insecureSkipVerify, want.insecure);
        });
    }

    it("relabels the DCGM job as the original did and keeps the exporter's labels and timestamps policy", () => {
        const e = endpointOf("dcgm-monitor");
        assert.equal(e.honorLabels, true);
        assert.equal(e.honorTimestamps, false);
        assert.deepEqual(e.relabelings, [
            { sourceLabels: ["__metrics_path__"], targetLabel: "metrics_path" },
            { action: "replace", targetLabel: "job", replacement: "integrations/dcgm-exporter" },
        ]);
    });

    it("selects the exporters' Services by the labels their charts set", () => {
        assert.deepEqual(monitorManifest(byName("node-exporter"), ctx).spec.selector.matchLabels,
            { "app.kubernetes.io/name": "prometheus-node-exporter", "app.kubernetes.io/instance": "node-exporter" });
        assert.equal(endpointOf("node-exporter").port, "metrics");
        assert.deepEqual(monitorManifest(byName("kube-state-metrics"), ctx).spec.selector.matchLabels,
            { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-state-metrics" });
        assert.equal(endpointOf("kube-state-metrics").port, "http");
        assert.equal(endpointOf("kube-state-metrics").honorLabels, true);
    });

    it("applies the workload namespaces and intervals it is given", () => {
        const m = monitorManifest(byName("numaflow-pipeline-metrics"), { namespace: "monitoring", workloadNamespaces: ["aps", "lab"], intervals: { general: "10s", rapid: "1s" } });
        assert.deepEqual(m.spec.namespaceSelector, { matchNames: ["aps", "lab"] });
        assert.equal(m.spec.endpoints[0].interval, "10s");
        assert.equal(monitorManifest(byName("workload-metrics"), { ...ctx, intervals: { general: "10s", rapid: "1s" } }).spec.podMetricsEndpoints[0].interval, "1s");
    });
});

describe("metric catalogue", () => {
    it("lists every monitor and scrape job, with unique names per source", () => {
        assert.deepEqual(METRIC_CATALOGUE.map((e) => e.source), [...MONITORS.map((m) => m.name), CADVISOR_JOB.name, "charon-control-loops", "every-scrape"]);
        for (const entry of METRIC_CATALOGUE) {
            assert.equal(new Set(entry.metrics).size, entry.metrics.length, entry.source);
            for (const metric of entry.metrics) {
                assert.match(metric, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
            }
        }
    });

    it("covers the original metric list, with its wrong names fixed", () => {
        const original = [
            "forwarder_read_total", "forwarder_read_bytes_total", "forwarder_write_total", "forwarder_write_bytes_total",
            "forwarder_ack_total", "forwarder_drop_total", "vertex_pending_messages", "isb_jetstream_isFull_total",
            "isb_jetstream_buffer_soft_usage", "isb_jetstream_buffer_pending", "isb_jetstream_buffer_ack_pending",
            "controller_vertex_desired_replicas", "controller_vertex_current_replicas", "controller_vertex_min_replicas",
            "controller_vertex_max_replicas", "node_cpu_seconds_total", "node_memory_MemAvailable_bytes",
            "kube_pod_status_phase", "kube_node_status_condition", "container_cpu_usage_seconds_total",
            "container_cpu_cfs_throttled_periods_total", "container_memory_working_set_bytes", "container_memory_failcnt",
            "container_network_receive_bytes_total", "container_fs_reads_total", "container_start_time_seconds",
            "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP",
            "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK",
            "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "pvapy_frame_processed_total", "pvapy_frame_processingrate", "pvapy_frame_queued",
        ];
        for (const metric of original) {
            assert.ok(KNOWN_METRICS.has(metric), metric);
        }
        // Not produced by the DCGM exporter's default counters: not in the catalogue, so no dashboard can use them.
        for (const wrong of ["DCGM_FI_DEV_SM_UTIL", "DCGM_FI_DEV_DRAM_UTIL", "DCGM_FI_DEV_FB_TOTAL"]) {
            assert.ok(!KNOWN_METRICS.has(wrong), wrong);
        }
    });

    it("indexes each metric to the sources that produce it", () => {
        const index = catalogueIndex();
        assert.deepEqual(index.get("forwarder_read_total"), ["numaflow-pipeline-metrics"]);
        assert.deepEqual(index.get("container_cpu_usage_seconds_total"), ["kubelet-cadvisor"]);
        assert.deepEqual(index.get("up"), ["every-scrape"]);
        assert.deepEqual(index.get("DCGM_FI_DEV_GPU_UTIL"), ["dcgm-monitor"]);
        assert.equal(index.get("nope"), undefined);
    });
});
