/**
 * A small declarative schema language for stack settings. One description per key drives validation
 * (unknown keys, wrong types, allowed values), defaults, and the README's settings reference table.
 */

export type Scalar = string | number | boolean;

interface FieldBase {
    /** One sentence for the README reference table. */
    doc: string;
    /** The value used when neither the preset nor the stack sets the key. */
    default?: unknown;
    /** The value is sensitive: never echoed in error messages; set it with `pulumi config set --secret`. */
    secret?: boolean;
}

export interface StringField extends FieldBase { kind: "string"; pattern?: RegExp; patternHint?: string }
export interface NumberField extends FieldBase { kind: "number"; integer?: boolean; min?: number; max?: number }
export interface BooleanField extends FieldBase { kind: "boolean" }
export interface EnumField extends FieldBase { kind: "enum"; values: readonly Scalar[] }
export interface ObjectField extends FieldBase {
    kind: "object";
    fields: Record<string, Field>;
    required?: readonly string[];
    /** Absent unless the stack sets it (defaults do not create it), e.g. an optional bastion. */
    optional?: boolean;
}
export interface ArrayField extends FieldBase { kind: "array"; items: Field; minItems?: number }
export interface MapField extends FieldBase { kind: "map"; values: Field; keyPattern?: RegExp; keyHint?: string }

export type Field = StringField | NumberField | BooleanField | EnumField | ObjectField | ArrayField | MapField;

/** A problem found in the settings: the key path, the offending value (already rendered) and what is allowed. */
export interface SettingsProblem {
    key: string;
    message: string;
}

export function describeValue(value: unknown, field?: Field): string {
    if (field?.secret) {
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

function typeName(field: Field): string {
    switch (field.kind) {
        case "string": return "a string";
        case "number": return field.integer ? "an integer" : "a number";
        case "boolean": return "true or false";
        case "enum": return `one of ${field.values.map((v) => JSON.stringify(v)).join(", ")}`;
        case "object": return "an object";
        case "array": return "a list";
        case "map": return "a map of names to values";
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function joinKey(parent: string, child: string): string {
    return parent.endsWith(":") ? `${parent}${child}` : `${parent}.${child}`;
}

/**
 * Structural check of `value` against `field`: types, allowed values, unknown keys, required keys.
 * Every problem is collected; nothing stops at the first one.
 */
export function checkShape(value: unknown, field: Field, key: string, problems: SettingsProblem[], checkRequired = true): void {
    const wrongType = () => problems.push({
        key,
        message: `${key}: ${describeValue(value, field)} is not valid; expected ${typeName(field)}`,
    });
    switch (field.kind) {
        case "string":
            if (typeof value !== "string") {
                wrongType();
            } else if (field.pattern && !field.pattern.test(value)) {
                problems.push({
                    key,
                    message: `${key}: ${describeValue(value, field)} is not valid; expected ${field.patternHint ?? `a value matching ${field.pattern}`}`,
                });
            }
            return;
        case "number":
            if (typeof value !== "number" || Number.isNaN(value) || (field.integer && !Number.isInteger(value))) {
                wrongType();
            } else if ((field.min !== undefined && value < field.min) || (field.max !== undefined && value > field.max)) {
                problems.push({
                    key,
                    message: `${key}: ${value} is out of range; allowed ${field.min ?? "-∞"}–${field.max ?? "∞"}`,
                });
            }
            return;
        case "boolean":
            if (typeof value !== "boolean") {
                wrongType();
            }
            return;
        case "enum":
            if (!field.values.includes(value as Scalar)) {
                wrongType();
            }
            return;
        case "array":
            if (!Array.isArray(value)) {
                wrongType();
                return;
            }
            if (field.minItems !== undefined && value.length < field.minItems) {
                problems.push({ key, message: `${key}: has ${value.length} entries; at least ${field.minItems} required` });
            }
            value.forEach((item, i) => checkShape(item, field.items, `${key}[${i}]`, problems, checkRequired));
            return;
        case "map":
            if (!isPlainObject(value)) {
                wrongType();
                return;
            }
            for (const [k, v] of Object.entries(value)) {
                if (field.keyPattern && !field.keyPattern.test(k)) {
                    problems.push({ key: `${key}.${k}`, message: `${key}: key ${JSON.stringify(k)} is not valid; expected ${field.keyHint ?? `a name matching ${field.keyPattern}`}` });
                }
                checkShape(v, field.values, `${key}.${k}`, problems, checkRequired);
            }
            return;
        case "object": {
            if (!isPlainObject(value)) {
                wrongType();
                return;
            }
            const known = Object.keys(field.fields);
            for (const [k, v] of Object.entries(value)) {
                const child = field.fields[k];
                if (!child) {
                    problems.push({
                        key: joinKey(key, k),
                        message: `${joinKey(key, k)}: unknown setting; allowed keys here: ${known.join(", ")}`,
                    });
                    continue;
                }
                checkShape(v, child, joinKey(key, k), problems, checkRequired);
            }
            for (const required of checkRequired ? field.required ?? [] : []) {
                if (value[required] === undefined) {
                    problems.push({ key: joinKey(key, required), message: `${joinKey(key, required)}: is required (${field.fields[required].doc})` });
                }
            }
            return;
        }
    }
}

/** Fills in schema defaults below `value` (objects recursively; list items by their item schema). */
export function applyDefaults(value: unknown, field: Field): unknown {
    if (value === undefined) {
        if (field.default !== undefined) {
            return applyDefaults(structuredClone(field.default), field);
        }
        if (field.kind === "object" && !field.optional) {
            return applyDefaults({}, field);
        }
        return undefined;
    }
    if (field.kind === "object" && isPlainObject(value)) {
        const out: Record<string, unknown> = { ...value };
        for (const [k, child] of Object.entries(field.fields)) {
            const filled = applyDefaults(value[k], child);
            if (filled !== undefined) {
                out[k] = filled;
            }
        }
        return out;
    }
    if (field.kind === "array" && Array.isArray(value)) {
        return value.map((item) => applyDefaults(item, field.items));
    }
    if (field.kind === "map" && isPlainObject(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, applyDefaults(v, field.values)]));
    }
    return value;
}

/** Deep merge for settings layers: objects merge key by key, everything else (lists included) replaces. */
export function mergeLayers(base: unknown, over: unknown): unknown {
    if (over === undefined) {
        return base;
    }
    if (isPlainObject(base) && isPlainObject(over)) {
        const out: Record<string, unknown> = { ...base };
        for (const [k, v] of Object.entries(over)) {
            out[k] = mergeLayers(base[k], v);
        }
        return out;
    }
    return over;
}

/** Every documented key path, for the README reference (lists shown as `key[]`, maps as `key.<name>`). */
export function listKeys(field: Field, key: string): { key: string; field: Field }[] {
    const rows: { key: string; field: Field }[] = [];
    if (field.kind === "object") {
        for (const [k, child] of Object.entries(field.fields)) {
            const childKey = joinKey(key, k);
            rows.push({ key: childKey, field: child });
            rows.push(...listKeys(child, childKey));
        }
    } else if (field.kind === "array" && field.items.kind === "object") {
        rows.push(...listKeys(field.items, `${key}[]`));
    } else if (field.kind === "map" && field.values.kind === "object") {
        rows.push(...listKeys(field.values, `${key}.<name>`));
    }
    return rows;
}
