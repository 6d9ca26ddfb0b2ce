/** Finding the Pulumi CLI: the one on PATH, else the pinned version installed with the Automation API's installer. */
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { SemVer } from "semver";
import { pulumiCliVersion } from "../components/versions";

export class CliUnavailableError extends Error {
    constructor(readonly reasons: string[]) {
        super([
            `The Pulumi CLI is not on PATH and installing Pulumi ${pulumiCliVersion} failed.`,
            `Install it (https://www.pulumi.com/docs/install/, e.g. \`curl -fsSL https://get.pulumi.com | sh -s -- --version ${pulumiCliVersion}\`)`,
            "and put it on PATH, then run the command again. Details:",
            ...reasons.map((r) => `  - ${r.split("\n")[0]}`),
        ].join("\n"));
        this.name = "CliUnavailableError";
    }
}

/** Where the pinned CLI is installed when it is not on PATH (the Automation API's own default location). */
export function pinnedInstallRoot(home = os.homedir()): string {
    return path.join(home, ".pulumi", "versions", pulumiCliVersion);
}

export async function findOrInstallCli(log: (line: string) => void): Promise<PulumiCommand> {
    const reasons: string[] = [];
    try {
        return await PulumiCommand.get();
    } catch (err) {
        const text = String((err as Error).message ?? err);
        reasons.push(/code: -2\b|ENOENT/.test(text) ? "no `pulumi` executable on PATH" : `pulumi on PATH: ${text}`);
    }
    // The installer's default version is the SDK's own: name the pinned one.
    const root = pinnedInstallRoot();
    try {
        return await PulumiCommand.get({ root, version: new SemVer(pulumiCliVersion) });
    } catch {
        // not installed there yet
    }
    log(`Pulumi CLI not found on PATH; installing ${pulumiCliVersion} into ${root} …`);
    try {
        return await PulumiCommand.install({ root, version: new SemVer(pulumiCliVersion) });
    } catch (err) {
        reasons.push(`installing ${pulumiCliVersion} into ${root}: ${(err as Error).message}`);
    }
    throw new CliUnavailableError(reasons);
}
