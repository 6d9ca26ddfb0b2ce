import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { metricNames, prometheusErrors, withoutGrafanaVariables } from "../helpers/promql";
import { loadDashboards } from "../../workflows/dashboards";
import { dashboardPanels, dashboardQueries } from "./dashboard-queries";
import { KNOWN_METRICS, catalogueIndex } from "./catalogue";

const dashboards = loadDashboards();

describe("dashboards", () => {
    it("provisions the ptychography pipeline dashboard and a cluster overview", () => {
        assert.deepEqual(dashboards.map((d) => [d.file, d.uid, d.title]), [
            ["cluster-overview.json", "charon-cluster-overview", "Cluster overview"],
            ["ptychography-pipeline.json", "charon-ptychography", "Ptychography pipeline"],
        ]);
    });

    for (const d of dashboards) {
        describe(d.file, () => {
            const queries = dashboardQueries(d.dashboard);

            it("has queries to check", () => {
                assert.ok(queries.length >= 10, `${queries.length} queries`);
            });

            it("every PromQL expression is accepted by Prometheus and names only metrics this stack produces", () => {
                const problems: string[] = [];
                const verdicts = prometheusErrors(queries.map((q) => withoutGrafanaVariables(q.expr)));
                queries.forEach((q, i) => {
                    if (verdicts[i] !== undefined) {
                        problems.push(`${q.where}: ${verdicts[i]}`);
                    }
                    const metrics = metricNames(q.expr);
                    for (const metric of metrics.filter((m) => !KNOWN_METRICS.has(m))) {
                        problems.push(`${q.where}: ${metric} is produced by no monitor or scrape job`);
                    }
                    if (metrics.length === 0) {
                        problems.push(`${q.where}: selects no metric`);
                    }
                });
                assert.deepEqual(problems, []);
            });

            it("queries through the datasource variable, which defaults to the provisioned Mimir datasource", () => {
                const ds = d.dashboard.templating.list.find((v: any) => v.name === "datasource");
                assert.equal(ds.type, "datasource");
                assert.equal(ds.query, "prometheus");
                assert.deepEqual(ds.current, { text: "Mimir", value: "mimir" });
                for (const panel of dashboardPanels(d.dashboard).filter((p) => p.type !== "row")) {
                    assert.deepEqual(panel.datasource, { type: "prometheus", uid: "${datasource}" }, panel.title);
                    for (const t of panel.targets) {
                        assert.deepEqual(t.datasource, { type: "prometheus", uid: "${datasource}" }, `${panel.title} ${t.refId}`);
                    }
                }
            });

            it("has unique panel ids and panels that fit the 24-column grid", () => {
                const panels = dashboardPanels(d.dashboard);
                assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
                for (const p of panels) {
                    assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} gridPos`);
                }
            });
        });
    }

    it("the ptychography dashboard has the inventory's rows, each with panels", () => {
        const d = dashboards.find((x) => x.uid === "charon-ptychography")!.dashboard;
        const rows = d.panels.filter((p: any) => p.type === "row").map((p: any) => p.title);
        assert.deepEqual(rows, ["Messaging", "Vertex scaling", "Containers", "Node", "GPU", "PvaPy", "Resource controllers"]);
        const vars = d.templating.list.map((v: any) => v.name);
        assert.deepEqual(vars, ["datasource", "pipeline", "vertex"]);
        // Every source of the original metric list is shown somewhere.
        const used = new Set(dashboardQueries(d).flatMap((q) => metricNames(q.expr)));
        const sources = new Set([...used].flatMap((m) => catalogueIndex().get(m) ?? []));
        for (const source of ["numaflow-pipeline-metrics", "numaflow-pipeline-daemon-metrics", "numaflow-controller-metrics",
            "kubelet-cadvisor", "node-exporter", "kube-state-metrics", "dcgm-monitor", "workload-metrics", "charon-control-loops"]) {
            assert.ok(sources.has(source), `no panel shows ${source}`);
        }
        for (const wrong of ["DCGM_FI_DEV_SM_UTIL", "DCGM_FI_DEV_DRAM_UTIL", "DCGM_FI_DEV_FB_TOTAL"]) {
            assert.ok(!used.has(wrong), wrong);
        }
    });

    it("loadDashboards names the file when JSON is broken or a uid is duplicated", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboards-"));
        try {
            fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify({ uid: "same", title: "A" }));
            fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify({ uid: "same", title: "B" }));
            assert.throws(() => loadDashboards(dir), /dashboards a.json and b.json share the uid same/);
            fs.writeFileSync(path.join(dir, "b.json"), "{ not json");
            assert.throws(() => loadDashboards(dir), /dashboard b.json is not valid JSON/);
            fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify({ title: "B" }));
            assert.throws(() => loadDashboards(dir), /dashboard b.json needs a uid/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("dashboardQueries reads label_values selectors and skips label-only variables", () => {
        const queries = dashboardQueries({
            panels: [{ id: 1, title: "t", targets: [{ refId: "A", expr: "up" }] }],
            templating: { list: [
                { name: "a", type: "query", query: { query: 'label_values(kube_pod_info{namespace="x"}, pod)' } },
                { name: "b", type: "query", query: "label_values(namespace)" },
                { name: "c", type: "custom", query: "x,y" },
            ] },
        });
        assert.deepEqual(queries, [
            { where: 'panel 1 "t" target A', expr: "up" },
            { where: "variable a", expr: 'kube_pod_info{namespace="x"}' },
        ]);
    });
});
