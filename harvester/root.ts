/**
 * Where the project lives, found from this file whether it runs as TypeScript (harvester/*.ts) or from the bundle
 * in bin/dist/: the nearest directory above with the project's package.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function findRoot(from: string): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        try {
            const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
            if (pkg.name === "charon") {
                return dir;
            }
        } catch {
            // no package.json here
        }
        if (path.dirname(dir) === dir) {
            return path.resolve(from, "..");
        }
    }
}

/** The project root, where Pulumi.yaml and package.json live. */
export const REPO_ROOT = findRoot(__dirname);

/** The harvester's version: the project's package.json version. */
export function toolVersion(): string {
    try {
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version?: string };
        return pkg.version ?? "0.0.0";
    } catch {
        return "0.0.0";
    }
}
