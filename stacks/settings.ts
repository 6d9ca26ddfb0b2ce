/** The resolved settings types, each defined by the layer that owns it (re-exported for the composition root). */
export type { Settings, PresetName } from "./schema";
export type { HostSettings, HostRole, K3sSettings, SshTarget } from "../components/cluster/settings";
export type { MonitoringSettings } from "../components/monitoring/settings";
export type { IsbSettings, NumaflowSettings } from "../components/numaflow/settings";
export type { GpuSettings } from "../components/gpu/settings";
export type { ChartsSettings } from "../components/charts";
export type { ActimanagerSettings, CgroupDriver, ControllersSettings } from "../components/controllers/settings";
export type * from "../workflows/settings";
