/** The k3s configuration renderer: exact config.yaml and drop-in text per kind of node. */
import { strict as assert } from "node:assert";
import * as yaml from "js-yaml";
import { featureGatesArg, nodeLabels, renderDropIn, renderK3sConfig } from "../../components/cluster";
import { extraArgProblems, type K3sSettings } from "../../components/cluster/settings";
import { devServerConfig, devSettings } from "./fixtures";

const k3s: K3sSettings = devSettings().k3s;

describe("k3s config rendering", () => {
    it("uses the settings defaults the presets resolve to", () => {
        assert.deepEqual({ ...k3s, version: undefined }, {
            version: undefined,
            clusterCidr: "10.31.0.0/16",
            serviceCidr: "10.32.0.0/16",
            featureGates: { InPlacePodVerticalScaling: true },
            disable: ["traefik"],
            extraServerArgs: {},
            extraAgentArgs: {},
            apiReadyTimeoutSeconds: 300,
        });
    });

    it("first server (dev): CIDRs, 0600 kubeconfig, tls-san, disabled add-ons, feature gate on apiserver, scheduler and kubelet", () => {
        const r = renderK3sConfig({ nodeName: "dev", role: "server", clusterInit: false, address: "127.0.0.1", gpu: false, labels: {}, k3s });
        assert.equal(r.config, devServerConfig);
        assert.equal(r.dropIn, "");
    });

    it("GPU server (gpu-node) gets the nvidia.com/gpu.present label next to its own labels, sorted", () => {
        const r = renderK3sConfig({
            nodeName: "gpu1", role: "server", clusterInit: false, address: "10.0.0.5", gpu: true, labels: { "charon.io/zone": "lab" }, k3s,
        });
        const parsed = yaml.load(r.config) as Record<string, unknown>;
        assert.deepEqual(parsed["node-label"], ["charon.io/zone=lab", "nvidia.com/gpu.present=true"]);
        assert.deepEqual(parsed["tls-san"], ["10.0.0.5"]);
        assert.equal(parsed["write-kubeconfig-mode"], "0600");
    });

    it("agent: joins the first server, no server-only keys, kubelet gate only", () => {
        const r = renderK3sConfig({
            nodeName: "a1", role: "agent", joinUrl: "https://10.0.0.10:6443", clusterInit: false, address: "10.0.0.11", gpu: false, labels: {}, k3s,
        });
        assert.equal(r.config, [
            "# k3s configuration of node \"a1\", managed by Pulumi (charon K3sCluster): edits are overwritten.",
            "node-name: \"a1\"",
            "server: \"https://10.0.0.10:6443\"",
            "token-file: \"/etc/rancher/k3s/charon-token\"",
            "kubelet-arg:",
            "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
            "",
        ].join("\n"));
    });

    it("first of 3+ servers initialises embedded etcd; joining servers point at it", () => {
        const first = yaml.load(renderK3sConfig({ nodeName: "s1", role: "server", clusterInit: true, address: "10.0.0.1", gpu: false, labels: {}, k3s }).config) as any;
        const joiner = yaml.load(renderK3sConfig({
            nodeName: "s2", role: "server", joinUrl: "https://10.0.0.1:6443", clusterInit: false, address: "10.0.0.2", gpu: false, labels: {}, k3s,
        }).config) as any;
        assert.equal(first["cluster-init"], true);
        assert.equal(first.server, undefined);
        assert.equal(joiner["cluster-init"], undefined);
        assert.equal(joiner.server, "https://10.0.0.1:6443");
        assert.equal(joiner["cluster-cidr"], "10.31.0.0/16");
    });

    it("several gates become one sorted feature-gates argument; none means no *-arg entries", () => {
        assert.equal(featureGatesArg({ SidecarContainers: false, InPlacePodVerticalScaling: true }),
            "feature-gates=InPlacePodVerticalScaling=true,SidecarContainers=false");
        assert.equal(featureGatesArg({}), undefined);
        const r = renderK3sConfig({ nodeName: "dev", role: "server", clusterInit: false, address: "127.0.0.1", gpu: false, labels: {}, k3s: { ...k3s, featureGates: {} } });
        assert.equal(/-arg:/.test(r.config), false);
    });

    it("extra args go to the drop-in: list flags append (key+), scalars set", () => {
        const r = renderK3sConfig({
            nodeName: "s1", role: "server", clusterInit: false, address: "10.0.0.1", gpu: false, labels: {},
            k3s: { ...k3s, extraServerArgs: { "kubelet-arg": "max-pods=250", "secrets-encryption": "true", "node-taint+": "dedicated=ci:NoSchedule" } },
        });
        assert.equal(r.dropIn, [
            "# k3s extra settings of node \"s1\", managed by Pulumi (charon K3sCluster): edits are overwritten.",
            "kubelet-arg+:",
            "  - \"max-pods=250\"",
            "node-taint+:",
            "  - \"dedicated=ci:NoSchedule\"",
            "secrets-encryption: \"true\"",
            "",
        ].join("\n"));
        // Agents take the agent args only.
        const agent = renderK3sConfig({
            nodeName: "a1", role: "agent", joinUrl: "https://10.0.0.1:6443", clusterInit: false, address: "10.0.0.2", gpu: false, labels: {},
            k3s: { ...k3s, extraServerArgs: { "secrets-encryption": "true" }, extraAgentArgs: { "node-ip": "192.168.1.2" } },
        });
        assert.deepEqual(yaml.load(agent.dropIn), { "node-ip+": ["192.168.1.2"] });
    });

    it("refuses extra args for keys charon manages, naming the setting (the cluster layer's settings rules)", () => {
        assert.deepEqual(extraArgProblems("charon:k3s.extraServerArgs", { "write-kubeconfig-mode": "0644" }).map((p) => p.message),
            ["charon:k3s.extraServerArgs.write-kubeconfig-mode: is managed by charon (the kubeconfig is always written 0600)"]);
        assert.match(extraArgProblems("charon:k3s.extraAgentArgs", { token: "x" })[0].message, /charon:k3s\.extraAgentArgs\.token: is managed by charon/);
        assert.match(extraArgProblems("charon:k3s.extraAgentArgs", { "Bad Key": "x" })[0].message, /is not a k3s config key/);
        assert.equal(renderDropIn("s1", {}), "");
    });

    it("the rendered YAML parses back to the same values (quoting is safe)", () => {
        const r = renderK3sConfig({
            nodeName: "s1", role: "server", clusterInit: false, address: "fd00::1", gpu: false, labels: { "a.io/x": "y\"z" }, k3s,
        });
        const parsed = yaml.load(r.config) as any;
        assert.deepEqual(parsed["tls-san"], ["fd00::1"]);
        assert.deepEqual(parsed["node-label"], ["a.io/x=y\"z"]);
        assert.deepEqual(nodeLabels({ b: "1", a: "2" }, false), ["a=2", "b=1"]);
    });
});
