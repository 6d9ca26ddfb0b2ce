import { k3sVersion } from "../components/versions";
import { cpuHint, cpuPattern, dnsLabelHint, dnsLabelPattern, durationHint, durationPattern, quantityHint, quantityPattern } from "./formats";
import { Field, ObjectField } from "./schema-dsl";
import { controllersField, experimentsField, harvestField, workflowsField } from "./schema-workflows";

/** Everything a stack can set, under the Pulumi config namespace `charon`. Defaults here apply to every preset. */

const labelKeyPattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelKeyHint = "a Kubernetes label key such as example.com/zone";
const labelValueField: Field = {
    kind: "string",
    doc: "Label value.",
    pattern: /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/,
    patternHint: "a Kubernetes label value (≤ 63 characters of letters, digits, -, _ and .)",
};

const sshTarget: Record<string, Field> = {
    address: { kind: "string", doc: "Host name or IP address Pulumi connects to (and k3s advertises in its TLS SANs)." },
    port: { kind: "number", integer: true, min: 1, max: 65535, default: 22, doc: "SSH port." },
    user: { kind: "string", default: "root", doc: "SSH user; a non-root user needs passwordless sudo." },
    privateKey: { kind: "string", secret: true, doc: "SSH private key (PEM/OpenSSH). Set with --secret --path. Falls back to `charon:sshPrivateKey`." },
    agentSocket: { kind: "string", doc: "Path of an ssh-agent socket to authenticate with instead of a key." },
    hostKey: { kind: "string", doc: "Expected SSH host public key (pins the host; connection fails on mismatch)." },
};

export const hostField: ObjectField = {
    kind: "object",
    doc: "One machine of the cluster.",
    required: ["name", "role"],
    fields: {
        name: {
            kind: "string", doc: "Unique host name; becomes the Kubernetes node name.",
            pattern: dnsLabelPattern, patternHint: dnsLabelHint,
        },
        role: { kind: "enum", values: ["server", "agent"], doc: "server runs the control plane; agent only runs workloads." },
        local: { kind: "boolean", default: false, doc: "The machine running Pulumi itself (local commands, no SSH)." },
        ...sshTarget,
        bastion: {
            kind: "object", doc: "Optional jump host for SSH.", required: ["address"], optional: true,
            fields: { ...sshTarget },
        },
        gpu: { kind: "enum", values: ["auto", true, false], default: "auto", doc: "GPU node: auto detects with nvidia-smi; true/false force it." },
        labels: {
            kind: "map", values: labelValueField, keyPattern: labelKeyPattern, keyHint: labelKeyHint, default: {},
            doc: "Extra Kubernetes node labels.",
        },
    },
};

export const k3sField: ObjectField = {
    kind: "object",
    doc: "k3s installation.",
    fields: {
        version: {
            kind: "string", default: k3sVersion, doc: "k3s release tag.",
            pattern: /^v1\.[0-9]+\.[0-9]+\+k3s[0-9]+$/, patternHint: "a k3s release tag such as v1.34.2+k3s1",
        },
        clusterCidr: { kind: "string", default: "10.31.0.0/16", doc: "Pod network CIDR." },
        serviceCidr: { kind: "string", default: "10.32.0.0/16", doc: "Service network CIDR." },
        featureGates: {
            kind: "map", values: { kind: "boolean", doc: "Gate on or off." }, default: { InPlacePodVerticalScaling: true },
            keyPattern: /^[A-Z][A-Za-z0-9]+$/, keyHint: "a Kubernetes feature gate name such as InPlacePodVerticalScaling",
            doc: "Feature gates set on kube-apiserver, kube-scheduler and kubelet.",
        },
        disable: {
            kind: "array", default: ["traefik"],
            // local-storage (the ISB's and MinIO's volumes) and coredns (every in-cluster name) are not optional here.
            items: { kind: "enum", values: ["traefik", "servicelb", "metrics-server"], doc: "Add-on." },
            doc: "Packaged k3s add-ons not to deploy (the platform needs local-storage and coredns).",
        },
        extraServerArgs: {
            kind: "map", default: {}, values: { kind: "string", doc: "Value." },
            doc: "Extra k3s server config keys (config.yaml key → value), merged into the drop-in.",
        },
        extraAgentArgs: {
            kind: "map", default: {}, values: { kind: "string", doc: "Value." },
            doc: "Extra k3s agent config keys (config.yaml key → value), merged into the drop-in.",
        },
        airgap: {
            kind: "object", doc: "Air-gapped install: copy these files instead of downloading k3s.", required: ["binary", "installScript"], optional: true,
            fields: {
                binary: { kind: "string", doc: "Path (on the machine running Pulumi) of the k3s binary to install." },
                images: { kind: "string", doc: "Path of the k3s airgap images tarball (optional)." },
                installScript: { kind: "string", doc: "Path of the k3s install.sh of the same release, downloaded beside the binary." },
            },
        },
        apiReadyTimeoutSeconds: {
            kind: "number", integer: true, min: 10, max: 3600, default: 300,
            doc: "How long to wait for the Kubernetes API after installing k3s.",
        },
    },
};

export const monitoringField: ObjectField = {
    kind: "object",
    doc: "Metrics pipeline: Alloy scraper, Grafana Mimir, Grafana.",
    fields: {
        footprint: { kind: "enum", values: ["small", "large"], default: "small", doc: "small: one replica per Mimir component; large: replicated for clusters." },
        retention: { kind: "string", default: "15d", pattern: durationPattern, patternHint: durationHint, doc: "How long Mimir keeps samples." },
        storageSize: { kind: "string", default: "10Gi", pattern: quantityPattern, patternHint: quantityHint, doc: "MinIO volume size for Mimir blocks." },
        scrapeInterval: { kind: "string", default: "5s", pattern: durationPattern, patternHint: durationHint, doc: "General scrape interval." },
        rapidScrapeInterval: { kind: "string", default: "2s", pattern: durationPattern, patternHint: durationHint, doc: "Scrape interval for workload, DCGM and controller metrics." },
        tenant: {
            kind: "string", default: "charon", pattern: /^[A-Za-z0-9!._*'()-]{1,150}$/, patternHint: "a Mimir tenant ID (letters, digits, !._*'()-)",
            doc: "Mimir tenant (X-Scope-OrgID) written and queried.",
        },
        grafanaNodePort: { kind: "number", integer: true, min: 30000, max: 32767, default: 30080, doc: "NodePort of the Grafana UI." },
    },
};

export const numaflowField: ObjectField = {
    kind: "object",
    doc: "Numaflow controller and its JetStream inter-step buffer (ISB).",
    fields: {
        isb: {
            kind: "object",
            doc: "The InterStepBufferService `default`.",
            fields: {
                replicas: { kind: "enum", values: [1, 3], default: 1, doc: "JetStream servers (1 or 3; Numaflow rejects 2)." },
                retention: { kind: "enum", values: ["Limits", "Interest", "WorkQueue"], default: "WorkQueue", doc: "Stream retention policy." },
                storage: { kind: "enum", values: ["File", "Memory"], default: "Memory", doc: "Stream storage." },
                maxMsgs: { kind: "number", integer: true, min: -1, default: 50000, doc: "Max messages per stream (-1 unlimited)." },
                maxAge: { kind: "string", default: "1h", pattern: durationPattern, patternHint: durationHint, doc: "Max message age." },
                maxBytes: { kind: "number", integer: true, min: -1, default: -1, doc: "Max stream bytes (-1 unlimited)." },
                duplicates: { kind: "string", default: "0s", pattern: durationPattern, patternHint: durationHint, doc: "Duplicate-detection window." },
                volumeSize: { kind: "string", default: "3Gi", pattern: quantityPattern, patternHint: quantityHint, doc: "Persistent volume per JetStream server." },
                storageMode: {
                    kind: "enum", values: ["local-path", "local-volumes"], default: "local-path",
                    doc: "local-path: k3s's provisioner; local-volumes: pre-created local PersistentVolumes per node.",
                },
                hostPath: { kind: "string", default: "/var/lib/charon/numaflow", pattern: /^\/[^\s]*$/, patternHint: "an absolute path", doc: "Host directory for local-volumes." },
                cpu: { kind: "string", default: "500m", pattern: cpuPattern, patternHint: cpuHint, doc: "CPU request of each JetStream container." },
                memory: { kind: "string", default: "1Gi", pattern: quantityPattern, patternHint: quantityHint, doc: "Memory request and limit of each JetStream container." },
            },
        },
    },
};

export const gpuField: ObjectField = {
    kind: "object",
    doc: "NVIDIA device plugin and DCGM exporter.",
    fields: {
        stack: { kind: "enum", values: ["auto", "on", "off"], default: "auto", doc: "auto installs the GPU stack when some host has (or may have) a GPU." },
    },
};

export const chartsField: ObjectField = {
    kind: "object",
    doc: "Where the platform's Helm charts come from.",
    fields: {
        source: {
            kind: "string", default: "upstream",
            pattern: /^(upstream|https?:\/\/[^\s/]+(\/\S*)?|\/\S*)$/,
            patternHint: "\"upstream\", the http(s) URL of a Helm repository, or an absolute directory of chart archives",
            doc: "upstream: each chart's own repository; an http(s) URL: one Helm repository (index.yaml) holding every pinned chart; an absolute directory: the archives `<chart>-<version>.tgz` as `helm pull` writes them.",
        },
    },
};

export const rootField: ObjectField = {
    kind: "object",
    doc: "Charon stack settings (config namespace `charon`).",
    fields: {
        preset: { kind: "enum", values: ["dev", "gpu-node", "cluster"], default: "dev", doc: "Named defaults: dev, gpu-node or cluster." },
        hosts: { kind: "array", items: hostField, minItems: 1, doc: "The machines; the preset supplies them for dev." },
        sshPrivateKey: { kind: "string", secret: true, doc: "Default SSH private key for remote hosts (secret)." },
        k3s: k3sField,
        monitoring: monitoringField,
        numaflow: numaflowField,
        gpu: gpuField,
        charts: chartsField,
        workflows: workflowsField,
        experiments: experimentsField,
        harvest: harvestField,
        controllers: controllersField,
    },
};
