/**
 * k3s, as installed by the cluster layer's commands: the cluster token is generated and never written into a
 * command's text, the kubeconfig and token never leave a command as plain output, k3s writes its kubeconfig 0600,
 * and the installed version supports in-place pod resizing.
 *
 * The rules read what the commands will run: the `create`/`update` text, the `export NAME='value'` lines the
 * cluster layer puts in front of its scripts (components/cluster/script.ts), and the k3s config.yaml among those
 * values (a YAML document with k3s flag names as keys).
 */
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { load } from "js-yaml";
import { configOf, schema, text } from "./config";
import { Props, commandTexts, commandTypes, exportedVariables, isObject, known, types } from "./kinds";

const k3sConfigKeys = ["node-name", "token-file", "write-kubeconfig-mode", "cluster-cidr", "node-label", "kubelet-arg", "server", "token"];

/** A k3s config document: a YAML mapping whose keys are k3s flags. */
export type K3sConfig = Record<string, unknown>;

function parseK3sConfig(value: string): K3sConfig | undefined {
    if (!/^[a-z][a-z0-9-]*\+?:/m.test(value)) {
        return undefined;
    }
    try {
        const doc = load(value);
        if (isObject(doc) && Object.keys(doc).some((k) => k3sConfigKeys.includes(k.replace(/\+$/, "")))) {
            return doc;
        }
    } catch {
        return undefined;
    }
    return undefined;
}

/** What one k3s install command sets up. */
export interface K3sInstall {
    role: "server" | "agent" | undefined;
    version: string | undefined;
    /** config.yaml and drop-ins, in order. */
    configs: K3sConfig[];
    /** The command texts themselves. */
    texts: string[];
}

const serverOnlyKeys = ["write-kubeconfig-mode", "cluster-cidr", "service-cidr", "cluster-init", "tls-san", "disable", "kube-apiserver-arg"];

/** Reads a command as a k3s install, or undefined when it does not install k3s. */
export function k3sInstallOf(props: Props): K3sInstall | undefined {
    const texts = commandTexts(props);
    const joined = texts.join("\n");
    // Comments do not install anything (shared script preambles mention the installer in theirs).
    const code = joined.split("\n").filter((line) => !/^\s*#/.test(line)).join("\n");
    const installs = /INSTALL_K3S_|get\.k3s\.io|k3s-io\/k3s\/[^/]+\/install\.sh|install-k3s/.test(code);
    if (!installs) {
        return undefined;
    }
    const env: Record<string, string> = {};
    for (const t of texts) {
        Object.assign(env, exportedVariables(t));
    }
    const configs: K3sConfig[] = [];
    for (const value of Object.values(env)) {
        const parsed = parseK3sConfig(value);
        if (parsed) {
            configs.push(parsed);
        }
    }
    const versionVar = Object.entries(env).find(([k]) => /K3S_VERSION$/.test(k))?.[1];
    const versionInText = joined.match(/INSTALL_K3S_VERSION=["']?(v\d+\.\d+\.\d+\+k3s\d+)/)?.[1];
    const roleVar = Object.entries(env).find(([k]) => /K3S_ROLE$/.test(k))?.[1];
    let role: K3sInstall["role"];
    if (roleVar === "server" || roleVar === "agent") {
        role = roleVar;
    } else if (configs.some((c) => serverOnlyKeys.some((k) => k in c || `${k}+` in c))) {
        role = "server";
    } else if (/INSTALL_K3S_EXEC=["']?server/.test(joined)) {
        role = "server";
    } else if (/K3S_URL=|INSTALL_K3S_EXEC=["']?agent/.test(joined)) {
        role = "agent";
    }
    return { role, version: versionVar || versionInText, configs, texts };
}

/** All values a list flag takes across config.yaml and drop-ins (`key` and appending `key+`). */
export function listFlag(configs: K3sConfig[], key: string): string[] {
    const out: string[] = [];
    for (const c of configs) {
        if (key in c) {
            out.length = 0; // a later plain key replaces earlier values
        }
        for (const k of [key, `${key}+`]) {
            const v = c[k];
            if (Array.isArray(v)) {
                out.push(...v.map(String));
            } else if (v !== undefined && v !== null) {
                out.push(String(v));
            }
        }
    }
    return out;
}

/** The last value a scalar flag takes across config.yaml and drop-ins. */
export function scalarFlag(configs: K3sConfig[], key: string): unknown {
    let value: unknown;
    for (const c of configs) {
        if (key in c) {
            value = c[key];
        }
    }
    return value;
}

/** The state of one feature gate in a component's args: true, false, or undefined (not set). */
export function gateIn(args: string[], gate: string): boolean | undefined {
    let state: boolean | undefined;
    for (const a of args) {
        const m = a.match(/^-*feature-gates=(.*)$/);
        for (const pair of m ? m[1].split(",") : []) {
            const [name, value] = pair.split("=");
            if (name.trim() === gate) {
                state = value?.trim().toLowerCase() === "true";
            }
        }
    }
    return state;
}

/** Parses `v1.34.2+k3s1` into [1, 34, 2]; undefined when it is not a k3s release tag. */
export function k3sMinor(version: string | undefined): number | undefined {
    const m = version?.match(/^v?1\.(\d+)\.\d+/);
    return m ? Number(m[1]) : undefined;
}

/** Whether an octal file mode lets anyone but the owner read (group or other bits set). */
export function modeTooOpen(mode: string): boolean {
    const n = parseInt(mode, 8);
    return Number.isNaN(n) || (n & 0o077) !== 0;
}

export const k3sKubeconfigMode: ResourceValidationPolicy = {
    name: "k3s-kubeconfig-mode",
    description: "k3s servers write their admin kubeconfig with mode 0600 (never group- or world-readable).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (!commandTypes.includes(args.type)) {
            return;
        }
        const fix = "Set write-kubeconfig-mode: \"0600\" in the server's /etc/rancher/k3s/config.yaml (the kubeconfig is cluster-admin).";
        const texts = commandTexts(args.props);
        for (const t of texts) {
            for (const m of t.matchAll(/--write-kubeconfig-mode[= ]["']?([0-7]{3,4})/g)) {
                if (modeTooOpen(m[1])) {
                    report(`The command passes --write-kubeconfig-mode ${m[1]}, which lets other users read the admin kubeconfig. ${fix}`);
                }
            }
            for (const m of t.matchAll(/chmod\s+(?:-\w+\s+)*([0-7]{3,4})\s+\S*k3s\.yaml/g)) {
                if (modeTooOpen(m[1])) {
                    report(`The command runs chmod ${m[1]} on the k3s kubeconfig, which lets other users read it. Keep it 0600.`);
                }
            }
        }
        const install = k3sInstallOf(args.props);
        if (!install || install.role !== "server") {
            return;
        }
        const mode = scalarFlag(install.configs, "write-kubeconfig-mode");
        if (mode === undefined) {
            report(`This k3s server install sets no write-kubeconfig-mode${install.configs.length === 0 ? " (no k3s config.yaml found in the command)" : ""}. ${fix}`);
        } else if (modeTooOpen(String(mode))) {
            report(`This k3s server install sets write-kubeconfig-mode ${mode}, which lets other users read the admin kubeconfig. ${fix}`);
        }
    },
};

export interface InPlaceResizeConfig {
    /** First minor with the InPlacePodVerticalScaling gate (alpha). */
    minimumVersion: string;
    /** First minor where the gate is on by default (beta). */
    defaultOnVersion: string;
}

const resizeDefaults: InPlaceResizeConfig = { minimumVersion: "v1.27", defaultOnVersion: "v1.33" };

const gate = "InPlacePodVerticalScaling";

export const k3sInPlaceResize: ResourceValidationPolicy = {
    name: "k3s-in-place-resize",
    description: "The k3s version supports in-place pod resizing: >= 1.27 with the InPlacePodVerticalScaling gate (on by default from 1.33), never turned off.",
    enforcementLevel: "mandatory",
    configSchema: schema({
        minimumVersion: text("First Kubernetes minor with the InPlacePodVerticalScaling gate.", resizeDefaults.minimumVersion),
        defaultOnVersion: text("First Kubernetes minor where the gate is on by default.", resizeDefaults.defaultOnVersion),
    }),
    validateResource: (args, report) => {
        if (!commandTypes.includes(args.type)) {
            return;
        }
        const install = k3sInstallOf(args.props);
        if (!install) {
            return;
        }
        const cfg = configOf(args, resizeDefaults);
        const minimum = k3sMinor(`${cfg.minimumVersion}.0`) ?? 27;
        const defaultOn = k3sMinor(`${cfg.defaultOnVersion}.0`) ?? 33;
        const minor = k3sMinor(install.version);
        if (minor === undefined) {
            report(`This k3s install does not pin a version${install.version ? ` ("${install.version}" is not a k3s release tag)` : ""}, ` +
                "so each host gets whatever release is current. Set charon:k3s.version to a release tag such as v1.34.2+k3s1.");
            return;
        }
        if (minor < minimum) {
            report(`k3s ${install.version} predates in-place pod resizing (Kubernetes 1.${minimum}). Set charon:k3s.version to v1.33 or later.`);
            return;
        }
        const components: [string, string][] = install.role === "agent"
            ? [["kubelet", "kubelet-arg"]]
            : [["kube-apiserver", "kube-apiserver-arg"], ["kube-scheduler", "kube-scheduler-arg"], ["kubelet", "kubelet-arg"]];
        const off = components.filter(([, flag]) => gateIn(listFlag(install.configs, flag), gate) === false).map(([c]) => c);
        if (off.length > 0) {
            report(`This k3s install turns ${gate} off on ${off.join(", ")}, so pods cannot be resized in place. ` +
                `Remove ${gate}=false from charon:k3s.featureGates.`);
        }
        if (minor < defaultOn) {
            const missing = components.filter(([, flag]) => gateIn(listFlag(install.configs, flag), gate) !== true).map(([c]) => c);
            if (missing.length > 0 && off.length === 0) {
                report(`k3s ${install.version} needs the ${gate} feature gate on ${missing.join(", ")} (it is off by default before 1.${defaultOn}). ` +
                    `Set charon:k3s.featureGates.${gate}: true, or use k3s v1.${defaultOn} or later.`);
            }
        }
    },
};

export const k3sInPlaceResizeMaturity: ResourceValidationPolicy = {
    name: "k3s-in-place-resize-maturity",
    description: "In-place pod resizing is alpha before Kubernetes 1.33; prefer k3s v1.33 or later.",
    enforcementLevel: "advisory",
    configSchema: schema({
        stableVersion: text("First Kubernetes minor where in-place resizing is beta and on by default.", "v1.33"),
    }),
    validateResource: (args, report) => {
        if (!commandTypes.includes(args.type)) {
            return;
        }
        const install = k3sInstallOf(args.props);
        const minor = k3sMinor(install?.version);
        const { stableVersion } = configOf(args, { stableVersion: "v1.33" });
        const stable = k3sMinor(`${stableVersion}.0`) ?? 33;
        if (install && minor !== undefined && minor < stable) {
            report(`k3s ${install.version} has in-place pod resizing only as an alpha feature (resize status and the resize ` +
                `subresource changed since). Upgrade charon:k3s.version to v1.${stable} or later.`);
        }
    },
};

/** Paths and commands whose output is the admin kubeconfig or the cluster token. */
const secretReaders = /\/etc\/rancher\/k3s\/k3s\.yaml|\/var\/lib\/rancher\/k3s\/server\/(node-)?token|\bconfig\s+view\s+(--raw|--flatten)/;

export const k3sSecretOutputs: ResourceValidationPolicy = {
    name: "k3s-secret-outputs",
    description: "Commands that print the kubeconfig or the k3s token keep their stdout secret and out of the logs.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (!commandTypes.includes(args.type)) {
            return;
        }
        const texts = commandTexts(args.props);
        if (!texts.some((t) => secretReaders.test(t))) {
            return;
        }
        if (!(args.opts.additionalSecretOutputs ?? []).includes("stdout")) {
            report("This command reads the k3s kubeconfig or token, but its stdout is not secret, so the credential is stored " +
                "in plain text in the state and any output derived from it. Add the resource option additionalSecretOutputs: [\"stdout\"].");
        }
        const logging = known(() => args.props.logging, "none");
        if (logging === undefined || logging === "stdout" || logging === "stdoutAndStderr") {
            report(`This command reads the k3s kubeconfig or token and logs its stdout (logging ${logging ?? "unset: stdoutAndStderr"}), ` +
                "which prints the credential in the update log. Set logging: \"stderr\" (or \"none\").");
        }
    },
};

/** Resources a resource draws on, directly. */
function directInputs(r: PolicyResource): PolicyResource[] {
    return [...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()];
}

export const k3sTokenGenerated: StackValidationPolicy = {
    name: "k3s-token-generated",
    description: "The k3s cluster token is generated (RandomPassword), reaches hosts on stdin, and never appears in a command's text or config.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const r of args.resources) {
            if (!commandTypes.includes(r.type)) {
                continue;
            }
            const install = k3sInstallOf(r.props);
            if (!install) {
                continue;
            }
            const where = `k3s install ${r.name}`;
            if (install.configs.some((c) => c.token !== undefined || c["agent-token"] !== undefined)) {
                report(`${where} writes the cluster token into config.yaml, which is part of the command text and so stored ` +
                    "in plain text in the state. Use token-file and pass the token on the command's stdin.", r.urn);
            }
            if (install.texts.some((t) => /K3S_(CLUSTER_SECRET|TOKEN)=["']?[^"'\s$]/.test(t) || /--token[= ]["']?[^"'\s$]/.test(t))) {
                report(`${where} puts a literal cluster token on the command line. Generate it with a RandomPassword and pass it on stdin.`, r.urn);
            }
            const usesTokenFile = install.configs.some((c) => c["token-file"] !== undefined);
            if (usesTokenFile) {
                const stdin = known(() => r.props.stdin, "(unknown until the update)");
                if (typeof stdin !== "string" || stdin === "") {
                    report(`${where} reads token-file, but the command gets no token on stdin. Pass the RandomPassword's result as stdin.`, r.urn);
                }
                if (!directInputs(r).some((d) => d.type === types.randomPassword)) {
                    report(`${where} does not depend on a RandomPassword, so its token is not generated by the stack. ` +
                        "Create the token with @pulumi/random's RandomPassword and pass its result on stdin.", r.urn);
                }
            }
        }
    },
};

export const k3sPolicies = [k3sKubeconfigMode, k3sInPlaceResize, k3sInPlaceResizeMaturity, k3sSecretOutputs, k3sTokenGenerated];
