/**
 * Validates Kubernetes objects against the API schema with kubernetes-models (built-in groups) and
 * @kubernetes-models/prometheus-operator (monitoring.coreos.com). The packages are ESM-only: models are loaded with
 * import() by apiVersion and kind. Everything here throws on a schema error and on an object it has no model for.
 */
import type { RecordedResource } from "./pulumi-mocks";

type ModelClass = new (data: unknown) => { validate(): void };

/** API groups whose models live outside kubernetes-models, by group → package. */
const groupPackages: Record<string, string> = {
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const moduleName = group === "" ? `kubernetes-models/${version}` : `${groupPackages[group] ?? "kubernetes-models"}/${group}/${version}`;
    let mod: Record<string, ModelClass>;
    try {
        mod = await import(moduleName);
    } catch (e) {
        throw new Error(`no schema model for ${apiVersion} ${kind} (${moduleName}: ${(e as Error).message})`, { cause: e });
    }
    const Model = mod[kind];
    if (!Model) {
        throw new Error(`no schema model for ${apiVersion} ${kind}`);
    }
    return Model;
}

/** Validates one object (apiVersion and kind required). */
export async function validateObject(object: Record<string, any>): Promise<void> {
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
        throw new Error(`not a Kubernetes object (apiVersion ${object.apiVersion}, kind ${object.kind})`);
    }
    const Model = await modelFor(object.apiVersion, object.kind);
    new Model(object).validate();
}

/**
 * The apiVersion and kind a Pulumi Kubernetes type token declares: `kubernetes:core/v1:Namespace` → v1 Namespace,
 * `kubernetes:apps/v1:Deployment` → apps/v1 Deployment; a `…Patch` token declares its full kind.
 */
export function objectTypeOf(type: string): { apiVersion: string; kind: string } {
    const m = /^kubernetes:([^:]+):(\w+)$/.exec(type);
    if (!m) {
        throw new Error(`${type} is no Kubernetes object type`);
    }
    return { apiVersion: m[1].replace(/^core\//, ""), kind: m[2].replace(/Patch$/, "") };
}

/**
 * Validates a recorded Kubernetes resource: its inputs must name the apiVersion and kind its type token declares,
 * and validate as that object. Errors name the resource.
 */
export async function validateResource(r: RecordedResource): Promise<void> {
    const expected = objectTypeOf(r.type);
    if (r.inputs.apiVersion !== expected.apiVersion || r.inputs.kind !== expected.kind) {
        throw new Error(`${r.name} (${r.type}) declares ${r.inputs.apiVersion} ${r.inputs.kind}, expected ${expected.apiVersion} ${expected.kind}`);
    }
    try {
        await validateObject(r.inputs);
    } catch (e) {
        throw new Error(`${r.name} (${r.type}): ${(e as Error).message}`, { cause: e });
    }
}
