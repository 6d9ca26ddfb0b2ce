/**
 * Bundles one loop: the runtime plus its decide module (built-in or a researcher's file), with esbuild, into a
 * single CommonJS file the pinned Node image runs from the loop's ConfigMap. The bundle must leave room in the
 * ConfigMap (1 MiB for the whole object) for config.json and metadata.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";

/** Kubernetes' limit on a ConfigMap (all data plus metadata). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;
/** What a bundle may take, leaving room for config.json and the object's metadata. */
export const BUNDLE_LIMIT_BYTES = CONFIGMAP_LIMIT_BYTES - 64 * 1024;

export const RUNTIME_MAIN = path.resolve(__dirname, "../../controllers/runtime/main.ts");

export interface LoopBundle {
    code: string;
    bytes: number;
}

/** The entry esbuild bundles: import decide, hand it to the runtime. */
export function loopEntry(decideModule: string): string {
    return [
        `import { decide } from ${JSON.stringify(decideModule)};`,
        `import { runMain } from ${JSON.stringify(RUNTIME_MAIN)};`,
        "runMain(decide).catch((e) => { console.error(e instanceof Error ? e.stack ?? e.message : String(e)); process.exit(1); });",
        "",
    ].join("\n");
}

function located(m: esbuild.Message): string {
    const where = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : "";
    return `${where}${m.text}`;
}

/**
 * Bundles the runtime with `decideModule`. Throws one error starting with `settingKey` when the file is missing,
 * does not compile, does not export decide, or the bundle would not fit the ConfigMap.
 */
export function bundleLoop(decideModule: string, settingKey: string): LoopBundle {
    if (!fs.existsSync(decideModule)) {
        throw new Error(`${settingKey}: ${decideModule} does not exist`);
    }
    let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
    try {
        result = esbuild.buildSync({
            stdin: { contents: loopEntry(decideModule), resolveDir: path.dirname(decideModule), sourcefile: "charon-loop-entry.ts", loader: "ts" },
            bundle: true,
            platform: "node",
            target: "node22",
            format: "cjs",
            write: false,
            minifySyntax: true,
            minifyWhitespace: true,
            keepNames: true,
            legalComments: "none",
            logLevel: "silent",
        });
    } catch (e) {
        const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
        if (errors.some((m) => /No matching export/.test(m.text) && /"decide"/.test(m.text))) {
            throw new Error(`${settingKey}: ${decideModule} does not export a function named decide (export function decide(observation, previous, params) { … })`);
        }
        throw new Error(`${settingKey}: ${decideModule} does not bundle: ${errors.map(located).join("; ") || (e as Error).message}`);
    }
    const code = result.outputFiles[0].text;
    const bytes = Buffer.byteLength(code);
    if (bytes > BUNDLE_LIMIT_BYTES) {
        throw new Error(`${settingKey}: the bundle of ${decideModule} is ${bytes} bytes; a ConfigMap holds at most ${CONFIGMAP_LIMIT_BYTES} (bundle limit ${BUNDLE_LIMIT_BYTES}); drop large dependencies from the controller`);
    }
    return { code, bytes };
}
