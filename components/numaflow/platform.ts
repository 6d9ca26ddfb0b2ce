/**
 * NumaflowPlatform: the Numaflow controller (Helm, numaflow-system), the UI's metrics tab pointed at Mimir, storage
 * for the JetStream ISB, and the InterStepBufferService `default` that pipelines use.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { IsbSettings } from "./settings";
import { jetstreamVersion, numaflowChart, numaflowMetricsGatewayImage } from "../versions";
import { type ChartSource, pinnedRelease } from "../charts";
import { NUMAFLOW_SYSTEM_NAMESPACE } from "./values";
import { isbObject, isbReplaceOnChanges } from "./isb";
import {
    fullyQualifiedServiceUrl, gatewayNginxTemplate, gatewayUrl, metricsGateway, metricsProxyConfigYaml,
    numaflowServer, uiLocalUrl, uiPortForwardCommand,
} from "./metrics";
import { NodeFacts, localStorageClassObject, localVolumeObjects, specDigest } from "./storage";
import { gatewayDeploymentObject, gatewayServiceObject, numaflowChartValues } from "./values";

export interface NumaflowPlatformArgs {
    /** The ISB settings (stacks/settings.ts IsbSettings): replicas, retention, storage, limits, volumes, resources. */
    isb: IsbSettings;
    /** Cluster nodes (name, role, address, gpuCount): local volumes are pinned to these names. */
    nodes: pulumi.Input<NodeFacts[]>;
    /** In-cluster Prometheus API URL of Mimir (…/prometheus), for the UI's metrics tab. */
    metricsQueryUrl: pulumi.Input<string>;
    /** Mimir tenant the UI's queries read (sent as X-Scope-OrgID by the metrics gateway). */
    metricsTenant: pulumi.Input<string>;
    /**
     * The monitoring layer's CRD release (ServiceMonitor/PodMonitor). Anything here that declares monitors waits
     * for it; today no Numaflow object does, so it adds no edge and the controller installs in parallel with the
     * metrics stack.
     */
    monitoringCrds?: pulumi.Resource;
    /** Where the Numaflow chart comes from (charts.ts). */
    chartSource: ChartSource;
    /** Namespace of the ISB (pipelines must run in the same one): the workflows' namespace. */
    isbNamespace: string;
    /** Name of the ISB; Pipelines use `default` unless they name another. Defaults to "default". */
    isbName?: string;
    /** JetStream version key. Defaults to versions.ts jetstreamVersion. */
    jetstreamVersion?: string;
    /** Helm release timeout in seconds. Defaults to 600. */
    helmTimeoutSeconds?: number;
}

export class NumaflowPlatform extends pulumi.ComponentResource {
    /** The controller Helm release; it installs the Numaflow CRDs, so Pipelines depend on it. */
    public readonly controller: k8s.helm.v3.Release;
    /** The InterStepBufferService; Pipelines depend on it. */
    public readonly isb: k8s.apiextensions.CustomResource;
    /** Digest of the ISB fields whose change replaces the ISB; pipelines carry it so they are replaced with it. */
    public readonly isbDigest: string;
    /** The ISB's name ("default"). */
    public readonly isbName: pulumi.Output<string>;
    /** The ISB's namespace ("default"). */
    public readonly isbNamespace: pulumi.Output<string>;
    /** The Namespace created for the ISB and the workloads when it is not `default` (empty otherwise). */
    public readonly workloadNamespace: k8s.core.v1.Namespace[];
    /** The controller's namespace ("numaflow-system"). */
    public readonly namespace: pulumi.Output<string>;
    /**
     * Where the UI is, without a NodePort: https://localhost:8443/ once `uiAccessCommand` runs on the
     * workstation with the stack's kubeconfig (self-signed certificate).
     */
    public readonly uiUrl: pulumi.Output<string>;
    /** The command that makes uiUrl reachable: `kubectl -n numaflow-system port-forward svc/numaflow-server 8443:8443`. */
    public readonly uiAccessCommand: pulumi.Output<string>;
    /** The URL numaflow-server queries for metrics (the in-cluster tenant gateway in front of Mimir). */
    public readonly metricsProxyUrl: pulumi.Output<string>;
    /** Local volumes of the ISB (empty with storageMode local-path). */
    public readonly volumes: k8s.core.v1.PersistentVolume[];

    constructor(name: string, args: NumaflowPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:numaflow:NumaflowPlatform", name, {}, opts);

        const ns = NUMAFLOW_SYSTEM_NAMESPACE;
        const isbNs = args.isbNamespace;
        const isbName = args.isbName ?? "default";
        const timeout = args.helmTimeoutSeconds ?? 600;
        const child = { parent: this };

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: ns, labels: { "app.kubernetes.io/part-of": "charon" } },
        }, child);

        this.controller = pinnedRelease(`${name}-controller`, {
            releaseName: "numaflow",
            chart: numaflowChart,
            source: args.chartSource,
            namespace: namespace.metadata.name,
            values: numaflowChartValues(),
            timeoutSeconds: timeout,
        }, child);

        // ── UI metrics tab: tenant gateway + the server's metrics proxy config ──────────────────────────────
        const upstream = pulumi.output(args.metricsQueryUrl).apply((u) => fullyQualifiedServiceUrl(u));
        const template = pulumi.all([upstream, args.metricsTenant]).apply(([u, tenant]) => gatewayNginxTemplate(u, tenant));
        const gatewayConfig = new k8s.core.v1.ConfigMap(`${name}-metrics-gateway`, {
            metadata: { name: `${metricsGateway.name}-templates`, namespace: namespace.metadata.name },
            data: { "default.conf.template": template },
        }, child);
        const gatewayDeployment = template.apply((t) => gatewayDeploymentObject({
            namespace: ns,
            image: numaflowMetricsGatewayImage,
            configMapName: `${metricsGateway.name}-templates`,
            configDigest: specDigest(t),
        }));
        new k8s.apps.v1.Deployment(`${name}-metrics-gateway`, {
            metadata: gatewayDeployment.apply((d) => d.metadata),
            spec: gatewayDeployment.apply((d) => d.spec),
        }, { ...child, dependsOn: [gatewayConfig] });
        const service = gatewayServiceObject(ns);
        new k8s.core.v1.Service(`${name}-metrics-gateway`, {
            metadata: { ...service.metadata, namespace: namespace.metadata.name },
            spec: service.spec,
        }, child);

        this.metricsProxyUrl = pulumi.output(gatewayUrl(ns));
        const proxyConfig = metricsProxyConfigYaml(gatewayUrl(ns));
        // The chart owns this ConfigMap but writes it without a URL: take over config.yaml (server-side apply,
        // forced past Helm's field ownership), then roll numaflow-server so it re-reads the file.
        const proxyPatch = new k8s.core.v1.ConfigMapPatch(`${name}-metrics-proxy-config`, {
            metadata: {
                name: numaflowServer.metricsProxyConfigMap,
                namespace: ns,
                // The chart version re-applies the patch after a chart upgrade rewrote the ConfigMap.
                annotations: { "pulumi.com/patchForce": "true", "charon.io/numaflow-chart": numaflowChart.version },
            },
            data: { [numaflowServer.metricsProxyConfigKey]: proxyConfig },
        }, { ...child, dependsOn: [this.controller] });
        new k8s.apps.v1.DeploymentPatch(`${name}-server-restart`, {
            metadata: { name: numaflowServer.deployment, namespace: ns },
            spec: {
                template: {
                    metadata: {
                        annotations: {
                            "charon.io/metrics-proxy-config": specDigest({ config: proxyConfig, chart: numaflowChart.version }),
                        },
                    },
                },
            },
        }, { ...child, dependsOn: [proxyPatch] });

        // ── ISB storage ──────────────────────────────────────────────────────────────────────────────────────
        const spec = isbObject({ name: isbName, namespace: isbNs, version: args.jetstreamVersion ?? jetstreamVersion, settings: args.isb });
        const js = spec.spec.jetstream;
        // Exactly the fields whose change replaces the ISB (isbReplaceOnChanges): see storage.ts.
        const digest = specDigest({ bufferConfig: js.bufferConfig, persistence: js.persistence, replicas: js.replicas });
        this.isbDigest = digest;
        const storageDeps: pulumi.Resource[] = [];
        this.volumes = [];
        if (args.isb.storageMode === "local-volumes") {
            const sc = localStorageClassObject();
            const storageClass = new k8s.storage.v1.StorageClass(`${name}-isb-storage-class`, {
                metadata: sc.metadata,
                provisioner: sc.provisioner,
                volumeBindingMode: sc.volumeBindingMode,
                reclaimPolicy: sc.reclaimPolicy,
            }, child);
            storageDeps.push(storageClass);
            const plan = pulumi.output(args.nodes).apply((nodes) => localVolumeObjects({
                isbName, replicas: args.isb.replicas, nodes, hostPath: args.isb.hostPath, volumeSize: args.isb.volumeSize, digest,
            }));
            for (let i = 0; i < args.isb.replicas; i++) {
                const pv = new k8s.core.v1.PersistentVolume(`${name}-isb-pv-${i}`, {
                    metadata: plan.apply((p) => p[i].metadata),
                    spec: plan.apply((p) => p[i].spec),
                }, { ...child, dependsOn: [storageClass] });
                this.volumes.push(pv);
                storageDeps.push(pv);
            }
        }

        // ── The workload namespace (the ISB, pipelines and experiments), unless it is Kubernetes' own default ─────
        this.workloadNamespace = isbNs === "default" ? [] : [new k8s.core.v1.Namespace(`${name}-workload-namespace`, {
            metadata: { name: isbNs, labels: { "app.kubernetes.io/part-of": "charon" } },
        }, child)];

        // ── InterStepBufferService ───────────────────────────────────────────────────────────────────────────
        // A bufferConfig change must recreate the ISB (existing streams keep their old settings); the name is fixed,
        // so the old one is deleted first.
        this.isb = new k8s.apiextensions.CustomResource(`${name}-isb`, {
            apiVersion: spec.apiVersion,
            kind: spec.kind,
            metadata: spec.metadata,
            spec: spec.spec,
        }, {
            ...child,
            dependsOn: [this.controller, ...storageDeps, ...this.workloadNamespace],
            replaceOnChanges: isbReplaceOnChanges,
            deleteBeforeReplace: true,
        });

        this.isbName = pulumi.output(isbName);
        this.isbNamespace = pulumi.output(isbNs);
        this.namespace = namespace.metadata.name;
        this.uiUrl = pulumi.output(uiLocalUrl());
        this.uiAccessCommand = pulumi.output(uiPortForwardCommand(ns));
        this.registerOutputs({
            controller: this.controller,
            isb: this.isb,
            isbName: this.isbName,
            isbNamespace: this.isbNamespace,
            namespace: this.namespace,
            uiUrl: this.uiUrl,
            uiAccessCommand: this.uiAccessCommand,
            metricsProxyUrl: this.metricsProxyUrl,
        });
    }
}
