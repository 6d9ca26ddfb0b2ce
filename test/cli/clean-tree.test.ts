/**
 * The working tree stays clean: `npm run preview` on a committed stack writes nothing into the checkout (no
 * `encryptionsalt:` in Pulumi.dev.yaml; the salt goes to the user's layer outside it). Runs the real engine when the
 * machine has every piece locally (the engine tier's build: CLI, Node language host, providers) — whether the program
 * itself previews cleanly is the engine tier's business; what is checked here is what the command leaves behind.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { pulumiForTests, tempCheckout } from "./checkout";

const PLUGINS = ["pulumi-language-nodejs", "pulumi-resource-kubernetes", "pulumi-resource-command", "pulumi-resource-random"];

describe("npm run preview leaves the checkout as it was (real engine)", function () {
    this.timeout(600_000);
    const cli = pulumiForTests();
    const complete = cli !== undefined && PLUGINS.every((p) => cli.dirs.some((d) => fs.existsSync(path.join(d, p))));

    before(function () {
        if (!complete) {
            console.log("      (skipped: needs the Pulumi CLI with the Node language host and the kubernetes, command and random plugins locally, as tools/engine/build.sh builds them)");
            this.skip();
        }
    });

    it("twice on the dev stack: git status is empty, Pulumi.dev.yaml has no salt, the user's layer has it", () => {
        const checkout = tempCheckout();
        try {
            const before = fs.readFileSync(path.join(checkout.root, "Pulumi.dev.yaml"), "utf8");
            for (const round of [1, 2]) {
                const r = checkout.sh("npm run --silent preview", { path: cli!.dirs });
                const out = r.stdout + r.stderr;
                assert.doesNotMatch(out, /code: -2|CommandError/, `round ${round}: the Automation API's wrapper leaked:\n${out.slice(-2000)}`);
                if (r.status !== 0) {
                    assert.match(r.stderr, /charon: preview failed on stack dev: /, `round ${round}: a failure ends with its short cause:\n${r.stderr.slice(-2000)}`);
                }
                assert.equal(checkout.status(), "", `round ${round}: the checkout changed`);
                assert.equal(fs.readFileSync(path.join(checkout.root, "Pulumi.dev.yaml"), "utf8"), before);
            }
            const stacks = path.join(checkout.home, ".config", "charon", "stacks");
            const layer = yaml.load(fs.readFileSync(path.join(stacks, fs.readdirSync(stacks)[0], "dev.yaml"), "utf8")) as { encryptionsalt?: string };
            assert.match(layer.encryptionsalt ?? "", /^v1:/, "the stack's salt is kept in the user's layer");
        } finally {
            checkout.remove();
        }
    });
});
