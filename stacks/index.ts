import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "@pulumi/pulumi/runtime/config";
import { rawSettingsFromConfig, resolveSettings } from "./load";
import type { Settings } from "./schema";

// The SDK marks this export internal and leaves it out of its declarations; it is how the runtime tells secret
// config apart (from PULUMI_CONFIG_SECRET_KEYS), so it is declared here with its real signature.
declare module "@pulumi/pulumi/runtime/config" {
    export function isConfigSecret(k: string): boolean;
}

export * from "./settings";
export { SettingsError, resolveSettings, rawSettingsFromConfig, mergeLayers, CONFIG_NAMESPACE } from "./load";
export { presets } from "./presets";
export { SettingsSchema, presetNames } from "./schema";

/**
 * Reads and validates the stack's `charon:*` config. Called once, by the composition root; a bad setting throws
 * before any resource is declared, listing every problem.
 */
export function readStackSettings(): Settings {
    const config = pulumi.runtime.allConfig();
    const secretKeys = new Set(Object.keys(config).filter((k) => isConfigSecret(k)));
    return resolveSettings(rawSettingsFromConfig(config), { secretKeys });
}
