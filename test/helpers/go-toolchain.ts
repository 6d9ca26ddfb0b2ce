/** The Go toolchain the tests use as a reference parser (tools/setup.sh installs it when the machine lacks one). */
import { spawnSync } from "node:child_process";
import { MissingToolError, SETUP_COMMAND } from "./tools";

export function requireGo(): string {
    const go = process.env.GO ?? "go";
    if (spawnSync(go, ["version"], { encoding: "utf8" }).status !== 0) {
        throw new MissingToolError(`Go (the reference parser of Go durations) is not installed: run \`${SETUP_COMMAND}\``);
    }
    return go;
}
