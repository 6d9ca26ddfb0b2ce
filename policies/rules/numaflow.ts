/**
 * Numaflow: the JetStream inter-step buffer's replica count Numaflow accepts, WorkQueue retention only where every
 * buffer has a single consumer, and exactly one ISB named `default` for the pipelines.
 */
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { load } from "js-yaml";
import { Props, isObject, objectName, objectNamespace, types } from "./kinds";

export const isbReplicas: ResourceValidationPolicy = {
    name: "isb-replicas",
    description: "The JetStream ISB runs 1 or 3+ replicas (Numaflow rejects 2).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== types.isbService) {
            return;
        }
        const replicas = args.props.spec?.jetstream?.replicas;
        if (replicas === undefined) {
            return; // Numaflow's default is 3
        }
        if (Number(replicas) === 2) {
            report("InterStepBufferService spec.jetstream.replicas is 2, which Numaflow rejects (JetStream needs a majority: " +
                "2 servers tolerate no more failures than 1). Use 1 (single node) or 3.");
        } else if (!Number.isInteger(Number(replicas)) || Number(replicas) < 1) {
            report(`InterStepBufferService spec.jetstream.replicas is ${replicas}. Use 1 (single node) or 3.`);
        }
    },
};

const retentionNames: Record<number, string> = { 0: "Limits", 1: "Interest", 2: "WorkQueue" };

/** The stream retention an ISB's bufferConfig sets (0 Limits, 1 Interest, 2 WorkQueue), or undefined (Limits). */
export function isbRetention(isbProps: Props): number | undefined {
    const text = isbProps.spec?.jetstream?.bufferConfig;
    if (typeof text !== "string" || text.trim() === "") {
        return undefined;
    }
    const parsed = load(text);
    const retention = isObject(parsed) && isObject(parsed.stream) ? parsed.stream.retention : undefined;
    return retention === undefined ? undefined : Number(retention);
}

/**
 * Edges that are not one-to-one because their source vertex fans out to several vertices. A WorkQueue stream
 * allows one consumer per subject and deletes a message at its first ack; only one-to-one edges guarantee that.
 */
export function multiConsumerEdges(pipelineProps: Props): string[] {
    const edges: Props[] = pipelineProps.spec?.edges ?? [];
    const outgoing = new Map<string, number>();
    for (const e of edges) {
        outgoing.set(e.from, (outgoing.get(e.from) ?? 0) + 1);
    }
    return edges.filter((e) => (outgoing.get(e.from) ?? 0) > 1).map((e) => `${e.from} → ${e.to}`);
}

function isbNameOf(pipeline: PolicyResource): string {
    return String(pipeline.props.spec?.interStepBufferServiceName ?? "default");
}

export const isbWorkQueueSingleConsumer: StackValidationPolicy = {
    name: "isb-workqueue-single-consumer",
    description: "WorkQueue retention (2) is used only by pipelines whose every edge has a single consumer.",
    enforcementLevel: "advisory",
    validateStack: (args, report) => {
        const isbs = args.resources.filter((r) => r.type === types.isbService);
        for (const pipeline of args.resources.filter((r) => r.type === types.pipeline)) {
            const isb = isbs.find((i) => objectName(i.props, i.name) === isbNameOf(pipeline) &&
                objectNamespace(i.props) === objectNamespace(pipeline.props));
            if (!isb || isbRetention(isb.props) !== 2) {
                continue;
            }
            const problems = multiConsumerEdges(pipeline.props);
            if (problems.length > 0) {
                report(`Pipeline ${objectName(pipeline.props, pipeline.name)} uses ISB ${objectName(isb.props, isb.name)} with WorkQueue ` +
                    `retention, but edges ${problems.join(", ")} fan out from one vertex; a WorkQueue stream allows one consumer ` +
                    `per subject and deletes a message at its first ack, which only one-to-one edges guarantee. Use retention 0 (${retentionNames[0]}) in bufferConfig, ` +
                    "or keep every edge one-to-one.", pipeline.urn);
            }
        }
    },
};

export const singleDefaultIsb: StackValidationPolicy = {
    name: "single-default-isb",
    description: "When a pipeline exists, the stack has exactly one InterStepBufferService named `default`, and every pipeline's ISB exists.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const pipelines = args.resources.filter((r) => r.type === types.pipeline);
        if (pipelines.length === 0) {
            return;
        }
        const isbs = args.resources.filter((r) => r.type === types.isbService);
        if ([...pipelines, ...isbs].some((r) => r.props.metadata === undefined)) {
            // A preview may not know a custom resource's outputs yet; the names are checked once they are known.
            return;
        }
        const defaults = isbs.filter((i) => objectName(i.props, i.name) === "default");
        if (defaults.length !== 1) {
            report(`The stack declares ${pipelines.length} pipeline(s) but ${defaults.length} InterStepBufferService(s) named "default" ` +
                `(found: ${isbs.map((i) => `${objectNamespace(i.props)}/${objectName(i.props, i.name)}`).join(", ") || "none"}). ` +
                "Pipelines use the ISB named default unless they say otherwise: declare exactly one (the Numaflow layer's).");
        }
        for (const p of pipelines) {
            const wanted = isbNameOf(p);
            const found = isbs.some((i) => objectName(i.props, i.name) === wanted && objectNamespace(i.props) === objectNamespace(p.props));
            if (!found) {
                report(`Pipeline ${objectName(p.props, p.name)} in namespace ${objectNamespace(p.props)} uses ISB "${wanted}", which the ` +
                    "stack does not declare in that namespace, so the pipeline never starts. Create the pipeline in the ISB's namespace " +
                    "or point spec.interStepBufferServiceName at an existing ISB.", p.urn);
            }
        }
    },
};

export const numaflowPolicies = [isbReplicas, isbWorkQueueSingleConsumer, singleDefaultIsb];
