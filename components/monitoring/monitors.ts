/**
 * The platform's monitors, declared once as data: every ServiceMonitor/PodMonitor the original Charon created
 * (inventory §1 item 10, same selectors, ports and schemes) plus the two exporters this stack installs, and the
 * catalogue of metric names each monitor or scrape job produces (the dashboards and the policy pack check
 * against it).
 */
import { CONTROLLER_METRIC_NAMES, LOOPS_POD_MONITOR } from "../../controllers/runtime/metric-names";
import { NUMAFLOW_SYSTEM_NAMESPACE } from "../numaflow/values";

/** Namespace of the monitoring stack (releases, monitors, Grafana's Secret and dashboards). */
export const MONITORING_NAMESPACE = "monitoring";

/** Helm release names of the two exporters; their Services carry `app.kubernetes.io/instance: <release>`. */
export const NODE_EXPORTER_RELEASE = "node-exporter";
export const KUBE_STATE_METRICS_RELEASE = "kube-state-metrics";

/** Which scrape interval setting an endpoint uses: the general one (5 s) or the rapid one (2 s). */
export type IntervalClass = "general" | "rapid";

export interface LabelSelectorRequirement {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: LabelSelectorRequirement[];
}

export interface RelabelRule {
    sourceLabels?: string[];
    targetLabel?: string;
    action?: "replace" | "keep" | "drop" | "labeldrop" | "labelkeep";
    regex?: string;
    replacement?: string;
}

/** Where a monitor looks for its targets. */
export type TargetNamespaces =
    | { kind: "workload" }           // the stack's workload namespaces (default: ["default"], as in the original)
    | { kind: "names"; names: string[] }
    | { kind: "any" };

export interface MonitorEndpoint {
    /** Service port name (ServiceMonitor) or container port name (PodMonitor). */
    port?: string;
    /** Target port of the pod behind the Service (ServiceMonitor; the original set it beside `port`). */
    targetPort?: number;
    /** Container port number (PodMonitor; replaces the deprecated targetPort). */
    portNumber?: number;
    path: string;
    scheme: "http" | "https";
    interval: IntervalClass;
    /** Skip TLS verification (Numaflow serves metrics with a self-signed certificate). */
    insecureSkipVerify?: boolean;
    honorLabels?: boolean;
    honorTimestamps?: boolean;
    relabelings?: RelabelRule[];
}

export interface MonitorSpec {
    kind: "ServiceMonitor" | "PodMonitor";
    /** metadata.name (unique in the monitoring namespace). */
    name: string;
    description: string;
    namespaces: TargetNamespaces;
    selector: LabelSelector;
    endpoint: MonitorEndpoint;
    /** Metric names the selected targets expose (histograms as their _bucket/_sum/_count series). */
    metrics: readonly string[];
}

const numaflowPartOf = { "app.kubernetes.io/part-of": "numaflow" };

const histogram = (name: string): string[] => [`${name}_bucket`, `${name}_sum`, `${name}_count`];

/** Numaflow pipeline vertices (Go and Rust data planes share these names); ISB writer gauges come from vertices too. */
const VERTEX_METRICS = [
    "forwarder_read_total", "forwarder_data_read_total", "forwarder_read_bytes_total", "forwarder_data_read_bytes_total",
    "forwarder_read_error_total", "forwarder_write_total", "forwarder_write_bytes_total", "forwarder_write_error_total",
    "forwarder_ack_total", "forwarder_ack_error_total", "forwarder_drop_total", "forwarder_drop_bytes_total",
    "forwarder_udf_error_total", "forwarder_platform_error_total", "forwarder_udf_read_total", "forwarder_udf_write_total",
    ...histogram("forwarder_udf_processing_time"), ...histogram("forwarder_forward_chunk_processing_time"),
    "isb_jetstream_isFull_total", "isb_jetstream_isFull_error_total", "isb_jetstream_read_error_total",
    "isb_jetstream_write_error_total", "isb_jetstream_write_timeout_total", "isb_jetstream_buffer_soft_usage",
    "isb_jetstream_buffer_solid_usage", "isb_jetstream_buffer_pending", "isb_jetstream_buffer_ack_pending",
];

/** cAdvisor series served by the kubelet at /metrics/cadvisor. */
const CADVISOR_METRICS = [
    "container_cpu_usage_seconds_total", "container_cpu_user_seconds_total", "container_cpu_system_seconds_total",
    "container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total", "container_cpu_cfs_throttled_seconds_total",
    "container_memory_usage_bytes", "container_memory_working_set_bytes", "container_memory_cache", "container_memory_rss",
    "container_memory_swap", "container_memory_failcnt", "container_memory_max_usage_bytes", "container_oom_events_total",
    "container_spec_memory_limit_bytes", "container_spec_cpu_quota", "container_spec_cpu_period", "container_spec_cpu_shares",
    "container_network_receive_bytes_total", "container_network_transmit_bytes_total",
    "container_network_receive_packets_total", "container_network_transmit_packets_total",
    "container_network_receive_errors_total", "container_network_transmit_errors_total",
    "container_network_receive_packets_dropped_total", "container_network_transmit_packets_dropped_total",
    "container_fs_reads_total", "container_fs_writes_total", "container_fs_reads_bytes_total", "container_fs_writes_bytes_total",
    "container_fs_usage_bytes", "container_fs_limit_bytes", "container_start_time_seconds",
    "machine_cpu_cores", "machine_memory_bytes",
];

/** Series every scrape job produces for each target (Prometheus/Alloy scrape bookkeeping). */
const SCRAPE_METRICS = [
    "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added",
];

/** The monitors, in the original's order, then the two exporters this stack installs. */
export const MONITORS: readonly MonitorSpec[] = [
    {
        kind: "ServiceMonitor",
        name: "dcgm-monitor",
        description: "NVIDIA DCGM exporter (GPU nodes only). The DCGM chart's own ServiceMonitor must stay disabled.",
        // The GPU layer chooses the exporter's namespace; the selector label is unique to the exporter's Service.
        namespaces: { kind: "any" },
        selector: { matchLabels: { "app.kubernetes.io/name": "dcgm-exporter" } },
        endpoint: {
            port: "metrics", path: "/metrics", scheme: "http", interval: "rapid",
            honorLabels: true, honorTimestamps: false,
            relabelings: [
                { sourceLabels: ["__metrics_path__"], targetLabel: "metrics_path" },
                { action: "replace", targetLabel: "job", replacement: "integrations/dcgm-exporter" },
            ],
        },
        // The exporter's default counters (etc/default-counters.csv). SM_UTIL/DRAM_UTIL are not DCGM fields and
        // the profiling counters (DCGM_FI_PROF_*) and FB_TOTAL are not in the default list.
        metrics: [
            "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_ENC_UTIL", "DCGM_FI_DEV_DEC_UTIL",
            "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_MEMORY_TEMP",
            "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_SM_CLOCK",
            "DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "DCGM_FI_DEV_XID_ERRORS",
        ],
    },
    {
        kind: "ServiceMonitor",
        name: "numaflow-pipeline-metrics",
        description: "Numaflow pipeline vertices (forwarder and ISB writer metrics).",
        namespaces: { kind: "workload" },
        selector: {
            matchLabels: {
                "app.kubernetes.io/component": "vertex",
                "app.kubernetes.io/managed-by": "vertex-controller",
                ...numaflowPartOf,
            },
            matchExpressions: [
                { key: "numaflow.numaproj.io/pipeline-name", operator: "Exists" },
                { key: "numaflow.numaproj.io/vertex-name", operator: "Exists" },
            ],
        },
        endpoint: { port: "metrics", targetPort: 2469, path: "/metrics", scheme: "https", interval: "general", insecureSkipVerify: true },
        metrics: VERTEX_METRICS,
    },
    {
        kind: "ServiceMonitor",
        name: "numaflow-pipeline-daemon-metrics",
        description: "Numaflow pipeline daemons (pending messages per vertex).",
        namespaces: { kind: "workload" },
        selector: {
            matchLabels: {
                "app.kubernetes.io/component": "daemon",
                "app.kubernetes.io/managed-by": "pipeline-controller",
                ...numaflowPartOf,
            },
            matchExpressions: [{ key: "numaflow.numaproj.io/pipeline-name", operator: "Exists" }],
        },
        endpoint: { port: "tcp", targetPort: 4327, path: "/metrics", scheme: "https", interval: "general", insecureSkipVerify: true },
        metrics: ["vertex_pending_messages"],
    },
    {
        kind: "ServiceMonitor",
        name: "numaflow-mvtx-metrics",
        description: "Numaflow mono-vertices.",
        namespaces: { kind: "workload" },
        selector: {
            matchLabels: {
                "app.kubernetes.io/component": "mono-vertex",
                "app.kubernetes.io/managed-by": "mono-vertex-controller",
                ...numaflowPartOf,
            },
            matchExpressions: [{ key: "numaflow.numaproj.io/mono-vertex-name", operator: "Exists" }],
        },
        endpoint: { port: "metrics", targetPort: 2469, path: "/metrics", scheme: "https", interval: "general", insecureSkipVerify: true },
        metrics: [
            "monovtx_read_total", "monovtx_read_bytes_total", "monovtx_ack_total", "monovtx_sink_write_total",
            "monovtx_dropped_total", ...histogram("monovtx_processing_time"), ...histogram("monovtx_sink_time"),
        ],
    },
    {
        kind: "ServiceMonitor",
        name: "numaflow-mvtx-daemon-metrics",
        description: "Numaflow mono-vertex daemons.",
        namespaces: { kind: "workload" },
        selector: {
            matchLabels: {
                "app.kubernetes.io/component": "mono-vertex-daemon",
                "app.kubernetes.io/managed-by": "mono-vertex-controller",
                ...numaflowPartOf,
            },
            matchExpressions: [{ key: "numaflow.numaproj.io/mono-vertex-name", operator: "Exists" }],
        },
        endpoint: { port: "tcp", targetPort: 4327, path: "/metrics", scheme: "https", interval: "general", insecureSkipVerify: true },
        metrics: ["monovtx_pending"],
    },
    {
        kind: "PodMonitor",
        name: "numaflow-controller-metrics",
        description: "Numaflow controller (vertex scaling: desired/current/min/max replicas).",
        namespaces: { kind: "names", names: [NUMAFLOW_SYSTEM_NAMESPACE] },
        selector: {
            matchLabels: {
                "app.kubernetes.io/component": "controller-manager",
                "app.kubernetes.io/name": "controller-manager",
                ...numaflowPartOf,
            },
        },
        endpoint: { port: "metrics", portNumber: 9090, path: "/metrics", scheme: "http", interval: "rapid" },
        metrics: [
            "controller_build_info", "controller_isbsvc_health", "controller_pipeline_health",
            "controller_pipeline_desired_phase", "controller_pipeline_current_phase", "controller_isbsvc_jetstream_replicas",
            "controller_vertex_desired_replicas", "controller_vertex_current_replicas",
            "controller_vertex_min_replicas", "controller_vertex_max_replicas",
            "controller_monovtx_desired_replicas", "controller_monovtx_current_replicas",
            "controller_monovtx_min_replicas", "controller_monovtx_max_replicas",
        ],
    },
    {
        kind: "ServiceMonitor",
        name: "numaflow-isbsvc-jetstream-metrics",
        description: "The JetStream inter-step buffer's NATS exporter.",
        namespaces: { kind: "workload" },
        selector: {
            matchLabels: {
                "app.kubernetes.io/component": "isbsvc",
                "app.kubernetes.io/managed-by": "isbsvc-controller",
                ...numaflowPartOf,
                "numaflow.numaproj.io/isbsvc-type": "jetstream",
            },
            matchExpressions: [{ key: "numaflow.numaproj.io/isbsvc-name", operator: "Exists" }],
        },
        endpoint: { port: "metrics", targetPort: 7777, path: "/metrics", scheme: "http", interval: "general" },
        metrics: [
            "jetstream_stream_total_messages", "jetstream_stream_total_bytes",
            "jetstream_consumer_num_pending", "jetstream_consumer_num_ack_pending", "nats_varz_connections",
        ],
    },
    {
        kind: "PodMonitor",
        name: "workload-metrics",
        description: "Workload pods labelled role=workload (the PvaPy baseline) exposing metrics on port 9100.",
        namespaces: { kind: "workload" },
        selector: { matchLabels: { role: "workload" } },
        endpoint: { portNumber: 9100, path: "/metrics", scheme: "http", interval: "rapid" },
        metrics: ["pvapy_frame_processed_total", "pvapy_frame_processingrate", "pvapy_frame_queued"],
    },
    {
        kind: "ServiceMonitor",
        name: "node-exporter",
        description: "node_exporter on every node (node_* series).",
        namespaces: { kind: "names", names: [MONITORING_NAMESPACE] },
        selector: {
            matchLabels: {
                "app.kubernetes.io/name": "prometheus-node-exporter",
                "app.kubernetes.io/instance": NODE_EXPORTER_RELEASE,
            },
        },
        endpoint: {
            port: "metrics", path: "/metrics", scheme: "http", interval: "general",
            relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node" }],
        },
        metrics: [
            "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
            "node_memory_MemFree_bytes", "node_memory_Buffers_bytes", "node_memory_Cached_bytes",
            "node_load1", "node_load5", "node_load15", "node_filesystem_avail_bytes", "node_filesystem_size_bytes",
            "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
            "node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_boot_time_seconds", "node_time_seconds",
            "node_uname_info",
        ],
    },
    {
        kind: "ServiceMonitor",
        name: "kube-state-metrics",
        description: "kube-state-metrics (kube_* series); honorLabels keeps the namespace/pod labels of the objects.",
        namespaces: { kind: "names", names: [MONITORING_NAMESPACE] },
        selector: {
            matchLabels: {
                "app.kubernetes.io/name": "kube-state-metrics",
                "app.kubernetes.io/instance": KUBE_STATE_METRICS_RELEASE,
            },
        },
        endpoint: { port: "http", path: "/metrics", scheme: "http", interval: "general", honorLabels: true },
        metrics: [
            "kube_pod_status_phase", "kube_pod_info", "kube_pod_owner", "kube_pod_container_status_restarts_total",
            "kube_pod_container_status_running", "kube_pod_container_resource_requests",
            "kube_pod_container_resource_limits", "kube_node_status_condition", "kube_node_info",
            "kube_node_status_capacity", "kube_node_status_allocatable", "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas_available", "kube_namespace_status_phase",
        ],
    },
];

/** A scrape job that is not a monitor: Alloy's own kubelet cAdvisor job. */
export interface ScrapeJobSpec {
    name: string;
    description: string;
    interval: IntervalClass;
    metrics: readonly string[];
}

export const CADVISOR_JOB: ScrapeJobSpec = {
    name: "kubelet-cadvisor",
    description: "Kubelet cAdvisor (/metrics/cadvisor on every node, scraped by Alloy).",
    interval: "general",
    metrics: CADVISOR_METRICS,
};

/** One entry of the metric catalogue: a source (monitor or scrape job) and the names it produces. */
export interface MetricSource {
    source: string;
    kind: "ServiceMonitor" | "PodMonitor" | "ScrapeJob";
    metrics: readonly string[];
}

/** The catalogue: every monitor and scrape job with the metric names it produces, plus per-scrape series. */
export const METRIC_CATALOGUE: readonly MetricSource[] = [
    ...MONITORS.map((m): MetricSource => ({ source: m.name, kind: m.kind, metrics: m.metrics })),
    { source: CADVISOR_JOB.name, kind: "ScrapeJob", metrics: CADVISOR_JOB.metrics },
    // The control loops' PodMonitor, declared by the controllers layer (components/controllers/control-loops.ts).
    { source: LOOPS_POD_MONITOR, kind: "PodMonitor", metrics: CONTROLLER_METRIC_NAMES },
    { source: "every-scrape", kind: "ScrapeJob", metrics: SCRAPE_METRICS },
];

/** What a monitor manifest needs from the stack's settings. */
export interface MonitorContext {
    /** Namespace the monitor objects live in. */
    namespace: string;
    /** Namespaces of pipelines, the ISB and workloads. */
    workloadNamespaces: readonly string[];
    /** The general and rapid scrape intervals (e.g. "5s", "2s"). */
    intervals: Record<IntervalClass, string>;
}

/** The Kubernetes object (apiVersion/kind/metadata/spec) for one monitor spec. */
export function monitorManifest(spec: MonitorSpec, ctx: MonitorContext): Record<string, any> {
    const interval = ctx.intervals[spec.endpoint.interval];
    const namespaceSelector = spec.namespaces.kind === "any"
        ? { any: true }
        : { matchNames: [...(spec.namespaces.kind === "names" ? spec.namespaces.names : ctx.workloadNamespaces)] };
    const e = spec.endpoint;
    const endpoint: Record<string, any> = {
        ...(e.port !== undefined ? { port: e.port } : {}),
        ...(spec.kind === "ServiceMonitor" && e.targetPort !== undefined ? { targetPort: e.targetPort } : {}),
        ...(spec.kind === "PodMonitor" && e.portNumber !== undefined ? { portNumber: e.portNumber } : {}),
        path: e.path,
        scheme: e.scheme,
        interval,
        // A scrape may never outlast its interval (Prometheus rejects timeout > interval).
        scrapeTimeout: interval,
        ...(e.insecureSkipVerify ? { tlsConfig: { insecureSkipVerify: true } } : {}),
        ...(e.honorLabels !== undefined ? { honorLabels: e.honorLabels } : {}),
        ...(e.honorTimestamps !== undefined ? { honorTimestamps: e.honorTimestamps } : {}),
        ...(e.relabelings ? { relabelings: e.relabelings.map((r) => ({ ...r })) } : {}),
    };
    const selector: Record<string, any> = {};
    if (spec.selector.matchLabels) {
        selector.matchLabels = { ...spec.selector.matchLabels };
    }
    if (spec.selector.matchExpressions) {
        selector.matchExpressions = spec.selector.matchExpressions.map((r) => ({ ...r }));
    }
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: spec.kind,
        metadata: {
            name: spec.name,
            namespace: ctx.namespace,
            labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "charon" },
        },
        spec: spec.kind === "ServiceMonitor"
            ? { namespaceSelector, selector, endpoints: [endpoint] }
            : { namespaceSelector, selector, podMetricsEndpoints: [endpoint] },
    };
}
