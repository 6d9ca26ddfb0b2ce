/**
 * The CRDs the Numaflow chart installs, read from the chart archive itself (the same source and version the
 * platform's release uses), so objects are checked against exactly the schemas the cluster will have.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as tar from "tar";
import { type ChartSource, localChartArchive } from "../charts";
import { numaflowChart } from "../versions";

const cache = new Map<string, Record<string, unknown>>();

/** The openAPIV3Schema of a Numaflow kind (e.g. "Pipeline") in the chart's crds/. */
export function numaflowCrdSchema(kind: string, source: ChartSource): Record<string, unknown> {
    const key = `${source}|${kind}`;
    const known = cache.get(key);
    if (known) {
        return known;
    }
    const archive = localChartArchive(numaflowChart, source);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "numaflow-chart-"));
    try {
        tar.x({ file: archive, cwd: dir, sync: true, filter: (p) => /\/crds\/[^/]+\.ya?ml$/.test(p) });
        const crdDir = path.join(dir, numaflowChart.chart, "crds");
        const files = fs.existsSync(crdDir) ? fs.readdirSync(crdDir) : [];
        for (const file of files) {
            for (const doc of yaml.loadAll(fs.readFileSync(path.join(crdDir, file), "utf8")) as any[]) {
                if (doc?.kind === "CustomResourceDefinition" && doc.spec?.names?.kind === kind) {
                    const schema = doc.spec.versions.find((v: any) => v.served)?.schema?.openAPIV3Schema;
                    cache.set(key, schema);
                    return schema;
                }
            }
        }
        throw new Error(`the ${numaflowChart.chart} chart ${numaflowChart.version} (${archive}) has no CRD for ${kind} in crds/`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
