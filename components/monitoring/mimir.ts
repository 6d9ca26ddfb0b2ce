/**
 * Grafana Mimir (mimir-distributed chart) in the classic architecture: distributors push straight to ingesters,
 * no Kafka; MinIO holds the blocks. Keys checked against the chart's values.yaml and classic-architecture.yaml.
 */
import { MONITORING_NAMESPACE } from "./monitors";

/** Helm release name; the chart's fullname is then "mimir", so Services are mimir-gateway, mimir-distributor… */
export const MIMIR_RELEASE = "mimir";
/** The gateway Service (nginx in front of every Mimir component) and its port. */
export const MIMIR_GATEWAY_SERVICE = `${MIMIR_RELEASE}-gateway`;
export const MIMIR_GATEWAY_PORT = 80;

/** In-cluster base URL of the gateway, with namespace and port so it also works through the API server's service proxy. */
export function mimirGatewayUrl(namespace: string = MONITORING_NAMESPACE): string {
    return `http://${MIMIR_GATEWAY_SERVICE}.${namespace}.svc.cluster.local:${MIMIR_GATEWAY_PORT}`;
}

/** Prometheus-compatible query API base (Grafana datasource, harvester, Numaflow UI). */
export function mimirQueryUrl(namespace: string = MONITORING_NAMESPACE): string {
    return `${mimirGatewayUrl(namespace)}/prometheus`;
}

/** Remote-write endpoint (Alloy). */
export function mimirPushUrl(namespace: string = MONITORING_NAMESPACE): string {
    return `${mimirGatewayUrl(namespace)}/api/v1/push`;
}

/** The header Mimir reads the tenant from. */
export const TENANT_HEADER = "X-Scope-OrgID";

import type { Footprint } from "./settings";

export interface MimirValuesOptions {
    footprint: Footprint;
    /** How long Mimir keeps blocks (compactor_blocks_retention_period), e.g. "15d". */
    retention: string;
    /** MinIO volume size, e.g. "10Gi". */
    storageSize: string;
    /** MinIO root password (a secret; also ends up in Mimir's S3 client config). */
    minioPassword: string;
}

/** Replica counts per Mimir component for each footprint. */
export const MIMIR_REPLICAS: Record<Footprint, Record<string, number>> = {
    small: { distributor: 1, ingester: 1, querier: 1, query_frontend: 1, query_scheduler: 1, store_gateway: 1, compactor: 1, gateway: 1 },
    large: { distributor: 2, ingester: 3, querier: 2, query_frontend: 2, query_scheduler: 2, store_gateway: 3, compactor: 1, gateway: 2 },
};

const requests = (cpu: string, memory: string) => ({ resources: { requests: { cpu, memory } } });

/** Helm values for mimir-distributed. */
export function mimirValues(opts: MimirValuesOptions): Record<string, any> {
    const small = opts.footprint === "small";
    const replicas = MIMIR_REPLICAS[opts.footprint];
    // One replica cannot satisfy the default replication factor of 3.
    const replicationFactor = small ? 1 : 3;
    const cache = (enabled: boolean, allocatedMemory: number) => ({ enabled, ...(enabled ? { replicas: 1, allocatedMemory } : {}) });
    return {
        // The rendered Mimir config carries the MinIO secret key: store it as a Secret, not the chart's ConfigMap.
        configStorageType: "Secret",
        // Classic architecture (the chart's classic-architecture.yaml): no Kafka, no ingest storage.
        kafka: { enabled: false },
        mimir: {
            structuredConfig: {
                ingest_storage: { enabled: false, kafka: { address: null, topic: null, auto_create_topic_default_partitions: null } },
                distributor: { remote_timeout: null },
                ingester: { push_grpc_method_enabled: null, ring: { replication_factor: replicationFactor } },
                store_gateway: { sharding_ring: { replication_factor: replicationFactor } },
                limits: {
                    compactor_blocks_retention_period: opts.retention,
                    // 2–5 s scrapes of cAdvisor, exporters and pipelines exceed the default 10k samples/s.
                    ingestion_rate: 100000,
                    ingestion_burst_size: 1000000,
                    max_global_series_per_user: 1000000,
                },
            },
        },
        minio: {
            enabled: true,
            mode: "standalone",
            rootUser: "mimir",
            rootPassword: opts.minioPassword,
            persistence: { size: opts.storageSize },
            resources: { requests: { cpu: "100m", memory: small ? "256Mi" : "1Gi" } },
        },
        // No alerting in this platform; the rollout operator only serves zone-aware rollouts.
        alertmanager: { enabled: false },
        ruler: { enabled: false },
        overrides_exporter: { enabled: false },
        rollout_operator: { enabled: false },
        gateway: { enabledNonEnterprise: true, replicas: replicas.gateway },
        distributor: { replicas: replicas.distributor, ...requests("100m", small ? "256Mi" : "512Mi") },
        ingester: {
            replicas: replicas.ingester,
            zoneAwareReplication: { enabled: false },
            ...requests(small ? "100m" : "500m", small ? "512Mi" : "2Gi"),
        },
        querier: { replicas: replicas.querier, ...requests("100m", small ? "256Mi" : "512Mi") },
        query_frontend: { replicas: replicas.query_frontend, ...requests("100m", "128Mi") },
        query_scheduler: { replicas: replicas.query_scheduler, ...requests("50m", "64Mi") },
        store_gateway: {
            replicas: replicas.store_gateway,
            zoneAwareReplication: { enabled: false },
            ...requests("100m", small ? "256Mi" : "512Mi"),
        },
        compactor: { replicas: replicas.compactor, ...requests("100m", small ? "256Mi" : "512Mi") },
        // Memcached caches: off on one node (the chunks cache alone defaults to 8 GiB), modest on clusters.
        "chunks-cache": cache(!small, 1024),
        "index-cache": cache(!small, 512),
        "metadata-cache": cache(!small, 256),
        "results-cache": cache(!small, 256),
    };
}
