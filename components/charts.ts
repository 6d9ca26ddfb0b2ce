/**
 * Where the platform's Helm charts come from, and the one way every layer declares a pinned chart's release.
 * The source is a stack setting (`charon:charts.source`): each chart's upstream repository, one Helm repository
 * mirroring them all (index.yaml), or a directory of the archives `helm pull` writes — for air-gapped sites.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { type Static, Type } from "../model/schema";

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
