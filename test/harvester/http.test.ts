import { strict as assert } from "node:assert";
import * as http from "node:http";
import type * as net from "node:net";
import { BodyTooLargeError, ConnectionError, HttpClient, HttpError, backoffDelay, isRetryable } from "../../harvester/http";

describe("harvester/http", () => {
    it("retries transient failures only", () => {
        assert.equal(isRetryable(new ConnectionError("x", "ECONNRESET")), true);
        assert.equal(isRetryable(new HttpError(500, "internal", "x")), true);
        assert.equal(isRetryable(new HttpError(503, "timeout", "x")), true);
        assert.equal(isRetryable(new HttpError(429, undefined, "slow down")), true);
        assert.equal(isRetryable(new HttpError(422, "execution", "query timed out: context deadline exceeded")), true);
        assert.equal(isRetryable(new HttpError(422, "execution", "query processing would load too many samples into memory")), false);
        assert.equal(isRetryable(new HttpError(400, "bad_data", "parse error")), false);
        assert.equal(isRetryable(new HttpError(401, undefined, "no org id")), false);
        assert.equal(backoffDelay(0, 100, new HttpError(429, undefined, "", 2000)), 2000);
        const d = backoffDelay(3, 100, new Error("x"), () => 0.5);
        assert.equal(d, 800);
        assert.equal(backoffDelay(20, 100, new Error("x"), () => 0.5), 10_000);
    });

    describe("against a scripted server", () => {
        let server: http.Server;
        let url: string;
        let script: ((req: http.IncomingMessage, res: http.ServerResponse, body: string) => void)[] = [];
        const seen: { body: string; type?: string; tenant?: string }[] = [];
        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", (c: Buffer) => { body += c.toString(); });
                req.on("end", () => {
                    seen.push({ body, type: req.headers["content-type"], tenant: req.headers["x-scope-orgid"] as string | undefined });
                    (script.shift() ?? ((_q, r) => r.end("{}")))(req, res, body);
                });
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/prefix`;
        });
        after(() => new Promise<void>((r) => server.close(() => r())));
        beforeEach(() => {
            seen.length = 0;
        });

        it("POSTs form-encoded bodies under the base path, with headers, and retries 429/422-deadline", async () => {
            const paths: string[] = [];
            script = [
                (q, r) => { paths.push(q.url!); r.writeHead(429, { "Retry-After": "0" }); r.end("slow"); },
                (q, r) => { paths.push(q.url!); r.writeHead(422, { "Content-Type": "application/json" }); r.end(JSON.stringify({ status: "error", errorType: "execution", error: "context deadline exceeded" })); },
                (q, r) => { paths.push(q.url!); r.end("{\"status\":\"success\"}"); },
            ];
            const c = new HttpClient({ url, headers: { "X-Scope-OrgID": "t" } }, { backoffMs: 1 });
            const stats = { requests: 0, retries: 0, bytes: 0 };
            const res = await c.postForm("api/v1/query_range", { query: "sum(rate(x{a=\"b c\"}[5m]))", step: "15" }, stats);
            c.close();
            assert.equal(res.body.toString(), "{\"status\":\"success\"}");
            assert.deepEqual(paths, ["/prefix/api/v1/query_range", "/prefix/api/v1/query_range", "/prefix/api/v1/query_range"]);
            assert.deepEqual([stats.requests, stats.retries], [3, 2]);
            assert.equal(new URLSearchParams(seen[0].body).get("query"), "sum(rate(x{a=\"b c\"}[5m]))");
            assert.equal(seen[0].type, "application/x-www-form-urlencoded");
            assert.equal(seen[0].tenant, "t");
        });

        it("does not retry 400 and passes the server's error text through", async () => {
            script = [(_q, r) => { r.writeHead(400, { "Content-Type": "application/json" }); r.end(JSON.stringify({ status: "error", errorType: "bad_data", error: "1:5: parse error: unclosed left parenthesis" })); }];
            const c = new HttpClient({ url }, { backoffMs: 1 });
            const stats = { requests: 0, retries: 0, bytes: 0 };
            await assert.rejects(c.postForm("api/v1/query", { query: "sum(" }, stats), (e: unknown) => e instanceof HttpError && e.message === "HTTP 400 bad_data: 1:5: parse error: unclosed left parenthesis");
            c.close();
            assert.equal(stats.requests, 1);
        });

        it("gives up after the configured retries and caps response size", async () => {
            script = [0, 1, 2].map(() => (_q: http.IncomingMessage, r: http.ServerResponse) => { r.writeHead(502); r.end("bad gateway"); });
            const c = new HttpClient({ url }, { backoffMs: 1, retries: 2, maxBodyBytes: 1000 });
            const stats = { requests: 0, retries: 0, bytes: 0 };
            await assert.rejects(c.postForm("x", {}, stats), /HTTP 502: bad gateway/);
            assert.equal(stats.requests, 3);
            script = [(_q, r) => r.end("x".repeat(5000))];
            await assert.rejects(c.postForm("x", {}, stats), (e: unknown) => e instanceof BodyTooLargeError);
            c.close();
        });

        it("times out slow requests as connection errors", async () => {
            script = [(_q, r) => setTimeout(() => r.end("late"), 500)];
            const c = new HttpClient({ url }, { timeoutMs: 50, retries: 0 });
            await assert.rejects(c.postForm("x", {}, { requests: 0, retries: 0, bytes: 0 }), (e: unknown) => e instanceof ConnectionError && /timed out after 50 ms/.test(e.message));
            c.close();
        });
    });
});
