import { strict as assert } from "node:assert";
import * as yaml from "js-yaml";
import {
    fullyQualifiedServiceUrl, gatewayNginxTemplate, gatewayUrl, metricsPatterns, metricsProxyConfigYaml, uiLocalUrl, uiPortForwardCommand,
} from "../../components/numaflow";

describe("numaflow UI metrics", () => {
    it("qualifies in-cluster service hosts for nginx's resolver and keeps the path", () => {
        assert.equal(fullyQualifiedServiceUrl("http://mimir-gateway.monitoring.svc:80/prometheus"),
            "http://mimir-gateway.monitoring.svc.cluster.local/prometheus");
        assert.equal(fullyQualifiedServiceUrl("http://mimir-gateway.monitoring:8080/prometheus/"),
            "http://mimir-gateway.monitoring.svc.cluster.local:8080/prometheus");
        assert.equal(fullyQualifiedServiceUrl("http://mimir-gateway.monitoring.svc.cluster.local/prometheus"),
            "http://mimir-gateway.monitoring.svc.cluster.local/prometheus");
        assert.equal(fullyQualifiedServiceUrl("http://10.43.0.12:80/prometheus"), "http://10.43.0.12/prometheus");
        assert.throws(() => fullyQualifiedServiceUrl("http://mimir/prometheus"), /namespace-qualified/);
    });

    it("renders a gateway that adds the tenant header and forwards the request path to Mimir", () => {
        const conf = gatewayNginxTemplate("http://mimir-gateway.monitoring.svc.cluster.local/prometheus", "charon");
        assert.match(conf, /listen 8080;/);
        assert.match(conf, /resolver \$\{NGINX_LOCAL_RESOLVERS\} valid=30s ipv6=off;/);
        assert.match(conf, /set \$upstream "http:\/\/mimir-gateway\.monitoring\.svc\.cluster\.local\/prometheus";/);
        assert.match(conf, /proxy_pass \$upstream\$request_uri;/);
        assert.match(conf, /proxy_set_header X-Scope-OrgID "charon";/);
        assert.match(conf, /location = \/healthz/);
    });

    it("refuses URLs that would break out of the nginx config (tenants are checked by the monitoring settings)", () => {
        assert.throws(() => gatewayNginxTemplate("http://x.y.svc.cluster.local/a;b", "charon"), /not allowed/);
    });

    it("writes numaflow-server's config.yaml with the gateway URL and query patterns", () => {
        const parsed = yaml.load(metricsProxyConfigYaml(gatewayUrl("numaflow-system"))) as any;
        assert.equal(parsed.url, "http://numaflow-metrics-gateway.numaflow-system.svc:8080");
        assert.deepEqual(parsed.patterns.map((p: any) => p.name), ["vertex_gauge", "vertex_throughput"]);
        const metricNames = parsed.patterns.flatMap((p: any) => p.metrics.map((m: any) => m.metric_name));
        assert.deepEqual(metricNames, ["vertex_pending_messages", "forwarder_read_total", "forwarder_write_total", "forwarder_ack_total"]);
        for (const p of metricsPatterns) {
            // every placeholder the expression uses is one numaflow-server fills in
            for (const ph of p.expr.match(/\$\w+/g) ?? []) {
                assert.ok(["$metric_name", "$filters", "$dimension", "$duration", "$quantile"].includes(ph), ph);
            }
            if (p.expr.includes("$duration")) {
                assert.ok(p.params.some((x) => x.name === "duration" && x.required));
            }
        }
    });

    it("reaches the UI by forwarding the numaflow-server Service, not a NodePort", () => {
        assert.equal(uiPortForwardCommand("numaflow-system"), "kubectl -n numaflow-system port-forward svc/numaflow-server 8443:8443");
        assert.equal(uiLocalUrl(), "https://localhost:8443/");
    });
});
