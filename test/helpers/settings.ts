/** Settings for component tests, defaulted by the layers' own schemas (the way the stack resolves them). */
import { strict as assert } from "node:assert";
import { checkValue } from "../../model/check";
import type { Static, TSchema } from "../../model/schema";

/** A layer's resolved settings: `overrides` over the schema's defaults; fails the test on an invalid value. */
export function layerSettings<T extends TSchema>(schema: T, overrides: unknown = {}): Static<T> {
    const { value, problems } = checkValue(schema, overrides, "");
    assert.deepEqual(problems, [], "test settings must be valid");
    return value;
}
