/**
 * What the main-job commands print after the engine's own output: the policy violations as a short table with how
 * to waive a rule, and a failed run's cause in a few lines instead of the Automation API's triple copy of it.
 */
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { innermostCommandError } from "./workspace";

export interface Violation {
    /** `not-run`: the rule could not run during a preview (a value it reads is unknown until up). */
    level: "mandatory" | "advisory" | "not-run";
    rule: string;
    /** `type name` of the resource, or "the stack" for stack-level rules. */
    resource: string;
    message: string;
}

/** Text without colour: ANSI sequences (a terminal's output) and Pulumi's own `<{%reset%}>` tags (its events). */
export function plain(text: string): string {
    // eslint-disable-next-line no-control-regex
    return text.replace(/\x1b\[[0-9;]*m/g, "").replace(/<\{%[^%]*%\}>/g, "");
}

/** `urn:pulumi:dev::charon::parent$type::name` → `type name`. */
export function resourceOfUrn(urn: string | undefined): string {
    if (!urn) {
        return "the stack";
    }
    const parts = urn.split("::");
    if (parts.length < 4) {
        return urn;
    }
    const types = parts[2].split("$");
    return `${types[types.length - 1]} ${parts.slice(3).join("::")}`;
}

/** Collects the policy events of an engine event stream. */
export class ViolationCollector {
    readonly violations: Violation[] = [];
    private readonly seen = new Set<string>();

    readonly onEvent = (event: EngineEvent): void => {
        const p = event.policyEvent;
        if (!p) {
            return;
        }
        const message = plain(p.message).split("\n").map((l) => l.trim()).filter((l) => l.length > 0).join(" — ");
        const v: Violation = {
            level: /^can't run policy /.test(message) ? "not-run" : p.enforcementLevel === "mandatory" ? "mandatory" : "advisory",
            rule: p.policyName,
            resource: resourceOfUrn(p.resourceUrn),
            message,
        };
        const key = JSON.stringify(v);
        if (!this.seen.has(key)) {
            this.seen.add(key);
            this.violations.push(v);
        }
    };
}

/** The summary printed after a preview or up that reported violations ("" when there were none). */
export function formatViolations(violations: Violation[], stack: string, policyConfig: string, root: string): string {
    const notRun = violations.filter((v) => v.level === "not-run");
    const found = violations.filter((v) => v.level !== "not-run")
        .sort((a, b) => (a.level === b.level ? 0 : a.level === "mandatory" ? -1 : 1) || a.rule.localeCompare(b.rule) || a.resource.localeCompare(b.resource));
    const lines: string[] = [];
    if (found.length > 0) {
        const mandatory = found.filter((v) => v.level === "mandatory").length;
        const width = Math.max(...found.map((v) => v.rule.length));
        const own = path.join("policies", "config", `${stack}.json`);
        const using = path.relative(root, policyConfig);
        lines.push(
            `Policy violations: ${mandatory} mandatory (these stop the update), ${found.length - mandatory} advisory`,
            ...found.map((v) => `  ${v.level.padEnd(9)}  ${v.rule.padEnd(width)}  ${v.resource}: ${v.message}`),
            `To waive a rule for stack ${stack}, add it to ${own}${using === own ? "" : ` (this run used ${using})`} with the reason in the pull request, e.g.`,
            `  ${JSON.stringify({ [found[0].rule]: { enforcementLevel: "disabled" } })}`,
        );
    }
    if (notRun.length > 0) {
        const rules = [...new Set(notRun.map((v) => v.rule))].sort();
        lines.push(`Not checked in this preview (a value they read is known only during up): ${rules.map((r) => `${r} (${notRun.filter((v) => v.rule === r).map((v) => v.resource).join(", ")})`).join("; ")}`);
    }
    return lines.length > 0 ? lines.join("\n") + "\n" : "";
}

/** Lines that end an engine error's continuation in the CLI's output. */
const SECTION = /^(error:|warning:|Previewing |Updating |Destroying |Refreshing |Resources:|Diagnostics:|Outputs:|Duration:|Policy |@ |Command failed with exit code)/;

/** The few lines that say why the engine failed: the settings problems, or each distinct engine error with its detail. */
export function engineFailure(err: unknown): string {
    const inner = innermostCommandError(err);
    if (!inner) {
        return String((err as Error)?.message ?? err);
    }
    const text = plain(`${inner.stderr}\n${inner.stdout}`);
    const settings = /Invalid stack settings \(\d+ problems?\):\n(?:[ \t]+- .*\n?)+/.exec(text);
    if (settings) {
        return settings[0].trimEnd();
    }
    const lines = text.split("\n").map((l) => l.replace(/^\s+/, "").trimEnd());
    const errors: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        if (!lines[i].startsWith("error:")) {
            continue;
        }
        const block = [lines[i]];
        for (let j = i + 1; j < lines.length && block.length < 12 && lines[j] !== "" && !SECTION.test(lines[j]); j++) {
            block.push(`  ${lines[j]}`);
        }
        const joined = block.join("\n");
        if (!errors.includes(joined)) {
            errors.push(joined);
        }
    }
    if (errors.length > 0) {
        return errors.slice(0, 5).join("\n");
    }
    const tail = lines.filter((l) => l.length > 0 && !l.startsWith("Command failed with exit code"));
    return tail.slice(-5).join("\n") || `the Pulumi CLI exited with code ${inner.code}`;
}
