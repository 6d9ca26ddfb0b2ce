#!/usr/bin/env node
// The charon-harvest command: runs the compiled harvester (bin/dist/charon-harvest.js), building it first with
// esbuild when the sources changed since the last build (see build.js). No TypeScript loader at run time.
"use strict";
// Through `npm run harvest`, npm starts us in the package root; relative paths on the command line mean the
// directory the user typed the command in, which npm passes as INIT_CWD.
if (process.env.npm_lifecycle_event === "harvest" && process.env.INIT_CWD) {
    process.chdir(process.env.INIT_CWD);
}
const path = require("node:path");
let dist;
try {
    dist = require("./build.js").ensureBuilt();
} catch (err) {
    process.stderr.write(`charon-harvest: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(2);
}
const { main } = require(path.join(dist, "charon-harvest.js"));
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
}, (err) => {
    process.stderr.write(`charon-harvest: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
});
