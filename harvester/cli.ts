/**
 * `charon-harvest` / `npm run harvest -- <url> [options]`: argv → harvest → exit code.
 * 0: every query succeeded. 1: some queries failed (listed on stderr; the others were written).
 * 2: usage or connection error before any query ran (the message names the option and value).
 */
import { EndpointError, UsageError, harvest, makeClient, probe, toolVersion } from "./harvest";
import { type RequestStats } from "./http";
import { USAGE, parseArgs, resolveOptions } from "./options";
import { ProgressReporter, type ProgressStream } from "./progress";
import { type StackOutputsReader, pulumiStackOutputs } from "./stack";

export interface CliDeps {
    stdout: ProgressStream;
    stderr: ProgressStream;
    nowMs?: number;
    readStack?: StackOutputsReader;
}

export const EXIT_OK = 0;
export const EXIT_SOME_FAILED = 1;
export const EXIT_USAGE = 2;

export async function main(argv: string[], deps: CliDeps): Promise<number> {
    const err = (s: string): void => {
        deps.stderr.write(s.endsWith("\n") ? s : `${s}\n`);
    };
    let plan;
    try {
        plan = await resolveOptions(parseArgs(argv), {
            nowMs: deps.nowMs ?? Date.now(), readStack: deps.readStack ?? pulumiStackOutputs,
        });
    } catch (e) {
        if (e instanceof UsageError) {
            err(`charon-harvest: ${e.message}`);
            err("Run charon-harvest --help for the options.");
            return EXIT_USAGE;
        }
        throw e;
    }
    if (plan.kind === "help") {
        deps.stdout.write(`${USAGE}\n`);
        return EXIT_OK;
    }
    if (plan.kind === "version") {
        deps.stdout.write(`charon-harvest ${toolVersion()}\n`);
        return EXIT_OK;
    }
    if (plan.kind === "list-metrics") {
        const client = makeClient(plan.options);
        try {
            await probe(client, Date.now());
            const stats: RequestStats = { requests: 0, retries: 0, bytes: 0 };
            const res = await client.get("api/v1/label/__name__/values", new URLSearchParams(), stats);
            const names = (JSON.parse(res.body.toString("utf8")) as { data?: string[] }).data ?? [];
            deps.stdout.write(names.map((n) => `${n}\n`).join(""));
            return EXIT_OK;
        } catch (e) {
            err(`charon-harvest: ${(e as Error).message}`);
            return EXIT_USAGE;
        } finally {
            client.close();
        }
    }
    const progress = new ProgressReporter(deps.stderr, { quiet: plan.quiet });
    let manifest;
    try {
        manifest = await harvest({ ...plan.options, onEvent: progress.handle });
    } catch (e) {
        if (e instanceof UsageError || e instanceof EndpointError) {
            err(`charon-harvest: ${e.message}`);
            return EXIT_USAGE;
        }
        err(`charon-harvest: ${(e as Error).stack ?? String(e)}`);
        return EXIT_SOME_FAILED;
    }
    const failed = manifest.queries.filter((q) => q.status !== "ok");
    const t = manifest.totals;
    if (!plan.quiet) {
        err(`${t.ok}/${t.queries} queries, ${t.series} series, ${t.samples} samples → ${manifest.output} (manifest ${manifest.output}.manifest.json)`);
    }
    // Warnings (a query that matched nothing, server warnings) are printed even with --quiet.
    for (const q of manifest.queries) {
        for (const w of q.status === "ok" ? q.warnings ?? [] : []) {
            err(`charon-harvest: warning: #${q.index + 1} ${q.query}: ${w}`);
        }
    }
    if (failed.length > 0) {
        err(`charon-harvest: ${failed.length} of ${t.queries} queries failed:`);
        for (const q of failed) {
            err(`  #${q.index + 1} ${q.query}: ${q.error ?? q.status}`);
        }
        // The window of this run, absolute: a relative --start (-1m) would name another window on the rerun.
        const again = manifest.mode === "instant" ? `--resume --at ${manifest.window.end}` : `--resume --start ${manifest.window.start} --end ${manifest.window.end}`;
        err(t.ok > 0 ? `The other queries were written; rerun the same command with ${again} (or --resume alone, which takes the manifest's window) to retry only the failed ones.`
            : `Nothing was written; rerun the same command with ${again} to retry.`);
        return EXIT_SOME_FAILED;
    }
    return EXIT_OK;
}

if (require.main === module) {
    main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
        process.exitCode = code;
    }, (e: unknown) => {
        process.stderr.write(`charon-harvest: ${(e as Error).stack ?? String(e)}\n`);
        process.exitCode = EXIT_SOME_FAILED;
    });
}
