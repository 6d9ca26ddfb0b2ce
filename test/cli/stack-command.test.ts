import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { backendUrl, chooseBackend, loggedInBackend } from "../../automation/backend";
import { parseCommandLine, policyConfigFor } from "../../cli/stack";
import { pulumiCliVersion } from "../../components/versions";
import { removeScratch, scratch, tempCheckout } from "./checkout";

const repoRoot = path.resolve(__dirname, "..", "..");

function tempHome(): string {
    return scratch("home");
}

describe("main-job commands (npm run up/preview/destroy/outputs)", () => {
    after(removeScratch);
    it("pins a CLI version the installed SDK accepts (at least the SDK's own)", () => {
        const sdk = JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules/@pulumi/pulumi/package.json"), "utf8"));
        const parts = (v: string) => v.split(".").map(Number);
        const [a, b] = [parts(pulumiCliVersion), parts(sdk.version)];
        const cmp = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        assert.ok(cmp >= 0, `pulumiCliVersion ${pulumiCliVersion} is older than @pulumi/pulumi ${sdk.version}`);
    });

    it("parses the operation and options, defaulting to the dev stack with policies on", () => {
        assert.deepEqual(parseCommandLine(["preview"]), {
            operation: "preview", stack: "dev", yes: false, policy: true, expectNoChanges: false, refresh: false, showSecrets: false,
        });
        assert.deepEqual(parseCommandLine(["up", "--stack", "gpu-node", "--yes", "--no-policy"]), {
            operation: "up", stack: "gpu-node", yes: true, policy: false, expectNoChanges: false, refresh: false, showSecrets: false,
        });
        assert.throws(() => parseCommandLine(["deploy"]), /unknown operation "deploy"; expected one of up, preview, destroy, outputs/);
        assert.throws(() => parseCommandLine(["up", "--stak", "x"]), /Unknown option '--stak'/);
        assert.throws(() => parseCommandLine(["up", "--stack", "a b"]), /--stack "a b" is not a valid stack name/);
    });

    it("runs the policy pack with the stack's own policy config when there is one, else the default", () => {
        const root = scratch("policy");
        fs.mkdirSync(path.join(root, "policies", "config"), { recursive: true });
        fs.writeFileSync(path.join(root, "policies", "config", "cluster.json"), "{}");
        assert.equal(policyConfigFor("cluster", root), path.join(root, "policies", "config", "cluster.json"));
        assert.equal(policyConfigFor("dev", root), path.join(root, "policies", "config", "default.json"));
        assert.ok(fs.existsSync(policyConfigFor("dev")), "the default policy config exists");
    });

    describe("backend choice", () => {
        it("uses the user's login when there is one", () => {
            const home = tempHome();
            fs.mkdirSync(path.join(home, ".pulumi"));
            fs.writeFileSync(path.join(home, ".pulumi", "credentials.json"), JSON.stringify({ current: "https://api.pulumi.com" }));
            assert.equal(loggedInBackend({}, home), "https://api.pulumi.com");
            assert.deepEqual(chooseBackend({}, home), { env: {}, notes: [] });
            assert.equal(loggedInBackend({ PULUMI_BACKEND_URL: "s3://bucket" }, home), "s3://bucket");
            assert.equal(backendUrl({ PULUMI_BACKEND_URL: "s3://bucket" }, home), "s3://bucket");
        });

        it("falls back to a local file backend with a passphrase generated once, 0600, in the config directory", () => {
            const home = tempHome();
            assert.equal(backendUrl({}, home), `file://${home}`);
            const first = chooseBackend({}, home);
            const file = path.join(home, ".config", "charon", "passphrase");
            assert.deepEqual(first.env, { PULUMI_BACKEND_URL: `file://${home}`, PULUMI_CONFIG_PASSPHRASE_FILE: file });
            assert.deepEqual(first.notes, [`Generated a passphrase for this machine's stack secrets in ${file} (mode 0600). Back it up: without it the stacks' secrets cannot be decrypted.`]);
            assert.equal(fs.statSync(file).mode & 0o777, 0o600);
            const passphrase = fs.readFileSync(file, "utf8");
            assert.ok(passphrase.trim().length >= 40);
            const second = chooseBackend({}, home);
            assert.equal(fs.readFileSync(file, "utf8"), passphrase, "the passphrase is generated once");
            assert.deepEqual(second.notes, [], "nothing to say the second time");
        });

        it("respects PULUMI_CONFIG_PASSPHRASE(_FILE) and refuses a world-readable passphrase file", () => {
            const home = tempHome();
            assert.deepEqual(chooseBackend({ PULUMI_CONFIG_PASSPHRASE: "x" }, home).env, { PULUMI_BACKEND_URL: `file://${home}` });
            assert.equal(fs.existsSync(path.join(home, ".config", "charon")), false);
            chooseBackend({}, home);
            const file = path.join(home, ".config", "charon", "passphrase");
            fs.chmodSync(file, 0o644);
            assert.throws(() => chooseBackend({}, home), new RegExp(`${file} is readable by others \\(mode 644\\); run \`chmod 600 ${file}\``));
        });
    });

    describe("as a user runs them (npm, no Pulumi CLI on PATH, no network)", function () {
        this.timeout(180_000);
        const noNetwork = `--require ${path.join(repoRoot, "test/fixtures/no-network.cjs")}`;

        it("the CLI download is attempted once per machine; then the answer says how to get a CLI offline", function () {
            const checkout = tempCheckout();
            const found = checkout.sh("command -v pulumi");
            if (found.status === 0) {
                checkout.remove();
                this.skip(); // a pulumi in /usr/bin or /usr/local/bin: the machine has a CLI, nothing to download
            }
            try {
                const root = path.join(checkout.home, ".pulumi", "versions", pulumiCliVersion);
                const marker = path.join(checkout.home, ".cache", "charon", `pulumi-${pulumiCliVersion}-download-failed`);
                const offline = (reason: string, retried: boolean) => [
                    `charon: the Pulumi CLI is not on PATH and downloading Pulumi ${pulumiCliVersion} ${retried ? "failed" : "failed earlier"} (${reason})` +
                    `${retried ? "; it is not retried on this machine" : ", so it is not tried again"}. Get a CLI one of these ways, then run the command again:`,
                    `  - on a machine with internet: curl -fsSL https://get.pulumi.com | sh -s -- --version ${pulumiCliVersion}; copy ~/.pulumi/bin/pulumi* to ${root}/bin/ here (or anywhere on PATH)`,
                    "  - build it from the Go module proxy with the project's engine build: tools/engine/build.sh (see tools/engine/README.md), then put the pulumi it built on PATH",
                    `  - to download again: rm ${marker}`,
                ].join("\n");
                const reason = "Failed to download https://get.pulumi.com/install.sh: fetch failed (network disabled by the test): https://get.pulumi.com/install.sh";

                const first = checkout.sh("npm run --silent preview", { env: { NODE_OPTIONS: noNetwork } });
                assert.equal(first.status, 2, first.stderr);
                assert.equal(first.stdout, "");
                assert.equal(first.stderr.trim(), [
                    `charon: Pulumi CLI not found on PATH; downloading Pulumi ${pulumiCliVersion} into ${root} (once) …`,
                    offline(reason, true),
                ].join("\n"));
                assert.match(fs.readFileSync(marker, "utf8"), /^\d{4}-\d\d-\d\dT[\d:.]+Z Failed to download https:\/\/get\.pulumi\.com\/install\.sh/);

                const second = checkout.sh("npm run --silent preview", { env: { NODE_OPTIONS: noNetwork } });
                assert.equal(second.status, 2);
                assert.equal(second.stderr.trim(), offline(reason, false), "no second download attempt");
                assert.equal(fs.existsSync(path.join(checkout.home, ".config", "charon", "passphrase")), false, "nothing is written when the CLI is missing");
                assert.equal(checkout.status(), "", "the checkout is untouched");
            } finally {
                checkout.remove();
            }
        });

        it("an unknown stack is answered with the file it looked for, before looking for a CLI", () => {
            const checkout = tempCheckout();
            try {
                const r = checkout.sh("npm run --silent preview -- --stack nosuch", { env: { NODE_OPTIONS: noNetwork } });
                assert.equal(r.status, 1);
                assert.equal(r.stderr, `charon: stack nosuch has no stack file: Pulumi.nosuch.yaml does not exist in ${checkout.root}; copy one of stacks/examples/ ` +
                    "(Pulumi.cluster.yaml, Pulumi.gpu-node.yaml) to Pulumi.nosuch.yaml and edit its hosts (stacks with a file: dev)\n");
                assert.equal(fs.existsSync(path.join(checkout.home, ".cache", "charon")), false, "no CLI download was attempted");
            } finally {
                checkout.remove();
            }
        });

        it("up and destroy without a terminal ask for --yes first, before anything else", () => {
            const checkout = tempCheckout();
            try {
                for (const [op, what] of [["up", "changes real machines"], ["destroy", "removes the platform from the hosts"]]) {
                    const r = checkout.sh(`npm run --silent ${op} < /dev/null`, { env: { NODE_OPTIONS: noNetwork } });
                    assert.equal(r.status, 2);
                    assert.equal(r.stderr, `charon: ${op} ${what}; without a terminal pass --yes to confirm\n`);
                }
                assert.equal(fs.existsSync(path.join(checkout.home, ".cache", "charon")), false, "no CLI was looked for");
            } finally {
                checkout.remove();
            }
        });

        it("a settings error is printed once, by the check, and the engine is never started", () => {
            const checkout = tempCheckout();
            try {
                fs.writeFileSync(path.join(checkout.root, "Pulumi.bad.yaml"), "config:\n  charon:preset: dev\n  charon:monitoring:\n    grafanaNodePort: 8080\n");
                const r = checkout.sh("npm run --silent up -- --stack bad --yes", { env: { NODE_OPTIONS: noNetwork } });
                assert.equal(r.status, 1);
                assert.equal(r.stdout, "");
                assert.equal(r.stderr, [
                    "Pulumi.bad.yaml: 1 problem",
                    "  - charon:monitoring.grafanaNodePort: 8080 is out of range; allowed 30000–32767",
                    "stack bad: 1 problem",
                    "charon: nothing was changed; fix the problems above (npm run check -- --stack bad checks again)",
                    "",
                ].join("\n"));
                assert.doesNotMatch(r.stderr, /code: -2|CommandError|at /);
                assert.equal(fs.existsSync(path.join(checkout.home, ".cache", "charon")), false, "no CLI was looked for");
            } finally {
                checkout.remove();
            }
        });
    });
});
