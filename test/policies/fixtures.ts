/**
 * Hand-built resources shaped like what the platform registers, compliant with every rule; tests derive violating
 * variants from them with small, named changes.
 */
import { K3S_NODE_TYPE, type K3sNodeFacts } from "../../components/cluster/k3s-node";
import type { K3sConfigEntries } from "../../components/cluster/k3s-config";
import { FakeResource } from "./harness";

export const T = {
    release: "kubernetes:helm.sh/v3:Release",
    chart: "kubernetes:helm.sh/v4:Chart",
    secret: "kubernetes:core/v1:Secret",
    service: "kubernetes:core/v1:Service",
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    isb: "kubernetes:numaflow.numaproj.io/v1alpha1:InterStepBufferService",
    pipeline: "kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    remote: "command:remote:Command",
    local: "command:local:Command",
    password: "random:index/randomPassword:RandomPassword",
    k3sNode: K3S_NODE_TYPE,
} as const;

/** Deep copy with a mutation applied: `variant(base, (p) => { p.spec.x = 1; })`. */
export function variant(base: FakeResource, change: (props: Record<string, any>) => void, extra: Partial<FakeResource> = {}): FakeResource {
    const props = structuredClone(base.props);
    change(props);
    return { ...base, ...extra, props };
}

export function release(chart: string, values: Record<string, any> = {}, extra: Record<string, any> = {}): FakeResource {
    return {
        type: T.release,
        name: chart,
        props: {
            chart, version: "1.2.3", name: chart, namespace: "monitoring", atomic: true, cleanupOnFail: true, timeout: 600,
            repositoryOpts: { repo: "https://charts.example.org" }, values, ...extra,
        },
    };
}

export const grafanaRelease = (): FakeResource => release("grafana", {
    admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
    service: { type: "NodePort", nodePort: 30080 },
    image: { repository: "grafana/grafana", tag: "12.3.0" },
});

const resources = (cpu = "500m", memory = "512Mi") => ({ requests: { cpu, memory }, limits: { cpu, memory } });

export const resizePolicy = [
    { resourceName: "cpu", restartPolicy: "NotRequired" },
    { resourceName: "memory", restartPolicy: "NotRequired" },
];

/** A role=workload Deployment (the baseline consumer): GPU, inference image, resources, resize policy. */
export function workloadDeployment(): FakeResource {
    return {
        type: T.deployment,
        name: "consumer",
        props: {
            metadata: { name: "consumer", namespace: "default" },
            spec: {
                selector: { matchLabels: { app: "consumer" } },
                template: {
                    metadata: { labels: { app: "consumer", role: "workload" } },
                    spec: {
                        runtimeClassName: "nvidia",
                        containers: [{
                            name: "consumer",
                            image: "registry.example.org/ptychonn:cuda126",
                            resources: { requests: { cpu: "1000m", memory: "2Gi", "nvidia.com/gpu": "1" }, limits: { cpu: "1000m", memory: "2Gi", "nvidia.com/gpu": "1" } },
                            resizePolicy,
                        }],
                    },
                },
            },
        },
    };
}

/** The APS pipeline: udsource → PtychoNN UDF on the GPU → log sink. */
export function pipeline(extra: Record<string, any> = {}): FakeResource {
    return {
        type: T.pipeline,
        name: "ptychography",
        props: {
            apiVersion: "numaflow.numaproj.io/v1alpha1",
            kind: "Pipeline",
            metadata: { name: "ptychography", namespace: "default" },
            spec: {
                vertices: [
                    { name: "in", source: { udsource: { container: { image: "docker.io/gemblerz/pvapy-udsource:0.0.1" } } }, scale: { min: 1, max: 1 } },
                    {
                        name: "cat",
                        udf: { container: { image: "docker.io/gemblerz/ptychonn-udf:0.0.2", resources: resources("1000m", "2Gi") } },
                        runtimeClassName: "nvidia",
                        limits: { readBatchSize: 8 },
                    },
                    { name: "out", sink: { log: {} } },
                ],
                edges: [{ from: "in", to: "cat" }, { from: "cat", to: "out" }],
                ...extra,
            },
        },
    };
}

export function isb(name = "default", jetstream: Record<string, any> = {}): FakeResource {
    return {
        type: T.isb,
        name: `isb-${name}`,
        props: {
            apiVersion: "numaflow.numaproj.io/v1alpha1",
            kind: "InterStepBufferService",
            metadata: { name, namespace: "default" },
            spec: {
                jetstream: {
                    version: "2.10.29",
                    replicas: 1,
                    bufferConfig: "stream:\n  retention: 0\n  maxMsgs: 50000\n",
                    ...jetstream,
                },
            },
        },
    };
}

/** A command text in the cluster layer's format: `export NAME='value'` lines, then the script. */
export function scriptText(env: Record<string, string>, body: string): string {
    const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'\n`).join("");
    return `bash -c "$(cat <<'END'\n${exports}${body}\nEND\n)"\n`;
}

const gateOn = "feature-gates=InPlacePodVerticalScaling=true";

/** A server's config.yaml as data: mode 0600, token-file, the resize gate on every component. */
export const serverConfig: K3sConfigEntries = {
    "node-name": "s1",
    "token-file": "/etc/rancher/k3s/charon-token",
    "write-kubeconfig-mode": "0600",
    "cluster-cidr": "10.31.0.0/16",
    "kube-apiserver-arg": [gateOn],
    "kube-scheduler-arg": [gateOn],
    "kubelet-arg": [gateOn],
};

/** An agent's config.yaml as data: it joins the server and reads the token from token-file. */
export const agentConfig: K3sConfigEntries = {
    "node-name": "a1",
    "server": "https://192.0.2.1:6443",
    "token-file": "/etc/rancher/k3s/charon-token",
    "kubelet-arg": [gateOn],
};

/** What a K3sNode fixture may change: its facts, and its k3s config.yaml and drop-in entries. */
export interface K3sNodeChange extends Partial<Omit<K3sNodeFacts, "k3sConfig">> {
    config?: K3sConfigEntries;
    dropIn?: K3sConfigEntries;
}

/** A host's K3sNode as the cluster layer registers it (by default the first server, compliant with every rule). */
export function k3sNode(change: K3sNodeChange = {}): FakeResource {
    const { config, dropIn, ...facts } = change;
    const role = facts.role ?? "server";
    const node = facts.node ?? (role === "server" ? "s1" : "a1");
    const props: K3sNodeFacts = {
        node,
        role,
        firstServer: role === "server",
        version: "v1.34.2+k3s1",
        k3sConfig: { config: config ?? (role === "server" ? serverConfig : agentConfig), dropIn: dropIn ?? {} },
        gpu: false,
        tokenFile: "/etc/rancher/k3s/charon-token",
        firewall: { trustedSources: ["10.31.0.0/16", "10.32.0.0/16"], openPorts: ["6443/tcp", "10250/tcp", "8472/udp", "30080/tcp"] },
        local: false,
        steps: role === "server" ? { install: `charon-${node}-install`, kubeconfig: `charon-${node}-kubeconfig` } : { install: `charon-${node}-install` },
        ...facts,
    };
    return { type: T.k3sNode, name: `charon-${node}`, urn: `urn:pulumi:test::charon::${T.k3sNode}::charon-${node}`, props };
}

/** A command as a step of a K3sNode (its child). */
function stepOf(node: FakeResource, name: string, props: Record<string, any>, extra: Partial<FakeResource> = {}): FakeResource {
    return { type: T.remote, name, props: { connection: { host: "192.0.2.1", user: "root" }, ...props }, ...extra, opts: { parent: node.urn, ...extra.opts } };
}

const installBody = "IFS= read -r token\nas_root env INSTALL_K3S_VERSION=\"$CHARON_K3S_VERSION\" INSTALL_K3S_EXEC=\"$CHARON_K3S_ROLE\" sh install.sh";

/** The node's install step: the token on stdin from a RandomPassword, only stderr logged. */
export function k3sInstall(node: FakeResource = k3sNode()): FakeResource {
    const text = scriptText({ CHARON_HOST: node.props.node }, installBody);
    return stepOf(node, node.props.steps.install, { create: text, update: text, stdin: "generated-token", logging: "stderr" }, { dependsOn: ["charon-token"] });
}

export const tokenPassword = (): FakeResource => ({ type: T.password, name: "charon-token", props: { length: 48, special: false } });

/** The first server's step that prints the kubeconfig: stdout secret, only stderr logged. */
export function kubeconfigReader(node: FakeResource = k3sNode()): FakeResource {
    const text = scriptText({ CHARON_HOST: node.props.node }, "KUBECONFIG_FILE=/etc/rancher/k3s/k3s.yaml\nas_root cat \"${ROOT}${KUBECONFIG_FILE}\"");
    return stepOf(node, node.props.steps.kubeconfig, { create: text, update: text, logging: "stderr" }, { opts: { additionalSecretOutputs: ["stdout"] } });
}

export function serviceMonitor(name: string, endpoint: Record<string, any>, matchLabels: Record<string, string>): FakeResource {
    return {
        type: T.serviceMonitor,
        name,
        props: { metadata: { name, namespace: "monitoring" }, spec: { selector: { matchLabels }, endpoints: [endpoint] } },
    };
}

export const numaflowVertexLabels = {
    "app.kubernetes.io/component": "vertex",
    "app.kubernetes.io/managed-by": "vertex-controller",
    "app.kubernetes.io/part-of": "numaflow",
};
