/** The cluster layer: k3s on one or many hosts, over SSH or locally. */
export { K3sCluster, nodeConfigInput, sshConnection } from "./k3s-cluster";
export type { K3sClusterArgs } from "./k3s-cluster";
export { parseGpuCount, reachableAddress, rewriteKubeconfigServer, apiServerUrl } from "./host-facts";
export type { NodeFacts } from "./host-facts";
export { renderK3sConfig, renderDropIn, featureGatesArg, nodeLabels } from "./k3s-config";
export type { K3sNodeConfigInput, RenderedK3sConfig } from "./k3s-config";
export { planCluster, criticalPath, stepId } from "./plan";
export type { ClusterPlan, PlanStep, PlannerHost } from "./plan";
export { renderScriptCommand, renderScriptEnvironment } from "./script";
export type { ScriptName } from "./script";
export * from "./commands";
export type { PortRule } from "./constants";
