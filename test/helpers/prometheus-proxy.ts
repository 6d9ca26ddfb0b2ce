/**
 * Small proxies that sit in front of a test Prometheus: require a tenant header (as Mimir does), inject faults
 * (5xx, dropped connections, delays, bodies cut mid-stream or cut short with a clean close) by request number, rewrite paths (e.g. the Kubernetes API server's service
 * proxy shape), optionally over HTTPS with client-certificate or bearer-token checks. Loopback, free port.
 */
import * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";

export type FaultAction =
    | { status: number; body?: string; headers?: Record<string, string> }
    | { destroy: true }
    | { delayMs: number }
    /**
     * Forward, but pass only the first `afterBytes` bytes of the upstream body, then either cut the connection
     * (`clean: false`: the client sees the body aborted) or end the response properly (`clean: true`: a complete
     * chunked response whose content is cut short).
     */
    | { truncate: { afterBytes: number; clean: boolean } };

export interface RecordedRequest {
    n: number;
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

export interface ProxyOptions {
    /** Upstream base URL (e.g. a TestPrometheus' origin); a function so a restarted server can move. */
    target: () => string;
    /** Reject requests lacking this header with 401 "no org id" (Mimir's behaviour). */
    requireHeader?: string;
    /** Decide per request (1-based count of all requests) whether to interfere. */
    fault?: (req: RecordedRequest) => FaultAction | undefined;
    /** Map the incoming path+query to the upstream one; undefined → 404. Defaults to identity. */
    rewrite?: (url: string) => string | undefined;
    /** Serve HTTPS with this key/cert; with `ca` and requestCert, client certificates are verified. */
    tls?: { key: string; cert: string; ca?: string; requestCert?: boolean };
    /** Accept only requests presenting this bearer token or a verified client certificate. */
    requireAuth?: { bearerToken?: string; clientCert?: boolean };
}

export interface TestProxy {
    url: string;
    requests: RecordedRequest[];
    close(): Promise<void>;
}

export async function startProxy(opts: ProxyOptions): Promise<TestProxy> {
    const requests: RecordedRequest[] = [];
    const sockets = new Set<net.Socket>();
    const agent = new http.Agent({ keepAlive: true });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const rec: RecordedRequest = {
                n: requests.length + 1, method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers,
                body: Buffer.concat(chunks),
            };
            requests.push(rec);
            if (opts.requireAuth !== undefined) {
                const tok = opts.requireAuth.bearerToken;
                const certOk = opts.requireAuth.clientCert === true
                    && (req.socket as unknown as { authorized?: boolean }).authorized === true;
                const tokOk = tok !== undefined && req.headers.authorization === `Bearer ${tok}`;
                if (!certOk && !tokOk) {
                    res.writeHead(401, { "Content-Type": "application/json" });
                    res.end(JSON.stringify({ kind: "Status", status: "Failure", message: "Unauthorized", code: 401 }));
                    return;
                }
            }
            if (opts.requireHeader !== undefined && req.headers[opts.requireHeader.toLowerCase()] === undefined) {
                res.writeHead(401, { "Content-Type": "text/plain" });
                res.end("no org id\n");
                return;
            }
            const forward = (truncate?: { afterBytes: number; clean: boolean }): void => {
                const upstreamPath = (opts.rewrite ?? ((u: string) => u))(rec.url);
                if (upstreamPath === undefined) {
                    res.writeHead(404, { "Content-Type": "text/plain" });
                    res.end("404 page not found\n");
                    return;
                }
                const headers = { ...req.headers };
                delete headers.host;
                delete headers.authorization;
                const up = http.request(`${opts.target()}${upstreamPath}`, { method: rec.method, headers, agent }, (ur) => {
                    if (truncate === undefined) {
                        res.writeHead(ur.statusCode ?? 502, ur.headers);
                        ur.pipe(res);
                        return;
                    }
                    const h = { ...ur.headers };
                    delete h["content-length"];
                    delete h["transfer-encoding"];
                    res.writeHead(ur.statusCode ?? 502, h);
                    let sent = 0;
                    ur.on("data", (c: Buffer) => {
                        if (sent >= truncate.afterBytes) {
                            return;
                        }
                        const piece = c.subarray(0, truncate.afterBytes - sent);
                        sent += piece.length;
                        if (sent < truncate.afterBytes) {
                            res.write(piece);
                            return;
                        }
                        ur.destroy();
                        if (truncate.clean) {
                            res.end(piece);
                        } else {
                            res.write(piece, () => req.socket.destroy());
                        }
                    });
                    ur.on("end", () => {
                        if (sent < truncate.afterBytes) {
                            res.end();
                        }
                    });
                });
                up.on("error", () => {
                    if (!res.headersSent) {
                        res.writeHead(502, { "Content-Type": "text/plain" });
                    }
                    res.end("upstream unavailable\n");
                });
                up.end(rec.body);
            };
            const action = opts.fault?.(rec);
            if (action === undefined) {
                forward();
            } else if ("destroy" in action) {
                req.socket.destroy();
            } else if ("delayMs" in action) {
                setTimeout(() => forward(), action.delayMs);
            } else if ("truncate" in action) {
                forward(action.truncate);
            } else {
                res.writeHead(action.status, { "Content-Type": "application/json", ...(action.headers ?? {}) });
                res.end(action.body ?? JSON.stringify({ status: "error", errorType: "internal", error: `injected ${action.status}` }));
            }
        });
    };
    const server: http.Server | https.Server = opts.tls !== undefined
        ? https.createServer({
            key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: opts.tls.requestCert ?? false,
            rejectUnauthorized: false,
        }, handler)
        : http.createServer(handler);
    server.on("connection", (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        url: `${opts.tls !== undefined ? "https" : "http"}://127.0.0.1:${port}`,
        requests,
        close: () => new Promise<void>((resolve) => {
            for (const s of sockets) {
                s.destroy();
            }
            agent.destroy();
            server.close(() => resolve());
        }),
    };
}
