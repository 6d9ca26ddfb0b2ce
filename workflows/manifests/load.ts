/**
 * Reads the stack's own manifests before any resource exists: every enabled entry's files (or its pinned URL),
 * each YAML document an object of a kind the workflow namespace may hold, Pipelines and MonoVertices checked
 * against the CRD schema the platform's Numaflow chart installs. All problems are collected, each naming the
 * entry, the file (and line) and what is wrong.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { ChartSource } from "../../components/charts";
import { fetchSync } from "../../components/download";
import { numaflowCrdSchema } from "../../components/numaflow/chart-crds";
import type { Problem } from "../../model/check";
import { crdValidator } from "../../model/kubernetes-schema";
import { isWorkflowKind, workflowKindList } from "./kinds";
import type { ManifestEntry } from "./settings";

/** One object of an entry, as it will be declared (namespace filled in). */
export interface ManifestObject {
    entry: string;
    /** Where it came from: `file:line` or the URL. */
    source: string;
    object: Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string; namespace: string } };
}

export interface ManifestContext {
    /** Relative paths resolve against it (the project). */
    projectDir: string;
    /** The workflow namespace: objects without one land there; objects in another are refused. */
    namespace: string;
    /** Where the Numaflow chart (and so its CRDs) comes from. */
    chartSource: ChartSource;
}

interface Document {
    source: string;
    text: string;
}

function documentsOf(entry: ManifestEntry, ctx: ManifestContext, report: (message: string) => void): Document[] {
    if (entry.url !== undefined) {
        let body: Buffer;
        try {
            body = fetchSync(entry.url);
        } catch (e) {
            report((e as Error).message);
            return [];
        }
        const digest = createHash("sha256").update(body).digest("hex");
        if (digest !== entry.sha256) {
            report(`${entry.url} has sha256 ${digest}, not the pinned ${entry.sha256}; nothing of it is deployed (check the document, then update sha256)`);
            return [];
        }
        return [{ source: entry.url, text: body.toString("utf8") }];
    }
    const target = path.resolve(ctx.projectDir, entry.path!);
    if (!fs.existsSync(target)) {
        report(`${JSON.stringify(entry.path)} does not exist (relative paths are read from ${ctx.projectDir})`);
        return [];
    }
    const files = fs.statSync(target).isDirectory()
        ? fs.readdirSync(target).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(target, f))
        : [target];
    if (files.length === 0) {
        report(`the directory ${JSON.stringify(entry.path)} holds no .yaml or .yml file`);
    }
    return files.map((file) => ({ source: path.relative(ctx.projectDir, file), text: fs.readFileSync(file, "utf8") }));
}

/** Line of the document starting at `offset` in `text` (1-based). */
const lineAt = (text: string, offset: number) => text.slice(0, offset).split("\n").length;

/** The objects of every enabled entry, and every problem found. */
export function loadManifests(entries: ManifestEntry[], ctx: ManifestContext, root: string): { objects: ManifestObject[]; problems: Problem[] } {
    const objects: ManifestObject[] = [];
    const problems: Problem[] = [];
    const validators = new Map<string, (o: unknown) => string[]>();
    entries.forEach((entry, i) => {
        if (!entry.enabled) {
            return;
        }
        const key = `${root}workflows.manifests[${i}]`;
        const report = (message: string) => problems.push({ key, message: `${key}: ${message}` });
        for (const doc of documentsOf(entry, ctx, report)) {
            let parsed: unknown[];
            try {
                parsed = yaml.loadAll(doc.text);
            } catch (e) {
                const mark = (e as yaml.YAMLException).mark;
                report(`${doc.source}${mark ? `:${mark.line + 1}` : ""}: not YAML: ${(e as yaml.YAMLException).reason ?? (e as Error).message}`);
                continue;
            }
            const starts = [0, ...[...doc.text.matchAll(/^---.*$/gm)].map((m) => m.index! + m[0].length + 1)];
            parsed.forEach((value, d) => {
                if (value === null || value === undefined) {
                    return; // an empty document between separators
                }
                const where = `${doc.source}:${lineAt(doc.text, starts[Math.min(d, starts.length - 1)])}`;
                const o = value as Record<string, any>;
                if (typeof o !== "object" || typeof o.metadata?.name !== "string") {
                    report(`${where}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`);
                    return;
                }
                const label = `${o.kind} ${o.metadata.name} (${where})`;
                if (!isWorkflowKind(o.apiVersion, o.kind)) {
                    report(`${label}: ${o.apiVersion} ${o.kind} is not a kind a workflow may declare; allowed: ${workflowKindList()}`);
                    return;
                }
                if (o.metadata.namespace !== undefined && o.metadata.namespace !== ctx.namespace) {
                    report(`${label}: namespace ${JSON.stringify(o.metadata.namespace)} is not the stack's workflow namespace ${JSON.stringify(ctx.namespace)}; remove metadata.namespace or set it to ${ctx.namespace}`);
                    return;
                }
                if (o.apiVersion === "numaflow.numaproj.io/v1alpha1") {
                    let validate = validators.get(o.kind);
                    if (validate === undefined) {
                        try {
                            validate = crdValidator(numaflowCrdSchema(o.kind, ctx.chartSource));
                        } catch (e) {
                            report(`${label}: cannot check it against Numaflow's CRD: ${(e as Error).message}`);
                            return;
                        }
                        validators.set(o.kind, validate);
                    }
                    const crdProblems = validate(o);
                    if (crdProblems.length > 0) {
                        report(`${label} does not match Numaflow's ${o.kind} schema: ${crdProblems.join("; ")}`);
                        return;
                    }
                }
                objects.push({
                    entry: entry.name, source: where,
                    object: { ...o, metadata: { ...o.metadata, namespace: ctx.namespace } } as ManifestObject["object"],
                });
            });
        }
    });
    const names = new Map<string, string>();
    for (const m of objects) {
        const id = `${m.object.apiVersion} ${m.object.kind} ${m.object.metadata.name}`;
        const first = names.get(id);
        if (first !== undefined) {
            problems.push({ key: `${root}workflows.manifests`, message: `${root}workflows.manifests: ${id} is declared twice (${first} and ${m.source})` });
        }
        names.set(id, m.source);
    }
    return { objects, problems };
}
