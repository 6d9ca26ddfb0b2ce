// The engine tier's small test runner and its CLI helpers. Every long command runs asynchronously (the tier's
// stand-ins and watchers keep running while the Pulumi CLI works).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const verbose = !!process.env.CHARON_ENGINE_VERBOSE;

// ── tests ───────────────────────────────────────────────────────────────────────────────────────────────────
export const results = { passed: 0, failed: 0, skipped: 0, failures: [] as string[], durations: [] as { name: string; seconds: number; result: string }[] };

export class Skip extends Error {}

export function check(cond: unknown, message: string): asserts cond {
    if (!cond) {
        throw new Error(message);
    }
}

/** Runs one named test; returns whether it passed. A Skip is counted as skipped, anything else thrown as failed. */
export async function test(name: string, fn: () => void | Promise<void>): Promise<boolean> {
    const start = Date.now();
    const seconds = () => (Date.now() - start) / 1000;
    try {
        await fn();
        results.passed++;
        results.durations.push({ name, seconds: seconds(), result: "passed" });
        console.log(`  ✓ ${name} (${seconds().toFixed(1)}s)`);
        return true;
    } catch (e) {
        if (e instanceof Skip) {
            results.skipped++;
            results.durations.push({ name, seconds: seconds(), result: "skipped" });
            console.log(`  - ${name} (skipped: ${e.message})`);
            return false;
        }
        results.failed++;
        const msg = e instanceof Error ? e.message : String(e);
        results.failures.push(`${name}: ${msg}`);
        results.durations.push({ name, seconds: seconds(), result: "failed" });
        console.log(`  ✗ ${name} (${seconds().toFixed(1)}s)\n${indent(msg, 6)}`);
        return false;
    }
}

/** A test that depends on an earlier one: skipped (not failed again) when that one did not pass. */
export async function testAfter(prerequisite: boolean, what: string, name: string, fn: () => void | Promise<void>): Promise<boolean> {
    return test(name, async () => {
        if (!prerequisite) {
            throw new Skip(`${what} did not pass`);
        }
        await fn();
    });
}

export function indent(text: string, n: number): string {
    return text.split("\n").map((l) => " ".repeat(n) + l).join("\n");
}

export function tailText(text: string, lines: number): string {
    const all = text.trimEnd().split("\n");
    return (all.length > lines ? ["…", ...all.slice(-lines)] : all).join("\n");
}

// ── processes ───────────────────────────────────────────────────────────────────────────────────────────────
export interface RunResult { status: number; stdout: string; stderr: string; seconds: number }

/** Every CLI output the tier saw, for the secrets scan ("every log of the run"). */
export const transcript: string[] = [];

/** Runs argv asynchronously, collecting its output (the event loop keeps running the tier's background work). */
export function run(argv: string[], opts: {
    cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; label?: string;
    /** The tier's own read of secret values (e.g. --show-secrets): kept out of the transcript the secrets scan reads. */
    sensitive?: boolean;
} = {}): Promise<RunResult> {
    const start = Date.now();
    return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => { stdout += b.toString(); });
        child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
        child.stdin.end(opts.input ?? "");
        const timer = setTimeout(() => {
            stderr += `\n[engine tier] killed after ${Math.round((opts.timeoutMs ?? 0) / 1000)}s`;
            child.kill("SIGKILL");
        }, opts.timeoutMs ?? 30 * 60_000);
        child.on("error", (e) => { stderr += `\n${e.message}`; });
        child.on("close", (code) => {
            clearTimeout(timer);
            const r = { status: code ?? -1, stdout, stderr, seconds: (Date.now() - start) / 1000 };
            if (!opts.sensitive) {
                transcript.push(`$ ${opts.label ?? argv.join(" ")}\n${stdout}\n${stderr}`);
            }
            if (verbose && !opts.sensitive) {
                console.log(indent(`$ ${opts.label ?? argv.join(" ")}\n${stdout}${stderr}`, 6));
            }
            resolve(r);
        });
    });
}

// ── the Pulumi CLI ──────────────────────────────────────────────────────────────────────────────────────────
export interface EngineEvent {
    summaryEvent?: { resourceChanges?: Record<string, number> };
    policyEvent?: { policyName: string; policyPackName: string; enforcementLevel: string; message: string; resourceUrn?: string };
    diagnosticEvent?: { severity: string; message: string; urn?: string };
    resourcePreEvent?: { metadata: { op: string; urn: string; type: string } };
}
export interface CliResult extends RunResult { events: EngineEvent[] }

export type ConfigValue = string | number | boolean | object;
export interface ConfigEntry { value: ConfigValue; secret?: boolean }
export type StackConfig = Record<string, ConfigValue | ConfigEntry>;

/** Environment of a user's shell: PATH with the engine, a fresh HOME; nothing that changes how the program runs. */
export function userEnv(binDirs: string[], home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: [...binDirs, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
        HOME: home,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        ...extra,
    };
    // The tier runs the program as users do: never transpile-only, never a login or passphrase from the caller.
    for (const k of ["PULUMI_NODEJS_TRANSPILE_ONLY", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_ACCESS_TOKEN", "XDG_CONFIG_HOME", "KUBECONFIG"]) {
        if (!(k in extra)) {
            delete env[k];
        }
    }
    return env;
}

export class Workspace {
    readonly env: NodeJS.ProcessEnv;
    constructor(readonly dir: string, binDirs: string[]) {
        const home = path.join(dir, "pulumi-home");
        const state = path.join(dir, "state");
        fs.mkdirSync(home, { recursive: true });
        fs.mkdirSync(state, { recursive: true });
        this.env = userEnv(binDirs, path.join(dir, "home"), {
            PULUMI_HOME: home,
            PULUMI_BACKEND_URL: `file://${state}`,
            PULUMI_CONFIG_PASSPHRASE: "test",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            // Enables `--event-log` (structured engine events: summaries, policy violations, diagnostics).
            PULUMI_DEBUG_COMMANDS: "true",
        });
        fs.mkdirSync(path.join(dir, "home"), { recursive: true });
    }

    async pulumi(cwd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
        const eventLog = path.join(this.dir, `events-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
        const withLog = ["preview", "up", "destroy", "refresh"].includes(args[0])
            ? [...args, "--event-log", eventLog, "--non-interactive", "--color", "never"] : args;
        const r = await run(["pulumi", ...withLog], { cwd, env: this.env, timeoutMs: opts.timeoutMs ?? 20 * 60_000, label: `pulumi ${redactArgs(args).join(" ")}` });
        return { ...r, events: readEvents(eventLog) };
    }

    async must(cwd: string, args: string[]): Promise<CliResult> {
        const r = await this.pulumi(cwd, args);
        check(r.status === 0, `pulumi ${redactArgs(args).join(" ")} exited ${r.status}\n${tailText(r.stdout + r.stderr, 60)}`);
        return r;
    }

    /** Creates a stack whose config file lives in the temp dir (never in the repository). */
    async stack(cwd: string, name: string, config: StackConfig): Promise<Stack> {
        const configFile = path.join(this.dir, `Pulumi.${name}.yaml`);
        const s = new Stack(this, cwd, name, configFile);
        await this.must(cwd, ["stack", "init", name, "--non-interactive"]);
        for (const [key, raw] of Object.entries(config)) {
            const entry: ConfigEntry = typeof raw === "object" && raw !== null && "value" in raw ? raw as ConfigEntry : { value: raw };
            const text = typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
            await s.run(["config", "set", ...(entry.secret ? ["--secret"] : ["--plaintext"]), key, "--", text]);
        }
        return s;
    }
}

export function readEvents(eventLog: string): EngineEvent[] {
    const events: EngineEvent[] = [];
    if (fs.existsSync(eventLog)) {
        for (const line of fs.readFileSync(eventLog, "utf8").split("\n")) {
            if (line.trim()) {
                try {
                    events.push(JSON.parse(line) as EngineEvent);
                } catch {
                    // a torn last line when the CLI was killed
                }
            }
        }
    }
    return events;
}

export function redactArgs(args: string[]): string[] {
    return args.map((a) => (a.includes("PRIVATE KEY") ? "<secret>" : a));
}

export class Stack {
    constructor(readonly ws: Workspace, readonly cwd: string, readonly name: string, readonly configFile: string) {}
    private withStack(args: string[]): string[] {
        // `stack …` subcommands take no --config-file; everything else reads the stack's config from it.
        const flags = args[0] === "stack" ? ["--stack", this.name] : ["--stack", this.name, "--config-file", this.configFile];
        const dashes = args.indexOf("--");
        return dashes < 0 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
    }
    run(args: string[]): Promise<CliResult> {
        return this.ws.must(this.cwd, this.withStack(args));
    }
    try(args: string[]): Promise<CliResult> {
        return this.ws.pulumi(this.cwd, this.withStack(args));
    }
}

export function counts(r: CliResult): Record<string, number> {
    const summary = [...r.events].reverse().find((e) => e.summaryEvent)?.summaryEvent;
    return summary?.resourceChanges ?? {};
}

export function total(c: Record<string, number>): number {
    return Object.values(c).reduce((a, b) => a + b, 0);
}

export function mandatoryViolations(r: CliResult) {
    return r.events.filter((e) => e.policyEvent?.enforcementLevel === "mandatory").map((e) => e.policyEvent!);
}

export function errorsOf(r: CliResult): string[] {
    return r.events.filter((e) => e.diagnosticEvent?.severity === "error").map((e) => e.diagnosticEvent!.message);
}

/** The human summary lines of a preview/up (the last "Resources:" block: the up's, after its preview), for the log. */
export function summaryLines(stdout: string): string {
    const out = stdout.split("\n");
    const i = out.map((l) => /^Resources:/.test(l)).lastIndexOf(true);
    if (i < 0) {
        return "";
    }
    const block: string[] = [];
    for (const l of out.slice(i)) {
        if (block.length > 0 && l.trim() === "") {
            break;
        }
        block.push(l);
    }
    return block.join("\n");
}

/** Counts in the human summary ("+ 58 created", "12 unchanged", "- 58 deleted", "~ 2 updated"). */
export function summaryCounts(stdout: string): Record<string, number> {
    const block = summaryLines(stdout);
    const c: Record<string, number> = {};
    for (const m of block.matchAll(/^\s*(?:[+~-]|\+-)?\s*(\d+) (created|updated|deleted|replaced|unchanged|to create|to update|to delete|to replace)\b/gm)) {
        c[m[2].replace(/^to /, "")] = Number(m[1]);
    }
    return c;
}

// ── program copies ──────────────────────────────────────────────────────────────────────────────────────────
/** Copies the repository's program (sources only) into dir/program, sharing node_modules by symlink. */
export function copyProgram(dir: string, name = "program"): string {
    const dest = path.join(dir, name);
    const skip = new Set(["node_modules", ".git", "bin", "results", "tools"]);
    fs.cpSync(repoRoot, dest, {
        recursive: true,
        filter: (src) => {
            const rel = path.relative(repoRoot, src);
            const top = rel.split(path.sep)[0];
            if (skip.has(top) || /^Pulumi\.[^/]+\.yaml$/.test(rel)) {
                return false;
            }
            return !rel.split(path.sep).includes("node_modules");
        },
    });
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dest, "node_modules"));
    const policyModules = path.join(repoRoot, "policies", "node_modules");
    if (fs.existsSync(policyModules)) {
        fs.symlinkSync(policyModules, path.join(dest, "policies", "node_modules"));
    }
    return dest;
}
