/**
 * Grafana (grafana chart from the grafana-community repository): admin credentials from an existing Secret, the
 * Mimir datasource with the tenant header, file-provisioned dashboards from a ConfigMap, NodePort service.
 * Keys checked against the chart's values.yaml (admin.existingSecret/userKey/passwordKey, service.nodePort,
 * datasources, dashboardProviders, dashboardsConfigMaps) and templates (service.yaml, _pod.tpl).
 */
import { TENANT_HEADER } from "./mimir";

export const GRAFANA_RELEASE = "grafana";
/** Keys of the admin Secret. */
export const GRAFANA_ADMIN_USER_KEY = "admin-user";
export const GRAFANA_ADMIN_PASSWORD_KEY = "admin-password";
export const GRAFANA_ADMIN_USER = "admin";
/** Dashboard provider name: the chart mounts dashboardsConfigMaps.<provider> at /var/lib/grafana/dashboards/<provider>. */
export const DASHBOARD_PROVIDER = "charon";
/** Datasource name and uid the dashboards select by default. */
export const MIMIR_DATASOURCE_NAME = "Mimir";
export const MIMIR_DATASOURCE_UID = "mimir";

export interface GrafanaValuesOptions {
    /** Name of the Secret holding admin-user / admin-password. */
    adminSecretName: string;
    /** Name of the ConfigMap holding the dashboard JSON files. */
    dashboardsConfigMapName: string;
    /** Prometheus API base URL of Mimir (…/prometheus). */
    queryUrl: string;
    /** Mimir tenant sent as X-Scope-OrgID on every query. */
    tenant: string;
    /** Scrape interval: Grafana's minimum step for the datasource. */
    scrapeInterval: string;
    /** NodePort of the UI (30000–32767). */
    nodePort: number;
}

/** The datasources.yaml provisioning document. */
export function grafanaDatasources(opts: Pick<GrafanaValuesOptions, "queryUrl" | "tenant" | "scrapeInterval">): Record<string, any> {
    return {
        apiVersion: 1,
        datasources: [{
            name: MIMIR_DATASOURCE_NAME,
            uid: MIMIR_DATASOURCE_UID,
            type: "prometheus",
            access: "proxy",
            url: opts.queryUrl,
            isDefault: true,
            editable: false,
            jsonData: {
                httpHeaderName1: TENANT_HEADER,
                httpMethod: "POST",
                prometheusType: "Mimir",
                timeInterval: opts.scrapeInterval,
            },
            secureJsonData: { httpHeaderValue1: opts.tenant },
        }],
    };
}

/** Helm values for the grafana chart. */
export function grafanaValues(opts: GrafanaValuesOptions): Record<string, any> {
    return {
        admin: {
            existingSecret: opts.adminSecretName,
            userKey: GRAFANA_ADMIN_USER_KEY,
            passwordKey: GRAFANA_ADMIN_PASSWORD_KEY,
        },
        service: { type: "NodePort", nodePort: opts.nodePort },
        persistence: { enabled: false },
        testFramework: { enabled: false },
        datasources: { "datasources.yaml": grafanaDatasources(opts) },
        dashboardProviders: {
            "dashboardproviders.yaml": {
                apiVersion: 1,
                providers: [{
                    name: DASHBOARD_PROVIDER,
                    orgId: 1,
                    folder: "Charon",
                    type: "file",
                    disableDeletion: true,
                    editable: false,
                    options: { path: `/var/lib/grafana/dashboards/${DASHBOARD_PROVIDER}` },
                }],
            },
        },
        dashboardsConfigMaps: { [DASHBOARD_PROVIDER]: opts.dashboardsConfigMapName },
        "grafana.ini": {
            analytics: { check_for_updates: false, reporting_enabled: false },
            users: { allow_sign_up: false },
            "auth.anonymous": { enabled: false },
        },
        resources: { requests: { cpu: "100m", memory: "256Mi" } },
    };
}
