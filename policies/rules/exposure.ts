/**
 * Exposure: what the cluster opens to the network. NodePorts only from an allowed list (by default Grafana's), and
 * TLS verification skipped only where Numaflow serves metrics with its self-signed certificate.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { Type } from "../../model/schema";
import { ruleConfig } from "./config";
import { Props, commandTexts, commandTypes, helmTypes, isK3sNode, isObject, known, knownEntries, types } from "./kinds";

const exposedTypes = new Set(["NodePort", "LoadBalancer"]);

/** A NodePort found in Helm values: where, and the port (undefined: left to Kubernetes to pick). */
export interface ValuesNodePort {
    path: string;
    port: number | undefined;
}

/** Walks Helm values for service blocks of type NodePort/LoadBalancer and the node ports they pin. */
export function nodePortsInValues(values: unknown, path = "values"): ValuesNodePort[] {
    const out: ValuesNodePort[] = [];
    if (Array.isArray(values)) {
        values.forEach((v, i) => out.push(...nodePortsInValues(v, `${path}[${i}]`)));
        return out;
    }
    if (!isObject(values)) {
        return out;
    }
    const type = known(() => values.type, undefined);
    if (typeof type === "string" && exposedTypes.has(type)) {
        const single = known(() => values.nodePort, undefined);
        const many = known(() => values.nodePorts, undefined);
        if (single !== undefined && single !== null && single !== "") {
            out.push({ path: `${path}.nodePort`, port: Number(single) });
        } else if (isObject(many)) {
            for (const [k, v] of knownEntries(many)) {
                out.push({ path: `${path}.nodePorts.${k}`, port: v === null || v === "" ? undefined : Number(v) });
            }
        } else {
            out.push({ path: `${path}.type`, port: undefined });
        }
    }
    for (const [key, value] of knownEntries(values)) {
        if (isObject(value) || Array.isArray(value)) {
            out.push(...nodePortsInValues(value, `${path}.${key}`));
        }
    }
    return out;
}

/** Kubernetes' NodePort range. */
export const nodePortRange = { min: 30000, max: 32767 };

const nodePortConfig = ruleConfig(Type.Object({
    allowedNodePorts: Type.Array(Type.Integer({ minimum: nodePortRange.min, maximum: nodePortRange.max }), {
        default: [30080],
        description: "NodePorts a Service may open (set to the stack's charon:monitoring.grafanaNodePort and any other deliberate exposure).",
    }),
}));

/** The NodePort-range ports among `port` or `port/protocol` entries. */
function nodeRangePorts(ports: (string | number)[]): number[] {
    const found = ports.map((p) => Number(String(p).split("/")[0]));
    return [...new Set(found.filter((p) => p >= nodePortRange.min && p <= nodePortRange.max))].sort((a, b) => a - b);
}

/**
 * NodePort-range ports a hand-written command opens in the host firewall (firewall-cmd, ufw or iptables arguments).
 * Text on purpose: anyone may write such a line into any command; charon's own firewall is its K3sNodes' facts.
 */
export function firewallNodePorts(texts: string[]): number[] {
    const found = texts.flatMap((t) => [
        ...t.matchAll(/--add-port[= ](\d+)/g),
        ...t.matchAll(/\bufw\s+allow\s+(\d+)/g),
        ...t.matchAll(/--dport\s+(\d+)/g),
    ]);
    return nodeRangePorts(found.map((m) => m[1]));
}

export const nodePortAllowlist: ResourceValidationPolicy = {
    name: "nodeport-allowlist",
    description: "Services, Helm values and host firewalls open NodePorts only from the allowed list (default: Grafana's 30080).",
    enforcementLevel: "mandatory",
    configSchema: nodePortConfig.schema,
    validateResource: (args, report) => {
        const allowed = new Set(nodePortConfig.read(args).allowedNodePorts);
        const fix = `Use a ClusterIP Service (reach it with kubectl port-forward or through Grafana), or add the port to this policy's ` +
            `allowedNodePorts (now ${[...allowed].join(", ") || "empty"}) if it must be reachable from outside.`;
        if (args.type === types.service) {
            const spec: Props = args.props.spec ?? {};
            if (!exposedTypes.has(String(spec.type))) {
                return;
            }
            for (const port of (spec.ports ?? []) as Props[]) {
                const label = `Service ${args.props.metadata?.name ?? args.name} port ${port?.name ?? port?.port}`;
                if (port?.nodePort === undefined || port.nodePort === null) {
                    report(`${label} is a ${spec.type} without a fixed nodePort, so Kubernetes opens a random one on every node. ${fix}`);
                } else if (!allowed.has(Number(port.nodePort))) {
                    report(`${label} opens NodePort ${port.nodePort} on every node. ${fix}`);
                }
            }
            return;
        }
        if (isK3sNode(args)) {
            for (const port of nodeRangePorts(args.props.firewall.openPorts).filter((p) => !allowed.has(p))) {
                report(`Host ${args.props.node} opens NodePort ${port} in the host firewall. ${fix}`);
            }
            return;
        }
        if (commandTypes.includes(args.type)) {
            for (const port of firewallNodePorts(commandTexts(args.props)).filter((p) => !allowed.has(p))) {
                report(`The command opens NodePort ${port} in the host firewall. ${fix}`);
            }
            return;
        }
        if (helmTypes.includes(args.type)) {
            const values = known(() => args.props.values, undefined);
            for (const f of nodePortsInValues(values)) {
                if (f.port === undefined) {
                    report(`Helm values ${f.path} exposes a Service without a fixed nodePort, so Kubernetes opens a random one on every node. ${fix}`);
                } else if (!allowed.has(f.port)) {
                    report(`Helm values ${f.path} opens NodePort ${f.port} on every node. ${fix}`);
                }
            }
        }
    },
};

const port = Type.Integer({ minimum: 1, maximum: 65535 });

const tlsSkipConfig = ruleConfig(Type.Object({
    numaflowPorts: Type.Array(port, { default: [2469, 4327], description: "Ports where Numaflow serves metrics with a self-signed certificate." }),
    numaflowPortNames: Type.Array(Type.String(), {
        default: ["metrics", "tcp"], description: "Service port names of those endpoints (used when a monitor gives no number).",
    }),
    extraAllowedPorts: Type.Array(port, { default: [], description: "Further ports (any selector) where skipping verification is accepted." }),
    allowedValuesPaths: Type.Array(Type.String(), {
        default: [], description: "Helm values paths (e.g. values.alloy.configMap.content) where a skip is accepted.",
    }),
}));

const numaflowPartOf = { key: "app.kubernetes.io/part-of", value: "numaflow" };

/** Whether a monitor's selector only matches Numaflow's own objects. */
function selectsNumaflow(selector: Props | undefined): boolean {
    return selector?.matchLabels?.[numaflowPartOf.key] === numaflowPartOf.value;
}

const skipKey = /^(insecureSkipVerify|insecure_skip_verify|tlsSkipVerify|skipTlsVerify|insecure)$/;
const skipInText = /(insecure_skip_verify|insecureSkipVerify|tlsSkipVerify|tls_skip_verify)\s*[:=]\s*"?true"?/;

/** Places in Helm values that turn TLS verification off: structured keys, or scraper configs embedded as text. */
export function tlsSkipsInValues(values: unknown, path = "values"): string[] {
    const out: string[] = [];
    if (Array.isArray(values)) {
        values.forEach((v, i) => out.push(...tlsSkipsInValues(v, `${path}[${i}]`)));
        return out;
    }
    if (typeof values === "string") {
        return skipInText.test(values) ? [path] : [];
    }
    if (!isObject(values)) {
        return out;
    }
    for (const [key, value] of knownEntries(values)) {
        const here = `${path}.${key}`;
        if (skipKey.test(key) && (value === true || value === "true")) {
            out.push(here);
        } else {
            out.push(...tlsSkipsInValues(value, here));
        }
    }
    return out;
}

export const tlsSkipVerifyAllowlist: ResourceValidationPolicy = {
    name: "tls-skip-verify-allowlist",
    description: "TLS verification is skipped only on Numaflow's self-signed metrics ports (vertex 2469, daemon 4327).",
    enforcementLevel: "mandatory",
    configSchema: tlsSkipConfig.schema,
    validateResource: (args, report) => {
        const cfg = tlsSkipConfig.read(args);
        const fix = "Verify the certificate instead (tlsConfig.ca / ca_file with the issuing CA), or — for a deliberate exception — " +
            "add the port to this policy's extraAllowedPorts.";
        if (args.type === types.serviceMonitor || args.type === types.podMonitor) {
            const spec: Props = args.props.spec ?? {};
            const endpoints: Props[] = (args.type === types.serviceMonitor ? spec.endpoints : spec.podMetricsEndpoints) ?? [];
            const numaflow = selectsNumaflow(spec.selector);
            endpoints.forEach((e, i) => {
                if (e?.tlsConfig?.insecureSkipVerify !== true) {
                    return;
                }
                const number = e.portNumber ?? (typeof e.targetPort === "number" ? e.targetPort : undefined);
                if (number !== undefined && cfg.extraAllowedPorts.includes(Number(number))) {
                    return;
                }
                const numaflowEndpoint = numaflow && (number !== undefined
                    ? cfg.numaflowPorts.includes(Number(number))
                    : cfg.numaflowPortNames.includes(String(e.port ?? e.targetPort)));
                if (!numaflowEndpoint) {
                    const name = args.props.metadata?.name ?? args.name;
                    report(`${args.type.split(":").pop()} ${name} endpoint ${i} (port ${number ?? e.port ?? "?"}) skips TLS verification ` +
                        `outside Numaflow's self-signed metrics ports (${cfg.numaflowPorts.join(", ")}). ${fix}`);
                }
            });
            return;
        }
        if (helmTypes.includes(args.type)) {
            const values = known(() => args.props.values, undefined);
            for (const path of tlsSkipsInValues(values)) {
                if (!cfg.allowedValuesPaths.includes(path)) {
                    report(`Helm release ${args.props.name ?? args.name}: ${path} turns TLS verification off. ${fix.replace("add the port to this policy's extraAllowedPorts", "add the path to this policy's allowedValuesPaths")}`);
                }
            }
        }
    },
};

export const exposurePolicies = [nodePortAllowlist, tlsSkipVerifyAllowlist];
