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

