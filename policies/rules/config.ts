/**
 * Policy configuration: each configurable rule declares a JSON schema (shown by `pulumi policy` and validated by
 * the CLI against `--policy-pack-config`) whose defaults mirror the typed defaults the rule applies itself.
 */
import { PolicyConfigSchema } from "@pulumi/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/** Anything that hands out a rule's configuration (resource and stack validation args both do). */
export interface ConfigSource {
    getConfig<T extends object>(): T;
}

/** The rule's configuration with its defaults filled in (keys the pack config omits keep their default). */
export function configOf<T extends object>(args: ConfigSource, defaults: T): T {
    const given = (args.getConfig<Partial<T>>() ?? {}) as Partial<T>;
    const out = { ...defaults };
    for (const [key, value] of Object.entries(given)) {
        if (value !== undefined && key !== "enforcementLevel") {
            (out as Record<string, unknown>)[key] = value;
        }
    }
    return out;
}

export const stringList = (description: string, defaults: string[]): PolicyConfigJSONSchema => ({
    type: "array", items: { type: "string" }, default: defaults, description,
});

export const portList = (description: string, defaults: number[]): PolicyConfigJSONSchema => ({
    type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, default: defaults, description,
});

export const text = (description: string, defaults: string): PolicyConfigJSONSchema => ({
    type: "string", default: defaults, description,
});

export function schema(properties: Record<string, PolicyConfigJSONSchema>): PolicyConfigSchema {
    return { properties };
}

/** Compiles user-supplied patterns (case-insensitive); a bad pattern fails loudly with the rule's name. */
export function patterns(rule: string, key: string, sources: string[]): RegExp[] {
    return sources.map((s) => {
        try {
            return new RegExp(s, "i");
        } catch (err) {
            throw new Error(`policy ${rule}: config ${key} holds an invalid regular expression ${JSON.stringify(s)}: ${(err as Error).message}`);
        }
    });
}
