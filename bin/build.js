#!/usr/bin/env node
// Builds the harvester into plain JavaScript (bin/dist/) with esbuild, and rebuilds it on demand when a source file
// changed since the last build. `npm run build` calls build(); the charon-harvest bin and the harvester's worker
// pool call ensureBuilt(), so a fresh clone (or a `pulumi up` that imports the harvester through ts-node) needs no
// prior build step, and a checkout of other sources never runs a stale bundle. Plain JavaScript because it is what
// runs before anything is compiled.
//
// Outputs: bin/dist/charon-harvest.js (the CLI), bin/dist/harvest-worker.js (the worker-thread entry),
// bin/dist/build-inputs.json (every bundled source with its size and mtime: the staleness check).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(__dirname, "dist");
const STAMP = path.join(OUT, "build-inputs.json");
const ENTRIES = { "charon-harvest": "harvester/cli.ts", "harvest-worker": "harvester/worker.ts" };

/** Whether bin/dist holds a build of exactly the current sources (sizes and mtimes of every bundled input). */
function isFresh() {
    let stamp;
    try {
        stamp = JSON.parse(fs.readFileSync(STAMP, "utf8"));
    } catch {
        return false;
    }
    if (stamp.entries === undefined || JSON.stringify(stamp.entries) !== JSON.stringify(ENTRIES)) {
        return false;
    }
    for (const [rel, [size, mtimeMs]] of Object.entries(stamp.inputs)) {
        let st;
        try {
            st = fs.statSync(path.join(ROOT, rel));
        } catch {
            return false;
        }
        if (st.size !== size || st.mtimeMs !== mtimeMs) {
            return false;
        }
    }
    return true;
}

/**
 * Bundles the entries (dependencies stay external: they resolve from node_modules at run time). Written to a
 * private directory first and renamed into bin/dist file by file, so a concurrent reader never loads half a file.
 */
function build() {
    const esbuild = require("esbuild");
    const tmp = path.join(__dirname, `.dist-${process.pid}-${Date.now().toString(36)}`);
    try {
        const result = esbuild.buildSync({
            absWorkingDir: ROOT,
            entryPoints: ENTRIES,
            outdir: tmp,
            bundle: true,
            platform: "node",
            target: "node22",
            format: "cjs",
            packages: "external",
            sourcemap: "linked",
            metafile: true,
            logLevel: "silent",
        });
        const inputs = {};
        for (const rel of Object.keys(result.metafile.inputs).sort()) {
            const st = fs.statSync(path.join(ROOT, rel));
            inputs[rel] = [st.size, st.mtimeMs];
        }
        fs.mkdirSync(OUT, { recursive: true });
        for (const f of fs.readdirSync(tmp)) {
            fs.renameSync(path.join(tmp, f), path.join(OUT, f));
        }
        const stampTmp = path.join(tmp, "stamp.json");
        fs.writeFileSync(stampTmp, JSON.stringify({ entries: ENTRIES, inputs }, null, 1) + "\n");
        fs.renameSync(stampTmp, STAMP);
        return Object.keys(inputs).length;
    } catch (err) {
        const first = err && Array.isArray(err.errors) && err.errors[0];
        if (first) {
            const where = first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : "";
            throw new Error(`building the harvester failed: ${where}${first.text}`);
        }
        throw err;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** The directory holding a current build, building it first when a source changed. */
function ensureBuilt() {
    if (!isFresh()) {
        build();
    }
    return OUT;
}

module.exports = { OUT, build, ensureBuilt, isFresh };

if (require.main === module) {
    const t0 = Date.now();
    const n = build();
    process.stdout.write(`built ${Object.keys(ENTRIES).map((e) => path.join("bin", "dist", `${e}.js`)).join(", ")} from ${n} sources in ${Date.now() - t0} ms\n`);
}
