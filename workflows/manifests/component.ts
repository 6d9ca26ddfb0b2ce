/**
 * WorkflowManifests: the stack's own manifests as resources, one per object (the preview diff shows each), in the
 * workflow namespace, created once the platform they run on exists. Secrets stay secret; an entry's start time is
 * the creation time of its first object.
 */
import * as pulumi from "@pulumi/pulumi";
import { declareObject } from "./kinds";
import type { ManifestObject } from "./load";

export interface WorkflowManifestsArgs {
    /** The validated objects (stacks/ loads them with the settings). */
    objects: ManifestObject[];
    /** What the objects run on: the ISB and the Numaflow controller, the monitors' CRDs, the workload namespace. */
    after: pulumi.Resource[];
}

/** When each entry's objects were created (RFC 3339), by entry name: the window start of `harvest --workflow`. */
export type WorkflowStarts = Record<string, string>;

/** The resource name of an object: entry, kind and name, lower-case. */
export function manifestResourceName(component: string, m: ManifestObject): string {
    return `${component}-${m.entry}-${m.object.kind.toLowerCase()}-${m.object.metadata.name}`;
}

export class WorkflowManifests extends pulumi.ComponentResource {
    /** Entry name → creation time of its earliest object. */
    readonly started: pulumi.Output<WorkflowStarts>;

    constructor(name: string, args: WorkflowManifestsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:workflows:WorkflowManifests", name, {}, opts);
        const created = args.objects.map((m) => {
            const o = m.object;
            const body = o.kind === "Secret"
                ? { ...o, ...(o.data ? { data: pulumi.secret(o.data) } : {}), ...(o.stringData ? { stringData: pulumi.secret(o.stringData) } : {}) }
                : o;
            const resource = declareObject(manifestResourceName(name, m), body, { parent: this, dependsOn: args.after });
            const metadata = (resource as unknown as { metadata: pulumi.Output<{ creationTimestamp?: string }> }).metadata;
            return { entry: m.entry, created: metadata.apply((md) => md?.creationTimestamp ?? "") };
        });
        this.started = pulumi.all(created.map((c) => pulumi.all([c.entry, c.created]))).apply((rows) => {
            const starts: WorkflowStarts = {};
            for (const [entry, at] of rows) {
                if (at !== "" && (starts[entry] === undefined || at < starts[entry])) {
                    starts[entry] = at;
                }
            }
            return starts;
        });
        this.registerOutputs({ started: this.started });
    }
}
