import * as pulumi from "@pulumi/pulumi";
import type { ApsSettings } from "../settings";
import { ApsBaseline } from "./baseline";
import { ApsPtychoNN } from "./ptychonn";

export interface ApsWorkflowDeps {
    /** The NVIDIA device plugin runs and a node has a GPU: inference containers request one nvidia.com/gpu. */
    gpuLimit: pulumi.Input<boolean>;
    /** The Numaflow platform (controller release, ISB and its digest) the pipeline waits for and follows. */
    numaflow?: { controller: pulumi.Resource; isb: pulumi.Resource; isbDigest?: string; workloadNamespace?: pulumi.Resource[] };
}

/** How long `pulumi up` waits for the workflow to become ready: GPU images are big. */
export const WORKFLOW_READY_TIMEOUT_MINUTES = 30;

/**
 * The stack's APS workflow: the Numaflow pipeline or the baseline, as `workflows.aps.deploy` says; undefined when
 * `workflows.aps.enabled` is false. Logical names: `aps` (pipeline) and `aps-baseline`.
 */
export function apsWorkflow(aps: ApsSettings, deps: ApsWorkflowDeps, opts?: pulumi.ComponentResourceOptions): ApsPtychoNN | ApsBaseline | undefined {
    if (!aps.enabled) {
        return undefined;
    }
    const common = {
        namespace: aps.namespace, channel: aps.channel, queueSize: aps.queueSize, cpu: aps.cpu, memory: aps.memory, gpuLimit: deps.gpuLimit,
        readyTimeoutMinutes: WORKFLOW_READY_TIMEOUT_MINUTES,
    };
    return aps.deploy === "pipeline"
        ? new ApsPtychoNN("aps", {
            ...common, profile: aps.profile, batchSize: aps.batchSize, vertices: aps.vertices, numaflow: deps.numaflow,
            images: { udsource: aps.images.udsource, udf: aps.images.udf },
        }, opts)
        : new ApsBaseline("aps-baseline", {
            ...common, mirrorChannel: aps.mirrorChannel, images: { consumer: aps.images.consumer, pvapy: aps.images.pvapy },
            after: deps.numaflow?.workloadNamespace ?? [],
        }, opts);
}
