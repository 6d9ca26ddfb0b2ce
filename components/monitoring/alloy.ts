/**
 * Grafana Alloy, the scraper: one Deployment replica that honours every ServiceMonitor and PodMonitor in the
 * cluster, scrapes each kubelet's cAdvisor endpoint itself, and remote-writes everything to Mimir with the tenant
 * header. Keys checked against the alloy chart's values.yaml (alloy.configMap.content, controller.type/replicas).
 */
import { CADVISOR_JOB } from "./monitors";
import { TENANT_HEADER } from "./mimir";

export const ALLOY_RELEASE = "alloy";

export interface AlloyConfigOptions {
    /** Mimir remote-write URL (…/api/v1/push). */
    pushUrl: string;
    /** Mimir tenant, sent as X-Scope-OrgID. */
    tenant: string;
    /** General scrape interval (monitors without their own interval, cAdvisor), e.g. "5s". */
    scrapeInterval: string;
}

/** Quotes a string for the Alloy configuration syntax. */
export function alloyString(value: string): string {
    return JSON.stringify(value);
}

/** The Alloy configuration text (River/Alloy syntax). */
export function alloyConfig(opts: AlloyConfigOptions): string {
    const interval = alloyString(opts.scrapeInterval);
    return `// Managed by Pulumi (charon monitoring stack): edits here are overwritten.

// Everything scraped goes to Mimir under the stack's tenant.
prometheus.remote_write "mimir" {
  endpoint {
    url = ${alloyString(opts.pushUrl)}
    headers = {
      ${alloyString(TENANT_HEADER)} = ${alloyString(opts.tenant)},
    }
  }
}

// Every ServiceMonitor and PodMonitor in every namespace; their own intervals win over these defaults.
prometheus.operator.servicemonitors "cluster" {
  forward_to = [prometheus.remote_write.mimir.receiver]
  scrape {
    default_scrape_interval = ${interval}
    default_scrape_timeout  = ${interval}
  }
}

prometheus.operator.podmonitors "cluster" {
  forward_to = [prometheus.remote_write.mimir.receiver]
  scrape {
    default_scrape_interval = ${interval}
    default_scrape_timeout  = ${interval}
  }
}

// Kubelet cAdvisor (container_* series) on every node, straight from the kubelet's port.
discovery.kubernetes "nodes" {
  role = "node"
}

discovery.relabel "cadvisor" {
  targets = discovery.kubernetes.nodes.targets
  rule {
    source_labels = ["__meta_kubernetes_node_name"]
    target_label  = "node"
  }
}

prometheus.scrape "cadvisor" {
  job_name          = ${alloyString(CADVISOR_JOB.name)}
  targets           = discovery.relabel.cadvisor.output
  scheme            = "https"
  metrics_path      = "/metrics/cadvisor"
  scrape_interval   = ${interval}
  scrape_timeout    = ${interval}
  bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token"
  // k3s signs each kubelet's serving certificate (node name and IPs as SANs) with the cluster's server CA, the
  // same CA every service account sees: verify against it instead of skipping verification.
  tls_config {
    ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
  }
  forward_to = [prometheus.remote_write.mimir.receiver]
}
`;
}

/** Helm values for the alloy chart. */
export function alloyValues(configText: string): Record<string, any> {
    return {
        alloy: {
            configMap: { create: true, content: configText },
            clustering: { enabled: false },
            enableReporting: false,
            resources: { requests: { cpu: "100m", memory: "256Mi" } },
        },
        // One scraper: a DaemonSet would scrape every target once per node (no clustering).
        controller: { type: "deployment", replicas: 1 },
        // The chart's own CRDs (PodLogs) are not used; the prometheus-operator CRDs come from their own release.
        crds: { create: false },
    };
}
