/**
 * Validation against the schemas of schema.ts with Ajv: every problem at once, each one line naming the key, the
 * value (never a secret one) and what is allowed; the schema's defaults filled in on the way.
 */
import Ajv, { type ErrorObject } from "ajv";
import type { Static, TSchema } from "@sinclair/typebox";
import { parseDuration } from "./formats/duration";
import { parseIpv4Network } from "./formats/network";
import { isCpuQuantity, isMemoryQuantity } from "./formats/quantity";

/** A problem found in settings: the key path and the whole message line (which starts with the key). */
export interface Problem {
    key: string;
    message: string;
}

/** One Ajv for the project: settings, policy configuration and Kubernetes object schemas. */
// strictTypes off: Kubernetes schemas put `pattern` beside an int-or-string `anyOf`, which Ajv's type strictness refuses.
export const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictTypes: false, allowUnionTypes: true });
ajv.addKeyword({ keyword: "hint", schemaType: "string" });
ajv.addKeyword({ keyword: "secret", schemaType: "boolean" });
ajv.addFormat("duration", { type: "string", validate: (s: string) => parseDuration(s) !== undefined });
ajv.addFormat("memory", { type: "string", validate: isMemoryQuantity });
ajv.addFormat("cpu", { type: "string", validate: isCpuQuantity });
ajv.addFormat("ipv4-network", { type: "string", validate: (s: string) => parseIpv4Network(s) !== undefined });

/** A value as messages show it: strings quoted, containers by kind, secrets hidden. */
export function describeValue(value: unknown, secret = false): string {
    if (secret) {
        return "<secret>";
    }
    if (typeof value === "string") {
        return JSON.stringify(value);
    }
    if (value === null) {
        return "null";
    }
    if (Array.isArray(value)) {
        return "a list";
    }
    if (typeof value === "object") {
        return "an object";
    }
    return String(value);
}

/** Appends a property or list index to a settings key (`charon:` + `hosts` → `charon:hosts`, then `[0]`). */
export function childKey(parent: string, child: string | number): string {
    if (typeof child === "number") {
        return `${parent}[${child}]`;
    }
    return parent.endsWith(":") ? `${parent}${child}` : `${parent}.${child}`;
}

const compiled = new WeakMap<TSchema, ReturnType<typeof ajv.compile>>();

/**
 * Validates a copy of `value` against `schema`, filling in defaults (the schema's own too, when `value` is
 * undefined). `root` prefixes every key (e.g. `charon:`). The returned value is typed by the schema; it is only
 * safe to use when `problems` is empty.
 */
export function checkValue<T extends TSchema>(schema: T, value: unknown, root: string): { value: Static<T>; problems: Problem[] } {
    let validate = compiled.get(schema);
    if (validate === undefined) {
        // Wrapped in an object so a layer's schema may carry a default of its own (Ajv ignores defaults at the root).
        validate = ajv.compile({ type: "object", properties: { value: schema } });
        compiled.set(schema, validate);
    }
    const holder = { value: value === undefined ? undefined : structuredClone(value) };
    validate(holder);
    const errors = (validate.errors ?? []).map((e) => ({ ...e, instancePath: e.instancePath.replace(/^\/value/, "") }));
    return { value: holder.value as Static<T>, problems: renderErrors(errors, holder.value, root) };
}

/** Ajv's errors as problem lines in the project's wording, in document order, one per key and cause. */
export function renderErrors(errors: ErrorObject[], data: unknown, root: string): Problem[] {
    const problems: Problem[] = [];
    const seen = new Set<string>();
    for (const error of errors) {
        if ((error as { propertyName?: string }).propertyName !== undefined) {
            continue; // the failed key pattern of a map; the propertyNames error that follows says it once
        }
        const problem = renderError(error, data, root);
        if (problem !== undefined && !seen.has(problem.message)) {
            seen.add(problem.message);
            problems.push(problem);
        }
    }
    return problems;
}

function keyOf(pointer: string, data: unknown, root: string): string {
    let key = root;
    let node: unknown = data;
    for (const raw of pointer.split("/").slice(1)) {
        const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        if (Array.isArray(node)) {
            key = childKey(key, Number(segment));
            node = node[Number(segment)];
        } else {
            key = childKey(key, segment);
            node = (node as Record<string, unknown> | undefined)?.[segment];
        }
    }
    return key;
}

function typeName(type: string, schema: Record<string, unknown>): string {
    switch (type) {
        case "string": return "a string";
        case "integer": return "an integer";
        case "number": return "a number";
        case "boolean": return "true or false";
        case "array": return "a list";
        case "object": return typeof schema.additionalProperties === "object" ? "a map of names to values" : "an object";
        default: return type;
    }
}

function renderError(error: ErrorObject, data: unknown, root: string): Problem | undefined {
    const key = keyOf(error.instancePath, data, root);
    const schema = (error.parentSchema ?? {}) as Record<string, any>;
    const value = describeValue(error.data, schema.secret === true);
    const line = (k: string, text: string): Problem => ({ key: k, message: `${k}: ${text}` });
    switch (error.keyword) {
        case "additionalProperties": {
            const extra = childKey(key, String(error.params.additionalProperty));
            return line(extra, `unknown setting; allowed keys here: ${Object.keys(schema.properties ?? {}).join(", ")}`);
        }
        case "required": {
            const missing = String(error.params.missingProperty);
            const doc = schema.properties?.[missing]?.description;
            return line(childKey(key, missing), `is required${doc ? ` (${doc})` : ""}`);
        }
        case "type":
            return line(key, `${value} is not valid; expected ${typeName(String(error.params.type), schema)}`);
        case "enum":
            return line(key, `${value} is not valid; expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`);
        case "minimum":
        case "maximum":
            return line(key, `${value} is out of range; allowed ${schema.minimum ?? "-∞"}–${schema.maximum ?? "∞"}`);
        case "pattern":
        case "format":
            return line(key, `${value} is not valid; expected ${schema.hint ?? (error.keyword === "format" ? `a ${error.params.format}` : `a value matching ${error.params.pattern}`)}`);
        case "propertyNames": {
            const name = String(error.params.propertyName);
            return line(key, `key ${JSON.stringify(name)} is not valid; expected ${schema.propertyNames?.hint ?? "a valid name"}`);
        }
        case "minItems":
            return line(key, `has ${(error.data as unknown[]).length} entries; at least ${error.params.limit} required`);
        default:
            return line(key, `${value} is not valid: ${error.message}`);
    }
}
