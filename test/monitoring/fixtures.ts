import type { MonitoringStackArgs } from "../../components/monitoring";
import type { MonitoringSettings } from "../../components/monitoring/settings";
import { loadDashboards } from "../../workflows/dashboards";

const nodes = [
    { name: "gpu1", role: "agent" as const, address: "10.0.0.9", gpuCount: 1 },
    { name: "head", role: "server" as const, address: "10.0.0.2", gpuCount: 0 },
];

/** The component's args as index.ts passes them: the layer's settings, the workload namespace, dashboards, charts. */
export function monitoringArgs(settings: MonitoringSettings & Partial<MonitoringStackArgs>): MonitoringStackArgs {
    return {
        workloadNamespaces: ["default"], chartSource: "upstream",
        dashboards: Object.fromEntries(loadDashboards().map((d) => [d.file, d.json])), nodes, ...settings,
    };
}

