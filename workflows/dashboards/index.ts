/**
 * The Grafana dashboards provisioned by the monitoring stack: every *.json file in this folder. This loader reads
 * and checks them (valid JSON, a unique uid and a title) and lists the queries they run, so tests and policies can
 * check each PromQL expression against the metric catalogue.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** This folder. */
export const DASHBOARDS_DIR = __dirname;

export interface DashboardFile {
    /** File name, also the key in the provisioning ConfigMap (e.g. "cluster-overview.json"). */
    file: string;
    uid: string;
    title: string;
    /** The file's text, provisioned as is. */
    json: string;
    dashboard: Record<string, any>;
}

/** Reads every dashboard JSON file of a folder (sorted by name); throws naming the file on any defect. */
export function loadDashboards(dir: string = DASHBOARDS_DIR): DashboardFile[] {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
    const seen = new Map<string, string>();
    return files.map((file) => {
        const json = fs.readFileSync(path.join(dir, file), "utf8");
        let dashboard: any;
        try {
            dashboard = JSON.parse(json);
        } catch (e) {
            throw new Error(`dashboard ${file} is not valid JSON: ${(e as Error).message}`);
        }
        if (typeof dashboard?.uid !== "string" || !/^[a-zA-Z0-9_-]{1,40}$/.test(dashboard.uid)) {
            throw new Error(`dashboard ${file} needs a uid of 1–40 letters, digits, '-' or '_' (found ${JSON.stringify(dashboard?.uid)})`);
        }
        if (typeof dashboard.title !== "string" || dashboard.title.trim() === "") {
            throw new Error(`dashboard ${file} needs a title`);
        }
        const other = seen.get(dashboard.uid);
        if (other) {
            throw new Error(`dashboards ${other} and ${file} share the uid ${dashboard.uid}`);
        }
        seen.set(dashboard.uid, file);
        return { file, uid: dashboard.uid, title: dashboard.title, json, dashboard };
    });
}

/** One query a dashboard runs. */
export interface DashboardQuery {
    /** Where it is, for error messages: "panel 3 \"CPU\" target A" or "variable vertex". */
    where: string;
    /** PromQL expression (for label_values variables: the series selector). */
    expr: string;
}

/** All panels, including those nested in collapsed rows. */
export function dashboardPanels(dashboard: Record<string, any>): Record<string, any>[] {
    const out: Record<string, any>[] = [];
    for (const p of dashboard.panels ?? []) {
        out.push(p);
        for (const nested of p.panels ?? []) {
            out.push(nested);
        }
    }
    return out;
}

/**
 * The PromQL a dashboard runs: every panel target's expr, and the series selector or expression inside template
 * variable queries (label_values(<selector>, label), query_result(<expr>)).
 */
export function dashboardQueries(dashboard: Record<string, any>): DashboardQuery[] {
    const queries: DashboardQuery[] = [];
    for (const panel of dashboardPanels(dashboard)) {
        for (const target of panel.targets ?? []) {
            if (typeof target.expr === "string") {
                queries.push({ where: `panel ${panel.id} ${JSON.stringify(panel.title)} target ${target.refId}`, expr: target.expr });
            }
        }
    }
    for (const variable of dashboard.templating?.list ?? []) {
        if (variable.type !== "query") {
            continue;
        }
        const text: string = typeof variable.query === "string" ? variable.query : variable.query?.query ?? "";
        const labelValues = /^\s*label_values\(\s*(.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/s.exec(text);
        const queryResult = /^\s*query_result\(\s*(.+)\s*\)\s*$/s.exec(text);
        if (labelValues) {
            queries.push({ where: `variable ${variable.name}`, expr: labelValues[1] });
        } else if (queryResult) {
            queries.push({ where: `variable ${variable.name}`, expr: queryResult[1] });
        } else if (!/^\s*label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.test(text)) {
            // label_values(label) names no metric; anything else is a query we cannot check.
            queries.push({ where: `variable ${variable.name}`, expr: text });
        }
    }
    return queries;
}
