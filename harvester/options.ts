/**
 * Command-line parsing and validation. `parseArgs` is pure (argv → raw settings, UsageError naming the option);
 * `resolveOptions` reads the files and stack outputs the flags point to and produces HarvestOptions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type ParseArgsOptionsConfig, parseArgs as utilParseArgs } from "node:util";
import { durationHint, parseDurationOrSeconds } from "../model/formats/duration";
import { type Format, type HarvestOptions, type Mode, UsageError } from "./harvest";
import type { Endpoint } from "./http";
import type { ParquetCompression } from "./writers/parquet";
import { REPO_ROOT, type StackOutputsReader, checkStackOutputs, stackTarget } from "./stack";
import { readManifest } from "./manifest";
import { parseTime } from "./time";

export const USAGE = `Usage: charon-harvest <url> [options]
       charon-harvest --stack NAME [--experiment E] [options]

Harvest PromQL queries over a time window from a Prometheus-compatible API into one table.

Queries
  --query Q               PromQL query (repeatable; quote it in the shell)
  --queries-file F        one query per line; '#' comments and blank lines ignored
  --list-metrics          print the metric names the endpoint knows and exit
Window
  --start T               RFC 3339, unix seconds, now, or relative (-2h, now-30m). Default: end - 1h
  --end T                 same forms. Default: now
  --at T|now              instead of a window: one instant query per expression at T (one row per series)
  --step D                range-query resolution (30s, 1m, 15). Default: 30s for expressions
  --mode auto|raw|range   raw = stored samples of plain selectors (remote read, else m[Δ] queries);
                          range = query_range at --step; auto = raw for selectors without --step (default)
Output
  --output PATH           default metrics.<format> (or the experiment's resultsPath)
  --format csv|parquet|json   default from the output's extension, else csv
  --parquet-compression zstd|snappy|gzip|none   default zstd
  --resume                skip queries the existing manifest marks complete (without --start/--end/--at:
                          the manifest's window); refuses other endpoint, queries, window, mode or step
  --fail-on-empty         a query that matches no series fails (default: a warning)
Endpoint
  --tenant ORG            X-Scope-OrgID header (Mimir, Cortex)
  --header K:V            extra request header (repeatable)
  --bearer-token-file F   Authorization: Bearer <contents>
  --basic-auth-file F     file containing user:password
  --ca-file F             PEM CA bundle to trust
  --insecure-skip-verify  do not verify the server certificate
  --stack NAME            endpoint, tenant (and kubeconfig) from a Pulumi stack's outputs
  --experiment E          with --stack: window and output from that experiment
  --workflow W            with --stack: from when the stack created your workflow W (charon:workflows.manifests) to now
Behaviour
  --concurrency N         queries in flight (default 4)
  --workers N             worker threads fetching, decoding and encoding CSV (default: none below 4 cores,
                          else one per core but one, at most --concurrency and 8; 0: none)
  --timeout D             per request (default 60s)
  --retries N             per request, on connection errors, 5xx, 429, deadline 422s (default 3)
  --quiet                 no progress output
  --help, --version

Relative paths are relative to the directory the command was typed in (also through npm run harvest).
Exit codes: 0 all queries succeeded, 1 some failed (listed on stderr), 2 usage or connection error before any
query ran.`;

export interface ParsedArgs {
    url?: string;
    queries: string[];
    queriesFile?: string;
    start?: string;
    end?: string;
    at?: string;
    step?: string;
    output?: string;
    format?: string;
    mode?: string;
    parquetCompression?: string;
    tenant?: string;
    headers: string[];
    bearerTokenFile?: string;
    basicAuthFile?: string;
    caFile?: string;
    insecureSkipVerify: boolean;
    concurrency?: string;
    workers?: string;
    timeout?: string;
    retries?: string;
    resume: boolean;
    failOnEmpty: boolean;
    stack?: string;
    experiment?: string;
    workflow?: string;
    quiet: boolean;
    listMetrics: boolean;
    help: boolean;
    version: boolean;
}

/** The command line, as node:util parseArgs reads it (flag → ParsedArgs key). */
const OPTIONS = {
    "query": { type: "string", multiple: true }, "queries-file": { type: "string" }, "list-metrics": { type: "boolean" },
    "start": { type: "string" }, "end": { type: "string" }, "at": { type: "string" }, "step": { type: "string" },
    "mode": { type: "string" }, "output": { type: "string", short: "o" }, "format": { type: "string" },
    "parquet-compression": { type: "string" }, "resume": { type: "boolean" }, "fail-on-empty": { type: "boolean" },
    "tenant": { type: "string" }, "header": { type: "string", multiple: true }, "bearer-token-file": { type: "string" },
    "basic-auth-file": { type: "string" }, "ca-file": { type: "string" }, "insecure-skip-verify": { type: "boolean" },
    "stack": { type: "string" }, "experiment": { type: "string" }, "workflow": { type: "string" }, "concurrency": { type: "string" },
    "workers": { type: "string" }, "timeout": { type: "string" }, "retries": { type: "string" },
    "quiet": { type: "boolean", short: "q" }, "help": { type: "boolean", short: "h" }, "version": { type: "boolean" },
} as const satisfies ParseArgsOptionsConfig;

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Pure argv parsing (argv without node and script) with node:util parseArgs. Accepts `--flag value` and
 * `--flag=value`; a value may start with a dash (`--start -2h`), as in promtool.
 */
export function parseArgs(argv: string[]): ParsedArgs {
    // parseArgs refuses `--start -2h` as ambiguous: join every value option with its value first.
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const long = arg.startsWith("--") ? arg.slice(2) : arg.length === 2 && arg.startsWith("-")
            ? Object.entries(OPTIONS).find(([, o]) => "short" in o && `-${o.short}` === arg)?.[0] : undefined;
        const o = long === undefined ? undefined : (OPTIONS as ParseArgsOptionsConfig)[long];
        if (o?.type === "string" && i + 1 < argv.length) {
            args.push(`--${long}=${argv[++i]}`);
        } else {
            args.push(long !== undefined && o !== undefined ? `--${long}` : arg);
        }
    }
    let parsed: ReturnType<typeof utilParseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; args: string[] }>>;
    try {
        parsed = utilParseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
        const e = err as Error & { code?: string };
        const flag = /'(-[^' ]+)/.exec(e.message)?.[1] ?? "";
        if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
            throw new UsageError(`unknown option ${flag} (see --help)`, flag);
        }
        if (/does not take an argument/.test(e.message)) {
            throw new UsageError(`${flag} takes no value`, flag);
        }
        if (/argument missing/.test(e.message)) {
            throw new UsageError(`${flag} needs a value`, flag);
        }
        throw new UsageError(e.message, flag);
    }
    const a: ParsedArgs = {
        queries: [], headers: [], insecureSkipVerify: false, resume: false, failOnEmpty: false, quiet: false,
        listMetrics: false, help: false, version: false,
    };
    const rec = a as unknown as Record<string, unknown>;
    for (const [flag, value] of Object.entries(parsed.values)) {
        rec[flag === "query" ? "queries" : flag === "header" ? "headers" : camel(flag)] = value;
    }
    const positionals = parsed.positionals;
    if (positionals.length > 1) {
        throw new UsageError(`unexpected argument "${positionals[1]}" (the URL is already "${positionals[0]}"; quote queries and pass them with --query)`, "<url>");
    }
    a.url = positionals[0];
    return a;
}

/** Queries from a file in the original metrics.txt format. */
export function parseQueriesFile(text: string): string[] {
    return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

function readFileFor(option: string, file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new UsageError(`${option} ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`, option);
    }
}

function intOption(option: string, text: string | undefined, min: number): number | undefined {
    if (text === undefined) {
        return undefined;
    }
    if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
        throw new UsageError(`${option} must be an integer ≥ ${min}, got "${text}"`, option);
    }
    return Number(text);
}

function durationOption(option: string, text: string | undefined): number | undefined {
    if (text === undefined) {
        return undefined;
    }
    const v = parseDurationOrSeconds(text.trim());
    if (v === undefined) {
        throw new UsageError(`${option}: invalid duration "${text}" (use ${durationHint}, or seconds like 15)`, option);
    }
    if (!(v > 0)) {
        throw new UsageError(`${option} must be greater than zero, got "${text}"`, option);
    }
    return v;
}

function timeOption(option: string, text: string, nowMs: number): number {
    try {
        return parseTime(text, nowMs);
    } catch (err) {
        throw new UsageError(`${option}: ${(err as Error).message}`, option);
    }
}

function oneOf<T extends string>(option: string, text: string | undefined, allowed: readonly T[]): T | undefined {
    if (text === undefined) {
        return undefined;
    }
    if (!(allowed as readonly string[]).includes(text)) {
        throw new UsageError(`${option} must be one of ${allowed.join(", ")}, got "${text}"`, option);
    }
    return text as T;
}

export type CliPlan =
    | { kind: "help" }
    | { kind: "version" }
    | { kind: "list-metrics"; options: HarvestOptions; quiet: boolean }
    | { kind: "harvest"; options: HarvestOptions; quiet: boolean };

export interface ResolveDeps {
    nowMs: number;
    readStack: StackOutputsReader;
    /** Where Pulumi.yaml lives. Defaults to the repository root. */
    workDir?: string;
}

/** Turns parsed flags into harvest options, reading referenced files and (with --stack) the stack's outputs. */
export async function resolveOptions(a: ParsedArgs, deps: ResolveDeps): Promise<CliPlan> {
    if (a.help) {
        return { kind: "help" };
    }
    if (a.version) {
        return { kind: "version" };
    }
    const format0 = oneOf("--format", a.format, ["csv", "parquet", "json"] as const);
    const mode = oneOf<Mode>("--mode", a.mode, ["auto", "raw", "range"]) ?? "auto";
    const parquetCompression = oneOf<ParquetCompression>("--parquet-compression", a.parquetCompression, ["zstd", "snappy", "gzip", "none"]);
    const step = durationOption("--step", a.step);
    const timeoutMs = durationOption("--timeout", a.timeout);
    const concurrency = intOption("--concurrency", a.concurrency, 1);
    const workers = intOption("--workers", a.workers, 0);
    const retries = intOption("--retries", a.retries, 0);
    if (a.experiment !== undefined && a.stack === undefined) {
        throw new UsageError("--experiment needs --stack", "--experiment");
    }
    if (a.workflow !== undefined && a.stack === undefined) {
        throw new UsageError("--workflow needs --stack", "--workflow");
    }
    if (a.workflow !== undefined && a.experiment !== undefined) {
        throw new UsageError(`give either --experiment or --workflow, not both (experiment "${a.experiment}", workflow "${a.workflow}")`, "--workflow");
    }
    if (a.url !== undefined && a.stack !== undefined) {
        throw new UsageError(`give either a URL or --stack, not both (URL "${a.url}", stack "${a.stack}")`, "--stack");
    }
    if (a.url === undefined && a.stack === undefined) {
        throw new UsageError("missing the Prometheus URL (or --stack NAME)", "<url>");
    }

    const extFormat = a.output === undefined ? undefined : /\.(csv|parquet|json)$/i.exec(a.output)?.[1].toLowerCase() as Format | undefined;
    const format: Format = format0 ?? extFormat ?? "csv";

    let endpoint: Endpoint;
    let tenant = a.tenant;
    let windowFromStack: { start: string; end: string } | undefined;
    let outputFromStack: string | undefined;
    if (a.stack !== undefined) {
        let outputs;
        try {
            outputs = checkStackOutputs(a.stack, await deps.readStack(a.stack, deps.workDir ?? REPO_ROOT));
        } catch (err) {
            throw new UsageError(`--stack ${a.stack}: ${(err as Error).message}`, "--stack");
        }
        let target;
        try {
            target = stackTarget(a.stack, outputs, a.experiment, format, a.workflow);
        } catch (err) {
            const flag = a.experiment !== undefined ? "--experiment" : a.workflow !== undefined ? "--workflow" : "--stack";
            throw new UsageError(`${flag}: ${(err as Error).message}`, flag);
        }
        endpoint = target.endpoint;
        tenant = tenant ?? target.tenant;
        windowFromStack = target.window;
        outputFromStack = target.output;
    } else {
        const url = a.url as string;
        let u: URL;
        try {
            u = new URL(url);
        } catch {
            throw new UsageError(`invalid URL "${url}" (expected e.g. http://localhost:9090 or https://host/prometheus)`, "<url>");
        }
        if (u.protocol !== "http:" && u.protocol !== "https:") {
            throw new UsageError(`invalid URL "${url}": scheme must be http or https`, "<url>");
        }
        endpoint = { url, headers: {}, tls: {} };
    }
    const headers: Record<string, string> = { ...(endpoint.headers ?? {}) };
    for (const h of a.headers) {
        const i = h.indexOf(":");
        if (i <= 0) {
            throw new UsageError(`--header must look like Name:value, got "${h}"`, "--header");
        }
        headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
    }
    if (a.bearerTokenFile !== undefined) {
        headers.Authorization = `Bearer ${readFileFor("--bearer-token-file", a.bearerTokenFile).trim()}`;
    }
    if (a.basicAuthFile !== undefined) {
        const text = readFileFor("--basic-auth-file", a.basicAuthFile).trim();
        if (!text.includes(":")) {
            throw new UsageError(`--basic-auth-file ${a.basicAuthFile} must contain user:password`, "--basic-auth-file");
        }
        headers.Authorization = `Basic ${Buffer.from(text).toString("base64")}`;
    }
    const tls = { ...(endpoint.tls ?? {}) };
    if (a.caFile !== undefined) {
        tls.ca = readFileFor("--ca-file", a.caFile);
    }
    if (a.insecureSkipVerify) {
        tls.insecureSkipVerify = true;
    }
    endpoint = { ...endpoint, headers, tls };

    const output = a.output ?? outputFromStack ?? `metrics.${format}`;
    if (a.at !== undefined && (a.start !== undefined || a.end !== undefined)) {
        throw new UsageError(`give either a window (--start/--end) or an instant (--at ${a.at}), not both`, "--at");
    }
    // --resume without a window (or an experiment's) takes the manifest's: a relative window ("-1m") would have
    // moved since the first run.
    let resumed: { start?: number; end?: number; at?: number } = {};
    if (a.resume && a.start === undefined && a.end === undefined && a.at === undefined && windowFromStack === undefined) {
        let m;
        try {
            m = readManifest(path.resolve(output));
        } catch (err) {
            throw new UsageError(`--resume: ${(err as Error).message}`, "--resume");
        }
        if (m !== undefined) {
            resumed = m.mode === "instant" ? { at: m.window.endMs } : { start: m.window.startMs, end: m.window.endMs };
        }
    }
    if (a.at !== undefined || resumed.at !== undefined) {
        const at = a.at !== undefined ? timeOption("--at", a.at, deps.nowMs) : resumed.at as number;
        const base: HarvestOptions = {
            endpoint, tenant, queries: [], at, step, mode, format, output, concurrency, workers, timeoutMs, retries,
            resume: a.resume, parquetCompression, failOnEmpty: a.failOnEmpty,
        };
        if (a.mode !== undefined && mode !== "auto") {
            throw new UsageError(`--at takes instant snapshots of any expression; --mode ${a.mode} needs a window (--start/--end)`, "--mode");
        }
        return finishPlan(a, base);
    }
    // Window: flags win over the experiment; start only → end = now; end only → start = end - 1h.
    const startText = a.start ?? windowFromStack?.start;
    const endText = a.end ?? windowFromStack?.end;
    const end = endText !== undefined ? timeOption(a.end !== undefined ? "--end" : "--experiment", endText, deps.nowMs) : resumed.end ?? deps.nowMs;
    const start = startText !== undefined ? timeOption(a.start !== undefined ? "--start" : "--experiment", startText, deps.nowMs) : resumed.start ?? end - 3600_000;
    if (end < start) {
        throw new UsageError(`--end (${new Date(end).toISOString()}) is before --start (${new Date(start).toISOString()})`, "--end");
    }

    const base: HarvestOptions = {
        endpoint, tenant, queries: [], start, end, step, mode, format, output, concurrency, workers, timeoutMs, retries,
        resume: a.resume, parquetCompression, failOnEmpty: a.failOnEmpty,
    };
    return finishPlan(a, base);
}

function finishPlan(a: ParsedArgs, base: HarvestOptions): CliPlan {
    if (a.listMetrics) {
        return { kind: "list-metrics", options: base, quiet: a.quiet };
    }
    const queries = [...a.queries];
    if (a.queriesFile !== undefined) {
        queries.push(...parseQueriesFile(readFileFor("--queries-file", a.queriesFile)));
    }
    if (queries.length === 0) {
        throw new UsageError("no queries given (use --query Q or --queries-file F)", "--query");
    }
    return { kind: "harvest", options: { ...base, queries }, quiet: a.quiet };
}
