// The harness suite: a throwaway program (written to a temp dir) using @pulumi/command local + remote (SSH into a
// test host) and @pulumi/random, with a one-rule policy pack. Proves the engine, the language host and the provider
// stand-ins independent of this project's program.
import * as fs from "node:fs";
import * as path from "node:path";
import { check, counts, indent, mandatoryViolations, repoRoot, Skip, summaryLines, tailText, test, total, Workspace } from "./runner";
import { testHostUnavailable, TestHost } from "./test-host";

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
export async function harnessSuite(ws: Workspace, host: TestHost | undefined): Promise<void> {
    console.log("\nharness: engine + language host + command/random providers + policy pack (throwaway program)");
    const prog = writeHarnessProgram(ws.dir);
    if (!host) {
        await test("harness suite", () => { throw new Skip(`no SSH test host: ${testHostUnavailable()}`); });
        return;
    }
    const stack = await ws.stack(prog, "harness", {
        "charon:marker": "m1",
        "charon:host": host.address,
        "charon:port": String(host.port),
        "charon:hostKey": host.hostPublicKey,
        "charon:sshPrivateKey": { value: host.privateKey, secret: true },
    });
    const policy = ["--policy-pack", path.join(prog, "policy")];
    await test("harness: preview plans 6 resources with no mandatory policy violation", async () => {
        const r = await stack.run(["preview", ...policy]);
        console.log(indent(summaryLines(r.stdout), 6));
        const c = counts(r);
        check(c.create === 6, `expected 6 creates (stack, token, local, remote, copy, check), got ${JSON.stringify(c)}`);
        check(mandatoryViolations(r).length === 0, "unexpected mandatory violations");
    });
    await test("harness: up runs local and remote commands over SSH, secrets stay secret", async () => {
        const r = await stack.run(["up", "--yes", "--skip-preview", ...policy]);
        console.log(indent(summaryLines(r.stdout), 6));
        const out = JSON.parse((await stack.run(["stack", "output", "--json", "--show-secrets"])).stdout);
        check(out.localOut === "local-m1", `localOut = ${out.localOut}`);
        check(out.remoteOut === "wrote-m1", `remoteOut = ${out.remoteOut}`);
        check(out.checkOut === "copied m1\n24", `checkOut = ${JSON.stringify(out.checkOut)}`);
        const plain = JSON.parse((await stack.run(["stack", "output", "--json"])).stdout);
        check(plain.tokenOut === "[secret]", `tokenOut not secret: ${plain.tokenOut}`);
        const onHost = host.ssh("cat /etc/charon-harness/token; echo; stat -c %a /etc/charon-harness/token");
        check(onHost.stdout === `${out.tokenOut}\n600\n`, `token on host: ${JSON.stringify(onHost)}`);
        const state = (await stack.run(["stack", "export"])).stdout;
        check(!state.includes(out.tokenOut), "the random token appears in plain text in the state file");
    });
    await test("harness: second up reports no changes", async () => {
        const r = await stack.run(["up", "--yes", "--skip-preview", "--expect-no-changes", ...policy]);
        const c = counts(r);
        check(total(c) === (c.same ?? 0), `expected only 'same', got ${JSON.stringify(c)}`);
    });
    await test("harness: a changed input updates the affected commands and replaces the changed copy only", async () => {
        await stack.run(["config", "set", "charon:marker", "m2"]);
        const r = await stack.run(["up", "--yes", "--skip-preview", ...policy]);
        const c = counts(r);
        check(c.update === 2 && c.replace === 1 && !c.create && !c.delete,
            `expected local+remote updated, copy replaced, got ${JSON.stringify(c)}`);
        const copied = host.ssh("cat /var/tmp/charon-harness-copy.txt").stdout;
        check(copied === "copied m2\n", `copied file after the change: ${JSON.stringify(copied)}`);
    });
    await test("harness: a mandatory policy blocks a violating setting", async () => {
        await stack.run(["config", "set", "charon:marker", "forbidden"]);
        const r = await stack.try(["preview", ...policy]);
        check(r.status !== 0, "preview succeeded despite the violation");
        const v = mandatoryViolations(r);
        check(v.some((p) => p.policyName === "no-forbidden-marker"), `no mandatory violation reported: ${tailText(r.stdout, 20)}`);
        await stack.run(["config", "set", "charon:marker", "m2"]);
    });
    await test("harness: destroy removes what the program wrote on the host", async () => {
        const r = await stack.run(["destroy", "--yes", "--skip-preview"]);
        console.log(indent(summaryLines(r.stdout), 6));
        const left = host.writtenFiles().filter((f) => /charon-harness/.test(f));
        check(left.length === 0, `left on the host: ${left.join(", ")}`);
    });
}

