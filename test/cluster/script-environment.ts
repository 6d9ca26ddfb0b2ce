/** Reads the CHARON_* variables back out of a rendered command text (tests look at what a host will run). */
import type { ScriptEnvironment } from "../../components/cluster/script";

/** Reads back the variables of a rendered command's preamble (the inverse of renderScriptEnvironment). */
export function parseScriptEnvironment(command: string): ScriptEnvironment {
    const env: ScriptEnvironment = {};
    const pattern = /^export (CHARON_[A-Z0-9_]+)='((?:[^']|'\\'')*)'$/gm;
    for (const m of command.matchAll(pattern)) {
        env[m[1]] = m[2].replace(/'\\''/g, "'");
    }
    return env;
}
