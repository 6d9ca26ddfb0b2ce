/**
 * Where the platform's Helm charts come from, and the one way every layer declares a pinned chart's release.
 * The source is a stack setting (`charon:charts.source`): each chart's upstream repository, one Helm repository
 * mirroring them all (index.yaml), or a directory of the archives `helm pull` writes — for air-gapped sites.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { type Static, Type } from "../model/schema";
import { fetchSync } from "./download";

export const ChartsSettingsSchema = Type.Object({
    source: Type.String({
        default: "upstream",
        pattern: "^(upstream|https?://[^\\s/]+(/\\S*)?|/(?!(.*/)?\\.\\.(/|$))\\S*)$",
        hint: "\"upstream\", the http(s) URL of a Helm repository, or an absolute directory of chart archives",
        description: "upstream: each chart's own repository; an http(s) URL: one Helm repository (index.yaml) holding every pinned chart; an absolute directory: the archives `<chart>-<version>.tgz` as `helm pull` writes them.",
    }),
}, { additionalProperties: false, default: {}, description: "Where the platform's Helm charts come from." });

export type ChartsSettings = Static<typeof ChartsSettingsSchema>;

/** A chart pinned in versions.ts: its upstream repository, name and version. */
export interface PinnedChart {
    readonly repo: string;
    readonly chart: string;
    readonly version: string;
}

/** "upstream", an http(s) URL of a Helm repository, or an absolute directory of `<chart>-<version>.tgz` files. */
export type ChartSource = string;

export const UPSTREAM = "upstream";

export type ChartSourceKind = "upstream" | "repository" | "directory";

export function chartSourceKind(source: ChartSource): ChartSourceKind | undefined {
    if (source === UPSTREAM) {
        return "upstream";
    }
    if (/^https?:\/\/[^\s/]+(\/\S*)?$/.test(source)) {
        return "repository";
    }
    if (path.isAbsolute(source) && !source.split("/").includes("..")) {
        return "directory";
    }
    return undefined;
}

/** The archive a directory source must hold for `chart`, as `helm pull` names it. */
export function chartArchive(directory: string, chart: PinnedChart): string {
    return path.join(directory, `${chart.chart}-${chart.version}.tgz`);
}

/** The chart, version and repository inputs of a Release of `chart` taken from `source`. */
export function chartInputs(chart: PinnedChart, source: ChartSource): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts"> {
    switch (chartSourceKind(source)) {
        case "upstream":
            return { chart: chart.chart, version: chart.version, repositoryOpts: { repo: chart.repo } };
        case "repository":
            return { chart: chart.chart, version: chart.version, repositoryOpts: { repo: source.replace(/\/+$/, "") } };
        case "directory":
            return { chart: chartArchive(source, chart) };
        default:
            throw new Error(`chart source ${JSON.stringify(source)} is neither "upstream", an http(s) URL nor an absolute directory`);
    }
}

export interface PinnedReleaseArgs {
    /** Helm release name. */
    releaseName: string;
    chart: PinnedChart;
    source: ChartSource;
    namespace: pulumi.Input<string>;
    values: pulumi.Input<Record<string, any>>;
    /** Install/upgrade timeout in seconds. */
    timeoutSeconds: number;
}

/** A Helm release of a pinned chart: atomic, cleaned up on failure, in an existing namespace. */
export function pinnedRelease(name: string, args: PinnedReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(name, {
        name: args.releaseName,
        ...chartInputs(args.chart, args.source),
        namespace: args.namespace,
        createNamespace: false,
        values: args.values,
        atomic: true,
        cleanupOnFail: true,
        timeout: args.timeoutSeconds,
    }, opts);
}

/** Where downloaded chart archives are kept (per user, outside the repository). */
export function chartCacheDir(): string {
    return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "charon", "charts");
}

/**
 * A local copy of the chart's archive from `source`: the directory's own file, or downloaded once from the Helm
 * repository (its index.yaml names the archive) into the cache. Throws an Error naming the chart and the source.
 */
export function localChartArchive(chart: PinnedChart, source: ChartSource): string {
    const kind = chartSourceKind(source);
    if (kind === "directory") {
        return chartArchive(source, chart);
    }
    const cached = path.join(chartCacheDir(), `${chart.chart}-${chart.version}.tgz`);
    if (fs.existsSync(cached)) {
        return cached;
    }
    const repo = (kind === "repository" ? source : chart.repo).replace(/\/+$/, "");
    const index = yaml.load(fetchSync(`${repo}/index.yaml`).toString("utf8")) as { entries?: Record<string, { version: string; urls: string[] }[]> };
    const entry = index.entries?.[chart.chart]?.find((e) => e.version === chart.version);
    if (entry === undefined || entry.urls.length === 0) {
        throw new Error(`the Helm repository ${repo} has no ${chart.chart} ${chart.version}`);
    }
    const url = new URL(entry.urls[0], `${repo}/`).toString();
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const partial = `${cached}.${process.pid}.partial`;
    fs.writeFileSync(partial, fetchSync(url));
    fs.renameSync(partial, cached);
    return cached;
}
