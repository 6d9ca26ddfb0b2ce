/**
 * The pull-request flow: actionlint (with shellcheck) passes on .github/workflows, and the workflows do what the
 * README promises — the README's setup and test commands on a stock runner, a preview of every committed stack file
 * with the policy pack commented on the pull request, approved deploys and a drift check on a runner inside the lab
 * network — each skipping with a notice when its secrets or runner are absent, with pinned actions, per-stack
 * concurrency and secrets that are never printed.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { requireTool } from "../helpers/tools";
import { removeScratch, scratch } from "../cli/checkout";

const root = path.join(__dirname, "..", "..");
const dir = path.join(root, ".github", "workflows");
const scripts = path.join(root, ".github", "scripts");

const workflow = (file: string): any => load(fs.readFileSync(path.join(dir, file), "utf8"));
const steps = (wf: any, job: string): any[] => wf.jobs[job].steps;
const runs = (wf: any, job: string): string[] => steps(wf, job).filter((s) => s.run).map((s) => String(s.run).trim());
const action = (wf: any, job: string, prefix: string) => steps(wf, job).filter((s) => String(s.uses ?? "").startsWith(prefix));

describe("pull-request flow (.github/workflows)", () => {
    after(removeScratch);
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();

    it("passes actionlint (and the shellcheck of its run scripts)", function () {
        this.timeout(60_000);
        const actionlint = requireTool("actionlint");
        const shellcheck = path.dirname(requireTool("shellcheck"));
        const result = spawnSync(actionlint, ["-no-color", ...files.map((f) => path.join(dir, f))], {
            cwd: root, encoding: "utf8", env: { ...process.env, PATH: `${shellcheck}:${process.env.PATH}` },
        });
        assert.equal(result.status, 0, `actionlint found problems:\n${result.stdout}${result.stderr}`);
    });

    it("its scripts pass shellcheck", () => {
        const r = spawnSync(requireTool("shellcheck"), [path.join(scripts, "stacks.sh"), path.join(scripts, "ready.sh")], { encoding: "utf8" });
        assert.equal(r.stdout + r.stderr, "");
        assert.equal(r.status, 0);
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

    it("the test jobs run the README's commands: npm run setup, then npm test, on Node 22 on a stock runner", () => {
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        assert.match(readme, /^npm run setup && npm test\b/m);
        for (const f of ["pull-request.yml", "deploy.yml"]) {
            const wf = workflow(f);
            assert.equal(wf.jobs.test["runs-on"], "ubuntu-24.04");
            assert.deepEqual(runs(wf, "test"), ["npm run setup", "npm test"], f);
            assert.equal(action(wf, "test", "actions/setup-node")[0].with["node-version"], 22);
            assert.match(action(wf, "test", "actions/cache")[0].with.key, /hashFiles\('tools\/setup\.sh', 'test\/requirements\.txt'\)/);
        }
    });

    it("the stacks are the committed stack files: root Pulumi.<stack>.yaml except dev, and the examples", () => {
        const r = spawnSync("bash", [path.join(scripts, "stacks.sh")], { cwd: root, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        const committed = spawnSync("git", ["ls-files", "Pulumi.*.yaml"], { cwd: root, encoding: "utf8" }).stdout.split("\n")
            .filter((f) => f && f !== "Pulumi.dev.yaml").map((f) => ({ name: f.slice("Pulumi.".length, -".yaml".length), file: f }));
        const examples = fs.readdirSync(path.join(root, "stacks", "examples")).sort()
            .map((f) => ({ name: f.slice("Pulumi.".length, -".yaml".length), file: `stacks/examples/${f}` }))
            .filter((e) => !committed.some((c) => c.name === e.name));
        assert.deepEqual(JSON.parse(r.stdout), [...committed, ...examples]);
        assert.ok(JSON.parse(r.stdout).some((s: { name: string }) => s.name === "cluster"), "the examples count, so the workflows always have stacks");
        for (const f of files) {
            const wf = workflow(f);
            assert.deepEqual(runs(wf, "stacks")[0], "echo \"list=$(bash .github/scripts/stacks.sh)\" >> \"$GITHUB_OUTPUT\"", f);
        }
    });

    it("ready.sh: a backend (token, or URL and passphrase) and the SSH key, else a notice and ready=false", () => {
        const check = (env: Record<string, string>) => {
            const out = path.join(scratch("gh"), "output");
            const r = spawnSync("bash", [path.join(scripts, "ready.sh"), "preview", "cluster"], { encoding: "utf8", env: { PATH: process.env.PATH, GITHUB_OUTPUT: out, ...env } });
            assert.equal(r.status, 0, r.stderr);
            return { stdout: r.stdout, output: fs.readFileSync(out, "utf8") };
        };
        const none = check({});
        assert.equal(none.output, "ready=false\n");
        assert.equal(none.stdout, "::notice title=preview of stack cluster skipped::missing PULUMI_BACKEND_URL (the state backend, e.g. s3://bucket/charon; " +
            "or the secret PULUMI_ACCESS_TOKEN for Pulumi Cloud); PULUMI_CONFIG_PASSPHRASE (the stacks' passphrase); CHARON_SSH_PRIVATE_KEY " +
            "(the SSH private key of the stack's hosts) — set them under Settings → Secrets and variables → Actions (README.md, Pull-request flow)\n");
        assert.match(check({ PULUMI_BACKEND_URL: "s3://b", CHARON_SSH_PRIVATE_KEY: "k" }).stdout, /missing PULUMI_CONFIG_PASSPHRASE \(the stacks' passphrase\) —/);
        assert.equal(check({ PULUMI_BACKEND_URL: "s3://b", PULUMI_CONFIG_PASSPHRASE: "p", CHARON_SSH_PRIVATE_KEY: "k" }).output, "ready=true\n");
        assert.equal(check({ PULUMI_ACCESS_TOKEN: "t", CHARON_SSH_PRIVATE_KEY: "k" }).output, "ready=true\n");
        const noKey = check({ PULUMI_ACCESS_TOKEN: "t" });
        assert.equal(noKey.output, "ready=false\n");
        assert.doesNotMatch(check({ PULUMI_ACCESS_TOKEN: "t0ken-value", CHARON_SSH_PRIVATE_KEY: "KEY-VALUE" }).stdout, /t0ken-value|KEY-VALUE/);
    });

    /** The per-stack job's steps after its gate all wait for it; its commands are the README's. */
    function stackJob(f: string, job: string, command: string): void {
        const wf = workflow(f);
        const all = steps(wf, job);
        const gate = all.findIndex((s) => s.id === "ready");
        assert.ok(gate >= 0, `${f} ${job} has the ready gate`);
        assert.match(all[gate].run, new RegExp(`^bash \\.github/scripts/ready\\.sh ${f === "pull-request.yml" ? "preview" : f === "deploy.yml" ? "deploy" : "drift"} "\\$STACK"$`));
        for (const s of all.slice(gate + 1)) {
            assert.match(String(s.if), /steps\.ready\.outputs\.ready == 'true'/, `${f} ${job}: ${s.name ?? s.run ?? s.uses} waits for the gate`);
        }
        const commands = runs(wf, job);
        assert.ok(commands.includes("npm run setup -- main"), `${f} ${job} sets up with the README's main-job setup`);
        assert.ok(commands.some((c) => c.includes("npm run --silent config -- set --stack \"$STACK\" --secret charon:sshPrivateKey <<<\"$CHARON_SSH_PRIVATE_KEY\"")),
            `${f} ${job} stores the key with npm run config, from stdin`);
        assert.ok(commands.some((c) => c.startsWith(command)), `${f} ${job} runs ${command}`);
        assert.equal(wf.jobs[job].env.STACK, "${{ matrix.stack.name }}");
        assert.equal(wf.jobs[job].strategy.matrix.stack, "${{ fromJSON(needs.stacks.outputs.list) }}");
    }

    it("pull requests: after the tests, a preview per stack with the policy pack, commented on the PR (even when it fails)", () => {
        const wf = workflow("pull-request.yml");
        assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
        stackJob("pull-request.yml", "preview", "npm run --silent preview -- --stack \"$STACK\" 2>&1 | tee \"$RUNNER_TEMP/preview.txt\"");
        assert.deepEqual(wf.jobs.preview.needs, ["test", "stacks"]);
        assert.equal(wf.jobs.preview["runs-on"], "${{ vars.CHARON_RUNNER || 'ubuntu-24.04' }}");
        const comment = action(wf, "preview", "actions/github-script")[0];
        assert.equal(comment.if, "always() && steps.ready.outputs.ready == 'true'");
        assert.match(comment.with.script, /require\("\.\/\.github\/scripts\/preview-comment\.js"\)/);
        assert.equal(wf.permissions["pull-requests"], "write");
    });

    it("the PR comment leads with the preview's report and folds the whole output below it, one comment per stack", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const comment = require(path.join(scripts, "preview-comment.js"));
        const output = path.join(scratch("pr"), "preview.txt");
        fs.writeFileSync(output, "Previewing update (cluster):\n+ lots of diff\nResources:\n    + 58 to create\n\nPolicy violations: 1 mandatory (these stop the update), 0 advisory\n  mandatory  images-pinned  x: y\n");
        const calls: any[] = [];
        const github = {
            paginate: async () => [{ id: 7, body: "<!-- charon-preview:gpu-node -->\nold" }, { id: 9, body: "<!-- charon-preview:cluster -->\nold" }],
            rest: { issues: { listComments: {}, updateComment: async (a: any) => calls.push(["update", a]), createComment: async (a: any) => calls.push(["create", a]) } },
        };
        const core = { summary: { addRaw: (t: string) => ({ write: async () => calls.push(["summary", t]) }) } };
        await comment({ github, context: { repo: { owner: "o", repo: "r" }, issue: { number: 3 } }, core }, { stack: "cluster", output, outcome: "failure" });
        assert.equal(calls[1][0], "update");
        assert.equal(calls[1][1].comment_id, 9);
        const body: string = calls[1][1].body;
        assert.ok(body.startsWith("<!-- charon-preview:cluster -->\n### `npm run preview -- --stack cluster`: failed\n\n````\nResources:\n    + 58 to create"));
        assert.match(body, /<details><summary>Whole preview<\/summary>\n\n````\nPreviewing update \(cluster\):/);
        assert.equal(calls[0][1], body, "the same text in the job summary");
    });

    it("main: npm run up per stack behind the stack's GitHub environment, on the lab runner, one operation per stack", () => {
        const wf = workflow("deploy.yml");
        assert.deepEqual(wf.on.push.branches, ["main"]);
        const up = wf.jobs.up;
        stackJob("deploy.yml", "up", "npm run --silent up -- --stack \"$STACK\" --yes");
        assert.equal(up.environment, "${{ matrix.stack.name }}");
        assert.deepEqual(up.concurrency, { group: "pulumi-${{ matrix.stack.name }}", "cancel-in-progress": false });
        assert.equal(up["runs-on"], "${{ needs.stacks.outputs.runner }}");
        assert.equal(up.if, "needs.stacks.outputs.runner != '' && needs.stacks.outputs.list != '[]'");
        assert.match(runs(wf, "stacks")[1], /::notice title=deploy skipped::set the repository variable CHARON_RUNNER/);
    });

    it("drift: a nightly refresh + preview that fails on any change, on the lab runner, sharing the deploy's concurrency group", () => {
        const wf = workflow("drift.yml");
        assert.ok(wf.on.schedule[0].cron);
        stackJob("drift.yml", "drift", "npm run --silent preview -- --stack \"$STACK\" --refresh --expect-no-changes");
        assert.equal(wf.jobs.drift.concurrency.group, "pulumi-${{ matrix.stack.name }}");
        assert.equal(wf.jobs.drift.environment, undefined, "no environment: its reviewers would hold the nightly check");
        assert.match(runs(wf, "stacks")[1], /::notice title=drift check skipped::set the repository variable CHARON_RUNNER/);
    });

    it("takes credentials from secrets into the environment and never puts a secret in a script or prints it", () => {
        for (const f of files) {
            const wf = workflow(f);
            for (const [name, job] of Object.entries<any>(wf.jobs)) {
                if (job.env?.PULUMI_CONFIG_PASSPHRASE !== undefined) {
                    assert.equal(job.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
                    assert.equal(job.env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
                    assert.equal(job.env.PULUMI_BACKEND_URL, "${{ secrets.PULUMI_BACKEND_URL || vars.PULUMI_BACKEND_URL }}");
                }
                for (const s of job.steps ?? []) {
                    const run = String(s.run ?? "");
                    assert.doesNotMatch(run, /secrets\./, `${f} ${name}: a run script expands a secret directly`);
                    assert.doesNotMatch(run, /(echo|printf)[^\n]*\$\{?(CHARON_SSH_PRIVATE_KEY|PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE)\b/, `${f} ${name}: a run script prints a secret`);
                    if (s.env?.CHARON_SSH_PRIVATE_KEY !== undefined) {
                        assert.equal(s.env.CHARON_SSH_PRIVATE_KEY, "${{ secrets.CHARON_SSH_PRIVATE_KEY }}");
                    }
                }
            }
        }
    });
});
