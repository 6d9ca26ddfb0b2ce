/**
 * The two layers of a stack's configuration: the repository's stack file and the user's own layer (secrets and
 * salt) outside it, merged for the engine into a temporary 0600 file.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import {
    backendSlug, effectiveDocument, formatConfigPath, getAtPath, layerProblems, parseConfigPath, programConfig,
    readStackDocument, readUserLayer, setAtPath, userLayerPath, writeEngineConfigFile, writeUserLayer,
} from "../../cli/stack-files";
import { removeScratch, scratch } from "./checkout";

const tmp = () => scratch("sf");

describe("stack files and the user's layer", () => {
    after(removeScratch);
    it("reads config paths the way Pulumi's --path does", () => {
        assert.deepEqual(parseConfigPath("charon:sshPrivateKey"), { key: "charon:sshPrivateKey", path: [] });
        assert.deepEqual(parseConfigPath("charon:hosts[1].privateKey"), { key: "charon:hosts", path: [1, "privateKey"] });
        assert.deepEqual(parseConfigPath("charon:hosts[0].labels[\"charon.io/zone\"]"), { key: "charon:hosts", path: [0, "labels", "charon.io/zone"] });
        assert.deepEqual(parseConfigPath("charon:monitoring.grafanaNodePort"), { key: "charon:monitoring", path: ["grafanaNodePort"] });
        assert.throws(() => parseConfigPath("sshPrivateKey"), /"sshPrivateKey" is not a config key; expected namespace:name/);
        assert.throws(() => parseConfigPath("charon:hosts[x]"), /"charon:hosts\[x\]": cannot read the path at "\[x\]"; use \.name, \[index\] or \["name"\]/);
    });

    it("formats a path back to the same text (property)", () => {
        const segment = fc.oneof(fc.nat({ max: 20 }), fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/), fc.stringMatching(/^[a-z]{1,4}[./][a-z]{1,4}$/));
        fc.assert(fc.property(fc.stringMatching(/^[a-z]{1,8}$/), fc.array(segment, { maxLength: 4 }), (name, p) => {
            const text = formatConfigPath({ key: `charon:${name}`, path: p });
            assert.deepEqual(parseConfigPath(text), { key: `charon:${name}`, path: p });
        }));
    });

    it("puts a value at a path, creating mappings but never list entries", () => {
        const hosts = [{ name: "a" }, { name: "b" }];
        assert.deepEqual(setAtPath(hosts, [1, "privateKey"], { secure: "s" }, "k"), [{ name: "a" }, { name: "b", privateKey: { secure: "s" } }]);
        assert.deepEqual(hosts, [{ name: "a" }, { name: "b" }], "the input is not changed");
        assert.deepEqual(setAtPath(undefined, ["isb", "replicas"], 3, "k"), { isb: { replicas: 3 } });
        assert.throws(() => setAtPath(hosts, [2, "privateKey"], 1, "charon:hosts[2].privateKey"),
            /^Error: charon:hosts\[2\]\.privateKey: the stack file's value has 2 entries, so there is no \[2\] to put it in$/);
        assert.throws(() => setAtPath("text", ["x"], 1, "k"), /k: the stack file's value there is not a mapping, so it has no key "x"/);
        assert.equal(getAtPath({ a: [{ b: 1 }] }, ["a", 0, "b"]), 1);
        assert.equal(getAtPath({ a: 1 }, ["a", "b"]), undefined);
    });

    it("merges the user's secrets over the stack file at their paths; the repository's salt wins", () => {
        const repo = { config: { "charon:preset": "cluster", "charon:hosts": [{ name: "s" }, { name: "a" }] } };
        const layer = { file: "/l.yaml", encryptionsalt: "v1:user", secrets: { "charon:sshPrivateKey": { secure: "v1:k" }, "charon:hosts[1].privateKey": { secure: "v1:h" } } };
        const merged = effectiveDocument(repo, layer);
        assert.deepEqual(merged, {
            config: {
                "charon:preset": "cluster",
                "charon:hosts": [{ name: "s" }, { name: "a", privateKey: { secure: "v1:h" } }],
                "charon:sshPrivateKey": { secure: "v1:k" },
            },
            encryptionsalt: "v1:user",
        });
        assert.equal(effectiveDocument({ ...repo, encryptionsalt: "v1:team" }, layer).encryptionsalt, "v1:team");
        assert.deepEqual(layerProblems({ ...repo, encryptionsalt: "v1:team" }, layer), [
            "your secrets in /l.yaml were encrypted for another encryptionsalt than the stack file's; set them again with `npm run config -- set --secret KEY`",
        ]);
        assert.deepEqual(layerProblems(repo, layer), []);
    });

    it("hands the settings model Pulumi's flat config: JSON for structures, secrets as a placeholder, secret keys named", () => {
        const { config, secretKeys } = programConfig({
            config: { "charon:preset": "gpu-node", "charon:hosts": [{ name: "g", privateKey: { secure: "v1:x" } }], "charon:monitoring": { grafanaNodePort: 30080 }, "charon:n": 3 },
        });
        assert.deepEqual(config, {
            "charon:preset": "gpu-node",
            "charon:hosts": "[{\"name\":\"g\",\"privateKey\":\"<secret>\"}]",
            "charon:monitoring": "{\"grafanaNodePort\":30080}",
            "charon:n": "3",
        });
        assert.deepEqual([...secretKeys], ["charon:hosts"]);
    });

    it("the user's layer is 0600 in a 0700 directory per backend, and refused when others can read it", () => {
        const home = tmp();
        const file = userLayerPath("cluster", `file://${home}`, {}, home);
        assert.equal(file, path.join(home, ".config", "charon", "stacks", backendSlug(`file://${home}`), "cluster.yaml"));
        assert.deepEqual(readUserLayer(file), { file, secrets: {} });
        writeUserLayer({ file, encryptionsalt: "v1:s", secrets: { "charon:sshPrivateKey": { secure: "v1:k" } } }, "cluster");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
        assert.deepEqual(readUserLayer(file), { file, encryptionsalt: "v1:s", secrets: { "charon:sshPrivateKey": { secure: "v1:k" } } });
        fs.chmodSync(file, 0o640);
        assert.throws(() => readUserLayer(file), new RegExp(`${file} is readable by others \\(mode 640\\)`));
        fs.chmodSync(file, 0o600);
        fs.writeFileSync(file, "secrets:\n  charon:sshPrivateKey: plain\n");
        assert.throws(() => readUserLayer(file), /secrets\.charon:sshPrivateKey is not an encrypted value/);
        assert.equal(backendSlug("s3://bucket/some/prefix"), "s3-bucket-some-prefix");
        assert.equal(backendSlug("https://api.pulumi.com"), "https-api.pulumi.com");
    });

    it("the engine's copy is a 0600 file in a private temp directory, gone after remove()", () => {
        const t = writeEngineConfigFile({ config: { "charon:preset": "dev" }, encryptionsalt: "v1:s" }, "dev");
        assert.equal(fs.statSync(t.file).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.dirname(t.file)).mode & 0o777, 0o700);
        assert.equal(fs.readFileSync(t.file, "utf8"), "config:\n  charon:preset: dev\nencryptionsalt: v1:s\n");
        t.remove();
        assert.equal(fs.existsSync(path.dirname(t.file)), false);
    });

    it("reads every committed stack file and example without a problem", () => {
        const root = path.resolve(__dirname, "..", "..");
        const files = [
            ...fs.readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => path.join(root, f)),
            ...fs.readdirSync(path.join(root, "stacks", "examples")).map((f) => path.join(root, "stacks", "examples", f)),
        ];
        assert.ok(files.length >= 3);
        for (const f of files) {
            const read = readStackDocument(f, path.basename(f));
            assert.deepEqual(read.problems, [], f);
            assert.equal(read.doc?.encryptionsalt, undefined, `${f} carries a per-user salt`);
        }
    });
});
