import * as pulumi from "@pulumi/pulumi";
import { rawSettingsFromConfig, resolveSettings } from "./load";
import { Settings } from "./settings";

export * from "./settings";
export { SettingsError, resolveSettings, rawSettingsFromConfig, CONFIG_NAMESPACE } from "./load";
export { presets } from "./presets";

/**
 * Reads and validates the stack's `charon:*` config. Called once, by the composition root; a bad setting throws
 * before any resource is declared, listing every problem.
 */
export function readStackSettings(): Settings {
    return resolveSettings(rawSettingsFromConfig(pulumi.runtime.allConfig()));
}
