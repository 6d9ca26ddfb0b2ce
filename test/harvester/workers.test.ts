import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { harvest } from "../../harvester/harvest";
import { defaultWorkers } from "../../harvester/workers";
import { startPrometheus } from "../helpers/prometheus";
import { T0 } from "./fixture";

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

    it("from TypeScript sources with no bin/dist (a fresh clone, the Pulumi program under ts-node), a harvest on worker threads builds it first", async function () {
        this.timeout(60_000);
        const prom = await startPrometheus({ families: [{ name: "fresh", type: "gauge", series: [{ name: "fresh", labels: { a: "b" }, samples: [[T0, 1], [T0 + 15_000, 2]] }] }] });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-fresh-"));
        try {
            fs.rmSync(path.join(ROOT, "bin", "dist"), { recursive: true, force: true });
            const out = path.join(dir, "fresh.csv");
            const m = await harvest({ endpoint: prom.url, queries: ["fresh", "sum(fresh)"], start: T0, end: T0 + 15_000, step: 15_000, mode: "auto", output: out, workers: 2 });
            assert.equal(m.status, "complete");
            assert.deepEqual(m.queries.map((q) => [q.mode, q.samples]), [["range", 2], ["range", 2]]);
            assert.equal(build.isFresh(), true, "bin/dist was built for the worker threads");
            assert.ok(fs.existsSync(path.join(ROOT, "bin", "dist", "harvest-worker.js")));
        } finally {
            await prom.stop();
            fs.rmSync(dir, { recursive: true, force: true });
            build.ensureBuilt();
        }
    });
});
