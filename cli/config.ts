/**
 * `npm run config -- [--stack NAME] [list | get KEY | set [--secret] KEY [VALUE] | rm KEY]`: a stack's settings
 * through the same backend, passphrase and files as `npm run up`. Plain values go into the repository's
 * Pulumi.<stack>.yaml (the file reviewers see); secrets, read from stdin, go encrypted into the user's own layer
 * outside the repository. Keys are config paths: `charon:sshPrivateKey`, `charon:hosts[1].privateKey`.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { STACK_NAME, userLayerFor } from "./check";
import { CliUnavailableError } from "../automation/pulumi-cli";
import {
    effectiveDocument, formatConfigPath, getAtPath, isSecure, MissingStackFileError, parseConfigPath, readStackDocument,
    readYamlFile, repoRoot, setAtPath, StackDocument, stackFilePath, writeUserLayer,
} from "./stack-files";
import { MissingStackError, OpenedStack, openStack, withEngineConfig } from "./workspace";

const usage = `usage: npm run config -- [--stack NAME] [list]                        the stack's settings and where each is set (secrets as [secret])
       npm run config -- [--stack NAME] get KEY [--show-secrets]
       npm run config -- [--stack NAME] set KEY [VALUE]                 a plain value, into Pulumi.NAME.yaml (VALUE from stdin when omitted)
       npm run config -- [--stack NAME] set --secret KEY < FILE         a secret, from stdin, encrypted into your layer outside the repository
       npm run config -- [--stack NAME] rm KEY
KEY is namespace:name with an optional path, e.g. charon:sshPrivateKey or charon:hosts[1].privateKey (--path is implied).`;

export class ConfigUsageError extends Error {}

export interface ConfigCommand {
    action: "list" | "get" | "set" | "rm";
    stack: string;
    key?: string;
    value?: string;
    secret: boolean;
    showSecrets: boolean;
}

export function parseConfigCommand(argv: string[]): ConfigCommand {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s", default: process.env.CHARON_STACK ?? "dev" },
                secret: { type: "boolean", default: false },
                plaintext: { type: "boolean", default: false },
                path: { type: "boolean", default: false },
                "show-secrets": { type: "boolean", default: false },
            },
            strict: true,
            allowPositionals: true,
        });
    } catch (err) {
        throw new ConfigUsageError((err as Error).message);
    }
    const [action = "list", key, value, ...extra] = parsed.positionals;
    const stack = parsed.values.stack!;
    if (!STACK_NAME.test(stack)) {
        throw new ConfigUsageError(`--stack ${JSON.stringify(stack)} is not a valid stack name (letters, digits, -, _ and . only)`);
    }
    if (!["list", "get", "set", "rm"].includes(action)) {
        throw new ConfigUsageError(`unknown action ${JSON.stringify(action)}; expected list, get, set or rm`);
    }
    const cmd: ConfigCommand = { action: action as ConfigCommand["action"], stack, key, value, secret: parsed.values.secret!, showSecrets: parsed.values["show-secrets"]! };
    const wanted = { list: 0, get: 1, set: 2, rm: 1 }[cmd.action];
    if (extra.length > 0 || (cmd.action !== "set" && value !== undefined) || (cmd.action === "list" && key !== undefined)) {
        throw new ConfigUsageError(`too many arguments for ${cmd.action}: ${[key, value, ...extra].filter((x) => x !== undefined).slice(wanted).join(" ")}`);
    }
    if (cmd.action !== "list" && key === undefined) {
        throw new ConfigUsageError(`${cmd.action} needs a KEY, e.g. charon:sshPrivateKey`);
    }
    if (key !== undefined) {
        try {
            parseConfigPath(key);
        } catch (err) {
            throw new ConfigUsageError((err as Error).message);
        }
    }
    if (cmd.secret && cmd.action !== "set") {
        throw new ConfigUsageError("--secret belongs to set");
    }
    if (cmd.secret && value !== undefined) {
        throw new ConfigUsageError(`a secret is read from stdin, not from the command line (where ps and your shell history would keep it): npm run config -- set --secret ${key} < FILE`);
    }
    return cmd;
}

const log = (line: string) => process.stderr.write(`charon: ${line}\n`);

/** Reads stdin to the end; on a terminal without echo (input is not shown), ending at Ctrl-D. */
async function readValue(what: string, hidden: boolean): Promise<Buffer> {
    const stdin = process.stdin;
    if (!stdin.isTTY) {
        const chunks: Buffer[] = [];
        for await (const chunk of stdin) {
            chunks.push(chunk as Buffer);
        }
        return Buffer.concat(chunks);
    }
    process.stderr.write(`Enter ${what}${hidden ? " (not shown)" : ""}, then Ctrl-D: `);
    if (!hidden) {
        const chunks: Buffer[] = [];
        for await (const chunk of stdin) {
            chunks.push(chunk as Buffer);
        }
        return Buffer.concat(chunks);
    }
    return new Promise((resolve, reject) => {
        let text = "";
        stdin.setRawMode(true);
        stdin.resume();
        const done = (err?: Error) => {
            stdin.setRawMode(false);
            stdin.pause();
            stdin.off("data", onData);
            process.stderr.write("\n");
            if (err) {
                reject(err);
            } else {
                resolve(Buffer.from(text));
            }
        };
        const onData = (data: Buffer) => {
            for (const ch of data.toString("utf8")) {
                if (ch === "\u0004") {
                    return done();
                } else if (ch === "\u0003") {
                    return done(new ConfigUsageError("cancelled"));
                } else if (ch === "\u007f" || ch === "\b") {
                    text = text.slice(0, -1);
                } else {
                    text += ch === "\r" ? "\n" : ch;
                }
            }
        };
        stdin.on("data", onData);
    });
}

/** Runs the Pulumi CLI of an opened stack with its backend environment; fails with the CLI's own error text. */
export function runPulumi(opened: OpenedStack, args: string[], stdin?: Buffer): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        // Our flags go before a "--" that ends the options (a value may start with "-").
        const end = args.indexOf("--");
        const full = end < 0 ? [...args, "--stack", opened.name, "--non-interactive"]
            : [...args.slice(0, end), "--stack", opened.name, "--non-interactive", ...args.slice(end)];
        const child = spawn(opened.pulumi.command, full, {
            cwd: repoRoot,
            env: { ...process.env, ...opened.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => {
            if (code === 0) {
                resolve({ stdout, stderr });
            } else {
                const reason = stderr.split("\n").map((l) => l.trim()).filter((l) => l.length > 0 && !/^warning:/.test(l)).join("; ");
                reject(new Error(`pulumi ${args[0]} ${args[1] ?? ""} failed: ${reason || `exit code ${code}`}`));
            }
        });
        child.stdin.end(stdin ?? "");
    });
}

function repoDocument(stack: string): { file: string; doc: StackDocument } {
    const file = stackFilePath(stack);
    if (!fs.existsSync(file)) {
        throw new MissingStackFileError(stack, file);
    }
    const read = readStackDocument(file, path.basename(file));
    if (!read.doc || read.problems.length > 0) {
        throw new ConfigUsageError(`${read.problems.map((p) => `${p.file}: ${p.message}`).join("; ")} (npm run check -- --stack ${stack})`);
    }
    return { file, doc: read.doc };
}

/** A value as `get` and `list` show it: strings as they are, structures as JSON, secrets as [secret]. */
function shown(value: unknown): string {
    const masked = (v: unknown): unknown => isSecure(v) ? "[secret]" : Array.isArray(v) ? v.map(masked)
        : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)])) : v;
    const m = masked(value);
    return typeof m === "string" ? m : JSON.stringify(m);
}

function containsSecret(value: unknown): boolean {
    return isSecure(value) || (value !== null && typeof value === "object" && Object.values(value).some(containsSecret));
}

export async function runConfig(cmd: ConfigCommand): Promise<void> {
    const { file, doc } = repoDocument(cmd.stack);
    const shownFile = path.basename(file);
    if (cmd.action === "list" || cmd.action === "get") {
        const layer = userLayerFor(cmd.stack);
        const effective = effectiveDocument(doc, layer);
        if (cmd.action === "list") {
            const secrets = Object.keys(layer.secrets);
            process.stdout.write(`stack ${cmd.stack}: ${shownFile}${secrets.length > 0 ? ` with your secrets from ${layer.file} (${secrets.join(", ")})` : ""}\n`);
            for (const [key, value] of Object.entries(effective.config ?? {})) {
                process.stdout.write(`  ${key}: ${shown(value)}\n`);
            }
            return;
        }
        const p = parseConfigPath(cmd.key!);
        const key = formatConfigPath(p);
        const value = getAtPath((effective.config ?? {})[p.key], p.path);
        if (value === undefined) {
            throw new ConfigUsageError(`${cmd.key} is not set for stack ${cmd.stack} (neither in ${shownFile} nor in your secrets layer)`);
        }
        if (!containsSecret(value)) {
            process.stdout.write(`${shown(value)}\n`);
        } else if (!cmd.showSecrets) {
            process.stdout.write(`${shown(value)}   (a secret; --show-secrets prints it)\n`);
        } else {
            const opened = await openStack(cmd.stack, { create: false, requireStackFile: true, log });
            const { stdout } = await withEngineConfig(opened, (configFile) => runPulumi(opened, ["config", "get", "--path", "--config-file", configFile, key]));
            process.stdout.write(stdout);
        }
        return;
    }

    const p = parseConfigPath(cmd.key!);
    const key = formatConfigPath(p);
    if (cmd.action === "rm") {
        const layer = userLayerFor(cmd.stack);
        if (layer.secrets[key] !== undefined) {
            delete layer.secrets[key];
            writeUserLayer(layer, cmd.stack);
            log(`removed the secret ${key} of stack ${cmd.stack} from ${layer.file}`);
            return;
        }
        if (getAtPath((doc.config ?? {})[p.key], p.path) === undefined) {
            throw new ConfigUsageError(`${key} is not set for stack ${cmd.stack} (neither in ${shownFile} nor in your secrets layer)`);
        }
        const opened = await openStack(cmd.stack, { create: true, requireStackFile: true, log });
        await runPulumi(opened, ["config", "rm", "--path", "--config-file", file, key]);
        log(`removed ${key} from ${shownFile}`);
        return;
    }

    // set
    const value = cmd.value !== undefined ? Buffer.from(cmd.value) : await readValue(`the value of ${key}`, cmd.secret);
    if (value.length === 0) {
        throw new ConfigUsageError(`no value for ${key}: stdin was empty`);
    }
    if (cmd.secret) {
        // Where the secret goes must exist in the stack file (a list entry cannot be made up).
        try {
            setAtPath((doc.config ?? {})[p.key], p.path, { secure: "" }, key);
        } catch (err) {
            throw new ConfigUsageError((err as Error).message);
        }
    }
    const opened = await openStack(cmd.stack, { create: true, requireStackFile: true, log });
    if (!cmd.secret) {
        const text = value.toString("utf8").replace(/\r?\n$/, "");
        await runPulumi(opened, ["config", "set", "--path", "--config-file", file, "--", key, text]);
        if (opened.layer.secrets[key] !== undefined) {
            delete opened.layer.secrets[key];
            writeUserLayer(opened.layer, cmd.stack);
            log(`${key} was a secret in ${opened.layer.file}; it is now a plain value`);
        }
        log(`set ${key} in ${shownFile}`);
        return;
    }
    await withEngineConfig(opened, async (configFile) => {
        await runPulumi(opened, ["config", "set", "--secret", "--path", "--config-file", configFile, key], value);
        const after = readYamlFile(configFile);
        const secure = getAtPath((after.config ?? {})[p.key], p.path);
        if (!isSecure(secure)) {
            throw new Error(`pulumi config set --secret did not leave an encrypted value at ${key} in ${configFile}`);
        }
        opened.layer.secrets[key] = secure;
        if (after.encryptionsalt && !doc.encryptionsalt && !opened.layer.encryptionsalt) {
            opened.layer.encryptionsalt = after.encryptionsalt;
        }
        writeUserLayer(opened.layer, cmd.stack);
    });
    log(`set the secret ${key} of stack ${cmd.stack}, encrypted, in ${opened.layer.file} (outside the repository)`);
    const plain = getAtPath((doc.config ?? {})[p.key], p.path);
    if (plain !== undefined && !isSecure(plain)) {
        log(`note: ${shownFile} also has ${key} in plain text; delete it there (your secret is what the stack uses, but the file still shows the old value)`);
    }
}

async function main(argv: string[]): Promise<number> {
    let cmd: ConfigCommand;
    try {
        cmd = parseConfigCommand(argv);
    } catch (err) {
        log(`${(err as Error).message}\n${usage}`);
        return 2;
    }
    try {
        await runConfig(cmd);
        return 0;
    } catch (err) {
        if (err instanceof ConfigUsageError || err instanceof MissingStackFileError || err instanceof MissingStackError) {
            log(err.message);
            return 1;
        }
        if (err instanceof CliUnavailableError) {
            log(err.message);
            return 2;
        }
        log(`config ${cmd.action} failed on stack ${cmd.stack}: ${(err as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}
