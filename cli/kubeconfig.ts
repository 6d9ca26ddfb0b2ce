/**
 * `npm run kubeconfig -- [--stack NAME] [--context NAME] [--kubeconfig FILE] --write [--force]`: merges the stack's
 * cluster into a kubeconfig file (default: the first of $KUBECONFIG, else ~/.kube/config) as one named context
 * (default `charon-<stack>`) with its own cluster and user entries. Other contexts are never touched; an entry of
 * the same name with other contents is replaced only when confirmed (a question on a terminal, `--force` elsewhere).
 * The file is written 0600, atomically. Without --write it only says what it would do.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parseArgs } from "node:util";
import * as yaml from "js-yaml";
import { STACK_NAME } from "./check";
import { CliUnavailableError } from "../automation/pulumi-cli";
import { MissingStackError, stackKubeconfig } from "./workspace";

export class KubeconfigError extends Error {}

type Named = { name: string; [key: string]: unknown };
interface KubeconfigDoc {
    apiVersion?: string;
    kind?: string;
    clusters?: Named[];
    contexts?: Named[];
    users?: Named[];
    "current-context"?: string;
    [key: string]: unknown;
}

/** The default kubeconfig file: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
    const first = (env.KUBECONFIG ?? "").split(path.delimiter).find((p) => p.length > 0);
    return first ?? path.join(home, ".kube", "config");
}

function parseDoc(text: string, what: string): KubeconfigDoc {
    let doc: unknown;
    try {
        doc = yaml.load(text);
    } catch (err) {
        throw new KubeconfigError(`${what} is not valid YAML (${(err as yaml.YAMLException).reason ?? (err as Error).message}); nothing was written`);
    }
    if (doc === undefined || doc === null) {
        return {};
    }
    if (typeof doc !== "object" || Array.isArray(doc)) {
        throw new KubeconfigError(`${what} is not a kubeconfig (a mapping with clusters, contexts, users); nothing was written`);
    }
    return doc as KubeconfigDoc;
}

/** The stack's current context as three entries all named `name`. */
export function namedEntries(stackKubeconfigText: string, name: string): { cluster: Named; user: Named; context: Named; server: string } {
    const doc = parseDoc(stackKubeconfigText, "the stack's kubeconfig output");
    const currentName = doc["current-context"] ?? doc.contexts?.[0]?.name;
    const ctx = (doc.contexts ?? []).find((c) => c.name === currentName)?.context as { cluster?: string; user?: string; namespace?: string } | undefined;
    const cluster = (doc.clusters ?? []).find((c) => c.name === ctx?.cluster)?.cluster as { server?: string } | undefined;
    const user = (doc.users ?? []).find((u) => u.name === ctx?.user)?.user;
    if (!ctx || !cluster || typeof cluster.server !== "string" || !user) {
        throw new KubeconfigError("the stack's kubeconfig output has no complete current context (cluster with a server, user)");
    }
    return {
        cluster: { name, cluster },
        user: { name, user },
        context: { name, context: { cluster: name, user: name, ...(ctx.namespace ? { namespace: ctx.namespace } : {}) } },
        server: cluster.server,
    };
}

export interface MergePlan {
    /** added: new name; unchanged: identical entries exist; clash: entries of that name differ (replaced if forced). */
    status: "added" | "unchanged" | "clash";
    /** The entries of the same name that differ, e.g. `context charon-dev (cluster https://a:6443)`. */
    clashes: string[];
    doc: KubeconfigDoc;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Merges the stack's entries into an existing kubeconfig (text or absent), replacing clashing entries when `force`. */
export function mergeKubeconfig(existing: string | undefined, entries: ReturnType<typeof namedEntries>, force: boolean, file = "the kubeconfig"): MergePlan {
    const doc: KubeconfigDoc = existing === undefined ? {} : parseDoc(existing, file);
    for (const list of ["clusters", "contexts", "users"] as const) {
        if (doc[list] !== undefined && doc[list] !== null && !Array.isArray(doc[list])) {
            throw new KubeconfigError(`${file}: ${list} is not a list; nothing was written`);
        }
    }
    const out: KubeconfigDoc = { apiVersion: "v1", kind: "Config", ...doc };
    const clashes: string[] = [];
    let present = 0;
    for (const [list, entry] of [["clusters", entries.cluster], ["users", entries.user], ["contexts", entries.context]] as const) {
        const items = [...(doc[list] ?? [])];
        const i = items.findIndex((x) => x?.name === entry.name);
        if (i >= 0) {
            present++;
            if (!same(items[i], entry)) {
                const old = items[i] as { cluster?: { server?: string }; context?: { cluster?: string } };
                const detail = list === "clusters" ? ` (server ${old.cluster?.server ?? "?"})` : list === "contexts" ? ` (cluster ${old.context?.cluster ?? "?"})` : "";
                clashes.push(`${list.slice(0, -1)} ${entry.name}${detail}`);
                if (force) {
                    items[i] = entry;
                }
            }
        } else {
            items.push(entry);
        }
        out[list] = items;
    }
    if (!out["current-context"]) {
        out["current-context"] = entries.context.name;
    }
    const status = clashes.length > 0 ? "clash" : present === 3 ? "unchanged" : "added";
    return { status, clashes, doc: out };
}

/** Writes the kubeconfig 0600 next to the target (a temp file renamed over it); creates ~/.kube 0700 if needed. */
export function writeKubeconfigFile(file: string, doc: KubeconfigDoc): string {
    const target = fs.existsSync(file) ? fs.realpathSync(file) : file;
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.charon-${process.pid}`);
    const fd = fs.openSync(tmp, "wx", 0o600);
    try {
        fs.fchmodSync(fd, 0o600);
        fs.writeSync(fd, yaml.dump(doc, { lineWidth: -1, noRefs: true }));
        fs.fsyncSync(fd);
    } catch (err) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
    return target;
}

async function ask(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    try {
        return /^y(es)?$/i.test((await rl.question(`${question} (yes/no) `)).trim());
    } finally {
        rl.close();
    }
}

const usage = "usage: npm run kubeconfig -- [--stack NAME] [--context NAME] [--kubeconfig FILE] --write [--force]";

export interface KubeconfigOptions {
    stack: string;
    context: string;
    file: string;
    write: boolean;
    force: boolean;
}

export function parseKubeconfigArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): KubeconfigOptions {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", default: env.CHARON_STACK ?? "dev" },
                context: { type: "string" },
                kubeconfig: { type: "string" },
                write: { type: "boolean", default: false },
                force: { type: "boolean", default: false },
            },
            strict: true,
            allowPositionals: false,
        });
    } catch (err) {
        throw new KubeconfigError(`${(err as Error).message}\n${usage}`);
    }
    const stack = parsed.values.stack!;
    if (!STACK_NAME.test(stack)) {
        throw new KubeconfigError(`--stack ${JSON.stringify(stack)} is not a valid stack name (letters, digits, -, _ and . only)`);
    }
    const context = parsed.values.context ?? `charon-${stack}`;
    if (!/^[A-Za-z0-9_.@:-]+$/.test(context)) {
        throw new KubeconfigError(`--context ${JSON.stringify(context)} is not a usable context name (letters, digits and - _ . @ :)`);
    }
    return { stack, context, file: parsed.values.kubeconfig ?? defaultKubeconfigFile(env), write: parsed.values.write!, force: parsed.values.force! };
}

const log = (line: string) => process.stderr.write(`charon: ${line}\n`);

/** The command, given the stack's kubeconfig text (how tests drive it) — returns the exit code. */
export async function mergeIntoFile(opts: KubeconfigOptions, stackKubeconfigText: string, interactive = process.stdin.isTTY === true): Promise<number> {
    const entries = namedEntries(stackKubeconfigText, opts.context);
    const existing = fs.existsSync(opts.file) ? fs.readFileSync(opts.file, "utf8") : undefined;
    let plan = mergeKubeconfig(existing, entries, opts.force, opts.file);
    if (plan.status === "unchanged") {
        log(`${opts.file} already has context ${opts.context} for stack ${opts.stack} (${entries.server}); nothing to do`);
        return 0;
    }
    if (!opts.write) {
        log(`would ${plan.status === "clash" ? `replace ${plan.clashes.join(", ")} with` : "add"} context ${opts.context} (cluster ${entries.server}) in ${opts.file}; pass --write to do it`);
        return 0;
    }
    if (plan.status === "clash" && !opts.force) {
        const question = `${opts.file} already has ${plan.clashes.join(", ")}, different from stack ${opts.stack}'s (${entries.server}). Replace ${plan.clashes.length === 1 ? "it" : "them"}?`;
        if (!interactive) {
            log(`${opts.file} already has ${plan.clashes.join(", ")}, different from stack ${opts.stack}'s (${entries.server}); nothing was written. ` +
                "Pass --force to replace it, or --context NAME to add the stack under another name");
            return 1;
        }
        if (!(await ask(question))) {
            log("nothing was written");
            return 1;
        }
        plan = mergeKubeconfig(existing, entries, true, opts.file);
    }
    const before = existing === undefined ? undefined : fs.statSync(opts.file).mode & 0o777;
    const written = writeKubeconfigFile(opts.file, plan.doc);
    const current = plan.doc["current-context"] === opts.context ? "it is the current context" : `use it with kubectl --context ${opts.context} (or kubectl config use-context ${opts.context})`;
    log(`${plan.status === "clash" ? "replaced" : "added"} context ${opts.context} (cluster ${entries.server}) in ${written}, mode 0600` +
        `${before !== undefined && before !== 0o600 ? ` (was ${before.toString(8)})` : ""}; ${current}`);
    return 0;
}

export async function main(argv: string[]): Promise<number> {
    let opts: KubeconfigOptions;
    try {
        opts = parseKubeconfigArgs(argv);
    } catch (err) {
        log((err as Error).message);
        return 2;
    }
    try {
        return await mergeIntoFile(opts, await stackKubeconfig(opts.stack, log));
    } catch (err) {
        if (err instanceof KubeconfigError || err instanceof MissingStackError) {
            log(err.message);
            return 1;
        }
        if (err instanceof CliUnavailableError) {
            log(err.message);
            return 2;
        }
        log(`kubeconfig for stack ${opts.stack} failed: ${(err as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}
