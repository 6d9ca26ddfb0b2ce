/**
 * `npm run kubectl -- [--stack NAME] ARGS...`: kubectl against a stack's cluster with the kubeconfig from the
 * stack's outputs. With kubectl on PATH the kubeconfig is written to a 0600 file in a private temporary directory
 * and removed when kubectl ends — also on an error or a signal; without kubectl, the project's minimal client
 * (cli/kube-client.ts) runs `get`, `api-resources` and `version` with the kubeconfig in memory. Either way one line
 * on stderr says which client runs.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { STACK_NAME } from "./check";
import { httpTransport, KubeClientError, kubeTarget, parseKubeCommand, runKubeCommand } from "./kube-client";
import { CliUnavailableError } from "../automation/pulumi-cli";
import { MissingStackError, stackKubeconfig } from "./workspace";

export class KubectlUsageError extends Error {}

/** Our own leading options (`--stack NAME`), then kubectl's arguments untouched (an optional `--` between). */
export function splitArgs(argv: string[], defaultStack = process.env.CHARON_STACK ?? "dev"): { stack: string; args: string[] } {
    let stack = defaultStack;
    let i = 0;
    for (; i < argv.length; i++) {
        if (argv[i] === "--stack") {
            if (argv[i + 1] === undefined) {
                throw new KubectlUsageError("--stack needs a stack name");
            }
            stack = argv[++i];
        } else if (argv[i].startsWith("--stack=")) {
            stack = argv[i].slice("--stack=".length);
        } else {
            break;
        }
    }
    if (argv[i] === "--") {
        i++;
    }
    if (!STACK_NAME.test(stack)) {
        throw new KubectlUsageError(`--stack ${JSON.stringify(stack)} is not a valid stack name (letters, digits, -, _ and . only)`);
    }
    const args = argv.slice(i);
    if (args.length === 0) {
        throw new KubectlUsageError("usage: npm run kubectl -- [--stack NAME] ARGS...   e.g. npm run kubectl -- get nodes");
    }
    return { stack, args };
}

/** The first executable `kubectl` on PATH, skipping the project's node_modules/.bin. */
export function findKubectl(env: NodeJS.ProcessEnv = process.env): string | undefined {
    for (const dir of (env.PATH ?? "").split(path.delimiter)) {
        if (dir === "" || dir.endsWith(`${path.sep}node_modules${path.sep}.bin`)) {
            continue;
        }
        const candidate = path.join(dir, "kubectl");
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) {
                return candidate;
            }
        } catch {
            // not here
        }
    }
    return undefined;
}

/** A kubeconfig on disk for one command: 0600 in a new 0700 directory; `remove` is idempotent and synchronous. */
export function writeTempKubeconfig(kubeconfig: string): { file: string; remove: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-kubeconfig-"));
    const file = path.join(dir, "config");
    const fd = fs.openSync(file, "wx", 0o600);
    try {
        fs.fchmodSync(fd, 0o600);
        fs.writeSync(fd, kubeconfig);
    } finally {
        fs.closeSync(fd);
    }
    let removed = false;
    return {
        file,
        remove: () => {
            if (!removed) {
                removed = true;
                fs.rmSync(dir, { recursive: true, force: true });
            }
        },
    };
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/**
 * Runs kubectl with the kubeconfig in a temporary file and resolves with its exit code (128 + n when a signal ended
 * it). Signals to this process are passed on to kubectl; the file is removed once kubectl is gone, whatever happens.
 */
export function runKubectl(kubectl: string, kubeconfig: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const temp = writeTempKubeconfig(kubeconfig);
    const onExit = () => temp.remove();
    process.on("exit", onExit);
    return new Promise<number>((resolve) => {
        let child: ReturnType<typeof spawn>;
        const forward: Partial<Record<NodeJS.Signals, () => void>> = {};
        const finish = (code: number) => {
            for (const s of SIGNALS) {
                process.off(s, forward[s]!);
            }
            temp.remove();
            process.off("exit", onExit);
            resolve(code);
        };
        for (const s of SIGNALS) {
            forward[s] = () => {
                child?.kill(s);
            };
            process.on(s, forward[s]!);
        }
        try {
            child = spawn(kubectl, args, { stdio: "inherit", env: { ...env, KUBECONFIG: temp.file } });
        } catch (err) {
            process.stderr.write(`charon: cannot run ${kubectl}: ${(err as Error).message}\n`);
            finish(1);
            return;
        }
        child.on("error", (err) => {
            process.stderr.write(`charon: cannot run ${kubectl}: ${err.message}\n`);
            finish(1);
        });
        child.on("exit", (code, signal) => finish(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 1)));
    });
}

const log = (line: string) => process.stderr.write(`charon: ${line}\n`);

export async function main(argv: string[]): Promise<number> {
    let stack: string;
    let args: string[];
    try {
        ({ stack, args } = splitArgs(argv));
    } catch (err) {
        log((err as Error).message);
        return 2;
    }
    try {
        const kubectl = findKubectl();
        if (!kubectl) {
            parseKubeCommand(args); // refuse an unsupported command before reaching for the stack
        }
        const kubeconfig = await stackKubeconfig(stack, log);
        if (kubectl) {
            log(`kubectl (${kubectl}) against stack ${stack}'s cluster`);
            return await runKubectl(kubectl, kubeconfig, args);
        }
        log(`kubectl is not on PATH: charon's built-in client (get, api-resources, version) against stack ${stack}'s cluster`);
        const target = kubeTarget(kubeconfig);
        return await runKubeCommand(parseKubeCommand(args), target, httpTransport(target.access), {
            out: (t) => process.stdout.write(t),
            err: (t) => process.stderr.write(t),
        });
    } catch (err) {
        if (err instanceof KubeClientError) {
            process.stderr.write(`${/^Error from server/.test(err.message) ? "" : "charon: "}${err.message}\n`);
            return 1;
        }
        if (err instanceof MissingStackError || err instanceof CliUnavailableError) {
            log(err.message);
            return err instanceof CliUnavailableError ? 2 : 1;
        }
        log(`kubectl on stack ${stack} failed: ${(err as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}
