/**
 * npm run replay -- --controller NAME --run results/<stack>/<experiment>/<run> [options]
 *
 * Runs a loop's decide function over a harvested experiment and prints the actions it would have taken as a
 * table. The loop is configured as it would be deployed: from the run's stack file (Pulumi.<stack>.yaml), with
 * --set overrides; --decide swaps in another decide function with the same queries and bounds.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { plannedLoops } from "../components/controllers/control-loops-config";
import type { ControlLoopsSettings } from "../components/controllers/loops-settings";
import { consumerDeployment } from "../workflows/aps/baseline";
import { PIPELINE_NAME } from "../workflows/aps/constants";
import { seriesStore } from "../controllers/runtime/evaluate";
import { cpuMillis, memoryBytes } from "../controllers/runtime/quantity";
import { queryMetrics } from "../controllers/runtime/queries";
import type { Decide } from "../controllers/runtime/types";
import { readRun } from "./read-harvest";
import { replay } from "./replay";
import { renderCsv, renderText, replayTable, summary } from "./table";
import { replaySettings } from "./stack-settings";

export const USAGE = `Usage: npm run replay -- --controller NAME --run DIR [options]

Replays a control loop's decide function over a harvested experiment and prints the actions it would have taken.

  --controller NAME   pd-replicas, inplace-resize, or a custom controller of the stack (charon:controllers.custom)
  --run DIR           a harvested run: results/<stack>/<experiment>/<run> (metrics.parquet or metrics.csv)
  --set KEY=VALUE     override one of the loop's settings, e.g. --set kp=0.8, --set minInterval=30s,
                      --set params.framesPerReplica=100 (repeatable)
  --decide FILE       replay this file's decide function instead, with the loop's queries and bounds
  --stack-file FILE   the stack settings to read (default: Pulumi.<stack>.yaml of the run's stack, if present)
  --replicas N        initial replicas when the harvest did not record them
  --cpu QUANTITY      initial CPU request of each pod when not recorded (e.g. 1000m)
  --memory QUANTITY   initial memory request of each pod when not recorded (e.g. 4Gi)
  --format FORMAT     table (default) or csv
  --actions-only      print only ticks that acted or held an action
  -h, --help          this text
`;

/** The consumer Deployment's name as the baseline builds it. */
const BASELINE_CONSUMER = consumerDeployment({ namespace: "default", image: "x:1", channel: "c", queueSize: 1, cpu: "1", memory: "1Gi", gpuLimit: false }).metadata.name as string;

/** Only the replayed loop enabled (whatever the stack says), so the same planning builds its configuration. */
function onlyLoop(s: ControlLoopsSettings, name: string): ControlLoopsSettings {
    return {
        pdReplicas: { ...s.pdReplicas, enabled: name === "pd-replicas" },
        inplaceResize: { ...s.inplaceResize, enabled: name === "inplace-resize" },
        custom: s.custom.map((c) => ({ ...c, enabled: c.name === name })),
    };
}

function loadDecide(file: string): Decide<any, any> {
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) {
        throw new Error(`${file} does not exist`);
    }
    const mod = createRequire(__filename)(abs) as { decide?: unknown; default?: { decide?: unknown } };
    const decide = mod.decide ?? mod.default?.decide;
    if (typeof decide !== "function") {
        throw new Error(`${file} does not export a function named decide`);
    }
    return decide as Decide<any, any>;
}

export interface CliIo {
    out: (text: string) => void;
    err: (text: string) => void;
    cwd: string;
}

/** Runs the command; returns the exit code (0 done, 2 bad usage or input). */
export async function main(argv: string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd() }): Promise<number> {
    let args;
    try {
        args = parseArgs({
            args: argv, allowPositionals: false,
            options: {
                controller: { type: "string" }, run: { type: "string" }, set: { type: "string", multiple: true }, decide: { type: "string" },
                "stack-file": { type: "string" }, replicas: { type: "string" }, cpu: { type: "string" }, memory: { type: "string" },
                format: { type: "string" }, "actions-only": { type: "boolean" }, help: { type: "boolean", short: "h" },
            },
        });
    } catch (e) {
        io.err(`${(e as Error).message}\n\n${USAGE}`);
        return 2;
    }
    const o = args.values;
    if (o.help) {
        io.out(USAGE);
        return 0;
    }
    try {
        if (o.controller === undefined || o.run === undefined) {
            throw new Error(`--controller and --run are required\n\n${USAGE}`);
        }
        const format = o.format ?? "table";
        if (format !== "table" && format !== "csv") {
            throw new Error(`--format ${JSON.stringify(format)}: expected table or csv`);
        }
        const initial = {
            replicas: o.replicas === undefined ? undefined : Number(o.replicas),
            cpuMillis: o.cpu === undefined ? undefined : cpuMillis(o.cpu),
            memoryBytes: o.memory === undefined ? undefined : memoryBytes(o.memory),
        };
        if (initial.replicas !== undefined && !(Number.isInteger(initial.replicas) && initial.replicas >= 0)) {
            throw new Error(`--replicas ${JSON.stringify(o.replicas)}: expected a whole number`);
        }
        if (o.cpu !== undefined && initial.cpuMillis === undefined) {
            throw new Error(`--cpu ${JSON.stringify(o.cpu)}: expected a CPU quantity such as 500m or 2`);
        }
        if (o.memory !== undefined && initial.memoryBytes === undefined) {
            throw new Error(`--memory ${JSON.stringify(o.memory)}: expected a quantity such as 512Mi or 4Gi`);
        }

        const run = await readRun(path.resolve(io.cwd, o.run));
        const stackFile = o["stack-file"] !== undefined ? path.resolve(io.cwd, o["stack-file"])
            : run.stack !== undefined ? path.join(io.cwd, `Pulumi.${run.stack}.yaml`) : undefined;
        if (o["stack-file"] !== undefined && !fs.existsSync(stackFile!)) {
            throw new Error(`--stack-file ${o["stack-file"]}: no such file`);
        }
        const rs = replaySettings({ stackFile, controller: o.controller, overrides: o.set ?? [] });
        const [loop] = plannedLoops(onlyLoop(rs.settings, o.controller), {
            namespace: rs.namespace, metrics: { url: "replay" }, baselineDeployment: BASELINE_CONSUMER, pipeline: PIPELINE_NAME,
        }, io.cwd);
        const decide = loadDecide(o.decide !== undefined ? path.resolve(io.cwd, o.decide) : loop.decideModule);

        const store = seriesStore(run.series);
        const missing = [...new Set(Object.values(loop.config.queries).flatMap(queryMetrics))].filter((m) => !store.has(m));
        if (missing.length > 0) {
            throw new Error(`${run.dataFile} lacks ${missing.join(", ")}, which ${o.controller} observes; add ${missing.length === 1 ? "it" : "them"} to the harvest's queries file (charon:harvest.queriesFile) and harvest the run again`);
        }
        const result = await replay(loop.config, decide, store, run.start, run.end, initial);
        io.err(`replay of ${o.controller}${o.decide ? ` (decide from ${o.decide})` : ""} over ${run.dir}: ${new Date(run.start).toISOString()} → ${new Date(run.end).toISOString()}, ` +
            `every ${loop.config.periodMs / 1000}s, settings from ${rs.source}${o.set?.length ? ` with --set ${o.set.join(" ")}` : ""}\n`);
        for (const note of result.notes) {
            io.err(`note: ${note}\n`);
        }
        const ticks = o["actions-only"] ? result.ticks.filter((t) => t.results.length > 0 || (t.guarded?.held.length ?? 0) > 0) : result.ticks;
        const table = replayTable(ticks, run.start);
        io.out(format === "csv" ? renderCsv(table) : renderText(table));
        io.err(`${summary(result.ticks, result.final)}\n`);
        return 0;
    } catch (e) {
        io.err(`${(e as Error).message}\n`);
        return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code));
}
