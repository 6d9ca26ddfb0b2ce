/**
 * K3sNode: one host's part of the cluster, as a component whose inputs state what the host runs (role, k3s
 * release, the k3s configuration as data, the ports its firewall opens, how the token arrives). Its steps (prepare,
 * firewall, directories, air-gap copies, install, drain, removal) are its children. The policy pack reads these
 * inputs instead of the command texts.
 */
import * as pulumi from "@pulumi/pulumi";
import type { K3sNodeConfig } from "./k3s-config";

/** The component's type token; the policy pack matches it. */
export const K3S_NODE_TYPE = "charon:cluster:K3sNode";

export interface K3sNodeFacts {
    /** Kubernetes node name (the host name). */
    node: string;
    role: "server" | "agent";
    /** The server that initialises the cluster. */
    firstServer: boolean;
    /** k3s release tag installed. */
    version: string;
    /**
     * config.yaml and the drop-in, as data. For a host with gpu "auto" the GPU node label is left out here: the install
     * step adds it when the host's prepare step reports a GPU.
     */
    k3sConfig: K3sNodeConfig;
    /** The host's GPU setting: true, false or "auto" (detected by the prepare step). */
    gpu: boolean | "auto";
    /** Where the install step writes the token it reads from stdin. */
    tokenFile: string;
    /** Firewall: sources trusted and ports opened ("6443/tcp"). */
    firewall: { trustedSources: string[]; openPorts: string[] };
    /** Local commands on this machine, or SSH. */
    local: boolean;
    /**
     * Names of the child steps the policy pack checks: the install (which gets the token on stdin) and, on the first
     * server, the command whose stdout is the admin kubeconfig.
     */
    steps: { install: string; kubeconfig?: string };
}

export class K3sNode extends pulumi.ComponentResource {
    readonly node: string;

    constructor(name: string, facts: K3sNodeFacts, opts?: pulumi.ComponentResourceOptions) {
        super(K3S_NODE_TYPE, name, facts, opts);
        this.node = facts.node;
        // The outputs repeat the facts: resource policies see a component's inputs, stack policies its outputs.
        this.registerOutputs({ ...facts });
    }
}
