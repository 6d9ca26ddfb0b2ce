/**
 * `npm run kubectl` with kubectl on PATH: the stack's kubeconfig lives in a 0600 file in a private directory for
 * exactly as long as kubectl runs — removed on a normal exit, a failure, a signal. The kubectl here is a recording
 * script standing in for the binary (it is what the test inspects: the file it was given, while it runs).
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findKubectl, runKubectl, splitArgs, writeTempKubeconfig } from "../../cli/kubectl";
import { removeScratch, scratch } from "./checkout";

const repo = path.resolve(__dirname, "..", "..");
const KUBECONFIG_TEXT = "apiVersion: v1\nkind: Config\nclusters: []\n# client-key-data: c2VjcmV0\n";

/** A kubectl that records what it was given (args, KUBECONFIG, the file's and directory's modes, content), then runs `tail`. */
function recordingKubectl(tail: string): { bin: string; record: string } {
    const dir = scratch("fake-kubectl");
    const record = path.join(dir, "record");
    const bin = path.join(dir, "kubectl");
    fs.writeFileSync(bin, [
        "#!/bin/sh",
        `{ echo "args=$*"; echo "kubeconfig=$KUBECONFIG"; echo "mode=$(stat -c %a "$KUBECONFIG")"; echo "dirmode=$(stat -c %a "$(dirname "$KUBECONFIG")")";`,
        `  echo "content=$(base64 -w0 "$KUBECONFIG")"; } > ${record}.tmp && mv ${record}.tmp ${record}`,
        tail,
        "",
    ].join("\n"), { mode: 0o755 });
    return { bin, record };
}

function readRecord(file: string): Record<string, string> {
    return Object.fromEntries(fs.readFileSync(file, "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

async function waitFor(file: string, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!fs.existsSync(file)) {
        if (Date.now() > end) {
            throw new Error(`${file} did not appear`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

describe("npm run kubectl: kubectl with the stack's kubeconfig in a temporary file", () => {
    after(removeScratch);
    it("takes --stack first and passes every other argument to kubectl untouched", () => {
        assert.deepEqual(splitArgs(["get", "nodes"], "dev"), { stack: "dev", args: ["get", "nodes"] });
        assert.deepEqual(splitArgs(["--stack", "cluster", "get", "pods", "--stack", "x"], "dev"), { stack: "cluster", args: ["get", "pods", "--stack", "x"] });
        assert.deepEqual(splitArgs(["--stack=gpu", "--", "-n", "kube-system", "get", "pods"], "dev"), { stack: "gpu", args: ["-n", "kube-system", "get", "pods"] });
        assert.throws(() => splitArgs([], "dev"), /^Error: usage: npm run kubectl -- \[--stack NAME\] ARGS\.\.\./);
        assert.throws(() => splitArgs(["--stack"], "dev"), /--stack needs a stack name/);
        assert.throws(() => splitArgs(["--stack", "a b", "get"], "dev"), /--stack "a b" is not a valid stack name/);
    });

    it("finds kubectl on PATH, never the project's node_modules/.bin", () => {
        const { bin } = recordingKubectl("exit 0");
        const shadow = path.join(scratch("nm"), "node_modules", ".bin");
        fs.mkdirSync(shadow, { recursive: true });
        fs.copyFileSync(bin, path.join(shadow, "kubectl"));
        fs.chmodSync(path.join(shadow, "kubectl"), 0o755);
        assert.equal(findKubectl({ PATH: `${shadow}:${path.dirname(bin)}` }), bin);
        assert.equal(findKubectl({ PATH: shadow }), undefined);
    });

    it("the file is 0600 in a 0700 directory while kubectl runs, holds the kubeconfig, and is gone after; the exit code is kubectl's", async () => {
        const { bin, record } = recordingKubectl("exit 3");
        const code = await runKubectl(bin, KUBECONFIG_TEXT, ["get", "nodes", "-o", "wide"], { PATH: "/usr/bin:/bin" });
        assert.equal(code, 3);
        const seen = readRecord(record);
        assert.equal(seen.args, "get nodes -o wide");
        assert.equal(seen.mode, "600");
        assert.equal(seen.dirmode, "700");
        assert.equal(Buffer.from(seen.content, "base64").toString("utf8"), KUBECONFIG_TEXT);
        assert.equal(fs.existsSync(seen.kubeconfig), false);
        assert.equal(fs.existsSync(path.dirname(seen.kubeconfig)), false);
    });

    it("a kubectl that cannot start still leaves nothing behind", async () => {
        const dir = scratch("bad");
        const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("charon-kubeconfig-")));
        const code = await runKubectl(path.join(dir, "no-such-kubectl"), KUBECONFIG_TEXT, ["version"]);
        assert.equal(code, 1);
        const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("charon-kubeconfig-") && !before.has(f));
        assert.deepEqual(after, []);
    });

    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
        it(`${signal} to the command reaches kubectl, and the file is removed before it exits`, async function () {
            this.timeout(60_000);
            const { bin, record } = recordingKubectl("exec sleep 30");
            const driver = path.join(scratch("driver"), "driver.ts");
            fs.writeFileSync(driver, [
                `import { runKubectl } from ${JSON.stringify(path.join(repo, "cli", "kubectl"))};`,
                `runKubectl(${JSON.stringify(bin)}, ${JSON.stringify(KUBECONFIG_TEXT)}, ["get", "pods", "--watch"]).then((code) => process.exit(code));`,
            ].join("\n"));
            const child = spawn(process.execPath, ["--require", "tsx/cjs", driver], { cwd: repo, stdio: "ignore" });
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            await waitFor(record);
            const seen = readRecord(record);
            assert.equal(fs.statSync(seen.kubeconfig).mode & 0o777, 0o600);
            child.kill(signal);
            const code = await exited;
            assert.equal(code, 128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal], "exit code 128 + signal, as a shell reports it");
            assert.equal(fs.existsSync(path.dirname(seen.kubeconfig)), false, "the kubeconfig directory is gone");
        });
    }

    it("writeTempKubeconfig never creates the file readable by others, whatever the umask", () => {
        const old = process.umask(0o000);
        try {
            const t = writeTempKubeconfig("x");
            assert.equal(fs.statSync(t.file).mode & 0o777, 0o600);
            assert.equal(fs.statSync(path.dirname(t.file)).mode & 0o777, 0o700);
            t.remove();
            t.remove();
            assert.equal(fs.existsSync(t.file), false);
        } finally {
            process.umask(old);
        }
    });
});
