/**
 * The main-job commands put the repository's Pulumi.<stack>.yaml back after the engine ran: the Automation API reads
 * the outputs with `pulumi stack output --show-secrets` in the checkout after every update, and the CLI then writes
 * the stack's encryptionsalt into that file (found by the engine tier: after `npm run up` the checkout had changed,
 * and that salt, taking precedence over the user's layer, made `npm run destroy` fail to decrypt the secrets).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { keepingStackFile } from "../../cli/workspace";

describe("main-job commands keep the stack file as it was", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-keep-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("undoes an encryptionsalt the engine wrote into Pulumi.<stack>.yaml", async () => {
        const file = path.join(dir, "Pulumi.dev.yaml");
        fs.writeFileSync(file, "config:\n  charon:preset: dev\n");
        const result = await keepingStackFile(file, async () => {
            fs.appendFileSync(file, "encryptionsalt: v1:abc=:v1:def:ghi==\n");
            return 42;
        });
        assert.equal(result, 42);
        assert.equal(fs.readFileSync(file, "utf8"), "config:\n  charon:preset: dev\n");
    });

    it("removes a stack file the engine created, and restores even when the engine failed", async () => {
        const file = path.join(dir, "Pulumi.gone.yaml");
        await keepingStackFile(file, async () => fs.writeFileSync(file, "encryptionsalt: x\n"));
        assert.equal(fs.existsSync(file), false);
        const kept = path.join(dir, "Pulumi.kept.yaml");
        fs.writeFileSync(kept, "config: {}\n");
        await assert.rejects(keepingStackFile(kept, async () => {
            fs.writeFileSync(kept, "config: {}\nencryptionsalt: y\n");
            throw new Error("engine failed");
        }), /engine failed/);
        assert.equal(fs.readFileSync(kept, "utf8"), "config: {}\n");
    });
});
