import { strict as assert } from "node:assert";
import * as fc from "fast-check";
import {
    MIMIR_REPLICAS, alloyConfig, alloyString, alloyValues, grafanaDatasources, grafanaValues, kubeStateMetricsValues,
    mimirPushUrl, mimirQueryUrl, mimirValues, nodeExporterValues,
} from "../../components/monitoring";

describe("Mimir values", () => {
    const small = mimirValues({ footprint: "small", retention: "7d", storageSize: "5Gi", minioPassword: "pw-123456789" });
    const large = mimirValues({ footprint: "large", retention: "30d", storageSize: "50Gi", minioPassword: "pw-123456789" });

    it("runs the classic architecture (the chart's classic-architecture.yaml)", () => {
        for (const v of [small, large]) {
            assert.deepEqual(v.kafka, { enabled: false });
            assert.equal(v.configStorageType, "Secret", "the rendered config holds the MinIO key: a Secret, not a ConfigMap");
            assert.deepEqual(v.mimir.structuredConfig.ingest_storage, {
                enabled: false, kafka: { address: null, topic: null, auto_create_topic_default_partitions: null },
            });
            assert.deepEqual(v.mimir.structuredConfig.distributor, { remote_timeout: null });
            assert.equal(v.mimir.structuredConfig.ingester.push_grpc_method_enabled, null);
        }
    });

    it("small: one replica per component, replication factor 1, no zones, caches or rollout operator", () => {
        for (const [component, n] of Object.entries(MIMIR_REPLICAS.small)) {
            assert.equal(n, 1, component);
            assert.equal(small[component].replicas, 1, component);
        }
        assert.equal(small.mimir.structuredConfig.ingester.ring.replication_factor, 1);
        assert.equal(small.mimir.structuredConfig.store_gateway.sharding_ring.replication_factor, 1);
        assert.equal(small.ingester.zoneAwareReplication.enabled, false);
        assert.equal(small.store_gateway.zoneAwareReplication.enabled, false);
        assert.equal(small.rollout_operator.enabled, false);
        for (const cache of ["chunks-cache", "index-cache", "metadata-cache", "results-cache"]) {
            assert.deepEqual(small[cache], { enabled: false }, cache);
        }
    });

    it("large: three ingesters and store-gateways with replication factor 3, caches on", () => {
        assert.equal(large.ingester.replicas, 3);
        assert.equal(large.store_gateway.replicas, 3);
        assert.equal(large.distributor.replicas, 2);
        assert.equal(large.mimir.structuredConfig.ingester.ring.replication_factor, 3);
        assert.deepEqual(large["chunks-cache"], { enabled: true, replicas: 1, allocatedMemory: 1024 });
    });

    it("takes retention, MinIO size and password from its options; no alerting components", () => {
        assert.equal(small.mimir.structuredConfig.limits.compactor_blocks_retention_period, "7d");
        assert.equal(large.mimir.structuredConfig.limits.compactor_blocks_retention_period, "30d");
        assert.deepEqual(small.minio.persistence, { size: "5Gi" });
        assert.equal(small.minio.enabled, true);
        assert.equal(small.minio.rootPassword, "pw-123456789");
        assert.equal(small.gateway.enabledNonEnterprise, true);
        for (const off of ["alertmanager", "ruler", "overrides_exporter"]) {
            assert.deepEqual(small[off], { enabled: false });
        }
    });

    it("addresses the gateway with namespace, service and port", () => {
        assert.equal(mimirQueryUrl(), "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus");
        assert.equal(mimirPushUrl(), "http://mimir-gateway.monitoring.svc.cluster.local:80/api/v1/push");
        assert.equal(mimirQueryUrl("obs"), "http://mimir-gateway.obs.svc.cluster.local:80/prometheus");
    });
});

describe("Alloy configuration", () => {
    const text = alloyConfig({ pushUrl: mimirPushUrl(), tenant: "charon", scrapeInterval: "5s" });

    it("remote-writes to Mimir's push URL with the tenant header", () => {
        assert.ok(text.includes('prometheus.remote_write "mimir" {'));
        assert.ok(text.includes('url = "http://mimir-gateway.monitoring.svc.cluster.local:80/api/v1/push"'));
        assert.ok(text.includes('"X-Scope-OrgID" = "charon",'));
    });

    it("honours every ServiceMonitor and PodMonitor, with the general interval as default", () => {
        for (const component of ['prometheus.operator.servicemonitors "cluster"', 'prometheus.operator.podmonitors "cluster"']) {
            const block = text.slice(text.indexOf(component), text.indexOf("}\n}", text.indexOf(component)));
            assert.ok(block.includes("forward_to = [prometheus.remote_write.mimir.receiver]"), component);
            assert.ok(block.includes('default_scrape_interval = "5s"'), component);
            assert.ok(!block.includes("namespaces"), `${component} must watch all namespaces`);
        }
    });

    it("scrapes kubelet cAdvisor on every node over HTTPS with the service account token", () => {
        assert.ok(text.includes('role = "node"'));
        assert.ok(text.includes('job_name          = "kubelet-cadvisor"'));
        assert.ok(text.includes('metrics_path      = "/metrics/cadvisor"'));
        assert.ok(text.includes('scheme            = "https"'));
        assert.ok(text.includes('bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token"'));
        assert.ok(text.includes('scrape_interval   = "5s"'));
    });

    it("is balanced and quotes every value safely, whatever the tenant", () => {
        fc.assert(fc.property(fc.string({ maxLength: 40 }), (tenant) => {
            const t = alloyConfig({ pushUrl: mimirPushUrl(), tenant, scrapeInterval: "5s" });
            assert.ok(t.includes(`"X-Scope-OrgID" = ${alloyString(tenant)},`));
            const structural = t.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\/\/.*$/gm, "");
            let depth = 0;
            for (const c of structural) {
                depth += c === "{" ? 1 : c === "}" ? -1 : 0;
                assert.ok(depth >= 0);
            }
            assert.equal(depth, 0);
        }));
    });

    it("deploys one Alloy replica as a Deployment with that configuration and without the chart's CRDs", () => {
        const v = alloyValues(text);
        assert.deepEqual(v.controller, { type: "deployment", replicas: 1 });
        assert.equal(v.alloy.configMap.content, text);
        assert.equal(v.alloy.configMap.create, true);
        assert.deepEqual(v.crds, { create: false });
    });
});

describe("Grafana values", () => {
    const opts = {
        adminSecretName: "grafana-admin", dashboardsConfigMapName: "grafana-dashboards-charon",
        queryUrl: mimirQueryUrl(), tenant: "lab", scrapeInterval: "5s", nodePort: 30080,
    };

    it("declares the Mimir datasource with the tenant header and the scrape interval as minimum step", () => {
        assert.deepEqual(grafanaDatasources(opts), {
            apiVersion: 1,
            datasources: [{
                name: "Mimir", uid: "mimir", type: "prometheus", access: "proxy",
                url: "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus", isDefault: true, editable: false,
                jsonData: { httpHeaderName1: "X-Scope-OrgID", httpMethod: "POST", prometheusType: "Mimir", timeInterval: "5s" },
                secureJsonData: { httpHeaderValue1: "lab" },
            }],
        });
    });

    it("takes admin credentials from the Secret and provisions dashboards from the ConfigMap", () => {
        const v = grafanaValues(opts);
        assert.deepEqual(v.admin, { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
        assert.equal(v.adminPassword, undefined);
        assert.deepEqual(v.service, { type: "NodePort", nodePort: 30080 });
        assert.deepEqual(v.dashboardsConfigMaps, { charon: "grafana-dashboards-charon" });
        assert.deepEqual(v.dashboardProviders["dashboardproviders.yaml"].providers[0].options, { path: "/var/lib/grafana/dashboards/charon" });
        assert.equal(v["grafana.ini"]["auth.anonymous"].enabled, false);
    });
});

describe("exporter values", () => {
    it("keep the charts' own ServiceMonitors off (the stack declares them) and name node-exporter plainly", () => {
        assert.equal(nodeExporterValues().prometheus.monitor.enabled, false);
        assert.equal(nodeExporterValues().fullnameOverride, "node-exporter");
        assert.equal(kubeStateMetricsValues().prometheus.monitor.enabled, false);
    });
});
