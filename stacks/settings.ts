/** The resolved, validated settings of a stack: what index.ts hands to the components. */
import type { ControllersSettings, ExperimentSettings, HarvestSettings, WorkflowsSettings } from "./settings-workflows";

export type * from "./settings-workflows";

export type PresetName = "dev" | "gpu-node" | "cluster";
export type HostRole = "server" | "agent";
export type GpuMode = "auto" | boolean;

export interface SshTarget {
    address: string;
    port: number;
    user: string;
    /** Secret: wrap in pulumi.secret before it enters any resource. */
    privateKey?: string;
    agentSocket?: string;
    hostKey?: string;
}

export interface HostSettings extends Partial<SshTarget> {
    name: string;
    role: HostRole;
    local: boolean;
    port: number;
    user: string;
    bastion?: SshTarget;
    gpu: GpuMode;
    labels: Record<string, string>;
}

export interface K3sSettings {
    version: string;
    clusterCidr: string;
    serviceCidr: string;
    featureGates: Record<string, boolean>;
    disable: string[];
    extraServerArgs: Record<string, string>;
    extraAgentArgs: Record<string, string>;
    airgap?: { binary: string; images?: string; installScript: string };
    apiReadyTimeoutSeconds: number;
}

export interface MonitoringSettings {
    footprint: "small" | "large";
    retention: string;
    storageSize: string;
    scrapeInterval: string;
    rapidScrapeInterval: string;
    tenant: string;
    grafanaNodePort: number;
}

export type IsbRetention = "Limits" | "Interest" | "WorkQueue";
export type IsbStorage = "File" | "Memory";

export interface IsbSettings {
    replicas: 1 | 3;
    retention: IsbRetention;
    storage: IsbStorage;
    maxMsgs: number;
    maxAge: string;
    maxBytes: number;
    duplicates: string;
    volumeSize: string;
    storageMode: "local-path" | "local-volumes";
    hostPath: string;
    cpu: string;
    memory: string;
}

export interface NumaflowSettings {
    isb: IsbSettings;
}

export interface GpuSettings {
    stack: "auto" | "on" | "off";
}

export interface ChartsSettings {
    source: string;
}

export interface Settings {
    preset: PresetName;
    hosts: HostSettings[];
    sshPrivateKey?: string;
    k3s: K3sSettings;
    monitoring: MonitoringSettings;
    numaflow: NumaflowSettings;
    gpu: GpuSettings;
    charts: ChartsSettings;
    workflows: WorkflowsSettings;
    experiments: ExperimentSettings[];
    harvest: HarvestSettings;
    controllers: ControllersSettings;
}
