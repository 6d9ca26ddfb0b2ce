/** The Go toolchain the tests use (tests that need it fail with one line when it is missing). */
import { spawnSync } from "node:child_process";

export function requireGo(): string {
    const go = process.env.GO ?? "go";
    const probe = spawnSync(go, ["version"], { encoding: "utf8" });
    if (probe.status !== 0) {
        const error = new Error(`Go is not installed (needed as the reference parser for Go durations): run \`npm run setup\``);
        error.stack = error.message;
        throw error;
    }
    return go;
}
