/**
 * `npm run check -- --stack NAME`: the stack file, its settings (with the user's secrets layer) and its policy
 * configuration checked offline, every problem at once, or one OK line — and the README's example is its output.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkStack, formatCheck, runCheck } from "../../cli/check";
import { packPolicies, policyConfigProblems } from "../../cli/policy-config";
import { backendUrl } from "../../automation/backend";
import { userLayerPath, writeUserLayer } from "../../cli/stack-files";
import { removeScratch, scratch, tempCheckout } from "./checkout";

const repo = path.resolve(__dirname, "..", "..");
const readme = fs.readFileSync(path.join(repo, "README.md"), "utf8");
const fixture = path.join(__dirname, "fixtures", "readme-check");

/** A root holding one stack file and optionally its policy configuration. */
function stackRoot(stack: string, stackFile: string, policy?: string): string {
    const root = scratch("check");
    fs.mkdirSync(path.join(root, "policies", "config"), { recursive: true });
    fs.copyFileSync(path.join(repo, "policies", "config", "default.json"), path.join(root, "policies", "config", "default.json"));
    fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), stackFile);
    if (policy !== undefined) {
        fs.writeFileSync(path.join(root, "policies", "config", `${stack}.json`), policy);
    }
    return root;
}

function capture(): { write: (s: string) => void; text: () => string } {
    let text = "";
    return { write: (s: string) => void (text += s), text: () => text };
}

function check(root: string, stack: string, home = scratch("home")) {
    const out = capture();
    const err = capture();
    const code = runCheck(["--stack", stack], { root, env: { HOME: home }, home }, out, err);
    return { code, stdout: out.text(), stderr: err.text() };
}

describe("npm run check", () => {
    after(removeScratch);
    it("the README's example is exactly what the command prints for test/cli/fixtures/readme-check", function () {
        this.timeout(120_000);
        const block = /<!-- check-example:begin[^>]*-->\n```\n\$ (npm run check -- --stack lab)\n([\s\S]*?)```\n<!-- check-example:end -->/.exec(readme);
        assert.ok(block, "README.md has the check example between its markers");
        const checkout = tempCheckout();
        try {
            fs.copyFileSync(path.join(fixture, "Pulumi.lab.yaml"), path.join(checkout.root, "Pulumi.lab.yaml"));
            fs.copyFileSync(path.join(fixture, "policies", "config", "lab.json"), path.join(checkout.root, "policies", "config", "lab.json"));
            // As a user runs it: npm, no Pulumi CLI on PATH, no network.
            const r = checkout.sh(block[1].replace("npm run", "npm run --silent"), {
                env: { NODE_OPTIONS: `--require ${path.join(repo, "test", "fixtures", "no-network.cjs")}` },
            });
            assert.equal(r.stderr, "");
            assert.equal(r.stdout, block[2]);
            assert.equal(r.status, 1);
        } finally {
            checkout.remove();
        }
    });

    it("a good stack: one OK line, exit 0", () => {
        const r = check(repo, "dev");
        assert.equal(r.code, 0);
        assert.equal(r.stdout, "stack dev: OK (Pulumi.dev.yaml: file and settings; policies/config/default.json: policy configuration)\n");
        assert.match(readme, /^stack dev: OK \(Pulumi\.dev\.yaml: file and settings; policies\/config\/default\.json: policy configuration\)$/m);
    });

    it("reports problems of every kind in one run: YAML, file keys, settings, secrets in plain text, policy configuration", () => {
        const root = stackRoot("many", [
            "encryptionSalt: v1:abc",
            "charon:preset: dev",
            "config:",
            "  charon:preset: gpu-node",
            "  charon:sshPrivateKey: \"-----BEGIN OPENSSH PRIVATE KEY-----\"",
            "  charon:hosts:",
            "    - name: gpu1",
            "      address: 203.0.113.10",
            "  charon:monitoring:",
            "    grafanaNodePort: 30081",
            "  preset: dev",
        ].join("\n"), JSON.stringify({ all: "advisory", "nodeport-allowlist": { allowedNodePorts: "30080" }, "isb-replicas": { enforcementLevel: "off" } }));
        const r = check(root, "many");
        assert.equal(r.code, 1);
        assert.equal(r.stdout, [
            "Pulumi.many.yaml: 4 problems",
            "  - encryptionSalt: unknown top-level key; a stack file holds config, encryptionsalt, encryptedkey, secretsprovider, environment",
            "  - charon:preset: settings go under config: (indented below it), not at the top of the file",
            "  - preset: config key without a namespace; charon's settings are charon:<name>, e.g. charon:preset",
            "  - charon:sshPrivateKey: is stored in plain text; store it encrypted with `npm run config -- set --secret charon:sshPrivateKey < ~/.ssh/id_ed25519`",
            "policies/config/many.json: 2 problems",
            "  - nodeport-allowlist.allowedNodePorts: \"30080\" is not valid; expected a list",
            "  - isb-replicas.enforcementLevel: \"off\" is not valid; expected one of \"advisory\", \"mandatory\", \"remediate\", \"disabled\"",
            "stack many: 6 problems",
            "",
        ].join("\n"));
    });

    it("a YAML error names its line and column; the policy configuration is still checked", () => {
        const root = stackRoot("broken", "config:\n  charon:preset: dev\n   charon:hosts: []\n", "{ \"images-pinned\": ");
        const r = check(root, "broken");
        assert.equal(r.code, 1);
        assert.match(r.stdout, /^Pulumi\.broken\.yaml: 1 problem\n {2}- line 3, column \d+: bad indentation of a mapping entry \(not valid YAML\)\n/);
        assert.match(r.stdout, /^policies\/config\/broken\.json: 1 problem\n {2}- not valid JSON: /m);
    });

    it("counts the secrets of the user's layer: a remote stack is complete with the key set there", () => {
        const stackFile = fs.readFileSync(path.join(repo, "stacks", "examples", "Pulumi.gpu-node.yaml"), "utf8");
        const root = stackRoot("gpu", stackFile);
        const home = scratch("home");
        const without = check(root, "gpu", home);
        assert.equal(without.code, 1);
        assert.match(without.stdout, /charon:hosts\[0\]\.privateKey: remote host "gpu1" has no SSH credentials/);
        const layerFile = userLayerPath("gpu", backendUrl({ HOME: home }, home), { HOME: home }, home);
        writeUserLayer({ file: layerFile, secrets: { "charon:sshPrivateKey": { secure: "v1:bm9uY2U=:Y2lwaGVy" } } }, "gpu");
        assert.equal(fs.statSync(layerFile).mode & 0o777, 0o600);
        const withKey = check(root, "gpu", home);
        assert.equal(withKey.stdout, "stack gpu: OK (Pulumi.gpu.yaml: file and settings; policies/config/default.json: policy configuration)\n");
        assert.equal(withKey.code, 0);

        writeUserLayer({ file: layerFile, secrets: { "charon:hosts[4].privateKey": { secure: "v1:x:y" } } }, "gpu");
        assert.match(check(root, "gpu", home).stdout, new RegExp(`charon:hosts\\[4\\]\\.privateKey \\(from ${layerFile.replace(/[.]/g, "\\.")}\\): the stack file's value has 1 entry, so there is no \\[4\\] to put it in`));
    });

    it("an unknown stack names the file it looked for (exit 1), a bad name is a usage error (exit 2)", () => {
        const root = stackRoot("dev", "config:\n  charon:preset: dev\n");
        fs.cpSync(path.join(repo, "stacks", "examples"), path.join(root, "stacks", "examples"), { recursive: true });
        const r = check(root, "nosuch");
        assert.equal(r.code, 1);
        assert.equal(r.stdout, "");
        assert.equal(r.stderr, `charon: stack nosuch has no stack file: Pulumi.nosuch.yaml does not exist in ${root}; copy one of stacks/examples/ ` +
            "(Pulumi.cluster.yaml, Pulumi.gpu-node.yaml) to Pulumi.nosuch.yaml and edit its hosts (stacks with a file: dev)\n");
        const bad = check(repo, "a/b");
        assert.equal(bad.code, 2);
        assert.equal(bad.stderr, "charon: --stack \"a/b\" is not a valid stack name (letters, digits, -, _ and . only)\n");
    });

    it("formatCheck groups problems by file with counts", () => {
        assert.equal(formatCheck("x", { ok: false, files: ["a", "b"], problems: [{ file: "b", message: "m1" }, { file: "b", message: "m2" }] }),
            "b: 2 problems\n  - m1\n  - m2\nstack x: 2 problems\n");
        assert.equal(checkStack({ stack: "dev" }).ok, true);
    });

    describe("policy configuration against the pack", () => {
        it("every rule's configSchema compiles with the project's strict Ajv, and its defaults validate", () => {
            const policies = packPolicies();
            assert.ok(policies.length >= 20);
            const defaults = Object.fromEntries(policies.map((p) => [p.name, Object.fromEntries(Object.entries(p.configSchema?.properties ?? {})
                .map(([k, v]) => [k, (v as { default?: unknown }).default]).filter(([, v]) => v !== undefined))]));
            assert.deepEqual(policyConfigProblems(JSON.stringify(defaults)), []);
        });

        it("accepts levels, `all` and the README's example; refuses everything else with the rule's name", () => {
            assert.deepEqual(policyConfigProblems(JSON.stringify({
                all: "mandatory",
                "nodeport-allowlist": { allowedNodePorts: [30080, 30443] },
                "images-pinned": { floatingTags: ["latest", "dev"] },
                "helm-release-hygiene": "mandatory",
                "isb-workqueue-single-consumer": { enforcementLevel: "disabled" },
            })), []);
            assert.deepEqual(policyConfigProblems("[]"), [
                "must be a JSON object of rule names to settings, e.g. {\"isb-workqueue-single-consumer\": {\"enforcementLevel\": \"disabled\"}}",
            ]);
            assert.deepEqual(policyConfigProblems(JSON.stringify({ "k3s-token-generated": 3, "nosuch-rule-at-all": {}, "images-pinned": { floatingTag: [] } })), [
                "k3s-token-generated: 3 is not valid; expected an enforcement level (\"advisory\", \"mandatory\", \"remediate\", \"disabled\") or an object of the rule's settings",
                "nosuch-rule-at-all: the pack has no such rule; the rules are listed in README.md, Policy pack → Rules",
                "images-pinned.floatingTag: unknown setting; allowed keys here: enforcementLevel, floatingTags",
            ]);
        });

        it("the committed policy configurations are valid", () => {
            for (const f of fs.readdirSync(path.join(repo, "policies", "config"))) {
                assert.deepEqual(policyConfigProblems(fs.readFileSync(path.join(repo, "policies", "config", f), "utf8")), [], f);
            }
        });
    });
});
