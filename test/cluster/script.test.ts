/** The command text renderer: environment preamble, quoting, here-document framing. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fc from "fast-check";
import { renderScriptCommand, renderScriptEnvironment } from "../../components/cluster";
import { readScript, scriptDelimiter, shellQuote } from "../../components/cluster/script";
import { parseScriptEnvironment } from "./script-environment";

describe("script rendering", () => {
    it("renders export lines in the given order, single-quoted", () => {
        assert.equal(renderScriptEnvironment({ CHARON_HOST: "dev", CHARON_K3S_CONFIG: "a: \"b\"\nc: 'd'\n" }),
            "export CHARON_HOST='dev'\nexport CHARON_K3S_CONFIG='a: \"b\"\nc: '\\''d'\\''\n'\n");
    });

    it("refuses variable names outside CHARON_*", () => {
        assert.throws(() => renderScriptEnvironment({ PATH: "/tmp" }), /script variable "PATH" is not a CHARON_\* upper-case name/);
    });

    it("frames preamble + common.sh + script in a quoted here-document run by bash, named after the script", () => {
        const text = renderScriptCommand("read-kubeconfig", { CHARON_HOST: "s1", CHARON_API_TIMEOUT: "300" }, "charon: test");
        const lines = text.split("\n");
        assert.equal(lines[0], `bash -c "$(cat <<'${scriptDelimiter}'`);
        assert.equal(lines[1], "# charon: test");
        assert.equal(lines[2], "export CHARON_HOST='s1'");
        assert.equal(lines[3], "export CHARON_API_TIMEOUT='300'");
        assert.ok(text.includes(readScript("common") + readScript("read-kubeconfig")));
        assert.ok(text.endsWith(`\n${scriptDelimiter}\n)" charon-read-kubeconfig\n`));
    });

    it("refuses a value that would end the here-document early", () => {
        assert.throws(() => renderScriptCommand("host-dirs", { CHARON_HOST: `x\n${scriptDelimiter}\nrm -rf /` }), /contains a line CHARON_SCRIPT_END/);
    });

    it("property: any value survives quoting through a real shell and parses back from the command text", () => {
        fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !s.includes("\0")), (value) => {
            const echoed = spawnSync("sh", ["-c", `printf '%s' ${shellQuote(value)}`], { encoding: "utf8" }).stdout;
            assert.equal(echoed, value);
            const env = parseScriptEnvironment(renderScriptEnvironment({ CHARON_VALUE: value, CHARON_NEXT: "x" }));
            assert.deepEqual(env, { CHARON_VALUE: value, CHARON_NEXT: "x" });
        }), { numRuns: 150 });
    });

    it("the variables reach the script when the command text runs", () => {
        const text = renderScriptCommand("read-kubeconfig", { CHARON_HOST: "it's \"quoted\"", CHARON_API_TIMEOUT: "1" });
        // Replace the script's work with a probe: run only the preamble part through bash.
        const preamble = text.split("# shellcheck shell=bash")[0] + "printf '%s|%s' \"$CHARON_HOST\" \"$CHARON_API_TIMEOUT\"\nCHARON_SCRIPT_END\n)\"\n";
        const r = spawnSync("sh", ["-c", preamble], { encoding: "utf8" });
        assert.equal(r.stdout, "it's \"quoted\"|1");
    });
});
