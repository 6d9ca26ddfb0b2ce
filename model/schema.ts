/**
 * The schema kit every layer writes its settings model with: TypeBox (JSON Schema with derived TypeScript types).
 * A field's type, default, allowed values and one-line documentation live in its schema, nowhere else; `check.ts`
 * validates against it with Ajv and fills the defaults in, and the README reference is generated from it.
 *
 * Conventions: `description` is the sentence the README shows; a field with a `default` is required in the
 * resolved type (the default is applied before anything reads it); `hint` says what a string must look like when
 * its pattern or format fails; `secret` marks values never echoed in messages.
 */
import { type SchemaOptions, type Static, type TSchema, Type } from "@sinclair/typebox";
import { durationHint } from "./formats/duration";
import { dnsLabelHint, dnsLabelPattern, imageReferenceHint, imageReferencePattern, labelKeyHint, labelKeyPattern } from "./formats/names";
import { networkHint } from "./formats/network";
import { cpuHint, memoryHint } from "./formats/quantity";

export { Type, type Static, type TSchema, type TObject } from "@sinclair/typebox";

declare module "@sinclair/typebox" {
    interface SchemaOptions {
        /** What a valid value looks like, shown when a pattern or format fails. */
        hint?: string;
        /** Sensitive: never echoed in messages; set with `pulumi config set --secret`. */
        secret?: boolean;
    }
}

interface FieldOptions extends SchemaOptions {
    description: string;
}

/** One of a fixed list of values (strings, numbers or booleans). */
export function Enum<const T extends readonly (string | number | boolean)[]>(values: T, options: FieldOptions & { default?: T[number] }) {
    return Type.Unsafe<T[number]>({ enum: [...values], ...options });
}

/** A map from names to values (JSON object with free keys), optionally with a key pattern. */
export function Map<V extends TSchema>(values: V, options: FieldOptions & { keyPattern?: string; keyHint?: string; default?: Record<string, Static<V>> }) {
    const { keyPattern, keyHint, ...rest } = options;
    return Type.Unsafe<Record<string, Static<V>>>({
        type: "object",
        additionalProperties: values,
        ...(keyPattern === undefined ? {} : { propertyNames: { pattern: keyPattern, hint: keyHint } }),
        ...rest,
    });
}

export const Duration = (options: FieldOptions & { default?: string }) =>
    Type.String({ format: "duration", hint: durationHint, ...options });
export const Memory = (options: FieldOptions & { default?: string }) =>
    Type.String({ format: "memory", hint: memoryHint, ...options });
export const Cpu = (options: FieldOptions & { default?: string }) =>
    Type.String({ format: "cpu", hint: cpuHint, ...options });
export const Ipv4Network = (options: FieldOptions & { default?: string }) =>
    Type.String({ format: "ipv4-network", hint: networkHint, ...options });
export const DnsLabel = (options: FieldOptions & { default?: string; hint?: string }) =>
    Type.String({ pattern: dnsLabelPattern, hint: dnsLabelHint, ...options });
export const ImageReference = (options: FieldOptions & { default?: string }) =>
    Type.String({ pattern: imageReferencePattern, hint: imageReferenceHint, ...options });
export const LabelKey = { keyPattern: labelKeyPattern, keyHint: labelKeyHint } as const;
export const Secret = (options: FieldOptions) => Type.String({ secret: true, ...options });
export const Integer = (options: FieldOptions & { minimum?: number; maximum?: number; default?: number }) => Type.Integer(options);
