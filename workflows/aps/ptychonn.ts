import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
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
    /** Request one nvidia.com/gpu for inference; set when the NVIDIA device plugin is installed. Defaults to false. */
    gpuLimit?: boolean;
    /** Per-vertex scale and buffer limits overriding the profile. Defaults to none. */
    vertices?: Partial<Record<VertexName, VertexSettings>>;
    /**
     * The Numaflow platform the pipeline runs on (NumaflowPlatform: its controller release and ISB); the pipeline
     * is created after both. Defaults to no explicit dependency.
     */
    numaflow?: { controller: pulumi.Resource; isb: pulumi.Resource };
    /** How long `pulumi up` waits for every vertex to become healthy (big GPU images). Defaults to 30 minutes. */
    readyTimeoutMinutes?: number;
}

/**
 * The APS PtychoNN Numaflow pipeline `ptychography`: PvaPy source → PtychoNN inference on the GPU → log sink.
 * `pulumi up` waits until Numaflow reports every vertex healthy.
 */
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
        const manifest = ptychographyPipeline({
            namespace,
            profile: args.profile ?? "fixed",
            channel: args.channel ?? "pvapy:image",
            queueSize: args.queueSize ?? 1000,
            batchSize: args.batchSize ?? 8,
            images: { udsource: args.images?.udsource ?? apsImages.udsource, udf: args.images?.udf ?? apsImages.udf },
            cpu: args.cpu ?? "1000m",
            memory: args.memory ?? "4Gi",
            gpuLimit: args.gpuLimit ?? false,
            vertices: args.vertices,
        });
        const timeout = `${args.readyTimeoutMinutes ?? 30}m`;
        this.pipeline = new k8s.apiextensions.CustomResource(`${name}-pipeline`, {
            ...manifest,
            metadata: {
                ...manifest.metadata,
                // Wait until Numaflow reports all vertices healthy, so experiments start on a running pipeline.
                annotations: { "pulumi.com/waitFor": "condition=VerticesHealthy" },
            },
        }, {
            parent: this,
            dependsOn: args.numaflow ? [args.numaflow.controller, args.numaflow.isb] : [],
            customTimeouts: { create: timeout, update: timeout },
        });
        this.pipelineName = pulumi.output(PIPELINE_NAME);
        this.namespace = pulumi.output(namespace);
        this.registerOutputs({ pipelineName: this.pipelineName, namespace: this.namespace });
    }
}
