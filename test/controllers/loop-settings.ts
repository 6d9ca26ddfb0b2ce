/** Loop settings as the stack model resolves them (defaults filled), for tests. */
import * as assert from "node:assert/strict";
import { checkValue } from "../../model/check";
import { Type } from "../../model/schema";
import { ControlLoopsSettingsSchema, type ControlLoopsSettings } from "../../components/controllers";

export const ControllersRoot = Type.Object({ controllers: ControlLoopsSettingsSchema }, { additionalProperties: false });

export function loopSettings(value: Record<string, unknown>): ControlLoopsSettings {
    const { value: resolved, problems } = checkValue(ControllersRoot, { controllers: value }, "charon:");
    assert.deepEqual(problems, []);
    return resolved.controllers;
}
