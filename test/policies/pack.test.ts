/**
 * The pack as a whole: names the analyzer accepts, levels, config schemas whose defaults the rules really apply,
 * the files `pulumi preview --policy-pack policies` needs, and the README snippet listing every rule.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { ajv } from "../../model/check";
import { policies } from "../../policies/rules";

const root = path.join(__dirname, "..", "..");
const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");

describe("policies: the pack", () => {
    it("has unique rule names the analyzer accepts, each with a description and a level", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of policies) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.notEqual(p.name, "all");
            assert.ok(p.description.length > 20, `${p.name} has no real description`);
            assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", `${p.name} level ${p.enforcementLevel}`);
            assert.equal(p.configSchema?.properties?.enforcementLevel, undefined, `${p.name} declares enforcementLevel in its schema`);
        }
    });

    it("keeps the levels this README documents: safety mandatory, hygiene advisory", () => {
        const advisory = policies.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name).sort();
        assert.deepEqual(advisory, ["helm-release-hygiene", "isb-workqueue-single-consumer", "k3s-in-place-resize-maturity", "workload-resize-policy"]);
        assert.equal(policies.length, 20);
    });

    it("gives every config property a type, a description and a default", () => {
        for (const p of policies) {
            for (const [key, prop] of Object.entries(p.configSchema?.properties ?? {})) {
                assert.ok(typeof prop === "object" && prop.type && prop.description && prop.default !== undefined, `${p.name}.${key}`);
            }
        }
    });

    it("hands the CLI JSON Schemas whose defaults satisfy them, and requires nothing the CLI would not fill in", () => {
        for (const p of policies.filter((x) => x.configSchema)) {
            const schema = JSON.parse(JSON.stringify(p.configSchema));
            assert.equal(schema.required, undefined, p.name);
            const validate = ajv.compile({ type: "object", properties: schema.properties, additionalProperties: false });
            const defaults = Object.fromEntries(Object.entries<any>(schema.properties).map(([k, v]) => [k, v.default]));
            assert.ok(validate(defaults), `${p.name}: ${JSON.stringify(validate.errors)}`);
            assert.equal(validate({ ...defaults, [Object.keys(defaults)[0]]: {} }), false, `${p.name}: its schema accepts anything`);
        }
    });

    it("ships what the CLI loads: PulumiPolicy.yaml, a package.json with a version, index.ts building the pack", () => {
        const project = load(read("policies/PulumiPolicy.yaml")) as Record<string, unknown>;
        assert.equal(project.runtime, "nodejs");
        const pkg = JSON.parse(read("policies/package.json"));
        assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
        const index = read("policies/index.ts");
        assert.match(index, /new PolicyPack\("charon", \{/);
        assert.match(index, /import \{ policies \} from "\.\/rules";/);
    });

    it("pack config files name only real rules and settings they declare", () => {
        const names = new Map(policies.map((p) => [p.name, p]));
        for (const file of fs.readdirSync(path.join(root, "policies", "config"))) {
            const config = JSON.parse(read(`policies/config/${file}`));
            for (const [rule, value] of Object.entries<any>(config)) {
                const p = names.get(rule);
                assert.ok(p, `${file}: unknown rule ${rule}`);
                if (typeof value === "object") {
                    for (const key of Object.keys(value).filter((k) => k !== "enforcementLevel")) {
                        assert.ok(p.configSchema?.properties?.[key], `${file}: ${rule} has no setting ${key}`);
                    }
                }
            }
        }
    });

    it("the README lists every rule with its level and settings", () => {
        const readme = read("README.md");
        for (const p of policies) {
            const row = readme.split("\n").find((line) => line.startsWith(`| \`${p.name}\` | ${p.enforcementLevel} |`));
            assert.ok(row, `README misses ${p.name} (${p.enforcementLevel})`);
            const settings = p.configSchema?.properties ?? {};
            for (const key of Object.keys(settings)) {
                assert.ok(row.includes(`\`${key}\``), `README row of ${p.name} misses its setting ${key}`);
            }
            // A default the row shows, as `key` (`default`), is the schema's.
            for (const [, key, shown] of row.matchAll(/`(\w+)` \(`([^`]*)`\)/g)) {
                const value = settings[key]?.default;
                assert.equal(shown, typeof value === "string" ? value : JSON.stringify(value), `README row of ${p.name}: default of ${key}`);
            }
        }
    });
});
