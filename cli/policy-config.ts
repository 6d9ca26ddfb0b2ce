/**
 * Checks a policy pack configuration file (`policies/config/<stack>.json`) offline against the pack itself: every key
 * is one of the pack's rules (or `all`), every value an enforcement level or an object of the rule's own
 * `configSchema` (validated with the project's Ajv) plus `enforcementLevel`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { EnforcementLevel } from "@pulumi/policy";
import { ajv, renderErrors } from "../model/check";
import { repoRoot } from "./stack-files";
import { closest } from "./suggest";

export const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** What the check needs of a policy: its name and its JSON-Schema configuration (as `@pulumi/policy` declares it). */
export interface PolicyShape {
    name: string;
    configSchema?: { properties?: Record<string, unknown>; required?: string[] };
}

/** The pack's rules (loaded lazily: the rules import the policy SDK). */
export function packPolicies(): PolicyShape[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("../policies/rules") as typeof import("../policies/rules")).policies as PolicyShape[];
}

/** The policy configuration a stack runs with: policies/config/<stack>.json when it exists, else default.json. */
export function policyConfigFor(stack: string, root = repoRoot): string {
    const own = path.join(root, "policies", "config", `${stack}.json`);
    return fs.existsSync(own) ? own : path.join(root, "policies", "config", "default.json");
}

const validators = new WeakMap<PolicyShape, ReturnType<typeof ajv.compile>>();

/** The validator of a rule's object form: its configSchema plus enforcementLevel, nothing else. */
function validatorOf(policy: PolicyShape | undefined): ReturnType<typeof ajv.compile> {
    const cached = policy && validators.get(policy);
    if (cached) {
        return cached;
    }
    const validate = ajv.compile({
        type: "object",
        properties: { enforcementLevel: { enum: [...ENFORCEMENT_LEVELS] }, ...(policy?.configSchema?.properties ?? {}) },
        ...(policy?.configSchema?.required ? { required: policy.configSchema.required } : {}),
        additionalProperties: false,
    });
    if (policy) {
        validators.set(policy, validate);
    }
    return validate;
}

const levelsText = ENFORCEMENT_LEVELS.map((l) => JSON.stringify(l)).join(", ");

/** Every problem of a policy configuration text, one line each (without the file name). */
export function policyConfigProblems(text: string, policies: PolicyShape[] = packPolicies()): string[] {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        return [`not valid JSON: ${(err as Error).message}`];
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        return [`must be a JSON object of rule names to settings, e.g. {"isb-workqueue-single-consumer": {"enforcementLevel": "disabled"}}`];
    }
    const byName = new Map(policies.map((p) => [p.name, p]));
    const problems: string[] = [];
    for (const [rule, value] of Object.entries(doc as Record<string, unknown>)) {
        const policy = byName.get(rule);
        if (policy === undefined && rule !== "all") {
            const guess = closest(rule, [...byName.keys()]);
            problems.push(`${rule}: the pack has no such rule${guess ? `; did you mean "${guess}"?` : "; the rules are listed in README.md, Policy pack → Rules"}`);
            continue;
        }
        if (typeof value === "string") {
            if (!(ENFORCEMENT_LEVELS as readonly string[]).includes(value)) {
                problems.push(`${rule}: ${JSON.stringify(value)} is not an enforcement level; expected one of ${levelsText}`);
            }
            continue;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            problems.push(`${rule}: ${JSON.stringify(value)} is not valid; expected an enforcement level (${levelsText}) or an object of the rule's settings`);
            continue;
        }
        const validate = validatorOf(policy);
        const copy = structuredClone(value);
        if (!validate(copy)) {
            problems.push(...renderErrors(validate.errors ?? [], copy, rule).map((p) => p.message));
        }
    }
    return problems;
}
