/**
 * MonitoringStack: the metrics pipeline. prometheus-operator CRDs, then the monitors; Mimir (MinIO blocks),
 * Alloy (scraper), node-exporter, kube-state-metrics and Grafana install in parallel: Alloy and Grafana only
 * need Mimir's Service name, which is fixed by the release name, not the release to be ready.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { monitoringCharts } from "../versions";
import { type ChartSource, type PinnedChart, pinnedRelease } from "../charts";
import type { MonitoringSettings } from "./settings";
import { ALLOY_RELEASE, alloyConfig, alloyValues } from "./alloy";
import { kubeStateMetricsValues, nodeExporterValues } from "./exporters";
import {
    DASHBOARD_PROVIDER, GRAFANA_ADMIN_PASSWORD_KEY, GRAFANA_ADMIN_USER, GRAFANA_ADMIN_USER_KEY, GRAFANA_RELEASE,
    grafanaValues,
} from "./grafana";
import { MIMIR_RELEASE, mimirPushUrl, mimirQueryUrl, mimirValues } from "./mimir";
import {
    KUBE_STATE_METRICS_RELEASE, MONITORING_NAMESPACE, MONITORS, monitorManifest,
    NODE_EXPORTER_RELEASE,
} from "./monitors";
import type { NodeFacts } from "../cluster/host-facts";

/** The nodes as the cluster layer reports them. */
export type { NodeFacts } from "../cluster/host-facts";

export interface MonitoringStackArgs extends MonitoringSettings {
    /** Namespaces of pipelines, the ISB and workload pods that the monitors select. */
    workloadNamespaces: string[];
    /** The cluster's nodes; Grafana's URL uses the first server's address. */
    nodes: pulumi.Input<NodeFacts[]>;
    /** Where the charts come from (charts.ts). */
    chartSource: ChartSource;
    /** The Grafana dashboards to provision: file name → JSON text. */
    dashboards: Record<string, string>;
}

/** Release install/upgrade timeouts (seconds). Mimir starts many pods and waits for MinIO's bucket job. */
export const RELEASE_TIMEOUTS = {
    crds: 300, mimir: 900, alloy: 300, grafana: 600, nodeExporter: 300, kubeStateMetrics: 300,
} as const;

/** http://<first server's address>:<nodePort> (the first node when none is a server). */
export function grafanaUrlFor(nodes: readonly NodeFacts[], nodePort: number): string {
    const node = nodes.find((n) => n.role === "server") ?? nodes[0];
    if (!node) {
        throw new Error("monitoring: the cluster has no nodes, so Grafana has no address");
    }
    const host = node.address.includes(":") ? `[${node.address}]` : node.address;
    return `http://${host}:${nodePort}`;
}

export class MonitoringStack extends pulumi.ComponentResource {
    /** The prometheus-operator CRDs release: other layers dependOn it before creating monitors. */
    readonly crds: pulumi.Resource;
    /** http://<first server address>:<nodePort>. */
    readonly grafanaUrl: pulumi.Output<string>;
    /** Grafana admin password (secret). The user is "admin". */
    readonly grafanaAdminPassword: pulumi.Output<string>;
    /** In-cluster Prometheus API base URL of Mimir (gateway Service, with namespace and port). */
    readonly queryUrl: pulumi.Output<string>;
    /** Mimir tenant (X-Scope-OrgID) of every series written and queried. */
    readonly tenant: pulumi.Output<string>;
    /** The monitors, by metadata.name. */
    readonly monitors: Record<string, k8s.apiextensions.CustomResource>;

    constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:monitoring:MonitoringStack", name, {}, opts);
        const settings = args;
        const child = { parent: this };
        // Every release, the Secret, the ConfigMap and the monitors live here (their namespace input is this output).
        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/part-of": "charon" } },
        }, child);

        const helm = (part: string, release: string, chart: PinnedChart,
            values: pulumi.Input<Record<string, any>>, timeout: number, dependsOn: pulumi.Resource[] = []) =>
            pinnedRelease(`${name}-${part}`, {
                releaseName: release, chart, source: args.chartSource, namespace: namespace.metadata.name, values,
                timeoutSeconds: timeout,
            }, { ...child, dependsOn });

        const crds = helm("crds", "prometheus-operator-crds", monitoringCharts.prometheusOperatorCrds, {}, RELEASE_TIMEOUTS.crds);

        const minioPassword = new random.RandomPassword(`${name}-minio-password`, { length: 32, special: false }, child);
        // The password lands in Mimir's values: keep them secret end to end.
        helm("mimir", MIMIR_RELEASE, monitoringCharts.mimir, pulumi.secret(minioPassword.result).apply((pw) => mimirValues({
            footprint: settings.footprint, retention: settings.retention, storageSize: settings.storageSize, minioPassword: pw,
        })), RELEASE_TIMEOUTS.mimir);

        // Alloy and Grafana address Mimir by its Service name; they retry until it answers, so no edge to Mimir.
        // Alloy does watch the monitor CRDs, and its operator components stay broken if they appear after it starts.
        helm("alloy", ALLOY_RELEASE, monitoringCharts.alloy, alloyValues(alloyConfig({
            pushUrl: mimirPushUrl(), tenant: settings.tenant, scrapeInterval: settings.scrapeInterval,
        })), RELEASE_TIMEOUTS.alloy, [crds]);
        helm("node-exporter", NODE_EXPORTER_RELEASE, monitoringCharts.nodeExporter, nodeExporterValues(), RELEASE_TIMEOUTS.nodeExporter);
        helm("kube-state-metrics", KUBE_STATE_METRICS_RELEASE, monitoringCharts.kubeStateMetrics, kubeStateMetricsValues(),
            RELEASE_TIMEOUTS.kubeStateMetrics);

        const adminPassword = new random.RandomPassword(`${name}-grafana-admin-password`, { length: 24, special: false }, child);
        const adminSecret = new k8s.core.v1.Secret(`${name}-grafana-admin`, {
            metadata: { name: "grafana-admin", namespace: namespace.metadata.name },
            type: "Opaque",
            stringData: { [GRAFANA_ADMIN_USER_KEY]: GRAFANA_ADMIN_USER, [GRAFANA_ADMIN_PASSWORD_KEY]: pulumi.secret(adminPassword.result) },
        }, child);
        const dashboards = new k8s.core.v1.ConfigMap(`${name}-grafana-dashboards`, {
            metadata: {
                name: `grafana-dashboards-${DASHBOARD_PROVIDER}`,
                namespace: namespace.metadata.name,
                labels: { "app.kubernetes.io/part-of": "charon" },
            },
            data: args.dashboards,
        }, child);
        const queryUrl = mimirQueryUrl();
        // Grafana's pods mount the Secret and the ConfigMap: true dependencies (names taken from their outputs).
        helm("grafana", GRAFANA_RELEASE, monitoringCharts.grafana,
            pulumi.all([adminSecret.metadata.name, dashboards.metadata.name]).apply(([secretName, configMapName]) => grafanaValues({
                adminSecretName: secretName,
                dashboardsConfigMapName: configMapName,
                queryUrl,
                tenant: settings.tenant,
                scrapeInterval: settings.scrapeInterval,
                nodePort: settings.grafanaNodePort,
            })), RELEASE_TIMEOUTS.grafana);

        const ctx = {
            namespace: MONITORING_NAMESPACE,
            workloadNamespaces: settings.workloadNamespaces,
            intervals: { general: settings.scrapeInterval, rapid: settings.rapidScrapeInterval },
        };
        this.monitors = Object.fromEntries(MONITORS.map((spec) => {
            const manifest = monitorManifest(spec, ctx);
            const monitor = new k8s.apiextensions.CustomResource(`${name}-${spec.name}`, {
                apiVersion: manifest.apiVersion,
                kind: manifest.kind,
                metadata: { ...manifest.metadata, namespace: namespace.metadata.name },
                spec: manifest.spec,
            }, { ...child, dependsOn: [crds] });
            return [spec.name, monitor];
        }));

        this.crds = crds;
        this.grafanaUrl = pulumi.output(args.nodes).apply((nodes) => grafanaUrlFor(nodes, settings.grafanaNodePort));
        this.grafanaAdminPassword = pulumi.secret(adminPassword.result);
        this.queryUrl = pulumi.output(queryUrl);
        this.tenant = pulumi.output(settings.tenant);
        this.registerOutputs({
            crds: this.crds,
            grafanaUrl: this.grafanaUrl,
            grafanaAdminPassword: this.grafanaAdminPassword,
            queryUrl: this.queryUrl,
            tenant: this.tenant,
        });
    }
}
