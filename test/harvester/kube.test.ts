import { strict as assert } from "node:assert";
import { parseKubeconfig, parseServiceUrl, serviceProxyEndpoint, serviceProxyUrl } from "../../harvester/kube";
import { checkStackOutputs, stackTarget } from "../../harvester/stack";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: k3s
clusters:
- name: other
  cluster: {server: "https://10.0.0.9:6443"}
- name: k3s
  cluster:
    server: https://192.168.1.10:6443/
    certificate-authority-data: ${b64("CA PEM")}
users:
- name: admin
  user:
    client-certificate-data: ${b64("CERT PEM")}
    client-key-data: ${b64("KEY PEM")}
- name: robot
  user: {token: "t0k"}
contexts:
- name: k3s
  context: {cluster: k3s, user: admin}
- name: bot
  context: {cluster: other, user: robot}
`;

describe("harvester/kube", () => {
    it("extracts server and credentials of the current or a named context", () => {
        assert.deepEqual(parseKubeconfig(KUBECONFIG), {
            server: "https://192.168.1.10:6443/", ca: "CA PEM", insecureSkipVerify: false, cert: "CERT PEM", key: "KEY PEM",
            token: undefined, username: undefined, password: undefined,
        });
        const bot = parseKubeconfig(KUBECONFIG, "bot");
        assert.equal(bot.server, "https://10.0.0.9:6443");
        assert.equal(bot.token, "t0k");
        assert.throws(() => parseKubeconfig(KUBECONFIG, "nope"), /no context "nope"/);
        assert.throws(() => parseKubeconfig("a: [b"), /not valid YAML/);
    });

    it("parses in-cluster service URLs", () => {
        assert.deepEqual(parseServiceUrl("http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus"),
            { scheme: "http", service: "mimir-gateway", namespace: "monitoring", port: 80, path: "/prometheus" });
        assert.deepEqual(parseServiceUrl("https://grafana.monitoring.svc/"), { scheme: "https", service: "grafana", namespace: "monitoring", port: 443, path: "" });
        assert.deepEqual(parseServiceUrl("http://prom.obs:9090"), { scheme: "http", service: "prom", namespace: "obs", port: 9090, path: "" });
        assert.throws(() => parseServiceUrl("http://prometheus:9090"), /must name <service>\.<namespace>/);
        assert.throws(() => parseServiceUrl("http://a.b.example.com"), /must name/);
    });

    it("builds the API server's service proxy URL (http scheme omitted, https named)", () => {
        assert.equal(serviceProxyUrl("https://k:6443/", parseServiceUrl("http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus")),
            "https://k:6443/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy/prometheus");
        assert.equal(serviceProxyUrl("https://rancher/k8s/clusters/c-1", parseServiceUrl("https://prom.obs.svc:9443/")),
            "https://rancher/k8s/clusters/c-1/api/v1/namespaces/obs/services/https:prom:9443/proxy");
    });

    it("carries client certificates, tokens and CA into the endpoint", () => {
        const ep = serviceProxyEndpoint(parseKubeconfig(KUBECONFIG), "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus");
        assert.equal(ep.url, "https://192.168.1.10:6443/api/v1/namespaces/monitoring/services/mimir-gateway:80/proxy/prometheus");
        assert.deepEqual(ep.tls, { ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM", insecureSkipVerify: false });
        assert.deepEqual(ep.headers, {});
        assert.deepEqual(serviceProxyEndpoint(parseKubeconfig(KUBECONFIG, "bot"), "http://a.b:1").headers, { Authorization: "Bearer t0k" });
    });

    it("maps stack outputs and an experiment to endpoint, tenant, window and output", () => {
        const outputs = checkStackOutputs("dev", {
            metricsQueryUrl: "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus", metricsTenant: "charon", kubeconfig: KUBECONFIG,
            experiments: { ptycho: { window: { start: "2024-01-01T00:00:00Z", end: "2024-01-01T01:00:00Z" }, run: 3, resultsPath: "results/ptycho-3", workflow: "aps" } },
        });
        const t = stackTarget("dev", outputs, "ptycho", "parquet");
        assert.equal(t.tenant, "charon");
        assert.deepEqual(t.window, { start: "2024-01-01T00:00:00Z", end: "2024-01-01T01:00:00Z" });
        assert.equal(t.output, "results/ptycho-3/metrics.parquet");
        assert.throws(() => checkStackOutputs("dev", { kubeconfig: "x" }), /stack "dev" has no usable output "metricsQueryUrl"/);
        assert.throws(() => stackTarget("dev", outputs, "other", "csv"), /no experiment "other" \(known: ptycho\)/);
    });

    it("maps one of your own workflows to a window from its start to now", () => {
        const outputs = checkStackOutputs("dev", {
            metricsQueryUrl: "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus", kubeconfig: KUBECONFIG,
            workflowStarts: { mine: "2026-11-30T10:00:00Z" },
        });
        assert.deepEqual(stackTarget("dev", outputs, undefined, "csv", "mine").window, { start: "2026-11-30T10:00:00Z", end: "now" });
        assert.throws(() => stackTarget("dev", outputs, undefined, "csv", "theirs"), /stack "dev" has no workflow "theirs" of charon:workflows\.manifests \(known: mine\)/);
    });
});
