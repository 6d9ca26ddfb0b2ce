/**
 * The rules a stack's settings must keep beyond their shapes: each layer's own cross-key rules, and the few that
 * span layers (which charts a directory source must hold, a GPU stack forced on without a GPU host, a preset's
 * host layout). All of them run on every resolve, also when shape problems were found, so one run reports all.
 */
import * as fs from "node:fs";
import { chartArchive, chartSourceKind, type PinnedChart } from "../components/charts";
import { clusterSettingsProblems, kubernetesMinor } from "../components/cluster/settings";
import { controlLoopsSettingsProblems } from "../components/controllers/loops-settings";
import { controllersSettingsProblems } from "../components/controllers/settings";
import { gpuStackWanted } from "../components/gpu/values";
import { numaflowSettingsProblems } from "../components/numaflow/settings";
import { gpuCharts, monitoringCharts, numaflowChart } from "../components/versions";
import type { Problem } from "../model/check";
import { workflowSettingsProblems } from "../workflows/settings";
import { presets } from "./presets";
import type { Settings } from "./schema";

type Rule = (s: Settings, raw: Record<string, unknown>, root: string) => Problem[];

const line = (root: string, key: string, message: string): Problem => ({ key: `${root}${key}`, message: `${root}${key}: ${message}` });

/** The charts the stack installs (the GPU charts only when the GPU stack is wanted). */
export function chartsNeeded(s: Pick<Settings, "gpu" | "hosts">): PinnedChart[] {
    return [
        ...Object.values(monitoringCharts), numaflowChart,
        ...(gpuStackWanted(s.gpu.stack, s.hosts) ? Object.values(gpuCharts) : []),
    ];
}

const rules: Rule[] = [
    (s, _raw, root) => clusterSettingsProblems(s, root),
    (s, _raw, root) => numaflowSettingsProblems(s.numaflow, root),
    (s, _raw, root) => workflowSettingsProblems(s, root),
    (s, _raw, root) => controllersSettingsProblems(s.controllers, kubernetesMinor(s.k3s.version), s.k3s.version, root),
    (s, _raw, root) => controlLoopsSettingsProblems(s.controllers, {
        aps: { enabled: s.workflows.aps.enabled, deploy: s.workflows.aps.deploy }, keyPrefix: `${root}controllers.`,
    }),
    (s, _raw, root) => s.gpu.stack === "on" && s.hosts.every((h) => h.gpu === false)
        ? [line(root, "gpu.stack", `"on" but every host sets gpu: false; set a GPU host or use "auto"/"off"`)] : [],
    (s, _raw, root) => {
        if (chartSourceKind(s.charts.source) !== "directory") {
            return [];
        }
        const missing = chartsNeeded(s).filter((c) => !fs.existsSync(chartArchive(s.charts.source, c)));
        return missing.length === 0 ? [] : [line(root, "charts.source", `${JSON.stringify(s.charts.source)} lacks ${missing.map((c) => `${c.chart}-${c.version}.tgz`).join(", ")}; fetch each with \`helm pull <repo>/<chart> --version <version>\` into that directory (see README "Charts without the internet")`)];
    },
    (s, raw, root) => raw.preset === undefined && raw.hosts !== undefined && s.preset === "dev" && s.hosts.some((h) => !h.local)
        ? [line(root, "preset", `is not set (defaults to "dev", which runs on this machine) but hosts lists remote machines; set charon:preset to gpu-node or cluster`)] : [],
    (s, _raw, root) => presets[s.preset].requires.filter((r) => !r.rule(s.hosts)).map((r) => line(root, "hosts", r.message)),
];

/**
 * Every rule's problems. A rule that cannot run because the values it reads have the wrong shape is skipped: those
 * values are already reported by the schema check.
 */
export function ruleProblems(s: Settings, raw: Record<string, unknown>, root: string): Problem[] {
    return rules.flatMap((rule) => {
        try {
            return rule(s, raw, root);
        } catch {
            return [];
        }
    });
}
