import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "@pulumi/pulumi/runtime/config";
import { rawSettingsFromConfig, type ResolvedStack, resolveStack } from "./load";

// The SDK marks this export internal and leaves it out of its declarations; it is how the runtime tells secret
// config apart (from PULUMI_CONFIG_SECRET_KEYS), so it is declared here with its real signature.
declare module "@pulumi/pulumi/runtime/config" {
    export function isConfigSecret(k: string): boolean;
}

export * from "./settings";
export { SettingsError, checkSettings, resolveSettings, resolveStack, rawSettingsFromConfig, mergeLayers, CONFIG_NAMESPACE, type ResolvedStack } from "./load";
export { presets } from "./presets";
export { SettingsSchema, presetNames } from "./schema";

/**
 * Reads and validates the stack's `charon:*` config and the manifests it names. Called once, by the composition
 * root; a bad setting throws before any resource is declared, listing every problem.
 */
export function readStack(): ResolvedStack {
    const config = pulumi.runtime.allConfig();
    const secretKeys = new Set(Object.keys(config).filter((k) => isConfigSecret(k)));
    return resolveStack(rawSettingsFromConfig(config), { secretKeys, projectDir: process.cwd() });
}
