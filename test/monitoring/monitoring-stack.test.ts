import { strict as assert } from "node:assert";
import * as yaml from "js-yaml";
import { MonitoringStack, MonitoringStackArgs, grafanaUrlFor, MONITORS } from "../../components/monitoring";
import { MonitoringSettingsSchema, type MonitoringSettings } from "../../components/monitoring/settings";
import { monitoringArgs } from "./fixtures";
import { layerSettings } from "../helpers/settings";
import { monitoringCharts } from "../../components/versions";
import { resolveSettings } from "../../stacks";
import { RecordedResource, runComponents, unwrap, isSecretOutput } from "../helpers/pulumi-mocks";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const nodes = [
    { name: "gpu1", role: "agent" as const, address: "10.0.0.9", gpuCount: 1 },
    { name: "head", role: "server" as const, address: "10.0.0.2", gpuCount: 0 },
];

/** Each preset's monitoring settings, resolved by the stack configuration model (stacks/). */
const key = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----";
const presets: Record<string, MonitoringSettings> = {
    dev: resolveSettings({ preset: "dev" }).monitoring,
    "gpu-node": resolveSettings({ preset: "gpu-node", sshPrivateKey: key, hosts: [{ name: "gpu", address: "10.0.0.5", user: "ubuntu" }] }).monitoring,
    cluster: resolveSettings({
        preset: "cluster", sshPrivateKey: key,
        hosts: [{ name: "head", role: "server", address: "10.0.0.2", user: "ubuntu" }, { name: "w1", address: "10.0.0.3", user: "ubuntu" }],
    }).monitoring,
};

async function build(settings: MonitoringSettings & Partial<MonitoringStackArgs>) {
    return runComponents(() => new MonitoringStack("monitoring", monitoringArgs(settings)));
}

const release = (resources: RecordedResource[], name: string) => {
    const r = resources.find((x) => x.type === RELEASE && x.inputs.name === name);
    assert.ok(r, `release ${name} missing`);
    return r!;
};

describe("MonitoringStack", () => {
    it("resolves the presets' footprints (dev and gpu-node small, cluster large)", () => {
        assert.deepEqual(Object.fromEntries(Object.entries(presets).map(([k, v]) => [k, v.footprint])), { dev: "small", "gpu-node": "small", cluster: "large" });
    });

    for (const [preset, settings] of Object.entries(presets)) {
        describe(`preset ${preset}`, () => {
            let run: Awaited<ReturnType<typeof build>>;
            before(async () => {
                run = await build(settings);
            });

            it("installs every chart from its repository at the pinned version, atomically, in namespace monitoring", () => {
                const expected: Record<string, { repo: string; chart: string; version: string }> = {
                    "prometheus-operator-crds": monitoringCharts.prometheusOperatorCrds,
                    mimir: monitoringCharts.mimir,
                    alloy: monitoringCharts.alloy,
                    grafana: monitoringCharts.grafana,
                    "node-exporter": monitoringCharts.nodeExporter,
                    "kube-state-metrics": monitoringCharts.kubeStateMetrics,
                };
                const releases = run.ofType(RELEASE);
                assert.deepEqual(releases.map((r) => r.inputs.name).sort(), Object.keys(expected).sort());
                for (const r of releases) {
                    const want = expected[r.inputs.name];
                    assert.equal(r.inputs.chart, want.chart);
                    assert.equal(r.inputs.version, want.version);
                    assert.match(r.inputs.version, /^\d+\.\d+\.\d+$/);
                    assert.equal(r.inputs.repositoryOpts.repo, want.repo);
                    assert.equal(r.inputs.namespace, "monitoring");
                    assert.equal(r.inputs.atomic, true);
                    assert.equal(r.inputs.cleanupOnFail, true);
                    assert.ok(r.inputs.timeout >= 300, `${r.inputs.name} timeout`);
                }
                assert.equal(monitoringCharts.grafana.repo, "https://grafana-community.github.io/helm-charts");
            });

            it("names children after the component and parents them to it", () => {
                const component = run.resources.find((r) => r.type === "charon:monitoring:MonitoringStack")!;
                for (const r of run.resources.filter((x) => x !== component)) {
                    assert.ok(r.name.startsWith("monitoring-"), r.name);
                    assert.equal(r.parent, component.urn, `${r.name} parent`);
                }
                assert.equal(run.get("kubernetes:core/v1:Namespace", "monitoring-namespace").inputs.metadata.name, "monitoring");
            });

            it("sizes Mimir for the footprint, classic architecture, retention and MinIO from settings", () => {
                const v = release(run.resources, "mimir").inputs.values;
                assert.equal(v.kafka.enabled, false);
                assert.equal(v.mimir.structuredConfig.ingest_storage.enabled, false);
                assert.equal(v.mimir.structuredConfig.limits.compactor_blocks_retention_period, settings.retention);
                assert.equal(v.minio.enabled, true);
                assert.equal(v.minio.persistence.size, settings.storageSize);
                assert.equal(v.ingester.zoneAwareReplication.enabled, false);
                assert.equal(v.store_gateway.zoneAwareReplication.enabled, false);
                assert.equal(v.rollout_operator.enabled, false);
                assert.equal(v.alertmanager.enabled, false);
                assert.equal(v.ruler.enabled, false);
                if (settings.footprint === "small") {
                    for (const c of ["distributor", "ingester", "querier", "query_frontend", "store_gateway", "compactor"]) {
                        assert.equal(v[c].replicas, 1, c);
                    }
                    assert.equal(v.mimir.structuredConfig.ingester.ring.replication_factor, 1);
                    assert.equal(v.mimir.structuredConfig.store_gateway.sharding_ring.replication_factor, 1);
                    assert.equal(v["chunks-cache"].enabled, false);
                } else {
                    assert.equal(v.ingester.replicas, 3);
                    assert.equal(v.mimir.structuredConfig.ingester.ring.replication_factor, 3);
                    assert.equal(v["chunks-cache"].enabled, true);
                }
            });

            it("keeps the MinIO password out of plain text (random, secret values)", () => {
                const mimir = release(run.resources, "mimir");
                assert.ok(mimir.secretInputs.includes("values"));
                assert.equal(mimir.inputs.values.minio.rootPassword, "mock-password-monitoring-minio-password");
            });

            it("configures Alloy as one deployment replica remote-writing to Mimir with the tenant header", () => {
                const v = release(run.resources, "alloy").inputs.values;
                assert.equal(v.controller.type, "deployment");
                assert.equal(v.controller.replicas, 1);
                const text: string = v.alloy.configMap.content;
                assert.ok(text.includes('url = "http://mimir-gateway.monitoring.svc.cluster.local:80/api/v1/push"'));
                assert.ok(text.includes(`"X-Scope-OrgID" = "${settings.tenant}"`));
                assert.ok(text.includes('prometheus.operator.servicemonitors "cluster"'));
                assert.ok(text.includes('prometheus.operator.podmonitors "cluster"'));
                assert.ok(text.includes('metrics_path      = "/metrics/cadvisor"'));
            });

            it("provisions Grafana: admin from the Secret, Mimir datasource with the tenant, dashboards ConfigMap, NodePort", () => {
                const v = release(run.resources, "grafana").inputs.values;
                const secret = run.get("kubernetes:core/v1:Secret", "monitoring-grafana-admin");
                const configMap = run.get("kubernetes:core/v1:ConfigMap", "monitoring-grafana-dashboards");
                assert.equal(v.admin.existingSecret, secret.inputs.metadata.name);
                assert.equal(v.admin.userKey, "admin-user");
                assert.equal(v.admin.passwordKey, "admin-password");
                assert.equal(v.adminPassword, undefined);
                assert.deepEqual(v.service, { type: "NodePort", nodePort: 30080 });
                const ds = v.datasources["datasources.yaml"].datasources[0];
                assert.equal(ds.url, "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus");
                assert.equal(ds.jsonData.httpHeaderName1, "X-Scope-OrgID");
                assert.equal(ds.secureJsonData.httpHeaderValue1, settings.tenant);
                assert.equal(v.dashboardsConfigMaps.charon, configMap.inputs.metadata.name);
                const provider = v.dashboardProviders["dashboardproviders.yaml"].providers[0];
                assert.equal(provider.options.path, "/var/lib/grafana/dashboards/charon");
                assert.deepEqual(Object.keys(configMap.inputs.data).sort(), ["cluster-overview.json", "ptychography-pipeline.json"]);
                // The values survive a YAML round trip (Helm reads them as YAML).
                assert.deepEqual(yaml.load(yaml.dump(v)), v);
            });

            it("creates every monitor once, in namespace monitoring, after the CRDs", () => {
                const crds = release(run.resources, "prometheus-operator-crds");
                const monitors = run.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/v1:"));
                assert.deepEqual(monitors.map((m) => m.inputs.metadata.name).sort(), MONITORS.map((m) => m.name).sort());
                for (const m of monitors) {
                    assert.equal(m.inputs.metadata.namespace, "monitoring");
                    assert.ok(m.dependencies.includes(crds.urn), `${m.name} must depend on the CRDs`);
                }
            });

            it("does not chain independent releases (only Alloy waits for the CRDs it watches); Grafana waits only for its Secret and ConfigMap", () => {
                const releases = run.ofType(RELEASE);
                const releaseUrns = new Set(releases.map((r) => r.urn));
                const crdsUrn = release(run.resources, "prometheus-operator-crds").urn;
                for (const r of releases) {
                    const expected = r.inputs.name === "alloy" ? [crdsUrn] : [];
                    assert.deepEqual(r.dependencies.filter((d) => releaseUrns.has(d)), expected, `${r.inputs.name}'s release dependencies`);
                    assert.ok(r.dependencies.includes(run.get("kubernetes:core/v1:Namespace", "monitoring-namespace").urn));
                }
                const grafana = release(run.resources, "grafana");
                assert.ok(grafana.dependencies.includes(run.get("kubernetes:core/v1:Secret", "monitoring-grafana-admin").urn));
                assert.ok(grafana.dependencies.includes(run.get("kubernetes:core/v1:ConfigMap", "monitoring-grafana-dashboards").urn));
            });

            it("exports the contract: URL of the first server, secret admin password, query URL, tenant", async () => {
                const stack = run.value;
                assert.equal(await unwrap(stack.grafanaUrl), "http://10.0.0.2:30080");
                assert.equal(await isSecretOutput(stack.grafanaAdminPassword), true);
                assert.equal(await unwrap(stack.grafanaAdminPassword), "mock-password-monitoring-grafana-admin-password");
                assert.equal(await unwrap(stack.queryUrl), "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus");
                assert.equal(await unwrap(stack.tenant), "charon");
                assert.equal(stack.crds, run.value.crds);
                const secret = run.get("kubernetes:core/v1:Secret", "monitoring-grafana-admin");
                assert.ok(secret.secretInputs.includes("stringData"));
                assert.deepEqual(secret.inputs.stringData, { "admin-user": "admin", "admin-password": "mock-password-monitoring-grafana-admin-password" });
            });
        });
    }

    it("uses the settings' NodePort, tenant and intervals", async () => {
        const run = await build({ ...presets.dev, grafanaNodePort: 31000, tenant: "lab-7", rapidScrapeInterval: "1s", workloadNamespaces: ["aps"] });
        assert.equal(await unwrap(run.value.grafanaUrl), "http://10.0.0.2:31000");
        const grafana = release(run.resources, "grafana").inputs.values;
        assert.equal(grafana.service.nodePort, 31000);
        assert.equal(grafana.datasources["datasources.yaml"].datasources[0].secureJsonData.httpHeaderValue1, "lab-7");
        assert.ok(release(run.resources, "alloy").inputs.values.alloy.configMap.content.includes('"X-Scope-OrgID" = "lab-7"'));
        const workload = run.resources.find((r) => r.inputs.metadata?.name === "workload-metrics")!;
        assert.equal(workload.inputs.spec.podMetricsEndpoints[0].interval, "1s");
        assert.deepEqual(workload.inputs.spec.namespaceSelector, { matchNames: ["aps"] });
    });
});

describe("monitoring settings", () => {
    it("applies the documented defaults (the layer's schema)", () => {
        assert.deepEqual(layerSettings(MonitoringSettingsSchema), {
            footprint: "small", retention: "15d", storageSize: "10Gi", scrapeInterval: "5s", rapidScrapeInterval: "2s",
            tenant: "charon", grafanaNodePort: 30080,
        });
    });

    it("picks the first server for Grafana's URL, brackets IPv6, and refuses an empty cluster", () => {
        assert.equal(grafanaUrlFor(nodes, 30080), "http://10.0.0.2:30080");
        assert.equal(grafanaUrlFor([{ name: "a", role: "agent", address: "fd00::1", gpuCount: 0 }], 30080), "http://[fd00::1]:30080");
        assert.throws(() => grafanaUrlFor([], 30080), /no nodes/);
    });
});
