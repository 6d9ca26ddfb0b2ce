/**
 * GpuSupport: the NVIDIA device plugin (makes nvidia.com/gpu requests schedulable) and the DCGM exporter (GPU
 * metrics), both on k3s's `nvidia` RuntimeClass and only on nodes labelled nvidia.com/gpu.present=true.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { gpuCharts } from "../versions";
import { type ChartSource, pinnedRelease } from "../charts";
import { dcgmExporterValues, devicePluginValues, nvidiaRuntimeClass } from "./values";

export interface GpuSupportArgs {
    /**
     * The monitoring layer's CRD release. The exporter waits for it (its chart can declare a ServiceMonitor, kept
     * disabled here, and its metrics are only collected once the monitors exist); the device plugin does not.
     */
    monitoringCrds?: pulumi.Resource;
    /** How often the exporter samples the GPUs: the rapid scrape interval (a validated duration). */
    scrapeInterval: string;
    /** Namespace of both releases. Defaults to "nvidia-gpu". */
    namespace?: string;
    /** Helm release timeout in seconds. Defaults to 600. */
    helmTimeoutSeconds?: number;
    /** Where the charts come from (charts.ts). */
    chartSource: ChartSource;
}

export class GpuSupport extends pulumi.ComponentResource {
    /** The nvidia-device-plugin release. */
    public readonly devicePlugin: k8s.helm.v3.Release;
    /** The dcgm-exporter release. */
    public readonly dcgmExporter: k8s.helm.v3.Release;
    /** RuntimeClass GPU pods use (k3s's own). */
    public readonly runtimeClassName: string = nvidiaRuntimeClass;
    /** Namespace of the releases. */
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: GpuSupportArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:gpu:GpuSupport", name, {}, opts);
        const child = { parent: this };
        const timeout = args.helmTimeoutSeconds ?? 600;
        const exporterValues = dcgmExporterValues(args.scrapeInterval);

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: args.namespace ?? "nvidia-gpu", labels: { "app.kubernetes.io/part-of": "charon" } },
        }, child);
        this.namespace = namespace.metadata.name;

        this.devicePlugin = pinnedRelease(`${name}-device-plugin`, {
            releaseName: "nvidia-device-plugin",
            chart: gpuCharts.devicePlugin,
            source: args.chartSource,
            namespace: namespace.metadata.name,
            values: devicePluginValues(),
            timeoutSeconds: timeout,
        }, child);

        this.dcgmExporter = pinnedRelease(`${name}-dcgm-exporter`, {
            releaseName: "dcgm-exporter",
            chart: gpuCharts.dcgmExporter,
            source: args.chartSource,
            namespace: namespace.metadata.name,
            values: exporterValues,
            timeoutSeconds: timeout,
        }, { ...child, dependsOn: args.monitoringCrds ? [args.monitoringCrds] : [] });

        this.registerOutputs({
            devicePlugin: this.devicePlugin,
            dcgmExporter: this.dcgmExporter,
            runtimeClassName: this.runtimeClassName,
            namespace: this.namespace,
        });
    }
}
