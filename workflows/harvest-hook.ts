/**
 * The experiment harvest: when an experiment's stream Job has completed, collect the stack's metric queries from
 * Mimir over exactly the Job's start → completion window (plus a margin) and write them under
 * results/<stack>/<experiment>/<run>/. Runs as an after-create/after-update resource hook on the Job; the same
 * function is exported so it can be called (and tested) directly.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Endpoint } from "../harvester/http";
import { type HarvestOptions, harvest } from "../harvester/harvest";
import type { Manifest } from "../harvester/manifest";
import { parseKubeconfig, serviceProxyEndpoint } from "../harvester/kube";
import { parseQueriesFile } from "../harvester/options";
import { parseDuration } from "../harvester/time";
import type { HarvestFormat, HarvestMode } from "./settings";

/** The window an experiment is measured over, RFC 3339 UTC. Exported per experiment as `window`. */
export interface ExperimentWindow {
    start: string;
    end: string;
}

/** The part of a Job's live state the harvest reads. */
export interface JobState {
    metadata?: { name?: string; namespace?: string };
    status?: { startTime?: string; completionTime?: string; succeeded?: number };
}

/** RFC 3339 without a zero millisecond part: 2025-08-18T14:47:57Z. */
export function rfc3339(ms: number): string {
    return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * The measured window of a completed Job: status.startTime − margin → status.completionTime + margin.
 * Throws when the Job has not completed (no completionTime) or its times do not parse.
 */
export function experimentWindow(job: JobState, marginSeconds: number): ExperimentWindow {
    const name = job.metadata?.name ?? "(unnamed)";
    const started = job.status?.startTime;
    const completed = job.status?.completionTime;
    if (!started || !completed) {
        throw new Error(`Job ${name} has not completed (status.startTime ${started ?? "unset"}, status.completionTime ${completed ?? "unset"}); there is no window to harvest`);
    }
    const startMs = Date.parse(started);
    const endMs = Date.parse(completed);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
        throw new Error(`Job ${name} has unusable times: startTime ${started}, completionTime ${completed}`);
    }
    const margin = marginSeconds * 1000;
    return { start: rfc3339(startMs - margin), end: rfc3339(endMs + margin) };
}

/** Where one run's results go, relative to the project: <resultsDir>/<stack>/<experiment>/<run>. */
export function resultsPath(resultsDir: string, stack: string, experiment: string, run: number): string {
    return path.posix.join(resultsDir.split(path.sep).join("/"), stack, experiment, String(run));
}

/** The data file's name inside a run's results directory (the harvester writes `<file>.manifest.json` beside it). */
export function dataFileName(format: HarvestFormat): string {
    return `metrics.${format}`;
}

/** Reads a queries file in the harvester's --queries-file format (one query per line, # comments). */
export function readQueries(file: string): string[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new Error(`cannot read queries file ${file}: ${(err as Error).message}`);
    }
    return parseQueriesFile(text);
}

export type HarvestFunction = (options: HarvestOptions) => Promise<Manifest>;

export interface ExperimentHarvestConfig {
    stack: string;
    experiment: string;
    run: number;
    workflow: string;
    /** Results root relative to `projectDir`. */
    resultsDir: string;
    queriesFile: string;
    format: HarvestFormat;
    mode: HarvestMode;
    step?: string;
    marginSeconds: number;
    /** Where the metrics API is: an endpoint, or a kubeconfig plus the in-cluster query URL (service proxy). */
    endpoint?: Endpoint | string;
    kubeconfig?: string;
    metricsQueryUrl?: string;
    tenant?: string;
    /** Base of relative paths. Defaults to the working directory (the project, under Pulumi). */
    projectDir?: string;
    /** Extra wait after the window's end so the last samples reach Mimir. Defaults to 15 s. */
    ingestDelayMs?: number;
    /** The harvester's `harvest` (injected in tests). Defaults to harvester/harvest. */
    harvestFn?: HarvestFunction;
    /** Clock and sleep (injected in tests). */
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
}

export interface ExperimentHarvestResult {
    window: ExperimentWindow;
    resultsPath: string;
    dataFile: string;
    manifest: Manifest;
}

/** A harvest that did not collect everything; what was written stays on disk. */
export class ExperimentHarvestError extends Error {
    constructor(message: string, readonly resultsDir: string, readonly failedQueries: string[]) {
        super(message);
        this.name = "ExperimentHarvestError";
    }
}

/**
 * The harvester command that repeats (with --resume: completes) this harvest without relying on the experiment's
 * stack output, which a failed `pulumi up` may not have recorded.
 */
export function harvestCommand(c: ExperimentHarvestConfig, window: ExperimentWindow, output: string): string {
    return [
        "npm run harvest --", "--stack", c.stack, "--start", window.start, "--end", window.end,
        "--queries-file", c.queriesFile, "--mode", c.mode, ...(c.step === undefined ? [] : ["--step", c.step]),
        "--format", c.format, "--output", output, "--resume",
    ].join(" ");
}

function endpointOf(c: ExperimentHarvestConfig): Endpoint | string {
    if (c.endpoint !== undefined) {
        return c.endpoint;
    }
    if (c.kubeconfig === undefined || c.metricsQueryUrl === undefined) {
        throw new Error("no metrics endpoint: pass endpoint, or kubeconfig and metricsQueryUrl");
    }
    return serviceProxyEndpoint(parseKubeconfig(c.kubeconfig), c.metricsQueryUrl);
}

/**
 * Harvests one completed experiment Job: computes the window, waits until its end has passed (plus the ingest
 * delay), writes experiment.json, then the data file and its manifest via the harvester. Throws
 * ExperimentHarvestError naming the failed queries when any failed (the rest stay written).
 */
export async function harvestExperiment(c: ExperimentHarvestConfig, job: JobState): Promise<ExperimentHarvestResult> {
    const window = experimentWindow(job, c.marginSeconds);
    const projectDir = c.projectDir ?? process.cwd();
    const rel = resultsPath(c.resultsDir, c.stack, c.experiment, c.run);
    const dir = path.resolve(projectDir, rel);
    const dataFile = path.join(dir, dataFileName(c.format));
    const queries = readQueries(path.resolve(projectDir, c.queriesFile));
    const step = c.step === undefined ? undefined : parseDuration(c.step);

    const now = c.now ?? Date.now;
    const sleep = c.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const readyAt = Date.parse(window.end) + (c.ingestDelayMs ?? 15_000);
    if (readyAt > now()) {
        await sleep(readyAt - now());
    }

    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "experiment.json"), JSON.stringify({
        stack: c.stack, experiment: c.experiment, run: c.run, workflow: c.workflow,
        job: { name: job.metadata?.name, namespace: job.metadata?.namespace, startTime: job.status?.startTime, completionTime: job.status?.completionTime },
        window, marginSeconds: c.marginSeconds, queriesFile: c.queriesFile, dataFile: path.basename(dataFile),
    }, null, 2) + "\n");

    const harvestFn = c.harvestFn ?? harvest;
    let manifest: Manifest;
    try {
        manifest = await harvestFn({
            endpoint: endpointOf(c), tenant: c.tenant, queries,
            start: Date.parse(window.start), end: Date.parse(window.end),
            step, mode: c.mode, format: c.format, output: dataFile,
        });
    } catch (err) {
        throw new ExperimentHarvestError(
            `harvest of experiment ${c.experiment} run ${c.run} (window ${window.start} → ${window.end}) could not run: ${(err as Error).message}. ` +
            `${rel}/experiment.json records the window; retry with: ${harvestCommand(c, window, `${rel}/${path.basename(dataFile)}`)}`,
            dir, queries);
    }
    const failed = manifest.queries.filter((q) => q.status !== "ok");
    if (failed.length > 0) {
        const list = failed.slice(0, 10).map((q) => `${q.query} (${q.error ?? q.status})`).join("; ");
        const more = failed.length > 10 ? `; and ${failed.length - 10} more` : "";
        throw new ExperimentHarvestError(
            `harvest of experiment ${c.experiment} run ${c.run}: ${failed.length} of ${manifest.queries.length} queries failed: ${list}${more}. ` +
            `The other ${manifest.queries.length - failed.length} are written to ${rel}/${path.basename(dataFile)}; the manifest ${rel}/${path.basename(dataFile)}.manifest.json lists each query's status. ` +
            `Complete it with: ${harvestCommand(c, window, `${rel}/${path.basename(dataFile)}`)}`,
            dir, failed.map((q) => q.query));
    }
    return { window, resultsPath: rel, dataFile, manifest };
}

/** Values the hook captures as Outputs when the Experiment is declared and resolves when it runs. */
export interface HarvestHookInputs extends Omit<ExperimentHarvestConfig, "kubeconfig" | "metricsQueryUrl" | "tenant"> {
    kubeconfig: pulumi.Input<string>;
    metricsQueryUrl: pulumi.Input<string>;
    tenant?: pulumi.Input<string>;
}

function resolve<T>(value: pulumi.Input<T>): Promise<T> {
    return new Promise((done) => pulumi.output(value).apply((v) => { done(v as T); return v; }));
}

/**
 * The resource hook that harvests after the Job completes. The kubeconfig, query URL and tenant are Outputs of
 * other layers: the closure captures them and resolves them when the hook runs (after the Job, so they are known).
 */
export function harvestHook(name: string, inputs: HarvestHookInputs): pulumi.ResourceHook {
    return new pulumi.ResourceHook(name, async (args) => {
        const [kubeconfig, metricsQueryUrl, tenant] = await Promise.all([
            resolve(inputs.kubeconfig), resolve(inputs.metricsQueryUrl),
            inputs.tenant === undefined ? Promise.resolve(undefined) : resolve(inputs.tenant),
        ]);
        const result = await harvestExperiment({ ...inputs, kubeconfig, metricsQueryUrl, tenant }, (args.newOutputs ?? {}) as JobState);
        const empty = result.manifest.queries.filter((q) => q.status === "ok" && q.series === 0).map((q) => q.query);
        pulumi.log.info(`experiment ${inputs.experiment} run ${inputs.run}: ${result.manifest.totals.samples} samples from ` +
            `${result.manifest.totals.ok} queries (${result.window.start} → ${result.window.end}) written to ${result.resultsPath}` +
            (empty.length > 0 ? `; ${empty.length} matched no series: ${empty.slice(0, 10).join(", ")}${empty.length > 10 ? ", …" : ""}` : ""));
    });
}
