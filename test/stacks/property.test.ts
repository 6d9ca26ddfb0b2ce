/**
 * Settings generated from the layers' own schemas: every stack the model accepts runs the whole program under the
 * mocks without an error, and every value the schemas refuse is rejected before the program registers anything.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { SettingsError, resolveSettings } from "../../stacks";
import { SettingsSchema } from "../../stacks/schema";
import { commandOutputs } from "../cluster/fixtures";
import { ProgramFailure, runProgram } from "../helpers/pulumi-mocks";

type Schema = Record<string, any>;

const durationArb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 59 }), fc.boolean())
    .map(([d, m, s, ms]) => `${d ? `${d}d` : ""}${m ? `${m}m` : ""}${s}s${ms ? "250ms" : ""}`);
const formats: Record<string, fc.Arbitrary<string>> = {
    "duration": durationArb,
    "memory": fc.tuple(fc.integer({ min: 1, max: 64 }), fc.constantFrom("Mi", "Gi", "M", "G")).map(([n, u]) => `${n}${u}`),
    "cpu": fc.oneof(fc.integer({ min: 1, max: 8000 }).map((n) => `${n}m`), fc.integer({ min: 1, max: 8 }).map(String)),
    "ipv4-network": fc.constantFrom("10.31.0.0/16", "10.32.0.0/16", "172.16.0.0/12", "192.168.0.0/20", "10.200.0.0/24"),
};
const mapKey = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

/** Strings a pattern matches; lookaheads (which fast-check cannot generate from) are left out, then filtered for. */
function matching(pattern: string): fc.Arbitrary<string> {
    const full = new RegExp(pattern);
    return fc.stringMatching(new RegExp(pattern.replace(/\(\?[!=](?:[^()]|\([^()]*\))*\)/g, ""))).filter((text) => full.test(text));
}

/** An arbitrary of the values `schema` accepts (strings by their pattern or format, objects with optional keys left out). */
function arbitraryOf(schema: Schema): fc.Arbitrary<unknown> {
    if (Array.isArray(schema.enum)) {
        return fc.constantFrom(...schema.enum);
    }
    switch (schema.type) {
        case "boolean": return fc.boolean();
        case "integer": return fc.integer({ min: schema.minimum ?? -1, max: Math.min(schema.maximum ?? 100_000, 100_000) });
        case "number": return fc.double({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1e5, 1e5), noNaN: true });
        case "string":
            if (schema.format) {
                return formats[schema.format];
            }
            return schema.pattern ? matching(schema.pattern) : fc.stringMatching(/^[a-z][a-z0-9./-]{0,16}$/);
        case "array": return fc.array(arbitraryOf(schema.items), { minLength: schema.minItems ?? 0, maxLength: 3 });
        case "object": {
            if (typeof schema.additionalProperties === "object") {
                const keys = schema.propertyNames?.pattern ? matching(schema.propertyNames.pattern) : mapKey;
                return fc.dictionary(keys, arbitraryOf(schema.additionalProperties), { maxKeys: 3 });
            }
            const properties = schema.properties as Record<string, Schema>;
            return fc.record(Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, arbitraryOf(s)])), {
                requiredKeys: (schema.required ?? []).filter((k: string) => k in properties && properties[k].default === undefined),
            });
        }
        default: throw new Error(`no arbitrary for schema type ${schema.type}`);
    }
}

const props = (SettingsSchema as Schema).properties as Record<string, Schema>;
const withoutKeys = (schema: Schema, drop: string[]): Schema =>
    ({ ...schema, properties: Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !drop.includes(k))) });

/**
 * What varies: every layer's settings from its schema. Kept fixed: the machines (each preset's layout), and the
 * values that name files on this machine (air-gapped k3s files, a chart directory, custom controllers' code, your own
 * manifests; their loading is tested in test/workflows/manifests.test.ts),
 * which the model checks against the filesystem.
 */
const layers = fc.record({
    k3s: arbitraryOf(withoutKeys(props.k3s, ["airgap"])),
    monitoring: arbitraryOf(props.monitoring),
    numaflow: arbitraryOf(props.numaflow),
    gpu: arbitraryOf(props.gpu),
    workflows: arbitraryOf(withoutKeys(props.workflows, ["manifests"])),
    experiments: arbitraryOf(props.experiments),
    harvest: arbitraryOf(props.harvest),
    controllers: arbitraryOf(withoutKeys(props.controllers, ["custom"])),
}, { requiredKeys: [] });

const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nproperty\n-----END OPENSSH PRIVATE KEY-----";
const machines = fc.constantFrom<Record<string, unknown>>(
    { preset: "dev" },
    { preset: "gpu-node", sshPrivateKey: key, hosts: [{ name: "gpu1", address: "203.0.113.10" }] },
    { preset: "cluster", sshPrivateKey: key, hosts: [{ name: "s1", role: "server", address: "10.0.0.10" }, { name: "a1", address: "10.0.0.11", gpu: true }] },
);

function accepted(raw: Record<string, unknown>): boolean {
    try {
        resolveSettings(raw);
        return true;
    } catch (err) {
        if (err instanceof SettingsError) {
            return false;
        }
        throw err;
    }
}

const run = (raw: Record<string, unknown>) => runProgram(raw, {
    secretKeys: ["sshPrivateKey"],
    outputs: { ...commandOutputs({ gpu1: 1, a1: 1 }), "kubernetes:batch/v1:Job": () => ({ status: { startTime: "2026-11-23T10:00:00Z", completionTime: "2026-11-23T10:01:02Z" } }) },
});

describe("settings generated from the schemas (property)", function () {
    this.timeout(600_000);

    it("every stack the model accepts runs the whole program without an error", async () => {
        let ran = 0;
        await fc.assert(fc.asyncProperty(machines, layers, async (base, layer) => {
            const raw = { ...base, ...layer };
            fc.pre(accepted(raw));
            const result = await run(raw);
            assert.ok(result.resources.length > 20, `${result.resources.length} resources`);
            ran++;
        }), { numRuns: 24, maxSkipsPerRun: 400 });
        assert.equal(ran, 24);
    });

    /** A value of the wrong kind for a leaf schema. */
    const wrongFor = (schema: Schema): unknown => {
        if (Array.isArray(schema.enum)) {
            return "not-one-of-them";
        }
        switch (schema.type) {
            case "string": return schema.pattern || schema.format ? "!! not valid !!" : 42;
            case "integer": return schema.maximum !== undefined ? schema.maximum + 1 : "many";
            case "number": return "many";
            case "boolean": return "yes";
            default: return 7;
        }
    };
    const leaves = (schema: Schema, path: string[]): { path: string[]; schema: Schema }[] => {
        if (schema.type === "object" && schema.properties) {
            return Object.entries(schema.properties as Record<string, Schema>).flatMap(([k, s]) => leaves(s, [...path, k]));
        }
        return schema.type === "array" || typeof schema.additionalProperties === "object" ? [] : [{ path, schema }];
    };
    const candidates = ["monitoring", "numaflow", "gpu", "harvest", "charts", "workflows", "k3s"].flatMap((k) => leaves(props[k], [k]))
        .filter((l) => !l.path.includes("airgap"));

    it("every value a schema refuses is rejected by name before the program registers anything", async () => {
        assert.ok(candidates.length > 40, `${candidates.length} leaves`);
        await fc.assert(fc.asyncProperty(fc.constantFrom(...candidates), async ({ path, schema }) => {
            const raw: Record<string, any> = {};
            let node = raw;
            path.slice(0, -1).forEach((p) => { node = node[p] = {}; });
            node[path[path.length - 1]] = wrongFor(schema);
            const name = `charon:${path.join(".")}`;
            assert.throws(() => resolveSettings(raw), (err: SettingsError) => err.problems.some((p) => p.key === name));
            await assert.rejects(run(raw), (failure: ProgramFailure) => {
                assert.ok(failure instanceof ProgramFailure, String(failure));
                assert.match(failure.message, new RegExp(name.replace(/[.[\]]/g, "\\$&")));
                assert.deepEqual(failure.registered.map((r) => r.type), [], "nothing registered");
                return true;
            });
        }), { numRuns: 40 });
    });
});
