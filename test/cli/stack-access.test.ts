/**
 * `npm run outputs | kubectl | kubeconfig` as a user runs them, against a stack in a local file backend whose state
 * holds a kubeconfig output (secret) — made with the real Pulumi CLI (`stack init` + `stack import`), the same
 * backend and passphrase the commands use. The kubectl on PATH is a recording script (the file it is handed is
 * what is checked); the built-in client is pointed at a closed port (reaching a live cluster is the engine tier's).
 * Runs when the machine has a Pulumi CLI.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { type Checkout, pulumiForTests, removeScratch, scratch, tempCheckout } from "./checkout";

const KUBECONFIG = [
    "apiVersion: v1", "kind: Config",
    "clusters:", "- name: default", "  cluster:", "    server: https://127.0.0.1:1", "    certificate-authority-data: Q0E=",
    "users:", "- name: default", "  user:", "    token: s3cr3t-token",
    "contexts:", "- name: default", "  context: {cluster: default, user: default}",
    "current-context: default", "",
].join("\n");

/** A stack `name` in the checkout's home backend with the given outputs (secret ones marked), through the real CLI. */
function stackWithOutputs(checkout: Checkout, cliDirs: string[], name: string, outputs: Record<string, { value: unknown; secret?: boolean }>): void {
    const passphrase = path.join(checkout.home, ".config", "charon", "passphrase");
    fs.mkdirSync(path.dirname(passphrase), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(passphrase)) {
        fs.writeFileSync(passphrase, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600 });
    }
    const env = { ...process.env, PATH: [...cliDirs, process.env.PATH].join(":"), HOME: checkout.home, PULUMI_BACKEND_URL: `file://${checkout.home}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: passphrase, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const ws = scratch("ws");
    fs.writeFileSync(path.join(ws, "Pulumi.yaml"), "name: charon\nruntime: nodejs\n");
    const run = (args: string[]) => {
        const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: ws, env, encoding: "utf8" });
        assert.equal(r.status, 0, `pulumi ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
    };
    run(["stack", "init", name]);
    const exported = JSON.parse(run(["stack", "export", "--stack", name]));
    exported.deployment.resources = [{
        urn: `urn:pulumi:${name}::charon::pulumi:pulumi:Stack::charon-${name}`, custom: false, type: "pulumi:pulumi:Stack",
        outputs: Object.fromEntries(Object.entries(outputs).map(([k, { value, secret }]) => [k, secret
            ? { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) } : value])),
    }];
    fs.writeFileSync(path.join(ws, "state.json"), JSON.stringify(exported));
    run(["stack", "import", "--stack", name, "--file", path.join(ws, "state.json")]);
    fs.rmSync(ws, { recursive: true, force: true });
}

/** A directory with every command of /usr/bin and /bin except kubectl (a machine without kubectl). */
function binWithoutKubectl(): string {
    const dir = scratch("nokubectl");
    for (const from of ["/usr/bin", "/bin"]) {
        for (const f of fs.readdirSync(from)) {
            if (f !== "kubectl" && !fs.existsSync(path.join(dir, f))) {
                fs.symlinkSync(path.join(from, f), path.join(dir, f));
            }
        }
    }
    return dir;
}

describe("npm run outputs / kubectl / kubeconfig against a stack's outputs (real Pulumi CLI)", function () {
    after(removeScratch);
    this.timeout(240_000);
    const cli = pulumiForTests();
    let checkout: Checkout;

    before(function () {
        if (!cli) {
            console.log("      (skipped: no Pulumi CLI on this machine; `tools/engine/build.sh` builds one)");
            this.skip();
        }
        checkout = tempCheckout();
        stackWithOutputs(checkout, cli!.dirs, "dev", { kubeconfig: { value: KUBECONFIG, secret: true }, nodes: { value: [{ name: "dev", role: "server" }] } });
    });

    after(() => checkout?.remove());

    it("outputs shows the kubeconfig as [secret]", () => {
        const r = checkout.sh("npm run --silent outputs", { path: cli!.dirs });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "kubeconfig: [secret]\nnodes: [\n  {\n    \"name\": \"dev\",\n    \"role\": \"server\"\n  }\n]\n");
    });

    it("kubectl on PATH gets the stack's kubeconfig in a 0600 file that is gone afterwards; its exit code is kept", () => {
        const fake = scratch("kubectl-bin");
        const record = path.join(fake, "record");
        fs.writeFileSync(path.join(fake, "kubectl"), [
            "#!/bin/sh",
            `{ echo "$*"; echo "$KUBECONFIG"; stat -c %a "$KUBECONFIG"; cat "$KUBECONFIG"; } > ${record}`,
            "echo NAME STATUS; echo dev Ready",
            "exit 4",
            "",
        ].join("\n"), { mode: 0o755 });
        const r = checkout.sh("npm run --silent kubectl -- get nodes -o wide", { path: [fake, ...cli!.dirs] });
        assert.equal(r.status, 4, r.stderr);
        assert.equal(r.stdout, "NAME STATUS\ndev Ready\n");
        assert.equal(r.stderr, `charon: kubectl (${fake}/kubectl) against stack dev's cluster\n`);
        const [args, file, mode, ...content] = fs.readFileSync(record, "utf8").split("\n");
        assert.equal(args, "get nodes -o wide");
        assert.equal(mode, "600");
        assert.equal(content.join("\n"), KUBECONFIG);
        assert.equal(fs.existsSync(file), false);
        assert.equal(fs.existsSync(path.dirname(file)), false);
        assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t-token/);
    });

    it("without kubectl the built-in client runs, saying so, and names the server it cannot reach", () => {
        const bin = binWithoutKubectl();
        const pulumiOnly = scratch("pulumi-only");
        fs.symlinkSync(cli!.which, path.join(pulumiOnly, "pulumi"));
        const r = spawnSync("bash", ["-c", "npm run --silent kubectl -- get nodes"], {
            cwd: checkout.root, encoding: "utf8",
            env: { PATH: [pulumiOnly, path.dirname(process.execPath), bin].join(":"), HOME: checkout.home, PULUMI_SKIP_UPDATE_CHECK: "true", npm_config_update_notifier: "false" },
        });
        assert.equal(r.status, 1);
        assert.equal(r.stderr, [
            "charon: kubectl is not on PATH: charon's built-in client (get, api-resources, version) against stack dev's cluster",
            "charon: cannot reach the API server https://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1",
            "",
        ].join("\n"));
        const refused = spawnSync("bash", ["-c", "npm run --silent kubectl -- apply -f x.yaml"], {
            cwd: checkout.root, encoding: "utf8", env: { PATH: [path.dirname(process.execPath), bin].join(":"), HOME: checkout.home },
        });
        assert.equal(refused.status, 1);
        assert.equal(refused.stderr, "charon: the built-in client runs get, api-resources, version, not `apply`; install kubectl (https://kubernetes.io/docs/tasks/tools/) for everything else\n",
            "refused before the stack is even read (no CLI on that PATH)");
    });

    it("kubeconfig --write adds context charon-dev to ~/.kube/config, 0600; a second run has nothing to do", () => {
        const kubeDir = path.join(checkout.home, ".kube");
        fs.mkdirSync(kubeDir, { mode: 0o700 });
        fs.writeFileSync(path.join(kubeDir, "config"), yaml.dump({
            apiVersion: "v1", kind: "Config", "current-context": "prod",
            clusters: [{ name: "prod", cluster: { server: "https://prod:6443" } }], users: [{ name: "prod", user: { token: "p" } }],
            contexts: [{ name: "prod", context: { cluster: "prod", user: "prod" } }],
        }), { mode: 0o600 });
        const r = checkout.sh("npm run --silent kubeconfig -- --write", { path: cli!.dirs });
        assert.equal(r.status, 0, r.stderr);
        const file = path.join(kubeDir, "config");
        assert.equal(r.stderr, `charon: added context charon-dev (cluster https://127.0.0.1:1) in ${file}, mode 0600; use it with kubectl --context charon-dev (or kubectl config use-context charon-dev)\n`);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        const doc = yaml.load(fs.readFileSync(file, "utf8")) as any;
        assert.deepEqual(doc.contexts.map((c: any) => c.name), ["prod", "charon-dev"]);
        assert.equal(doc.users.find((u: any) => u.name === "charon-dev").user.token, "s3cr3t-token");
        const again = checkout.sh("npm run --silent kubeconfig -- --write", { path: cli!.dirs });
        assert.equal(again.stderr, `charon: ${file} already has context charon-dev for stack dev (https://127.0.0.1:1); nothing to do\n`);
        assert.equal(checkout.status(), "", "nothing written into the checkout");
    });

    it("a stack that does not exist is named with the backend it looked in", () => {
        const r = checkout.sh("npm run --silent kubectl -- --stack nosuch get nodes", { path: cli!.dirs });
        assert.equal(r.status, 1);
        assert.equal(r.stderr, `charon: stack nosuch does not exist in the local file backend in ${checkout.home}/.pulumi (\`pulumi login\` chooses another) and there is no Pulumi.nosuch.yaml\n`);
    });
});
