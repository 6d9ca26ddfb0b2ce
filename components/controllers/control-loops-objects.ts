/**
 * The Kubernetes objects of one control loop, as pure values: its RBAC (named verbs on named resources, nothing
 * else), its ConfigMap (bundle + config.json), its Deployment on the pinned public Node image, and the one
 * PodMonitor that scrapes every loop.
 */
import { createHash } from "node:crypto";
import type { LoopConfig } from "../../controllers/runtime/config";
import { CONFIG_PATH } from "../../controllers/runtime/config";
import { LOOPS_POD_MONITOR, METRICS_PORT } from "../../controllers/runtime/metric-names";
import { MONITORING_NAMESPACE } from "../monitoring/monitors";

type Obj = Record<string, any>;

/** Where the loop's ConfigMap is mounted; CONFIG_PATH lies inside it. */
export const CODE_DIR = CONFIG_PATH.slice(0, CONFIG_PATH.lastIndexOf("/"));
export const BUNDLE_FILE = "loop.js";
export const CONFIG_FILE = CONFIG_PATH.slice(CONFIG_PATH.lastIndexOf("/") + 1);
export { LOOPS_POD_MONITOR };
/** uid/gid of the `node` user in the official Node images. */
export const NODE_USER_ID = 1000;

/** Labels every loop object carries; `instance` tells the loops apart. */
export function loopLabels(name: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": "charon-loop",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "control-loop",
        "app.kubernetes.io/part-of": "charon",
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/** The name of every object of a loop. */
export function loopObjectName(name: string): string {
    return `charon-loop-${name}`;
}

export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    resourceNames?: string[];
    verbs: string[];
}

/**
 * The loop's permissions in its target's namespace: a Deployment target may read and patch that one Deployment's
 * scale subresource; a pods target may list pods (to find the selected ones; pod names are generated, so they
 * cannot be named) and patch their resize subresource. Nothing else: no get/update of the objects themselves.
 */
export function loopRbacRules(config: LoopConfig): PolicyRule[] {
    if (config.target.kind === "deployment") {
        return [{ apiGroups: ["apps"], resources: ["deployments/scale"], resourceNames: [config.target.name], verbs: ["get", "patch"] }];
    }
    return [
        { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
        { apiGroups: [""], resources: ["pods/resize"], verbs: ["patch"] },
    ];
}

/** config.json as the pod reads it (stable key order, so an unchanged loop renders the same text). */
export function loopConfigJson(config: LoopConfig): string {
    return JSON.stringify(config, null, 2) + "\n";
}

/** Digest of what the pod runs: a change of code or configuration rolls the Deployment. */
export function loopChecksum(code: string, configJson: string): string {
    return createHash("sha256").update(code).update("\u0000").update(configJson).digest("hex");
}

export interface LoopDeploymentOptions {
    namespace: string;
    image: string;
    serviceAccount: string;
    configMap: string;
    checksum: string;
}

/** The loop's Deployment: one replica (never two loops acting at once), unprivileged, read-only, small. */
export function loopDeployment(config: LoopConfig, o: LoopDeploymentOptions): Obj {
    const labels = loopLabels(config.name);
    const probe = { httpGet: { path: "/healthz", port: METRICS_PORT.name }, periodSeconds: 10, timeoutSeconds: 2 };
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: loopObjectName(config.name), namespace: o.namespace, labels },
        spec: {
            replicas: 1,
            strategy: { type: "Recreate" },
            selector: { matchLabels: { "app.kubernetes.io/name": labels["app.kubernetes.io/name"], "app.kubernetes.io/instance": config.name } },
            template: {
                metadata: { labels, annotations: { "charon.io/loop-checksum": o.checksum } },
                spec: {
                    serviceAccountName: o.serviceAccount,
                    automountServiceAccountToken: true,
                    securityContext: {
                        runAsNonRoot: true, runAsUser: NODE_USER_ID, runAsGroup: NODE_USER_ID, seccompProfile: { type: "RuntimeDefault" },
                    },
                    terminationGracePeriodSeconds: 10,
                    containers: [{
                        name: "loop",
                        image: o.image,
                        imagePullPolicy: "IfNotPresent",
                        command: ["node", `${CODE_DIR}/${BUNDLE_FILE}`],
                        env: [
                            { name: "CHARON_LOOP_CONFIG", value: CONFIG_PATH },
                            { name: "NODE_OPTIONS", value: "--max-old-space-size=96" },
                        ],
                        ports: [{ name: METRICS_PORT.name, containerPort: METRICS_PORT.containerPort, protocol: "TCP" }],
                        resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "160Mi" } },
                        livenessProbe: { ...probe, initialDelaySeconds: 30, failureThreshold: 3 },
                        readinessProbe: { ...probe, initialDelaySeconds: 2 },
                        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                        volumeMounts: [{ name: "code", mountPath: CODE_DIR, readOnly: true }],
                    }],
                    volumes: [{ name: "code", configMap: { name: o.configMap } }],
                },
            },
        },
    };
}

/** The PodMonitor scraping every loop in `namespace` at `interval`. */
export function loopsPodMonitor(namespace: string, interval: string): Obj {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: {
            name: LOOPS_POD_MONITOR,
            namespace: MONITORING_NAMESPACE,
            labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "charon" },
        },
        spec: {
            namespaceSelector: { matchNames: [namespace] },
            selector: { matchLabels: { "app.kubernetes.io/name": "charon-loop", "app.kubernetes.io/component": "control-loop" } },
            podMetricsEndpoints: [{ port: METRICS_PORT.name, path: "/metrics", scheme: "http", interval, scrapeTimeout: interval }],
        },
    };
}
