/**
 * The external tools some tests run, found where tools/setup.sh puts them (or where the machine has them). A test
 * that needs a missing tool fails with one line naming the setup command, not with a stack trace:
 *
 *     const shellcheck = requireTool("shellcheck");        // in the test, or in a before() hook of its suite
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The command that installs every tool below (tools/setup.sh). */
export const SETUP_COMMAND = "npm run setup";

export type ToolName = "shellcheck" | "actionlint" | "prometheus" | "promtool" | "openssl" | "pyarrow";

interface ToolSpec {
    /** What the tool is, for the message. */
    what: string;
    /** What tools/setup.sh installs it as: a Debian package, or one of its own steps. */
    from: { debian: string } | { setup: "actionlint" | "python" };
    /** Where to look first (environment overrides, setup's own directories), before PATH. */
    candidates: (env: NodeJS.ProcessEnv, cache: string) => (string | undefined)[];
    /** Name on PATH. */
    command: string;
    /** Extra check that the found executable is usable (for pyarrow: the interpreter imports it). */
    usable?: (file: string) => boolean;
}

const importsPyarrow = (python: string) => spawnSync(python, ["-c", "import pyarrow"], { stdio: "ignore" }).status === 0;

/** Every tool requireTool knows; tools/setup.sh installs each (test/cli/setup.test.ts keeps the two in step). */
export const TOOLS: Record<ToolName, ToolSpec> = {
    shellcheck: { what: "shellcheck (Debian package shellcheck)", from: { debian: "shellcheck" }, command: "shellcheck", candidates: (env) => [env.SHELLCHECK] },
    actionlint: {
        what: "actionlint (built from the Go module proxy)",
        from: { setup: "actionlint" },
        command: "actionlint",
        candidates: (env, cache) => [env.ACTIONLINT, path.join(cache, "charon-tools", "bin", "actionlint")],
    },
    prometheus: {
        what: "prometheus (Debian package prometheus)", from: { debian: "prometheus" }, command: "prometheus",
        candidates: (env) => [env.PROMETHEUS_BIN, "/usr/bin/prometheus"],
    },
    promtool: {
        what: "promtool (Debian package prometheus)", from: { debian: "prometheus" }, command: "promtool",
        candidates: (env) => [env.PROMTOOL_BIN, "/usr/bin/promtool"],
    },
    openssl: { what: "openssl (Debian package openssl)", from: { debian: "openssl" }, command: "openssl", candidates: (env) => [env.OPENSSL] },
    pyarrow: {
        what: "a Python with pyarrow (test/requirements.txt)",
        from: { setup: "python" },
        command: "python3",
        candidates: (env, cache) => [env.CHARON_PYTHON, path.join(cache, "charon-python", "bin", "python")],
        usable: importsPyarrow,
    },
};

/** A missing tool: its message is the whole report (the stack is the message, so mocha prints one line). */
export class MissingToolError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MissingToolError";
        this.stack = message;
    }
}

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/** The first executable called `command` on PATH. */
export function onPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    for (const dir of (env.PATH ?? "").split(path.delimiter)) {
        if (dir !== "" && isExecutable(path.join(dir, command))) {
            return path.join(dir, command);
        }
    }
    return undefined;
}

/** The tool's executable (for pyarrow: a Python interpreter that imports it), or undefined when missing. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const spec = TOOLS[name];
    const cache = env.CHARON_CACHE ?? path.join(env.HOME ?? os.homedir(), ".cache");
    const found = [...spec.candidates(env, cache), onPath(spec.command, env)]
        .filter((c): c is string => c !== undefined && c !== "")
        .find((c) => isExecutable(c) && (spec.usable?.(c) ?? true));
    return found;
}

/** The tool's executable; throws a one-line MissingToolError naming the setup command when it is missing. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
    const found = findTool(name, env);
    if (found === undefined) {
        throw new MissingToolError(`${TOOLS[name].what} is not installed: run \`${SETUP_COMMAND}\` (tools/setup.sh installs every test tool)`);
    }
    return found;
}
