import { strict as assert } from "node:assert";
import * as http from "node:http";
import * as net from "node:net";
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

    describe("the bulk transport (postFormParsed) against a server scripted byte by byte", () => {
        let server: net.Server;
        let url: string;
        /** Per accepted connection, the answers to write for its requests (each a list of pieces sent apart). */
        let answers: (string | ((s: net.Socket) => void))[][][] = [];
        let connections = 0;
        before(async () => {
            server = net.createServer((sock) => {
                const script = answers[connections++] ?? [];
                let pending = "";
                sock.on("data", (d: Buffer) => {
                    pending += d.toString("latin1");
                    // One answer per complete request (a small form body after the blank line).
                    for (;;) {
                        const end = pending.indexOf("\r\n\r\n");
                        const len = /content-length: (\d+)/i.exec(pending);
                        if (end < 0 || len === null || pending.length < end + 4 + Number(len[1])) {
                            return;
                        }
                        pending = pending.slice(end + 4 + Number(len[1]));
                        const pieces = script.shift() ?? [];
                        let delay = 0;
                        for (const p of pieces) {
                            setTimeout(() => (typeof p === "string" ? sock.write(p) : p(sock)), delay);
                            delay += 5;
                        }
                    }
                });
                sock.on("error", () => undefined);
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
        });
        after(() => new Promise<void>((r) => server.close(() => r())));
        beforeEach(() => {
            connections = 0;
        });
        const fetchText = (c: HttpClient, stats = { requests: 0, retries: 0, bytes: 0 }): Promise<string> =>
            c.postFormParsed("api/v1/query", { query: "up" }, stats, undefined, (b) => b.toString("utf8"));

        it("reads chunked bodies whose chunk sizes, data and line ends straddle reads, with extensions and trailers", async () => {
            answers = [[[
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r",
                "\n\r\n5;ext=1\r\n{\"a\":",
                "\r\n", "1", "0\r\n\"xxxxxxxxxxxxxx\"\r", "\n0\r\nX-Trailer: t\r\n\r\n",
            ], [
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", "cd",
            ], [
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            ]]];
            const c = new HttpClient({ url }, { retries: 0 });
            const stats = { requests: 0, retries: 0, bytes: 0 };
            assert.equal(await fetchText(c, stats), "{\"a\":\"xxxxxxxxxxxxxx\"");
            assert.equal(await fetchText(c, stats), "abcd");
            assert.equal(await fetchText(c, stats), "");
            c.close();
            assert.deepEqual([connections, stats.requests, stats.bytes], [1, 3, 25]);
        });

        it("reads a close-delimited body, and opens a new connection for the next request", async () => {
            answers = [[["HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall ", "of it", (s) => s.end()]], [["HTTP/1.0 200 OK\r\n\r\nten", (s) => s.end()]]];
            const c = new HttpClient({ url }, { retries: 0 });
            assert.equal(await fetchText(c), "all of it");
            assert.equal(await fetchText(c), "ten");
            c.close();
            assert.equal(connections, 2);
        });

        it("a kept-alive connection the server closed without answering is a retryable \"socket hang up\"", async () => {
            answers = [[["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"], [(s) => s.destroy()]], [["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain"]]];
            const c = new HttpClient({ url }, { retries: 1, backoffMs: 1 });
            const stats = { requests: 0, retries: 0, bytes: 0 };
            const seen: string[] = [];
            assert.equal(await fetchText(c, stats), "ok");
            assert.equal(await c.postFormParsed("api/v1/query", { query: "up" }, stats, (e) => seen.push((e as Error).message), (b) => b.toString()), "again");
            c.close();
            assert.deepEqual([connections, stats.requests, stats.retries], [2, 3, 1]);
            assert.deepEqual(seen, [`cannot reach ${url}/api/v1/query: socket hang up`]);
        });

        it("a body cut short is a retryable connection error; an answer over the size cap is BodyTooLargeError", async () => {
            answers = [[["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", (s) => s.end()]],
                [["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", (s) => s.destroy()]],
                [["HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"]],
                [["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + "y".repeat(2048) + "\r\n"]]];
            const c = new HttpClient({ url }, { retries: 0, maxBodyBytes: 1000 });
            for (let i = 0; i < 2; i++) {
                await assert.rejects(fetchText(c), (e: unknown) => e instanceof ConnectionError && isRetryable(e) && /aborted by the server/.test(e.message));
            }
            await assert.rejects(fetchText(c), (e: unknown) => e instanceof BodyTooLargeError);
            await assert.rejects(fetchText(c), (e: unknown) => e instanceof BodyTooLargeError);
            c.close();
        });

        it("a refused connection says where; a silent server times out; error answers carry the server's text", async () => {
            const closed = net.createServer();
            await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
            const port = (closed.address() as net.AddressInfo).port;
            await new Promise<void>((r) => closed.close(() => r()));
            const refused = new HttpClient({ url: `http://127.0.0.1:${port}/p` }, { retries: 0 });
            await assert.rejects(fetchText(refused), (e: unknown) => e instanceof ConnectionError && e.code === "ECONNREFUSED"
                && e.message.startsWith(`cannot reach http://127.0.0.1:${port}/p/api/v1/query: `));
            refused.close();
            const err = JSON.stringify({ status: "error", errorType: "execution", error: "too many samples" });
            answers = [[[]], [[`HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: application/json\r\nContent-Length: ${err.length}\r\n\r\n`, err]]];
            const c = new HttpClient({ url }, { retries: 0, timeoutMs: 100 });
            await assert.rejects(fetchText(c), (e: unknown) => e instanceof ConnectionError && /timed out after 100 ms/.test(e.message));
            await assert.rejects(fetchText(c), (e: unknown) => e instanceof HttpError && e.message === "HTTP 422 execution: too many samples");
            c.close();
        });
    });
});
