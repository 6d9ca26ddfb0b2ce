/** Value formats shared by the settings schemas: each pattern with the hint shown when a value does not match. */

export const durationPattern = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
export const durationHint = "a duration such as 30s, 5m, 1h or 15d";
export const quantityPattern = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
export const quantityHint = "a Kubernetes quantity such as 512Mi or 3Gi";
export const cpuPattern = /^([0-9]+m|[0-9]+(\.[0-9]+)?)$/;
export const cpuHint = "a CPU quantity such as 500m or 2";
export const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const dnsLabelHint = "a DNS label (lower-case letters, digits, -)";
