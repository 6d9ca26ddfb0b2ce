import { RunError } from "@pulumi/pulumi";
import { checkValue, type Problem } from "../model/check";
import { loadManifests, type ManifestObject } from "../workflows/manifests/load";
import { presets } from "./presets";
import { ruleProblems } from "./rules";
import { presetNames, type PresetName, type Settings, SettingsSchema } from "./schema";

export const CONFIG_NAMESPACE = "charon";
const ROOT = `${CONFIG_NAMESPACE}:`;

/**
 * All problems of a stack's settings at once, one line each, naming key, value and what is allowed. A RunError, so
 * the engine prints the message alone, without a JavaScript stack trace.
 */
export class SettingsError extends RunError {
    constructor(readonly problems: Problem[]) {
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
    for (const [fullKey, text] of Object.entries(config)) {
        if (fullKey.startsWith(ROOT)) {
            raw[fullKey.slice(ROOT.length)] = parseConfigValue(text);
        }
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge for settings layers: objects merge key by key, everything else (lists included) replaces. */
export function mergeLayers(base: unknown, over: unknown): unknown {
    if (over === undefined) {
        return base;
    }
    if (isPlainObject(base) && isPlainObject(over)) {
        const out: Record<string, unknown> = { ...base };
        for (const [k, v] of Object.entries(over)) {
            out[k] = mergeLayers(base[k], v);
        }
        return out;
    }
    return over;
}

/**
 * Validates the stack's own settings layered over its preset and the schemas' defaults: shapes, every layer's
 * rules and the cross-layer ones, all in one run. `secretKeys` (full config keys such as `charon:sshPrivateKey`)
 * lets it refuse SSH keys stored in plain text; the composition root always passes it.
 */
export function resolveSettings(raw: Record<string, unknown>, opts: { secretKeys?: ReadonlySet<string> } = {}): Settings {
    const { settings, problems } = checkSettings(raw, opts);
    if (problems.length > 0) {
        throw new SettingsError(problems);
    }
    return settings;
}

/** The settings (only safe to use when there are no problems) and every problem found, without throwing. */
export function checkSettings(raw: Record<string, unknown>, opts: { secretKeys?: ReadonlySet<string> } = {}): { settings: Settings; problems: Problem[] } {
    const presetName: PresetName = presetNames.includes(raw.preset as PresetName) ? raw.preset as PresetName : "dev";
    const preset = presets[presetName];
    const stackLayer = { ...raw };
    if (Array.isArray(raw.hosts)) {
        stackLayer.hosts = raw.hosts.map((h) => isPlainObject(h) ? { ...preset.hostDefaults, ...h } : h);
    }
    const { value, problems } = checkValue(SettingsSchema, mergeLayers(preset.settings, stackLayer), ROOT);
    // A value with a shape problem is reported once, by the schema, not again by a rule that reads it.
    const shapeKeys = new Set(problems.map((p) => p.key));
    problems.push(...ruleProblems(value, raw, ROOT).filter((p) => !shapeKeys.has(p.key)));
    if (opts.secretKeys) {
        problems.push(...plainTextSecrets(raw, opts.secretKeys));
    }
    return { settings: value, problems };
}

/** A stack as the program builds it: its settings and the objects of its own manifests, all checked together. */
export interface ResolvedStack {
    settings: Settings;
    manifests: ManifestObject[];
}

/**
 * Settings plus everything they name that is read before any resource: the stack's own manifests (files, pinned
 * URLs, checked against Numaflow's CRDs from the chart). One SettingsError lists every problem of both.
 */
export function resolveStack(raw: Record<string, unknown>, opts: { secretKeys?: ReadonlySet<string>; projectDir: string }): ResolvedStack {
    const { settings, problems } = checkSettings(raw, opts);
    const manifestsUsable = !problems.some((p) => p.key.startsWith(`${ROOT}workflows.manifests`) || p.key.startsWith(`${ROOT}charts`));
    let manifests: ManifestObject[] = [];
    if (manifestsUsable && Array.isArray(settings.workflows?.manifests)) {
        const loaded = loadManifests(settings.workflows.manifests, {
            projectDir: opts.projectDir, namespace: settings.workflows.aps.namespace, chartSource: settings.charts.source,
        }, ROOT);
        manifests = loaded.objects;
        problems.push(...loaded.problems);
    }
    if (problems.length > 0) {
        throw new SettingsError(problems);
    }
    return { settings, manifests };
}

/** SSH keys must come from secret config: in plain text they would sit in Pulumi.<stack>.yaml, often in git. */
function plainTextSecrets(raw: Record<string, unknown>, secretKeys: ReadonlySet<string>): Problem[] {
    const problems: Problem[] = [];
    const key = (k: string) => `${ROOT}${k}`;
    if (raw.sshPrivateKey !== undefined && !secretKeys.has(key("sshPrivateKey"))) {
        problems.push({
            key: key("sshPrivateKey"),
            message: `${key("sshPrivateKey")}: is stored in plain text; store it encrypted with \`npm run config -- set --secret ${key("sshPrivateKey")} < ~/.ssh/id_ed25519\``,
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
            message: `${key("hosts")}: ${withKeys.join(", ")} ${withKeys.length === 1 ? "is" : "are"} stored in plain text; set ${withKeys.length === 1 ? "it" : "them"} with \`npm run config -- set --secret '${key(withKeys[0])}' < key\` (or use charon:sshPrivateKey)`,
        });
    }
    return problems;
}
