// The composition root: read the stack's settings, build the platform's layers in order, export what users need.
import { readStackSettings } from "./stacks";
import { K3sCluster } from "./components/cluster";
import { MonitoringStack } from "./components/monitoring";
import { NumaflowPlatform } from "./components/numaflow";
import { GpuSupport, gpuStackWanted } from "./components/gpu";

const settings = readStackSettings();

const cluster = new K3sCluster("charon", {
    hosts: settings.hosts,
    k3s: settings.k3s,
    defaultSshPrivateKey: settings.sshPrivateKey,
    openPorts: [{ port: settings.monitoring.grafanaNodePort, protocol: "tcp" }],
    hostDirectories: settings.numaflow.isb.storageMode === "local-volumes" ? [settings.numaflow.isb.hostPath] : [],
});
const onCluster = { provider: cluster.provider };

const monitoring = new MonitoringStack("monitoring", { ...settings.monitoring, nodes: cluster.nodes }, onCluster);

const numaflow = new NumaflowPlatform("numaflow", {
    isb: settings.numaflow.isb,
    nodes: cluster.nodes,
    metricsQueryUrl: monitoring.queryUrl,
    metricsTenant: monitoring.tenant,
    monitoringCrds: monitoring.crds,
}, onCluster);

const gpu = gpuStackWanted(settings.gpu.stack, settings.hosts)
    ? new GpuSupport("gpu", { monitoringCrds: monitoring.crds, scrapeInterval: settings.monitoring.rapidScrapeInterval }, onCluster)
    : undefined;

export const kubeconfig = cluster.kubeconfig;
export const nodes = cluster.nodes;
export const grafanaUrl = monitoring.grafanaUrl;
export const grafanaAdminPassword = monitoring.grafanaAdminPassword;
export const metricsQueryUrl = monitoring.queryUrl;
export const metricsTenant = monitoring.tenant;
export const numaflowUiUrl = numaflow.uiUrl;
export const gpuStack = gpu ? "installed" : "not installed";
