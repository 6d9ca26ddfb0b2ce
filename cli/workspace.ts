/**
 * Opening a stack for the commands: the Pulumi CLI, the backend and passphrase, the stack itself (created when it
 * does not exist, without writing into the repository), and the merged stack file the engine reads.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CommandError, LocalWorkspace, PulumiCommand, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";
import { backendUrl, chooseBackend, describeBackend } from "../automation/backend";
import { findOrInstallCli } from "../automation/pulumi-cli";
import {
    effectiveDocument, MissingStackFileError, readStackDocument, readUserLayer, readYamlFile, repoRoot, StackDocument,
    stackFilePath, UserLayer, userLayerPath, writeEngineConfigFile, writeUserLayer,
} from "./stack-files";

export type Log = (line: string) => void;

export interface OpenedStack {
    name: string;
    stack: Stack;
    workspace: LocalWorkspace;
    pulumi: PulumiCommand;
    /** Environment for the Pulumi CLI (backend URL, passphrase file) on top of process.env. */
    env: Record<string, string>;
    backend: string;
    /** The repository's stack file, when it has one. */
    stackFile?: string;
    repo?: StackDocument;
    layer: UserLayer;
}

/** The project's name from Pulumi.yaml. */
export function projectName(root = repoRoot): string {
    const doc = yaml.load(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: string };
    if (typeof doc?.name !== "string") {
        throw new Error(`${path.join(root, "Pulumi.yaml")} has no project name`);
    }
    return doc.name;
}

/** What a Pulumi command returned (the Automation API keeps it on its CommandError, privately typed). */
export interface CommandOutcome {
    code: number;
    stdout: string;
    stderr: string;
    error: CommandError;
}

/**
 * The innermost command result: the Automation API wraps the real CommandError (exit code, output) in another one with
 * code -2 whose text repeats the whole output.
 */
export function innermostCommandError(err: unknown): CommandOutcome | undefined {
    let current = err instanceof CommandError ? err : undefined;
    while (current) {
        const inner = (current as unknown as { commandResult?: { err?: unknown } }).commandResult?.err;
        if (!(inner instanceof CommandError)) {
            break;
        }
        current = inner;
    }
    if (!current) {
        return undefined;
    }
    const result = (current as unknown as { commandResult: { code: number; stdout: string; stderr: string; err?: { exitCode?: number } } }).commandResult;
    // A non-zero exit arrives as execa's error (code -2 here); its exitCode is the CLI's.
    const code = typeof result.err?.exitCode === "number" ? result.err.exitCode : result.code;
    return { code, stdout: result.stdout ?? "", stderr: result.stderr ?? "", error: current };
}

function isStackNotFound(err: unknown): boolean {
    const inner = innermostCommandError(err);
    return err instanceof StackNotFoundError || inner?.error instanceof StackNotFoundError ||
        /no stack named .* found/.test(inner?.stderr ?? String((err as Error)?.message ?? ""));
}

export interface OpenOptions {
    /** Create the stack when it does not exist (up, preview, config set); otherwise fail naming it. */
    create: boolean;
    /** The repository's stack file must exist (up, preview, config); destroy and outputs work without one. */
    requireStackFile: boolean;
    log: Log;
    root?: string;
}

export async function openStack(name: string, opts: OpenOptions): Promise<OpenedStack> {
    const root = opts.root ?? repoRoot;
    const file = stackFilePath(name, root);
    const hasFile = fs.existsSync(file);
    if (opts.requireStackFile && !hasFile) {
        throw new MissingStackFileError(name, file, root);
    }
    let repo: StackDocument | undefined;
    if (hasFile) {
        const read = readStackDocument(file, path.basename(file));
        if (!read.doc || read.problems.length > 0) {
            throw new Error(`${read.problems.map((p) => `${p.file}: ${p.message}`).join("\n")}\n(run npm run check -- --stack ${name})`);
        }
        repo = read.doc;
    }
    const pulumi = await findOrInstallCli({ log: opts.log });
    const backend = chooseBackend();
    backend.notes.forEach(opts.log);
    const env = backend.env;
    const url = backendUrl({ ...process.env, ...env });
    const layer = readUserLayer(userLayerPath(name, url));
    const workspace = await LocalWorkspace.create({ workDir: root, pulumiCommand: pulumi, envVars: env });
    let stack: Stack;
    try {
        stack = await Stack.select(name, workspace);
    } catch (err) {
        if (!isStackNotFound(err)) {
            throw err;
        }
        if (!opts.create) {
            throw new MissingStackError(`stack ${name} does not exist in ${describeBackend(url)}${hasFile ? ` (run npm run up -- --stack ${name} to create it)` : ` and there is no ${path.basename(file)}`}`);
        }
        opts.log(`Creating stack ${name} from ${path.basename(file)} in ${describeBackend(url)}; its passphrase salt is kept in ${layer.file}, not in the repository.`);
        const salt = await createStackOutsideRepository(name, projectName(root), pulumi, env);
        if (salt !== undefined && repo?.encryptionsalt === undefined && layer.encryptionsalt === undefined) {
            layer.encryptionsalt = salt;
            writeUserLayer(layer, name);
        }
        stack = await Stack.select(name, workspace);
    }
    return { name, stack, workspace, pulumi, env, backend: url, stackFile: hasFile ? file : undefined, repo, layer };
}

export class MissingStackError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MissingStackError";
    }
}

/**
 * `pulumi stack init` writes the new stack's encryptionsalt into Pulumi.<stack>.yaml of its working directory; run it
 * in a throwaway directory holding only a Pulumi.yaml of the same project, and return the salt it wrote.
 */
async function createStackOutsideRepository(name: string, project: string, pulumi: PulumiCommand, env: Record<string, string>): Promise<string | undefined> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-init-"));
    try {
        const ws = await LocalWorkspace.create({ workDir: dir, pulumiCommand: pulumi, envVars: env, projectSettings: { name: project, runtime: "nodejs" } });
        await ws.createStack(name);
        const written = path.join(dir, `Pulumi.${name}.yaml`);
        return fs.existsSync(written) ? readYamlFile(written).encryptionsalt : undefined;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * Runs `fn` with the merged stack file (repository + the user's layer) in a 0600 temporary file, removed afterwards;
 * a salt the engine added to it (a stack created elsewhere) is kept in the user's layer.
 */
/**
 * Runs `fn` and puts the repository's Pulumi.<stack>.yaml back as it was. The Automation API reads a stack's outputs
 * with `pulumi stack output --show-secrets` in the checkout (after every update, and for `stack.outputs()`), and the
 * CLI then saves the stack's encryptionsalt into that file, which would take precedence over the user's layer.
 */
export async function keepingStackFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const before = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
    try {
        return await fn();
    } finally {
        const now = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
        if (before === undefined && now !== undefined) {
            fs.rmSync(file);
        } else if (before !== undefined && (now === undefined || !now.equals(before))) {
            fs.writeFileSync(file, before);
        }
    }
}

export async function withEngineConfig<T>(opened: OpenedStack, fn: (configFile: string) => Promise<T>): Promise<T> {
    const doc = effectiveDocument(opened.repo ?? { config: {} }, opened.layer);
    const temp = writeEngineConfigFile(doc, opened.name);
    try {
        return await keepingStackFile(opened.stackFile ?? stackFilePath(opened.name), () => fn(temp.file));
    } finally {
        try {
            const after = readYamlFile(temp.file);
            if (after.encryptionsalt && !opened.repo?.encryptionsalt && !opened.layer.encryptionsalt) {
                opened.layer.encryptionsalt = after.encryptionsalt;
                writeUserLayer(opened.layer, opened.name);
            }
        } finally {
            temp.remove();
        }
    }
}

/** A stack's outputs (name → value, secrets decrypted), through the same CLI, backend and passphrase as `npm run up`. */
export async function readStackOutputs(name: string, log: Log): Promise<Record<string, unknown>> {
    const opened = await openStack(name, { create: false, requireStackFile: false, log });
    const outputs = await keepingStackFile(opened.stackFile ?? stackFilePath(name), () => opened.stack.outputs());
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}

/** The stack's kubeconfig output (a secret), or a one-line reason why there is none yet. */
export async function stackKubeconfig(name: string, log: Log): Promise<string> {
    const outputs = await readStackOutputs(name, log);
    let kubeconfig = outputs.kubeconfig;
    if (kubeconfig !== null && typeof kubeconfig === "object") {
        kubeconfig = yaml.dump(kubeconfig);
    }
    if (typeof kubeconfig !== "string" || kubeconfig.trim() === "") {
        throw new MissingStackError(`stack ${name} has no kubeconfig output yet: npm run up -- --stack ${name} builds its cluster`);
    }
    return kubeconfig;
}
