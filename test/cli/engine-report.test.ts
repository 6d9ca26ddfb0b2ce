/**
 * What the main-job commands print after the engine: the policy violations with the waiver line, and a failed run's
 * cause in a few lines, from the Automation API's error the way the SDK really builds it.
 */
import * as assert from "node:assert/strict";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { engineFailure, formatViolations, resourceOfUrn, ViolationCollector } from "../../cli/engine-report";
import { innermostCommandError } from "../../cli/workspace";

// The SDK's own (internal, untyped) constructors of its errors.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CommandResult } = require("@pulumi/pulumi/automation/cmd") as { CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => object };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createCommandError } = require("@pulumi/pulumi/automation/errors") as { createCommandError: (result: object) => Error };

/** The SDK's error for a CLI that exited non-zero: execa's error (with exitCode) wrapped in a code -2 CommandError. */
function sdkError(exitCode: number, stderr: string, stdout: string): Error {
    const execa = Object.assign(new Error(`Command failed with exit code ${exitCode}: pulumi preview --stack dev\n${stderr}\n${stdout}`), { exitCode });
    return createCommandError(new CommandResult("", execa.message, -2, execa));
}

const policyEvent = (policyName: string, enforcementLevel: "warning" | "mandatory", message: string, resourceUrn?: string): EngineEvent => ({
    sequence: 1, timestamp: 1,
    policyEvent: { policyName, enforcementLevel, message, resourceUrn, color: "never", policyPackName: "charon", policyPackVersion: "0.1.0", policyPackVersionTag: "0.1.0" },
});

describe("engine report (after npm run preview/up)", () => {
    it("names a resource by its type and name", () => {
        assert.equal(resourceOfUrn("urn:pulumi:dev::charon::charon:cluster:K3sCluster$command:local:Command::dev-dev-install"), "command:local:Command dev-dev-install");
        assert.equal(resourceOfUrn("urn:pulumi:dev::charon::kubernetes:helm.sh/v3:Release::monitoring-grafana"), "kubernetes:helm.sh/v3:Release monitoring-grafana");
        assert.equal(resourceOfUrn(undefined), "the stack");
    });

    it("summarises violations: mandatory first, one line each, then how to waive a rule in the stack's file", () => {
        const c = new ViolationCollector();
        c.onEvent(policyEvent("helm-release-hygiene", "warning", "Releases are atomic.\nrelease numaflow is not atomic", "urn:pulumi:dev::charon::kubernetes:helm.sh/v3:Release::numaflow"));
        c.onEvent(policyEvent("images-pinned", "mandatory", "Images carry a pinned tag.\nimage grafana/grafana:latest floats", "urn:pulumi:dev::charon::kubernetes:helm.sh/v3:Release::monitoring-grafana"));
        c.onEvent(policyEvent("images-pinned", "mandatory", "Images carry a pinned tag.\nimage grafana/grafana:latest floats", "urn:pulumi:dev::charon::kubernetes:helm.sh/v3:Release::monitoring-grafana"));
        c.onEvent(policyEvent("grafana-admin-from-secret", "warning", "<{%reset%}>can't run policy 'grafana-admin-from-secret' from policy pack 'charon@v0.1.0' during preview: string value at .values can't be known during preview<{%reset%}>", "urn:pulumi:dev::charon::kubernetes:helm.sh/v3:Release::monitoring-grafana"));
        c.onEvent({ sequence: 2, timestamp: 2, diagnosticEvent: { message: "x", color: "never", severity: "info" } });
        assert.equal(formatViolations(c.violations, "dev", "/r/policies/config/default.json", "/r"), [
            "Policy violations: 1 mandatory (these stop the update), 1 advisory",
            "  mandatory  images-pinned         kubernetes:helm.sh/v3:Release monitoring-grafana: Images carry a pinned tag. — image grafana/grafana:latest floats",
            "  advisory   helm-release-hygiene  kubernetes:helm.sh/v3:Release numaflow: Releases are atomic. — release numaflow is not atomic",
            "To waive a rule for stack dev, add it to policies/config/dev.json (this run used policies/config/default.json) with the reason in the pull request, e.g.",
            "  {\"images-pinned\":{\"enforcementLevel\":\"disabled\"}}",
            "Not checked in this preview (a value they read is known only during up): grafana-admin-from-secret (kubernetes:helm.sh/v3:Release monitoring-grafana)",
            "",
        ].join("\n"));
        assert.equal(formatViolations([], "dev", "/r/policies/config/dev.json", "/r"), "");
    });

    it("unwraps the SDK's code -2 error to the CLI's exit code and output", () => {
        const inner = innermostCommandError(sdkError(255, "error: boom", "Previewing update (dev):"));
        assert.equal(inner?.code, 255);
        assert.match(inner!.stderr, /error: boom/);
        assert.equal(innermostCommandError(new Error("plain")), undefined);
    });

    it("a failure is the engine's distinct error lines with their detail, never the whole output", () => {
        const stderr = [
            "warning: using pulumi-resource-random from $PATH at /x",
            "error: Running program '/repo/index.ts' failed with an unhandled exception:",
            "TSError: ⨯ Unable to compile TypeScript:",
            "harvester/remote-read/client.ts(7,25): error TS7016: Could not find a declaration file for module 'snappyjs'.",
            "",
            "Previewing update (dev):",
            "Resources:",
            "    + 1 to create",
        ].join("\n");
        assert.equal(engineFailure(sdkError(1, stderr, "")), [
            "error: Running program '/repo/index.ts' failed with an unhandled exception:",
            "  TSError: ⨯ Unable to compile TypeScript:",
            "  harvester/remote-read/client.ts(7,25): error TS7016: Could not find a declaration file for module 'snappyjs'.",
        ].join("\n"));
        const settings = "error: Invalid stack settings (1 problem):\n  - charon:monitoring.grafanaNodePort: 8080 is out of range; allowed 30000–32767\n";
        assert.equal(engineFailure(sdkError(1, settings + settings, settings)),
            "Invalid stack settings (1 problem):\n  - charon:monitoring.grafanaNodePort: 8080 is out of range; allowed 30000–32767");
        assert.equal(engineFailure(new Error("no such stack")), "no such stack");
        // With a terminal the CLI colours its output: the cause reads the same.
        assert.equal(engineFailure(sdkError(1, "\x1b[31merror: \x1b[0mboom\nTSError: x\n\x1b[38;5;13m\x1b[1mResources:\x1b[0m\n", "")), "error: boom\n  TSError: x");
        assert.doesNotMatch(engineFailure(sdkError(1, "error: x", "")), /code: -2/);
    });
});
