import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chooseBackend, loggedInBackend } from "../../cli/backend";
import { parseCommandLine, policyConfigFor } from "../../cli/stack";
import { pulumiCliVersion } from "../../components/versions";

const repoRoot = path.resolve(__dirname, "..", "..");

function tempHome(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "charon-home-"));
}

describe("main-job commands (npm run up/preview/destroy/outputs)", () => {
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
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "charon-policy-"));
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
        });

        it("falls back to a local file backend with a passphrase generated once, 0600, in the config directory", () => {
            const home = tempHome();
            const first = chooseBackend({}, home);
            const file = path.join(home, ".config", "charon", "passphrase");
            assert.deepEqual(first.env, { PULUMI_BACKEND_URL: `file://${home}`, PULUMI_CONFIG_PASSPHRASE_FILE: file });
            assert.match(first.notes[1], new RegExp(`Generated a passphrase .* in ${file} \\(mode 0600\\)`));
            assert.equal(fs.statSync(file).mode & 0o777, 0o600);
            const passphrase = fs.readFileSync(file, "utf8");
            assert.ok(passphrase.trim().length >= 40);
            const second = chooseBackend({}, home);
            assert.equal(fs.readFileSync(file, "utf8"), passphrase, "the passphrase is generated once");
            assert.deepEqual(second.notes.slice(1), [`Using the stack-secrets passphrase in ${file}.`]);
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

    it("`npm run preview` with no Pulumi CLI and no network exits non-zero with one clear message", function () {
        this.timeout(120_000);
        const home = tempHome();
        const nodeDir = path.dirname(process.execPath);
        const result = spawnSync("npm", ["run", "--silent", "preview"], {
            cwd: repoRoot,
            encoding: "utf8",
            env: {
                PATH: `${nodeDir}:/usr/bin:/bin`,
                HOME: home,
                NODE_OPTIONS: `--require ${path.join(repoRoot, "test/fixtures/no-network.cjs")}`,
                npm_config_update_notifier: "false",
            },
        });
        assert.equal(result.status, 2, result.stderr);
        assert.equal(result.stdout, "");
        const root = path.join(home, ".pulumi", "versions", pulumiCliVersion);
        assert.equal(result.stderr.trim(), [
            `charon: Pulumi CLI not found on PATH; installing ${pulumiCliVersion} into ${root} …`,
            `charon: The Pulumi CLI is not on PATH and installing Pulumi ${pulumiCliVersion} failed.`,
            `Install it (https://www.pulumi.com/docs/install/, e.g. \`curl -fsSL https://get.pulumi.com | sh -s -- --version ${pulumiCliVersion}\`)`,
            "and put it on PATH, then run the command again. Details:",
            "  - no `pulumi` executable on PATH",
            `  - installing ${pulumiCliVersion} into ${root}: Failed to download https://get.pulumi.com/install.sh: fetch failed (network disabled by the test): https://get.pulumi.com/install.sh`,
        ].join("\n"));
        assert.equal(fs.existsSync(path.join(home, ".config", "charon", "passphrase")), false, "nothing is written when the CLI is missing");
    });
});
