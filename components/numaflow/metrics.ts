/**
 * The Numaflow UI's metrics tab, pointed at Mimir.
 *
 * How numaflow-server reads it: at start-up it loads /etc/numaflow/metrics-proxy/config.yaml (ConfigMap
 * numaflow-server-metrics-proxy-config, key config.yaml), takes `url` and the query `patterns`, and builds a plain
 * Prometheus API client for that URL. The client sends no custom headers, and the chart (0.4.x) writes the
 * ConfigMap without a URL. So:
 *   - the ConfigMap's config.yaml is replaced (server-side apply patch) with a URL and the patterns below, and the
 *     server Deployment's pod template gets a digest annotation so it restarts and re-reads it;
 *   - the URL is a small in-cluster gateway (nginx) that forwards to Mimir's Prometheus API and adds the tenant
 *     header X-Scope-OrgID. It resolves Mimir per request, so it starts (and Pulumi proceeds) before Mimir exists.
 */
import * as yaml from "js-yaml";

/** Where the chart mounts the metrics proxy config and what it names things (numaflow chart 0.4.x). */
export const numaflowServer = {
    deployment: "numaflow-server",
    service: "numaflow-server",
    port: 8443,
    metricsProxyConfigMap: "numaflow-server-metrics-proxy-config",
    metricsProxyConfigKey: "config.yaml",
} as const;

/** The tenant gateway's name and port. */
export const metricsGateway = { name: "numaflow-metrics-gateway", port: 8080 } as const;

/**
 * The URL with an in-cluster service host made fully qualified (nginx's resolver does not apply search domains):
 * `svc.ns` and `svc.ns.svc` gain the cluster domain; IPs and other names are kept. Trailing slashes are dropped.
 */
export function fullyQualifiedServiceUrl(url: string, clusterDomain = "cluster.local"): string {
    const u = new URL(url);
    const host = u.hostname;
    const labels = host.split(".");
    const isIp = /^\d+(\.\d+){3}$/.test(host) || host.includes(":");
    if (!isIp) {
        if (labels.length === 1) {
            throw new Error(`metrics query URL ${url}: use a namespace-qualified service host (service.namespace[.svc])`);
        }
        if (labels.length === 2) {
            u.hostname = `${host}.svc.${clusterDomain}`;
        } else if (labels.length === 3 && labels[2] === "svc") {
            u.hostname = `${host}.${clusterDomain}`;
        }
    }
    return u.toString().replace(/\/+$/, "");
}

/**
 * The gateway's nginx server block, as a template for the image's entrypoint: only ${NGINX_LOCAL_RESOLVERS} is
 * substituted (the pod's DNS servers); `$upstream` and `$request_uri` are nginx variables. The tenant is a
 * validated Mimir tenant ID (monitoring settings: no quotes, spaces or semicolons).
 */
export function gatewayNginxTemplate(upstreamUrl: string, tenant: string, port: number = metricsGateway.port): string {
    if (/["\s;{}$\\]/.test(upstreamUrl)) {
        throw new Error(`metrics query URL ${JSON.stringify(upstreamUrl)} contains characters not allowed in the gateway config`);
    }
    return [
        "# Numaflow UI metrics gateway: forwards Prometheus API queries to Mimir with the tenant header.",
        "server {",
        `    listen ${port};`,
        "    resolver ${NGINX_LOCAL_RESOLVERS} valid=30s ipv6=off;",
        "    location = /healthz {",
        "        access_log off;",
        "        return 200 \"ok\\n\";",
        "    }",
        "    location / {",
        `        set $upstream "${upstreamUrl}";`,
        "        proxy_pass $upstream$request_uri;",
        `        proxy_set_header X-Scope-OrgID "${tenant}";`,
        "        proxy_read_timeout 60s;",
        "    }",
        "}",
        "",
    ].join("\n");
}

/** A query pattern of numaflow-server's metrics config (its PatternData shape). */
export interface MetricsPattern {
    name: string;
    objects: ("vertex" | "mono-vertex")[];
    title: string;
    description: string;
    expr: string;
    params: { name: string; required: boolean }[];
    metrics: {
        metric_name: string;
        display_name: string;
        metric_description: string;
        required_filters: string[];
        dimensions: { name: string; filters?: { name: string; required: boolean }[] }[];
    }[];
}

const timeParams = [{ name: "start_time", required: false }, { name: "end_time", required: false }];
const vertexFilters = ["namespace", "pipeline", "vertex"];
const byPod = { name: "pod", filters: [{ name: "pod", required: false }] };

/**
 * The charts the UI offers: pending messages and read/write/ack rates per vertex or pod, from the Numaflow
 * metrics the platform's monitors scrape.
 */
export const metricsPatterns: MetricsPattern[] = [
    {
        name: "vertex_gauge",
        objects: ["vertex"],
        title: "Vertex pending messages",
        description: "Messages waiting in a vertex's input buffer",
        expr: "sum($metric_name{$filters}) by ($dimension, period)",
        params: timeParams,
        metrics: [{
            metric_name: "vertex_pending_messages",
            display_name: "Pending messages",
            metric_description: "Messages not yet processed, by look-back period",
            required_filters: vertexFilters,
            dimensions: [
                { name: "vertex", filters: [{ name: "period", required: false }] },
                { name: "pod", filters: [{ name: "pod", required: false }, { name: "period", required: false }] },
            ],
        }],
    },
    {
        name: "vertex_throughput",
        objects: ["vertex"],
        title: "Vertex message rates",
        description: "Messages per second read, written and acknowledged by a vertex",
        expr: "sum(rate($metric_name{$filters}[$duration])) by ($dimension)",
        params: [{ name: "duration", required: true }, ...timeParams],
        metrics: ([
            ["forwarder_read_total", "Read rate", "Messages read per second"],
            ["forwarder_write_total", "Write rate", "Messages written to the next buffer per second"],
            ["forwarder_ack_total", "Ack rate", "Messages acknowledged per second"],
        ] as const).map(([metric, display, description]) => ({
            metric_name: metric,
            display_name: display,
            metric_description: description,
            required_filters: vertexFilters,
            dimensions: [{ name: "vertex" }, byPod],
        })),
    },
];

/** numaflow-server's config.yaml: the gateway URL and the patterns. */
export function metricsProxyConfigYaml(url: string, patterns: MetricsPattern[] = metricsPatterns): string {
    return yaml.dump({ url, patterns }, { lineWidth: -1, noRefs: true });
}

/** In-cluster URL of the gateway Service in `namespace`. */
export function gatewayUrl(namespace: string): string {
    return `http://${metricsGateway.name}.${namespace}.svc:${metricsGateway.port}`;
}

/**
 * How a user reaches the UI without a NodePort: forward the numaflow-server Service to the workstation with the
 * stack's kubeconfig (the API server authenticates the user; nothing is exposed on the nodes), then open
 * uiLocalUrl. The server serves HTTPS with a self-signed certificate. (The API server's service proxy under
 * `kubectl proxy` is not used: it strips its path prefix while the UI loads its assets and API from absolute
 * paths, which would land on the API server itself.)
 */
export function uiPortForwardCommand(namespace: string, localPort: number = numaflowServer.port): string {
    return `kubectl -n ${namespace} port-forward svc/${numaflowServer.service} ${localPort}:${numaflowServer.port}`;
}

export function uiLocalUrl(localPort: number = numaflowServer.port): string {
    return `https://localhost:${localPort}/`;
}
