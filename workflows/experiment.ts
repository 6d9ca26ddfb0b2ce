/**
 * An experiment: one named run of the simulated X-ray stream into the deployed workflow, as a Kubernetes Job that
 * `pulumi up` waits for, followed by the harvest of its measured window (resource hook on the Job).
 */
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExperimentSettings, HarvestSettings } from "./settings";
import { PART_OF, RESIZE_WITHOUT_RESTART } from "./aps/constants";
import { type ExperimentWindow, type JobState, experimentWindow, harvestHook, resultsPath } from "./harvest-hook";

type Obj = Record<string, any>;

/** What the simulated stream sends. */
export interface StreamParameters {
    channel: string;
    frameRate: number;
    imageWidth: number;
    imageHeight: number;
    dtype: string;
    durationSeconds: number;
}

/** pvapy-ad-sim-server's command line for a stream. */
export function simServerArgs(p: StreamParameters): string[] {
    return [
        "--channel-name", p.channel,
        "--n-x-pixels", String(p.imageWidth),
        "--n-y-pixels", String(p.imageHeight),
        "--datatype", p.dtype,
        "--frame-rate", String(p.frameRate),
        "--runtime", String(p.durationSeconds),
        "--disable-curses",
    ];
}

/**
 * The Job's name: experiment, run and a digest of everything the Job runs, so a changed parameter, image or run
 * counter gives a new Job (Pulumi replaces it: the stream runs again) while an unchanged one is left alone.
 */
export function streamJobName(experiment: string, run: number, p: StreamParameters, image: string, workflow: string): string {
    const digest = createHash("sha256").update(JSON.stringify([p, image, workflow])).digest("hex").slice(0, 8);
    return `${experiment}-r${run}-${digest}`;
}

/** Seconds `pulumi up` (and Kubernetes, via activeDeadlineSeconds) allow the stream Job: duration + margin. */
export function streamTimeoutSeconds(durationSeconds: number, marginSeconds: number): number {
    return durationSeconds + marginSeconds;
}

export interface StreamJobOptions {
    namespace: string;
    experiment: string;
    run: number;
    workflow: string;
    image: string;
    stream: StreamParameters;
    marginSeconds: number;
    imagePullPolicy?: string;
}

/** The stream Job object: one pod, never retried (a retry would be a second stream inside the window). */
export function streamJob(o: StreamJobOptions): Obj {
    const labels = {
        ...PART_OF,
        "charon/experiment": o.experiment,
        "charon/run": String(o.run),
        "charon/workflow": o.workflow,
    };
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: {
            name: streamJobName(o.experiment, o.run, o.stream, o.image, o.workflow),
            namespace: o.namespace,
            labels,
            // A Job that failed is replaced on the next `pulumi up` instead of being waited on again.
            annotations: { "pulumi.com/replaceUnready": "true" },
        },
        spec: {
            backoffLimit: 0,
            completions: 1,
            parallelism: 1,
            activeDeadlineSeconds: streamTimeoutSeconds(o.stream.durationSeconds, o.marginSeconds),
            template: {
                metadata: { labels },
                spec: {
                    restartPolicy: "Never",
                    containers: [{
                        name: "sim-server",
                        image: o.image,
                        imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
                        command: ["pvapy-ad-sim-server"],
                        args: simServerArgs(o.stream),
                        resources: { requests: { cpu: "1000m", memory: "500Mi" }, limits: { memory: "3Gi" } },
                        resizePolicy: RESIZE_WITHOUT_RESTART.map((p) => ({ ...p })),
                    }],
                },
            },
        },
    };
}

/** What the stack exports per experiment (`experiments.<name>`); `npm run harvest -- --stack --experiment` reads it. */
export interface ExperimentRecord {
    window: ExperimentWindow;
    run: number;
    resultsPath: string;
    workflow: string;
}

export interface ExperimentArgs {
    /** The experiment's settings (name, workflow, run, stream parameters, wait margin). */
    experiment: ExperimentSettings;
    /** Channel used when the experiment sets none (the workflow's channel). */
    defaultChannel: string;
    /** Namespace of the Job (the workflow's). */
    namespace: string;
    /** Image with pvapy-ad-sim-server. */
    image: string;
    /** The deployed workflow (ApsPtychoNN or ApsBaseline): the stream starts once it is ready. */
    workflow: pulumi.Resource;
    /** Further resources the stream must wait for (e.g. the monitoring stack, so the window is scraped). */
    after: pulumi.Resource[];
    /** Stack name: results go to <resultsDir>/<stack>/<experiment>/<run>/. */
    stack: string;
    /** Harvest settings; enabled: false declares no hook. */
    harvest: HarvestSettings;
    /** Kubeconfig of the cluster (secret): the hook reaches Mimir through the API server's service proxy. */
    kubeconfig: pulumi.Input<string>;
    /** In-cluster Prometheus-compatible query URL of Mimir (e.g. http://mimir-gateway.monitoring.svc/prometheus). */
    metricsQueryUrl: pulumi.Input<string>;
    /** Mimir tenant (X-Scope-OrgID). */
    metricsTenant: pulumi.Input<string>;
}

/** One experiment run: the stream Job, awaited, and its harvest hook. */
export class Experiment extends pulumi.ComponentResource {
    /** start − margin → completion + margin of the stream Job, RFC 3339 (known once the Job completed). */
    readonly window: pulumi.Output<ExperimentWindow | undefined>;
    readonly run: pulumi.Output<number>;
    /** Results directory relative to the project. */
    readonly resultsPath: pulumi.Output<string>;
    /** pipeline or baseline. */
    readonly workflow: pulumi.Output<string>;
    /** The stream Job. */
    readonly job: k8s.batch.v1.Job;
    /** The experiment's name (its key in the `experiments` stack output). */
    readonly experimentName: string;

    constructor(name: string, args: ExperimentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:workflows:Experiment", name, {}, opts);
        const e = args.experiment;
        this.experimentName = e.name;
        const stream: StreamParameters = {
            channel: e.channel ?? args.defaultChannel,
            frameRate: e.frameRate,
            imageWidth: e.imageWidth,
            imageHeight: e.imageHeight,
            dtype: e.dtype,
            durationSeconds: e.durationSeconds,
        };
        const timeout = `${streamTimeoutSeconds(e.durationSeconds, e.marginSeconds)}s`;
        const harvest = args.harvest.enabled ? args.harvest : undefined;
        const results = resultsPath(args.harvest.resultsDir, args.stack, e.name, e.run);
        const hook = harvest && harvestHook(`${name}-harvest`, {
            stack: args.stack,
            experiment: e.name,
            run: e.run,
            workflow: e.workflow,
            resultsDir: harvest.resultsDir,
            queriesFile: harvest.queriesFile,
            format: harvest.format,
            mode: harvest.mode,
            step: harvest.step,
            marginSeconds: harvest.marginSeconds,
            kubeconfig: args.kubeconfig,
            metricsQueryUrl: args.metricsQueryUrl,
            tenant: args.metricsTenant,
        });

        this.job = new k8s.batch.v1.Job(`${name}-stream`, streamJob({
            namespace: args.namespace,
            experiment: e.name,
            run: e.run,
            workflow: e.workflow,
            image: args.image,
            stream,
            marginSeconds: e.marginSeconds,
        }), {
            parent: this,
            dependsOn: [args.workflow, ...args.after],
            customTimeouts: { create: timeout, update: timeout },
            ...(hook ? { hooks: { afterCreate: [hook], afterUpdate: [hook] } } : {}),
        });

        const margin = args.harvest.marginSeconds;
        this.window = pulumi.all([this.job.metadata, this.job.status]).apply(([metadata, status]) =>
            status?.completionTime ? experimentWindow({ metadata, status } as JobState, margin) : undefined);
        this.run = pulumi.output(e.run);
        this.resultsPath = pulumi.output(results);
        this.workflow = pulumi.output(e.workflow);
        this.registerOutputs({ window: this.window, run: this.run, resultsPath: this.resultsPath, workflow: this.workflow });
    }
}

/** The stack output `experiments`: experiment name → {window, run, resultsPath, workflow}. */
export function experimentRecords(experiments: Experiment[]): pulumi.Output<Record<string, ExperimentRecord>> {
    return pulumi.all(experiments.map((x) => pulumi.all([x.experimentName, x.window, x.run, x.resultsPath, x.workflow])))
        .apply((rows) => Object.fromEntries(rows
            .filter(([, window]) => window !== undefined)
            .map(([name, window, run, resultsPath, workflow]) => [name, { window: window as ExperimentWindow, run, resultsPath, workflow }])));
}
