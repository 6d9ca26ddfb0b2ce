/**
 * Hand-built resources shaped like what the platform registers, compliant with every rule; tests derive violating
 * variants from them with small, named changes.
 */
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

export const serverConfig = [
    "node-name: \"s1\"",
    "token-file: \"/etc/rancher/k3s/charon-token\"",
    "write-kubeconfig-mode: \"0600\"",
    "cluster-cidr: \"10.31.0.0/16\"",
    "kube-apiserver-arg:",
    "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
    "kube-scheduler-arg:",
    "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
    "kubelet-arg:",
    "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
    "",
].join("\n");

const installBody = "IFS= read -r token\nas_root env INSTALL_K3S_VERSION=\"$CHARON_K3S_VERSION\" INSTALL_K3S_EXEC=\"$CHARON_K3S_ROLE\" sh install.sh";

/** A k3s server install: config.yaml with mode 0600 and the gate, token on stdin from a RandomPassword. */
export function k3sInstall(opts: { version?: string; config?: string; role?: "server" | "agent" } = {}): FakeResource {
    const text = scriptText({
        CHARON_HOST: "s1",
        CHARON_K3S_ROLE: opts.role ?? "server",
        CHARON_K3S_VERSION: opts.version ?? "v1.34.2+k3s1",
        CHARON_K3S_CONFIG: opts.config ?? serverConfig,
    }, installBody);
    return {
        type: T.remote,
        name: "charon-s1-install",
        props: { connection: { host: "192.0.2.1", user: "root" }, create: text, update: text, stdin: "generated-token", logging: "stderr" },
        dependsOn: ["charon-token"],
    };
}

export const tokenPassword = (): FakeResource => ({ type: T.password, name: "charon-token", props: { length: 48, special: false } });

/** The command that prints the kubeconfig: stdout secret, only stderr logged. */
export function kubeconfigReader(): FakeResource {
    const text = scriptText({ CHARON_HOST: "s1" }, "KUBECONFIG_FILE=/etc/rancher/k3s/k3s.yaml\nas_root cat \"${ROOT}${KUBECONFIG_FILE}\"");
    return {
        type: T.remote,
        name: "charon-s1-kubeconfig",
        props: { connection: { host: "192.0.2.1" }, create: text, update: text, logging: "stderr" },
        opts: { additionalSecretOutputs: ["stdout"] },
    };
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
