import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chartInputs, chartSourceKind } from "../components/charts";
import { gpuCharts, monitoringCharts, numaflowChart } from "../components/versions";
import { resolveSettings, SettingsError } from "../stacks";

describe("chart sources (charon:charts.source)", () => {
    it("upstream: each chart from its own repository at its pinned version", () => {
        assert.deepEqual(chartInputs(monitoringCharts.mimir, "upstream"), {
            chart: "mimir-distributed", version: "6.0.5", repositoryOpts: { repo: "https://grafana.github.io/helm-charts" },
        });
    });

    it("a Helm repository mirror: same chart name and version, the mirror's URL", () => {
        assert.deepEqual(chartInputs(numaflowChart, "http://127.0.0.1:8879/charts/"), {
            chart: "numaflow", version: "0.4.6", repositoryOpts: { repo: "http://127.0.0.1:8879/charts" },
        });
    });

    it("a directory: the archive helm pull writes", () => {
        assert.deepEqual(chartInputs(gpuCharts.dcgmExporter, "/srv/charts"), { chart: "/srv/charts/dcgm-exporter-4.8.3.tgz" });
    });

    it("anything else is no source", () => {
        for (const bad of ["charts", "ftp://x/y", "./charts", "/srv/../etc"]) {
            assert.equal(chartSourceKind(bad), undefined, bad);
        }
    });

    it("a directory source must hold every chart the stack installs, checked before any resource", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
        try {
            const needed = [...Object.values(monitoringCharts), numaflowChart];
            for (const c of needed.slice(1)) {
                fs.writeFileSync(path.join(dir, `${c.chart}-${c.version}.tgz`), "");
            }
            let problems: string[] = [];
            try {
                resolveSettings({ charts: { source: dir } });
            } catch (err) {
                problems = (err as SettingsError).problems.map((p) => p.message);
            }
            assert.deepEqual(problems, [
                `charon:charts.source: ${JSON.stringify(dir)} lacks prometheus-operator-crds-25.0.1.tgz; fetch each with \`helm pull <repo>/<chart> --version <version>\` into that directory (see README "Charts without the internet")`,
            ]);
            fs.writeFileSync(path.join(dir, "prometheus-operator-crds-25.0.1.tgz"), "");
            assert.equal(resolveSettings({ charts: { source: dir } }).charts.source, dir); // dev: no GPU charts needed
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a value that is no source", () => {
        assert.throws(() => resolveSettings({ charts: { source: "mirror" } }), (err: SettingsError) => {
            assert.deepEqual(err.problems.map((p) => p.message), [
                "charon:charts.source: \"mirror\" is not valid; expected \"upstream\", the http(s) URL of a Helm repository, or an absolute directory of chart archives",
            ]);
            return true;
        });
    });
});
