/**
 * A streamed remote-read response cut off mid-body (the connection closes before the body's end) is retried like
 * any other connection failure. Found by the engine tier: through the Kubernetes API server's service proxy, a few
 * of the hook's keep-alive remote reads end with Node's "aborted", and those queries were lost.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { harvest } from "../../harvester/harvest";
import { startPrometheus, type TestPrometheus } from "../helpers/prometheus";
import { T0, T_END, fixtureFamilies } from "./fixture";
import { directRaw, fromHarvestJson, sameSamples } from "./reference";

/** Forwards to Prometheus; the first remote read's response is cut after its first bytes. */
function truncatingProxy(target: string): Promise<{ url: string; reads: () => number; close: () => Promise<void> }> {
    let reads = 0;
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const isRead = (req.url ?? "").startsWith("/api/v1/read");
            const cut = isRead && ++reads === 1;
            const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
                res.writeHead(upRes.statusCode ?? 502, upRes.headers);
                if (!cut) {
                    upRes.pipe(res);
                    return;
                }
                upRes.once("data", (first: Buffer) => {
                    res.write(first.subarray(0, Math.max(1, first.length >> 1)), () => res.socket?.destroy());
                });
            });
            up.end(Buffer.concat(chunks));
        });
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        reads: () => reads,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
    })));
}

describe("harvester remote read, response interrupted", function () {
    this.timeout(60_000);
    let prom: TestPrometheus;
    let dir: string;
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harvest-cut-"));
        prom = await startPrometheus({ families: fixtureFamilies() });
    });
    after(async () => {
        await prom?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("retries a remote read whose streamed body was cut off, and returns every sample", async () => {
        const proxy = await truncatingProxy(prom.url);
        try {
            const out = path.join(dir, "cut.json");
            const retries: string[] = [];
            const m = await harvest({
                endpoint: proxy.url, queries: ["harvest_gauge"], start: T0, end: T_END, output: out, format: "json", mode: "raw",
                backoffMs: 20, onEvent: (e) => e.type === "retry" && retries.push(e.error),
            });
            assert.equal(m.queries[0].status, "ok", m.queries[0].error);
            assert.equal(m.queries[0].mode, "raw-remote-read");
            assert.ok(proxy.reads() >= 2, "the cut read was not repeated");
            assert.match(retries[0], /remote read response interrupted/);
            const got = fromHarvestJson(JSON.parse(fs.readFileSync(out, "utf8")));
            sameSamples(got.get("harvest_gauge")!, await directRaw(prom.url, "harvest_gauge", T0, T_END), "after the retry");
        } finally {
            await proxy.close();
        }
    });
});
