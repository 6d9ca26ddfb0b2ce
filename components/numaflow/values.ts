/**
 * Helm values of the Numaflow chart and the tenant gateway's Kubernetes objects. Pure builders, tested directly.
 * Chart keys checked against numaproj/helm-charts charts/numaflow/values.yaml (0.4.x and later).
 */
import { metricsGateway } from "./metrics";

/** Namespace of the Numaflow controller, UI server and metrics gateway. */
export const NUMAFLOW_SYSTEM_NAMESPACE = "numaflow-system";

/**
 * Chart values: images are pulled once and reused (the chart defaults to `Always`, which breaks restarts on an
 * offline node); authentication stays disabled (the UI is reached through the API server's authenticated proxy).
 */
export function numaflowChartValues(): Record<string, any> {
    return {
        numaflow: { image: { pullPolicy: "IfNotPresent" } },
        dexServer: { image: { pullPolicy: "IfNotPresent" } },
        server: { configs: { authDisable: "true" } },
    };
}

const gatewayLabels = {
    "app.kubernetes.io/name": metricsGateway.name,
    "app.kubernetes.io/component": "metrics-gateway",
    "app.kubernetes.io/part-of": "charon",
};

export interface GatewayObjectsInput {
    namespace: string;
    image: string;
    /** Name of the ConfigMap holding `default.conf.template`. */
    configMapName: string;
    /** Digest of the template: a change rolls the pods. */
    configDigest: string;
}

/** The gateway Deployment: unprivileged nginx, read-only config, small requests. */
export function gatewayDeploymentObject(i: GatewayObjectsInput): Record<string, any> {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: metricsGateway.name, namespace: i.namespace, labels: gatewayLabels },
        spec: {
            replicas: 1,
            selector: { matchLabels: { "app.kubernetes.io/name": metricsGateway.name } },
            template: {
                metadata: { labels: gatewayLabels, annotations: { "charon.io/config-digest": i.configDigest } },
                spec: {
                    automountServiceAccountToken: false,
                    securityContext: { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, seccompProfile: { type: "RuntimeDefault" } },
                    containers: [{
                        name: "nginx",
                        image: i.image,
                        imagePullPolicy: "IfNotPresent",
                        env: [
                            { name: "NGINX_ENTRYPOINT_LOCAL_RESOLVERS", value: "1" },
                            { name: "NGINX_ENVSUBST_FILTER", value: "NGINX_LOCAL_RESOLVERS" },
                        ],
                        ports: [{ name: "http", containerPort: metricsGateway.port, protocol: "TCP" }],
                        readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
                        livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 30 },
                        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                        volumeMounts: [{ name: "templates", mountPath: "/etc/nginx/templates", readOnly: true }],
                    }],
                    volumes: [{ name: "templates", configMap: { name: i.configMapName } }],
                },
            },
        },
    };
}

/** The gateway's ClusterIP Service. */
export function gatewayServiceObject(namespace: string): Record<string, any> {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: metricsGateway.name, namespace, labels: gatewayLabels },
        spec: {
            type: "ClusterIP",
            selector: { "app.kubernetes.io/name": metricsGateway.name },
            ports: [{ name: "http", port: metricsGateway.port, targetPort: "http", protocol: "TCP" }],
        },
    };
}
