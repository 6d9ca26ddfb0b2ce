/**
 * Numaflow objects checked against Numaflow itself: the CRD schemas (openAPIV3Schema) and the default controller
 * config of the release the chart installs, read from its Go module (github.com/numaproj/numaflow at
 * versions.ts numaflowVersion, fetched by `npm run setup`), validated with Ajv; plus the few rules Numaflow's
 * admission webhook adds (pkg/reconciler/validator), and core Kubernetes types with kubernetes-models' schemas.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { numaflowVersion } from "../../components/versions";
import { crdValidator } from "../../model/kubernetes-schema";
import { validateObject } from "./kube-schema";

const MODULE = "github.com/numaproj/numaflow";

let moduleDir: string | undefined;

/** The Numaflow module's directory in the Go module cache. */
export function numaflowModuleDir(): string {
    if (moduleDir !== undefined) {
        return moduleDir;
    }
    let cache = "";
    try {
        cache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
    } catch {
        // reported below
    }
    const dir = path.join(cache, `${MODULE}@${numaflowVersion}`);
    if (cache === "" || !fs.existsSync(path.join(dir, "config", "base", "crds", "full"))) {
        const error = new Error(`Numaflow ${numaflowVersion}'s CRDs are not in the Go module cache: run \`npm run setup\``);
        error.stack = error.message;
        throw error;
    }
    moduleDir = dir;
    return dir;
}

/** One CRD of the release, e.g. "pipelines". */
export function numaflowCrd(plural: string): Record<string, any> {
    const file = path.join(numaflowModuleDir(), "config", "base", "crds", "full", `numaflow.numaproj.io_${plural}.yaml`);
    return yaml.load(fs.readFileSync(file, "utf8")) as Record<string, any>;
}

const validators = new Map<string, (object: unknown) => string[]>();
function validatorFor(plural: string): (object: unknown) => string[] {
    let v = validators.get(plural);
    if (v === undefined) {
        v = crdValidator(numaflowCrd(plural).spec.versions[0].schema.openAPIV3Schema);
        validators.set(plural, v);
    }
    return v;
}

/** Problems of a bufferConfig: it must parse and set only keys Numaflow's default controller config has, with the same types. */
export function bufferConfigProblems(text: string): string[] {
    const file = path.join(numaflowModuleDir(), "config", "base", "controller-manager", "numaflow-controller-config.yaml");
    const configMap = yaml.load(fs.readFileSync(file, "utf8")) as any;
    const controller = yaml.load(configMap.data["controller-config.yaml"]) as any;
    const defaults = yaml.load(controller.isbsvc.jetstream.bufferConfig);
    let parsed: unknown;
    try {
        parsed = yaml.load(text);
    } catch (e) {
        return [`bufferConfig: not YAML (${(e as Error).message})`];
    }
    const problems: string[] = [];
    const walk = (value: any, known: any, where: string) => {
        for (const [k, v] of Object.entries(value ?? {})) {
            const key = `${where}.${k}`;
            if (known === null || typeof known !== "object" || !(k in known)) {
                problems.push(`${key}: not a key of Numaflow's bufferConfig`);
            } else if (typeof v === "object" && v !== null) {
                walk(v, known[k], key);
            } else if (typeof v !== typeof known[k]) {
                problems.push(`${key}: ${JSON.stringify(v)} is a ${typeof v}, Numaflow's default is a ${typeof known[k]} (${JSON.stringify(known[k])})`);
            }
        }
    };
    walk(parsed, defaults, "bufferConfig");
    return problems;
}

/** Problems of an InterStepBufferService: CRD schema, Numaflow's webhook rules, bufferConfig keys. */
export async function isbProblems(object: any): Promise<string[]> {
    const problems = validatorFor("interstepbufferservices")(object);
    const js = object?.spec?.jetstream;
    if (js === undefined) {
        problems.push(`invalid spec: "spec.jetstream" needs to be specified`);
    } else {
        if (!js.version) {
            problems.push(`invalid spec: "spec.jetstream.version" is not defined`);
        }
        if (js.replicas === 2) {
            problems.push(`invalid spec: min value for "spec.jetstream.replicas" is 1 and can't be 2`);
        }
        if (typeof js.bufferConfig === "string") {
            problems.push(...bufferConfigProblems(js.bufferConfig));
        }
    }
    return problems;
}

/**
 * Problems of a Pipeline: CRD schema, the webhook's structural rules (pipeline_validate.go: one of source, udf or
 * sink per vertex, edges between existing vertices, sources without incoming and sinks without outgoing edges,
 * min ≤ max replicas, a UDF with an image) and embedded containers against the Kubernetes schema.
 */
export async function pipelineProblems(object: any): Promise<string[]> {
    const problems = validatorFor("pipelines")(object);
    const vertices: any[] = Array.isArray(object?.spec?.vertices) ? object.spec.vertices : [];
    const edges: any[] = Array.isArray(object?.spec?.edges) ? object.spec.edges : [];
    const names = new Set<string>();
    for (const v of vertices) {
        if (names.has(v.name)) {
            problems.push(`duplicate vertex name ${JSON.stringify(v.name)}`);
        }
        names.add(v.name);
        const kinds = ["source", "udf", "sink"].filter((k) => v[k] !== undefined);
        if (kinds.length !== 1) {
            problems.push(`invalid vertex ${JSON.stringify(v.name)}, only one of 'source', 'sink' and 'udf' can be specified (has ${kinds.join(", ") || "none"})`);
        }
        const from = edges.filter((e) => e.to === v.name).length;
        const to = edges.filter((e) => e.from === v.name).length;
        if (v.source && (from !== 0 || to === 0)) {
            problems.push(`invalid vertex ${JSON.stringify(v.name)}, source must have 0 from edges and at least 1 to edge`);
        }
        if (v.sink && (to !== 0 || from === 0)) {
            problems.push(`invalid vertex ${JSON.stringify(v.name)}, sink must have 0 to edges and at least 1 from edge`);
        }
        if (v.udf && !v.udf.container?.image && !v.udf.builtin) {
            problems.push(`invalid vertex ${JSON.stringify(v.name)}: invalid udf spec, a customized image is required`);
        }
        if (v.scale && typeof v.scale.min === "number" && typeof v.scale.max === "number" && v.scale.max < v.scale.min) {
            problems.push(`vertex ${JSON.stringify(v.name)}: max number of replicas should be greater than or equal to min`);
        }
        for (const container of [...(v.sidecars ?? []), ...(v.initContainers ?? [])]) {
            try {
                await validateObject({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" }, spec: { containers: [container] } });
            } catch (e) {
                problems.push(`vertex ${JSON.stringify(v.name)} container ${JSON.stringify(container.name)}: ${(e as Error).message}`);
            }
        }
    }
    for (const e of edges) {
        for (const end of [e.from, e.to]) {
            if (!names.has(end)) {
                problems.push(`invalid edge: no vertex named ${JSON.stringify(end)}`);
            }
        }
    }
    return problems;
}

/** Dispatch on kind. */
export async function numaflowObjectProblems(object: any): Promise<string[]> {
    switch (object?.kind) {
        case "InterStepBufferService": return isbProblems(object);
        case "Pipeline": return pipelineProblems(object);
        default: return [`kind ${JSON.stringify(object?.kind)} is not InterStepBufferService or Pipeline`];
    }
}
