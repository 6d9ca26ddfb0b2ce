/**
 * `npm run config` and the README's stack-file walkthrough: secrets from stdin into the user's layer outside the
 * repository, plain values into the stack file, the same backend and passphrase as `npm run up`. The parts that
 * need the Pulumi CLI (it encrypts and creates the stack) run with a real one when the machine has it.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parseConfigCommand } from "../../cli/config";
import { pulumiForTests, tempCheckout } from "./checkout";

const repo = path.resolve(__dirname, "..", "..");
const readme = fs.readFileSync(path.join(repo, "README.md"), "utf8");

function walkthrough(): string[] {
    const block = /<!-- walkthrough:begin[^>]*-->\n```bash\n([\s\S]*?)```\n<!-- walkthrough:end -->/.exec(readme);
    assert.ok(block, "README.md has the walkthrough between its markers");
    return block[1].split("\n").filter((l) => l.trim().length > 0);
}

describe("npm run config", () => {
    it("parses its actions and refuses what would leak or make no sense, one line each", () => {
        assert.deepEqual(parseConfigCommand([]), { action: "list", stack: "dev", key: undefined, value: undefined, secret: false, showSecrets: false });
        assert.deepEqual(parseConfigCommand(["set", "--stack", "cluster", "--secret", "charon:sshPrivateKey"]),
            { action: "set", stack: "cluster", key: "charon:sshPrivateKey", value: undefined, secret: true, showSecrets: false });
        assert.deepEqual(parseConfigCommand(["set", "charon:hosts[0].user", "cc", "--path"]),
            { action: "set", stack: "dev", key: "charon:hosts[0].user", value: "cc", secret: false, showSecrets: false });
        assert.deepEqual(parseConfigCommand(["get", "charon:sshPrivateKey", "--show-secrets"]).showSecrets, true);
        const refused: [string[], RegExp][] = [
            [["set", "--secret", "charon:sshPrivateKey", "hunter2"], /^a secret is read from stdin, not from the command line \(where ps and your shell history would keep it\): npm run config -- set --secret charon:sshPrivateKey < FILE$/],
            [["show"], /^unknown action "show"; expected list, get, set or rm$/],
            [["get"], /^get needs a KEY, e.g\. charon:sshPrivateKey$/],
            [["get", "preset"], /^"preset" is not a config key; expected namespace:name/],
            [["rm", "charon:a", "charon:b"], /^too many arguments for rm: charon:b$/],
            [["get", "--secret", "charon:a"], /^--secret belongs to set$/],
            [["list", "--stack", "../x"], /^--stack "\.\.\/x" is not a valid stack name/],
            [["set", "--sekret", "charon:a"], /Unknown option '--sekret'/],
        ];
        for (const [argv, message] of refused) {
            assert.throws(() => parseConfigCommand(argv), (err: Error) => message.test(err.message), argv.join(" "));
        }
    });

    it("list and get work offline from the stack file, without a Pulumi CLI", function () {
        this.timeout(60_000);
        const checkout = tempCheckout();
        try {
            const list = checkout.sh("npm run --silent config -- --stack dev");
            assert.equal(list.status, 0, list.stderr);
            assert.equal(list.stdout, "stack dev: Pulumi.dev.yaml\n  charon:preset: dev\n");
            const get = checkout.sh("npm run --silent config -- get charon:preset");
            assert.equal(get.stdout, "dev\n");
            const missing = checkout.sh("npm run --silent config -- get charon:monitoring.retention");
            assert.equal(missing.status, 1);
            assert.equal(missing.stderr, "charon: charon:monitoring.retention is not set for stack dev (neither in Pulumi.dev.yaml nor in your secrets layer)\n");
            const nofile = checkout.sh("npm run --silent config -- set --stack nosuch --secret charon:sshPrivateKey", { input: "k" });
            assert.equal(nofile.status, 1);
            assert.match(nofile.stderr, /^charon: stack nosuch has no stack file: Pulumi\.nosuch\.yaml does not exist in /);
        } finally {
            checkout.remove();
        }
    });

    describe("with the Pulumi CLI", function () {
        this.timeout(240_000);
        const cli = pulumiForTests();

        before(function () {
            if (!cli) {
                // Announced: these need a real CLI (PATH, ~/.pulumi/versions, or tools/engine/build.sh's cache).
                console.log("      (skipped: no Pulumi CLI on this machine; `tools/engine/build.sh` builds one)");
                this.skip();
            }
        });

        it("the README's walkthrough works verbatim up to its check: the key is a secret outside the repository", () => {
            const lines = walkthrough();
            assert.deepEqual(lines.map((l) => l.split(" ").slice(0, 3).join(" ")), [
                "cp stacks/examples/Pulumi.cluster.yaml Pulumi.cluster.yaml", "npm run config", "npm run check", "npm run preview", "npm run up",
            ]);
            const checkout = tempCheckout();
            try {
                fs.mkdirSync(path.join(checkout.home, ".ssh"), { mode: 0o700 });
                const key = path.join(checkout.home, ".ssh", "id_ed25519");
                const keygen = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "walkthrough", "-f", key]);
                if (keygen.status !== 0) {
                    fs.writeFileSync(key, "-----BEGIN OPENSSH PRIVATE KEY-----\nd2Fsa3Rocm91Z2g=\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
                }
                // preview and up need the whole engine and the hosts; the engine tier runs those. Here: every line before.
                const results = lines.slice(0, 3).map((line) => ({ line, r: checkout.sh(line.replace(/^npm run /, "npm run --silent "), { path: cli!.dirs }) }));
                for (const { line, r } of results) {
                    assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
                }
                assert.equal(results[2].r.stdout, "stack cluster: OK (Pulumi.cluster.yaml: file and settings; policies/config/default.json: policy configuration)\n");
                assert.match(results[1].r.stderr, /charon: Creating stack cluster from Pulumi\.cluster\.yaml in the local file backend in .*\/home\/\.pulumi/);
                assert.match(results[1].r.stderr, /charon: set the secret charon:sshPrivateKey of stack cluster, encrypted, in .*\/home\/\.config\/charon\/stacks\/file-.*\/cluster\.yaml \(outside the repository\)/);

                assert.equal(checkout.status(), "?? Pulumi.cluster.yaml\n", "only the copied stack file is new; nothing else written into the checkout");
                assert.equal(fs.readFileSync(path.join(checkout.root, "Pulumi.cluster.yaml"), "utf8"),
                    fs.readFileSync(path.join(checkout.root, "stacks", "examples", "Pulumi.cluster.yaml"), "utf8"), "the stack file is unchanged: no salt, no secret");
                const layerDir = path.join(checkout.home, ".config", "charon", "stacks");
                const [backend] = fs.readdirSync(layerDir);
                const layerFile = path.join(layerDir, backend, "cluster.yaml");
                assert.equal(fs.statSync(layerFile).mode & 0o777, 0o600);
                const layer = yaml.load(fs.readFileSync(layerFile, "utf8")) as { encryptionsalt: string; secrets: Record<string, { secure: string }> };
                assert.match(layer.encryptionsalt, /^v1:/);
                assert.match(layer.secrets["charon:sshPrivateKey"].secure, /^v1:/);
                assert.doesNotMatch(fs.readFileSync(layerFile, "utf8"), /PRIVATE KEY/);

                const masked = checkout.sh("npm run --silent config -- get --stack cluster charon:sshPrivateKey", { path: cli!.dirs });
                assert.equal(masked.stdout, "[secret]   (a secret; --show-secrets prints it)\n");
                const shown = checkout.sh("npm run --silent config -- get --stack cluster charon:sshPrivateKey --show-secrets", { path: cli!.dirs });
                assert.equal(shown.status, 0, shown.stderr);
                assert.equal(shown.stdout.trimEnd(), fs.readFileSync(key, "utf8").trimEnd());

                // The same backend and passphrase as npm run up: the plain CLI sees the stack and decrypts with them.
                const env = { PULUMI_BACKEND_URL: `file://${checkout.home}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(checkout.home, ".config", "charon", "passphrase") };
                const ls = checkout.sh("pulumi stack ls --json --non-interactive", { path: cli!.dirs, env });
                assert.deepEqual((JSON.parse(ls.stdout) as { name: string }[]).map((s) => s.name), ["cluster"]);
            } finally {
                checkout.remove();
            }
        });

        it("plain values go into the stack file, a per-host secret into the layer at its path; rm takes each out again", () => {
            const checkout = tempCheckout();
            try {
                const run = (args: string, input?: string) => {
                    const r = checkout.sh(`npm run --silent config -- --stack gpu ${args}`, { path: cli!.dirs, input });
                    assert.equal(r.status, 0, `${args}\n${r.stderr}`);
                    return r;
                };
                fs.copyFileSync(path.join(checkout.root, "stacks", "examples", "Pulumi.gpu-node.yaml"), path.join(checkout.root, "Pulumi.gpu.yaml"));
                run("set 'charon:hosts[0].privateKey' --secret", "-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n-----END OPENSSH PRIVATE KEY-----\n");
                run("set charon:monitoring.grafanaNodePort 30090");
                const file = yaml.load(fs.readFileSync(path.join(checkout.root, "Pulumi.gpu.yaml"), "utf8")) as { config: Record<string, any>; encryptionsalt?: string };
                assert.equal(file.config["charon:monitoring"].grafanaNodePort, 30090);
                assert.equal(file.config["charon:hosts"][0].privateKey, undefined, "the secret is not in the stack file");
                assert.equal(file.encryptionsalt, undefined);
                assert.match(fs.readFileSync(path.join(checkout.root, "Pulumi.gpu.yaml"), "utf8"), /# becomes the Kubernetes node name/, "comments are kept");
                assert.equal(run("list").stdout.split("\n")[0], `stack gpu: Pulumi.gpu.yaml with your secrets from ${checkout.home}/.config/charon/stacks/${fs.readdirSync(path.join(checkout.home, ".config", "charon", "stacks"))[0]}/gpu.yaml (charon:hosts[0].privateKey)`);
                assert.match(run("list").stdout, /^ {2}charon:hosts: \[\{"name":"gpu1","address":"203\.0\.113\.10","user":"cc","privateKey":"\[secret\]"\}\]$/m);
                const check = checkout.sh("npm run --silent check -- --stack gpu");
                assert.equal(check.stdout, "stack gpu: OK (Pulumi.gpu.yaml: file and settings; policies/config/default.json: policy configuration)\n");

                const tooFar = checkout.sh("npm run --silent config -- --stack gpu set --secret 'charon:hosts[3].privateKey'", { path: cli!.dirs, input: "k" });
                assert.equal(tooFar.status, 1);
                assert.equal(tooFar.stderr, "charon: charon:hosts[3].privateKey: the stack file's value has 1 entry, so there is no [3] to put it in\n");

                run("rm 'charon:hosts[0].privateKey'");
                run("rm charon:monitoring.grafanaNodePort");
                assert.match(checkout.sh("npm run --silent check -- --stack gpu").stdout, /charon:hosts\[0\]\.privateKey: remote host "gpu1" has no SSH credentials/);
                assert.doesNotMatch(fs.readFileSync(path.join(checkout.root, "Pulumi.gpu.yaml"), "utf8"), /30090/);
            } finally {
                checkout.remove();
            }
        });
    });
});
