/**
 * The entry point a loop's bundle calls: read the configuration, connect to the API server with the pod's service
 * account and to Mimir, serve /metrics and /healthz, and run the loop until SIGTERM.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { act } from "./act";
import { CONFIG_PATH, type LoopConfig, parseLoopConfig } from "./config";
import { KubeClient, inClusterCredentials } from "./kube-client";
import { ControlLoop } from "./loop";
import { declareLoopMetrics, exportTick, tickLogLine } from "./loop-metrics";
import { PromQueryClient, observe, selectorText } from "./observe";
import { Registry } from "./registry";
import type { Decide } from "./types";

/** The target as a short label value: deployment/consumer or pods/<selector>. */
export function targetLabel(config: LoopConfig): string {
    return config.target.kind === "deployment" ? `deployment/${config.target.name}` : `pods/${selectorText(config.target.selector)}`;
}

/** Healthy while ticks keep coming (three periods of slack, and a first minute for start-up). */
export function healthy(lastTickMs: number | undefined, startedMs: number, periodMs: number, now: number): boolean {
    const slack = Math.max(3 * periodMs, 60_000);
    return now - (lastTickMs ?? startedMs) <= slack;
}

/** Serves /metrics (text exposition) and /healthz. */
export function metricsServer(registry: Registry, isHealthy: () => boolean): http.Server {
    return http.createServer((req, res) => {
        if (req.url === "/metrics") {
            res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
            res.end(registry.render());
        } else if (req.url === "/healthz") {
            const ok = isHealthy();
            res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" });
            res.end(ok ? "ok\n" : "no tick within three periods\n");
        } else {
            res.writeHead(404);
            res.end();
        }
    });
}

/** Runs the loop whose decide function is given; exits non-zero with one message on bad configuration. */
export async function runMain(decide: Decide<any, any>, configPath: string = process.env.CHARON_LOOP_CONFIG ?? CONFIG_PATH): Promise<void> {
    if (typeof decide !== "function") {
        console.error("the controller module does not export a function named decide");
        process.exit(2);
    }
    let config: LoopConfig;
    let kube: KubeClient;
    try {
        config = parseLoopConfig(fs.readFileSync(configPath, "utf8"), configPath);
        // CHARON_SERVICE_ACCOUNT_DIR: run a bundle outside a pod against a cluster (debugging, tests).
        kube = new KubeClient(inClusterCredentials(process.env.CHARON_SERVICE_ACCOUNT_DIR || undefined));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    const prom = new PromQueryClient(config.metrics);
    const registry = new Registry({ controller: config.name });
    declareLoopMetrics(registry, { kind: config.kind, target: targetLabel(config), dryRun: config.dryRun });
    const started = Date.now();
    let lastTick: number | undefined;
    const loop: ControlLoop = new ControlLoop({
        name: config.name, periodMs: config.periodMs, minIntervalMs: config.minIntervalMs, dryRun: config.dryRun,
        limits: config.limits, params: config.params,
    }, {
        decide,
        now: Date.now,
        observe: (t) => observe(prom, kube, config.queries, config.target, t),
        act: (observed, guarded) => act(kube, config.target, observed, guarded.approved, config.dryRun),
        onTick: (report) => {
            lastTick = report.time;
            exportTick(registry, report, loop.overruns);
            console.log(tickLogLine(config.name, report));
        },
    });
    const server = metricsServer(registry, () => healthy(lastTick, started, config.periodMs, Date.now()));
    server.listen(config.port);
    const stop = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.once(signal, () => stop.abort());
    }
    console.log(JSON.stringify({ controller: config.name, kind: config.kind, target: targetLabel(config), periodMs: config.periodMs, dryRun: config.dryRun, started: new Date(started).toISOString() }));
    await loop.run(stop.signal);
    server.close();
    prom.close();
    kube.close();
}
