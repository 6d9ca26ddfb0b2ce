/**
 * The main-job commands: `npm run up | preview | destroy | outputs [-- --stack NAME ...]`. They drive the Pulumi
 * engine through the Automation API on the selected stack (default `dev`) and stream the engine's output.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parseArgs } from "node:util";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { chooseBackend } from "./backend";
import { CliUnavailableError, findOrInstallCli } from "./pulumi-cli";

const repoRoot = path.resolve(__dirname, "..");
const operations = ["up", "preview", "destroy", "outputs"] as const;
type Operation = (typeof operations)[number];

const usage = `usage: npm run <up|preview|destroy|outputs> -- [--stack NAME] [--yes] [--no-policy] [--expect-no-changes] [--refresh] [--show-secrets]
  --stack NAME          stack to use (default: dev); created from Pulumi.NAME.yaml when it does not exist
  --yes                 skip the confirmation of up/destroy (required without a terminal)
  --no-policy           do not run the policy pack in policies/ (it runs by default on up and preview)
  --expect-no-changes   preview/up fail if anything would change (drift check)
  --refresh             refresh the stack's state from the real resources first
  --show-secrets        outputs: print secret values instead of [secret]`;

export class UsageError extends Error {}

interface Options {
    operation: Operation;
    stack: string;
    yes: boolean;
    policy: boolean;
    expectNoChanges: boolean;
    refresh: boolean;
    showSecrets: boolean;
}

export function parseCommandLine(argv: string[]): Options {
    const [operation, ...rest] = argv;
    if (!operations.includes(operation as Operation)) {
        throw new UsageError(`unknown operation ${JSON.stringify(operation ?? "")}; expected one of ${operations.join(", ")}`);
    }
    let parsed;
    try {
        parsed = parseArgs({
            args: rest,
            options: {
                stack: { type: "string", default: process.env.CHARON_STACK ?? "dev" },
                yes: { type: "boolean", default: false },
                "no-policy": { type: "boolean", default: false },
                "expect-no-changes": { type: "boolean", default: false },
                refresh: { type: "boolean", default: false },
                "show-secrets": { type: "boolean", default: false },
            },
            strict: true,
            allowPositionals: false,
        });
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const stack = parsed.values.stack!;
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        throw new UsageError(`--stack ${JSON.stringify(stack)} is not a valid stack name (letters, digits, -, _ and . only)`);
    }
    return {
        operation: operation as Operation,
        stack,
        yes: parsed.values.yes!,
        policy: !parsed.values["no-policy"],
        expectNoChanges: parsed.values["expect-no-changes"]!,
        refresh: parsed.values.refresh!,
        showSecrets: parsed.values["show-secrets"]!,
    };
}

/** The policy configuration of a stack: policies/config/<stack>.json when it exists, else the default. */
export function policyConfigFor(stack: string, root = repoRoot): string {
    const own = path.join(root, "policies", "config", `${stack}.json`);
    return fs.existsSync(own) ? own : path.join(root, "policies", "config", "default.json");
}

async function confirm(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
        return /^y(es)?$/i.test((await rl.question(`${question} (yes/no) `)).trim());
    } finally {
        rl.close();
    }
}

async function openStack(opts: Options, log: (line: string) => void): Promise<Stack> {
    const pulumiCommand = await findOrInstallCli(log);
    const backend = chooseBackend();
    backend.notes.forEach(log);
    const workspace = await LocalWorkspace.create({ workDir: repoRoot, pulumiCommand, envVars: backend.env });
    const known = (await workspace.listStacks()).some((s) => s.name === opts.stack || s.name.endsWith(`/${opts.stack}`));
    if (!known) {
        const stackFile = path.join(repoRoot, `Pulumi.${opts.stack}.yaml`);
        if (!fs.existsSync(stackFile)) {
            throw new UsageError(`stack ${opts.stack} does not exist and there is no ${path.basename(stackFile)}; copy one of stacks/examples/ to the repository root as Pulumi.${opts.stack}.yaml and edit its hosts`);
        }
        log(`Creating stack ${opts.stack} from ${path.basename(stackFile)}.`);
    }
    return LocalWorkspace.createOrSelectStack({ stackName: opts.stack, workDir: repoRoot }, { pulumiCommand, envVars: backend.env });
}

async function run(opts: Options): Promise<void> {
    const log = (line: string) => process.stderr.write(`charon: ${line}\n`);
    const stack = await openStack(opts, log);
    const onOutput = (text: string) => process.stdout.write(text);
    const policyPacks = opts.policy ? [path.join(repoRoot, "policies")] : [];
    const policyPackConfigs = opts.policy ? [policyConfigFor(opts.stack)] : [];
    if (opts.refresh && opts.operation !== "outputs") {
        await stack.refresh({ onOutput });
    }
    switch (opts.operation) {
        case "preview":
            await stack.preview({ onOutput, policyPacks, policyPackConfigs, expectNoChanges: opts.expectNoChanges, diff: true });
            return;
        case "up": {
            if (!opts.yes && !process.stdin.isTTY) {
                throw new UsageError("up changes real machines; without a terminal pass --yes to confirm");
            }
            // Preview first, as `pulumi up` does, also with --yes: a mandatory policy violation stops the run here,
            // before anything is created (the Automation API's up skips its own preview).
            const preview = await stack.preview({ onOutput, policyPacks, policyPackConfigs, expectNoChanges: opts.expectNoChanges });
            const changes = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
            if (changes.length === 0) {
                log("No changes.");
                return;
            }
            if (!opts.yes && !(await confirm(`Apply ${changes.map(([op, n]) => `${n} ${op}`).join(", ")} to stack ${opts.stack}?`))) {
                log("Cancelled.");
                return;
            }
            await stack.up({ onOutput, policyPacks, policyPackConfigs, expectNoChanges: opts.expectNoChanges });
            return;
        }
        case "destroy":
            if (!opts.yes) {
                if (!process.stdin.isTTY) {
                    throw new UsageError("destroy removes the platform from the hosts; without a terminal pass --yes to confirm");
                }
                if (!(await confirm(`Destroy every resource of stack ${opts.stack}?`))) {
                    log("Cancelled.");
                    return;
                }
            }
            await stack.destroy({ onOutput });
            return;
        case "outputs": {
            const outputs = await stack.outputs();
            for (const [name, { value, secret }] of Object.entries(outputs)) {
                const shown = secret && !opts.showSecrets ? "[secret]" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
                process.stdout.write(`${name}: ${shown}\n`);
            }
            return;
        }
    }
}

async function main(): Promise<number> {
    let opts: Options;
    try {
        opts = parseCommandLine(process.argv.slice(2));
    } catch (err) {
        process.stderr.write(`charon: ${(err as Error).message}\n${usage}\n`);
        return 2;
    }
    try {
        await run(opts);
        return 0;
    } catch (err) {
        if (err instanceof CliUnavailableError || err instanceof UsageError) {
            process.stderr.write(`charon: ${err.message}\n`);
            return 2;
        }
        // The engine's own output has already been streamed; its error summary names what failed.
        process.stderr.write(`charon: ${opts.operation} failed on stack ${opts.stack}: ${(err as Error).message.split("\n").slice(0, 40).join("\n")}\n`);
        return 1;
    }
}

if (require.main === module) {
    main().then((code) => process.exit(code));
}
