/**
 * A chart directory source (charon:charts.source) for tests: an archive per chart the stack installs, the Numaflow
 * one with the CRDs of the Numaflow release from its Go module (so manifests are checked against real schemas);
 * the others are empty placeholders, as tests under mocks never unpack them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar";
import { gpuCharts, monitoringCharts, numaflowChart } from "../../components/versions";
import { numaflowModuleDir } from "./numaflow";

export function chartDirectory(): { dir: string; remove: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
    for (const c of [...Object.values(monitoringCharts), ...Object.values(gpuCharts)]) {
        fs.writeFileSync(path.join(dir, `${c.chart}-${c.version}.tgz`), "");
    }
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), "chart-src-"));
    const crds = path.join(staging, numaflowChart.chart, "crds");
    fs.mkdirSync(crds, { recursive: true });
    fs.writeFileSync(path.join(staging, numaflowChart.chart, "Chart.yaml"), `apiVersion: v2\nname: ${numaflowChart.chart}\nversion: ${numaflowChart.version}\n`);
    const source = path.join(numaflowModuleDir(), "config", "base", "crds", "full");
    for (const f of fs.readdirSync(source).filter((f) => f.startsWith("numaflow.numaproj.io_"))) {
        fs.copyFileSync(path.join(source, f), path.join(crds, f));
    }
    tar.c({ gzip: true, file: path.join(dir, `${numaflowChart.chart}-${numaflowChart.version}.tgz`), cwd: staging, sync: true }, [numaflowChart.chart]);
    fs.rmSync(staging, { recursive: true, force: true });
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
