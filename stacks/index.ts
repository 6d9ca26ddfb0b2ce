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
    const config = pulumi.runtime.allConfig();
    // isConfigSecret is not in the SDK's type declarations, but it is how the runtime tells secret config apart.
    const isSecret: (key: string) => boolean = (pulumi.runtime as any).isConfigSecret;
    const secretKeys = new Set(Object.keys(config).filter((k) => isSecret(k)));
    return resolveSettings(rawSettingsFromConfig(config), { secretKeys });
}
