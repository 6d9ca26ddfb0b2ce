/**
 * The cluster layer's settings model: the machines (`charon:hosts`), the default SSH key and the k3s installation
 * (`charon:k3s`). Types, defaults and documentation come from these schemas; `clusterSettingsProblems` holds the
 * rules that span several keys.
 */
import * as fs from "node:fs";
import { isKubeletReservedLabel, labelValueHint, labelValuePattern } from "../../model/formats/names";
import { networksOverlap, parseIpv4Network } from "../../model/formats/network";
import { childKey, type Problem } from "../../model/check";
import { DnsLabel, Enum, Integer, Ipv4Network, LabelKey, Map, Secret, type Static, Type } from "../../model/schema";
import { k3sVersion } from "../versions";

const sshTargetFields = {
    address: Type.Optional(Type.String({ description: "Host name or IP address Pulumi connects to (and k3s advertises in its TLS SANs)." })),
    port: Integer({ minimum: 1, maximum: 65535, default: 22, description: "SSH port." }),
    user: Type.String({ default: "root", description: "SSH user; a non-root user needs passwordless sudo." }),
    privateKey: Type.Optional(Secret({ description: "SSH private key (PEM/OpenSSH): `npm run config -- set --secret 'charon:hosts[i].privateKey' < key`. Falls back to `charon:sshPrivateKey`." })),
    agentSocket: Type.Optional(Type.String({ description: "Path of an ssh-agent socket to authenticate with instead of a key." })),
    hostKey: Type.Optional(Type.String({ description: "Expected SSH host public key (pins the host; connection fails on mismatch)." })),
};

export const BastionSchema = Type.Object({
    ...sshTargetFields,
    address: Type.String({ description: "Host name or IP address of the jump host." }),
}, { additionalProperties: false, description: "Optional jump host for SSH." });

export const HostSchema = Type.Object({
    name: DnsLabel({ description: "Unique host name; becomes the Kubernetes node name." }),
    role: Enum(["server", "agent"] as const, { description: "server runs the control plane; agent only runs workloads." }),
    local: Type.Boolean({ default: false, description: "The machine running Pulumi itself (local commands, no SSH)." }),
    ...sshTargetFields,
    bastion: Type.Optional(BastionSchema),
    gpu: Enum(["auto", true, false] as const, { default: "auto", description: "GPU node: auto detects with nvidia-smi; true/false force it." }),
    labels: Map(Type.String({ pattern: labelValuePattern, hint: labelValueHint, description: "Label value." }), {
        ...LabelKey, default: {}, description: "Extra Kubernetes node labels.",
    }),
}, { additionalProperties: false, description: "One machine of the cluster." });

export const HostsSchema = Type.Array(HostSchema, { minItems: 1, description: "The machines; the preset supplies them for dev." });

export const K3sSchema = Type.Object({
    version: Type.String({
        default: k3sVersion, pattern: "^v1\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$", hint: "a k3s release tag such as v1.34.2+k3s1",
        description: "k3s release tag.",
    }),
    clusterCidr: Ipv4Network({ default: "10.31.0.0/16", description: "Pod network CIDR." }),
    serviceCidr: Ipv4Network({ default: "10.32.0.0/16", description: "Service network CIDR." }),
    featureGates: Map(Type.Boolean({ description: "Gate on or off." }), {
        keyPattern: "^[A-Z][A-Za-z0-9]+$", keyHint: "a Kubernetes feature gate name such as InPlacePodVerticalScaling",
        default: { InPlacePodVerticalScaling: true },
        description: "Feature gates set on kube-apiserver, kube-scheduler and kubelet (gates GA and locked in the k3s release are left out).",
    }),
    disable: Type.Array(
        // local-storage (the ISB's and MinIO's volumes) and coredns (every in-cluster name) are not optional here.
        Enum(["traefik", "servicelb", "metrics-server"] as const, { description: "Add-on." }),
        { default: ["traefik"], description: "Packaged k3s add-ons not to deploy (the platform needs local-storage and coredns)." },
    ),
    extraServerArgs: Map(Type.String({ description: "Value." }), {
        default: {}, description: "Extra k3s server config keys (config.yaml key → value), merged into the drop-in.",
    }),
    extraAgentArgs: Map(Type.String({ description: "Value." }), {
        default: {}, description: "Extra k3s agent config keys (config.yaml key → value), merged into the drop-in.",
    }),
    airgap: Type.Optional(Type.Object({
        binary: Type.String({ description: "Path (on the machine running Pulumi) of the k3s binary to install." }),
        images: Type.Optional(Type.String({ description: "Path of the k3s airgap images tarball (optional)." })),
        installScript: Type.String({ description: "Path of the k3s install.sh of the same release, downloaded beside the binary." }),
    }, { additionalProperties: false, description: "Air-gapped install: copy these files instead of downloading k3s." })),
    apiReadyTimeoutSeconds: Integer({
        minimum: 10, maximum: 3600, default: 300, description: "How long to wait for the Kubernetes API after installing k3s.",
    }),
}, { additionalProperties: false, default: {}, description: "k3s installation." });

export const SshPrivateKeySchema = Secret({ description: "Default SSH private key for remote hosts (secret)." });

export type HostSettings = Static<typeof HostSchema>;
export type SshTarget = Static<typeof BastionSchema>;
export type K3sSettings = Static<typeof K3sSchema>;
export type HostRole = HostSettings["role"];

/** Config keys charon owns: extra args may not override them (each with the setting to use instead). */
export const managedK3sKeys: Readonly<Record<string, string>> = {
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

/** The Kubernetes minor version of a k3s release tag (v1.34.2+k3s1 → 34). */
export function kubernetesMinor(k3sTag: string): number | undefined {
    const minor = /^v1\.([0-9]+)\./.exec(k3sTag)?.[1];
    return minor === undefined ? undefined : Number(minor);
}

/**
 * Feature gates whose lifecycle the platform knows: from `lockedFrom` the gate is GA and locked on (setting it
 * false stops the components from starting; true is the default, so charon leaves it out), from `removedIn` the
 * components refuse the gate's name altogether.
 */
export const featureGateLifecycle: Readonly<Record<string, { lockedFrom: number; removedIn: number }>> = {
    InPlacePodVerticalScaling: { lockedFrom: 35, removedIn: 38 },
};

/** The gates to pass to a k3s release: unknown-lifecycle gates as set, locked-on ones omitted. */
export function effectiveFeatureGates(featureGates: Record<string, boolean>, k3sTag: string): Record<string, boolean> {
    const minor = kubernetesMinor(k3sTag);
    return Object.fromEntries(Object.entries(featureGates).filter(([gate, on]) => {
        const life = featureGateLifecycle[gate];
        return !(life && minor !== undefined && minor >= life.lockedFrom && on);
    }));
}

/** What is wrong with extra k3s args (keys that are no flag name, or that charon manages). */
export function extraArgProblems(settingKey: string, extra: Record<string, string>): Problem[] {
    const problems: Problem[] = [];
    for (const rawKey of Object.keys(extra).sort()) {
        const key = rawKey.endsWith("+") ? rawKey.slice(0, -1) : rawKey;
        const full = `${settingKey}.${rawKey}`;
        if (!/^[a-z0-9][a-z0-9-]*$/.test(key)) {
            problems.push({ key: full, message: `${full}: is not a k3s config key; expected a flag name such as kubelet-arg or node-taint` });
        } else if (managedK3sKeys[key] !== undefined) {
            problems.push({ key: full, message: `${full}: is managed by charon (${managedK3sKeys[key]})` });
        }
    }
    return problems;
}

export interface ClusterSettingsView {
    hosts: HostSettings[];
    k3s: K3sSettings;
    sshPrivateKey?: string;
}

/** Rules across the cluster's keys; `root` prefixes every key (`charon:`). */
export function clusterSettingsProblems(s: ClusterSettingsView, root: string): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${root}${key}`, message: `${root}${key}: ${message}` });
    problems.push(...hostProblems(s.hosts, s.sshPrivateKey !== undefined, root));

    const clusterCidr = parseIpv4Network(s.k3s.clusterCidr);
    const serviceCidr = parseIpv4Network(s.k3s.serviceCidr);
    if (clusterCidr && serviceCidr && networksOverlap(clusterCidr, serviceCidr)) {
        add("k3s.serviceCidr", `${JSON.stringify(s.k3s.serviceCidr)} overlaps k3s.clusterCidr ${JSON.stringify(s.k3s.clusterCidr)}; the pod and service networks must be disjoint`);
    }
    for (const key of ["extraServerArgs", "extraAgentArgs"] as const) {
        problems.push(...extraArgProblems(`${root}k3s.${key}`, s.k3s[key]));
    }
    const minor = kubernetesMinor(s.k3s.version);
    for (const [gate, on] of Object.entries(s.k3s.featureGates)) {
        const life = featureGateLifecycle[gate];
        if (life === undefined || minor === undefined) {
            continue;
        }
        if (minor >= life.removedIn) {
            add(`k3s.featureGates.${gate}`, `is removed in Kubernetes 1.${life.removedIn}, and k3s.version is ${JSON.stringify(s.k3s.version)}: kube-apiserver, the scheduler and the kubelet refuse to start with it; remove the gate (the feature is always on)`);
        } else if (minor >= life.lockedFrom && !on) {
            add(`k3s.featureGates.${gate}`, `false is not allowed from Kubernetes 1.${life.lockedFrom} (the gate is GA and locked on), and k3s.version is ${JSON.stringify(s.k3s.version)}; remove the gate or pick a k3s release before 1.${life.lockedFrom}`);
        }
    }
    for (const [key, file] of [["binary", s.k3s.airgap?.binary], ["installScript", s.k3s.airgap?.installScript], ["images", s.k3s.airgap?.images]] as const) {
        if (file !== undefined && !fs.existsSync(file)) {
            add(`k3s.airgap.${key}`, `${JSON.stringify(file)} does not exist on this machine (the one running Pulumi)`);
        }
    }
    const firstServer = s.hosts.find((h) => h.role === "server");
    if (firstServer?.local && s.hosts.some((h) => !h.local)) {
        add("hosts", `the first server ${JSON.stringify(firstServer.name)} is local, so remote hosts cannot join it (it has no address they can reach); list a remote server first`);
    }
    return problems;
}

function hostProblems(hosts: HostSettings[], hasDefaultKey: boolean, root: string): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${root}${key}`, message: `${root}${key}: ${message}` });
    const seen = new globalThis.Map<string, number>();
    hosts.forEach((host, i) => {
        const key = childKey("hosts", i);
        const first = seen.get(host.name);
        if (first !== undefined) {
            add(`${key}.name`, `${JSON.stringify(host.name)} is already used by hosts[${first}]; host names must be unique (they become node names)`);
        } else {
            seen.set(host.name, i);
        }
        for (const label of Object.keys(host.labels ?? {}).filter(isKubeletReservedLabel)) {
            add(`${key}.labels`, `key ${JSON.stringify(label)} is in a namespace the kubelet reserves (kubernetes.io, k8s.io) and k3s would fail to start; use your own prefix such as example.com/, or node.kubernetes.io/`);
        }
        if (host.local) {
            const remoteKeys = (["address", "privateKey", "agentSocket", "hostKey", "bastion"] as const).filter((k) => host[k] !== undefined);
            if (remoteKeys.length > 0) {
                add(key, `${JSON.stringify(host.name)} is both local (local: true) and remote (${remoteKeys.join(", ")} set); use local: true alone for this machine, or remove it to connect over SSH`);
            }
        } else {
            if (host.address === undefined) {
                add(`${key}.address`, `is required for remote host ${JSON.stringify(host.name)} (or set local: true for this machine)`);
            }
            if (host.privateKey === undefined && host.agentSocket === undefined && !hasDefaultKey) {
                add(`${key}.privateKey`, `remote host ${JSON.stringify(host.name)} has no SSH credentials; set hosts[${i}].privateKey or agentSocket, or charon:sshPrivateKey (all secret)`);
            }
        }
    });
    const servers = hosts.filter((h) => h.role === "server").length;
    if (servers === 0) {
        add("hosts", `has no host with role "server"; exactly one server, or an odd number of 3 or more, is required`);
    } else if (servers % 2 === 0) {
        add("hosts", `has ${servers} servers; embedded etcd needs 1 or an odd number of 3 or more servers to keep quorum`);
    }
    const locals = hosts.filter((h) => h.local).length;
    if (locals > 1) {
        add("hosts", `has ${locals} hosts with local: true; only the machine running Pulumi can be local`);
    }
    return problems;
}
