/**
 * k3s, as the cluster layer installs it: k3s writes its kubeconfig 0600, the installed version supports in-place
 * pod resizing, the kubeconfig and token never leave a command as plain output, and the cluster token is generated
 * and never written into a command's text or config.
 *
 * Each host is a K3sNode component (components/cluster/k3s-node.ts) whose props state its role, k3s release and
 * k3s configuration as data, and name its install and kubeconfig steps (its children). The rules read those facts,
 * never the scripts. Where a rule looks for something anyone may write by hand into any command (a chmod of the
 * kubeconfig, a literal token, a `cat` of the kubeconfig), it scans the command texts for that pattern only.
 */
import { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { k3sPaths } from "../../components/cluster/constants";
import { type K3sNodeFacts } from "../../components/cluster/k3s-node";
import { Type } from "../../model/schema";
import { ruleConfig } from "./config";
import { commandTexts, commandTypes, isK3sNode, known, types } from "./kinds";

type K3sConfig = K3sNodeFacts["k3sConfig"];

/** All values a list flag takes across config.yaml and the drop-in (`key`, and `key+` which appends). */
export function listFlag(k3sConfig: K3sConfig, key: string): string[] {
    const out: string[] = [];
    for (const c of [k3sConfig.config, k3sConfig.dropIn]) {
        if (key in c) {
            out.length = 0; // a later plain key replaces earlier values
        }
        for (const v of [c[key], c[`${key}+`]]) {
            if (v !== undefined) {
                out.push(...[v].flat().map(String));
            }
        }
    }
    return out;
}

/** The last value a scalar flag takes across config.yaml and the drop-in. */
export function scalarFlag(k3sConfig: K3sConfig, key: string): unknown {
    return k3sConfig.dropIn[key] ?? k3sConfig.config[key];
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

/** The Kubernetes minor of a k3s release tag (`v1.34.2+k3s1` → 34); undefined when it is not one. */
export function k3sMinor(version: string | undefined): number | undefined {
    const m = version?.match(/^v?1\.(\d+)\.\d+/);
    return m ? Number(m[1]) : undefined;
}

/** Whether an octal file mode lets anyone but the owner read (group or other bits set). */
export function modeTooOpen(mode: string): boolean {
    const n = parseInt(mode, 8);
    return Number.isNaN(n) || (n & 0o077) !== 0;
}

/** A Kubernetes minor setting such as `v1.33`; read with `minorOf`. */
const minorSetting = (defaultValue: string, description: string) =>
    Type.String({ pattern: "^v1\\.[0-9]+$", hint: "a Kubernetes minor such as v1.33", default: defaultValue, description });
const minorOf = (setting: string) => Number(setting.slice("v1.".length));

/** The first minor where in-place resizing is beta and its gate on by default. */
const resizeOnByDefault = "v1.33";

export const k3sKubeconfigMode: ResourceValidationPolicy = {
    name: "k3s-kubeconfig-mode",
    description: "k3s servers write their admin kubeconfig with mode 0600 (never group- or world-readable).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const fix = `Set write-kubeconfig-mode: "0600" in the server's ${k3sPaths.config} (the kubeconfig is cluster-admin).`;
        if (isK3sNode(args)) {
            if (args.props.role !== "server") {
                return;
            }
            const mode = scalarFlag(args.props.k3sConfig, "write-kubeconfig-mode");
            if (mode === undefined) {
                report(`This k3s server install sets no write-kubeconfig-mode. ${fix}`);
            } else if (modeTooOpen(String(mode))) {
                report(`This k3s server install sets write-kubeconfig-mode ${mode}, which lets other users read the admin kubeconfig. ${fix}`);
            }
            return;
        }
        if (!commandTypes.includes(args.type)) {
            return;
        }
        // Text on purpose: a flag or a chmod someone writes into any command (charon's own installs are K3sNodes).
        for (const t of commandTexts(args.props)) {
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
    },
};

const gate = "InPlacePodVerticalScaling";

const resizeConfig = ruleConfig(Type.Object({
    minimumVersion: minorSetting("v1.27", "First Kubernetes minor with the InPlacePodVerticalScaling gate."),
    defaultOnVersion: minorSetting(resizeOnByDefault, "First Kubernetes minor where the gate is on by default."),
}));

export const k3sInPlaceResize: ResourceValidationPolicy = {
    name: "k3s-in-place-resize",
    description: "The k3s version supports in-place pod resizing: >= 1.27 with the InPlacePodVerticalScaling gate (on by default from 1.33), never turned off.",
    enforcementLevel: "mandatory",
    configSchema: resizeConfig.schema,
    validateResource: (args, report) => {
        if (!isK3sNode(args)) {
            return;
        }
        const { version, role, k3sConfig } = args.props;
        const cfg = resizeConfig.read(args);
        const minimum = minorOf(cfg.minimumVersion);
        const defaultOn = minorOf(cfg.defaultOnVersion);
        const minor = k3sMinor(version);
        if (minor === undefined) {
            report(`This k3s install does not pin a version${version ? ` ("${version}" is not a k3s release tag)` : ""}, ` +
                "so each host gets whatever release is current. Set charon:k3s.version to a release tag such as v1.34.2+k3s1.");
            return;
        }
        if (minor < minimum) {
            report(`k3s ${version} predates in-place pod resizing (Kubernetes 1.${minimum}). Set charon:k3s.version to v1.${defaultOn} or later.`);
            return;
        }
        const components: [string, string][] = role === "agent"
            ? [["kubelet", "kubelet-arg"]]
            : [["kube-apiserver", "kube-apiserver-arg"], ["kube-scheduler", "kube-scheduler-arg"], ["kubelet", "kubelet-arg"]];
        const states = components.map(([c, flag]) => [c, gateIn(listFlag(k3sConfig, flag), gate)] as const);
        const off = states.filter(([, on]) => on === false).map(([c]) => c);
        if (off.length > 0) {
            report(`This k3s install turns ${gate} off on ${off.join(", ")}, so pods cannot be resized in place. ` +
                `Remove ${gate}=false from charon:k3s.featureGates.`);
            return;
        }
        const missing = states.filter(([, on]) => on !== true).map(([c]) => c);
        if (minor < defaultOn && missing.length > 0) {
            report(`k3s ${version} needs the ${gate} feature gate on ${missing.join(", ")} (it is off by default before 1.${defaultOn}). ` +
                `Set charon:k3s.featureGates.${gate}: true, or use k3s v1.${defaultOn} or later.`);
        }
    },
};

const maturityConfig = ruleConfig(Type.Object({
    stableVersion: minorSetting(resizeOnByDefault, "First Kubernetes minor where in-place resizing is beta and on by default."),
}));

export const k3sInPlaceResizeMaturity: ResourceValidationPolicy = {
    name: "k3s-in-place-resize-maturity",
    description: "In-place pod resizing is alpha before Kubernetes 1.33; prefer k3s v1.33 or later.",
    enforcementLevel: "advisory",
    configSchema: maturityConfig.schema,
    validateResource: (args, report) => {
        if (!isK3sNode(args)) {
            return;
        }
        const stable = minorOf(maturityConfig.read(args).stableVersion);
        const minor = k3sMinor(args.props.version);
        if (minor !== undefined && minor < stable) {
            report(`k3s ${args.props.version} has in-place pod resizing only as an alpha feature (resize status and the resize ` +
                `subresource changed since). Upgrade charon:k3s.version to v1.${stable} or later.`);
        }
    },
};

const escaped = (path: string) => path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Paths and commands whose output is the admin kubeconfig or the cluster token. */
const secretReaders = new RegExp(`${escaped(k3sPaths.kubeconfig)}|/var/lib/rancher/k3s/server/(node-)?token|\\bconfig\\s+view\\s+(--raw|--flatten)`);

export const k3sSecretOutputs: StackValidationPolicy = {
    name: "k3s-secret-outputs",
    description: "Commands that print the kubeconfig or the k3s token keep their stdout secret and out of the logs.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const r of args.resources) {
            if (!commandTypes.includes(r.type)) {
                continue;
            }
            // charon's reader is the step its K3sNode names; any other command by what its text reads (anyone may
            // write `cat /etc/rancher/k3s/k3s.yaml` into a command).
            const named = isK3sNode(r.parent) && r.parent.props.steps.kubeconfig === r.name;
            if (!named && !commandTexts(r.props).some((t) => secretReaders.test(t))) {
                continue;
            }
            if (!r.opts.additionalSecretOutputs.includes("stdout")) {
                report(`Command ${r.name} reads the k3s kubeconfig or token, but its stdout is not secret, so the credential is stored ` +
                    "in plain text in the state and any output derived from it. Add the resource option additionalSecretOutputs: [\"stdout\"].", r.urn);
            }
            const logging = known(() => r.props.logging, "none");
            if (logging === undefined || logging === "stdout" || logging === "stdoutAndStderr") {
                report(`Command ${r.name} reads the k3s kubeconfig or token and logs its stdout (logging ${logging ?? "unset: stdoutAndStderr"}), ` +
                    "which prints the credential in the update log. Set logging: \"stderr\" (or \"none\").", r.urn);
            }
        }
    },
};

/** Resources a resource draws on, directly. */
function directInputs(r: PolicyResource): PolicyResource[] {
    return [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
}

/** The token checks of one host: nothing in its k3s config, and its install gets a generated token on stdin. */
function checkNodeToken(node: PolicyResource & { props: K3sNodeFacts }, resources: PolicyResource[], report: ReportViolation): void {
    const facts = node.props;
    const install = resources.find((r) => r.parent?.urn === node.urn && r.name === facts.steps.install);
    const where = `k3s install ${facts.steps.install}`;
    const urn = install?.urn ?? node.urn;
    if ([facts.k3sConfig.config, facts.k3sConfig.dropIn].some((c) => c.token !== undefined || c["agent-token"] !== undefined)) {
        report(`${where} writes the cluster token into config.yaml, which is part of the command text and so stored ` +
            "in plain text in the state. Use token-file and pass the token on the command's stdin.", urn);
    }
    if (scalarFlag(facts.k3sConfig, "token-file") === undefined) {
        return;
    }
    if (!install) {
        report(`K3sNode ${node.name} names its install step ${facts.steps.install}, but no such child exists, so nothing shows how ` +
            "the token reaches the host. Create the install command with the K3sNode as its parent.", node.urn);
        return;
    }
    const stdin = known(() => install.props.stdin, "(unknown until the update)");
    if (typeof stdin !== "string" || stdin === "") {
        report(`${where} reads token-file, but the command gets no token on stdin. Pass the RandomPassword's result as stdin.`, urn);
    }
    if (!directInputs(install).some((d) => d.type === types.randomPassword)) {
        report(`${where} does not depend on a RandomPassword, so its token is not generated by the stack. ` +
            "Create the token with @pulumi/random's RandomPassword and pass its result on stdin.", urn);
    }
}

/** A token or cluster secret written literally into a command line (a reference such as "$TOKEN" is fine). */
const literalToken = /K3S_(CLUSTER_SECRET|TOKEN)=["']?[^"'\s$]|--token[= ]["']?[^"'\s$]/;

export const k3sTokenGenerated: StackValidationPolicy = {
    name: "k3s-token-generated",
    description: "The k3s cluster token is generated (RandomPassword), reaches hosts on stdin, and never appears in a command's text or config.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const r of args.resources) {
            if (isK3sNode(r)) {
                checkNodeToken(r, args.resources, report);
            } else if (commandTypes.includes(r.type) && commandTexts(r.props).some((t) => literalToken.test(t))) {
                // Text on purpose: anyone may write `K3S_TOKEN=…` into any command, not only charon's installs.
                report(`Command ${r.name} puts a literal cluster token on the command line. Generate it with a RandomPassword and pass it on stdin.`, r.urn);
            }
        }
    },
};

export const k3sPolicies = [k3sKubeconfigMode, k3sInPlaceResize, k3sInPlaceResizeMaturity, k3sSecretOutputs, k3sTokenGenerated];
