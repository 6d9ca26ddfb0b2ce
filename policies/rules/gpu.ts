/**
 * GPU: whatever needs a GPU runs with the NVIDIA runtime class, and the GPU daemons (device plugin, DCGM exporter)
 * only run on nodes that have GPUs.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { gpuNodeLabel } from "../../components/cluster/constants";
import { Type } from "../../model/schema";
import { patterns, ruleConfig } from "./config";
import {
    PlacedContainer, Props, chartName, containersOf, helmTypes, isObject, parseLabel, podTemplateOf, types, verticesOf,
    workloadTypes,
} from "./kinds";

/** Chart names of the GPU daemons; both GPU rules take it. */
const gpuCharts = Type.Array(Type.String(), {
    default: ["dcgm-exporter", "nvidia-device-plugin", "gpu-operator"], description: "Chart names of GPU daemons (device plugin, DCGM exporter).",
});

const runtimeClassConfig = ruleConfig(Type.Object({
    runtimeClassName: Type.String({ default: "nvidia", description: "RuntimeClass that selects the NVIDIA container runtime (k3s ships `nvidia`)." }),
    gpuResource: Type.String({ default: "nvidia.com/gpu", description: "Extended resource name of a GPU." }),
    inferenceImages: Type.Array(Type.String(), {
        default: ["ptychonn", "tensorrt"], description: "Regular expressions (case-insensitive) for images that run GPU inference.",
    }),
    gpuCharts,
}));

const daemonsConfig = ruleConfig(Type.Object({
    gpuCharts,
    gpuNodeLabel: Type.String({ default: `${gpuNodeLabel.key}=${gpuNodeLabel.value}`, description: "Node label (key=value) that GPU nodes carry." }),
}));

/** Why a container needs the GPU runtime, or undefined. */
export function gpuReason(c: PlacedContainer, gpuResource: string, inference: RegExp[]): string | undefined {
    const res = c.container.resources ?? {};
    if ((res.limits ?? {})[gpuResource] !== undefined || (res.requests ?? {})[gpuResource] !== undefined) {
        return `${c.where} requests ${gpuResource}`;
    }
    const image = String(c.container.image ?? "");
    if (inference.some((p) => p.test(image))) {
        return `${c.where} runs the inference image ${image}`;
    }
    return undefined;
}

export const gpuRuntimeClass: ResourceValidationPolicy = {
    name: "gpu-runtime-class",
    description: "Workloads, Numaflow vertices and GPU daemons that use a GPU run with runtimeClassName nvidia.",
    enforcementLevel: "mandatory",
    configSchema: runtimeClassConfig.schema,
    validateResource: (args, report) => {
        const cfg = runtimeClassConfig.read(args);
        const inference = patterns("inferenceImages", cfg.inferenceImages);
        const fix = (where: string) => `Set ${where}runtimeClassName: ${cfg.runtimeClassName} so the container gets the NVIDIA runtime ` +
            "(without it the GPU is invisible inside the container).";
        if (workloadTypes.includes(args.type)) {
            const template = podTemplateOf(args.type, args.props);
            if (!template || template.spec.runtimeClassName === cfg.runtimeClassName) {
                return;
            }
            const reasons = containersOf(template.spec).map((c) => gpuReason(c, cfg.gpuResource, inference)).filter((r) => r);
            if (reasons.length > 0) {
                report(`${reasons.join("; ")}, but the pod's runtimeClassName is ${template.spec.runtimeClassName ?? "unset"}. ${fix("the pod template's ")}`);
            }
            return;
        }
        if (args.type === types.pipeline) {
            for (const v of verticesOf(args.props)) {
                if (v.vertex.runtimeClassName === cfg.runtimeClassName) {
                    continue;
                }
                const reasons = v.all.map((c) => gpuReason(c, cfg.gpuResource, inference)).filter((r) => r);
                if (reasons.length > 0) {
                    report(`${reasons.join("; ")}, but vertex ${v.name} has runtimeClassName ${v.vertex.runtimeClassName ?? "unset"}. ${fix(`vertex ${v.name} `)}`);
                }
            }
            return;
        }
        if (helmTypes.includes(args.type) && cfg.gpuCharts.includes(chartName(args.props))) {
            const runtimeClass = args.props.values?.runtimeClassName;
            if (runtimeClass !== cfg.runtimeClassName) {
                report(`GPU chart ${chartName(args.props)} runs with runtimeClassName ${runtimeClass ?? "unset"}. ` +
                    `Set values.runtimeClassName: ${cfg.runtimeClassName}.`);
            }
        }
    },
};

/** Whether a node affinity or selector in chart values restricts pods to nodes with the label. */
export function targetsLabel(values: Props, label: string): boolean {
    const { key, value } = parseLabel(label);
    const selector = values.nodeSelector;
    if (isObject(selector) && String(selector[key]) === value) {
        return true;
    }
    const terms: Props[] = values.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    return terms.length > 0 && terms.every((t) => (t?.matchExpressions ?? []).some((e: Props) =>
        e?.key === key && ((e.operator === "In" && (e.values ?? []).map(String).includes(value)) || (e.operator === "Exists"))));
}

export const gpuDaemonsOnGpuNodes: ResourceValidationPolicy = {
    name: "gpu-daemons-on-gpu-nodes",
    description: "The NVIDIA device plugin and DCGM exporter only schedule on nodes labelled as GPU nodes.",
    enforcementLevel: "mandatory",
    configSchema: daemonsConfig.schema,
    validateResource: (args, report) => {
        if (!helmTypes.includes(args.type)) {
            return;
        }
        const cfg = daemonsConfig.read(args);
        const chart = chartName(args.props);
        if (!cfg.gpuCharts.includes(chart)) {
            return;
        }
        const values: Props = args.props.values ?? {};
        // The device plugin's own default affinity already selects nvidia.com/gpu.present=true (or NFD's labels).
        const chartDefaultTargetsGpus = chart === "nvidia-device-plugin" && values.affinity === undefined && values.nodeSelector === undefined;
        if (!chartDefaultTargetsGpus && !targetsLabel(values, cfg.gpuNodeLabel)) {
            const { key, value } = parseLabel(cfg.gpuNodeLabel);
            report(`GPU chart ${chart} would run on every node, including nodes without a GPU (where it crash-loops). ` +
                `Set values.nodeSelector to {"${key}": "${value}"} (the cluster layer labels GPU nodes so).`);
        }
    },
};

export const gpuPolicies = [gpuRuntimeClass, gpuDaemonsOnGpuNodes];
