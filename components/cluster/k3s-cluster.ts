/**
 * K3sCluster: hosts → prepared machines → k3s servers and agents (over SSH, or locally) → kubeconfig, a
 * Kubernetes provider and the node facts the other layers need. The graph comes from planCluster (plan.ts), the
 * command texts from commands.ts, the k3s configuration from k3s-config.ts; this file only wires resources.
 */
import * as path from "node:path";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { HostSettings, K3sSettings } from "./settings";
import {
    airgapPaths, CommandTexts, drainCommand, firewallCommand, firewallRules, hostDirectoriesCommand, installCommand, kubeconfigCommand,
    prepareHostCommand, removeNodeCommand,
} from "./commands";
import { k3sPaths, PortRule, sshDial } from "./constants";
import { apiServerUrl, NodeFacts, parseGpuCount, reachableAddress, rewriteKubeconfigServer } from "./host-facts";
import { K3sNodeConfigInput, k3sNodeConfig, renderK3sConfig } from "./k3s-config";
import { K3sNode } from "./k3s-node";
import { planCluster, PlanStep, stepId } from "./plan";

export interface K3sClusterArgs {
    /**
     * The machines (validated stack settings). The first host with role "server" initialises the cluster; further
     * servers and all agents join it. Remote hosts are reached over SSH, `local: true` runs on this machine.
     */
    hosts: HostSettings[];
    /** k3s release, networks, feature gates, disabled add-ons, extra args, air-gapped files, API wait. */
    k3s: K3sSettings;
    /**
     * SSH private key for remote hosts (and bastions) that set no key of their own. Plain text here: it is wrapped
     * with pulumi.secret before it reaches any resource. None: hosts then have privateKey or agentSocket.
     */
    defaultSshPrivateKey?: string;
    /**
     * Extra ports firewalld opens on every host (e.g. a NodePort), besides 6443/tcp (servers), 10250/tcp and
     * 8472/udp. Defaults to none.
     */
    openPorts?: PortRule[];
    /** Absolute directories created on every host and removed on delete (only those charon created). Defaults to none. */
    hostDirectories?: string[];
}

/** What a step's command needs besides its texts. */
interface StepCommandOptions {
    stdin?: pulumi.Input<string>;
    logging?: "stdout" | "stderr" | "stdoutAndStderr" | "none";
    secretStdout?: boolean;
}

type AnyCommand = command.remote.Command | command.local.Command;

export class K3sCluster extends pulumi.ComponentResource {
    /** Admin kubeconfig (secret), its server rewritten to the first server's reachable address. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for the cluster (server-side apply). */
    public readonly provider: k8s.Provider;
    /** Every node: name, role, address and GPU count. */
    public readonly nodes: pulumi.Output<NodeFacts[]>;
    /** Reachable address of the first server (where the Kubernetes API listens, port 6443). */
    public readonly serverAddress: pulumi.Output<string>;

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:cluster:K3sCluster", name, {}, opts);

        const openPorts = args.openPorts ?? [];
        const hostDirectories = args.hostDirectories ?? [];
        const hosts = args.hosts;
        const k3s = args.k3s;
        const plan = planCluster(hosts, {
            hostDirectories: hostDirectories.length > 0,
            airgap: k3s.airgap !== undefined,
            airgapImages: k3s.airgap?.images !== undefined,
        });
        const byName = new Map(hosts.map((h) => [h.name, h]));
        const first = byName.get(plan.firstServer)!;
        const firstAddress = reachableAddress(first);
        const serverCount = hosts.filter((h) => h.role === "server").length;

        const token = new random.RandomPassword(`${name}-${stepId.token}`, { length: 48, special: false }, { parent: this });
        const tokenLine = pulumi.secret(pulumi.interpolate`${token.result}\n`);

        // One component per host, holding that host's steps and stating what it runs (the policy pack reads it).
        // The GPU count each host's prepare step reports; known to later steps (and the host's facts) through a promise.
        const gpuCounts = new Map<string, pulumi.Output<number>>();
        const reported = new Map(hosts.map((h) => {
            let resolve!: (count: pulumi.Output<number>) => void;
            const promise = new Promise<pulumi.Output<number>>((r) => { resolve = r; });
            return [h.name, { promise, resolve }];
        }));
        const gpuOf = (h: HostSettings): pulumi.Output<boolean> => h.gpu === "auto"
            ? pulumi.output(reported.get(h.name)!.promise).apply((n) => n > 0)
            : pulumi.output(h.gpu);
        const joinUrlOf = (h: HostSettings) => h === first ? undefined : apiServerUrl(firstAddress);
        const nodeComponents = new Map<string, K3sNode>();
        const nodeOf = (h: HostSettings): K3sNode => {
            let node = nodeComponents.get(h.name);
            if (node === undefined) {
                const rules = firewallRules(h, serverCount, k3s, openPorts);
                node = new K3sNode(`${name}-${h.name}`, {
                    node: h.name,
                    role: h.role,
                    firstServer: h === first,
                    version: k3s.version,
                    // Without the GPU label for "auto" hosts: it depends on what this node's own prepare step reports.
                    k3sConfig: k3sNodeConfig(nodeConfigInput(h, joinUrlOf(h), plan.clusterInit, k3s, h.gpu === true)),
                    gpu: h.gpu,
                    tokenFile: k3sPaths.token,
                    firewall: rules,
                    local: h.local,
                    steps: {
                        install: `${name}-${stepId.install(h.name)}`,
                        kubeconfig: h === first ? `${name}-${stepId.kubeconfig(h.name)}` : undefined,
                    },
                }, { parent: this });
                nodeComponents.set(h.name, node);
            }
            return node;
        };
        // Steps moved under their host's component keep their identity in existing stacks.
        const stepParent = (h: HostSettings | undefined): { parent: pulumi.Resource; aliases?: pulumi.Input<pulumi.Alias>[] } =>
            h === undefined ? { parent: this } : { parent: nodeOf(h), aliases: [{ parent: this }] };

        const resources = new Map<string, pulumi.Resource>([[stepId.token, token]]);
        const depsOf = (step: PlanStep) => step.dependsOn.map((id) => {
            const r = resources.get(id);
            if (!r) {
                throw new Error(`step ${step.id} depends on ${id}, which was not created before it`);
            }
            return r;
        });
        const run = (step: PlanStep, texts: pulumi.Input<CommandTexts>, options: StepCommandOptions = {}) => {
            const host = byName.get(step.runsOn!)!;
            const about = step.host === undefined ? undefined : byName.get(step.host);
            const cmd = this.hostCommand(`${name}-${step.id}`, host, args.defaultSshPrivateKey, texts, options, depsOf(step), stepParent(about));
            resources.set(step.id, cmd);
            return cmd;
        };

        let kubeconfigCmd: AnyCommand | undefined;
        for (const step of plan.steps) {
            const host = step.host === undefined ? undefined : byName.get(step.host)!;
            switch (step.kind) {
                case "token":
                    break;
                case "prepare": {
                    const cmd = run(step, prepareHostCommand(host!));
                    const count = cmd.stdout.apply(parseGpuCount);
                    gpuCounts.set(host!.name, count);
                    reported.get(host!.name)!.resolve(count);
                    break;
                }
                case "firewall":
                    run(step, firewallCommand(host!, serverCount, k3s, openPorts));
                    break;
                case "dirs":
                    run(step, hostDirectoriesCommand(host!, hostDirectories));
                    break;
                case "airgap": {
                    const file = step.file!;
                    const staged = airgapPaths(k3s.airgap!, false);
                    const source = { binary: k3s.airgap!.binary, images: k3s.airgap!.images!, installer: k3s.airgap!.installScript }[file];
                    const remotePath = { binary: staged.binary, images: staged.images!, installer: staged.installer }[file];
                    const copy = new command.remote.CopyToRemote(`${name}-${step.id}`, {
                        connection: sshConnection(host!, args.defaultSshPrivateKey),
                        source: new pulumi.asset.FileAsset(path.resolve(source)),
                        remotePath,
                    }, { ...stepParent(host), dependsOn: depsOf(step) });
                    resources.set(step.id, copy);
                    break;
                }
                case "install": {
                    const h = host!;
                    const texts = gpuOf(h).apply((g) => installCommand(
                        h, renderK3sConfig(nodeConfigInput(h, joinUrlOf(h), plan.clusterInit, k3s, g)), k3s,
                        k3s.airgap === undefined ? undefined : airgapPaths(k3s.airgap, h.local),
                    ));
                    run(step, texts, { stdin: tokenLine });
                    break;
                }
                case "kubeconfig":
                    kubeconfigCmd = run(step, kubeconfigCommand(host!, k3s), { logging: "stderr", secretStdout: true });
                    break;
                case "remove-node":
                    run(step, removeNodeCommand(plan.firstServer, host!.name));
                    break;
                case "drain":
                    run(step, drainCommand(plan.firstServer, host!.name));
                    break;
                case "provider":
                    break;
            }
        }

        // Built from the kubeconfig, and created only after every node has joined (so workloads land on a whole
        // cluster, and on delete everything on the cluster goes before any node does).
        this.kubeconfig = pulumi.secret(kubeconfigCmd!.stdout.apply((k) => rewriteKubeconfigServer(k ?? "", firstAddress)));
        const providerStep = plan.steps.find((s) => s.kind === "provider")!;
        this.provider = new k8s.Provider(`${name}-${providerStep.id}`, {
            kubeconfig: this.kubeconfig,
            enableServerSideApply: true,
            deleteUnreachable: true,
        }, { parent: this, dependsOn: depsOf(providerStep) });

        this.serverAddress = pulumi.output(firstAddress);
        this.nodes = pulumi.all(hosts.map((h) => gpuCounts.get(h.name)!.apply((count): NodeFacts => ({
            name: h.name,
            role: h.role,
            address: reachableAddress(h),
            gpuCount: h.gpu === false ? 0 : count,
        }))));

        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            nodes: this.nodes,
            serverAddress: this.serverAddress,
        });
    }

    /** A remote (SSH) or local command running the texts on `host`. */
    private hostCommand(resourceName: string, host: HostSettings, defaultKey: string | undefined, texts: pulumi.Input<CommandTexts>,
        options: StepCommandOptions, dependsOn: pulumi.Resource[], parent: pulumi.CustomResourceOptions): AnyCommand {
        const t = pulumi.output(texts);
        const common = {
            create: t.apply((x) => x.create as string),
            update: t.apply((x) => x.update as string),
            delete: t.apply((x) => x.delete as string),
            stdin: options.stdin,
            logging: options.logging,
            addPreviousOutputInEnv: false,
        };
        const resourceOpts: pulumi.CustomResourceOptions = {
            ...parent,
            dependsOn,
            additionalSecretOutputs: options.secretStdout ? ["stdout"] : undefined,
        };
        if (host.local) {
            return new command.local.Command(resourceName, common, resourceOpts);
        }
        return new command.remote.Command(resourceName, { ...common, connection: sshConnection(host, defaultKey) }, resourceOpts);
    }
}

/** What renderK3sConfig needs for one host; only the first server of a 3+ server cluster initialises etcd. */
export function nodeConfigInput(h: HostSettings, joinUrl: string | undefined, clusterInit: boolean, k3s: K3sSettings, gpu: boolean): K3sNodeConfigInput {
    return {
        nodeName: h.name,
        role: h.role,
        joinUrl,
        clusterInit: clusterInit && joinUrl === undefined,
        address: reachableAddress(h),
        gpu,
        labels: h.labels ?? {},
        k3s,
    };
}

/** SSH connection for a remote host: its key (or the default key) as a secret, agent, pinned host key, bastion. */
export function sshConnection(host: HostSettings, defaultKey: string | undefined): command.types.input.remote.ConnectionArgs {
    const key = host.privateKey ?? defaultKey;
    const bastion = host.bastion;
    const bastionKey = bastion?.privateKey ?? defaultKey;
    return {
        host: host.address!,
        port: host.port,
        user: host.user,
        privateKey: key === undefined ? undefined : pulumi.secret(key),
        agentSocketPath: host.agentSocket,
        hostKey: host.hostKey,
        dialErrorLimit: sshDial.dialErrorLimit,
        perDialTimeout: sshDial.perDialTimeout,
        proxy: bastion === undefined ? undefined : {
            host: bastion.address,
            port: bastion.port,
            user: bastion.user,
            privateKey: bastionKey === undefined ? undefined : pulumi.secret(bastionKey),
            agentSocketPath: bastion.agentSocket,
            hostKey: bastion.hostKey,
            dialErrorLimit: sshDial.dialErrorLimit,
            perDialTimeout: sshDial.perDialTimeout,
        },
    };
}
