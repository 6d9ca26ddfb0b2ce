/**
 * The HTTP client: node:http/https with a keep-alive agent (the global fetch is several times slower for bulk
 * bodies), POST form encoding (proxies limit URL length), per-request timeouts, a response size cap, and retries
 * with exponential backoff on connection errors, 5xx, 429 and Prometheus' "context deadline exceeded" 422s —
 * never on 400 bad_data or other client errors. The large JSON answers (postFormParsed: query_range and query)
 * go through the bulk transport of harvester/http1.ts instead, which reads them into reused memory.
 */
import type * as http from "node:http";
import type * as Https from "node:https";
import { BodyTooLargeError, ConnectionError, HttpError } from "./http-errors";
import { type BodySink, BulkTransport } from "./http1";

export { BodyTooLargeError, ConnectionError, HttpError };

export interface TlsSettings {
    /** PEM CA bundle to trust in addition to… nothing: when set, only this CA is trusted. */
    ca?: string | Buffer;
    /** PEM client certificate and key (mutual TLS, e.g. a kubeconfig user). */
    cert?: string | Buffer;
    key?: string | Buffer;
    /** Skip server certificate verification. */
    insecureSkipVerify?: boolean;
}

export interface Endpoint {
    /** Base URL of the Prometheus API, including any path prefix (e.g. http://host:9090/prometheus). */
    url: string;
    /** Headers sent with every request (tenant, authorization, custom). */
    headers?: Record<string, string>;
    tls?: TlsSettings;
}

export interface ClientSettings {
    /** Per-request timeout in ms. Defaults to 60 s. */
    timeoutMs?: number;
    /** Retries after the first attempt. Defaults to 3. */
    retries?: number;
    /** First backoff delay in ms, doubled per retry (with jitter), capped at 10 s. Defaults to 250 ms. */
    backoffMs?: number;
    /** Largest response body accepted before the request is aborted. Defaults to 64 MiB. */
    maxBodyBytes?: number;
    /** Parallel connections to keep. Defaults to 8. */
    maxSockets?: number;
}

/** Counts what happened to one logical request (across its retries). */
export interface RequestStats {
    requests: number;
    retries: number;
    bytes: number;
}

/** Whether an error is worth retrying: transient transport or server trouble, never a bad request. */
export function isRetryable(err: unknown): boolean {
    if (err instanceof ConnectionError) {
        return true;
    }
    if (err instanceof HttpError) {
        if (err.status >= 500 || err.status === 429) {
            return true;
        }
        return err.status === 422 && /context deadline exceeded/i.test(err.serverError);
    }
    return false;
}

/** Delay before retry number `attempt` (0-based). Honors Retry-After when the server sent one. */
export function backoffDelay(attempt: number, baseMs: number, err: unknown, random: () => number = Math.random): number {
    if (err instanceof HttpError && err.retryAfterMs !== undefined) {
        return Math.min(err.retryAfterMs, 30_000);
    }
    const exp = Math.min(baseMs * 2 ** attempt, 10_000);
    return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Extracts Prometheus' {status:"error", errorType, error} from a body, or a short text excerpt. */
export function parseErrorBody(body: Buffer, contentType: string | undefined): { errorType?: string; error: string } {
    const text = body.toString("utf8", 0, Math.min(body.length, 4096)).trim();
    if ((contentType ?? "").includes("json") || text.startsWith("{")) {
        try {
            const j = JSON.parse(body.toString("utf8")) as { errorType?: unknown; error?: unknown };
            if (typeof j.error === "string") {
                return { errorType: typeof j.errorType === "string" ? j.errorType : undefined, error: j.error };
            }
        } catch {
            // not JSON after all
        }
    }
    return { error: text.length > 0 ? text.slice(0, 500) : "(empty body)" };
}

export interface RawResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

export class HttpClient {
    readonly base: URL;
    private node: { mod: typeof http | typeof Https; agent: http.Agent } | undefined;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly backoffMs: number;
    readonly maxBodyBytes: number;
    private readonly headers: Record<string, string>;
    private readonly maxSockets: number;

    constructor(readonly endpoint: Endpoint, settings: ClientSettings = {}) {
        let base: URL;
        try {
            base = new URL(endpoint.url);
        } catch {
            throw new Error(`invalid URL "${endpoint.url}"`);
        }
        if (base.protocol !== "http:" && base.protocol !== "https:") {
            throw new Error(`unsupported URL scheme "${base.protocol}" in "${endpoint.url}" (use http or https)`);
        }
        this.base = base;
        this.timeoutMs = settings.timeoutMs ?? 60_000;
        this.retries = settings.retries ?? 3;
        this.backoffMs = settings.backoffMs ?? 250;
        this.maxBodyBytes = settings.maxBodyBytes ?? 64 * 1024 * 1024;
        this.headers = { ...(endpoint.headers ?? {}) };
        this.maxSockets = settings.maxSockets ?? 8;
    }

    /**
     * node:http(s) and its keep-alive agent, for postStream only; loaded on first use (node:https brings node:tls and
     * node:crypto: milliseconds of start-up a harvest over the bulk transport does not need).
     */
    private nodeHttp(): { mod: typeof http | typeof Https; agent: http.Agent } {
        if (this.node === undefined) {
            const maxSockets = this.maxSockets;
            if (this.base.protocol === "https:") {
                const tls = this.endpoint.tls ?? {};
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const https = require("node:https") as typeof Https;
                this.node = {
                    mod: https,
                    agent: new https.Agent({
                        keepAlive: true, maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecureSkipVerify,
                    }),
                };
            } else {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const mod = require("node:http") as typeof http;
                this.node = { mod, agent: new mod.Agent({ keepAlive: true, maxSockets }) };
            }
        }
        return this.node;
    }

    /** URL of an API path below the base (keeps the base's path prefix). */
    urlFor(path: string): URL {
        const u = new URL(this.base.toString());
        u.pathname = `${u.pathname.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
        return u;
    }

    close(): void {
        this.node?.agent.destroy();
        this.bulkTransport?.close();
    }

    /** Starts one request; resolves with the response once its headers arrived. */
    private start(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>,
        search?: URLSearchParams): Promise<{ res: http.IncomingMessage; req: http.ClientRequest; done: () => void }> {
        const url = this.urlFor(path);
        if (search !== undefined) {
            url.search = search.toString();
        }
        return new Promise((resolve, reject) => {
            const allHeaders: Record<string, string> = { ...this.headers, ...headers };
            if (body !== undefined) {
                allHeaders["Content-Length"] = String(body.length);
            }
            const { mod, agent } = this.nodeHttp();
            const req = mod.request(url, { method, agent, headers: allHeaders });
            const timer = setTimeout(() => {
                req.destroy(new ConnectionError(`request to ${url.origin}${url.pathname} timed out after ${this.timeoutMs} ms`, "ETIMEDOUT"));
            }, this.timeoutMs);
            const done = (): void => clearTimeout(timer);
            req.on("error", (err: NodeJS.ErrnoException) => {
                done();
                reject(err instanceof ConnectionError ? err
                    : new ConnectionError(`cannot reach ${url.origin}${url.pathname}: ${err.message}`, err.code));
            });
            req.on("response", (res) => resolve({ res, req, done }));
            req.end(body);
        });
    }

    /** Bodies parsed in place and given back (postFormParsed): reused instead of a fresh allocation per response. */
    private readonly spareBodies: Buffer[] = [];

    /** The bulk transport (harvester/http1.ts) postFormParsed reads its answers with. */
    private bulkTransport: BulkTransport | undefined;

    private bulk(): BulkTransport {
        this.bulkTransport ??= new BulkTransport(this.base, this.endpoint.tls, this.maxSockets);
        return this.bulkTransport;
    }

    /** One attempt through the bulk transport: the whole body in a recycled buffer, HttpError on non-2xx. */
    private async onceBulk(path: string, body: Buffer, headers: Record<string, string>, stats: RequestStats,
        parse: (body: Buffer) => unknown): Promise<unknown> {
        stats.requests++;
        const url = this.urlFor(path);
        const res = await this.bulk().request({
            method: "POST", target: `${url.pathname}${url.search}`, headers: { ...this.headers, ...headers }, body,
            timeoutMs: this.timeoutMs, maxBodyBytes: this.maxBodyBytes, spare: this.spareBodies.pop(),
        }, `${url.origin}${url.pathname}`);
        try {
            stats.bytes += res.bodyBytes;
            if (res.status < 200 || res.status >= 300) {
                const e = parseErrorBody(res.body, res.headers["content-type"]);
                const ra = Number(res.headers["retry-after"]);
                throw new HttpError(res.status, e.errorType, e.error, Number.isFinite(ra) ? ra * 1000 : undefined);
            }
            return parse(res.body);
        } finally {
            if (this.spareBodies.length < 8) {
                this.spareBodies.push(res.buffer);
            }
        }
    }

    /** One attempt through the bulk transport: full body (its own memory, the caller keeps it), HttpError on non-2xx. */
    private async once(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>,
        stats: RequestStats, search?: URLSearchParams): Promise<RawResponse> {
        stats.requests++;
        const url = this.urlFor(path);
        if (search !== undefined) {
            url.search = search.toString();
        }
        const res = await this.bulk().request({
            method, target: `${url.pathname}${url.search}`, headers: { ...this.headers, ...headers }, body: body ?? Buffer.alloc(0),
            timeoutMs: this.timeoutMs, maxBodyBytes: this.maxBodyBytes,
        }, `${url.origin}${url.pathname}`);
        stats.bytes += res.bodyBytes;
        if (res.status < 200 || res.status >= 300) {
            const e = parseErrorBody(res.body, res.headers["content-type"]);
            const ra = Number(res.headers["retry-after"]);
            throw new HttpError(res.status, e.errorType, e.error, Number.isFinite(ra) ? ra * 1000 : undefined);
        }
        return { status: res.status, headers: res.headers, body: res.body };
    }

    /** Runs `attempt` with retries; `onRetry` sees each error that will be retried. */
    async withRetries<T>(attempt: () => Promise<T>, stats: RequestStats, onRetry?: (err: unknown, delayMs: number) => void): Promise<T> {
        for (let n = 0; ; n++) {
            try {
                return await attempt();
            } catch (err) {
                if (n >= this.retries || !isRetryable(err)) {
                    throw err;
                }
                const delay = backoffDelay(n, this.backoffMs, err);
                stats.retries++;
                onRetry?.(err, delay);
                await sleep(delay);
            }
        }
    }

    /** POST application/x-www-form-urlencoded with retries; resolves with the 2xx body. */
    postForm(path: string, params: Record<string, string>, stats: RequestStats,
        onRetry?: (err: unknown, delayMs: number) => void): Promise<RawResponse> {
        const body = Buffer.from(new URLSearchParams(params).toString());
        const headers = { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" };
        return this.withRetries(() => this.once("POST", path, body, headers, stats), stats, onRetry);
    }

    /**
     * postForm whose body is turned into a value inside the retry loop (`parse` may throw retryable errors). The
     * body is only valid during `parse` (its memory is reused for later responses).
     */
    postFormParsed<T>(path: string, params: Record<string, string>, stats: RequestStats,
        onRetry: ((err: unknown, delayMs: number) => void) | undefined, parse: (body: Buffer) => T): Promise<T> {
        const body = Buffer.from(new URLSearchParams(params).toString());
        const headers = { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" };
        return this.withRetries(() => this.onceBulk(path, body, headers, stats, parse) as Promise<T>, stats, onRetry);
    }

    /** GET with query parameters and retries. */
    get(path: string, params: URLSearchParams, stats: RequestStats): Promise<RawResponse> {
        return this.withRetries(() => this.once("GET", path, undefined, { Accept: "application/json" }, stats, params), stats);
    }

    /**
     * POST a binary body through the bulk transport, without retries (the caller retries around its whole read).
     * `onHead` sees a 2xx answer's head and may return a sink that receives the body as it arrives (each piece
     * valid only during the call; what the sink throws fails the call unchanged); otherwise the body is gathered.
     * Non-2xx answers are read and thrown as HttpError. Body bytes are the caller's to count (as they arrive).
     */
    async postBinary(path: string, body: Buffer, headers: Record<string, string>, stats: RequestStats,
        onHead: (headers: Record<string, string>) => BodySink | undefined): Promise<{ headers: Record<string, string>; body: Buffer }> {
        stats.requests++;
        const url = this.urlFor(path);
        const res = await this.bulk().request({
            method: "POST", target: `${url.pathname}${url.search}`, headers: { ...this.headers, ...headers }, body,
            timeoutMs: this.timeoutMs, maxBodyBytes: Number.MAX_SAFE_INTEGER,
            onHead: (status, h) => (status >= 200 && status < 300 ? onHead(h) : undefined),
        }, `${url.origin}${url.pathname}`);
        if (res.status < 200 || res.status >= 300) {
            const e = parseErrorBody(res.body, res.headers["content-type"]);
            throw new HttpError(res.status, e.errorType, e.error);
        }
        return { headers: res.headers, body: res.body };
    }

    /**
     * POST a binary body and hand back the streaming response (2xx only; non-2xx bodies are read and thrown as
     * HttpError). No retries here: the caller retries around its whole read.
     */
    async postStream(path: string, body: Buffer, headers: Record<string, string>, stats: RequestStats): Promise<{ res: http.IncomingMessage; finish: () => void }> {
        stats.requests++;
        const { res, done } = await this.start("POST", path, body, headers);
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
            const chunks: Buffer[] = [];
            try {
                for await (const c of res) {
                    chunks.push(c as Buffer);
                }
            } finally {
                done();
            }
            const e = parseErrorBody(Buffer.concat(chunks), res.headers["content-type"]);
            throw new HttpError(status, e.errorType, e.error);
        }
        return { res, finish: done };
    }
}

/** Everything a client is built from: plain data, so a worker thread can build its own. */
export interface ClientOptions {
    endpoint: Endpoint | string;
    /** Sent as X-Scope-OrgID (Mimir, Cortex). */
    tenant?: string;
    timeoutMs?: number;
    retries?: number;
    backoffMs?: number;
    maxBodyBytes?: number;
    /** Requests in flight at once through this client. */
    concurrency?: number;
}

/** Builds the client for an endpoint, adding the tenant header. Throws on an unusable URL. */
export function makeHttpClient(o: ClientOptions): HttpClient {
    const ep: Endpoint = typeof o.endpoint === "string" ? { url: o.endpoint } : o.endpoint;
    const headers = { ...(ep.headers ?? {}) };
    if (o.tenant !== undefined) {
        headers["X-Scope-OrgID"] = o.tenant;
    }
    return new HttpClient({ ...ep, headers }, {
        timeoutMs: o.timeoutMs, retries: o.retries, backoffMs: o.backoffMs, maxBodyBytes: o.maxBodyBytes,
        maxSockets: (o.concurrency ?? 4) + 2,
    });
}

/** The options with TLS material as strings (Buffers do not survive being posted to a worker as Buffers). */
export function portableClientOptions(o: ClientOptions): ClientOptions {
    if (typeof o.endpoint === "string" || o.endpoint.tls === undefined) {
        return { ...o };
    }
    const t = o.endpoint.tls;
    const str = (v: string | Buffer | undefined): string | undefined => (v === undefined ? undefined : v.toString());
    return { ...o, endpoint: { ...o.endpoint, tls: { ...t, ca: str(t.ca), cert: str(t.cert), key: str(t.key) } } };
}
