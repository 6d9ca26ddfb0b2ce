/**
 * Renders a node's k3s configuration: config.yaml (what charon manages) and the drop-in (the stack's extra
 * server/agent args), both at the paths of constants.ts k3sPaths. Pure: text in, text out.
 */
import * as yaml from "js-yaml";
import { effectiveFeatureGates, K3sSettings } from "./settings";
import { gpuNodeLabel, k3sPaths } from "./constants";

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
    k3s: Pick<K3sSettings, "version" | "clusterCidr" | "serviceCidr" | "featureGates" | "disable" | "extraServerArgs" | "extraAgentArgs">;
}

/** A k3s config document as data: flag name → value, in the order written (a list flag appends with `key+`). */
export type K3sConfigEntries = Record<string, string | boolean | string[]>;

/** What a node's k3s reads, as data: the config charon manages and the drop-in of the stack's extra args. */
export interface K3sNodeConfig {
    config: K3sConfigEntries;
    dropIn: K3sConfigEntries;
}

export interface RenderedK3sConfig {
    /** Content of k3s's config.yaml. */
    config: string;
    /** Content of the drop-in, or "" when the stack sets no extra args (the drop-in is then removed). */
    dropIn: string;
}

/** k3s flags that take a list; extra args for them append (`key+:`) instead of replacing charon's entries. */
const listKeys = new Set([
    "node-label", "node-taint", "tls-san", "disable", "node-ip", "node-external-ip",
    "kube-apiserver-arg", "kube-scheduler-arg", "kube-controller-manager-arg", "kube-cloud-controller-manager-arg",
    "kubelet-arg", "kube-proxy-arg", "etcd-arg",
]);

const header = (nodeName: string, what: string) =>
    `# ${what} of node ${JSON.stringify(nodeName)}, managed by Pulumi (charon K3sCluster): edits are overwritten.\n`;

/** The entries without empty lists (k3s reads an absent list flag and an empty one alike). */
function withoutEmptyLists(entries: [string, string | boolean | string[]][]): K3sConfigEntries {
    return Object.fromEntries(entries.filter(([, value]) => !(Array.isArray(value) && value.length === 0)));
}

/** YAML of the entries in order, strings double-quoted. */
function renderEntries(entries: K3sConfigEntries): string {
    return Object.keys(entries).length === 0 ? "" : yaml.dump(entries, { lineWidth: -1, forceQuotes: true, quotingType: "\"", noRefs: true });
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

/** The drop-in's entries from the role's extra args (validated: no key charon manages). */
export function dropInEntries(extra: Record<string, string>): K3sConfigEntries {
    const keys = Object.keys(extra).sort();
    const entries: [string, string | string[]][] = [];
    for (const rawKey of keys) {
        const key = rawKey.endsWith("+") ? rawKey.slice(0, -1) : rawKey;
        if (listKeys.has(key) || rawKey.endsWith("+")) {
            entries.push([`${key}+`, [extra[rawKey]]]);
        } else {
            entries.push([key, extra[rawKey]]);
        }
    }
    return withoutEmptyLists(entries);
}

/** Renders the drop-in, or "" when the stack sets no extra args. */
export function renderDropIn(nodeName: string, extra: Record<string, string>): string {
    const entries = dropInEntries(extra);
    return Object.keys(entries).length === 0 ? "" : header(nodeName, "k3s extra settings") + renderEntries(entries);
}

/** config.yaml's and the drop-in's entries for one node. */
export function k3sNodeConfig(input: K3sNodeConfigInput): K3sNodeConfig {
    const server = input.role === "server";
    const gates = featureGatesArg(effectiveFeatureGates(input.k3s.featureGates, input.k3s.version));
    const gateArgs = gates === undefined ? [] : [gates];
    const entries: [string, string | boolean | string[]][] = [["node-name", input.nodeName]];
    if (input.joinUrl !== undefined) {
        entries.push(["server", input.joinUrl]);
    }
    entries.push(["token-file", k3sPaths.token]);
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
    return { config: withoutEmptyLists(entries), dropIn: dropInEntries(server ? input.k3s.extraServerArgs : input.k3s.extraAgentArgs) };
}

/** Renders config.yaml and the drop-in for one node. */
export function renderK3sConfig(input: K3sNodeConfigInput): RenderedK3sConfig {
    const { config, dropIn } = k3sNodeConfig(input);
    return {
        config: header(input.nodeName, "k3s configuration") + renderEntries(config),
        dropIn: Object.keys(dropIn).length === 0 ? "" : header(input.nodeName, "k3s extra settings") + renderEntries(dropIn),
    };
}
