/**
 * Everything a stack can set, under the Pulumi config namespace `charon`: the layers' own settings schemas,
 * composed. Each layer owns its keys (types, defaults, documentation); this file only puts them together.
 */
import { ChartsSettingsSchema } from "../components/charts";
import { HostsSchema, K3sSchema, SshPrivateKeySchema } from "../components/cluster/settings";
import { ControllersSettingsSchema } from "../components/controllers/settings";
import { GpuSettingsSchema } from "../components/gpu/settings";
import { MonitoringSettingsSchema } from "../components/monitoring/settings";
import { NumaflowSettingsSchema } from "../components/numaflow/settings";
import { Enum, type Static, Type } from "../model/schema";
import { ExperimentsSchema, HarvestSettingsSchema, WorkflowsSettingsSchema } from "../workflows/settings";

export const presetNames = ["dev", "gpu-node", "cluster"] as const;
export type PresetName = (typeof presetNames)[number];

export const SettingsSchema = Type.Object({
    preset: Enum(presetNames, { default: "dev", description: "Named defaults: dev, gpu-node or cluster." }),
    hosts: HostsSchema,
    sshPrivateKey: Type.Optional(SshPrivateKeySchema),
    k3s: K3sSchema,
    monitoring: MonitoringSettingsSchema,
    numaflow: NumaflowSettingsSchema,
    gpu: GpuSettingsSchema,
    charts: ChartsSettingsSchema,
    workflows: WorkflowsSettingsSchema,
    experiments: ExperimentsSchema,
    harvest: HarvestSettingsSchema,
    controllers: ControllersSettingsSchema,
}, { additionalProperties: false, description: "Charon stack settings (config namespace `charon`)." });

/** The resolved, validated settings of a stack: what index.ts hands to the layers. */
export type Settings = Static<typeof SettingsSchema>;
