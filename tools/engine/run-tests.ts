// The engine tier (`npm run test:engine`): the real Pulumi CLI and kubernetes provider, built from their Go modules
// by tools/engine/build.sh, run this project's program the way a user's `npm run up` does — Automation API, policy
// pack on, TypeScript type-checked by ts-node (never transpile-only) — against SSH test hosts and a real Kubernetes
// control plane whose nodes kwok simulates. Charts come from a loopback mirror of test charts. The first line names
// every part, its version and whether it is real or a stand-in; the last is `engine: N passed, N failed, N skipped`.
//
// Suites (CHARON_ENGINE_ONLY=harness,program,controllers,dev,cluster picks a subset):
//   harness   a throwaway program with @pulumi/command and @pulumi/random against a test host (the engine itself)
//   program   `pulumi preview` of the gpu-node preset with the policy pack; the program is type-checked as users
//             run it (a missing declaration file fails it)
//   controllers  the control loops' act tests against this tier's kube-apiserver (controllers-suite.ts)
//   dev       the dev preset: up, second up without changes, an experiment harvested through the service proxy,
//             destroy, secrets scan (scenarios.ts)
//   cluster   bad setting and policy violation stop `up` before anything exists; the cluster preset with three
//             hosts (one GPU) up and destroy (scenarios.ts)
// Knobs: CHARON_ENGINE_CACHE (build cache root, see build.sh), CHARON_ENGINE_KEEP=1 (keep temp dirs),
// CHARON_ENGINE_VERBOSE=1 (echo every CLI output in full), CHARON_ENGINE_KEEP_TEST_HOST=1.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { k3sVersion, pulumiCliVersion } from "../../components/versions";
import { harnessSuite } from "./harness-suite";
import { NUMAFLOW_MODULE, buildTestCharts, serveCharts, TestChart } from "./test-charts";
import {
    check, copyProgram, errorsOf, indent, mandatoryViolations, repoRoot, results, Skip, summaryLines, tailText, test, total, counts, Workspace,
} from "./runner";
import { controllersSuite } from "./controllers-suite";
import { type Part, readParts } from "./parts";
import { clusterScenario, devScenario, ScenarioContext } from "./scenarios";
import { startTestHost, testHostUnavailable, TestHost } from "./test-host";
import { prometheusBin } from "../../test/helpers/prometheus";

const keep = !!process.env.CHARON_ENGINE_KEEP;
const only = (process.env.CHARON_ENGINE_ONLY ?? "harness,program,controllers,dev,cluster").split(",").map((s) => s.trim());


function buildEngine(): { engine: string; bin: string; standin: string; parts: Part[] } {
    const r = spawnSync("bash", [path.join(__dirname, "build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) {
        throw new Error(`tools/engine/build.sh failed (exit ${r.status})`);
    }
    const engine = r.stdout.trim().split("\n").pop()!;
    const parts = readParts(engine);
    return { engine, bin: path.join(engine, "bin"), standin: path.join(engine, "standin-bin"), parts };
}

function prometheusVersion(): string {
    const r = spawnSync(prometheusBin(), ["--version"], { encoding: "utf8" });
    return /version (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? "unknown";
}

/** The first file under dir (node_modules excluded) whose name matches `name` and whose text satisfies `test`. */
function findFile(dir: string, predicate: (text: string) => boolean, name: RegExp): string | undefined {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== "node_modules") {
            const hit = findFile(p, predicate, name);
            if (hit) {
                return hit;
            }
        } else if (e.isFile() && name.test(e.name) && predicate(fs.readFileSync(p, "utf8"))) {
            return p;
        }
    }
    return undefined;
}

/** `pulumi preview` of the gpu-node preset, and the proof that the program is type-checked as users run it. */
async function programSuite(ws: Workspace, host: TestHost | undefined, chartsDir: string): Promise<void> {
    console.log("\nprogram: pulumi preview with the policy pack, TypeScript checked as a user's pulumi up checks it");
    const mirror = await serveCharts(chartsDir);
    try {
        const prog = copyProgram(ws.dir);
        const policy = ["--policy-pack", path.join(prog, "policies")];
        const charts = { "charon:charts": { source: mirror.url } };
        const gpuNode = host ? {
            "charon:preset": "gpu-node",
            "charon:hosts": [{ name: "gpu1", address: host.address, port: host.port, user: host.user, hostKey: host.hostPublicKey }],
            "charon:sshPrivateKey": { value: host.privateKey, secret: true },
            ...charts,
        } : undefined;
        await test("program: pulumi preview of the gpu-node preset succeeds with zero mandatory violations", async () => {
            if (!gpuNode) {
                throw new Skip(`no SSH test host: ${testHostUnavailable()}`);
            }
            const stack = await ws.stack(prog, "preset-gpu-node", gpuNode);
            const r = await stack.try(["preview", ...policy]);
            console.log(indent(summaryLines(r.stdout) || tailText(r.stdout + r.stderr, 30), 6));
            check(r.status === 0, `preview failed (exit ${r.status}):\n${errorsOf(r).join("\n") || tailText(r.stdout + r.stderr, 40)}`);
            const v = mandatoryViolations(r);
            check(v.length === 0, `mandatory violations:\n${v.map((x) => `${x.policyName}: ${x.message}`).join("\n")}`);
            const c = counts(r);
            console.log(`      planned: ${JSON.stringify(c)} (total ${total(c)})`);
            check((c.create ?? 0) > 40, `only ${c.create ?? 0} resources planned`);
        });
        await test("program: a missing declaration file fails the preview (ts-node type-checks the program, as in a user's pulumi up)", async () => {
            const broken = copyProgram(ws.dir, "program-without-declaration");
            // The program's own declaration of the untyped snappyjs package (the one a user's pulumi up once missed).
            const declaration = findFile(broken, (text) => /declare module "snappyjs"/.test(text), /\.d\.ts$/);
            check(declaration, "no declaration of module snappyjs in the program (update this test)");
            fs.rmSync(declaration);
            check(!("PULUMI_NODEJS_TRANSPILE_ONLY" in ws.env), "the tier sets PULUMI_NODEJS_TRANSPILE_ONLY");
            const stack = await ws.stack(broken, "missing-declaration", { "charon:preset": "dev", ...charts });
            const r = await stack.try(["preview"]);
            const out = r.stdout + r.stderr;
            check(r.status !== 0, "the preview succeeded without the snappyjs declaration: the program is not type-checked");
            // TS7016 (module without types) or TS2688 (the `types` entry naming it): either way ts-node checked it.
            check(/TS(7016|2688)\b.*snappyjs/.test(out), `the preview failed, but not on the missing declaration:\n${tailText(out, 20)}`);
            console.log(indent(out.split("\n").find((l) => /TS(7016|2688)\b/.test(l))!.trim().slice(0, 200), 6));
        });
    } finally {
        mirror.stop();
    }
}

async function main(): Promise<void> {
    const started = Date.now();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "charon-engine-"));
    let host: TestHost | undefined;
    try {
        console.log("engine tier: building the real parts from Go modules (tools/engine/build.sh)");
        const built = buildEngine();
        const cli = built.parts.find((p) => p.part === "pulumi CLI")!;
        const charts = buildTestCharts(path.join(tmp, "charts"));
        const parts: Part[] = [
            ...built.parts,
            { part: "prometheus (the Mimir gateway's endpoint)", version: prometheusVersion(), kind: "real", source: "Debian package" },
            { part: "k3s", version: k3sVersion, kind: "stand-in", source: "tools/engine/k3s-standin.ts (hands out the control plane's kubeconfig, registers Nodes)" },
            { part: "Numaflow controller", version: NUMAFLOW_MODULE.version, kind: "stand-in", source: "tools/engine/numaflow-standin.ts (ISB/Pipeline status only)" },
            { part: "NVIDIA driver and container toolkit (GPU test host)", version: "nvidia-smi + dpkg records", kind: "stand-in" },
            ...charts.map((c: TestChart): Part => ({ part: `chart ${c.chart}`, version: c.version, kind: "test", source: c.from })),
        ];
        console.log(`engine parts: ${parts.map((p) => `${p.part} ${p.version} ${p.kind === "test" ? "test chart (not upstream)" : p.kind}`).join(" | ")}`);
        for (const p of parts.filter((x) => x.kind !== "real")) {
            console.log(`NOTE: ${p.part} is a ${p.kind === "test" ? "TEST chart served by the tier" : "STAND-IN"}${p.source ? `: ${p.source}` : ""}`);
        }
        check(cli.version === pulumiCliVersion, `the tier builds Pulumi CLI ${cli.version}, but components/versions.ts pins pulumiCliVersion ${pulumiCliVersion}`);
        const binDirs = [built.bin, built.standin];
        const ws = new Workspace(tmp, binDirs);
        const ctx: ScenarioContext = {
            tmp, binDirs, bin: built.bin, chartsDir: path.join(tmp, "charts"), origin: started,
            readOnlyBinds: [...new Set([repoRoot, path.dirname(path.dirname(built.engine)), path.dirname(process.execPath)])]
                .filter((d) => !d.startsWith(tmp)),
        };
        const unavailable = testHostUnavailable();
        if (!unavailable && (only.includes("harness") || only.includes("program"))) {
            host = startTestHost({ name: "eng" });
        }
        if (only.includes("harness")) {
            await harnessSuite(ws, host);
        }
        if (only.includes("program")) {
            await programSuite(ws, host, ctx.chartsDir);
        }
        host?.teardown();
        host = undefined;
        if (only.includes("controllers")) {
            await controllersSuite(built.bin);
        }
        for (const [suite, fn] of [["dev", devScenario], ["cluster", clusterScenario]] as const) {
            if (!only.includes(suite)) {
                continue;
            }
            if (unavailable) {
                await test(`${suite} scenario`, () => { throw new Skip(unavailable); });
                continue;
            }
            await fn(ctx);
        }
    } catch (e) {
        results.failed++;
        const msg = e instanceof Error ? e.message : String(e);
        results.failures.push(`setup: ${msg}`);
        console.log(`  ✗ setup\n${indent(msg, 6)}`);
    } finally {
        host?.teardown();
        if (keep) {
            console.log(`kept ${tmp}`);
        } else {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    }
    console.log(`\nengine tier finished in ${((Date.now() - started) / 1000).toFixed(0)}s`);
    if (results.failures.length > 0) {
        console.log(`failures:\n${results.failures.map((f) => `  - ${f.split("\n")[0]}`).join("\n")}`);
    }
    console.log(`engine: ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
    process.exitCode = results.failed > 0 ? 1 : 0;
}

void main();
