// The real-engine test tier (`npm run test:engine`): the Pulumi CLI, a Node.js language host and the resource
// providers, built from Go modules by tools/engine/build.sh, run this project's program with a local file backend
// in a temp dir, offline. Prints `N passed, N failed, N skipped` last and exits non-zero on any failure.
//
// Suites:
//   harness   a throwaway program (written to a temp dir) using @pulumi/command local + remote (SSH into the test
//             host) and @pulumi/random, with a one-rule policy pack: preview, up, second up without changes,
//             destroy removes the file it wrote, policy blocks a violating setting. Proves the engine itself.
//   presets   `pulumi preview --policy-pack policies` of each preset in PROGRAM below (success, resource counts,
//             zero mandatory violations), a bad setting (the program's own error), a violating setting (blocked).
//   hosts     a real `pulumi up` of the cluster layer's host steps against the SSH test host (air-gapped k3s with
//             a stand-in binary), a second up with no changes, destroy removing what the program wrote.
//
// Environment knobs: CHARON_ENGINE_ONLY=harness,presets,main-job,hosts (subset), CHARON_ENGINE_KEEP=1 (keep temp dirs),
// CHARON_ENGINE_CACHE (build cache root, see build.sh), CHARON_ENGINE_VERBOSE=1 (echo every CLI output in full).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startTestHost, testHostUnavailable, TestHost } from "./test-host";

// ════════════════════════════════════════════════════════════════════════════════════════════════════════════
// PROGRAM TABLE: everything specific to this project's Pulumi program lives here. The lead fills in the blanks.
// Config values are set with `pulumi config set` (objects/arrays as JSON text, which stacks/load.ts parses).
// `expect.resources` is the total number of resources the preview plans (the Stack resource included); leave it
// undefined to print the count without asserting it. Host-dependent values are functions of the test host.
// ════════════════════════════════════════════════════════════════════════════════════════════════════════════
type ConfigValue = string | number | boolean | object;
interface ConfigEntry { value: ConfigValue; secret?: boolean }
type StackConfig = Record<string, ConfigValue | ConfigEntry>;

interface PresetCase {
    name: string;
    config: (h: HostInfo) => StackConfig;
    expect: { resources?: number; creates?: number };
}

interface HostInfo {
    address: string; port: number; user: string; privateKey: string; hostPublicKey: string;
    /** Local paths (on the machine running Pulumi) of the stand-in k3s binary and install script. */
    standinK3s: string; standinInstaller: string;
}

const K3S_VERSION = "v1.34.2+k3s1"; // must equal the stack's k3s.version (components/versions.ts default)

const remoteHost = (h: HostInfo, name: string, extra: object = {}) =>
    ({ name, address: h.address, port: h.port, user: h.user, hostKey: h.hostPublicKey, ...extra });
const sshKey = (h: HostInfo): ConfigEntry => ({ value: h.privateKey, secret: true });

const PROGRAM = {
    /** Preset previews: success, counts, zero mandatory policy violations. */
    presets: [
        {
            name: "dev",
            config: () => ({ "charon:preset": "dev" }),
            expect: { resources: 39 },
        },
        {
            name: "gpu-node",
            config: (h) => ({
                "charon:preset": "gpu-node",
                "charon:hosts": [remoteHost(h, "gpu1")],
                "charon:sshPrivateKey": sshKey(h),
            }),
            expect: { resources: 45 },
        },
        {
            name: "cluster",
            config: (h) => ({
                "charon:preset": "cluster",
                "charon:hosts": [
                    remoteHost(h, "control", { role: "server" }),
                    remoteHost(h, "worker-1"),
                    remoteHost(h, "gpu-1", { gpu: true }),
                ],
                "charon:sshPrivateKey": sshKey(h),
            }),
            expect: { resources: 53 },
        },
    ] as PresetCase[],
    /** A bad setting: the preview fails before any resource, with the program's own message (matched here). */
    badSetting: {
        config: (): StackConfig => ({ "charon:preset": "dev", "charon:monitoring": { footprint: "enormous" } }),
        message: /charon:monitoring\.footprint/,
    },
    /** A setting the program accepts but a mandatory policy rejects: the preview is blocked by that policy. */
    violatingSetting: {
        // Settings accept any NodePort in 30000–32767; the pack only allows the ones in its allow-list (30080).
        config: (): StackConfig | undefined => ({ "charon:preset": "dev", "charon:monitoring": { grafanaNodePort: 30081 } }),
        policy: /nodeport-allowlist/,
    },
    /** `pulumi up` of the cluster layer's host steps against the SSH test host. */
    hostSteps: {
        config: (h: HostInfo): StackConfig => ({
            "charon:preset": "gpu-node",
            "charon:hosts": [remoteHost(h, "enginehost", { gpu: false })],
            "charon:gpu": { stack: "off" },
            "charon:sshPrivateKey": sshKey(h),
            "charon:k3s": { version: K3S_VERSION, airgap: { binary: h.standinK3s, installScript: h.standinInstaller } },
        }),
        /**
         * Only the cluster layer's host steps: the component and its command/random children, not its Kubernetes
         * provider (no API and no kubernetes plugin here). The CLI refuses --target together with --exclude, so the
         * targets list the wanted types (globs: `*` stops at ':', `**` matches anything).
         */
        targets: [
            "**::charon:cluster:K3sCluster::*",
            "**charon:cluster:K3sCluster$**command:remote:Command::*",
            "**charon:cluster:K3sCluster$**command:remote:CopyToRemote::*",
            "**charon:cluster:K3sCluster$**command:local:Command::*",
            "**charon:cluster:K3sCluster$**random:index/**",
        ],
        /** Files the up must have written on the host (absolute paths on the test host). */
        expectFiles: ["/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/charon-token", "/usr/local/bin/k3s"],
    },
};
// ════════════════════════════════════════════════════════════════════════════════════════════════════════════

const repoRoot = path.resolve(__dirname, "..", "..");
const keep = !!process.env.CHARON_ENGINE_KEEP;
const verbose = !!process.env.CHARON_ENGINE_VERBOSE;
const only = (process.env.CHARON_ENGINE_ONLY ?? "harness,presets,main-job,hosts").split(",").map((s) => s.trim());

// ── tiny test runner ────────────────────────────────────────────────────────────────────────────────────────
let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];

class Skip extends Error {}

function check(cond: unknown, message: string): asserts cond {
    if (!cond) {
        throw new Error(message);
    }
}

async function test(name: string, fn: () => void | Promise<void>): Promise<boolean> {
    const start = Date.now();
    try {
        await fn();
        passed++;
        console.log(`  ✓ ${name} (${((Date.now() - start) / 1000).toFixed(1)}s)`);
        return true;
    } catch (e) {
        if (e instanceof Skip) {
            skipped++;
            console.log(`  - ${name} (skipped: ${e.message})`);
            return false;
        }
        failed++;
        const msg = e instanceof Error ? e.message : String(e);
        failures.push(`${name}: ${msg}`);
        console.log(`  ✗ ${name}\n${indent(msg, 6)}`);
        return false;
    }
}

function indent(text: string, n: number): string {
    return text.split("\n").map((l) => " ".repeat(n) + l).join("\n");
}

// ── the CLI ─────────────────────────────────────────────────────────────────────────────────────────────────
interface CliResult { status: number; stdout: string; stderr: string; events: EngineEvent[] }
interface EngineEvent {
    summaryEvent?: { resourceChanges?: Record<string, number> };
    policyEvent?: { policyName: string; policyPackName: string; enforcementLevel: string; message: string; resourceUrn?: string };
    diagnosticEvent?: { severity: string; message: string; urn?: string };
    resourcePreEvent?: { metadata: { op: string; urn: string; type: string } };
}

class Workspace {
    readonly env: NodeJS.ProcessEnv;
    constructor(readonly dir: string, binDirs: string[]) {
        const home = path.join(dir, "pulumi-home");
        const state = path.join(dir, "state");
        fs.mkdirSync(home, { recursive: true });
        fs.mkdirSync(state, { recursive: true });
        this.env = {
            ...process.env,
            PATH: [...binDirs, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_HOME: home,
            PULUMI_BACKEND_URL: `file://${state}`,
            PULUMI_CONFIG_PASSPHRASE: "test",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            // Enables `--event-log` (structured engine events: summaries, policy violations, diagnostics).
            PULUMI_DEBUG_COMMANDS: "true",
            // Type checking is the unit tier's job (npm run typecheck); here ts-node only transpiles.
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
            NO_COLOR: "1",
            FORCE_COLOR: "0",
        };
    }

    pulumi(cwd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): CliResult {
        const eventLog = path.join(this.dir, `events-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
        const withLog = ["preview", "up", "destroy", "refresh"].includes(args[0])
            ? [...args, "--event-log", eventLog, "--non-interactive", "--color", "never"] : args;
        const r = spawnSync("pulumi", withLog, {
            cwd, env: this.env, encoding: "utf8", input: opts.input, timeout: opts.timeoutMs ?? 20 * 60_000,
            maxBuffer: 256 * 1024 * 1024,
        });
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
        const res = { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? `\n${r.error.message}` : ""), events };
        if (verbose) {
            console.log(indent(`$ pulumi ${args.join(" ")}\n${res.stdout}${res.stderr}`, 6));
        }
        return res;
    }

    must(cwd: string, args: string[], opts: { input?: string } = {}): CliResult {
        const r = this.pulumi(cwd, args, opts);
        check(r.status === 0, `pulumi ${redactArgs(args).join(" ")} exited ${r.status}\n${tailText(r.stdout + r.stderr, 60)}`);
        return r;
    }

    /** Creates a stack whose config file lives in the temp dir (never in the repository). */
    stack(cwd: string, name: string, config: StackConfig): Stack {
        const configFile = path.join(this.dir, `Pulumi.${name}.yaml`);
        const s = new Stack(this, cwd, name, configFile);
        this.must(cwd, ["stack", "init", name, "--non-interactive"]);
        for (const [key, raw] of Object.entries(config)) {
            const entry: ConfigEntry = typeof raw === "object" && raw !== null && "value" in raw ? raw as ConfigEntry : { value: raw };
            const text = typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
            s.run(["config", "set", ...(entry.secret ? ["--secret"] : ["--plaintext"]), key, "--", text]);
        }
        return s;
    }
}

function redactArgs(args: string[]): string[] {
    return args.map((a) => (a.includes("PRIVATE KEY") ? "<secret>" : a));
}

function tailText(text: string, lines: number): string {
    const all = text.trimEnd().split("\n");
    return (all.length > lines ? ["…", ...all.slice(-lines)] : all).join("\n");
}

class Stack {
    constructor(readonly ws: Workspace, readonly cwd: string, readonly name: string, readonly configFile: string) {}
    private withStack(args: string[]): string[] {
        // `stack …` subcommands take no --config-file; everything else reads the stack's config from it.
        const flags = args[0] === "stack" ? ["--stack", this.name] : ["--stack", this.name, "--config-file", this.configFile];
        const dashes = args.indexOf("--");
        return dashes < 0 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
    }
    run(args: string[]): CliResult {
        return this.ws.must(this.cwd, this.withStack(args));
    }
    try(args: string[]): CliResult {
        return this.ws.pulumi(this.cwd, this.withStack(args));
    }
}

function counts(r: CliResult): Record<string, number> {
    const summary = [...r.events].reverse().find((e) => e.summaryEvent)?.summaryEvent;
    return summary?.resourceChanges ?? {};
}

function total(c: Record<string, number>): number {
    return Object.values(c).reduce((a, b) => a + b, 0);
}

function mandatoryViolations(r: CliResult) {
    return r.events.filter((e) => e.policyEvent?.enforcementLevel === "mandatory").map((e) => e.policyEvent!);
}

function errorsOf(r: CliResult): string[] {
    return r.events.filter((e) => e.diagnosticEvent?.severity === "error").map((e) => e.diagnosticEvent!.message);
}

/** The human summary lines of a preview/up (the "Resources:" block), for the log. */
function summaryLines(r: CliResult): string {
    const out = r.stdout.split("\n");
    const i = out.findIndex((l) => /^Resources:/.test(l));
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

// ── build ───────────────────────────────────────────────────────────────────────────────────────────────────
function buildEngine(): { bin: string; standin: string; standinUsed: string[] } {
    const r = spawnSync("bash", [path.join(__dirname, "build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) {
        throw new Error(`tools/engine/build.sh failed (exit ${r.status})`);
    }
    const engine = r.stdout.trim().split("\n").pop()!;
    const bin = path.join(engine, "bin");
    const standin = path.join(engine, "standin-bin");
    const standinUsed = ["command", "random"].filter((p) => !fs.existsSync(path.join(bin, `pulumi-resource-${p}`)));
    return { bin, standin, standinUsed };
}

// ── program copies ──────────────────────────────────────────────────────────────────────────────────────────
/** Copies the repository's program (sources only) into dir, sharing node_modules by symlink. */
function copyProgram(dir: string): string {
    const dest = path.join(dir, "program");
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

// ── stand-ins fed to the air-gapped k3s path ───────────────────────────────────────────────────────────────
function standinK3s(version: string): string {
    return `#!/bin/sh
# Stand-in k3s binary for the engine tier (the real one cannot be fetched here). Records every call.
echo "k3s $*" >> /var/log/charon-standin-k3s.log
case "$1" in
    --version|-v|version) echo "k3s version ${version} (charon-standin)"; echo "go version go1.26"; exit 0 ;;
    server)
        mkdir -p /etc/rancher/k3s /var/lib/rancher/k3s/server
        token=$(cat /etc/rancher/k3s/charon-token 2>/dev/null || echo "\${K3S_TOKEN:-standin}")
        printf '%s\\n' "$token" > /var/lib/rancher/k3s/server/node-token
        umask 077
        cat > /etc/rancher/k3s/k3s.yaml <<'EOF'
apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
users:
- name: default
  user: {token: standin}
EOF
        exit 0 ;;
    agent) exit 0 ;;
    kubectl)
        case "$*" in
            *--raw=/readyz*) if [ -f /etc/rancher/k3s/k3s.yaml ]; then echo ok; exit 0; fi; echo "not ready"; exit 1 ;;
            *) exit 0 ;;
        esac ;;
    *) exit 0 ;;
esac
`;
}

const STANDIN_INSTALLER = `#!/bin/sh
# Stand-in for k3s's install.sh in its air-gapped mode (INSTALL_K3S_SKIP_DOWNLOAD=true): writes the service unit
# and the uninstall script, then enables and restarts the service, like the real installer does.
set -eu
[ "\${INSTALL_K3S_SKIP_DOWNLOAD:-}" = true ] || { echo "stand-in installer supports only INSTALL_K3S_SKIP_DOWNLOAD=true" >&2; exit 1; }
role=\${INSTALL_K3S_EXEC:-server}
case "$role" in agent*) svc=k3s-agent; cmd=agent; uninstall=k3s-agent-uninstall.sh ;; *) svc=k3s; cmd=server; uninstall=k3s-uninstall.sh ;; esac
[ -x /usr/local/bin/k3s ] || { echo "/usr/local/bin/k3s missing" >&2; exit 1; }
mkdir -p /etc/systemd/system
cat > /etc/systemd/system/$svc.service <<EOF
[Unit]
Description=k3s (charon stand-in)
[Service]
ExecStart=/usr/local/bin/k3s $cmd
EOF
ln -sf k3s /usr/local/bin/kubectl
cat > /usr/local/bin/$uninstall <<EOF
#!/bin/sh
systemctl disable --now $svc || true
rm -f /etc/systemd/system/$svc.service /usr/local/bin/k3s /usr/local/bin/kubectl /usr/local/bin/$uninstall
rm -rf /etc/rancher/k3s /var/lib/rancher/k3s
EOF
chmod 0755 /usr/local/bin/$uninstall
systemctl daemon-reload
systemctl enable $svc
systemctl restart $svc
echo "[stand-in installer] installed $svc"
`;

/** The host facts the PROGRAM table needs, with the stand-in k3s files written under dir. */
function hostInfo(h: Omit<HostInfo, "standinK3s" | "standinInstaller">, dir: string): HostInfo {
    const airgap = path.join(dir, "airgap");
    fs.mkdirSync(airgap, { recursive: true });
    const standinK3sPath = path.join(airgap, "k3s");
    const standinInstallerPath = path.join(airgap, "install.sh");
    fs.writeFileSync(standinK3sPath, standinK3s(K3S_VERSION), { mode: 0o755 });
    fs.writeFileSync(standinInstallerPath, STANDIN_INSTALLER, { mode: 0o755 });
    return {
        address: h.address, port: h.port, user: h.user, privateKey: h.privateKey, hostPublicKey: h.hostPublicKey,
        standinK3s: standinK3sPath, standinInstaller: standinInstallerPath,
    };
}

// ── the harness program (proves the engine, language host and providers independent of this project) ─────
function writeHarnessProgram(dir: string): string {
    const prog = path.join(dir, "harness");
    fs.mkdirSync(path.join(prog, "policy"), { recursive: true });
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(prog, "node_modules"));
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(prog, "policy", "node_modules"));
    fs.writeFileSync(path.join(prog, "Pulumi.yaml"), "name: engine-harness\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n");
    fs.writeFileSync(path.join(prog, "package.json"), JSON.stringify({ name: "engine-harness", private: true, main: "index.ts" }));
    fs.writeFileSync(path.join(prog, "index.ts"), `
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";

const cfg = new pulumi.Config("charon");
const marker = cfg.require("marker");
const token = new random.RandomPassword("token", { length: 24, special: false });
const local = new command.local.Command("local", { create: "echo local-$MARKER", environment: { MARKER: marker } });
const connection = {
    host: cfg.require("host"),
    port: cfg.requireNumber("port"),
    user: "root",
    privateKey: cfg.requireSecret("sshPrivateKey"),
    hostKey: cfg.require("hostKey"),
};
const remote = new command.remote.Command("remote", {
    connection,
    create: "umask 077; mkdir -p /etc/charon-harness && cat > /etc/charon-harness/token && echo wrote-$MARKER",
    delete: "rm -rf /etc/charon-harness",
    stdin: token.result,
    environment: { MARKER: marker },
});
const copy = new command.remote.CopyToRemote("copy", {
    connection,
    source: new pulumi.asset.StringAsset("copied " + marker + "\\n"),
    remotePath: "/var/tmp/charon-harness-copy.txt",
});
const check = new command.remote.Command("check", {
    connection,
    create: "cat /var/tmp/charon-harness-copy.txt; wc -c < /etc/charon-harness/token",
    delete: "rm -f /var/tmp/charon-harness-copy.txt",
}, { dependsOn: [remote, copy] });
export const localOut = local.stdout;
export const remoteOut = remote.stdout;
export const checkOut = check.stdout;
export const tokenOut = token.result;
`);
    fs.writeFileSync(path.join(prog, "policy", "PulumiPolicy.yaml"), "runtime: nodejs\nname: engine-harness-policy\nversion: 0.0.1\n");
    fs.writeFileSync(path.join(prog, "policy", "package.json"), JSON.stringify({ name: "engine-harness-policy", version: "0.0.1", private: true, main: "index.ts" }));
    fs.writeFileSync(path.join(prog, "policy", "index.ts"), `
import { PolicyPack, validateResourceOfType } from "@pulumi/policy";
import * as command from "@pulumi/command";
new PolicyPack("engine-harness-policy", {
    policies: [{
        name: "no-forbidden-marker",
        description: "local commands must not echo the forbidden marker",
        enforcementLevel: "mandatory",
        validateResource: validateResourceOfType(command.local.Command, (c, _args, report) => {
            if (JSON.stringify(c.environment ?? {}).includes("forbidden")) {
                report("the marker 'forbidden' is not allowed");
            }
        }),
    }],
});
`);
    return prog;
}

// ── suites ──────────────────────────────────────────────────────────────────────────────────────────────────
async function harnessSuite(ws: Workspace, host: TestHost | undefined): Promise<void> {
    console.log("\nharness: engine + language host + command/random providers + policy pack (throwaway program)");
    const prog = writeHarnessProgram(ws.dir);
    if (!host) {
        await test("harness suite", () => { throw new Skip(`no SSH test host: ${testHostUnavailable()}`); });
        return;
    }
    const stack = ws.stack(prog, "harness", {
        "charon:marker": "m1",
        "charon:host": host.address,
        "charon:port": String(host.port),
        "charon:hostKey": host.hostPublicKey,
        "charon:sshPrivateKey": { value: host.privateKey, secret: true },
    });
    const policy = ["--policy-pack", path.join(prog, "policy")];
    await test("preview plans 6 resources with no mandatory policy violation", () => {
        const r = stack.run(["preview", ...policy]);
        console.log(indent(summaryLines(r), 6));
        const c = counts(r);
        check(c.create === 6, `expected 6 creates (stack, token, local, remote, copy, check), got ${JSON.stringify(c)}`);
        check(mandatoryViolations(r).length === 0, "unexpected mandatory violations");
    });
    await test("up runs local and remote commands over SSH, secrets stay secret", () => {
        const r = stack.run(["up", "--yes", "--skip-preview", ...policy]);
        console.log(indent(summaryLines(r), 6));
        const out = JSON.parse(stack.run(["stack", "output", "--json", "--show-secrets"]).stdout);
        check(out.localOut === "local-m1", `localOut = ${out.localOut}`);
        check(out.remoteOut === "wrote-m1", `remoteOut = ${out.remoteOut}`);
        check(out.checkOut === "copied m1\n24", `checkOut = ${JSON.stringify(out.checkOut)}`);
        const plain = JSON.parse(stack.run(["stack", "output", "--json"]).stdout);
        check(plain.tokenOut === "[secret]", `tokenOut not secret: ${plain.tokenOut}`);
        const onHost = host.ssh("cat /etc/charon-harness/token; echo; stat -c %a /etc/charon-harness/token");
        check(onHost.stdout === `${out.tokenOut}\n600\n`, `token on host: ${JSON.stringify(onHost)}`);
        const state = stack.run(["stack", "export"]).stdout;
        check(!state.includes(out.tokenOut), "the random token appears in plain text in the state file");
    });
    await test("second up reports no changes", () => {
        const r = stack.run(["up", "--yes", "--skip-preview", "--expect-no-changes", ...policy]);
        const c = counts(r);
        check(total(c) === (c.same ?? 0), `expected only 'same', got ${JSON.stringify(c)}`);
    });
    await test("a changed input updates the affected commands and replaces the changed copy only", () => {
        stack.run(["config", "set", "charon:marker", "m2"]);
        const r = stack.run(["up", "--yes", "--skip-preview", ...policy]);
        const c = counts(r);
        check(c.update === 2 && c.replace === 1 && !c.create && !c.delete,
            `expected local+remote updated, copy replaced, got ${JSON.stringify(c)}`);
        const copied = host.ssh("cat /var/tmp/charon-harness-copy.txt").stdout;
        check(copied === "copied m2\n", `copied file after the change: ${JSON.stringify(copied)}`);
    });
    await test("a mandatory policy blocks a violating setting", () => {
        stack.run(["config", "set", "charon:marker", "forbidden"]);
        const r = stack.try(["preview", ...policy]);
        check(r.status !== 0, "preview succeeded despite the violation");
        const v = mandatoryViolations(r);
        check(v.some((p) => p.policyName === "no-forbidden-marker"), `no mandatory violation reported: ${tailText(r.stdout, 20)}`);
        stack.run(["config", "set", "charon:marker", "m2"]);
    });
    await test("destroy removes what the program wrote on the host", () => {
        const r = stack.run(["destroy", "--yes", "--skip-preview"]);
        console.log(indent(summaryLines(r), 6));
        const left = host.writtenFiles().filter((f) => /charon-harness/.test(f));
        check(left.length === 0, `left on the host: ${left.join(", ")}`);
    });
}

async function presetSuite(ws: Workspace, host: HostInfo): Promise<void> {
    console.log("\npresets: pulumi preview --policy-pack policies of the project's program");
    if (!fs.existsSync(path.join(repoRoot, "Pulumi.yaml")) || !fs.existsSync(path.join(repoRoot, "policies", "PulumiPolicy.yaml"))) {
        await test("preset previews", () => { throw new Skip("Pulumi.yaml or policies/PulumiPolicy.yaml not in the repository yet"); });
        return;
    }
    const prog = copyProgram(ws.dir);
    const policy = ["--policy-pack", path.join(prog, "policies")];
    for (const p of PROGRAM.presets) {
        await test(`preview ${p.name}: succeeds, zero mandatory violations${p.expect.resources !== undefined ? `, ${p.expect.resources} resources` : ""}`, () => {
            const stack = ws.stack(prog, `preset-${p.name}`, p.config(host));
            const r = stack.try(["preview", ...policy]);
            console.log(indent(summaryLines(r) || tailText(r.stdout + r.stderr, 30), 6));
            check(r.status === 0, `preview failed (exit ${r.status}):\n${errorsOf(r).join("\n") || tailText(r.stdout + r.stderr, 40)}`);
            const v = mandatoryViolations(r);
            check(v.length === 0, `mandatory violations:\n${v.map((x) => `${x.policyName}: ${x.message}`).join("\n")}`);
            const c = counts(r);
            console.log(`      planned: ${JSON.stringify(c)} (total ${total(c)})`);
            if (p.expect.resources !== undefined) {
                check(total(c) === p.expect.resources, `expected ${p.expect.resources} resources, got ${total(c)}`);
            }
        });
    }
    let badSettingErrors: string | undefined;
    await test("a bad setting fails the preview with the program's own message", () => {
        const stack = ws.stack(prog, "bad-setting", PROGRAM.badSetting.config());
        const r = stack.try(["preview", ...policy]);
        check(r.status !== 0, "preview succeeded with a bad setting");
        const errors = errorsOf(r).join("\n");
        check(PROGRAM.badSetting.message.test(errors), `error does not match ${PROGRAM.badSetting.message}:\n${errors || tailText(r.stdout, 30)}`);
        check(!r.events.some((e) => e.resourcePreEvent && e.resourcePreEvent.metadata.type !== "pulumi:pulumi:Stack"),
            "resources were planned before the settings error");
        console.log(indent(errors.trim().split("\n").slice(0, 4).join("\n"), 6));
        badSettingErrors = errors;
    });
    await test("… and the message comes without a JavaScript stack trace", () => {
        if (badSettingErrors === undefined) {
            throw new Skip("the bad-setting preview did not fail as expected");
        }
        // pulumi.RunError (or a subclass) is printed as its message alone; any other Error gets a stack trace.
        check(!/\n\s+at .+\(.+:\d+:\d+\)/.test(badSettingErrors),
            `the error carries a stack trace (throw a pulumi.RunError subclass for a clean message):\n${tailText(badSettingErrors, 8)}`);
    });
    await test("a violating setting is blocked by a mandatory policy", () => {
        const cfg = PROGRAM.violatingSetting.config();
        if (!cfg) {
            throw new Skip("PROGRAM.violatingSetting not filled in yet");
        }
        const stack = ws.stack(prog, "violating", cfg);
        const r = stack.try(["preview", ...policy]);
        check(r.status !== 0, "preview succeeded despite the violation");
        const v = mandatoryViolations(r);
        check(v.some((x) => PROGRAM.violatingSetting.policy.test(x.policyName)),
            `no mandatory violation matching ${PROGRAM.violatingSetting.policy}: ${JSON.stringify(v)}`);
    });
}

/**
 * `npm run preview` (cli/stack.ts, the Automation API main job) as a new user runs it: no login and no passphrase,
 * so it must pick the local file backend under $HOME, generate the passphrase 0600 once, create the dev stack from
 * Pulumi.dev.yaml and stream the engine's preview with the policy pack.
 */
async function mainJobSuite(ws: Workspace): Promise<void> {
    console.log("\nmain job: npm run preview through the Automation API, as a user who never logged in");
    const prog = copyProgram(path.join(ws.dir, "main-job"));
    fs.copyFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), path.join(prog, "Pulumi.dev.yaml"));
    const home = fs.mkdtempSync(path.join(ws.dir, "home-"));
    const env: NodeJS.ProcessEnv = { ...ws.env, HOME: home };
    for (const k of ["PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "XDG_CONFIG_HOME", "PULUMI_DEBUG_COMMANDS"]) {
        delete env[k];
    }
    const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
    const run = (args: string[]) => spawnSync(process.execPath, [tsx, "cli/stack.ts", ...args], {
        cwd: prog, env, encoding: "utf8", input: "", timeout: 10 * 60_000, maxBuffer: 64 * 1024 * 1024,
    });
    await test("npm run preview creates the dev stack on a local backend with a generated passphrase and previews it", () => {
        const r = run(["preview", "--stack", "dev"]);
        if (verbose) {
            console.log(indent(r.stdout + r.stderr, 6));
        }
        check(r.status === 0, `exit ${r.status}:\n${tailText(r.stdout + r.stderr, 40)}`);
        const passphrase = path.join(home, ".config", "charon", "passphrase");
        check(r.stderr.includes(`using the local file backend in ${path.join(home, ".pulumi")}`), `no local-backend note:\n${r.stderr}`);
        check(r.stderr.includes(`Generated a passphrase for this machine's stack secrets in ${passphrase} (mode 0600)`), `no passphrase note:\n${r.stderr}`);
        check((fs.statSync(passphrase).mode & 0o777) === 0o600, "the passphrase file is not 0600");
        const stacks = path.join(home, ".pulumi", "stacks");
        const files = fs.existsSync(stacks) ? fs.readdirSync(stacks, { recursive: true }).map(String) : [];
        check(files.some((f) => /(^|\/)dev\.json/.test(f)), `the dev stack was not created under ~/.pulumi/stacks (found: ${files.join(", ") || "nothing"})`);
        check(/Policy Packs run:\s+Name\s+Version\s+charon\|local\|/.test(r.stdout), `the policy pack did not run:\n${tailText(r.stdout, 30)}`);
        const summary = /\+ (\d+) to create/.exec(r.stdout);
        check(summary !== null, `no preview summary:\n${tailText(r.stdout, 30)}`);
        console.log(indent(summaryLines({ status: 0, stdout: r.stdout, stderr: "", events: [] }), 6));
    });
    await test("… and a second run reuses the stack and the passphrase", () => {
        const before = fs.readFileSync(path.join(home, ".config", "charon", "passphrase"), "utf8");
        const r = run(["preview", "--stack", "dev", "--no-policy"]);
        check(r.status === 0, `exit ${r.status}:\n${tailText(r.stdout + r.stderr, 40)}`);
        check(r.stderr.includes("Using the stack-secrets passphrase in"), `the passphrase was not reused:\n${r.stderr}`);
        check(fs.readFileSync(path.join(home, ".config", "charon", "passphrase"), "utf8") === before, "the passphrase changed");
    });
}

async function hostSuite(ws: Workspace, host: TestHost | undefined): Promise<void> {
    console.log("\nhosts: pulumi up of the cluster layer's host steps against the SSH test host");
    if (!fs.existsSync(path.join(repoRoot, "Pulumi.yaml"))) {
        await test("host steps", () => { throw new Skip("Pulumi.yaml not in the repository yet"); });
        return;
    }
    if (!host) {
        await test("host steps", () => { throw new Skip(`no SSH test host: ${testHostUnavailable()}`); });
        return;
    }
    const prog = fs.existsSync(path.join(ws.dir, "program")) ? path.join(ws.dir, "program") : copyProgram(ws.dir);
    const hs = PROGRAM.hostSteps;
    const baseline = new Set(host.writtenFiles());
    const stack = ws.stack(prog, "hosts", hs.config(hostInfo(host, ws.dir)));
    const scope = hs.targets.flatMap((t) => ["--target", t]);
    let upOk = false;
    await test("up of the host steps succeeds and writes the expected files", () => {
        const r = stack.try(["up", "--yes", "--skip-preview", ...scope]);
        console.log(indent(summaryLines(r) || tailText(r.stdout + r.stderr, 40), 6));
        check(r.status === 0, `up failed (exit ${r.status}):\n${errorsOf(r).join("\n") || tailText(r.stdout + r.stderr, 60)}`);
        const missing = hs.expectFiles.filter((f) => host.ssh(`test -e ${f}`).status !== 0);
        check(missing.length === 0, `missing on the host after up: ${missing.join(", ")}`);
        const written = host.writtenFiles().filter((f) => !baseline.has(f));
        console.log(indent(`written on the host: ${written.join(" ")}`, 6));
        upOk = true;
    });
    await test("a second up reports no changes", () => {
        if (!upOk) {
            throw new Skip("the first up failed");
        }
        const r = stack.try(["up", "--yes", "--skip-preview", "--expect-no-changes", ...scope]);
        const c = counts(r);
        check(r.status === 0 && total(c) === (c.same ?? 0), `changes on the second up: ${JSON.stringify(c)}\n${tailText(r.stdout, 30)}`);
    });
    await test("destroy removes what the program wrote", () => {
        const r = stack.try(["destroy", "--yes", "--skip-preview"]);
        console.log(indent(summaryLines(r) || tailText(r.stdout + r.stderr, 30), 6));
        check(r.status === 0, `destroy failed (exit ${r.status}):\n${errorsOf(r).join("\n") || tailText(r.stdout + r.stderr, 40)}`);
        const left = host.writtenFiles().filter((f) => !baseline.has(f) && !/^\/var\/log\//.test(f));
        check(left.length === 0, `left on the host after destroy: ${left.join(", ")}`);
    });
}

async function main(): Promise<void> {
    const started = Date.now();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "charon-engine-"));
    let host: TestHost | undefined;
    try {
        console.log("engine tier: building the Pulumi engine from Go modules (tools/engine/build.sh)");
        const built = buildEngine();
        const binDirs = [built.bin, ...(built.standinUsed.length > 0 ? [built.standin] : [])];
        const ws = new Workspace(tmp, binDirs);
        const version = ws.must(tmp, ["version"]).stdout.trim();
        console.log(`pulumi version: ${version} (${path.join(built.bin, "pulumi")})`);
        for (const p of built.standinUsed) {
            console.log(`NOTE: pulumi-resource-${p} is the STAND-IN from ${built.standin}: ` +
                "the real provider's module is not served by the Go module proxy (see tools/engine/README.md)");
        }
        if (!testHostUnavailable() && (only.includes("harness") || only.includes("hosts") || only.includes("presets"))) {
            host = startTestHost({ name: "eng" });
            console.log(`SSH test host: root@${host.address}:${host.port} (network namespace; overlay root at ${host.upperDir})`);
        }
        const info = hostInfo(host ?? { address: "10.250.0.2", port: 22, user: "root", privateKey: "unused", hostPublicKey: "" }, tmp);
        if (only.includes("harness")) {
            await harnessSuite(ws, host);
        }
        if (only.includes("presets")) {
            await presetSuite(ws, info);
        }
        if (only.includes("main-job")) {
            await mainJobSuite(ws);
        }
        if (only.includes("hosts")) {
            await hostSuite(ws, host);
        }
    } catch (e) {
        failed++;
        const msg = e instanceof Error ? e.message : String(e);
        failures.push(`setup: ${msg}`);
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
    if (failures.length > 0) {
        console.log(`failures:\n${failures.map((f) => `  - ${f.split("\n")[0]}`).join("\n")}`);
    }
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exitCode = failed > 0 ? 1 : 0;
}

void main();
