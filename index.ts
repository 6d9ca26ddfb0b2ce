// The composition root: read the stack's settings, build the platform's layers in order, export what users need.
import * as pulumi from "@pulumi/pulumi";
import { readStack } from "./stacks";
import { K3sCluster } from "./components/cluster";
import { MonitoringStack } from "./components/monitoring";
import { NumaflowPlatform } from "./components/numaflow";
import { GpuSupport, gpuStackWanted } from "./components/gpu";
import { Actimanager, ControlLoops } from "./components/controllers";
import { apsWorkflow, Experiment, experimentRecords } from "./workflows";
import { WorkflowManifests } from "./workflows/manifests";
import { loadDashboards } from "./workflows/dashboards";

const { settings, manifests } = readStack();
const aps = settings.workflows.aps;
const chartSource = settings.charts.source;

// Layer 1: machines → k3s cluster.
const cluster = new K3sCluster("charon", {
    hosts: settings.hosts,
    k3s: settings.k3s,
    defaultSshPrivateKey: settings.sshPrivateKey,
    openPorts: [{ port: settings.monitoring.grafanaNodePort, protocol: "tcp" }],
    hostDirectories: settings.numaflow.isb.storageMode === "local-volumes" ? [settings.numaflow.isb.hostPath] : [],
});
const onCluster = { provider: cluster.provider };

// Layer 2: platform services (independent Helm releases install in parallel).
const monitoring = new MonitoringStack("monitoring", {
    ...settings.monitoring,
    nodes: cluster.nodes,
    workloadNamespaces: [aps.namespace],
    chartSource,
    dashboards: Object.fromEntries(loadDashboards().map((d) => [d.file, d.json])),
}, onCluster);

const numaflow = new NumaflowPlatform("numaflow", {
    isb: settings.numaflow.isb,
    isbNamespace: aps.namespace,
    nodes: cluster.nodes,
    metricsQueryUrl: monitoring.queryUrl,
    metricsTenant: monitoring.tenant,
    monitoringCrds: monitoring.crds,
    chartSource,
}, onCluster);

const gpu = gpuStackWanted(settings.gpu.stack, settings.hosts)
    ? new GpuSupport("gpu", { monitoringCrds: monitoring.crds, scrapeInterval: settings.monitoring.rapidScrapeInterval, chartSource }, onCluster)
    : undefined;

const { enabled: actimanagerEnabled, image: actimanagerImage, ...actimanagerSettings } = settings.controllers.actimanager;
const actimanager = actimanagerEnabled && actimanagerImage !== undefined
    ? new Actimanager("actimanager", { ...actimanagerSettings, image: actimanagerImage }, onCluster)
    : undefined;

// Layer 3: the workflow and the experiments run on it, one after another so each stream has the pipeline (and
// its measured window) to itself; each is harvested into results/ when its stream ends.
const gpuFound = cluster.nodes.apply((nodes) => nodes.some((n) => n.gpuCount > 0));
const workflow = apsWorkflow(aps, { gpuLimit: gpu === undefined ? false : gpuFound, numaflow }, onCluster);
// The stack's own workflows (charon:workflows.manifests), on the same platform.
const ownWorkflows = manifests.length > 0 ? new WorkflowManifests("workflow", {
    objects: manifests,
    after: [numaflow.controller, numaflow.isb, monitoring.crds, ...Object.values(monitoring.monitors), ...numaflow.workloadNamespace],
}, onCluster) : undefined;

// The control loops on the workflow (observe Mimir → decide → scale or resize in place), when any is enabled.
const { pdReplicas, inplaceResize, custom } = settings.controllers;
const loopsEnabled = workflow !== undefined && [pdReplicas, inplaceResize, ...custom].some((loop) => loop.enabled);
const controlLoops = loopsEnabled ? new ControlLoops("control-loops", {
    settings: settings.controllers,
    namespace: aps.namespace,
    metricsQueryUrl: monitoring.queryUrl,
    metricsTenant: monitoring.tenant,
    workflow,
    monitoringCrds: monitoring.crds,
    scrapeInterval: settings.monitoring.rapidScrapeInterval,
    after: numaflow.workloadNamespace,
}, onCluster) : undefined;

const experimentRuns: Experiment[] = [];
for (const experiment of workflow === undefined ? [] : settings.experiments) {
    const previous = experimentRuns[experimentRuns.length - 1];
    experimentRuns.push(new Experiment(`experiment-${experiment.name}`, {
        experiment,
        workflow: workflow!,
        after: previous ? [monitoring, previous.job] : [monitoring, ...(controlLoops ? [controlLoops] : [])],
        defaultChannel: aps.channel,
        namespace: aps.namespace,
        image: aps.images.pvapy,
        stack: pulumi.getStack(),
        harvest: settings.harvest,
        kubeconfig: cluster.kubeconfig,
        metricsQueryUrl: monitoring.queryUrl,
        metricsTenant: monitoring.tenant,
    }, onCluster));
}

export const kubeconfig = cluster.kubeconfig;
export const nodes = cluster.nodes;
export const grafanaUrl = monitoring.grafanaUrl;
export const grafanaAdminPassword = monitoring.grafanaAdminPassword;
export const metricsQueryUrl = monitoring.queryUrl;
export const metricsTenant = monitoring.tenant;
export const numaflowUiUrl = numaflow.uiUrl;
export const numaflowUiAccessCommand = numaflow.uiAccessCommand;
export const gpuStack = gpu ? "installed" : "not installed";
// Every output has a value when its layer is off (null, [], {}): the engine warns about each undefined one.
export const actimanagerScheduler = actimanager?.schedulerName ?? null;
export const controlLoopNames = controlLoops?.loops ?? [];
export const experiments = experimentRecords(experimentRuns);
export const workflowStarts = ownWorkflows?.started ?? {};
