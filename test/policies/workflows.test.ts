/**
 * The pull-request flow: actionlint (with shellcheck when installed) passes on .github/workflows, and the
 * workflows do what the README promises — tests, previews with the policy pack and a PR comment, approved
 * deploys, a drift check — with pinned actions, per-stack concurrency and secrets that are never printed.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { load } from "js-yaml";

const root = path.join(__dirname, "..", "..");
const dir = path.join(root, ".github", "workflows");
const installHint = "GOBIN=\"${CHARON_CACHE:-$HOME/.cache}/charon-tools/bin\" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12";

/** actionlint from $ACTIONLINT, the charon tools cache, or PATH. */
function findActionlint(): string | undefined {
    const cache = process.env.CHARON_CACHE ?? path.join(os.homedir(), ".cache");
    const candidates = [process.env.ACTIONLINT, path.join(cache, "charon-tools", "bin", "actionlint")].filter((c): c is string => !!c);
    for (const c of candidates) {
        if (fs.existsSync(c)) {
            return c;
        }
    }
    const which = spawnSync("sh", ["-c", "command -v actionlint"], { encoding: "utf8" });
    return which.status === 0 ? which.stdout.trim() : undefined;
}

const workflow = (file: string): any => load(fs.readFileSync(path.join(dir, file), "utf8"));
const steps = (wf: any, job: string): any[] => wf.jobs[job].steps;
const action = (wf: any, job: string, prefix: string) => steps(wf, job).filter((s) => String(s.uses ?? "").startsWith(prefix));

describe("pull-request flow (.github/workflows)", () => {
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();

    it("passes actionlint", function () {
        this.timeout(60_000);
        const actionlint = findActionlint();
        assert.ok(actionlint, `actionlint is not installed; install it with:\n  ${installHint}\n(or point $ACTIONLINT at the binary)`);
        const result = spawnSync(actionlint, ["-no-color", ...files.map((f) => path.join(dir, f))], { cwd: root, encoding: "utf8" });
        assert.equal(result.status, 0, `actionlint found problems:\n${result.stdout}${result.stderr}`);
    });

    it("has the three workflows", () => {
        assert.deepEqual(files, ["deploy.yml", "drift.yml", "pull-request.yml"]);
    });

    it("pins every action to a version tag or a commit", () => {
        for (const f of files) {
            for (const [name, job] of Object.entries<any>(workflow(f).jobs)) {
                for (const s of job.steps ?? []) {
                    if (s.uses) {
                        assert.match(s.uses, /@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/, `${f} ${name}: ${s.uses}`);
                    }
                }
            }
        }
    });

    it("pull requests: tests, then a preview per stack with the policy pack, commented on the PR", () => {
        const wf = workflow("pull-request.yml");
        assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
        assert.deepEqual(steps(wf, "test").filter((s) => s.run).map((s) => s.run.trim().split("\n").pop()), [
            "echo \"$HOME/.cache/charon-tools/bin\" >> \"$GITHUB_PATH\"", "npm ci --no-audit --no-fund", "npm test",
        ]);
        assert.equal(action(wf, "test", "actions/setup-node")[0].with["node-version"], 22);
        const preview = action(wf, "preview", "pulumi/actions")[0].with;
        assert.equal(preview.command, "preview");
        assert.equal(preview.policyPacks, "policies");
        assert.equal(preview["comment-on-pr"], true);
        assert.deepEqual(wf.jobs.preview.needs, ["test", "stacks"]);
        assert.equal(wf.permissions["pull-requests"], "write");
    });

    it("main: pulumi up per stack behind the stack's GitHub environment, one operation per stack", () => {
        const wf = workflow("deploy.yml");
        assert.deepEqual(wf.on.push.branches, ["main"]);
        const up = wf.jobs.up;
        assert.equal(up.environment, "${{ matrix.stack }}");
        assert.deepEqual(up.concurrency, { group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
        const run = action(wf, "up", "pulumi/actions").find((s) => s.with.command)!.with;
        assert.equal(run.command, "up");
        assert.equal(run.policyPacks, "policies");
    });

    it("drift: scheduled preview with refresh that fails on any change, sharing the deploy's concurrency group", () => {
        const wf = workflow("drift.yml");
        assert.ok(wf.on.schedule[0].cron);
        const run = action(wf, "drift", "pulumi/actions")[0].with;
        assert.equal(run.command, "preview");
        assert.equal(run.refresh, true);
        assert.equal(run["expect-no-changes"], true);
        assert.equal(wf.jobs.drift.concurrency.group, "pulumi-${{ matrix.stack }}");
    });

    it("takes credentials from repository secrets and never puts a secret in a script", () => {
        for (const f of files) {
            const wf = workflow(f);
            for (const [name, job] of Object.entries<any>(wf.jobs)) {
                if (job.env?.PULUMI_ACCESS_TOKEN !== undefined) {
                    assert.equal(job.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
                    assert.equal(job.env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
                }
                for (const s of job.steps ?? []) {
                    assert.doesNotMatch(String(s.run ?? ""), /secrets\./, `${f} ${name}: a run script expands a secret directly`);
                    assert.doesNotMatch(String(s.run ?? ""), /(echo|printf)[^|\n]*\$\{?(SSH_PRIVATE_KEY|PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE)\b[^|\n]*$/m,
                        `${f} ${name}: a run script prints a secret`);
                }
                for (const s of job.steps ?? []) {
                    if (String(s.uses ?? "").startsWith("pulumi/actions") && s.with?.command) {
                        assert.equal(s.with["suppress-outputs"], true, `${f} ${name}: stack outputs shown in the log`);
                    }
                }
            }
        }
    });
});
