// The whole-program scenarios: the real CLI and kubernetes provider run charon's program the way a user's
// `npm run up` does (Automation API, policy pack on, no transpile-only), against SSH test hosts and the real control
// plane. Each step is a named test.
//
//   dev       the dev preset (`local: true`): the CLI runs INSIDE the test host (over SSH), so the program's local
//             commands land in that host's namespaces and overlay, never on this machine
//   cluster   one server and two agents as SSH test hosts (one with a GPU), the CLI on this machine
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { gpuCharts, jetstreamVersion, monitoringCharts, numaflowChart } from "../../components/versions";
import { MONITORS, MONITORING_NAMESPACE } from "../../components/monitoring/monitors";
import { MIMIR_GATEWAY_SERVICE, MIMIR_RELEASE } from "../../components/monitoring/mimir";
import { GPU_RESOURCE, PIPELINE_NAME } from "../../workflows/aps/constants";
import { helmRelease, hostCommandLog, hostSnapshot, leftovers, logFiles, needles, parquetRows, secretPlaintexts } from "./checks";
import { Kube, Obj, waitFor } from "./kube";
import { DATA_START_OFFSET_MS, sampleValue, SERIES_INSTANCES } from "./metrics-endpoint";
import { Platform, startPlatform } from "./platform";
import {
    check, copyProgram, indent, repoRoot, run, RunResult, summaryCounts, summaryLines, tailText, test, testAfter, transcript, userEnv,
} from "./runner";
import { ChartMirror, serveCharts } from "./test-charts";
import type { TestHost } from "./test-host";

export interface ScenarioContext {
    tmp: string;
    /** The engine's bin directories (real parts first, then the stand-ins). */
    binDirs: string[];
    bin: string;
    chartsDir: string;
    /** When the tier started (the metrics endpoint's data spans it). */
    origin: number;
    /** Directories the dev host must see at their own path (the checkout, the engine cache, Node.js). */
    readOnlyBinds: string[];
}

const nodeDir = path.dirname(process.execPath);

/** The main-job command line (`npm run <op> -- <args>`) as a user types it. */
function npmArgs(op: string, args: string[]): string[] {
    return ["npm", "run", "--silent", op, "--", ...args];
}

/** A user's session: the engine and Node.js on PATH, a HOME of their own, no Pulumi login, no passphrase. */
interface UserSession {
    home: string;
    prog: string;
    /** Runs `npm run <op> -- args` in the program directory (stdin: `input`; `env` added to the user's, its PATH put first). */
    npm(op: string, args: string[], timeoutMs?: number, input?: string, env?: Record<string, string>): Promise<RunResult>;
    /** The plain pulumi CLI on the same stacks (local backend in HOME, the passphrase cli/ generated). */
    pulumi(args: string[]): Promise<RunResult>;
}

function pulumiEnv(ctx: ScenarioContext, home: string): NodeJS.ProcessEnv {
    return userEnv(ctx.binDirs, home, {
        PULUMI_BACKEND_URL: `file://${home}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(home, ".config", "charon", "passphrase"),
    });
}

/**
 * The tier's own reads of a stack with the plain pulumi CLI (state, outputs), from a directory of their own with the
 * stack's fully qualified name: in the checkout the plain CLI would write a passphrase salt into Pulumi.<stack>.yaml,
 * which the main-job commands keep in the user's layer instead.
 */
function probe(ctx: ScenarioContext, home: string, args: string[]): Promise<RunResult> {
    const cwd = path.join(home, ".charon-engine-probe");
    fs.mkdirSync(cwd, { recursive: true });
    const qualified = args.map((a, i) => (args[i - 1] === "--stack" && !a.includes("/") ? `organization/charon/${a}` : a));
    return run(["pulumi", ...qualified, "--non-interactive"], { cwd, env: pulumiEnv(ctx, home), label: `pulumi ${args.join(" ")}`, sensitive: args.includes("--show-secrets") });
}

/** A session whose npm commands run on this machine. */
function localSession(ctx: ScenarioContext, home: string, prog: string): UserSession {
    return {
        home, prog,
        npm: (op, args, timeoutMs = 30 * 60_000, input?: string, env: Record<string, string> = {}) => run(npmArgs(op, args), {
            cwd: prog, env: userEnv(env.PATH ? [env.PATH, ...ctx.binDirs] : ctx.binDirs, home, Object.fromEntries(Object.entries(env).filter(([k]) => k !== "PATH"))), timeoutMs, input, label: `npm run ${op} -- ${args.join(" ")}${input === undefined ? "" : " < file"}`,
        }),
        pulumi: (args) => probe(ctx, home, args),
    };
}

/** A session whose npm commands run inside a test host (over SSH): its local commands land there. */
function hostSession(ctx: ScenarioContext, host: TestHost, home: string, prog: string): UserSession {
    const pathVar = [...ctx.binDirs, nodeDir, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":");
    const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
    return {
        home, prog,
        npm: (op, args, timeoutMs = 30 * 60_000, _input?: string, env: Record<string, string> = {}) => run(host.sshArgv(
            `cd ${q(prog)} && exec env -i HOME=${q(home)} PATH=${q(env.PATH ? `${env.PATH}:${pathVar}` : pathVar)} USER=root LOGNAME=root LANG=C.UTF-8 ` +
            `PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true NO_COLOR=1 ` +
            Object.entries(env).filter(([k]) => k !== "PATH").map(([k, v]) => `${k}=${q(v)} `).join("") +
            `${npmArgs(op, args).map(q).join(" ")} </dev/null`),
        { timeoutMs, label: `[on test host ${host.name}] npm run ${op} -- ${args.join(" ")}` }),
        pulumi: (args) => probe(ctx, home, args),
    };
}

/**
 * What the program wrote on a host since its image was prepared: the overlay's new files, minus logs and, on the
 * host the CLI runs on, the CLI's own home (~/.pulumi of the passwd entry: its logs and plugin cache, which
 * Pulumi keeps for every user who runs it).
 */
function programWrites(host: TestHost, baseline: Set<string>, cliHost = false): string[] {
    return host.writtenFiles().filter((f) => !baseline.has(f) && !/^\/var\/log\//.test(f) && !(cliHost && /^\/root\/\.pulumi\//.test(f)));
}

/** CPU (millicores) the pods on `node` request, and the node's allocatable CPU. */
async function cpuRequested(kube: Kube, node: string): Promise<{ requested: number; allocatable: number }> {
    const milli = (q: string | undefined) => q === undefined ? 0 : q.endsWith("m") ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
    const pods = await kube.list(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
    const requested = pods.filter((p) => p.status.phase !== "Succeeded" && p.status.phase !== "Failed")
        .flatMap((p) => p.spec.containers).reduce((sum: number, c: Obj) => sum + milli(c.resources?.requests?.cpu), 0);
    const n = await kube.get(`/api/v1/nodes/${node}`);
    return { requested, allocatable: milli(n.status.allocatable.cpu) };
}

/** Pods, their conditions and events (why a workload did not run), for a failure message. */
async function describePods(kube: Kube, namespace: string, selector: string): Promise<string> {
    const pods = await kube.list(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
    const lines: string[] = [];
    for (const p of pods) {
        lines.push(`pod ${p.metadata.name} on ${p.spec.nodeName ?? "(unscheduled)"}: ${p.status.phase}; ` +
            (p.status.conditions ?? []).map((c: Obj) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ""}`).join(", "));
        const events = await kube.list(`/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${p.metadata.name}`)}`);
        lines.push(...events.map((e) => `  event ${e.reason}: ${e.message}`));
    }
    return lines.join("\n") || `no pods match ${selector}`;
}

function writeStackFile(prog: string, stack: string, config: Record<string, unknown>): void {
    fs.writeFileSync(path.join(prog, `Pulumi.${stack}.yaml`), yaml.dump({ config }, { lineWidth: -1 }));
}

function outputOf(r: RunResult): string {
    return r.stdout + r.stderr;
}

/** The engine's "Diagnostics:" block without the ambient-plugin warnings (what failed, and why). */
function diagnostics(r: RunResult): string {
    const out = outputOf(r);
    const i = out.lastIndexOf("\nDiagnostics:");
    if (i < 0) {
        return tailText(out, 60);
    }
    const lines = out.slice(i + 1).split("\n").filter((l) => !/warning: using pulumi-resource-\S+ from \$PATH/.test(l));
    const end = lines.findIndex((l, j) => j > 0 && /^(Resources|Outputs|Duration):/.test(l));
    return lines.slice(0, end < 0 ? 80 : Math.min(end, 80)).join("\n");
}

function mustSucceed(r: RunResult, what: string): void {
    check(r.status === 0, `${what} exited ${r.status}:\n${diagnostics(r)}`);
}

/** Resources in the stack's state (the Stack resource and providers included). */
async function stateResources(s: UserSession, stack: string): Promise<Obj[]> {
    const r = await s.pulumi(["stack", "export", "--stack", stack]);
    mustSucceed(r, "pulumi stack export");
    return JSON.parse(r.stdout).deployment?.resources ?? [];
}

/** The Helm releases each layer installs, with the chart versions.ts pins. */
function expectedReleases(gpu: boolean): { ns: string; name: string; chart: { chart: string; version: string } }[] {
    return [
        { ns: MONITORING_NAMESPACE, name: "prometheus-operator-crds", chart: monitoringCharts.prometheusOperatorCrds },
        { ns: MONITORING_NAMESPACE, name: MIMIR_RELEASE, chart: monitoringCharts.mimir },
        { ns: MONITORING_NAMESPACE, name: "alloy", chart: monitoringCharts.alloy },
        { ns: MONITORING_NAMESPACE, name: "grafana", chart: monitoringCharts.grafana },
        { ns: MONITORING_NAMESPACE, name: "kube-state-metrics", chart: monitoringCharts.kubeStateMetrics },
        { ns: MONITORING_NAMESPACE, name: "node-exporter", chart: monitoringCharts.nodeExporter },
        { ns: "numaflow-system", name: "numaflow", chart: numaflowChart },
        ...(gpu ? [
            { ns: "nvidia-gpu", name: "nvidia-device-plugin", chart: gpuCharts.devicePlugin },
            { ns: "nvidia-gpu", name: "dcgm-exporter", chart: gpuCharts.dcgmExporter },
        ] : []),
    ];
}

/** The spot checks both presets share: releases, values, ISB, pipeline, monitors, Grafana's Secret. */
async function platformObjects(kube: Kube, s: UserSession, stack: string, o: { gpu: boolean; footprint: "small" | "large"; isbReplicas: number }): Promise<string[]> {
    const notes: string[] = [];
    for (const e of expectedReleases(o.gpu)) {
        const rel = await helmRelease(kube, e.ns, e.name);
        check(rel, `no Helm release ${e.ns}/${e.name}`);
        check(rel.info.status === "deployed", `release ${e.name} is ${rel.info.status}`);
        check(rel.chart.metadata.name === e.chart.chart && rel.chart.metadata.version === e.chart.version,
            `release ${e.name} runs chart ${rel.chart.metadata.name} ${rel.chart.metadata.version}, expected ${e.chart.chart} ${e.chart.version}`);
        check(/TEST chart/.test(rel.chart.metadata.description ?? ""), `release ${e.name} does not run the tier's test chart`);
    }
    notes.push(`Helm releases deployed with the pinned charts (test charts): ${expectedReleases(o.gpu).map((e) => `${e.name} ${e.chart.version}`).join(", ")}`);
    const mimir = (await helmRelease(kube, MONITORING_NAMESPACE, MIMIR_RELEASE))!;
    check(mimir.config.configStorageType === "Secret", `mimir values configStorageType = ${mimir.config.configStorageType}`);
    check(mimir.config.kafka?.enabled === false, "mimir values: kafka not disabled");
    const wantIngesters = o.footprint === "small" ? 1 : 3;
    check(mimir.config.ingester?.replicas === wantIngesters, `mimir ingester replicas ${mimir.config.ingester?.replicas}, expected ${wantIngesters}`);
    const minioPassword = mimir.config.minio?.rootPassword;
    check(typeof minioPassword === "string" && minioPassword.length >= 16, "mimir values carry no MinIO root password");
    const mimirConfig = await kube.find(`/api/v1/namespaces/${MONITORING_NAMESPACE}/secrets/${MIMIR_RELEASE}-config`);
    check(mimirConfig, "Mimir's rendered config is not a Secret (configStorageType)");
    check(!(await kube.find(`/api/v1/namespaces/${MONITORING_NAMESPACE}/configmaps/${MIMIR_RELEASE}-config`)), "Mimir's config also exists as a ConfigMap");
    const grafana = (await helmRelease(kube, MONITORING_NAMESPACE, "grafana"))!;
    check(grafana.config.service?.type === "NodePort" && grafana.config.service?.nodePort === 30080, `grafana service values ${JSON.stringify(grafana.config.service)}`);
    check(grafana.config.admin?.existingSecret === "grafana-admin", `grafana admin secret ${grafana.config.admin?.existingSecret}`);
    const ds = grafana.config.datasources?.["datasources.yaml"]?.datasources?.[0];
    check(ds?.url === "http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus" && ds?.jsonData?.httpHeaderName1 === "X-Scope-OrgID",
        `grafana datasource ${JSON.stringify(ds)}`);
    const svc = await kube.get(`/api/v1/namespaces/${MONITORING_NAMESPACE}/services/grafana`);
    check(svc.spec.type === "NodePort" && svc.spec.ports[0].nodePort === 30080, `grafana Service ${JSON.stringify(svc.spec.ports)}`);
    const alloy = (await helmRelease(kube, MONITORING_NAMESPACE, "alloy"))!;
    check(alloy.config.controller?.type === "deployment" && /prometheus\.remote_write "mimir"/.test(alloy.config.alloy?.configMap?.content ?? ""),
        "alloy values: controller or remote_write config missing");
    notes.push(`values: mimir config in a Secret, ${wantIngesters} ingester(s); grafana NodePort 30080 with admin Secret grafana-admin and the Mimir datasource; alloy writes to Mimir`);

    // Grafana's admin Secret holds the stack's (secret) output.
    const outputs = await s.pulumi(["stack", "output", "--json", "--show-secrets", "--stack", stack]);
    mustSucceed(outputs, "pulumi stack output");
    const out = JSON.parse(outputs.stdout);
    const secret = await kube.get(`/api/v1/namespaces/${MONITORING_NAMESPACE}/secrets/grafana-admin`);
    const password = Buffer.from(secret.data["admin-password"], "base64").toString();
    check(Buffer.from(secret.data["admin-user"], "base64").toString() === "admin", "grafana-admin admin-user is not admin");
    check(password === out.grafanaAdminPassword && password.length >= 20, "grafana-admin's password is not the stack's grafanaAdminPassword output");
    const plainOutputs = JSON.parse((await s.pulumi(["stack", "output", "--json", "--stack", stack])).stdout);
    check(plainOutputs.grafanaAdminPassword === "[secret]" && plainOutputs.kubeconfig === "[secret]", "grafanaAdminPassword/kubeconfig outputs are not secret");
    notes.push("Secret monitoring/grafana-admin holds the (secret) grafanaAdminPassword output");

    const isb = await kube.get(`/apis/numaflow.numaproj.io/v1alpha1/namespaces/default/interstepbufferservices/default`);
    check(isb.spec.jetstream.version === jetstreamVersion && isb.spec.jetstream.replicas === o.isbReplicas,
        `ISB jetstream ${JSON.stringify({ version: isb.spec.jetstream.version, replicas: isb.spec.jetstream.replicas })}`);
    check(isb.status?.phase === "Running", `ISB phase ${isb.status?.phase} (${isb.status?.message ?? ""})`);
    const pipeline = await kube.get(`/apis/numaflow.numaproj.io/v1alpha1/namespaces/default/pipelines/${PIPELINE_NAME}`);
    check(JSON.stringify(pipeline.spec.vertices.map((v: Obj) => v.name)) === '["in","cat","out"]', "pipeline vertices are not in → cat → out");
    check(pipeline.status?.conditions?.some((c: Obj) => c.type === "VerticesHealthy" && c.status === "True"), "pipeline is not VerticesHealthy");
    const catLimits = pipeline.spec.vertices[1].udf.container.resources.limits;
    check(o.gpu ? catLimits[GPU_RESOURCE] === "1" : catLimits[GPU_RESOURCE] === undefined,
        `the inference vertex's GPU limit is ${catLimits[GPU_RESOURCE] ?? "unset"} (GPU stack ${o.gpu ? "on" : "off"})`);
    notes.push(`ISB default: JetStream ${jetstreamVersion}, ${o.isbReplicas} replica(s), Running; pipeline ${PIPELINE_NAME} in → cat → out, VerticesHealthy, cat GPU limit ${catLimits[GPU_RESOURCE] ?? "none"}`);

    const plural = { ServiceMonitor: "servicemonitors", PodMonitor: "podmonitors" } as const;
    for (const m of MONITORS) {
        const obj = await kube.find(`/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NAMESPACE}/${plural[m.kind]}/${m.name}`);
        check(obj, `${m.kind} ${m.name} missing`);
    }
    notes.push(`${MONITORS.length} monitors (ServiceMonitor/PodMonitor) in ${MONITORING_NAMESPACE}`);
    return notes;
}

/** The actual secret values of a deployed stack, and its state export as users see it (secrets encrypted). */
interface Secrets { values: Map<string, string>; exportText: string }

/**
 * Collects, before the destroy, every secret in a deployed stack's state plus the hosts' and cluster's, and the plain
 * state export; undefined (with the reason printed) when the stack was not deployed or collecting failed.
 */
async function secretsBeforeDestroy(deployed: boolean, s: UserSession, stack: string, p: Platform, kube: Kube): Promise<Secrets | undefined> {
    if (!deployed) {
        return undefined;
    }
    try {
        return await collectSecrets(s, stack, p, kube);
    } catch (e) {
        console.log(`      (collecting the ${stack} stack's secret values failed: ${(e as Error).message})`);
        return undefined;
    }
}

async function collectSecrets(s: UserSession, stack: string, p: Platform, kube: Kube): Promise<Secrets> {
    const values = new Map<string, string>();
    const exp = await s.pulumi(["stack", "export", "--show-secrets", "--stack", stack]);
    mustSucceed(exp, "pulumi stack export --show-secrets");
    for (const { where, value } of secretPlaintexts(exp.stdout)) {
        values.set(`state secret ${where}`, value);
    }
    const token = fs.readFileSync(path.join(p.server.upperDir, "etc/rancher/k3s/charon-token"), "utf8").trim();
    values.set("k3s token", token);
    const grafana = await kube.get(`/api/v1/namespaces/${MONITORING_NAMESPACE}/secrets/grafana-admin`);
    values.set("Grafana admin password", Buffer.from(grafana.data["admin-password"], "base64").toString());
    values.set("MinIO root password", (await helmRelease(kube, MONITORING_NAMESPACE, MIMIR_RELEASE))!.config.minio.rootPassword);
    values.set("kubeconfig client key", p.cp.admin.key);
    values.set("kubeconfig client key (base64)", Buffer.from(p.cp.admin.key).toString("base64"));
    p.hosts.forEach((h) => values.set(`SSH private key (${h.name})`, h.privateKey));
    const plain = await s.pulumi(["stack", "export", "--stack", stack]);
    mustSucceed(plain, "pulumi stack export");
    return { values, exportText: plain.stdout };
}

/** Where a secret value appears in plain text: "<secret> in <file or log>". */
function scan(secrets: Secrets, texts: { name: string; text: string }[]): string[] {
    const hits: string[] = [];
    for (const [what, value] of secrets.values) {
        for (const needle of needles(value)) {
            for (const t of texts) {
                if (t.text.includes(needle)) {
                    hits.push(`${what} in ${t.name}`);
                }
            }
        }
    }
    return [...new Set(hits)];
}

/** Scans the state export, the CLI outputs since `from`, and the hosts', the CLI's and the control plane's logs. */
function secretsScan(secrets: Secrets, p: Platform, home: string, from: number): void {
    const outputs = transcript.slice(from);
    const texts = [
        { name: "pulumi stack export", text: secrets.exportText },
        ...outputs.map((t, i) => ({ name: `CLI output #${i + 1} (${t.split("\n")[0].slice(0, 80)})`, text: t })),
        ...logFiles(p.hosts, [path.join(home, ".pulumi"), p.cp.logDir]).map((f) => ({ name: f, text: fs.readFileSync(f, "utf8") })),
    ];
    const hits = scan(secrets, texts);
    check(hits.length === 0, `plaintext secrets found:\n${hits.join("\n")}`);
    const kinds = [...new Set([...secrets.values.keys()].map((k) => k.replace(/^state secret .*/, "secrets in the state").replace(/ \(.*\)$/, "")))];
    console.log(`      ${secrets.values.size} secret values (${kinds.join(", ")}) absent from the state export, ${outputs.length} CLI outputs ` +
        `and ${texts.length - 1 - outputs.length} log files`);
}

function harvestSettings() {
    return { format: "parquet", mode: "auto", marginSeconds: 30 };
}

// ── dev ─────────────────────────────────────────────────────────────────────────────────────────────────────
export async function devScenario(ctx: ScenarioContext): Promise<void> {
    console.log("\ndev preset: npm run up/destroy through the Automation API, the CLI inside the dev test host (local: true)");
    const w = fs.mkdtempSync(path.join(ctx.tmp, "dev-"));
    let p: Platform | undefined;
    let mirror: ChartMirror | undefined;
    try {
        const queriesFile = path.join(repoRoot, "workflows", "aps", "metrics.txt");
        p = await startPlatform({
            name: "dev", dir: path.join(w, "platform"), bin: ctx.bin, hosts: [{ name: "dev" }],
            binds: [w], readOnlyBinds: ctx.readOnlyBinds,
            metrics: { namespace: MONITORING_NAMESPACE, service: MIMIR_GATEWAY_SERVICE, routePrefix: "/prometheus", queriesFile, origin: ctx.origin },
        });
        const platform = p;
        const host = p.server;
        console.log(`      test host dev: root@${host.address} (namespace ${host.netns}); control plane ${p.cp.apiUrl} in its namespace`);
        mirror = await serveCharts(ctx.chartsDir, host.netns);
        console.log(`      chart mirror ${mirror.url} (inside the dev host's namespace): TEST charts, not the upstream ones`);
        const prog = copyProgram(w);
        const home = path.join(w, "home");
        fs.mkdirSync(home, { recursive: true });
        const s = hostSession(ctx, host, home, prog);
        const config: Record<string, unknown> = {
            "charon:preset": "dev",
            "charon:k3s": { airgap: { binary: p.airgap.binary, installScript: p.airgap.installScript } },
            "charon:charts": { source: mirror.url },
            "charon:workflows": { aps: { enabled: true } },
            "charon:harvest": harvestSettings(),
        };
        writeStackFile(prog, "dev", config);
        const stackFileText = fs.readFileSync(path.join(prog, "Pulumi.dev.yaml"), "utf8");
        const kube = p.cp.kube;
        const transcriptFrom = transcript.length;

        let created = 0;
        const upOk = await test("dev: npm run up -- --yes creates every resource, as a user who never logged in", async () => {
            const r = await s.npm("up", ["--yes"]);
            console.log(indent(summaryLines(r.stdout) || tailText(outputOf(r), 40), 6));
            mustSucceed(r, "npm run up -- --yes");
            // The provider plugin is the release the SDK asks for (no "expected to have version" warning).
            check(!/expected to have version/.test(outputOf(r)), `the engine warns about a plugin version:\n${outputOf(r).split("\n").filter((l) => /expected to have version/.test(l)).join("\n")}`);
            check(r.stderr.includes(`local file backend in ${path.join(home, ".pulumi")}`), `no local-backend note:\n${tailText(r.stderr, 10)}`);
            // The checkout stays clean: the stack file is the one the user wrote (salt and secrets live in their layer).
            check(fs.readFileSync(path.join(prog, "Pulumi.dev.yaml"), "utf8") === stackFileText, "npm run up changed Pulumi.dev.yaml in the checkout");
            check(/^Policies:\s*\n\s*\S+ charon@v[\d.]+ \(local: \S+\/policies\)/m.test(r.stdout), `the policy pack did not run:\n${tailText(r.stdout, 25)}`);
            const c = summaryCounts(r.stdout);
            created = c.created ?? 0;
            // Default providers are in the state but not in the summary.
            const state = (await stateResources(s, "dev")).filter((x) => !/^pulumi:providers:.*::default/.test(`${x.type}::${String(x.urn).split("::").pop()}`));
            const custom = state.filter((x) => x.type !== "pulumi:pulumi:Stack");
            check(created > 0 && created === state.length, `created ${created}, state holds ${state.length} resources`);
            console.log(`      ${created} resources created (${custom.filter((x) => x.type.startsWith("kubernetes:")).length} Kubernetes, ` +
                `${custom.filter((x) => x.type.startsWith("command:")).length} commands on the host) in ${r.seconds.toFixed(0)}s`);
            const node = await kube.get("/api/v1/nodes/dev");
            check(node.status.conditions.some((x: Obj) => x.type === "Ready" && x.status === "True"), "node dev is not Ready");
            const cpu = await cpuRequested(kube, "dev");
            console.log(`      node dev Ready; its pods request ${cpu.requested}m CPU of the ${cpu.allocatable}m the test host's machine offers`);
        });
        await testAfter(upOk, "the dev up", "dev: the control plane holds the expected objects (releases and values, ISB, pipeline, monitors, Grafana's Secret)", async () => {
            for (const n of await platformObjects(kube, s, "dev", { gpu: false, footprint: "small", isbReplicas: 1 })) {
                console.log(`      ${n}`);
            }
        });
        await testAfter(upOk, "the dev up", "dev: a running pod resizes in place on a simulated node (container resources reported in status)", async () => {
            const pods = await kube.list(`/api/v1/namespaces/${MONITORING_NAMESPACE}/pods?labelSelector=${encodeURIComponent("app.kubernetes.io/name=grafana")}`);
            const pod = pods.find((x) => x.status.phase === "Running");
            check(pod, "no running Grafana pod");
            const c = pod.spec.containers[0];
            const before = pod.status.containerStatuses?.[0]?.resources?.requests?.cpu;
            check(before === c.resources.requests.cpu && before !== "150m", `the running container reports requests.cpu ${before}, its spec ${c.resources.requests.cpu}`);
            const r = await kube.request("PATCH", `/api/v1/namespaces/${MONITORING_NAMESPACE}/pods/${pod.metadata.name}/resize`,
                { spec: { containers: [{ name: c.name, resources: { requests: { cpu: "150m", memory: c.resources.requests.memory } } }] } },
                "application/strategic-merge-patch+json");
            check(r.status === 200, `resize refused: ${r.status} ${r.body?.message}`);
            await waitFor("the resized requests in the pod's status", 30_000, async () => {
                const now = await kube.get(`/api/v1/namespaces/${MONITORING_NAMESPACE}/pods/${pod.metadata.name}`);
                return now.status.containerStatuses?.[0]?.resources?.requests?.cpu === "150m" ? true : undefined;
            });
        });

        await testAfter(upOk, "the dev up", "dev: npm run kubectl -- get nodes prints the node; its kubeconfig file was 0600 in a 0700 directory and is gone", async () => {
            // A kubectl first on PATH that records the file it was handed (mode, its directory's mode), then runs the real one.
            const wrapDir = path.join(w, "kubectl-wrapper");
            const tmpDir = path.join(w, "kubectl-tmp");
            const record = path.join(w, "kubectl-seen");
            fs.mkdirSync(wrapDir, { recursive: true });
            fs.mkdirSync(tmpDir, { recursive: true });
            fs.writeFileSync(path.join(wrapDir, "kubectl"), [
                "#!/bin/sh",
                `stat -c '%a %n' "$KUBECONFIG" "$(dirname "$KUBECONFIG")" > '${record}'`,
                `exec '${path.join(ctx.bin, "kubectl")}' "$@"`,
                "",
            ].join("\n"), { mode: 0o755 });
            const r = await s.npm("kubectl", ["get", "nodes"], 5 * 60_000, undefined, { PATH: wrapDir, TMPDIR: tmpDir });
            console.log(indent(r.stdout.trim(), 6));
            mustSucceed(r, "npm run kubectl -- get nodes");
            check(/^NAME\s+STATUS/m.test(r.stdout) && /^dev\s+Ready\s/m.test(r.stdout), `no Ready node dev in:\n${r.stdout}`);
            const seen = fs.readFileSync(record, "utf8").trim().split("\n").map((l) => l.split(" "));
            check(seen.length === 2 && seen[0][0] === "600" && seen[1][0] === "700" && seen[0][1].startsWith(`${tmpDir}/`),
                `kubectl was handed ${JSON.stringify(seen)}; expected a 0600 file in a 0700 directory under ${tmpDir}`);
            const left = fs.readdirSync(tmpDir).filter((f) => f.startsWith("charon-kubeconfig-"));
            check(left.length === 0, `left in the temporary directory after kubectl: ${left.join(", ")}`);
            console.log(`      kubectl read ${seen[0][1]} (0${seen[0][0]}, directory 0${seen[1][0]}); no kubeconfig left in ${tmpDir}`);
        });

        await testAfter(upOk, "the dev up", "dev: a second npm run up -- --yes --expect-no-changes changes nothing and re-runs no host command", async () => {
            const snapshot = () => hostSnapshot(host).split("\n").filter((l) => !/^\/root\/\.pulumi\//.test(l)).join("\n");
            const before = { files: snapshot(), log: hostCommandLog(host) };
            const r = await s.npm("up", ["--yes", "--expect-no-changes"]);
            console.log(indent(summaryLines(r.stdout) || tailText(outputOf(r), 30), 6));
            mustSucceed(r, "npm run up -- --yes --expect-no-changes");
            const c = summaryCounts(r.stdout);
            check(c.unchanged === created && Object.keys(c).length === 1, `summary ${JSON.stringify(c)}, expected ${created} unchanged only`);
            check(hostCommandLog(host) === before.log, `host commands ran again:\n${hostCommandLog(host).slice(before.log.length)}`);
            check(snapshot() === before.files, "files on the host changed");
        });

        const experimentName = "stream";
        const expOk = await testAfter(upOk, "the dev up", "dev: an experiment's stream Job completes on a simulated node and its hook harvests the window through the API server's service proxy", async () => {
            writeStackFile(prog, "dev", { ...config, "charon:experiments": [{ name: experimentName, durationSeconds: 20, marginSeconds: 300 }] });
            // While the up runs, keep the stream pod's last state (the Job controller deletes failed pods).
            let lastSeen = "";
            let settled = false;
            const watching = (async () => {
                while (!settled) {
                    try {
                        const d = await describePods(kube, "default", `charon/experiment=${experimentName}`);
                        if (!d.startsWith("no pods")) {
                            lastSeen = d;
                        }
                    } catch {
                        // the API is busy; next round
                    }
                    await new Promise((res) => setTimeout(res, 2000));
                }
            })();
            const r = await s.npm("up", ["--yes"]);
            settled = true;
            await watching;
            console.log(indent(summaryLines(r.stdout) || tailText(outputOf(r), 40), 6));
            if (r.status !== 0) {
                throw new Error(`npm run up -- --yes (with the experiment) exited ${r.status}:\n${diagnostics(r)}\n` +
                    (lastSeen || "the stream Job never had a pod"));
            }
            check(/written to results\/dev\/stream\/1/.test(r.stdout), `the hook's report is missing:\n${tailText(r.stdout, 30)}`);
            const outputs = JSON.parse((await s.pulumi(["stack", "output", "--json", "--stack", "dev"])).stdout);
            const record = outputs.experiments?.[experimentName];
            check(record?.resultsPath === "results/dev/stream/1", `experiments output: ${JSON.stringify(outputs.experiments)}`);
            const dir = path.join(prog, record.resultsPath);
            const manifest = JSON.parse(fs.readFileSync(path.join(dir, "metrics.parquet.manifest.json"), "utf8"));
            check(manifest.status === "complete" && manifest.totals.failed === 0, `manifest status ${manifest.status}, ${manifest.totals.failed} failed`);
            check(/\/api\/v1\/namespaces\/monitoring\/services\/mimir-gateway:80\/proxy\/prometheus/.test(manifest.endpoint),
                `the harvest did not go through the service proxy: ${manifest.endpoint}`);
            const jobs = await kube.list(`/apis/batch/v1/namespaces/default/jobs?labelSelector=${encodeURIComponent(`charon/experiment=${experimentName}`)}`);
            check(jobs.length === 1 && jobs[0].status.succeeded === 1, `stream Job: ${JSON.stringify(jobs.map((j) => j.status))}`);
            const ran = (Date.parse(jobs[0].status.completionTime) - Date.parse(jobs[0].status.startTime)) / 1000;
            check(ran >= 19, `the Job ran ${ran}s, the stream's --runtime is 20s`);
            // The rows: exactly the backfilled samples inside the window, for every query.
            const start = Date.parse(record.window.start);
            const end = Date.parse(record.window.end);
            check(start === Date.parse(jobs[0].status.startTime) - 30_000 && end === Date.parse(jobs[0].status.completionTime) + 30_000,
                `window ${record.window.start} → ${record.window.end} is not the Job's ±30 s`);
            check(start > ctx.origin - DATA_START_OFFSET_MS, "the window starts before the backfilled data");
            const rows = parquetRows(path.join(dir, "metrics.parquet"));
            const names = new Set(rows.map((x) => String(x.metric)));
            const queries = manifest.queries.map((q: Obj) => q.query as string);
            let expected = 0;
            const mismatches: string[] = [];
            const byKey = new Map(rows.map((x) => [`${x.metric}|${x.instance}|${toMs(x.timestamp)}`, Number(x.value)]));
            for (const q of queries) {
                for (const inst of SERIES_INSTANCES) {
                    for (let t = Math.ceil(start / 5000) * 5000; t <= end; t += 5000) {
                        expected++;
                        const got = byKey.get(`${q}|${inst}|${t}`);
                        if (got !== sampleValue(q, inst, t) && mismatches.length < 5) {
                            mismatches.push(`${q}{instance=${inst}} @${new Date(t).toISOString()}: got ${got}, backfilled ${sampleValue(q, inst, t)}`);
                        }
                    }
                }
            }
            check(mismatches.length === 0, `rows differ from the backfilled data:\n${mismatches.join("\n")}`);
            check(rows.length === expected, `${rows.length} rows, expected ${expected} (${queries.length} queries × 2 series × the window's samples)`);
            console.log(`      Job ${jobs[0].metadata.name} ran ${ran}s; window ${record.window.start} → ${record.window.end}; ` +
                `${rows.length} rows of ${names.size} metrics in ${record.resultsPath}/metrics.parquet, equal to the backfilled samples`);
        });
        void expOk;

        const secrets = await secretsBeforeDestroy(upOk, s, "dev", platform, kube);

        const destroyOk = await testAfter(upOk, "the dev up", "dev: npm run destroy -- --yes leaves no object of ours in the control plane and a clean host", async () => {
            const r = await s.npm("destroy", ["--yes"]);
            console.log(indent(summaryLines(r.stdout) || tailText(outputOf(r), 30), 6));
            mustSucceed(r, "npm run destroy -- --yes");
            const left = await leftovers(kube);
            check(left.length === 0, `left in the control plane:\n${left.join("\n")}`);
            const written = programWrites(host, platform.baseline.get(host.name)!, true);
            check(written.length === 0, `left on the host: ${written.join(", ")}`);
        });
        void destroyOk;
        await testAfter(secrets !== undefined, "collecting the dev stack's secrets", "dev: secrets — pulumi stack export and every log of the run hold no plaintext secret", () => {
            secretsScan(secrets!, platform, home, transcriptFrom);
        });
        for (const e of [...platform.numaflow.events, ...(platform.metrics?.events ?? [])]) {
            console.log(`      ${e}`);
        }
    } finally {
        mirror?.stop();
        await p?.teardown();
    }
}

function toMs(t: unknown): number {
    if (typeof t === "number") {
        return t > 1e14 ? Math.round(t / 1000) : t > 1e11 ? t : t * 1000;
    }
    const s = String(t);
    return /^\d+(\.\d+)?$/.test(s) ? toMs(Number(s)) : Date.parse(s.replace(" ", "T").replace(/(\+00:00)?$/, s.endsWith("Z") ? "" : "Z"));
}

// ── cluster ─────────────────────────────────────────────────────────────────────────────────────────────────
export async function clusterScenario(ctx: ScenarioContext): Promise<void> {
    console.log("\ncluster preset: one server and two agents as SSH test hosts (gpu-1 has a GPU), the CLI on this machine");
    const w = fs.mkdtempSync(path.join(ctx.tmp, "cluster-"));
    let p: Platform | undefined;
    let mirror: ChartMirror | undefined;
    try {
        p = await startPlatform({
            name: "cluster", dir: path.join(w, "platform"), bin: ctx.bin,
            hosts: [{ name: "control" }, { name: "worker-1" }, { name: "gpu-1", gpus: 1 }],
        });
        const platform = p;
        console.log(`      hosts ${p.hosts.map((h) => `${h.name}=${h.address}`).join(", ")}; control plane ${p.cp.apiUrl}`);
        mirror = await serveCharts(ctx.chartsDir);
        console.log(`      chart mirror ${mirror.url}: TEST charts, not the upstream ones`);
        const prog = copyProgram(w);
        const home = path.join(w, "home");
        fs.mkdirSync(home, { recursive: true });
        const s = localSession(ctx, home, prog);
        const kube = p.cp.kube;
        const transcriptFrom = transcript.length;
        const hostEntry = (h: TestHost, extra: Obj = {}) => ({ name: h.name, address: h.address, port: h.port, user: h.user, hostKey: h.hostPublicKey, ...extra });
        const [control, worker, gpuHost] = p.hosts;
        const base = {
            "charon:preset": "cluster",
            "charon:hosts": [hostEntry(control, { role: "server" }), hostEntry(worker), hostEntry(gpuHost, { gpu: true })],
            "charon:k3s": { airgap: { binary: p.airgap.binary, installScript: p.airgap.installScript } },
            "charon:charts": { source: mirror.url },
            "charon:workflows": { aps: { enabled: true } },
        };
        // As the README says: a stack file per stack, each host's SSH key set as a secret with npm run config (which
        // creates the stack and keeps the secret encrypted in the user's own layer, outside the checkout).
        const createStack = async (stack: string, config: Record<string, unknown>) => {
            writeStackFile(prog, stack, config);
            for (let i = 0; i < platform.hosts.length; i++) {
                const key = `charon:hosts[${i}].privateKey`;
                mustSucceed(await s.npm("config", ["set", "--stack", stack, "--secret", key], 5 * 60_000, platform.hosts[i].privateKey),
                    `npm run config -- set --stack ${stack} --secret ${key} < key`);
            }
        };
        const untouched = async (what: string, stack: string) => {
            // (a failed update records the Stack pseudo-resource itself)
            const state = (await stateResources(s, stack)).filter((x) => x.type !== "pulumi:pulumi:Stack");
            check(state.length === 0, `${what}: the state holds ${state.length} resources (${state.map((x) => x.type).slice(0, 5).join(", ")})`);
            const left = await leftovers(kube);
            check(left.length === 0, `${what}: objects in the control plane:\n${left.join("\n")}`);
            for (const h of platform.hosts) {
                const written = programWrites(h, platform.baseline.get(h.name)!);
                check(written.length === 0, `${what}: written on host ${h.name}: ${written.join(", ")}`);
            }
        };

        await test("settings: a bad setting fails npm run up with the program's one clear error, nothing created", async () => {
            await createStack("bad", { ...base, "charon:monitoring": { footprint: "enormous" } });
            const r = await s.npm("up", ["--stack", "bad", "--yes"]);
            check(r.status !== 0, "npm run up succeeded with a bad setting");
            const out = outputOf(r);
            const errors = out.split("\n").filter((l) => /charon:monitoring\.footprint/.test(l));
            check(errors.length >= 1, `no error naming charon:monitoring.footprint:\n${tailText(out, 30)}`);
            check(!/\n\s+at .+\(.+:\d+:\d+\)/.test(out), `the error carries a stack trace:\n${tailText(out, 20)}`);
            console.log(indent(errors[0].trim(), 6));
            await untouched("after the bad setting", "bad");
        });
        await test("settings: a setting a mandatory policy blocks stops npm run up with the violation, nothing created", async () => {
            await createStack("violating", { ...base, "charon:monitoring": { grafanaNodePort: 30081 } });
            const r = await s.npm("up", ["--stack", "violating", "--yes"]);
            check(r.status !== 0, "npm run up succeeded despite the violation");
            const out = outputOf(r);
            check(/nodeport-allowlist/.test(out) && /mandatory/.test(out), `no mandatory nodeport-allowlist violation:\n${tailText(out, 30)}`);
            console.log(indent(out.split("\n").find((l) => /nodeport-allowlist/.test(l))!.trim(), 6));
            await untouched("after the violation", "violating");
        });

        await createStack("cluster", base);
        const upOk = await test("cluster: npm run up -- --stack cluster --yes builds three Nodes; the device plugin and DCGM exporter run only on the GPU node", async () => {
            const r = await s.npm("up", ["--stack", "cluster", "--yes"]);
            console.log(indent(summaryLines(r.stdout) || tailText(outputOf(r), 40), 6));
            mustSucceed(r, "npm run up -- --stack cluster --yes");
            const nodes = await kube.list("/api/v1/nodes");
            check(JSON.stringify(nodes.map((n) => n.metadata.name).sort()) === '["control","gpu-1","worker-1"]', `nodes ${nodes.map((n) => n.metadata.name)}`);
            for (const n of nodes) {
                check(n.status.conditions.some((x: Obj) => x.type === "Ready" && x.status === "True"), `node ${n.metadata.name} not Ready`);
                const gpu = n.metadata.name === "gpu-1";
                check((n.metadata.labels["nvidia.com/gpu.present"] === "true") === gpu, `node ${n.metadata.name} GPU label ${n.metadata.labels["nvidia.com/gpu.present"]}`);
                check((n.status.capacity[GPU_RESOURCE] === "1") === gpu, `node ${n.metadata.name} nvidia.com/gpu capacity ${n.status.capacity[GPU_RESOURCE]}`);
                check((n.metadata.labels["node-role.kubernetes.io/control-plane"] === "true") === (n.metadata.name === "control"), `node ${n.metadata.name} roles`);
            }
            const podsOf = async (ns: string, app: string) => (await kube.list(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`app.kubernetes.io/name=${app}`)}`))
                .filter((x) => x.status.phase === "Running").map((x) => x.spec.nodeName).sort();
            const plugin = await podsOf("nvidia-gpu", "nvidia-device-plugin");
            const dcgm = await podsOf("nvidia-gpu", "dcgm-exporter");
            const exporters = await podsOf(MONITORING_NAMESPACE, "prometheus-node-exporter");
            check(JSON.stringify(plugin) === '["gpu-1"]', `device plugin pods on ${plugin}`);
            check(JSON.stringify(dcgm) === '["gpu-1"]', `DCGM exporter pods on ${dcgm}`);
            check(exporters.length === 3, `node-exporter pods on ${exporters}`);
            console.log(`      nodes control (server), worker-1, gpu-1 (nvidia.com/gpu: 1) Ready; device plugin and DCGM exporter on ${plugin}; node-exporter on ${exporters.join(", ")}`);
            for (const n of await platformObjects(kube, s, "cluster", { gpu: true, footprint: "large", isbReplicas: 3 })) {
                console.log(`      ${n}`);
            }
        });
        const secrets = await secretsBeforeDestroy(upOk, s, "cluster", platform, kube);
        await testAfter(upOk, "the cluster up", "cluster: npm run destroy -- --stack cluster --yes leaves no object of ours and clean hosts", async () => {
            const r = await s.npm("destroy", ["--stack", "cluster", "--yes"]);
            console.log(indent(summaryLines(r.stdout) || tailText(outputOf(r), 30), 6));
            mustSucceed(r, "npm run destroy -- --stack cluster --yes");
            const left = await leftovers(kube);
            check(left.length === 0, `left in the control plane:\n${left.join("\n")}`);
            for (const h of platform.hosts) {
                const written = programWrites(h, platform.baseline.get(h.name)!);
                check(written.length === 0, `left on host ${h.name}: ${written.join(", ")}`);
            }
        });
        await testAfter(secrets !== undefined, "collecting the cluster stack's secrets", "cluster: secrets — pulumi stack export and every log of the run hold no plaintext secret (hosts' SSH keys, k3s token, passwords, kubeconfig)", () => {
            secretsScan(secrets!, platform, home, transcriptFrom);
        });
        for (const e of platform.numaflow.events) {
            console.log(`      ${e}`);
        }
    } finally {
        mirror?.stop();
        await p?.teardown();
    }
}
