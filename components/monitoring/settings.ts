/** The monitoring layer's settings model (`charon:monitoring`): Mimir, the scrapers' intervals, Grafana. */
import { Duration, Enum, Integer, Memory, type Static, Type } from "../../model/schema";

/** A Mimir tenant ID (X-Scope-OrgID): letters, digits and !-_.*'(), not "." or "..". */
export const tenantPattern = "^(?!\\.{1,2}$)[A-Za-z0-9!._*'()-]{1,150}$";

export const MonitoringSettingsSchema = Type.Object({
    footprint: Enum(["small", "large"] as const, {
        default: "small", description: "small: one replica per Mimir component; large: replicated for clusters.",
    }),
    retention: Duration({ default: "15d", description: "How long Mimir keeps samples." }),
    storageSize: Memory({ default: "10Gi", description: "MinIO volume size for Mimir blocks." }),
    scrapeInterval: Duration({ default: "5s", description: "General scrape interval." }),
    rapidScrapeInterval: Duration({ default: "2s", description: "Scrape interval for workload, DCGM and controller metrics." }),
    tenant: Type.String({
        default: "charon", pattern: tenantPattern, hint: "a Mimir tenant ID (letters, digits, !._*'()-)",
        description: "Mimir tenant (X-Scope-OrgID) written and queried.",
    }),
    grafanaNodePort: Integer({ minimum: 30000, maximum: 32767, default: 30080, description: "NodePort of the Grafana UI." }),
}, { additionalProperties: false, default: {}, description: "Metrics pipeline: Alloy scraper, Grafana Mimir, Grafana." });

export type MonitoringSettings = Static<typeof MonitoringSettingsSchema>;
export type Footprint = MonitoringSettings["footprint"];
