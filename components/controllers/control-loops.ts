/**
 * ControlLoops: deploys every enabled control loop (pd-replicas, inplace-resize, a researcher's own) without a
 * custom image — the runtime and the loop's decide function bundled by the program into the loop's ConfigMap and
 * run by the pinned public Node image — each with its own ServiceAccount and a Role that grants exactly what its
 * actions need, plus one PodMonitor that scrapes all loops into Mimir.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { controlLoopImage } from "../versions";
import type { LoopConfig } from "../../controllers/runtime/config";
import { bundleLoop } from "./control-loops-bundle";
import { type EnabledLoop, type LoopEnvironment, enabledLoops, plannedLoops } from "./control-loops-config";
import {
    BUNDLE_FILE, CONFIG_FILE, loopChecksum, loopConfigJson, loopDeployment, loopLabels, loopObjectName, loopRbacRules, loopsPodMonitor,
} from "./control-loops-objects";
import type { ControlLoopsSettings } from "./loops-settings";

/** The deployed APS workflow as the loops see it (ApsPtychoNN or ApsBaseline from the workflows layer). */
export type ControlledWorkflow =
    | (pulumi.Resource & { readonly workflow: "pipeline"; readonly pipelineName: pulumi.Output<string> })
    | (pulumi.Resource & { readonly workflow: "baseline"; readonly consumer: { readonly metadata: pulumi.Output<{ name?: string }> } });

export interface ControlLoopsArgs {
    /** The loops' resolved settings (charon:controllers.pdReplicas, .inplaceResize, .custom). */
    settings: ControlLoopsSettings;
    /** The workflow namespace (charon:workflows.aps.namespace): the loops run there and act there unless a custom target names another. */
    namespace: string;
    /** Mimir's in-cluster Prometheus API (MonitoringStack.queryUrl). */
    metricsQueryUrl: pulumi.Input<string>;
    /** Mimir tenant (MonitoringStack.tenant), sent as X-Scope-OrgID. */
    metricsTenant: pulumi.Input<string>;
    /** The deployed APS workflow: pd-replicas scales the baseline's consumer, inplace-resize resizes the pipeline's pods. Defaults to none. */
    workflow?: ControlledWorkflow;
    /** The prometheus-operator CRDs (MonitoringStack.crds); the PodMonitor is created after them. Defaults to no dependency. */
    monitoringCrds?: pulumi.Resource;
    /** Scrape interval of the loops' metrics (charon:monitoring.rapidScrapeInterval). Defaults to "2s". */
    scrapeInterval?: string;
    /** Base of custom controllers' relative file paths. Defaults to the working directory (the project, under Pulumi). */
    projectDir?: string;
    /** Image the loops run on. Defaults to versions.ts controlLoopImage. */
    image?: string;
    /** Resources the loops wait for, e.g. the workload Namespace. Defaults to none. */
    after?: pulumi.Resource[];
}

export class ControlLoops extends pulumi.ComponentResource {
    /** Names of the deployed loops (their metrics' `controller` label). */
    readonly loops: pulumi.Output<string[]>;
    /** Size of each loop's bundle in bytes (a ConfigMap holds at most 1 MiB). */
    readonly bundleBytes: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: ControlLoopsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:controllers:ControlLoops", name, {}, opts);
        const projectDir = args.projectDir ?? process.cwd();
        const loops = enabledLoops(args.settings, args.namespace, projectDir);
        const workflow = args.workflow;
        for (const loop of loops) {
            if (loop.kind === "pd-replicas" && workflow?.workflow !== "baseline") {
                throw new pulumi.ResourceError(`${loop.settingKey}.enabled is true but the deployed workflow is ${workflow?.workflow ?? "none"}; pd-replicas scales the baseline consumer (workflows.aps.deploy: baseline)`, this);
            }
            if (loop.kind === "inplace-resize" && workflow?.workflow !== "pipeline") {
                throw new pulumi.ResourceError(`${loop.settingKey}.enabled is true but the deployed workflow is ${workflow?.workflow ?? "none"}; inplace-resize resizes the pipeline's inference pods (workflows.aps.deploy: pipeline)`, this);
            }
        }
        const bundles = loops.map((loop) => {
            try {
                return bundleLoop(loop.decideModule, loop.settingKey);
            } catch (e) {
                throw new pulumi.ResourceError((e as Error).message, this);
            }
        });

        const env: pulumi.Output<LoopEnvironment> = pulumi.all([
            args.metricsQueryUrl, args.metricsTenant,
            workflow?.workflow === "baseline" ? workflow.consumer.metadata.name : undefined,
            workflow?.workflow === "pipeline" ? workflow.pipelineName : undefined,
        ]).apply(([url, tenant, baselineDeployment, pipeline]) => ({
            namespace: args.namespace, metrics: { url, tenant }, baselineDeployment, pipeline,
        }));
        const planned = env.apply((e) => plannedLoops(args.settings, e, projectDir));
        const waitFor = [...(args.after ?? []), ...(workflow ? [workflow] : [])];

        loops.forEach((loop, i) => this.deployLoop(name, loop, bundles[i].code, planned.apply((p) => p[i].config), args, waitFor));

        if (loops.length > 0) {
            const monitor = loopsPodMonitor(args.namespace, args.scrapeInterval ?? "2s");
            new k8s.apiextensions.CustomResource(`${name}-pod-monitor`, {
                apiVersion: monitor.apiVersion, kind: monitor.kind, metadata: monitor.metadata, spec: monitor.spec,
            }, { parent: this, dependsOn: args.monitoringCrds ? [args.monitoringCrds] : [] });
        }

        this.loops = pulumi.output(loops.map((l) => l.name));
        this.bundleBytes = pulumi.output(Object.fromEntries(loops.map((l, i) => [l.name, bundles[i].bytes])));
        this.registerOutputs({ loops: this.loops, bundleBytes: this.bundleBytes });
    }

    private deployLoop(name: string, loop: EnabledLoop, code: string, config: pulumi.Output<LoopConfig>,
        args: ControlLoopsArgs, waitFor: pulumi.Resource[]): void {
        const objectName = loopObjectName(loop.name);
        const labels = loopLabels(loop.name);
        const part = `${name}-${loop.name}`;
        const child = { parent: this, dependsOn: args.after ?? [] };
        const configJson = config.apply(loopConfigJson);

        const sa = new k8s.core.v1.ServiceAccount(`${part}-service-account`, {
            metadata: { name: objectName, namespace: args.namespace, labels },
        }, child);
        const role = new k8s.rbac.v1.Role(`${part}-role`, {
            metadata: { name: objectName, namespace: loop.targetNamespace, labels },
            rules: config.apply(loopRbacRules),
        }, child);
        const binding = new k8s.rbac.v1.RoleBinding(`${part}-role-binding`, {
            metadata: { name: objectName, namespace: loop.targetNamespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: args.namespace }],
        }, child);
        const configMap = new k8s.core.v1.ConfigMap(`${part}-code`, {
            metadata: { name: objectName, namespace: args.namespace, labels },
            data: { [BUNDLE_FILE]: code, [CONFIG_FILE]: configJson },
        }, child);
        const deployment = pulumi.all([configJson, configMap.metadata.name, sa.metadata.name, config]).apply(([json, cm, account, c]) =>
            loopDeployment(c, { namespace: args.namespace, image: args.image ?? controlLoopImage, serviceAccount: account, configMap: cm, checksum: loopChecksum(code, json) }));
        new k8s.apps.v1.Deployment(`${part}-deployment`, {
            metadata: deployment.metadata as pulumi.Input<k8s.types.input.meta.v1.ObjectMeta>,
            spec: deployment.spec as pulumi.Input<k8s.types.input.apps.v1.DeploymentSpec>,
        }, { parent: this, dependsOn: [...waitFor, binding, configMap] });
    }
}
