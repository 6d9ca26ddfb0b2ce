/**
 * Turns a script of components/cluster/scripts/ plus its parameters into the command text a remote or local
 * command runs. Parameters become `export NAME='value'` lines in front of the script (sshd rarely accepts
 * environment variables, so they travel inside the text); secrets never do: they go through stdin.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The scripts the cluster layer runs (files in ./scripts, each preceded by common.sh when sent). */
export type ScriptName =
    | "prepare-host" | "firewall" | "host-dirs" | "install-k3s" | "uninstall-k3s"
    | "read-kubeconfig" | "drain-node" | "remove-node";

export type ScriptEnvironment = Record<string, string>;

/** Directory of the shell scripts. */
export const scriptsDir = path.join(__dirname, "scripts");

/** Delimits the script inside the command text; no line of a script or value may equal it. */
export const scriptDelimiter = "CHARON_SCRIPT_END";

const namePattern = /^CHARON_[A-Z0-9_]+$/;

/** Reads a script file (at program run time, not import time). */
export function readScript(name: ScriptName | "common"): string {
    return fs.readFileSync(path.join(scriptsDir, `${name}.sh`), "utf8");
}

/** Quotes a value for a POSIX shell: single quotes, with embedded single quotes as '\''. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Renders `export NAME='value'` lines, in the order given. Names must be CHARON_* upper-case identifiers. */
export function renderScriptEnvironment(env: ScriptEnvironment): string {
    return Object.entries(env).map(([name, value]) => {
        if (!namePattern.test(name)) {
            throw new Error(`script variable ${JSON.stringify(name)} is not a CHARON_* upper-case name`);
        }
        return `export ${name}=${shellQuote(value)}\n`;
    }).join("");
}

/**
 * The command text for a script: `bash -c` over a quoted here-document holding the preamble, common.sh and the
 * script, so it runs the same under any POSIX login shell, and stdin stays free for secrets.
 */
export function renderScriptCommand(name: ScriptName, env: ScriptEnvironment, comment?: string): string {
    const body = `${comment === undefined ? "" : `# ${comment}\n`}${renderScriptEnvironment(env)}${readScript("common")}${readScript(name)}`;
    if (body.split("\n").some((line) => line === scriptDelimiter)) {
        throw new Error(`script ${name} or one of its values contains a line ${scriptDelimiter}, which would end the command text early`);
    }
    return `bash -c "$(cat <<'${scriptDelimiter}'\n${body.endsWith("\n") ? body : `${body}\n`}${scriptDelimiter}\n)" charon-${name}\n`;
}
