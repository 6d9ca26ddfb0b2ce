import * as assert from "node:assert/strict";
import * as path from "node:path";

import { metricNames } from "../helpers/promql";
import { LOOPS_POD_MONITOR } from "../../components/controllers/control-loops-objects";
import { CONTROLLER_METRIC_NAMES } from "../../controllers/runtime/metric-names";
import { loadDashboards } from "../../workflows/dashboards";
import { readQueries } from "../../workflows/harvest-hook";
import { dashboardQueries } from "../monitoring/dashboard-queries";
import { catalogueIndex } from "../monitoring/catalogue";

const REPO = path.resolve(__dirname, "..", "..");

describe("controllers: what a harvested experiment and the dashboard show of the loops", () => {
    it("the default harvest list holds every metric the loops export", () => {
        const queries = new Set(readQueries(path.join(REPO, "workflows/aps/metrics.txt")));
        assert.deepEqual(CONTROLLER_METRIC_NAMES.filter((m) => !queries.has(m)), []);
        // What replay starts a simulated target from when no loop ran.
        assert.ok(queries.has("kube_deployment_spec_replicas") && queries.has("kube_pod_container_resource_requests"));
    });

    it("the catalogue knows them as the loops' PodMonitor's, and the ptychography dashboard plots observations, decisions and actions", () => {
        for (const m of CONTROLLER_METRIC_NAMES) {
            assert.deepEqual(catalogueIndex().get(m), [LOOPS_POD_MONITOR], m);
        }
        const d = loadDashboards().find((x) => x.uid === "charon-ptychography")!.dashboard;
        const rowIndex = d.panels.findIndex((p: any) => p.type === "row" && p.title === "Resource controllers");
        assert.ok(rowIndex >= 0);
        const panels = d.panels.slice(rowIndex + 1);
        const used = new Set(dashboardQueries({ panels }).flatMap((q) => metricNames(q.expr)));
        for (const m of ["charon_controller_target_replicas", "charon_controller_desired_replicas", "charon_controller_pod_cpu_millicores",
            "charon_controller_desired_cpu_millicores", "charon_controller_signal", "charon_controller_observation", "charon_controller_actions_total",
            "charon_controller_errors_total", "charon_controller_dry_run"]) {
            assert.ok(used.has(m), `${m} is on the dashboard`);
        }
        assert.deepEqual(panels.map((p: any) => p.title), [
            "Replicas: observed and decided", "Actions", "Pod CPU: observed and decided", "Pod memory: observed and decided",
            "Controller signals", "Controller observations", "Loop health",
        ]);
    });
});
