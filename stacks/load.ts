import { RunError } from "@pulumi/pulumi";
import * as fs from "node:fs";
import { chartArchive, chartSourceKind, type PinnedChart } from "../components/charts";
import { extraArgProblems } from "../components/cluster/k3s-config";
import { gpuStackWanted } from "../components/gpu/values";
import { gpuCharts, monitoringCharts, numaflowChart } from "../components/versions";
import { cidrsOverlap, parseCidr } from "./cidr";
import { presets } from "./presets";
import { checkWorkflowSettings } from "./schema-workflows";
import { rootField } from "./schema";
import { applyDefaults, checkShape, mergeLayers, SettingsProblem } from "./schema-dsl";
import { HostSettings, PresetName, Settings } from "./settings";

export const CONFIG_NAMESPACE = "charon";

/**
 * All problems of a stack's settings at once, one line each, naming key, value and what is allowed. A RunError, so
 * the engine prints the message alone, without a JavaScript stack trace.
 */
export class SettingsError extends RunError {
    constructor(readonly problems: SettingsProblem[]) {
        super(`Invalid stack settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map((p) => `  - ${p.message}`).join("\n"));
        this.name = "SettingsError";
    }
}

/**
 * Turns Pulumi's flat config map (`charon:key` → string, structured values as JSON) into the settings object the
 * stack wrote, ignoring other namespaces.
 */
export function rawSettingsFromConfig(config: Record<string, string>): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(config)) {
        if (!fullKey.startsWith(prefix)) {
            continue;
        }
        raw[fullKey.slice(prefix.length)] = parseConfigValue(text);
    }
    return raw;
}

function parseConfigValue(text: string): unknown {
    const trimmed = text.trim();
    if (/^[[{]/.test(trimmed) || trimmed === "true" || trimmed === "false" || /^-?\d+(\.\d+)?$/.test(trimmed)) {
        try {
            return JSON.parse(trimmed);
        } catch {
            return text;
        }
    }
    return text;
}

/** Kubelet refuses node labels in these namespaces except under the prefixes and keys it allows itself. */
const kubeletLabelPrefixes = ["kubelet.kubernetes.io/", "node.kubernetes.io/"];
const kubeletLabelKeys = ["kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "topology.kubernetes.io/region", "topology.kubernetes.io/zone"];

function restrictedLabel(key: string): boolean {
    const slash = key.indexOf("/");
    if (slash < 0) {
        return false;
    }
    const prefix = key.slice(0, slash);
    const reserved = /(^|\.)kubernetes\.io$|(^|\.)k8s\.io$/.test(prefix);
    return reserved && !kubeletLabelKeys.includes(key) && !kubeletLabelPrefixes.some((p) => key.startsWith(p));
}

/**
 * Validates the stack's own settings, layers them over the preset and the schema defaults, checks the result.
 * `secretKeys` (full config keys such as `charon:sshPrivateKey`) lets it refuse SSH keys stored in plain text; the
 * composition root always passes it.
 */
export function resolveSettings(raw: Record<string, unknown>, opts: { secretKeys?: ReadonlySet<string> } = {}): Settings {
    // Types and unknown keys are checked on what the stack wrote; required keys once the preset filled its part.
    const problems: SettingsProblem[] = [];
    checkShape(raw, rootField, `${CONFIG_NAMESPACE}:`, problems, false);
    const presetName = (rootField.fields.preset.kind === "enum" && rootField.fields.preset.values.includes(raw.preset as string)
        ? raw.preset : rootField.fields.preset.default) as PresetName;
    const preset = presets[presetName];
    const stackLayer = { ...raw };
    if (Array.isArray(raw.hosts)) {
        stackLayer.hosts = raw.hosts.map((h) => ({ ...preset.hostDefaults, ...(h as object) }));
    }
    const merged = applyDefaults(mergeLayers(preset.settings, stackLayer), rootField) as Settings;
    const mergedProblems: SettingsProblem[] = [];
    checkShape(merged, rootField, `${CONFIG_NAMESPACE}:`, mergedProblems);
    const seen = new Set(problems.map((p) => p.message));
    problems.push(...mergedProblems.filter((p) => !seen.has(p.message)));
    if (problems.length > 0) {
        throw new SettingsError(problems);
    }
    problems.push(...checkSemantics(merged, raw), ...checkWorkflowSettings(merged));
    if (opts.secretKeys) {
        problems.push(...checkSecretsAreSecret(raw, opts.secretKeys));
    }
    for (const requirement of preset.requires) {
        if (merged.hosts && !requirement.rule(merged.hosts)) {
            problems.push({ key: `${CONFIG_NAMESPACE}:hosts`, message: `${CONFIG_NAMESPACE}:hosts: ${requirement.message}` });
        }
    }
    if (problems.length > 0) {
        throw new SettingsError(problems);
    }
    return merged;
}

function checkSemantics(s: Settings, raw: Record<string, unknown>): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${CONFIG_NAMESPACE}:${key}`, message: `${CONFIG_NAMESPACE}:${key}: ${message}` });

    if (!s.hosts || s.hosts.length === 0) {
        add("hosts", `is required for preset ${s.preset}: list the machines (name, role, address or local: true)`);
    } else {
        problems.push(...checkHosts(s.hosts, s.sshPrivateKey !== undefined));
    }

    const clusterCidr = parseCidr(s.k3s.clusterCidr);
    const serviceCidr = parseCidr(s.k3s.serviceCidr);
    for (const [key, value, parsed] of [["k3s.clusterCidr", s.k3s.clusterCidr, clusterCidr], ["k3s.serviceCidr", s.k3s.serviceCidr, serviceCidr]] as const) {
        if (!parsed) {
            add(key, `${JSON.stringify(value)} is not an IPv4 network; expected a CIDR such as 10.31.0.0/16 (no host bits set)`);
        }
    }
    if (clusterCidr && serviceCidr && cidrsOverlap(clusterCidr, serviceCidr)) {
        add("k3s.serviceCidr", `${JSON.stringify(s.k3s.serviceCidr)} overlaps k3s.clusterCidr ${JSON.stringify(s.k3s.clusterCidr)}; the pod and service networks must be disjoint`);
    }
    for (const [key, extra] of [["k3s.extraServerArgs", s.k3s.extraServerArgs], ["k3s.extraAgentArgs", s.k3s.extraAgentArgs]] as const) {
        for (const p of extraArgProblems(key, extra)) {
            add(p.key, p.reason);
        }
    }
    const firstServer = s.hosts?.find((h) => h.role === "server");
    if (firstServer?.local && s.hosts.some((h) => !h.local)) {
        add("hosts", `the first server ${JSON.stringify(firstServer.name)} is local, so remote hosts cannot join it (it has no address they can reach); list a remote server first`);
    }
    const hostPath = s.numaflow.isb.hostPath;
    if (hostPath === "/" || hostPath.split("/").includes("..") || hostPath.includes("..")) {
        add("numaflow.isb.hostPath", `${JSON.stringify(hostPath)} is not allowed; expected an absolute directory other than / without '..', such as /var/lib/charon/numaflow`);
    }
    if (s.gpu.stack === "on" && s.hosts?.every((h) => h.gpu === false)) {
        add("gpu.stack", `"on" but every host sets gpu: false; set a GPU host or use "auto"/"off"`);
    }
    if (chartSourceKind(s.charts.source) === "directory") {
        const needed: PinnedChart[] = [...Object.values(monitoringCharts), numaflowChart,
            ...(s.hosts && gpuStackWanted(s.gpu.stack, s.hosts) ? Object.values(gpuCharts) : [])];
        const missing = needed.filter((c) => !fs.existsSync(chartArchive(s.charts.source, c)));
        if (missing.length > 0) {
            add("charts.source", `${JSON.stringify(s.charts.source)} lacks ${missing.map((c) => `${c.chart}-${c.version}.tgz`).join(", ")}; fetch each with \`helm pull <repo>/<chart> --version <version>\` into that directory (see README "Charts without the internet")`);
        }
    }
    if (raw.preset === undefined && raw.hosts !== undefined && s.preset === "dev" && s.hosts.some((h) => !h.local)) {
        add("preset", `is not set (defaults to "dev", which runs on this machine) but hosts lists remote machines; set charon:preset to gpu-node or cluster`);
    }
    return problems;
}

/** SSH keys must come from secret config: in plain text they would sit in Pulumi.<stack>.yaml, often in git. */
function checkSecretsAreSecret(raw: Record<string, unknown>, secretKeys: ReadonlySet<string>): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;
    if (raw.sshPrivateKey !== undefined && !secretKeys.has(key("sshPrivateKey"))) {
        problems.push({
            key: key("sshPrivateKey"),
            message: `${key("sshPrivateKey")}: is stored in plain text; store it encrypted with \`pulumi config set --secret ${key("sshPrivateKey")} < ~/.ssh/id_ed25519\``,
        });
    }
    const hosts = Array.isArray(raw.hosts) ? raw.hosts as Record<string, any>[] : [];
    const withKeys = hosts.flatMap((h, i) => [
        ...(h?.privateKey !== undefined ? [`hosts[${i}].privateKey`] : []),
        ...(h?.bastion?.privateKey !== undefined ? [`hosts[${i}].bastion.privateKey`] : []),
    ]);
    if (withKeys.length > 0 && !secretKeys.has(key("hosts"))) {
        problems.push({
            key: key("hosts"),
            message: `${key("hosts")}: ${withKeys.join(", ")} ${withKeys.length === 1 ? "is" : "are"} stored in plain text; set ${withKeys.length === 1 ? "it" : "them"} with \`pulumi config set --secret --path '${key(withKeys[0])}' < key\` (or use charon:sshPrivateKey)`,
        });
    }
    return problems;
}

function checkHosts(hosts: HostSettings[], hasDefaultKey: boolean): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${CONFIG_NAMESPACE}:${key}`, message: `${CONFIG_NAMESPACE}:${key}: ${message}` });
    const seen = new Map<string, number>();
    hosts.forEach((host, i) => {
        const key = `hosts[${i}]`;
        const first = seen.get(host.name);
        if (first !== undefined) {
            add(`${key}.name`, `${JSON.stringify(host.name)} is already used by hosts[${first}]; host names must be unique (they become node names)`);
        } else {
            seen.set(host.name, i);
        }
        for (const label of Object.keys(host.labels ?? {}).filter(restrictedLabel)) {
            add(`${key}.labels`, `key ${JSON.stringify(label)} is in a namespace the kubelet reserves (kubernetes.io, k8s.io) and k3s would fail to start; use your own prefix such as example.com/, or node.kubernetes.io/`);
        }
        if (host.local) {
            const remoteKeys = (["address", "privateKey", "agentSocket", "hostKey", "bastion"] as const).filter((k) => host[k] !== undefined);
            if (remoteKeys.length > 0) {
                add(key, `${JSON.stringify(host.name)} is both local (local: true) and remote (${remoteKeys.join(", ")} set); use local: true alone for this machine, or remove it to connect over SSH`);
            }
        } else {
            if (host.address === undefined) {
                add(`${key}.address`, `is required for remote host ${JSON.stringify(host.name)} (or set local: true for this machine)`);
            }
            if (host.privateKey === undefined && host.agentSocket === undefined && !hasDefaultKey) {
                add(`${key}.privateKey`, `remote host ${JSON.stringify(host.name)} has no SSH credentials; set hosts[${i}].privateKey or agentSocket, or charon:sshPrivateKey (all secret)`);
            }
        }
    });
    const servers = hosts.filter((h) => h.role === "server").length;
    if (servers === 0) {
        add("hosts", `has no host with role "server"; exactly one server, or an odd number of 3 or more, is required`);
    } else if (servers % 2 === 0) {
        add("hosts", `has ${servers} servers; embedded etcd needs 1 or an odd number of 3 or more servers to keep quorum`);
    }
    if (hosts.filter((h) => h.local).length > 1) {
        add("hosts", `has ${hosts.filter((h) => h.local).length} hosts with local: true; only the machine running Pulumi can be local`);
    }
    return problems;
}

