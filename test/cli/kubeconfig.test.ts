/**
 * `npm run kubeconfig -- --write`: the stack's cluster merged into ~/.kube/config as one named context, 0600, other
 * contexts untouched, a name clash refused (or asked about on a terminal) unless --force.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { defaultKubeconfigFile, mergeIntoFile, mergeKubeconfig, namedEntries, parseKubeconfigArgs } from "../../cli/kubeconfig";
import { removeScratch, scratch } from "./checkout";

/** What a k3s server writes (and the stack exports, server rewritten): everything named `default`. */
const k3s = (server: string) => yaml.dump({
    apiVersion: "v1", kind: "Config",
    clusters: [{ name: "default", cluster: { server, "certificate-authority-data": "Q0E=" } }],
    users: [{ name: "default", user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" } }],
    contexts: [{ name: "default", context: { cluster: "default", user: "default" } }],
    "current-context": "default",
});

const theirs = yaml.dump({
    apiVersion: "v1", kind: "Config", preferences: { colors: true },
    clusters: [{ name: "prod", cluster: { server: "https://prod:6443" } }],
    users: [{ name: "prod-admin", user: { token: "t0k" } }],
    contexts: [{ name: "prod", context: { cluster: "prod", user: "prod-admin", namespace: "ops" } }],
    "current-context": "prod",
});

function home(): string {
    return scratch("kubehome");
}

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; log: string }> {
    const write = process.stderr.write.bind(process.stderr);
    let log = "";
    (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => ((log += s), true);
    try {
        return { value: await fn(), log };
    } finally {
        process.stderr.write = write;
    }
}

describe("npm run kubeconfig", () => {
    after(removeScratch);
    it("takes the stack's context as three entries named after the stack", () => {
        const e = namedEntries(k3s("https://10.0.0.10:6443"), "charon-dev");
        assert.deepEqual(e.context, { name: "charon-dev", context: { cluster: "charon-dev", user: "charon-dev" } });
        assert.equal(e.cluster.name, "charon-dev");
        assert.equal(e.server, "https://10.0.0.10:6443");
        assert.throws(() => namedEntries("kind: Config\n", "x"), /has no complete current context/);
    });

    it("options: --stack, --context (default charon-<stack>), the file from $KUBECONFIG or ~/.kube/config", () => {
        assert.deepEqual(parseKubeconfigArgs(["--stack", "gpu", "--write"], { HOME: "/h" }),
            { stack: "gpu", context: "charon-gpu", file: defaultKubeconfigFile({}, os.homedir()), write: true, force: false });
        assert.equal(defaultKubeconfigFile({ KUBECONFIG: "/a/one:/a/two" }, "/h"), "/a/one");
        assert.equal(defaultKubeconfigFile({}, "/h"), "/h/.kube/config");
        assert.throws(() => parseKubeconfigArgs(["--context", "a b"], {}), /--context "a b" is not a usable context name/);
        assert.throws(() => parseKubeconfigArgs(["--wirte"], {}), /Unknown option '--wirte'/);
    });

    it("merges into an existing file without touching its other contexts or its current context", () => {
        const plan = mergeKubeconfig(theirs, namedEntries(k3s("https://10.0.0.10:6443"), "charon-dev"), false);
        assert.equal(plan.status, "added");
        const before = yaml.load(theirs) as any;
        assert.deepEqual(plan.doc.contexts!.map((c) => c.name), ["prod", "charon-dev"]);
        assert.deepEqual(plan.doc.contexts![0], before.contexts[0]);
        assert.deepEqual(plan.doc.users![0], before.users[0]);
        assert.equal(plan.doc["current-context"], "prod");
        assert.deepEqual(plan.doc.preferences, { colors: true });
        assert.equal(mergeKubeconfig(undefined, namedEntries(k3s("https://x:6443"), "charon-dev"), false).doc["current-context"], "charon-dev");
        const again = mergeKubeconfig(yaml.dump(plan.doc), namedEntries(k3s("https://10.0.0.10:6443"), "charon-dev"), false);
        assert.equal(again.status, "unchanged");
    });

    it("a clash names the entries that differ; --force replaces exactly those", () => {
        const existing = yaml.dump(mergeKubeconfig(theirs, namedEntries(k3s("https://old:6443"), "charon-dev"), false).doc);
        const clash = mergeKubeconfig(existing, namedEntries(k3s("https://new:6443"), "charon-dev"), false);
        assert.equal(clash.status, "clash");
        assert.deepEqual(clash.clashes, ["cluster charon-dev (server https://old:6443)"]);
        assert.equal((clash.doc.clusters!.find((c) => c.name === "charon-dev") as any).cluster.server, "https://old:6443", "not replaced without force");
        const forced = mergeKubeconfig(existing, namedEntries(k3s("https://new:6443"), "charon-dev"), true);
        assert.equal((forced.doc.clusters!.find((c) => c.name === "charon-dev") as any).cluster.server, "https://new:6443");
        assert.deepEqual(forced.doc.clusters!.map((c) => c.name), ["prod", "charon-dev"]);
        assert.throws(() => mergeKubeconfig("clusters: {a: 1}\n", namedEntries(k3s("https://x:6443"), "c"), false, "/k"), /\/k: clusters is not a list; nothing was written/);
        assert.throws(() => mergeKubeconfig("a: [\n", namedEntries(k3s("https://x:6443"), "c"), false, "/k"), /\/k is not valid YAML .*; nothing was written/);
    });

    it("--write creates ~/.kube 0700 and the file 0600; a wider mode is narrowed and said; without --write nothing is written", async () => {
        const h = home();
        const file = path.join(h, ".kube", "config");
        const opts = { stack: "dev", context: "charon-dev", file, write: false, force: false };
        const dry = await quiet(() => mergeIntoFile(opts, k3s("https://10.0.0.10:6443"), false));
        assert.equal(dry.value, 0);
        assert.equal(dry.log, `charon: would add context charon-dev (cluster https://10.0.0.10:6443) in ${file}; pass --write to do it\n`);
        assert.equal(fs.existsSync(file), false);

        const first = await quiet(() => mergeIntoFile({ ...opts, write: true }, k3s("https://10.0.0.10:6443"), false));
        assert.equal(first.value, 0);
        assert.equal(first.log, `charon: added context charon-dev (cluster https://10.0.0.10:6443) in ${file}, mode 0600; it is the current context\n`);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);

        fs.writeFileSync(file, theirs, { mode: 0o644 });
        fs.chmodSync(file, 0o644);
        const merged = await quiet(() => mergeIntoFile({ ...opts, write: true }, k3s("https://10.0.0.10:6443"), false));
        assert.match(merged.log, /, mode 0600 \(was 644\); use it with kubectl --context charon-dev \(or kubectl config use-context charon-dev\)\n$/);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.deepEqual((yaml.load(fs.readFileSync(file, "utf8")) as any).contexts.map((c: any) => c.name), ["prod", "charon-dev"]);
        assert.deepEqual(fs.readdirSync(path.dirname(file)), ["config"], "no temporary file left beside it");
    });

    it("a clash without a terminal is refused with what to do, and the file is left as it was", async () => {
        const h = home();
        const file = path.join(h, "config");
        fs.writeFileSync(file, yaml.dump(mergeKubeconfig(theirs, namedEntries(k3s("https://old:6443"), "charon-dev"), false).doc), { mode: 0o600 });
        const before = fs.readFileSync(file, "utf8");
        const r = await quiet(() => mergeIntoFile({ stack: "dev", context: "charon-dev", file, write: true, force: false }, k3s("https://new:6443"), false));
        assert.equal(r.value, 1);
        assert.equal(r.log, `charon: ${file} already has cluster charon-dev (server https://old:6443), different from stack dev's (https://new:6443); nothing was written. ` +
            "Pass --force to replace it, or --context NAME to add the stack under another name\n");
        assert.equal(fs.readFileSync(file, "utf8"), before);
        const forced = await quiet(() => mergeIntoFile({ stack: "dev", context: "charon-dev", file, write: true, force: true }, k3s("https://new:6443"), false));
        assert.equal(forced.value, 0);
        assert.match(forced.log, /^charon: replaced context charon-dev \(cluster https:\/\/new:6443\)/);
    });

    it("a symlinked kubeconfig is written through the link", async () => {
        const h = home();
        const real = path.join(h, "real-config");
        fs.writeFileSync(real, theirs, { mode: 0o600 });
        const link = path.join(h, "config");
        fs.symlinkSync(real, link);
        await quiet(() => mergeIntoFile({ stack: "dev", context: "charon-dev", file: link, write: true, force: false }, k3s("https://x:6443"), false));
        assert.ok(fs.lstatSync(link).isSymbolicLink());
        assert.match(fs.readFileSync(real, "utf8"), /charon-dev/);
    });
});
