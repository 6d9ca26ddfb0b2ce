/**
 * Command-line parsing and validation. `parseArgs` is pure (argv → raw settings, UsageError naming the option);
 * `resolveOptions` reads the files and stack outputs the flags point to and produces HarvestOptions.
 */
import * as fs from "node:fs";
import { type Format, type HarvestOptions, type Mode, UsageError } from "./harvest";
import type { Endpoint } from "./http";
import type { ParquetCompression } from "./writers/parquet";
import { REPO_ROOT, type StackOutputsReader, checkStackOutputs, stackTarget } from "./stack";
import { parseDuration, parseTime } from "./time";

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
  --step D                range-query resolution (30s, 1m, 15). Default: 30s for expressions
  --mode auto|raw|range   raw = stored samples of plain selectors (remote read, else m[Δ] queries);
                          range = query_range at --step; auto = raw for selectors without --step (default)
Output
  --output PATH           default metrics.<format> (or the experiment's resultsPath)
  --format csv|parquet|json   default from the output's extension, else csv
  --parquet-compression zstd|snappy|gzip|none   default zstd
  --resume                skip queries the existing manifest marks complete
Endpoint
  --tenant ORG            X-Scope-OrgID header (Mimir, Cortex)
  --header K:V            extra request header (repeatable)
  --bearer-token-file F   Authorization: Bearer <contents>
  --basic-auth-file F     file containing user:password
  --ca-file F             PEM CA bundle to trust
  --insecure-skip-verify  do not verify the server certificate
  --stack NAME            endpoint, tenant (and kubeconfig) from a Pulumi stack's outputs
  --experiment E          with --stack: window and output from that experiment
Behaviour
  --concurrency N         queries in flight (default 4)
  --timeout D             per request (default 60s)
  --retries N             per request, on connection errors, 5xx, 429, deadline 422s (default 3)
  --quiet                 no progress output
  --help, --version

Exit codes: 0 all queries succeeded, 1 some failed (listed on stderr), 2 usage or connection error before any
query ran.`;

export interface ParsedArgs {
    url?: string;
    queries: string[];
    queriesFile?: string;
    start?: string;
    end?: string;
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
    timeout?: string;
    retries?: string;
    resume: boolean;
    stack?: string;
    experiment?: string;
    quiet: boolean;
    listMetrics: boolean;
    help: boolean;
    version: boolean;
}

const VALUE_FLAGS: Record<string, keyof ParsedArgs> = {
    "--query": "queries", "--queries-file": "queriesFile", "--start": "start", "--end": "end", "--step": "step",
    "--output": "output", "-o": "output", "--format": "format", "--mode": "mode", "--tenant": "tenant",
    "--header": "headers", "--bearer-token-file": "bearerTokenFile", "--basic-auth-file": "basicAuthFile",
    "--ca-file": "caFile", "--concurrency": "concurrency", "--timeout": "timeout", "--retries": "retries",
    "--stack": "stack", "--experiment": "experiment", "--parquet-compression": "parquetCompression",
};
const BOOL_FLAGS: Record<string, keyof ParsedArgs> = {
    "--insecure-skip-verify": "insecureSkipVerify", "--resume": "resume", "--quiet": "quiet", "-q": "quiet",
    "--list-metrics": "listMetrics", "--help": "help", "-h": "help", "--version": "version",
};

/** Pure argv parsing (argv without node and script). Accepts `--flag value` and `--flag=value`. */
export function parseArgs(argv: string[]): ParsedArgs {
    const a: ParsedArgs = {
        queries: [], headers: [], insecureSkipVerify: false, resume: false, quiet: false, listMetrics: false,
        help: false, version: false,
    };
    const rec = a as unknown as Record<string, unknown>;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            continue;
        }
        if (arg.startsWith("-") && arg !== "-") {
            const eq = arg.indexOf("=");
            const flag = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
            if (flag in BOOL_FLAGS) {
                if (eq > 0) {
                    throw new UsageError(`${flag} takes no value`, flag);
                }
                rec[BOOL_FLAGS[flag]] = true;
                continue;
            }
            if (flag in VALUE_FLAGS) {
                let value: string;
                if (eq > 0 && arg.startsWith("--")) {
                    value = arg.slice(eq + 1);
                } else {
                    if (i + 1 >= argv.length) {
                        throw new UsageError(`${flag} needs a value`, flag);
                    }
                    value = argv[++i];
                }
                const key = VALUE_FLAGS[flag];
                if (key === "queries" || key === "headers") {
                    (rec[key] as string[]).push(value);
                } else {
                    rec[key] = value;
                }
                continue;
            }
            throw new UsageError(`unknown option ${flag} (see --help)`, flag);
        }
        if (a.url !== undefined) {
            throw new UsageError(`unexpected argument "${arg}" (the URL is already "${a.url}"; quote queries and pass them with --query)`, "<url>");
        }
        a.url = arg;
    }
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
    let v: number;
    try {
        v = parseDuration(text);
    } catch (err) {
        throw new UsageError(`${option}: ${(err as Error).message}`, option);
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
    const retries = intOption("--retries", a.retries, 0);
    if (a.experiment !== undefined && a.stack === undefined) {
        throw new UsageError("--experiment needs --stack", "--experiment");
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
            target = stackTarget(a.stack, outputs, a.experiment, format);
        } catch (err) {
            throw new UsageError(`${a.experiment !== undefined ? "--experiment" : "--stack"}: ${(err as Error).message}`, a.experiment !== undefined ? "--experiment" : "--stack");
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

    // Window: flags win over the experiment; start only → end = now; end only → start = end - 1h.
    const startText = a.start ?? windowFromStack?.start;
    const endText = a.end ?? windowFromStack?.end;
    const end = endText !== undefined ? timeOption(a.end !== undefined ? "--end" : "--experiment", endText, deps.nowMs) : deps.nowMs;
    const start = startText !== undefined ? timeOption(a.start !== undefined ? "--start" : "--experiment", startText, deps.nowMs) : end - 3600_000;
    if (end < start) {
        throw new UsageError(`--end (${new Date(end).toISOString()}) is before --start (${new Date(start).toISOString()})`, "--end");
    }

    const output = a.output ?? outputFromStack ?? `metrics.${format}`;
    const base: HarvestOptions = {
        endpoint, tenant, queries: [], start, end, step, mode, format, output, concurrency, timeoutMs, retries,
        resume: a.resume, parquetCompression,
    };
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
