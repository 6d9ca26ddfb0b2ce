import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { numaflowKinds } from "../../components/crds";
import type { ApsSettings } from "../settings";
import { PIPELINE_NAME } from "./constants";
import { ptychographyPipeline } from "./pipeline";

export interface ApsPtychoNNArgs extends Pick<ApsSettings, "namespace" | "profile" | "channel" | "queueSize" | "batchSize" | "cpu" | "memory" | "vertices"> {
    /** Source and inference images. */
    images: Pick<ApsSettings["images"], "udsource" | "udf">;
    /**
     * Request one nvidia.com/gpu for inference: true when the NVIDIA device plugin runs and a node has a GPU (may be
     * known only once the hosts reported their GPUs).
     */
    gpuLimit: pulumi.Input<boolean>;
    /**
     * The Numaflow platform the pipeline runs on (NumaflowPlatform: its controller release and ISB); the pipeline
     * is created after both. None: no explicit dependency.
     */
    numaflow?: { controller: pulumi.Resource; isb: pulumi.Resource; isbDigest?: string };
    /** How long `pulumi up` waits for every vertex to become healthy (big GPU images). */
    readyTimeoutMinutes: number;
}

/**
 * The APS PtychoNN Numaflow pipeline `ptychography`: PvaPy source → PtychoNN inference on the GPU → log sink.
 * `pulumi up` waits until Numaflow reports every vertex healthy.
 */
/** Annotation carrying the digest of the ISB fields whose change replaces the ISB (and so this pipeline). */
export const ISB_DIGEST_ANNOTATION = "charon.io/isb-spec";

export class ApsPtychoNN extends pulumi.ComponentResource {
    /** Name of the Pipeline object. */
    readonly pipelineName: pulumi.Output<string>;
    /** Namespace the pipeline runs in. */
    readonly namespace: pulumi.Output<string>;
    /** The workflow kind experiments target. */
    readonly workflow = "pipeline" as const;
    /** The Pipeline custom resource. */
    readonly pipeline: k8s.apiextensions.CustomResource;

    constructor(name: string, args: ApsPtychoNNArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:workflows:ApsPtychoNN", name, {}, opts);
        const namespace = args.namespace;
        const manifest = pulumi.output(args.gpuLimit).apply((gpuLimit) => ptychographyPipeline({
            namespace,
            profile: args.profile,
            channel: args.channel,
            queueSize: args.queueSize,
            batchSize: args.batchSize,
            images: args.images,
            cpu: args.cpu,
            memory: args.memory,
            gpuLimit,
            vertices: args.vertices,
        }));
        const timeout = `${args.readyTimeoutMinutes}m`;
        this.pipeline = new k8s.apiextensions.CustomResource(`${name}-pipeline`, {
            apiVersion: numaflowKinds.pipeline.apiVersion,
            kind: numaflowKinds.pipeline.kind,
            spec: manifest.spec,
            metadata: {
                name: PIPELINE_NAME,
                namespace,
                labels: manifest.apply((m) => m.metadata.labels ?? {}),
                annotations: {
                    // Wait until Numaflow reports all vertices healthy, so experiments start on a running pipeline.
                    "pulumi.com/waitFor": "condition=VerticesHealthy",
                    // Numaflow creates a pipeline's buffers only when the pipeline is created: when the ISB is
                    // replaced (its digest changes), the pipeline is replaced with it.
                    ...(args.numaflow?.isbDigest ? { [ISB_DIGEST_ANNOTATION]: args.numaflow.isbDigest } : {}),
                },
            },
        }, {
            parent: this,
            dependsOn: args.numaflow ? [args.numaflow.controller, args.numaflow.isb] : [],
            replaceOnChanges: ["metadata.annotations"],
            deleteBeforeReplace: true,
            customTimeouts: { create: timeout, update: timeout },
        });
        this.pipelineName = pulumi.output(PIPELINE_NAME);
        this.namespace = pulumi.output(namespace);
        this.registerOutputs({ pipelineName: this.pipelineName, namespace: this.namespace });
    }
}
