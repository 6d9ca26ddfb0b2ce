// The control loops' act tests (test/controllers/act-apiserver.test.ts) against the kube-apiserver and etcd this
// tier built: under `npm test` they run only where a build is already cached, here they always run, and a skipped
// or failed case fails the suite.
import * as path from "node:path";
import { check, indent, repoRoot, run, tailText, test } from "./runner";

export async function controllersSuite(bin: string): Promise<void> {
    console.log("\ncontrollers: the control loops' act tests against the tier's kube-apiserver 1.34 and etcd");
    await test("controllers: act (scale subresource, pods/resize, RBAC, the bundled loop) against the real kube-apiserver", async () => {
        const mocha = path.join(repoRoot, "node_modules", ".bin", "mocha");
        const r = await run([mocha, "--reporter", "spec", "test/controllers/act-apiserver.test.ts"], {
            cwd: repoRoot, env: { ...process.env, CHARON_KUBE_BIN_DIR: bin }, timeoutMs: 10 * 60_000, label: "mocha test/controllers/act-apiserver.test.ts",
        });
        const out = r.stdout + r.stderr;
        const count = (word: string) => Number(new RegExp(`^\\s+(\\d+) ${word}`, "m").exec(out)?.[1] ?? 0);
        const [passing, failing, pending] = [count("passing"), count("failing"), count("pending")];
        console.log(indent(out.split("\n").filter((l) => /✔|^\s+\d+\)|passing|failing|pending/.test(l)).map((l) => l.trim()).join("\n"), 6));
        check(r.status === 0 && failing === 0, `the act tests failed (exit ${r.status}):\n${tailText(out, 40)}`);
        check(passing > 0 && pending === 0, `${passing} passing, ${pending} pending: the act tests did not all run against ${bin}`);
    });
}
