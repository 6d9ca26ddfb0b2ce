/**
 * The comparison deployment without Numaflow: a PvaPy consumer running PtychoNN inference on the GPU, and a mirror
 * server republishing the stream on a second channel. Pods are labelled role=workload and expose pvapy_* metrics on
 * :9100, which the monitoring layer's `workload-metrics` PodMonitor scrapes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ApsSettings } from "../settings";
import {
    GPU_RESOURCE, NVIDIA_RUNTIME_CLASS, PART_OF, PVA_PORT, RESIZE_WITHOUT_RESTART, WORKLOAD_LABEL, WORKLOAD_METRICS_PORT,
} from "./constants";

type Obj = Record<string, any>;

export interface ConsumerOptions {
    namespace: string;
    image: string;
    /** Channel the consumer reads. */
    channel: string;
    /** PvaPy server queue size. */
    queueSize: number;
    cpu: string;
    memory: string;
    gpuLimit: boolean;
    imagePullPolicy?: string;
}

export interface MirrorOptions {
    namespace: string;
    image: string;
    /** Channel mirrored … */
    from: string;
    /** … onto this one. */
    to: string;
    /** Mirror queue size (frames). */
    queueSize: number;
    cpu: string;
    memory: string;
    imagePullPolicy?: string;
}

/** The PtychoNN model and processor shipped in the consumer image. */
const PROCESSOR = {
    file: "/app/inferPtychoNNImageProcessor.py",
    className: "InferPtychoNNImageProcessor",
    args: { onnx_mdl: "/app/model_512_fp16.trt", output_x: 64, output_y: 64, net: "wan0", no_nrm: true },
};

/** pvapy-hpc-consumer's command line for PtychoNN inference on `channel`. */
export function consumerArgs(channel: string, queueSize: number): string[] {
    return [
        "-ll", "error",
        "--input-channel", channel,
        "--consumer-id", "1",
        "--n-consumers", "1",
        "--control-channel", "processor:*:control",
        "--status-channel", "processor:*:status",
        "--output-channel", "processor:*:output",
        "--processor-file", PROCESSOR.file,
        "--processor-class", PROCESSOR.className,
        "--processor-args", JSON.stringify(PROCESSOR.args),
        "--report-period", "5",
        "--server-queue-size", String(queueSize),
        "--monitor-queue-size", "1000",
        "--distributor-updates", "8",
        "--disable-curses",
    ];
}

function deployment(name: string, namespace: string, podSpec: Obj): Obj {
    const selector = { app: name };
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels: { ...PART_OF, ...selector } },
        spec: {
            replicas: 1,
            selector: { matchLabels: selector },
            template: { metadata: { labels: { ...PART_OF, ...selector, ...WORKLOAD_LABEL } }, spec: podSpec },
        },
    };
}

/** The consumer Deployment: GPU inference, role=workload, metrics on :9100, resizable in place. */
export function consumerDeployment(o: ConsumerOptions): Obj {
    const limits: Record<string, string> = { cpu: o.cpu, memory: o.memory };
    if (o.gpuLimit) {
        limits[GPU_RESOURCE] = "1";
    }
    return deployment("consumer", o.namespace, {
        runtimeClassName: NVIDIA_RUNTIME_CLASS,
        containers: [{
            name: "consumer",
            image: o.image,
            imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
            command: ["pvapy-hpc-consumer"],
            args: consumerArgs(o.channel, o.queueSize),
            ports: [{ ...WORKLOAD_METRICS_PORT }],
            resources: { requests: { cpu: o.cpu, memory: o.memory }, limits },
            resizePolicy: RESIZE_WITHOUT_RESTART.map((p) => ({ ...p })),
        }],
    });
}

/** The mirror server Deployment: republishes `from` as `to` (pvapy:image → ad:image in the original). */
export function mirrorServerDeployment(o: MirrorOptions): Obj {
    return deployment("mirror-server", o.namespace, {
        containers: [{
            name: "mirror-server",
            image: o.image,
            imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
            command: ["pvapy-mirror-server"],
            args: ["--channel-map", `(${o.from},${o.to},pva,${o.queueSize})`],
            ports: [{ name: "pva", containerPort: PVA_PORT }],
            resources: { requests: { cpu: o.cpu, memory: o.memory }, limits: { cpu: o.cpu, memory: o.memory } },
            resizePolicy: RESIZE_WITHOUT_RESTART.map((p) => ({ ...p })),
        }],
    });
}

export interface ApsBaselineArgs extends Pick<ApsSettings, "namespace" | "channel" | "mirrorChannel" | "queueSize" | "cpu" | "memory"> {
    /** The consumer and PvaPy tools images. */
    images: Pick<ApsSettings["images"], "consumer" | "pvapy">;
    /** Request one nvidia.com/gpu: true when the NVIDIA device plugin runs and a node has a GPU. */
    gpuLimit: pulumi.Input<boolean>;
    /** How long `pulumi up` waits for the Deployments to become ready (big GPU image). */
    readyTimeoutMinutes: number;
    /** Resources the Deployments wait for, e.g. the workload Namespace. */
    after: pulumi.Resource[];
}

/** The APS baseline: PvaPy consumer with PtychoNN inference plus the PvaPy mirror server. */
export class ApsBaseline extends pulumi.ComponentResource {
    /** Namespace the baseline runs in. */
    readonly namespace: pulumi.Output<string>;
    /** The workflow kind experiments target. */
    readonly workflow = "baseline" as const;
    readonly consumer: k8s.apps.v1.Deployment;
    readonly mirrorServer: k8s.apps.v1.Deployment;

    constructor(name: string, args: ApsBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:workflows:ApsBaseline", name, {}, opts);
        const namespace = args.namespace;
        const channel = args.channel;
        const timeout = `${args.readyTimeoutMinutes}m`;
        const child = { parent: this, customTimeouts: { create: timeout, update: timeout }, dependsOn: args.after };
        const consumer = pulumi.output(args.gpuLimit).apply((gpuLimit) => consumerDeployment({
            namespace,
            image: args.images.consumer,
            channel,
            queueSize: args.queueSize,
            cpu: args.cpu,
            memory: args.memory,
            gpuLimit,
        }));
        this.consumer = new k8s.apps.v1.Deployment(`${name}-consumer`, {
            metadata: consumer.metadata as pulumi.Input<k8s.types.input.meta.v1.ObjectMeta>,
            spec: consumer.spec as pulumi.Input<k8s.types.input.apps.v1.DeploymentSpec>,
        }, child);
        this.mirrorServer = new k8s.apps.v1.Deployment(`${name}-mirror-server`, mirrorServerDeployment({
            namespace,
            image: args.images.pvapy,
            from: channel,
            to: args.mirrorChannel,
            queueSize: 20000,
            cpu: "500m",
            memory: "1Gi",
        }) as k8s.apps.v1.DeploymentArgs, child);
        this.namespace = pulumi.output(namespace);
        this.registerOutputs({ namespace: this.namespace });
    }
}
