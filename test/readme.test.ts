import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { listKeys, README_BEGIN, README_END, renderReadme, settingsReferenceTable } from "../stacks/reference";
import { SettingsSchema } from "../stacks/schema";
import { pulumiCliVersion } from "../components/versions";

const root = path.resolve(__dirname, "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

describe("README", () => {
    it("documents every settings key of the model (run `npm run docs` after changing a layer's settings schema)", () => {
        const reference = readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END));
        const missing = listKeys(SettingsSchema, "charon:").map(({ key }) => key).filter((key) => !reference.includes(`| \`${key}\` |`));
        assert.deepEqual(missing, []);
        assert.equal(renderReadme(readme), readme, "the settings reference is out of date: run `npm run docs`");
        assert.ok(settingsReferenceTable().includes("| `charon:k3s.featureGates` | map of boolean | `{\"InPlacePodVerticalScaling\":true}` |"));
    });

    it("gives the test command CI runs: the same setup, then npm test", () => {
        const ci = fs.readFileSync(path.join(root, ".ci/run"), "utf8");
        assert.match(readme, /^npm run setup && npm test\b/m);
        assert.match(ci, /^npm test /m);
        assert.match(ci, /^bash tools\/setup\.sh$/m);
    });

    it("lists every stack output the program exports", () => {
        const index = fs.readFileSync(path.join(root, "index.ts"), "utf8");
        const exported = [...index.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
        assert.ok(exported.length >= 5);
        assert.deepEqual(exported.filter((name) => !readme.includes(`| \`${name}\` |`)), []);
    });

    it("names the Pulumi CLI release components/versions.ts pins, wherever it names one", () => {
        const named = [...readme.matchAll(/(?:Pulumi CLI|pinned version|~\/\.pulumi\/versions\/)\D{0,3}(\d+\.\d+\.\d+)/g)].map((m) => m[1]);
        assert.ok(named.length >= 2, `the README names the CLI's version ${named.length} times`);
        assert.deepEqual([...new Set(named)], [pulumiCliVersion]);
    });
});
