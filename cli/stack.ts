/**
 * The main-job commands: `npm run up | preview | destroy | outputs [-- --stack NAME ...]`. They check the stack
 * offline first (`npm run check`), then drive the Pulumi engine through the Automation API on the selected stack
 * (default `dev`), stream the engine's output, and end with a short report: policy violations and how to waive one,
 * or why the run failed. The repository is never written: the engine reads the merged stack file (the repository's
 * Pulumi.<stack>.yaml plus the user's secrets layer) from a temporary file.
 */
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parseArgs } from "node:util";
import { checkStack, formatCheck, STACK_NAME } from "./check";
import { engineFailure, formatViolations, plain, ViolationCollector } from "./engine-report";
import { policyConfigFor } from "./policy-config";
import { CliUnavailableError } from "../automation/pulumi-cli";
import { MissingStackFileError, repoRoot, stackFilePath } from "./stack-files";
import { keepingStackFile, MissingStackError, openStack, withEngineConfig } from "./workspace";

export { policyConfigFor };

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
    if (!STACK_NAME.test(stack)) {
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

async function confirm(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
        return /^y(es)?$/i.test((await rl.question(`${question} (yes/no) `)).trim());
    } finally {
        rl.close();
    }
}

/** A settings or policy-configuration problem found before the engine ran. */
class PrecheckError extends Error {}

/** The engine failed; the message is the short cause (its full output has been streamed already). */
class EngineFailed extends Error {}

const log = (line: string) => process.stderr.write(`charon: ${line}\n`);

async function run(opts: Options): Promise<void> {
    if ((opts.operation === "up" || opts.operation === "destroy") && !opts.yes && !process.stdin.isTTY) {
        throw new UsageError(`${opts.operation} ${opts.operation === "up" ? "changes real machines" : "removes the platform from the hosts"}; without a terminal pass --yes to confirm`);
    }
    const changes = opts.operation === "up" || opts.operation === "preview";
    if (changes) {
        const result = checkStack({ stack: opts.stack });
        const policyFile = result.files[1];
        const problems = result.problems.filter((p) => opts.policy || p.file !== policyFile);
        if (problems.length > 0) {
            process.stderr.write(formatCheck(opts.stack, { ...result, ok: false, problems }));
            throw new PrecheckError(`nothing was ${opts.operation === "up" ? "changed" : "previewed"}; fix the problems above (npm run check -- --stack ${opts.stack} checks again)`);
        }
    }
    const opened = await openStack(opts.stack, { create: changes, requireStackFile: changes, log });
    const { stack } = opened;
    if (opts.operation === "outputs") {
        const outputs = await keepingStackFile(opened.stackFile ?? stackFilePath(opts.stack), () => stack.outputs());
        for (const [name, { value, secret }] of Object.entries(outputs)) {
            const shown = secret && !opts.showSecrets ? "[secret]" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
            process.stdout.write(`${name}: ${shown}\n`);
        }
        return;
    }
    const policyConfig = policyConfigFor(opts.stack);
    const policyPacks = opts.policy ? [path.join(repoRoot, "policies")] : [];
    const policyPackConfigs = opts.policy ? [policyConfig] : [];
    const color = process.stdout.isTTY ? "always" : "never";
    // Whether the engine's streamed output already showed the program's settings error (then it is not repeated).
    let tail = "";
    let streamedSettingsError = false;
    const watch = (text: string) => {
        const window = plain(tail + text);
        streamedSettingsError ||= window.includes("Invalid stack settings");
        tail = window.slice(-64);
    };
    const onOutput = (text: string) => {
        process.stdout.write(text);
        watch(text);
    };
    // With --diff the CLI writes its diagnostics to stderr: stream those too, once.
    const onError = (text: string) => {
        process.stderr.write(text);
        watch(text);
    };
    const violations = new ViolationCollector();
    const onEvent = violations.onEvent;
    try {
        await withEngineConfig(opened, async (configFile) => {
            if (opts.refresh) {
                await stack.refresh({ onOutput, onError, configFile, color });
            }
            switch (opts.operation) {
                case "preview":
                    await stack.preview({ onOutput, onError, onEvent, policyPacks, policyPackConfigs, expectNoChanges: opts.expectNoChanges, diff: true, configFile, color });
                    return;
                case "up": {
                    // Preview first, as `pulumi up` does, also with --yes: a mandatory policy violation stops the run
                    // here, before anything is created (the Automation API's up skips its own preview).
                    const preview = await stack.preview({ onOutput, onError, onEvent, policyPacks, policyPackConfigs, expectNoChanges: opts.expectNoChanges, configFile, color });
                    const planned = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
                    if (planned.length === 0) {
                        log("No changes.");
                        return;
                    }
                    process.stdout.write(formatViolations(violations.violations, opts.stack, policyConfig, repoRoot));
                    violations.violations.length = 0;
                    if (!opts.yes && !(await confirm(`Apply ${planned.map(([op, n]) => `${n} ${op}`).join(", ")} to stack ${opts.stack}?`))) {
                        log("Cancelled.");
                        return;
                    }
                    await stack.up({ onOutput, onError, onEvent, policyPacks, policyPackConfigs, expectNoChanges: opts.expectNoChanges, configFile, color });
                    return;
                }
                case "destroy":
                    if (!opts.yes) {
                        if (!(await confirm(`Destroy every resource of stack ${opts.stack}?`))) {
                            log("Cancelled.");
                            return;
                        }
                    }
                    await stack.destroy({ onOutput, onError, configFile, color });
                    return;
            }
        });
    } catch (err) {
        if (err instanceof UsageError) {
            throw err;
        }
        const cause = engineFailure(err);
        // A settings error the program raised has just been streamed in the engine's diagnostics: do not repeat it.
        throw new EngineFailed(cause.startsWith("Invalid stack settings") && streamedSettingsError ? "the stack's settings are invalid (listed above)" : cause);
    } finally {
        process.stdout.write(formatViolations(violations.violations, opts.stack, policyConfig, repoRoot));
    }
}

export async function main(argv: string[]): Promise<number> {
    let opts: Options;
    try {
        opts = parseCommandLine(argv);
    } catch (err) {
        process.stderr.write(`charon: ${(err as Error).message}\n${usage}\n`);
        return 2;
    }
    try {
        await run(opts);
        return 0;
    } catch (err) {
        if (err instanceof PrecheckError || err instanceof MissingStackFileError || err instanceof MissingStackError) {
            log(err.message);
            return 1;
        }
        if (err instanceof CliUnavailableError || err instanceof UsageError) {
            log(err.message);
            return 2;
        }
        if (err instanceof EngineFailed) {
            log(`${opts.operation} failed on stack ${opts.stack}: ${err.message.includes("\n") ? "\n" : ""}${err.message}`);
            return 1;
        }
        log(`${opts.operation} failed on stack ${opts.stack}: ${engineFailure(err)}`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}
