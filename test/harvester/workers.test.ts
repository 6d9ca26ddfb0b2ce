import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultWorkers } from "../../harvester/workers";

const ROOT = path.resolve(__dirname, "..", "..");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require(path.join(ROOT, "bin", "build.js")) as { ensureBuilt: () => string; isFresh: () => boolean };

describe("harvester/workers", () => {
    it("uses worker threads only from 4 cores on, one per core but one, within the concurrency, the queries and 8", () => {
        assert.equal(defaultWorkers(4, 60, 1), 0);
        assert.equal(defaultWorkers(4, 60, 2), 0);
        assert.equal(defaultWorkers(4, 60, 4), 3);
        assert.equal(defaultWorkers(4, 60, 8), 4);
        assert.equal(defaultWorkers(16, 60, 32), 8);
        assert.equal(defaultWorkers(16, 2, 32), 2);
    });

    it("the bundle in bin/dist is rebuilt when a source it was built from changes, and not otherwise", () => {
        const dist = build.ensureBuilt();
        assert.equal(build.isFresh(), true);
        const bundle = path.join(dist, "harvest-worker.js");
        const before = fs.statSync(bundle).mtimeMs;
        assert.equal(build.ensureBuilt(), dist);
        assert.equal(fs.statSync(bundle).mtimeMs, before, "a fresh build is not redone");
        const source = path.join(ROOT, "harvester", "root.ts");
        const st = fs.statSync(source);
        fs.utimesSync(source, st.atime, new Date(st.mtimeMs + 1000));
        try {
            assert.equal(build.isFresh(), false, "a touched source makes the build stale");
            build.ensureBuilt();
            assert.equal(build.isFresh(), true);
            assert.ok(fs.statSync(bundle).mtimeMs >= before);
        } finally {
            fs.utimesSync(source, st.atime, st.mtime);
            build.ensureBuilt();
        }
    });
});
