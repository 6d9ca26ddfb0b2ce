import type { HostSettings } from "../components/cluster/settings";
import type { PresetName } from "./schema";

/**
 * Named presets: a layer of settings between the schema defaults and the stack's own config.
 * `hostDefaults` applies to every host the stack lists (the stack's own host keys win).
 */
export interface Preset {
    description: string;
    settings: Record<string, unknown>;
    hostDefaults: Partial<HostSettings>;
    /** Host layout rules checked after merging, each with the message shown when it fails. */
    requires: { rule: (hosts: HostSettings[]) => boolean; message: string }[];
}

export const presets: Record<PresetName, Preset> = {
    dev: {
        description: "This machine, local commands, one node, no GPU, small footprints.",
        settings: {
            hosts: [{ name: "dev", role: "server", local: true, gpu: false }],
            monitoring: { footprint: "small", storageSize: "5Gi", retention: "7d" },
            numaflow: { isb: { replicas: 1, volumeSize: "1Gi", cpu: "250m", memory: "512Mi" } },
            gpu: { stack: "off" },
        },
        hostDefaults: {},
        requires: [],
    },
    "gpu-node": {
        description: "One remote GPU machine over SSH running the whole platform.",
        settings: {
            monitoring: { footprint: "small" },
            numaflow: { isb: { replicas: 1 } },
            gpu: { stack: "on" },
            workflows: { aps: { enabled: true } },
        },
        hostDefaults: { role: "server", gpu: true },
        requires: [
            { rule: (hosts) => hosts.length === 1, message: "the gpu-node preset takes exactly one host" },
            { rule: (hosts) => hosts.every((h) => !h.local), message: "the gpu-node preset's host is remote (local: false, with an address)" },
        ],
    },
    cluster: {
        description: "One server and N agents over SSH; GPU agents allowed.",
        settings: {
            monitoring: { footprint: "large", storageSize: "50Gi" },
            numaflow: { isb: { replicas: 3 } },
            gpu: { stack: "auto" },
        },
        hostDefaults: { role: "agent" },
        requires: [
            { rule: (hosts) => hosts.some((h) => h.role === "agent"), message: "the cluster preset needs at least one agent host" },
        ],
    },
};
