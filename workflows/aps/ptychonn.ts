import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { numaflowKinds } from "../../components/crds";
import { apsImages } from "../../components/versions";
import type { ApsProfileName, VertexName, VertexSettings } from "../../stacks/settings-workflows";
import { PIPELINE_NAME } from "./constants";
import { ptychographyPipeline } from "./pipeline";

export interface ApsPtychoNNArgs {
    /** Namespace of the Pipeline. Defaults to "default" (where the original ran and the monitors look). */
    namespace?: string;
    /** Scaling profile: fixed or autoscaling. Defaults to "fixed". */
    profile?: ApsProfileName;
    /** PVA channel the source subscribes to. Defaults to "pvapy:image". */
    channel?: string;
    /** PvaPy receive queue size of the source. Defaults to 1000. */
    queueSize?: number;
    /** Frames the inference vertex reads per batch. Defaults to 8. */
    batchSize?: number;
    /** Source and inference images. Default to versions.ts `apsImages`. */
    images?: { udsource?: string; udf?: string };
    /** CPU request and limit of the inference container. Defaults to "1000m". */
    cpu?: string;
    /** Memory request and limit of the inference container. Defaults to "4Gi". */
    memory?: string;
    /**
     * Request one nvidia.com/gpu for inference: true when the NVIDIA device plugin runs and a node has a GPU (may be
     * known only once the hosts reported their GPUs). Defaults to false.
     */
    gpuLimit?: pulumi.Input<boolean>;
    /** Per-vertex scale and buffer limits overriding the profile. Defaults to none. */
    vertices?: Partial<Record<VertexName, VertexSettings>>;
    /**
     * The Numaflow platform the pipeline runs on (NumaflowPlatform: its controller release and ISB); the pipeline
     * is created after both. Defaults to no explicit dependency.
     */
    numaflow?: { controller: pulumi.Resource; isb: pulumi.Resource; isbDigest?: string };
    /** How long `pulumi up` waits for every vertex to become healthy (big GPU images). Defaults to 30 minutes. */
    readyTimeoutMinutes?: number;
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

    constructor(name: string, args: ApsPtychoNNArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("charon:workflows:ApsPtychoNN", name, {}, opts);
        const namespace = args.namespace ?? "default";
        const manifest = pulumi.output(args.gpuLimit ?? false).apply((gpuLimit) => ptychographyPipeline({
            namespace,
            profile: args.profile ?? "fixed",
            channel: args.channel ?? "pvapy:image",
            queueSize: args.queueSize ?? 1000,
            batchSize: args.batchSize ?? 8,
            images: { udsource: args.images?.udsource ?? apsImages.udsource, udf: args.images?.udf ?? apsImages.udf },
            cpu: args.cpu ?? "1000m",
            memory: args.memory ?? "4Gi",
            gpuLimit,
            vertices: args.vertices,
        }));
        const timeout = `${args.readyTimeoutMinutes ?? 30}m`;
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
