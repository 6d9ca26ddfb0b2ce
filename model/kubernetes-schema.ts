/**
 * Kubernetes objects checked against a CRD's openAPIV3Schema with the project's Ajv. The API server prunes (or,
 * with strict field validation, refuses) fields a structural schema does not list, so the check closes every
 * object that lists its properties unless the schema preserves unknown fields.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { ajv } from "./check";

for (const keyword of [
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type", "x-kubernetes-embedded-resource", "x-kubernetes-validations",
]) {
    ajv.addKeyword({ keyword });
}
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: Number.isSafeInteger });
ajv.addFormat("date-time", { type: "string", validate: (s: string) => !Number.isNaN(Date.parse(s)) });
ajv.addFormat("byte", { type: "string", validate: (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) });

/** The schema with `additionalProperties: false` wherever it lists properties and does not preserve unknown fields. */
export function closedSchema(schema: unknown): unknown {
    if (Array.isArray(schema)) {
        return schema.map(closedSchema);
    }
    if (typeof schema !== "object" || schema === null) {
        return schema;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) {
        out[k] = k === "properties"
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, closedSchema(s)]))
            : closedSchema(v);
    }
    if (out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) {
        out.additionalProperties = false;
    }
    return out;
}

/** A validator for objects of one CRD version: every problem as `path: message`. */
export function crdValidator(openAPIV3Schema: unknown): (object: unknown) => string[] {
    const validate: ValidateFunction = ajv.compile(closedSchema(openAPIV3Schema) as object);
    // A copy: the project's Ajv fills schema defaults in, and the object must reach the API server as written.
    return (object) => validate(structuredClone(object)) ? [] : renderCrdErrors(validate.errors);
}

function renderCrdErrors(errors: ErrorObject[] | null | undefined): string[] {
    return (errors ?? []).map((e) => {
        const where = e.instancePath.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".");
        const extra = e.keyword === "additionalProperties" ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : "";
        return `${where || "(root)"}: ${e.message}${extra}`;
    });
}
