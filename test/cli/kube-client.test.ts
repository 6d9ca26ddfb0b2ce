/**
 * The built-in minimal client of `npm run kubectl` (for machines without kubectl), as unit tests of its parts: the
 * command line it accepts, resource names resolved from discovery, and tables printed like kubectl prints them.
 * The inputs in fixtures/kube/ were recorded from a real kube-apiserver v1.34.4 (the engine tier's build), the
 * expected texts from kubectl against that server at the same moment. A run against a live cluster is the engine
 * tier's (npm run kubectl -- get nodes).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    formatTable, KubeClientError, kubeTarget, parseKubeCommand, resolveResource, resourcesOfAggregated, resourcesOfList,
    runKubeCommand, type Transport,
} from "../../cli/kube-client";

const dir = path.join(__dirname, "fixtures", "kube");
const json = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
const text = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
const resources = [...resourcesOfAggregated(json("discovery-api.json")), ...resourcesOfAggregated(json("discovery-apis.json"))];

const kubeconfig = (user: string) => [
    "apiVersion: v1", "kind: Config",
    "clusters:", "- name: c", "  cluster:", "    server: https://10.0.0.1:6443", "    certificate-authority-data: Y2E=",
    "users:", "- name: u", "  user:", user,
    "contexts:", "- name: x", "  context: {cluster: c, user: u, namespace: monitoring}",
    "current-context: x", "",
].join("\n");

/** Recorded responses by path (the requests a command makes, in order, are recorded too). */
function replay(responses: Record<string, unknown>): { transport: Transport; requests: string[] } {
    const requests: string[] = [];
    return {
        requests,
        transport: async (p) => {
            requests.push(p);
            const hit = responses[p.split("?")[0]];
            if (hit === undefined) {
                return { status: 404, body: JSON.stringify({ kind: "Status", reason: "NotFound", message: `the recorded server has no ${p}` }) };
            }
            return typeof hit === "object" && hit !== null && "status" in hit ? hit as { status: number; body: string } : { status: 200, body: JSON.stringify(hit) };
        },
    };
}

function io() {
    let out = "";
    let err = "";
    return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, out: () => out, err: () => err };
}

const discovery = { "/api": json("discovery-api.json"), "/apis": json("discovery-apis.json") };

describe("npm run kubectl: the built-in client", () => {
    it("accepts the get, api-resources and version subset of kubectl's command line, refusing the rest by name", () => {
        assert.deepEqual(parseKubeCommand(["get", "nodes"]), { verb: "get", types: ["nodes"], names: [], allNamespaces: false, output: "table" });
        assert.deepEqual(parseKubeCommand(["get", "pods", "web-1", "-n", "apps", "-o", "yaml", "-l", "app=web"]),
            { verb: "get", types: ["pods"], names: ["web-1"], namespace: "apps", allNamespaces: false, output: "yaml", selector: "app=web" });
        assert.deepEqual(parseKubeCommand(["get", "cm,deploy", "-A", "-owide"]),
            { verb: "get", types: ["cm", "deploy"], names: [], allNamespaces: true, output: "wide" });
        assert.deepEqual(parseKubeCommand(["get", "node/dev", "deployment/web", "--namespace=monitoring"]),
            { verb: "get", types: ["node", "deployment"], names: ["node/dev", "deployment/web"], namespace: "monitoring", allNamespaces: false, output: "table" });
        assert.deepEqual(parseKubeCommand(["version"]), { verb: "version" });
        const refused: [string[], string][] = [
            [["apply", "-f", "x.yaml"], "the built-in client runs get, api-resources, version, not `apply`; install kubectl (https://kubernetes.io/docs/tasks/tools/) for everything else"],
            [["get"], "get needs a resource type, e.g. get nodes"],
            [["get", "pods", "-o", "jsonpath={.items}"], "the built-in client prints -o wide, json, yaml or name, not \"jsonpath={.items}\"; install kubectl for more"],
            [["get", "pods", "--watch"], "the built-in client does not know the option --watch (it knows -n, -A, -o, -l, --field-selector); install kubectl for more"],
            [["get", "pods", "-n"], "--namespace needs a value"],
            [["get", "cm,deploy", "x"], "names go with one resource type (or use TYPE/NAME)"],
        ];
        for (const [args, message] of refused) {
            assert.throws(() => parseKubeCommand(args), (e: Error) => e instanceof KubeClientError && e.message === message, args.join(" "));
        }
    });

    it("resolves resource names the way kubectl does: plural, singular, short name, kind, name.group", () => {
        const id = (s: string) => { const r = resolveResource(s, resources); return `${r.group || "core"}/${r.version}/${r.name}`; };
        assert.equal(id("nodes"), "core/v1/nodes");
        assert.equal(id("node"), "core/v1/nodes");
        assert.equal(id("no"), "core/v1/nodes");
        assert.equal(id("Node"), "core/v1/nodes");
        assert.equal(id("cm"), "core/v1/configmaps");
        assert.equal(id("deploy"), "apps/v1/deployments");
        assert.equal(id("deployments.apps"), "apps/v1/deployments");
        assert.equal(id("deployments.v1.apps"), "apps/v1/deployments");
        assert.equal(id("events"), "core/v1/events", "the core group wins");
        assert.equal(id("events.events.k8s.io"), "events.k8s.io/v1/events");
        assert.throws(() => resolveResource("pipelines", resources), (e: Error) => e instanceof KubeClientError && e.message === "the server doesn't have a resource type \"pipelines\"");
        assert.deepEqual(resourcesOfList("v1", { resources: [{ name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get"], shortNames: ["po"] }, { name: "pods/log", kind: "Pod" }] }),
            [{ group: "", version: "v1", name: "pods", singularName: "pod", shortNames: ["po"], kind: "Pod", namespaced: true, verbs: ["get"] }]);
    });

    it("prints a Table exactly as kubectl printed the same one", () => {
        assert.equal(formatTable([{ table: json("table-nodes.json") }], false, false), text("kubectl-get-nodes.txt"));
        assert.equal(formatTable([{ table: json("table-nodes.json") }], true, false), text("kubectl-get-nodes-wide.txt"));
        assert.equal(formatTable([], false, false), "");
    });

    it("get runs discovery, then the list with paging and selectors, in the context's namespace", async () => {
        const r = replay({ ...discovery, "/api/v1/nodes": json("table-nodes.json") });
        const o = io();
        const target = kubeTarget(kubeconfig("    token: abc"));
        assert.equal(target.namespace, "monitoring");
        assert.equal(await runKubeCommand(parseKubeCommand(["get", "nodes", "-l", "a=b"]), target, r.transport, o.io), 0);
        assert.equal(o.out(), text("kubectl-get-nodes.txt"));
        assert.deepEqual(r.requests, ["/api", "/apis", "/api/v1/nodes?labelSelector=a%3Db&limit=500"]);

        const empty = replay({ ...discovery, "/api/v1/namespaces/monitoring/pods": { kind: "Table", columnDefinitions: [{ name: "Name" }], rows: [] } });
        const e = io();
        assert.equal(await runKubeCommand(parseKubeCommand(["get", "pods"]), target, empty.transport, e.io), 0);
        assert.equal(e.err(), "No resources found in monitoring namespace.\n");
        assert.equal(e.out(), "");
    });

    it("several types print one table each, with NAMESPACE and TYPE/ prefixes, like kubectl", async () => {
        const r = replay({ ...discovery, "/api/v1/configmaps": json("table-configmaps-all.json"), "/apis/apps/v1/deployments": json("table-deployments-all.json") });
        const o = io();
        assert.equal(await runKubeCommand(parseKubeCommand(["get", "cm,deploy", "-A"]), kubeTarget(kubeconfig("    token: abc")), r.transport, o.io), 0);
        assert.equal(o.out(), text("kubectl-get-cm-deploy-A.txt"));
    });

    it("a server error is kubectl's line and exit 1", async () => {
        const r = replay({ ...discovery, "/api/v1/namespaces/default/pods/nosuch": { status: 404, body: text("status-notfound.json") } });
        const o = io();
        assert.equal(await runKubeCommand(parseKubeCommand(["get", "pod", "nosuch", "-n", "default"]), kubeTarget(kubeconfig("    token: abc")), r.transport, o.io), 1);
        assert.equal(o.err(), text("kubectl-get-pod-nosuch.txt"));
    });

    it("refuses a kubeconfig whose user needs an exec plugin, naming it", () => {
        assert.throws(() => kubeTarget(kubeconfig("    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}")),
            /the kubeconfig's user authenticates with an exec plugin, which the built-in client does not run; install kubectl/);
        assert.equal(kubeTarget(kubeconfig("    token: abc")).access.token, "abc");
    });
});
