/**
 * `npm run check -- --stack NAME`: the stack file, its settings (with the user's own secrets layer) and its policy
 * configuration, checked offline — no Pulumi CLI, no network. Every problem at once (exit 1), or one OK line.
 * `npm run up|preview` run the same check first, so a bad setting never reaches the engine.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { resolveSettings, rawSettingsFromConfig, SettingsError } from "../stacks";
import { backendUrl } from "../automation/backend";
import { policyConfigFor, policyConfigProblems } from "./policy-config";
import {
    effectiveDocument, FileProblem, layerProblems, MissingStackFileError, programConfig, readStackDocument, readUserLayer,
    repoRoot, stackFilePath, UserLayer, userLayerPath,
} from "./stack-files";

export const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

export interface CheckOptions {
    stack: string;
    /** The repository (tests point this at a copy). */
    root?: string;
    env?: NodeJS.ProcessEnv;
    home?: string;
}

export interface CheckResult {
    ok: boolean;
    problems: FileProblem[];
    /** The files checked, relative to the root, in order. */
    files: string[];
}

/** The user's layer of a stack (secrets set with `npm run config -- set --secret`), for the backend in use. */
export function userLayerFor(stack: string, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): UserLayer {
    return readUserLayer(userLayerPath(stack, backendUrl(env, home), env, home));
}

export function checkStack(opts: CheckOptions): CheckResult {
    const root = opts.root ?? repoRoot;
    const env = opts.env ?? process.env;
    const home = opts.home ?? os.homedir();
    const rel = (f: string) => path.relative(root, f) || f;
    const problems: FileProblem[] = [];
    const files: string[] = [];

    const stackFile = stackFilePath(opts.stack, root);
    if (!fs.existsSync(stackFile)) {
        throw new MissingStackFileError(opts.stack, stackFile, root);
    }
    files.push(rel(stackFile));
    const read = readStackDocument(stackFile, rel(stackFile));
    problems.push(...read.problems);
    if (read.doc) {
        let layer: UserLayer | undefined;
        try {
            layer = userLayerFor(opts.stack, env, home);
        } catch (err) {
            problems.push({ file: rel(stackFile), message: `your secrets layer: ${(err as Error).message}` });
        }
        if (layer) {
            const fromLayer = layerProblems(read.doc, layer);
            problems.push(...fromLayer.map((message) => ({ file: rel(stackFile), message })));
            if (fromLayer.length === 0) {
                const { config, secretKeys } = programConfig(effectiveDocument(read.doc, layer));
                try {
                    resolveSettings(rawSettingsFromConfig(config), { secretKeys });
                } catch (err) {
                    if (!(err instanceof SettingsError)) {
                        throw err;
                    }
                    problems.push(...err.problems.map((p) => ({ file: rel(stackFile), message: p.message })));
                }
            }
        }
    }

    const policyFile = policyConfigFor(opts.stack, root);
    files.push(rel(policyFile));
    if (!fs.existsSync(policyFile)) {
        problems.push({ file: rel(policyFile), message: "does not exist (every stack runs the policy pack with its own file or policies/config/default.json)" });
    } else {
        problems.push(...policyConfigProblems(fs.readFileSync(policyFile, "utf8")).map((message) => ({ file: rel(policyFile), message })));
    }
    return { ok: problems.length === 0, problems, files };
}

/** The report: problems grouped by file, then a last line; or the one OK line. */
export function formatCheck(stack: string, result: CheckResult): string {
    if (result.ok) {
        return `stack ${stack}: OK (${result.files[0]}: file and settings; ${result.files[1]}: policy configuration)\n`;
    }
    const lines: string[] = [];
    for (const file of [...new Set(result.problems.map((p) => p.file))]) {
        const own = result.problems.filter((p) => p.file === file);
        lines.push(`${file}: ${own.length} problem${own.length === 1 ? "" : "s"}`);
        lines.push(...own.map((p) => `  - ${p.message}`));
    }
    const n = result.problems.length;
    lines.push(`stack ${stack}: ${n} problem${n === 1 ? "" : "s"}`);
    return lines.join("\n") + "\n";
}

/** Where the report goes (stdout and stderr, or a test's capture). */
export interface Writer {
    write(text: string): unknown;
}

const usage = "usage: npm run check -- [--stack NAME]   (default dev; checks Pulumi.NAME.yaml, its settings and its policy configuration, offline)";

/** The command: returns the exit code; the report goes to `out`, usage errors and a missing stack file to `err`. */
export function runCheck(argv: string[], opts: Omit<CheckOptions, "stack"> = {}, out: Writer = process.stdout, err: Writer = process.stderr): number {
    let stack: string;
    try {
        const parsed = parseArgs({ args: argv, options: { stack: { type: "string", default: process.env.CHARON_STACK ?? "dev" } }, strict: true });
        stack = parsed.values.stack!;
    } catch (e) {
        err.write(`charon: ${(e as Error).message}\n${usage}\n`);
        return 2;
    }
    if (!STACK_NAME.test(stack)) {
        err.write(`charon: --stack ${JSON.stringify(stack)} is not a valid stack name (letters, digits, -, _ and . only)\n`);
        return 2;
    }
    try {
        const result = checkStack({ ...opts, stack });
        out.write(formatCheck(stack, result));
        return result.ok ? 0 : 1;
    } catch (e) {
        if (e instanceof MissingStackFileError) {
            err.write(`charon: ${e.message}\n`);
            return 1;
        }
        throw e;
    }
}

if (require.main === module) {
    process.exitCode = runCheck(process.argv.slice(2));
}
