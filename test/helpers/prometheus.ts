/**
 * A real Prometheus (the Debian package's /usr/bin/prometheus) for tests: OpenMetrics text is backfilled with
 * `promtool tsdb create-blocks-from openmetrics`, then the server starts on a free loopback port, optionally
 * under --web.route-prefix=/prometheus (Mimir's path layout). Returns {url, stop(), kill(), restart()}.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { requireTool } from "./tools";

const execFileP = promisify(execFile);

/** The Prometheus and promtool binaries (Debian's prometheus package); a missing one fails with one line naming the setup. */
export const prometheusBin = (): string => requireTool("prometheus");
export const promtoolBin = (): string => requireTool("promtool");

/** A port the OS just handed out on 127.0.0.1 (closed again, so a child process can bind it). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export interface OmSeries {
    /** Sample name as written (counters end in _total). */
    name: string;
    labels: Record<string, string>;
    /** [epoch ms, value]; timestamps strictly increasing. */
    samples: [number, number][];
}

export interface OmFamily {
    /** Family name (for counters without _total). */
    name: string;
    type: "counter" | "gauge" | "unknown";
    series: OmSeries[];
}

function omEscape(v: string): string {
    return v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n");
}

function omValue(v: number): string {
    if (Number.isNaN(v)) {
        return "NaN";
    }
    if (v === Infinity) {
        return "+Inf";
    }
    if (v === -Infinity) {
        return "-Inf";
    }
    return String(v);
}

function omSeconds(ms: number): string {
    return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(3);
}

/** Writes families as OpenMetrics text (to a stream-friendly array of chunks). */
export function* openMetricsLines(families: Iterable<OmFamily>): Generator<string> {
    for (const f of families) {
        yield `# TYPE ${f.name} ${f.type}\n`;
        for (const s of f.series) {
            const keys = Object.keys(s.labels).sort();
            const lab = keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${omEscape(s.labels[k])}"`).join(",")}}`;
            const prefix = `${s.name}${lab} `;
            let chunk = "";
            for (const [t, v] of s.samples) {
                chunk += `${prefix}${omValue(v)} ${omSeconds(t)}\n`;
                if (chunk.length > 1 << 16) {
                    yield chunk;
                    chunk = "";
                }
            }
            yield chunk;
        }
    }
    yield "# EOF\n";
}

/** Backfills OpenMetrics (file) into a TSDB data directory with promtool. */
export async function backfill(openMetricsFile: string, dataDir: string): Promise<void> {
    fs.mkdirSync(dataDir, { recursive: true });
    await execFileP(promtoolBin(), ["tsdb", "create-blocks-from", "openmetrics", openMetricsFile, dataDir], {
        maxBuffer: 64 * 1024 * 1024,
    });
}

/** Writes families to a file and backfills them. */
export async function backfillFamilies(families: Iterable<OmFamily>, dataDir: string, workDir: string): Promise<void> {
    const file = path.join(workDir, `backfill-${Date.now()}-${Math.random().toString(36).slice(2)}.om`);
    const fd = fs.openSync(file, "w");
    try {
        for (const chunk of openMetricsLines(families)) {
            fs.writeSync(fd, chunk);
        }
    } finally {
        fs.closeSync(fd);
    }
    try {
        await backfill(file, dataDir);
    } finally {
        fs.rmSync(file, { force: true });
    }
}

export interface TestPrometheus {
    /** Base URL of the API, including the route prefix when one was set. */
    url: string;
    port: number;
    dataDir: string;
    /** Graceful stop (SIGTERM, waits for exit). */
    stop(): Promise<void>;
    /** Hard kill (SIGKILL), as if the server crashed. */
    kill(): void;
    /** Starts the server again on the same port and data directory. */
    restart(): Promise<void>;
    /** The last lines the server logged. */
    logs(): string;
}

export interface StartOptions {
    /** OpenMetrics families to backfill before start. */
    families?: Iterable<OmFamily>;
    /** Or an OpenMetrics file to backfill. */
    openMetricsFile?: string;
    /** Serve under this prefix, e.g. "/prometheus" (mimics Mimir). */
    routePrefix?: string;
    /** Reuse an existing data directory (already backfilled). */
    dataDir?: string;
    extraArgs?: string[];
    /** How long to wait for readiness. Defaults to 30 s. */
    readyTimeoutMs?: number;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, logs: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`prometheus exited early (${child.exitCode ?? child.signalCode}):\n${logs()}`);
        }
        try {
            const res = await fetch(`${url}/-/ready`);
            if (res.status === 200) {
                return;
            }
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${logs()}`);
}

/** Starts a backfilled Prometheus on a free loopback port. */
export async function startPrometheus(opts: StartOptions = {}): Promise<TestPrometheus> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "charon-prom-"));
    const dataDir = opts.dataDir ?? path.join(work, "data");
    if (opts.families !== undefined) {
        await backfillFamilies(opts.families, dataDir, work);
    } else if (opts.openMetricsFile !== undefined) {
        await backfill(opts.openMetricsFile, dataDir);
    }
    const config = path.join(work, "prometheus.yml");
    fs.writeFileSync(config, "global:\n  scrape_interval: 1h\nscrape_configs: []\n");
    const prefix = (opts.routePrefix ?? "").replace(/\/+$/, "");
    let child: ChildProcess | undefined;
    let logBuf = "";
    const logs = (): string => logBuf.split("\n").slice(-30).join("\n");
    let port = 0;

    const launch = async (): Promise<void> => {
        for (let attempt = 0; ; attempt++) {
            port = port !== 0 && attempt === 0 ? port : await freePort();
            const args = [
                `--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, "--storage.tsdb.retention.time=100y",
                `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn",
                ...(prefix !== "" ? [`--web.route-prefix=${prefix}`, `--web.external-url=http://127.0.0.1:${port}${prefix}`] : []),
                ...(opts.extraArgs ?? []),
            ];
            const c = spawn(prometheusBin(), args, { stdio: ["ignore", "pipe", "pipe"] });
            child = c;
            const onLog = (d: Buffer): void => {
                logBuf = (logBuf + d.toString()).slice(-20000);
            };
            c.stdout?.on("data", onLog);
            c.stderr?.on("data", onLog);
            try {
                await waitReady(`http://127.0.0.1:${port}${prefix}`, c, opts.readyTimeoutMs ?? 30_000, logs);
                return;
            } catch (err) {
                c.kill("SIGKILL");
                if (attempt >= 2 || !/address already in use/.test(logBuf)) {
                    throw err;
                }
            }
        }
    };
    await launch();
    const fixedPort = port;

    const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
        const c = child;
        if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
            return;
        }
        await new Promise<void>((resolve) => {
            c.once("exit", () => resolve());
            c.kill(signal);
        });
    };

    const handle: TestPrometheus = {
        get url() {
            return `http://127.0.0.1:${port}${prefix}`;
        },
        get port() {
            return port;
        },
        dataDir,
        async stop() {
            await stopChild("SIGTERM");
            fs.rmSync(work, { recursive: true, force: true });
        },
        kill() {
            child?.kill("SIGKILL");
        },
        async restart() {
            await stopChild("SIGKILL");
            port = fixedPort;
            await launch();
        },
        logs,
    };
    return handle;
}
