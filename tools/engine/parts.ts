// What tools/engine/build.sh built: `<engine>/parts.json` beside the engine's bin/ (each part, its version, real or
// stand-in, and the module it came from). The tier reads versions from here rather than restating them.
import * as fs from "node:fs";
import * as path from "node:path";

export interface Part { part: string; version: string; kind: "real" | "stand-in" | "test"; source?: string }

export function readParts(engine: string): Part[] {
    return JSON.parse(fs.readFileSync(path.join(engine, "parts.json"), "utf8")) as Part[];
}

/** The version of the part built from Go module `module` (e.g. "sigs.k8s.io/kwok"), for an engine's bin/ directory. */
export function builtVersion(bin: string, module: string): string {
    const parts = readParts(path.dirname(bin));
    const part = parts.find((p) => p.source?.startsWith(`${module}@`));
    if (part === undefined) {
        throw new Error(`${path.join(path.dirname(bin), "parts.json")} names no part built from ${module}`);
    }
    return part.version;
}
