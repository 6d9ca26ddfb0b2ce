/**
 * Renders a node's k3s configuration: /etc/rancher/k3s/config.yaml (what charon manages) and the drop-in
 * /etc/rancher/k3s/config.yaml.d/50-charon.yaml (the stack's extra server/agent args). Pure: text in, text out.
 */
import { K3sSettings } from "../../stacks/settings";
import { gpuNodeLabel, k3sTokenPath } from "./constants";

export type NodeRole = "server" | "agent";

/** What one node's configuration is made of. */
export interface K3sNodeConfigInput {
    /** Kubernetes node name (the host name). */
    nodeName: string;
    role: NodeRole;
    /** `https://<first server>:6443` for every node but the first server; undefined for the first server. */
    joinUrl?: string;
    /** Initialise embedded etcd (first server of a 3+ server cluster). */
    clusterInit: boolean;
    /** The address clients reach this host by; added to the API certificate's SANs on servers. */
    address: string;
    /** Whether the node gets the GPU label. */
    gpu: boolean;
    /** Extra node labels from the host's settings. */
    labels: Record<string, string>;
    k3s: Pick<K3sSettings, "clusterCidr" | "serviceCidr" | "featureGates" | "disable" | "extraServerArgs" | "extraAgentArgs">;
}

export interface RenderedK3sConfig {
    /** Content of /etc/rancher/k3s/config.yaml. */
    config: string;
    /** Content of the drop-in, or "" when the stack sets no extra args (the drop-in is then removed). */
    dropIn: string;
}

/** Problem with a setting that the renderer refuses; names the stack key. */
export class K3sConfigError extends Error {
    constructor(readonly key: string, message: string) {
        super(`charon:${key}: ${message}`);
        this.name = "K3sConfigError";
    }
}

/** Config keys charon owns: extra args may not override them (each with the setting to use instead). */
const managedKeys: Record<string, string> = {
    "node-name": "the host's name is the node name",
    "token": "the cluster token is generated and written to a token file",
    "token-file": "the cluster token is generated and written to a token file",
    "server": "joining nodes are pointed at the first server automatically",
    "cluster-init": "embedded etcd is initialised automatically when there are 3 or more servers",
    "write-kubeconfig-mode": "the kubeconfig is always written 0600",
    "cluster-cidr": "set charon:k3s.clusterCidr instead",
    "service-cidr": "set charon:k3s.serviceCidr instead",
    "write-kubeconfig": "charon reads the kubeconfig from k3s's default path",
    "https-listen-port": "joining nodes, the firewall and the kubeconfig use the API port 6443",
};

/** k3s flags that take a list; extra args for them append (`key+:`) instead of replacing charon's entries. */
const listKeys = new Set([
    "node-label", "node-taint", "tls-san", "disable", "node-ip", "node-external-ip",
    "kube-apiserver-arg", "kube-scheduler-arg", "kube-controller-manager-arg", "kube-cloud-controller-manager-arg",
    "kubelet-arg", "kube-proxy-arg", "etcd-arg",
]);

const header = (nodeName: string, what: string) =>
    `# ${what} of node ${JSON.stringify(nodeName)}, managed by Pulumi (charon K3sCluster): edits are overwritten.\n`;

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const q = (value: string) => JSON.stringify(value);

function renderEntries(entries: [string, string | boolean | string[]][]): string {
    let out = "";
    for (const [key, value] of entries) {
        if (Array.isArray(value)) {
            if (value.length === 0) {
                continue;
            }
            out += `${key}:\n${value.map((v) => `  - ${q(v)}\n`).join("")}`;
        } else if (typeof value === "boolean") {
            out += `${key}: ${value}\n`;
        } else {
            out += `${key}: ${q(value)}\n`;
        }
    }
    return out;
}

/** The `feature-gates=A=true,B=false` argument (gates sorted by name), or undefined when none are set. */
export function featureGatesArg(featureGates: Record<string, boolean>): string | undefined {
    const names = Object.keys(featureGates).sort();
    if (names.length === 0) {
        return undefined;
    }
    return `feature-gates=${names.map((n) => `${n}=${featureGates[n]}`).join(",")}`;
}

/** The node's labels as `key=value` entries, sorted by key; GPU nodes get `nvidia.com/gpu.present=true`. */
export function nodeLabels(labels: Record<string, string>, gpu: boolean): string[] {
    const all: Record<string, string> = { ...labels };
    if (gpu) {
        all[gpuNodeLabel.key] = gpuNodeLabel.value;
    }
    return Object.keys(all).sort().map((k) => `${k}=${all[k]}`);
}

/** What is wrong with extra k3s args (keys that are no flag name, or that charon manages), for stack validation. */
export function extraArgProblems(settingKey: string, extra: Record<string, string>): { key: string; reason: string }[] {
    const problems: { key: string; reason: string }[] = [];
    for (const rawKey of Object.keys(extra).sort()) {
        const key = rawKey.endsWith("+") ? rawKey.slice(0, -1) : rawKey;
        if (!/^[a-z0-9][a-z0-9-]*$/.test(key)) {
            problems.push({ key: `${settingKey}.${rawKey}`, reason: "is not a k3s config key; expected a flag name such as kubelet-arg or node-taint" });
        } else if (managedKeys[key] !== undefined) {
            problems.push({ key: `${settingKey}.${rawKey}`, reason: `is managed by charon (${managedKeys[key]})` });
        }
    }
    return problems;
}

/** Renders the drop-in from the role's extra args; throws K3sConfigError for a key charon manages. */
export function renderDropIn(nodeName: string, role: NodeRole, extra: Record<string, string>): string {
    const settingKey = role === "server" ? "k3s.extraServerArgs" : "k3s.extraAgentArgs";
    const keys = Object.keys(extra).sort();
    if (keys.length === 0) {
        return "";
    }
    const problem = extraArgProblems(settingKey, extra)[0];
    if (problem) {
        throw new K3sConfigError(problem.key, problem.reason);
    }
    const entries: [string, string | string[]][] = [];
    for (const rawKey of keys) {
        const key = rawKey.endsWith("+") ? rawKey.slice(0, -1) : rawKey;
        if (listKeys.has(key) || rawKey.endsWith("+")) {
            entries.push([`${key}+`, [extra[rawKey]]]);
        } else {
            entries.push([key, extra[rawKey]]);
        }
    }
    return header(nodeName, "k3s extra settings") + renderEntries(entries);
}

/** Renders config.yaml and the drop-in for one node. */
export function renderK3sConfig(input: K3sNodeConfigInput): RenderedK3sConfig {
    const server = input.role === "server";
    const gates = featureGatesArg(input.k3s.featureGates);
    const gateArgs = gates === undefined ? [] : [gates];
    const entries: [string, string | boolean | string[]][] = [["node-name", input.nodeName]];
    if (input.joinUrl !== undefined) {
        entries.push(["server", input.joinUrl]);
    }
    entries.push(["token-file", k3sTokenPath]);
    if (server) {
        if (input.clusterInit) {
            entries.push(["cluster-init", true]);
        }
        entries.push(
            ["write-kubeconfig-mode", "0600"],
            ["cluster-cidr", input.k3s.clusterCidr],
            ["service-cidr", input.k3s.serviceCidr],
            ["tls-san", [input.address]],
            ["disable", [...input.k3s.disable]],
        );
    }
    entries.push(["node-label", nodeLabels(input.labels, input.gpu)]);
    if (server) {
        entries.push(["kube-apiserver-arg", gateArgs], ["kube-scheduler-arg", gateArgs]);
    }
    entries.push(["kubelet-arg", gateArgs]);
    return {
        config: header(input.nodeName, "k3s configuration") + renderEntries(entries),
        dropIn: renderDropIn(input.nodeName, input.role, server ? input.k3s.extraServerArgs : input.k3s.extraAgentArgs),
    };
}
