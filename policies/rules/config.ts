/**
 * Policy configuration: a configurable rule declares its settings once, as a TypeBox object schema (the project's
 * schema kit, model/schema.ts) holding each setting's type, default and description. The pack hands that schema to
 * the CLI (`pulumi policy` shows it, `--policy-pack-config` is validated against it and its defaults filled in), and
 * the rule reads its settings through the same schema with the project's Ajv: checked, defaults filled in.
 */
import { PolicyConfigSchema } from "@pulumi/policy";
import { checkValue } from "../../model/check";
import { type Static, type TObject } from "../../model/schema";

/** Anything that hands out a rule's configuration (resource and stack validation args both do). */
export interface ConfigSource {
    getConfig<T extends object>(): T;
}

export interface RuleConfig<T extends TObject> {
    /** What the policy declares as its `configSchema`. */
    schema: PolicyConfigSchema;
    /** The rule's settings: the pack configuration validated, keys it omits at their default. */
    read(args: ConfigSource): Static<T>;
}

/**
 * A rule's settings from its schema. Every setting has a default, so none is required from the user (the CLI fills
 * the defaults in before it validates). Unknown keys and bad values fail the rule loudly, naming the key.
 */
export function ruleConfig<T extends TObject>(settings: T): RuleConfig<T> {
    const closed: T = { ...settings, additionalProperties: false };
    return {
        schema: { properties: settings.properties },
        read: (args) => {
            const { value, problems } = checkValue(closed, args.getConfig(), "config:");
            if (problems.length > 0) {
                throw new Error(`invalid policy configuration: ${problems.map((p) => p.message).join("; ")}`);
            }
            return value;
        },
    };
}

/** Compiles configured patterns (case-insensitive); a bad pattern fails loudly, naming the setting. */
export function patterns(key: string, sources: string[]): RegExp[] {
    return sources.map((s) => {
        try {
            return new RegExp(s, "i");
        } catch (err) {
            throw new Error(`invalid policy configuration: config:${key} holds an invalid regular expression ${JSON.stringify(s)}: ${(err as Error).message}`);
        }
    });
}
