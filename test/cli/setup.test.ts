/**
 * `npm run setup` (tools/setup.sh) and the test-side half of it (test/helpers/tools.ts): every tool a test asks for is
 * one setup installs, a missing tool is one line naming the setup command, and the script's check-only and
 * environment modes do what they say without installing anything.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findTool, MissingToolError, requireTool, SETUP_COMMAND, TOOLS, type ToolName } from "../helpers/tools";
import { removeScratch, scratch } from "./checkout";

const root = path.resolve(__dirname, "..", "..");
const setup = path.join(root, "tools", "setup.sh");
const script = fs.readFileSync(setup, "utf8");
const nodeDir = path.dirname(process.execPath);

function runSetup(args: string[], env: NodeJS.ProcessEnv) {
    return spawnSync("bash", [setup, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
}

describe("setup (tools/setup.sh) and requireTool", () => {
    after(removeScratch);
    it("is the package.json setup script, and .ci/run and the README use it", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
        assert.equal(pkg.scripts.setup, "bash tools/setup.sh");
        const ci = fs.readFileSync(path.join(root, ".ci", "run"), "utf8");
        assert.match(ci, /^bash tools\/setup\.sh$/m);
        assert.doesNotMatch(ci, /apt-get|pip install|go install/, ".ci/run keeps no second list of what to install");
    });

    it("passes shellcheck", () => {
        const r = spawnSync(requireTool("shellcheck"), ["--severity=style", setup], { encoding: "utf8" });
        assert.equal(r.stdout + r.stderr, "");
        assert.equal(r.status, 0);
    });

    it("installs every tool requireTool knows", () => {
        const debian = /^debian_packages=\(([^)]*)\)/m.exec(script)![1].split(/\s+/).filter(Boolean);
        for (const [name, spec] of Object.entries(TOOLS)) {
            if ("debian" in spec.from) {
                assert.ok(debian.includes(spec.from.debian), `${name}: Debian package ${spec.from.debian} is not in setup's list ${debian.join(" ")}`);
            } else if (spec.from.setup === "actionlint") {
                assert.match(script, /go" install "github\.com\/rhysd\/actionlint\/cmd\/actionlint@\$actionlint_version"/);
            } else {
                assert.match(script, /pip install .* -r test\/requirements\.txt/);
                assert.match(fs.readFileSync(path.join(root, "test", "requirements.txt"), "utf8"), /^pyarrow==/m);
            }
        }
    });

    it("requireTool returns the executable, or throws one line naming the setup command", () => {
        const found = findTool("shellcheck");
        if (found) {
            assert.equal(requireTool("shellcheck"), found);
        }
        const empty = scratch("notools");
        const env = { PATH: empty, HOME: empty };
        for (const name of Object.keys(TOOLS) as ToolName[]) {
            if (name === "prometheus" || name === "promtool") {
                continue; // their Debian paths are absolute candidates, present on a machine that has them
            }
            assert.throws(() => requireTool(name, env), (err: Error) => {
                assert.ok(err instanceof MissingToolError);
                assert.equal(err.message, `${TOOLS[name].what} is not installed: run \`${SETUP_COMMAND}\` (tools/setup.sh installs every test tool)`);
                assert.equal(err.stack, err.message);
                return true;
            });
        }
        const fake = path.join(empty, "actionlint");
        fs.writeFileSync(fake, "#!/bin/sh\n", { mode: 0o755 });
        assert.equal(requireTool("actionlint", { ...env, ACTIONLINT: fake }), fake);
    });

    it("a test needing a missing tool fails in mocha with exactly that one line, no stack trace", function () {
        this.timeout(60_000);
        const dir = scratch("needs");
        try {
            fs.writeFileSync(path.join(dir, "needs.test.ts"), [
                `import { requireTool } from ${JSON.stringify(path.join(root, "test", "helpers", "tools"))};`,
                `it("runs shellcheck", () => { requireTool("shellcheck"); });`,
            ].join("\n"));
            const r = spawnSync(process.execPath, [path.join(root, "node_modules", "mocha", "bin", "mocha.js"), "--no-config", "--require", "tsx/cjs",
                path.join(dir, "needs.test.ts")], {
                cwd: root, encoding: "utf8", env: { PATH: scratch("nopath"), HOME: dir },
            });
            assert.equal(r.status, 1, r.stdout + r.stderr);
            const failure = r.stdout.slice(r.stdout.indexOf("1) runs shellcheck:"));
            assert.equal(failure.trim(), "1) runs shellcheck:\n     shellcheck (Debian package shellcheck) is not installed: run `npm run setup` (tools/setup.sh installs every test tool)");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--check reports what is missing, installs nothing, exits 1; --print-env names its tool directory", function () {
        this.timeout(30_000);
        const cache = scratch("cache");
        const started = Date.now();
        const r = runSetup(["--check"], { CHARON_CACHE: cache, PATH: `${nodeDir}:/usr/bin:/bin` });
        assert.ok(Date.now() - started < 10_000, "the checks take seconds, not minutes");
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^setup: MISSING: Python packages: installing test/requirements.txt into ${cache}/charon-python$`, "m"));
        assert.match(r.stdout, /^setup: something is missing: run tools\/setup\.sh test \(or npm run setup\) to install it$/m);
        assert.deepEqual(fs.readdirSync(cache), [], "--check created nothing");
        if (!/^setup: Go go1\.(2[6-9]|[3-9]\d)/m.test(r.stdout)) {
            assert.match(r.stdout, /^setup: MISSING: Go on PATH is missing or older than 1\.26: fetching go1\.26\.8 from the Go module proxy/m);
        }
        assert.match(r.stdout, new RegExp(`^setup: MISSING: actionlint: building v1\\.7\\.12 from the Go module proxy into ${cache}/charon-tools/bin$`, "m"));

        const e = runSetup(["--print-env"], { CHARON_CACHE: cache, PATH: `${nodeDir}:/usr/bin:/bin` });
        assert.equal(e.status, 0);
        assert.equal(e.stdout, `export PATH="${cache}/charon-tools/bin:$PATH"\n`);
    });

    it("refuses an unknown argument with the usage line", () => {
        const r = runSetup(["--fast"], {});
        assert.equal(r.status, 2);
        assert.equal(r.stderr, "setup: unknown argument \"--fast\"; usage: tools/setup.sh [test|main] [--check] [--print-env]\n");
    });
});
