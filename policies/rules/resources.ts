/**
 * Resources: the platform's workload containers (pods labelled role=workload and Numaflow UDF vertices) declare
 * CPU and memory requests and limits, which fair scheduling and in-place resizing act on, and say how a resize
 * applies (resizePolicy).
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { Type } from "../../model/schema";
import { ruleConfig } from "./config";
import { PlacedContainer, containersOf, hasLabel, podTemplateOf, types, verticesOf, workloadTypes } from "./kinds";

const workloadConfig = ruleConfig(Type.Object({
    workloadLabel: Type.String({ default: "role=workload", description: "Pod label (key=value) that marks the platform's workload pods." }),
}));

/** The `requests.cpu`-style fields a container lacks. */
export function missingResources(c: PlacedContainer): string[] {
    const res = c.container.resources ?? {};
    const missing: string[] = [];
    for (const kind of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"] as const) {
            const v = res[kind]?.[resource];
            if (v === undefined || v === null || v === "") {
                missing.push(`${kind}.${resource}`);
            }
        }
    }
    return missing;
}

/** The workload containers of a resource (not init containers: they finish before the pod runs). */
function workloadContainers(type: string, props: Record<string, any>, label: string): PlacedContainer[] {
    if (workloadTypes.includes(type)) {
        const template = podTemplateOf(type, props);
        if (!template || !hasLabel(template.labels, label)) {
            return [];
        }
        return containersOf(template.spec).filter((c) => c.where.startsWith("containers"));
    }
    if (type === types.pipeline) {
        return verticesOf(props).flatMap((v) => (v.udf ? [v.udf] : []));
    }
    return [];
}

export const workloadResources: ResourceValidationPolicy = {
    name: "workload-resources",
    description: "Workload containers (role=workload pods, Numaflow UDF vertices) declare CPU and memory requests and limits.",
    enforcementLevel: "mandatory",
    configSchema: workloadConfig.schema,
    validateResource: (args, report) => {
        const { workloadLabel } = workloadConfig.read(args);
        for (const c of workloadContainers(args.type, args.props, workloadLabel)) {
            const missing = missingResources(c);
            if (missing.length > 0) {
                report(`${c.where} has no resources.${missing.join(", resources.")}. Declare CPU and memory requests and limits: ` +
                    "the scheduler shares nodes by requests, and in-place resizing changes these values (a container without them cannot be resized).");
            }
        }
    },
};

export const workloadResizePolicy: ResourceValidationPolicy = {
    name: "workload-resize-policy",
    description: "Workload pods (role=workload) state a resizePolicy for cpu and memory.",
    enforcementLevel: "advisory",
    configSchema: workloadConfig.schema,
    validateResource: (args, report) => {
        if (!workloadTypes.includes(args.type)) {
            return; // Numaflow's vertex container has no resizePolicy field: vertex pods get Kubernetes' default.
        }
        const { workloadLabel } = workloadConfig.read(args);
        for (const c of workloadContainers(args.type, args.props, workloadLabel)) {
            const stated = new Set(((c.container.resizePolicy ?? []) as { resourceName?: string }[]).map((p) => p?.resourceName));
            const missing = ["cpu", "memory"].filter((r) => !stated.has(r));
            if (missing.length > 0) {
                report(`${c.where} has no resizePolicy for ${missing.join(" and ")}. State it (e.g. ` +
                    "{resourceName: cpu, restartPolicy: NotRequired}) so an in-place resize's effect is explicit and survives default changes.");
            }
        }
    },
};

export const resourcePolicies = [workloadResources, workloadResizePolicy];
