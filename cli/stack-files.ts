/**
 * A stack's configuration in two layers:
 *
 * - the stack file `Pulumi.<stack>.yaml` in the repository (the settings everyone reviews; never written by
 *   `npm run up|preview|destroy`), and
 * - the user's own layer outside the repository (`~/.config/charon/stacks/<backend>/<stack>.yaml`, 0600): the secrets
 *   set with `npm run config -- set --secret` (encrypted by the Pulumi CLI with the stack's passphrase) and the
 *   stack's `encryptionsalt`, so no per-user salt or secret ever lands in a committed file.
 *
 * The engine reads the two merged, from a 0600 temporary file passed as `--config-file`. Everything here is pure
 * file handling (no Pulumi CLI), so `npm run check` works offline.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { configDir } from "../automation/backend";
import { closest } from "./suggest";

export const repoRoot = path.resolve(__dirname, "..");

/** Keys Pulumi allows at the top of a stack file. */
export const STACK_FILE_KEYS = ["config", "encryptionsalt", "encryptedkey", "secretsprovider", "environment"] as const;

/** Config namespaces a charon stack may use: its own settings and the providers the program uses. */
export const CONFIG_NAMESPACES = ["charon", "kubernetes", "command", "random", "pulumi"] as const;

export interface StackDocument {
    config?: Record<string, unknown>;
    encryptionsalt?: string;
    encryptedkey?: string;
    secretsprovider?: string;
    environment?: unknown;
    [key: string]: unknown;
}

/** The repository's stack file of a stack. */
export function stackFilePath(stack: string, root = repoRoot): string {
    return path.join(root, `Pulumi.${stack}.yaml`);
}

/** The stacks that have a stack file in the repository root. */
export function stackFileNames(root = repoRoot): string[] {
    return fs.readdirSync(root).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
}

/** A stack file that does not exist, naming the file it looked for and what to do. */
export class MissingStackFileError extends Error {
    constructor(readonly stack: string, readonly file: string, root = repoRoot) {
        const existing = stackFileNames(root);
        const examples = fs.existsSync(path.join(root, "stacks", "examples"))
            ? fs.readdirSync(path.join(root, "stacks", "examples")).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).sort() : [];
        super(`stack ${stack} has no stack file: ${path.relative(root, file) || file} does not exist in ${root}` +
            (examples.length > 0 ? `; copy one of stacks/examples/ (${examples.join(", ")}) to Pulumi.${stack}.yaml and edit its hosts` : "") +
            (existing.length > 0 ? ` (stacks with a file: ${existing.join(", ")})` : ""));
        this.name = "MissingStackFileError";
    }
}

/** A problem with a file: the file (relative to the repository) and one line. */
export interface FileProblem {
    file: string;
    message: string;
}

/** Parses YAML text; a syntax error becomes one line with its line and column. */
export function parseYaml(text: string, file: string): { value?: unknown; problem?: FileProblem } {
    try {
        return { value: yaml.load(text, { filename: file }) };
    } catch (err) {
        const e = err as yaml.YAMLException;
        const where = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}: ` : "";
        return { problem: { file, message: `${where}${e.reason ?? e.message} (not valid YAML)` } };
    }
}

/** Reads and checks the shape of a stack file: a mapping of Pulumi's stack-file keys, `config` keys `namespace:name`. */
export function readStackDocument(file: string, shownAs: string): { doc?: StackDocument; problems: FileProblem[] } {
    const parsed = parseYaml(fs.readFileSync(file, "utf8"), shownAs);
    if (parsed.problem) {
        return { problems: [parsed.problem] };
    }
    const problems: FileProblem[] = [];
    const add = (message: string) => problems.push({ file: shownAs, message });
    const value = parsed.value ?? {};
    if (typeof value !== "object" || Array.isArray(value)) {
        add(`is ${Array.isArray(value) ? "a list" : `the ${typeof value} ${JSON.stringify(value)}`}; a stack file is a mapping with a config: section`);
        return { problems };
    }
    const doc = value as StackDocument;
    for (const key of Object.keys(doc)) {
        if (!(STACK_FILE_KEYS as readonly string[]).includes(key)) {
            add(key.includes(":")
                ? `${key}: settings go under config: (indented below it), not at the top of the file`
                : `${key}: unknown top-level key; a stack file holds ${STACK_FILE_KEYS.join(", ")}`);
        }
    }
    if (doc.config !== undefined && doc.config !== null && (typeof doc.config !== "object" || Array.isArray(doc.config))) {
        add("config: must be a mapping of namespace:name keys to values");
        return { problems };
    }
    for (const key of Object.keys(doc.config ?? {})) {
        const m = /^([^:]+):(.+)$/.exec(key);
        if (!m) {
            add(`${key}: config key without a namespace; charon's settings are charon:<name>, e.g. charon:preset`);
        } else if (!(CONFIG_NAMESPACES as readonly string[]).includes(m[1])) {
            const guess = closest(m[1], [...CONFIG_NAMESPACES]);
            add(`${key}: unknown config namespace ${JSON.stringify(m[1])}${guess ? `; did you mean ${guess}:${m[2]}?` : ""} (allowed: ${CONFIG_NAMESPACES.map((n) => `${n}:`).join(", ")})`);
        }
    }
    return { doc: { ...doc, config: doc.config ?? {} }, problems };
}

// ---- config paths ------------------------------------------------------------------------------------------------

/** A config key with an optional path into its value: `charon:hosts[1].privateKey` → key charon:hosts, path [1, "privateKey"]. */
export interface ConfigPath {
    key: string;
    path: (string | number)[];
}

/** Parses Pulumi's path syntax (`ns:key`, `.name`, `[index]`, `["quoted name"]`). */
export function parseConfigPath(text: string): ConfigPath {
    const m = /^([A-Za-z0-9_-]+):([^.[\]]+)(.*)$/.exec(text);
    if (!m) {
        throw new Error(`${JSON.stringify(text)} is not a config key; expected namespace:name with an optional path, e.g. charon:sshPrivateKey or charon:hosts[1].privateKey`);
    }
    const out: ConfigPath = { key: `${m[1]}:${m[2]}`, path: [] };
    let rest = m[3];
    while (rest.length > 0) {
        let step: RegExpExecArray | null;
        if ((step = /^\.([^.[\]"]+)/.exec(rest))) {
            out.path.push(step[1]);
        } else if ((step = /^\[(\d+)\]/.exec(rest))) {
            out.path.push(Number(step[1]));
        } else if ((step = /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest))) {
            out.path.push(JSON.parse(`"${step[1]}"`));
        } else {
            throw new Error(`${JSON.stringify(text)}: cannot read the path at ${JSON.stringify(rest)}; use .name, [index] or ["name"]`);
        }
        rest = rest.slice(step[0].length);
    }
    return out;
}

export function formatConfigPath(p: ConfigPath): string {
    return p.key + p.path.map((s) => typeof s === "number" ? `[${s}]` : /^[A-Za-z0-9_-]+$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`).join("");
}

/** The value at `path` inside `value`, or undefined. */
export function getAtPath(value: unknown, p: (string | number)[]): unknown {
    let node = value;
    for (const step of p) {
        if (node === null || typeof node !== "object") {
            return undefined;
        }
        node = (node as Record<string | number, unknown>)[step];
    }
    return node;
}

/**
 * Returns a copy of `root` with `leaf` at `path`, creating mappings on the way; a list index must exist already (a
 * secret for hosts[3] needs a fourth host in the stack file). Throws a one-line reason otherwise.
 */
export function setAtPath(root: unknown, p: (string | number)[], leaf: unknown, shown: string): unknown {
    if (p.length === 0) {
        return leaf;
    }
    const [step, ...rest] = p;
    if (typeof step === "number") {
        if (!Array.isArray(root) || step >= root.length) {
            const have = Array.isArray(root) ? `has ${root.length} entr${root.length === 1 ? "y" : "ies"}` : "is not a list";
            throw new Error(`${shown}: the stack file's value ${have}, so there is no [${step}] to put it in`);
        }
        const copy = [...root];
        copy[step] = setAtPath(root[step], rest, leaf, shown);
        return copy;
    }
    if (root !== undefined && (root === null || typeof root !== "object" || Array.isArray(root))) {
        throw new Error(`${shown}: the stack file's value there is ${Array.isArray(root) ? "a list" : "not a mapping"}, so it has no key ${JSON.stringify(step)}`);
    }
    const obj = (root ?? {}) as Record<string, unknown>;
    return { ...obj, [step]: setAtPath(obj[step], rest, leaf, shown) };
}

/** Pulumi's encrypted value: `{ secure: "v1:…" }`. */
export function isSecure(value: unknown): value is { secure: string } {
    return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 &&
        typeof (value as { secure?: unknown }).secure === "string";
}

function containsSecure(value: unknown): boolean {
    if (isSecure(value)) {
        return true;
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).some(containsSecure);
    }
    return false;
}

// ---- the user's layer --------------------------------------------------------------------------------------------

export interface UserLayer {
    /** Where it lives. */
    file: string;
    /** The stack's passphrase salt (Pulumi's `encryptionsalt`), kept here instead of in the repository. */
    encryptionsalt?: string;
    /** Secret values by config path (`charon:sshPrivateKey`, `charon:hosts[1].privateKey`), each `{ secure }`. */
    secrets: Record<string, { secure: string }>;
}

export { configDir };

/** A directory name for a backend URL: file:///home/ada → file-home-ada, s3://bucket/x → s3-bucket-x. */
export function backendSlug(backend: string): string {
    const slug = backend.replace(/^([a-z0-9]+):\/\//i, "$1-").replace(/[^A-Za-z0-9.]+/g, "-").replace(/^-+|-+$/g, "");
    return slug.length <= 80 ? slug : `${slug.slice(0, 60)}-${Buffer.from(backend).toString("base64url").slice(-16)}`;
}

export function userLayerPath(stack: string, backend: string, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
    return path.join(configDir(env, home), "stacks", backendSlug(backend), `${stack}.yaml`);
}

export function readUserLayer(file: string): UserLayer {
    if (!fs.existsSync(file)) {
        return { file, secrets: {} };
    }
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) {
        throw new Error(`${file} is readable by others (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``);
    }
    const parsed = parseYaml(fs.readFileSync(file, "utf8"), file);
    if (parsed.problem) {
        throw new Error(`${file}: ${parsed.problem.message}`);
    }
    const doc = (parsed.value ?? {}) as Record<string, unknown>;
    const secrets = (doc.secrets ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(secrets)) {
        if (!isSecure(value)) {
            throw new Error(`${file}: secrets.${key} is not an encrypted value ({secure: ...}); remove it with \`npm run config -- rm ${key}\``);
        }
    }
    return {
        file,
        encryptionsalt: typeof doc.encryptionsalt === "string" ? doc.encryptionsalt : undefined,
        secrets: secrets as Record<string, { secure: string }>,
    };
}

/** Writes the layer 0600 in a 0700 directory, atomically (a temp file renamed over it). */
export function writeUserLayer(layer: UserLayer, stack: string): void {
    fs.mkdirSync(path.dirname(layer.file), { recursive: true, mode: 0o700 });
    const body = [
        `# Your own layer of stack ${stack}, merged over the repository's Pulumi.${stack}.yaml by npm run up|preview|destroy|check.`,
        "# Written by `npm run config -- set --secret` (values encrypted with the stack's passphrase); not in any repository.",
        yaml.dump({
            ...(layer.encryptionsalt ? { encryptionsalt: layer.encryptionsalt } : {}),
            secrets: layer.secrets,
        }, { lineWidth: -1, sortKeys: true }),
    ].join("\n");
    const tmp = `${layer.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, body, { mode: 0o600, flag: "w" });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, layer.file);
}

/**
 * The stack file as the engine should see it: the repository's document with the user's secrets put in at their
 * paths and the salt from the repository (a team's committed one) or else the user's layer.
 */
export function effectiveDocument(repo: StackDocument, layer: UserLayer): StackDocument {
    let config: Record<string, unknown> = { ...(repo.config ?? {}) };
    for (const [shown, secure] of Object.entries(layer.secrets)) {
        const p = parseConfigPath(shown);
        config = { ...config, [p.key]: setAtPath(config[p.key], p.path, secure, `${shown} (from ${layer.file})`) };
    }
    const out: StackDocument = { ...repo, config };
    const salt = repo.encryptionsalt ?? layer.encryptionsalt;
    if (salt !== undefined) {
        out.encryptionsalt = salt;
    }
    return out;
}

/** Problems of a user layer against its stack file (salt mismatch, secrets with nowhere to go). */
export function layerProblems(repo: StackDocument, layer: UserLayer): string[] {
    const problems: string[] = [];
    if (repo.encryptionsalt && layer.encryptionsalt && repo.encryptionsalt !== layer.encryptionsalt && Object.keys(layer.secrets).length > 0) {
        problems.push(`your secrets in ${layer.file} were encrypted for another encryptionsalt than the stack file's; set them again with \`npm run config -- set --secret KEY\``);
    }
    for (const shown of Object.keys(layer.secrets)) {
        try {
            const p = parseConfigPath(shown);
            setAtPath((repo.config ?? {})[p.key], p.path, { secure: "" }, `${shown} (from ${layer.file})`);
        } catch (err) {
            problems.push((err as Error).message);
        }
    }
    return problems;
}

/**
 * The flat config map Pulumi hands the program (`ns:key` → string, structured values as JSON), with every encrypted
 * value replaced by `placeholder` (offline, nothing is decrypted), and the keys that hold a secret.
 */
export function programConfig(doc: StackDocument, placeholder = "<secret>"): { config: Record<string, string>; secretKeys: Set<string> } {
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const reveal = (v: unknown): unknown => isSecure(v) ? placeholder
        : Array.isArray(v) ? v.map(reveal)
            : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)])) : v;
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (containsSecure(value)) {
            secretKeys.add(key);
        }
        const plain = reveal(value);
        config[key] = typeof plain === "string" ? plain : plain !== null && typeof plain === "object" ? JSON.stringify(plain) : String(plain);
    }
    return { config, secretKeys };
}

/** Writes a stack document for the engine: a 0600 file in a new 0700 temp directory; `remove` deletes both. */
export function writeEngineConfigFile(doc: StackDocument, stack: string): { file: string; remove: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-stack-"));
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1 }), { mode: 0o600, flag: "wx" });
    return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function readYamlFile(file: string): StackDocument {
    return (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as StackDocument;
}
