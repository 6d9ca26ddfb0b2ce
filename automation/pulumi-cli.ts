/**
 * Finding the Pulumi CLI: the one on PATH, else the pinned version in ~/.pulumi/versions/, else one download of it
 * with the Automation API's installer. A failed download is remembered, so later commands answer at once with the
 * ways to get a CLI offline instead of trying again.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { SemVer } from "semver";
import { pulumiCliVersion } from "../components/versions";

/** Where the pinned CLI is installed when it is not on PATH (the Automation API's own default location). */
export function pinnedInstallRoot(home = os.homedir()): string {
    return path.join(home, ".pulumi", "versions", pulumiCliVersion);
}

/** The file recording a failed download (so it is attempted once per machine and user). */
export function downloadFailedMarker(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
    return path.join(env.XDG_CACHE_HOME ?? path.join(home, ".cache"), "charon", `pulumi-${pulumiCliVersion}-download-failed`);
}

export class CliUnavailableError extends Error {
    constructor(reason: string, marker: string, root: string, retried: boolean) {
        super([
            `the Pulumi CLI is not on PATH and downloading Pulumi ${pulumiCliVersion} ${retried ? "failed" : "failed earlier"} (${reason})` +
            `${retried ? "; it is not retried on this machine" : ", so it is not tried again"}. Get a CLI one of these ways, then run the command again:`,
            `  - on a machine with internet: curl -fsSL https://get.pulumi.com | sh -s -- --version ${pulumiCliVersion}; copy ~/.pulumi/bin/pulumi* to ${path.join(root, "bin")}/ here (or anywhere on PATH)`,
            "  - build it from the Go module proxy with the project's engine build: tools/engine/build.sh (see tools/engine/README.md), then put the pulumi it built on PATH",
            `  - to download again: rm ${marker}`,
        ].join("\n"));
        this.name = "CliUnavailableError";
    }
}

function firstLine(text: string): string {
    return text.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? text;
}

export interface FindCliOptions {
    log: (line: string) => void;
    env?: NodeJS.ProcessEnv;
    home?: string;
}

export async function findOrInstallCli(opts: FindCliOptions): Promise<PulumiCommand> {
    const env = opts.env ?? process.env;
    const home = opts.home ?? os.homedir();
    try {
        return await PulumiCommand.get();
    } catch {
        // not on PATH (or not runnable): try the pinned install
    }
    // The installer's default version is the SDK's own: name the pinned one.
    const root = pinnedInstallRoot(home);
    try {
        return await PulumiCommand.get({ root, version: new SemVer(pulumiCliVersion) });
    } catch {
        // not installed there yet
    }
    const marker = downloadFailedMarker(env, home);
    if (fs.existsSync(marker)) {
        const recorded = fs.readFileSync(marker, "utf8").trim();
        throw new CliUnavailableError(firstLine(recorded.replace(/^[^ ]+ /, "")) || "see the marker file", marker, root, false);
    }
    opts.log(`Pulumi CLI not found on PATH; downloading Pulumi ${pulumiCliVersion} into ${root} (once) …`);
    try {
        return await PulumiCommand.install({ root, version: new SemVer(pulumiCliVersion) });
    } catch (err) {
        const reason = firstLine(String((err as Error).message ?? err));
        fs.mkdirSync(path.dirname(marker), { recursive: true });
        fs.writeFileSync(marker, `${new Date().toISOString()} ${reason}\n`);
        throw new CliUnavailableError(reason, marker, root, true);
    }
}
