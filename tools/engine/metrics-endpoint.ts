// The Mimir gateway's endpoint, made real: the test chart's mimir-gateway pod is simulated by kwok, so nothing
// listens at its pod IP. This puts a real Prometheus (the Debian package) at exactly that address: a network
// namespace on the lab bridge holding the pod IP, Prometheus on <pod IP>:<the Service's target port> under
// Mimir's /prometheus prefix, with data backfilled by promtool. The API server (in the server host's namespace,
// which routes the pod network over the bridge) then proxies the harvest hook's requests to it through the
// Service, as it would on a cluster.
//
// The data: every metric of the stack's harvest queries file, two series each (instance a and b), one sample every
// SAMPLE_STEP_MS from DATA_START_OFFSET before the tier started until DATA_END_OFFSET after it (the experiment's
// window lies in between). Values come from `sampleValue`, so a test can compute exactly which rows the window holds.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { backfillFamilies, type OmFamily, prometheusBin } from "../../test/helpers/prometheus";
import { Kube, sleep, waitFor } from "./kube";
import type { Lab, LabPod } from "./test-host";

export const SAMPLE_STEP_MS = 5000;
export const DATA_START_OFFSET_MS = 30 * 60_000;
export const DATA_END_OFFSET_MS = 90 * 60_000;
export const SERIES_INSTANCES = ["a", "b"];

/** The value of `metric`'s series `instance` at `t` (ms): counters grow, gauges wave. Deterministic. */
export function sampleValue(metric: string, instance: string, t: number): number {
    const seed = [...`${metric}/${instance}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1000003, 7);
    const s = Math.floor(t / 1000);
    if (metric.endsWith("_total")) {
        return (s % 100000) * ((seed % 7) + 1);
    }
    return Math.round((Math.sin(s / 60 + seed) + 1) * 500 + (seed % 100)) / 10;
}

/** Metric names of a queries file's plain selectors (one per line, # comments). */
export function metricNames(queriesText: string): string[] {
    return queriesText.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#") && /^[A-Za-z_:][A-Za-z0-9_:]*$/.test(l));
}

export function families(names: string[], from: number, to: number): OmFamily[] {
    return names.map((name) => ({
        name: name.endsWith("_total") ? name.slice(0, -"_total".length) : name,
        type: name.endsWith("_total") ? "counter" as const : "gauge" as const,
        series: SERIES_INSTANCES.map((instance) => {
            const samples: [number, number][] = [];
            for (let t = from; t <= to; t += SAMPLE_STEP_MS) {
                samples.push([t, sampleValue(name, instance, t)]);
            }
            return { name, labels: { job: "charon-engine-tier", instance }, samples };
        }),
    }));
}

export interface MetricsEndpoint {
    /** Pod IPs served so far. */
    readonly served: string[];
    readonly dataFrom: number;
    readonly dataTo: number;
    readonly events: string[];
    stop(): void;
}

export interface MetricsEndpointOptions {
    lab: Lab;
    kube: Kube;
    dir: string;
    /** The queries file whose metrics are backfilled. */
    queriesFile: string;
    namespace: string;
    service: string;
    /** Path prefix the Service's clients use (Mimir's /prometheus). */
    routePrefix: string;
    /** The tier's start: the data spans it. */
    origin: number;
}

/** Backfills once, then serves every address the Service's Endpoints name, as they appear. */
export async function startMetricsEndpoint(o: MetricsEndpointOptions): Promise<MetricsEndpoint> {
    const dataFrom = Math.floor((o.origin - DATA_START_OFFSET_MS) / SAMPLE_STEP_MS) * SAMPLE_STEP_MS;
    const dataTo = o.origin + DATA_END_OFFSET_MS;
    fs.mkdirSync(o.dir, { recursive: true });
    const dataDir = path.join(o.dir, "tsdb");
    const names = metricNames(fs.readFileSync(o.queriesFile, "utf8"));
    await backfillFamilies(families(names, dataFrom, dataTo), dataDir, o.dir);
    const served: string[] = [];
    const events: string[] = [];
    const pods: { pod: LabPod; prom: ChildProcess }[] = [];
    let running = true;

    const serve = async (ip: string, port: number) => {
        const pod = o.lab.addPod(ip);
        const copy = path.join(o.dir, `tsdb-${ip}`);
        fs.cpSync(dataDir, copy, { recursive: true });
        const config = path.join(o.dir, "prometheus.yml");
        fs.writeFileSync(config, "global:\n  scrape_interval: 1h\nscrape_configs: []\n");
        const log = fs.openSync(path.join(o.dir, `prometheus-${ip}.log`), "a");
        const prom = spawn("ip", ["netns", "exec", pod.netns, prometheusBin(), `--config.file=${config}`, `--storage.tsdb.path=${copy}`,
            "--storage.tsdb.retention.time=100y", `--web.listen-address=${ip}:${port}`, "--log.level=warn",
            `--web.route-prefix=${o.routePrefix}`, `--web.external-url=http://${ip}:${port}${o.routePrefix}`], { stdio: ["ignore", log, log] });
        fs.closeSync(log);
        pods.push({ pod, prom });
        await waitFor(`Prometheus on ${ip}:${port}`, 30_000, async () => {
            const r = spawnSync("ip", ["netns", "exec", pod.netns, "curl", "-sf", `http://${ip}:${port}${o.routePrefix}/-/ready`], { encoding: "utf8" });
            return r.status === 0 ? true : undefined;
        }, 250);
        served.push(ip);
        events.push(`metrics endpoint: real Prometheus serving ${names.length} metrics × ${SERIES_INSTANCES.length} series at ${ip}:${port}${o.routePrefix} (pod IP of ${o.namespace}/${o.service})`);
    };

    const loop = (async () => {
        while (running) {
            try {
                const svc = await o.kube.find(`/api/v1/namespaces/${o.namespace}/services/${o.service}`);
                const ep = svc ? await o.kube.find(`/api/v1/namespaces/${o.namespace}/endpoints/${o.service}`) : undefined;
                for (const subset of ep?.subsets ?? []) {
                    const port = subset.ports?.[0]?.port;
                    for (const a of subset.addresses ?? []) {
                        if (port && !served.includes(a.ip)) {
                            await serve(a.ip, port);
                        }
                    }
                }
            } catch (e) {
                const line = `metrics endpoint: ${(e as Error).message}`;
                if (events[events.length - 1] !== line) {
                    events.push(line);
                }
            }
            await sleep(1000);
        }
    })();
    return {
        served, dataFrom, dataTo, events,
        stop: () => {
            running = false;
            void loop;
            for (const p of pods) {
                p.prom.kill("SIGKILL");
                p.pod.teardown();
            }
        },
    };
}
