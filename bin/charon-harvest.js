#!/usr/bin/env node
// Launcher for the charon-harvest command: runs harvester/cli.ts through tsx's CommonJS register API.
"use strict";
const path = require("node:path");
const root = path.resolve(__dirname, "..");
require(require.resolve("tsx/cjs/api", { paths: [root] })).register();
const { main } = require(path.join(root, "harvester", "cli.ts"));
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
}, (err) => {
    process.stderr.write(`charon-harvest: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
});
