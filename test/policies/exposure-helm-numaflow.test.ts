import * as assert from "node:assert/strict";
import { firewallNodePorts, nodePortAllowlist, nodePortsInValues, tlsSkipVerifyAllowlist } from "../../policies/rules/exposure";
import { helmReleaseHygiene } from "../../policies/rules/helm";
import { isbReplicas, isbRetention, isbWorkQueueSingleConsumer, singleDefaultIsb } from "../../policies/rules/numaflow";
import { checkResource, checkStack } from "./harness";
import { T, grafanaRelease, isb, k3sNode, numaflowVertexLabels, pipeline, release, scriptText, serviceMonitor, variant } from "./fixtures";

const service = (type: string, ports: Record<string, any>[]) => ({
    type: T.service, name: "svc", props: { metadata: { name: "svc" }, spec: { type, ports } },
});

describe("policies: exposure", () => {
    describe("nodeport-allowlist", () => {
        it("accepts Grafana's NodePort and ClusterIP services", async () => {
            assert.deepEqual(await checkResource(nodePortAllowlist, grafanaRelease()), []);
            assert.deepEqual(await checkResource(nodePortAllowlist, service("NodePort", [{ name: "http", port: 80, nodePort: 30080 }])), []);
            assert.deepEqual(await checkResource(nodePortAllowlist, service("ClusterIP", [{ name: "http", port: 80 }])), []);
        });

        it("refuses other NodePorts, random ones, and firewall openings in the NodePort range", async () => {
            const fix = "Use a ClusterIP Service (reach it with kubectl port-forward or through Grafana), or add the port to this policy's " +
                "allowedNodePorts (now 30080) if it must be reachable from outside.";
            assert.deepEqual(await checkResource(nodePortAllowlist, service("NodePort", [{ name: "ui", port: 8443, nodePort: 30443 }, { name: "m", port: 9090 }])), [
                `Service svc port ui opens NodePort 30443 on every node. ${fix}`,
                `Service svc port m is a NodePort without a fixed nodePort, so Kubernetes opens a random one on every node. ${fix}`,
            ]);
            const numaflowUi = release("numaflow", { server: { service: { type: "NodePort" } } });
            assert.deepEqual(await checkResource(nodePortAllowlist, numaflowUi), [
                `Helm values values.server.service.type exposes a Service without a fixed nodePort, so Kubernetes opens a random one on every node. ${fix}`,
            ]);
            // charon's firewall: the K3sNode's facts; a hand-written one: the command's text.
            const host = k3sNode({ firewall: { trustedSources: [], openPorts: ["6443/tcp", "10250/tcp", "8472/udp", "30080/tcp", "31000/tcp"] } });
            assert.deepEqual(await checkResource(nodePortAllowlist, host), [`Host s1 opens NodePort 31000 in the host firewall. ${fix}`]);
            const firewall = { type: T.remote, props: { create: scriptText({ CHARON_HOST: "s1" }, "firewall-cmd --add-port=32000/tcp") } };
            assert.deepEqual(await checkResource(nodePortAllowlist, firewall), [`The command opens NodePort 32000 in the host firewall. ${fix}`]);
            for (const r of [host, firewall]) {
                assert.deepEqual(await checkResource(nodePortAllowlist, r, { allowedNodePorts: [30080, 31000, 32000] }), []);
            }
            assert.deepEqual(await checkResource(nodePortAllowlist, k3sNode()), []);
        });

        it("finds node ports in Helm values, single and per-port maps", () => {
            assert.deepEqual(nodePortsInValues({ service: { type: "LoadBalancer", nodePorts: { http: 30001, https: null } } }), [
                { path: "values.service.nodePorts.http", port: 30001 },
                { path: "values.service.nodePorts.https", port: undefined },
            ]);
            assert.deepEqual(firewallNodePorts(["ufw allow 30500/tcp; iptables -A INPUT -p tcp --dport 22 -j ACCEPT"]), [30500]);
        });

        it("refuses a configured port outside the NodePort range and an unknown setting, naming the key", async () => {
            await assert.rejects(checkResource(nodePortAllowlist, grafanaRelease(), { allowedNodePorts: [30080, 8080] }),
                /config:allowedNodePorts\[1\]: 8080 is out of range; allowed 30000–32767/);
            await assert.rejects(checkResource(nodePortAllowlist, grafanaRelease(), { allowedNodePort: [30081] }),
                /config:allowedNodePort: unknown setting; allowed keys here: allowedNodePorts/);
        });
    });

    describe("tls-skip-verify-allowlist", () => {
        it("accepts skipping verification on Numaflow's vertex and daemon ports, and verified endpoints anywhere", async () => {
            const vertex = serviceMonitor("numaflow-pipeline-metrics", { port: "metrics", targetPort: 2469, scheme: "https", tlsConfig: { insecureSkipVerify: true } }, numaflowVertexLabels);
            const daemon = serviceMonitor("numaflow-daemon", { port: "tcp", scheme: "https", tlsConfig: { insecureSkipVerify: true } }, { "app.kubernetes.io/part-of": "numaflow" });
            const plain = serviceMonitor("dcgm", { port: "metrics", scheme: "http" }, { "app.kubernetes.io/name": "dcgm-exporter" });
            for (const r of [vertex, daemon, plain]) {
                assert.deepEqual(await checkResource(tlsSkipVerifyAllowlist, r), []);
            }
        });

        it("refuses skips on other ports or selectors, in monitors and in Helm values", async () => {
            const isbMon = serviceMonitor("isb", { port: "metrics", targetPort: 7777, tlsConfig: { insecureSkipVerify: true } }, { "app.kubernetes.io/part-of": "numaflow" });
            assert.deepEqual(await checkResource(tlsSkipVerifyAllowlist, isbMon), [
                "ServiceMonitor isb endpoint 0 (port 7777) skips TLS verification outside Numaflow's self-signed metrics ports (2469, 4327). " +
                "Verify the certificate instead (tlsConfig.ca / ca_file with the issuing CA), or — for a deliberate exception — add the port to this policy's extraAllowedPorts.",
            ]);
            assert.deepEqual(await checkResource(tlsSkipVerifyAllowlist, isbMon, { extraAllowedPorts: [7777] }), []);
            const other = { type: T.podMonitor, name: "x", props: { metadata: { name: "x" }, spec: { selector: { matchLabels: { app: "x" } }, podMetricsEndpoints: [{ portNumber: 2469, tlsConfig: { insecureSkipVerify: true } }] } } };
            assert.equal((await checkResource(tlsSkipVerifyAllowlist, other)).length, 1);
            const alloy = release("alloy", { alloy: { configMap: { content: "prometheus.scrape \"x\" {\n  tls_config {\n    insecure_skip_verify = true\n  }\n}" } } });
            const msgs = await checkResource(tlsSkipVerifyAllowlist, alloy);
            assert.deepEqual(msgs.length, 1);
            assert.match(msgs[0], /^Helm release alloy: values\.alloy\.configMap\.content turns TLS verification off\..*add the path to this policy's allowedValuesPaths\.$/);
            assert.deepEqual(await checkResource(tlsSkipVerifyAllowlist, alloy, { allowedValuesPaths: ["values.alloy.configMap.content"] }), []);
            const grafana = release("grafana", { datasources: { "datasources.yaml": { datasources: [{ jsonData: { tlsSkipVerify: true } }] } } });
            assert.match((await checkResource(tlsSkipVerifyAllowlist, grafana))[0], /values\.datasources\.datasources\.yaml\.datasources\[0\]\.jsonData\.tlsSkipVerify turns TLS verification off/);
        });
    });
});

describe("policies: Helm hygiene", () => {
    it("helm-release-hygiene accepts an atomic, named release with cleanup and a timeout", async () => {
        assert.deepEqual(await checkResource(helmReleaseHygiene, grafanaRelease()), []);
    });

    it("helm-release-hygiene names each missing setting", async () => {
        const bare = variant(release("mimir-distributed"), (p) => {
            delete p.atomic;
            delete p.cleanupOnFail;
            delete p.name;
            delete p.timeout;
        });
        const msgs = await checkResource(helmReleaseHygiene, bare);
        assert.equal(msgs.length, 4);
        assert.match(msgs[0], /^Helm release mimir-distributed \(chart mimir-distributed\) is not atomic.*Set atomic: true\.$/);
        assert.match(msgs[1], /does not clean up on failure.*Set cleanupOnFail: true\.$/);
        assert.match(msgs[2], /has no explicit name.*Set name\.$/);
        assert.match(msgs[3], /relies on the default 300 s timeout/);
    });
});

describe("policies: Numaflow", () => {
    describe("isb-replicas", () => {
        it("accepts 1, 3 and the default", async () => {
            for (const replicas of [1, 3, undefined]) {
                assert.deepEqual(await checkResource(isbReplicas, isb("default", { replicas })), []);
            }
        });

        it("refuses 2 and 0", async () => {
            assert.deepEqual(await checkResource(isbReplicas, isb("default", { replicas: 2 })), [
                "InterStepBufferService spec.jetstream.replicas is 2, which Numaflow rejects (JetStream needs a majority: " +
                "2 servers tolerate no more failures than 1). Use 1 (single node) or 3.",
            ]);
            assert.deepEqual(await checkResource(isbReplicas, isb("default", { replicas: 0 })), ["InterStepBufferService spec.jetstream.replicas is 0. Use 1 (single node) or 3."]);
        });
    });

    describe("isb-workqueue-single-consumer (advisory)", () => {
        const workQueue = isb("default", { bufferConfig: "stream:\n  retention: 2\n  maxMsgs: 50000\n" });

        it("reads the retention from bufferConfig", () => {
            assert.equal(isbRetention(workQueue.props), 2);
            assert.equal(isbRetention(isb().props), 0);
            assert.equal(isbRetention(isb("default", { bufferConfig: undefined }).props), undefined);
        });

        it("accepts WorkQueue with one-to-one edges, and fan-out with Limits", async () => {
            const fanOut = pipeline({ edges: [{ from: "in", to: "cat" }, { from: "in", to: "out" }, { from: "cat", to: "out" }] });
            assert.deepEqual(await checkStack(isbWorkQueueSingleConsumer, [workQueue, pipeline()]), []);
            assert.deepEqual(await checkStack(isbWorkQueueSingleConsumer, [isb(), fanOut]), []);
        });

        it("warns about WorkQueue with fan-out", async () => {
            const fanOut = pipeline({ edges: [{ from: "in", to: "cat" }, { from: "in", to: "out" }, { from: "cat", to: "out" }] });
            const found = await checkStack(isbWorkQueueSingleConsumer, [workQueue, fanOut]);
            assert.equal(found.length, 1);
            assert.match(found[0].message, /^Pipeline ptychography uses ISB default with WorkQueue retention, but edges in → cat, in → out fan out from one vertex;.*Use retention 0 \(Limits\)/);
        });
    });

    describe("single-default-isb (stack)", () => {
        it("accepts one ISB named default with the pipeline, and no ISB without pipelines", async () => {
            assert.deepEqual(await checkStack(singleDefaultIsb, [isb(), pipeline()]), []);
            assert.deepEqual(await checkStack(singleDefaultIsb, []), []);
        });

        it("refuses a pipeline without the default ISB, two defaults, and a pipeline naming a missing ISB", async () => {
            const none = await checkStack(singleDefaultIsb, [isb("other"), pipeline()]);
            assert.equal(none.length, 2);
            assert.match(none[0].message, /^The stack declares 1 pipeline\(s\) but 0 InterStepBufferService\(s\) named "default" \(found: default\/other\)/);
            assert.match(none[1].message, /^Pipeline ptychography in namespace default uses ISB "default", which the stack does not declare in that namespace/);
            const twice = variant(isb(), (p) => { p.metadata.namespace = "other"; }, { name: "isb-2" });
            assert.match((await checkStack(singleDefaultIsb, [isb(), twice, pipeline()]))[0].message, /but 2 InterStepBufferService\(s\) named "default"/);
            const named = pipeline({ interStepBufferServiceName: "fast" });
            assert.match((await checkStack(singleDefaultIsb, [isb(), named]))[0].message, /uses ISB "fast", which the stack does not declare/);
        });

        it("waits for the names while a preview does not know the custom resources' outputs yet", async () => {
            const unknownIsb = variant(isb(), (p) => { delete p.metadata; });
            assert.deepEqual(await checkStack(singleDefaultIsb, [unknownIsb, pipeline()]), []);
            // …but judges as soon as they are known.
            assert.equal((await checkStack(singleDefaultIsb, [isb("other"), pipeline()])).length, 2);
        });
    });
});
