/**
 * Every chart, image and binary version the platform installs, pinned, in one table.
 * Each layer keeps its entries in its own block below.
 */

// ── tooling ──────────────────────────────────────────────────────────────────────────────────────────────
/**
 * The Pulumi CLI the main-job commands install when none is on PATH, and the one the engine tier builds and runs
 * the program with (tools/engine/go.mod). At least the @pulumi/pulumi version in package.json.
 */
export const pulumiCliVersion = "3.274.1";

// ── cluster ──────────────────────────────────────────────────────────────────────────────────────────────
/** Default k3s release; a stack may pin another with charon:k3s.version. */
export const k3sVersion = "v1.34.2+k3s1";
/**
 * The k3s install script, fetched from the k3s repository at the release tag being installed (so the installer
 * always matches the binary it installs).
 */
export const k3sInstallScriptUrl = (version: string): string =>
    `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(version)}/install.sh`;
/** NVIDIA container toolkit apt packages installed on GPU hosts (all four packages pinned to this version). */
export const nvidiaContainerToolkitVersion = "1.18.0-1";

// ── monitoring ───────────────────────────────────────────────────────────────────────────────────────────
/** Helm charts of the metrics pipeline: repository, chart name and pinned version. */
export const monitoringCharts = {
    /** ServiceMonitor/PodMonitor CRDs only (prometheus-operator v0.87.x); no operator runs. */
    prometheusOperatorCrds: {
        repo: "https://prometheus-community.github.io/helm-charts", chart: "prometheus-operator-crds", version: "25.0.1",
    },
    /** Grafana Mimir 3.0.x, classic architecture (no Kafka). */
    mimir: { repo: "https://grafana.github.io/helm-charts", chart: "mimir-distributed", version: "6.0.5" },
    /** Grafana Alloy v1.12.x, the scraper. */
    alloy: { repo: "https://grafana.github.io/helm-charts", chart: "alloy", version: "1.5.0" },
    /** Grafana 12.3.x; the chart moved to the grafana-community repository. */
    grafana: { repo: "https://grafana-community.github.io/helm-charts", chart: "grafana", version: "11.1.0" },
    /** kube-state-metrics (kube_* series). */
    kubeStateMetrics: {
        repo: "https://prometheus-community.github.io/helm-charts", chart: "kube-state-metrics", version: "6.4.1",
    },
    /** node_exporter (node_* series), one pod per node. */
    nodeExporter: {
        repo: "https://prometheus-community.github.io/helm-charts", chart: "prometheus-node-exporter", version: "4.49.1",
    },
} as const;

// ── numaflow ─────────────────────────────────────────────────────────────────────────────────────────────
/** Numaflow controller, UI server and webhook (chart 0.4.6 ↔ Numaflow v1.7.5), namespace numaflow-system. */
export const numaflowChart = { repo: "https://numaproj.io/helm-charts", chart: "numaflow", version: "0.4.6" } as const;
/** The Numaflow release that chart installs: its CRDs and default controller config are what objects are checked against. */
export const numaflowVersion = "v1.7.5";
/**
 * NATS JetStream server of the InterStepBufferService: a `version` key of the controller ConfigMap's
 * isbsvc.jetstream.versions list shipped by the chart above (nats:2.10.29 with its exporter and reloader).
 */
export const jetstreamVersion = "2.10.29";
/**
 * The small reverse proxy that adds Mimir's tenant header to the Numaflow UI's metric queries (numaflow-server's
 * Prometheus client cannot send headers). Unprivileged nginx; its entrypoint renders templates and exports the
 * pod's DNS resolvers (NGINX_ENTRYPOINT_LOCAL_RESOLVERS).
 */
export const numaflowMetricsGatewayImage = "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine";


// ── gpu ──────────────────────────────────────────────────────────────────────────────────────────────────
/** NVIDIA charts: the device plugin (makes nvidia.com/gpu schedulable) and the DCGM exporter (GPU metrics). */
export const gpuCharts = {
    devicePlugin: { repo: "https://nvidia.github.io/k8s-device-plugin", chart: "nvidia-device-plugin", version: "0.18.0" },
    dcgmExporter: { repo: "https://nvidia.github.io/dcgm-exporter/helm-charts", chart: "dcgm-exporter", version: "4.8.3" },
} as const;


// ── workflows & controllers ──────────────────────────────────────────────────────────────────────────────
/** APS PtychoNN workflow images (the original's tags). A stack may pin others under charon:workflows.aps.images. */
export const apsImages = {
    /** Numaflow user-defined source: PvaPy frames → Numaflow messages (python + pvapy 5.5 + pynumaflow). */
    udsource: "docker.io/gemblerz/pvapy-udsource:0.0.1",
    /** Numaflow UDF: PtychoNN TensorRT inference, batch 8, 512² int16 in → 64² int16 out. */
    udf: "docker.io/gemblerz/ptychonn-udf:0.0.2",
    /** PvaPy tools: pvapy-ad-sim-server (the simulated stream) and pvapy-mirror-server. */
    pvapy: "docker.io/akhileshraj/charon:0.0.1",
    /**
     * Baseline consumer (pvapy-hpc-consumer + InferPtychoNNImageProcessor + TensorRT model). The original built it
     * locally and never published it: import it into each GPU node's containerd or pin a registry copy.
     */
    consumer: "local/ptychonn:cuda126",
} as const;
/**
 * actimanager has no default: upstream only publishes a moving `dev` tag, so a stack that enables it must pin an
 * image (charon:controllers.actimanager.image). Kubernetes >= 1.31 is required (maestro is kube-scheduler 1.31).
 */
export const actimanagerMinKubernetesMinor = 31;

// ── control loops ────────────────────────────────────────────────────────────────────────────────────────
/**
 * The public Node.js image the control loops run on (the official image's Node 22 LTS on Alpine 3.23; the `node`
 * user is uid 1000). The loops' code is bundled by the program and mounted from a ConfigMap: no image is built.
 */
export const controlLoopImage = "docker.io/library/node:22.22.0-alpine3.23";
