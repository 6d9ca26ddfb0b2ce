/** The monitoring layer: metrics CRDs, Mimir, Alloy, exporters, Grafana and the platform's monitors. */
export * from "./monitoring-stack";
export * from "./monitors";
export * from "./mimir";
export * from "./alloy";
export * from "./grafana";
export * from "./exporters";
