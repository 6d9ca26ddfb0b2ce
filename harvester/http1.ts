/**
 * The bulk transport: a small HTTP/1.1 client over keep-alive node:net / node:tls sockets for the requests whose
 * answers are large (query_range and query bodies, up to tens of MB each). node:http allocates a fresh buffer for
 * every 64 KiB read and copies each body piece once more into a new Buffer, and the kernel zeroes new pages for
 * all of it: moving a harvest's 94 MB of JSON cost about three times the CPU of reading it into one reused buffer.
 * Here every connection reads into one static buffer (the `onread` socket option) and the body is gathered into a
 * buffer the caller recycles.
 *
 * What it speaks: one request at a time per connection; Content-Length, chunked and close-delimited bodies (1xx
 * answers skipped); keep-alive unless the server says otherwise. Errors are the client's own (ConnectionError with the same texts as the node:http path,
 * BodyTooLargeError), so retries and messages do not depend on the transport.
 */
import * as net from "node:net";
import type * as Tls from "node:tls";
import type { TlsSettings } from "./http";
import { BodyTooLargeError, ConnectionError } from "./http-errors";

/** Bytes one socket read may bring (the connection's static read buffer). */
const READ_BUFFER_BYTES = 256 * 1024;
/** Largest response head accepted (status line and headers). */
const MAX_HEAD_BYTES = 64 * 1024;

export interface BulkResponse {
    status: number;
    /** Header names in lower case; repeated headers joined with ", ". */
    headers: Record<string, string>;
    /** The body: a view of `buffer`, valid until the caller hands `buffer` back (empty when a sink took it). */
    body: Buffer;
    /** Body bytes received (gathered or sunk). */
    bodyBytes: number;
    /** The memory holding the body, for the caller to recycle. */
    buffer: Buffer;
}

export interface BulkRequest {
    method: string;
    /** Path and query of the request target. */
    target: string;
    /** Request headers (Host, Content-Length and Connection are added). */
    headers: Record<string, string>;
    body: Buffer;
    timeoutMs: number;
    maxBodyBytes: number;
    /** A buffer to gather the body into when large enough (grown otherwise). */
    spare?: Buffer;
    /**
     * Sees the head of the final answer; a sink it returns receives the body as it arrives instead of it being
     * gathered (pieces b[from, to) valid only during the call; what the sink throws fails the request as it is).
     */
    onHead?: (status: number, headers: Record<string, string>) => BodySink | undefined;
}

export type BodySink = (b: Buffer, from: number, to: number) => void;

/** An error thrown by a body sink, passed through unchanged. */
class SinkError extends Error {
    constructor(readonly cause: unknown) {
        super("body sink failed");
    }
}

const EMPTY = Buffer.alloc(0);

const enum State { Head, Fixed, ChunkSize, ChunkData, ChunkEnd, Trailer, UntilClose, Done }

/** One response being read off a connection. */
class ResponseReader {
    state = State.Head;
    private head = Buffer.allocUnsafe(0);
    private headLen = 0;
    status = 0;
    headers: Record<string, string> = {};
    keepAlive = true;
    body: Buffer;
    len = 0;
    /** Bytes left of a Content-Length body or of the current chunk. */
    private left = 0;
    /** The chunk-size line read so far (hex digits, then ignored extensions). */
    private sizeDigits = 0;
    private sizeValue = 0;
    private sizeExt = false;
    /** The trailer line's length so far (an empty line ends the trailers). */
    private lineLen = 0;
    /** Whether any byte of the answer arrived (errors before that read "cannot reach", after it "interrupted"). */
    started = false;

    private sink: BodySink | undefined;
    /** The size to gather into when the body's memory has to be allocated. */
    private expected = 64 * 1024;

    constructor(private readonly maxBody: number, spare: Buffer | undefined,
        private readonly onHead?: (status: number, headers: Record<string, string>) => BodySink | undefined) {
        this.body = spare ?? EMPTY;
    }

    /** Consumes bytes [0, n) of `b`; throws on a malformed answer or an oversized body. */
    feed(b: Buffer, n: number): void {
        this.started = true;
        let i = 0;
        while (i < n && this.state !== State.Done) {
            switch (this.state) {
                case State.Head:
                    i = this.readHead(b, i, n);
                    break;
                case State.Fixed: {
                    const k = Math.min(this.left, n - i);
                    this.append(b, i, i + k);
                    i += k;
                    this.left -= k;
                    if (this.left === 0) {
                        this.state = State.Done;
                    }
                    break;
                }
                case State.UntilClose:
                    this.append(b, i, n);
                    i = n;
                    break;
                case State.ChunkSize:
                    i = this.readChunkSize(b, i, n);
                    break;
                case State.ChunkData: {
                    const k = Math.min(this.left, n - i);
                    this.append(b, i, i + k);
                    i += k;
                    this.left -= k;
                    if (this.left === 0) {
                        this.state = State.ChunkEnd;
                        this.lineLen = 0;
                    }
                    break;
                }
                case State.ChunkEnd: {
                    // CRLF after a chunk's data.
                    const c = b[i++];
                    if (c === 0x0a) {
                        this.state = State.ChunkSize;
                        this.sizeDigits = 0;
                        this.sizeValue = 0;
                        this.sizeExt = false;
                    } else if (c !== 0x0d || this.lineLen++ > 0) {
                        throw new Error("malformed chunked encoding (no line end after a chunk)");
                    }
                    break;
                }
                case State.Trailer: {
                    const c = b[i++];
                    if (c === 0x0a) {
                        if (this.lineLen === 0) {
                            this.state = State.Done;
                        }
                        this.lineLen = 0;
                    } else if (c !== 0x0d) {
                        this.lineLen++;
                    }
                    break;
                }
            }
        }
        if (i < n && this.state === State.Done) {
            // Bytes after the answer: the connection cannot be trusted for another request.
            this.keepAlive = false;
        }
    }

    /** The gathered body (empty when a sink received it). */
    gathered(): Buffer {
        return this.sink !== undefined ? this.body.subarray(0, 0) : this.body.subarray(0, this.len);
    }

    /** The server closed the connection: a close-delimited body ends here, any other unfinished answer is cut. */
    closed(): boolean {
        if (this.state === State.UntilClose) {
            this.state = State.Done;
            return true;
        }
        return this.state === State.Done;
    }

    private append(b: Buffer, from: number, to: number): void {
        const k = to - from;
        if (this.sink !== undefined) {
            this.len += k;
            try {
                this.sink(b, from, to);
            } catch (err) {
                throw new SinkError(err);
            }
            return;
        }
        if (this.len + k > this.maxBody) {
            throw new BodyTooLargeError(this.maxBody);
        }
        if (this.len + k > this.body.length) {
            // A Content-Length body gets its size at once; others grow from 64 KiB, doubling.
            const next = Buffer.allocUnsafeSlow(Math.max(this.body.length * 2, this.len + k, this.expected));
            this.body.copy(next, 0, 0, this.len);
            this.body = next;
        }
        b.copy(this.body, this.len, from, to);
        this.len += k;
    }

    private readHead(b: Buffer, from: number, n: number): number {
        const view = b.subarray(from, n);
        if (this.headLen === 0) {
            // Usually the whole head is in the first read: parse it in place.
            const end = view.indexOf("\r\n\r\n", 0, "latin1");
            if (end >= 0) {
                this.parseHead(view.toString("latin1", 0, end));
                return this.afterHead(from + end + 4);
            }
        }
        // The blank line may straddle reads: gather the head.
        const k = view.length;
        if (this.headLen + k > this.head.length) {
            const next = Buffer.allocUnsafe(Math.max(this.head.length * 2, this.headLen + k));
            this.head.copy(next, 0, 0, this.headLen);
            this.head = next;
        }
        const searchFrom = Math.max(0, this.headLen - 3);
        view.copy(this.head, this.headLen);
        this.headLen += k;
        const end = this.head.subarray(0, this.headLen).indexOf("\r\n\r\n", searchFrom, "latin1");
        if (end < 0) {
            if (this.headLen > MAX_HEAD_BYTES) {
                throw new Error("response head too large");
            }
            return n;
        }
        // Where the body starts in `b`: the gathered bytes past the blank line came from this read.
        const bodyStart = n - (this.headLen - (end + 4));
        this.parseHead(this.head.toString("latin1", 0, end));
        this.headLen = 0;
        return this.afterHead(bodyStart);
    }

    /** After a head: an interim answer (100 Continue, 103 Early Hints) is skipped, the real one follows. */
    private afterHead(at: number): number {
        if (this.status >= 100 && this.status < 200) {
            this.state = State.Head;
            this.headers = {};
        } else if (this.onHead !== undefined) {
            try {
                this.sink = this.onHead(this.status, this.headers);
            } catch (err) {
                throw new SinkError(err);
            }
        }
        return at;
    }

    private parseHead(text: string): void {
        const lines = text.split("\r\n");
        const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
        if (m === null) {
            throw new Error(`malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`);
        }
        this.status = Number(m[2]);
        const headers: Record<string, string> = {};
        for (let k = 1; k < lines.length; k++) {
            const line = lines[k];
            const colon = line.indexOf(":");
            if (colon <= 0) {
                throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
            }
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim();
            headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        this.headers = headers;
        if (this.status < 200) {
            return;
        }
        const connection = (headers.connection ?? "").toLowerCase();
        this.keepAlive = m[1] === "1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
        const te = (headers["transfer-encoding"] ?? "").toLowerCase();
        if (this.status === 204 || this.status === 304) {
            this.state = State.Done;
        } else if (te !== "") {
            if (!/(^|,)\s*chunked\s*$/.test(te)) {
                throw new Error(`unsupported transfer encoding "${te}"`);
            }
            this.state = State.ChunkSize;
        } else if (headers["content-length"] !== undefined) {
            // Repeated identical values (some proxies add one) are one length.
            const cl = [...new Set(headers["content-length"].split(",").map((x) => x.trim()))].join(",");
            if (!/^\d+$/.test(cl)) {
                throw new Error(`malformed Content-Length "${cl}"`);
            }
            this.left = Number(cl);
            this.expected = this.left;
            if (this.left > this.maxBody) {
                throw new BodyTooLargeError(this.maxBody);
            }
            this.state = this.left === 0 ? State.Done : State.Fixed;
        } else {
            this.state = State.UntilClose;
            this.keepAlive = false;
        }
    }

    private readChunkSize(b: Buffer, from: number, n: number): number {
        let i = from;
        while (i < n) {
            const c = b[i++];
            if (c === 0x0a) {
                if (this.sizeDigits === 0) {
                    throw new Error("malformed chunked encoding (empty chunk size)");
                }
                if (this.sizeValue === 0) {
                    this.state = State.Trailer;
                    this.lineLen = 0;
                } else {
                    this.left = this.sizeValue;
                    this.state = State.ChunkData;
                }
                return i;
            }
            if (this.sizeExt || c === 0x0d) {
                continue;
            }
            const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
            if (d >= 0 && this.sizeDigits < 12) {
                this.sizeValue = this.sizeValue * 16 + d;
                this.sizeDigits++;
            } else if ((c === 0x3b || c === 0x20 || c === 0x09) && this.sizeDigits > 0) {
                this.sizeExt = true;
            } else {
                throw new Error("malformed chunked encoding (bad chunk size)");
            }
        }
        return i;
    }
}

/** One keep-alive connection; `reader` is the answer being read, if any. */
interface Conn {
    socket: net.Socket;
    reader?: ResponseReader;
    /** Called on every event that may finish the current exchange. */
    wake?: (err?: Error) => void;
    dead: boolean;
}

export class BulkTransport {
    private readonly idle: Conn[] = [];
    private readonly all = new Set<Conn>();
    private readonly waiters: (() => void)[] = [];
    private readonly port: number;
    private readonly hostHeader: string;
    private closedDown = false;

    constructor(private readonly base: URL, private readonly tlsSettings: TlsSettings | undefined, private readonly maxSockets: number) {
        this.port = base.port !== "" ? Number(base.port) : base.protocol === "https:" ? 443 : 80;
        this.hostHeader = base.host;
    }

    close(): void {
        this.closedDown = true;
        for (const c of this.all) {
            c.dead = true;
            c.socket.destroy();
        }
        this.all.clear();
        this.idle.length = 0;
        // Requests waiting for a connection see the client closed.
        for (const wake of this.waiters.splice(0)) {
            wake();
        }
    }

    /** Sends one request and reads the whole answer (any status). Rejects with ConnectionError, BodyTooLargeError. */
    async request(r: BulkRequest, what: string): Promise<BulkResponse> {
        // A connection the server closed before answering (also a kept-alive one it had closed meanwhile) fails
        // like node:http's "socket hang up": the caller's retries decide, as before.
        const deadline = Date.now() + r.timeoutMs;
        const conn = await this.acquire(deadline, what, r.timeoutMs);
        return this.exchange(conn, r, deadline, what);
    }

    private async acquire(deadline: number, what: string, timeoutMs: number): Promise<Conn> {
        for (;;) {
            if (this.closedDown) {
                throw new ConnectionError(`cannot reach ${what}: the client was closed`, "ECONNABORTED");
            }
            const c = this.idle.pop();
            if (c !== undefined) {
                if (c.dead) {
                    continue;
                }
                c.socket.ref();
                return c;
            }
            if (this.all.size < this.maxSockets) {
                return this.connect(deadline, what, timeoutMs);
            }
            await new Promise<void>((resolve) => this.waiters.push(resolve));
        }
    }

    private connect(deadline: number, what: string, timeoutMs: number): Promise<Conn> {
        const host = this.base.hostname.replace(/^\[|\]$/g, "");
        const conn: Conn = { socket: undefined as unknown as net.Socket, dead: false };
        const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
        const onread = {
            buffer: readBuffer,
            callback: (n: number, b: Uint8Array): boolean => {
                this.onData(conn, b as Buffer, n);
                return true;
            },
        };
        const t = this.tlsSettings;
        const socket = this.base.protocol === "https:"
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            ? (require("node:tls") as typeof Tls).connect({
                host, port: this.port, servername: net.isIP(host) === 0 ? host : undefined, onread,
                ca: t?.ca, cert: t?.cert, key: t?.key, rejectUnauthorized: !(t?.insecureSkipVerify ?? false),
            } as Tls.ConnectionOptions)
            : net.connect({ host, port: this.port, onread });
        conn.socket = socket;
        socket.setNoDelay(true);
        this.all.add(conn);
        socket.on("error", (err) => this.fail(conn, err));
        socket.on("end", () => this.ended(conn));
        socket.on("close", () => this.ended(conn));
        return new Promise<Conn>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.drop(conn);
                reject(new ConnectionError(`request to ${what} timed out after ${timeoutMs} ms`, "ETIMEDOUT"));
            }, Math.max(0, deadline - Date.now()));
            conn.wake = (err) => {
                clearTimeout(timer);
                conn.wake = undefined;
                if (err !== undefined) {
                    this.drop(conn);
                    const e = err as NodeJS.ErrnoException;
                    reject(err instanceof ConnectionError ? err : new ConnectionError(`cannot reach ${what}: ${e.message}`, e.code));
                } else {
                    socket.setKeepAlive(true, 1000);
                    resolve(conn);
                }
            };
            socket.once(this.base.protocol === "https:" ? "secureConnect" : "connect", () => conn.wake?.());
        });
    }

    private exchange(conn: Conn, r: BulkRequest, deadline: number, what: string): Promise<BulkResponse> {
        return new Promise<BulkResponse>((resolve, reject) => {
            const reader = new ResponseReader(r.maxBodyBytes, r.spare, r.onHead);
            conn.reader = reader;
            const timer = setTimeout(() => {
                finish(new ConnectionError(`request to ${what} timed out after ${r.timeoutMs} ms`, "ETIMEDOUT"));
            }, Math.max(0, deadline - Date.now()));
            const finish = (err?: Error): void => {
                clearTimeout(timer);
                conn.wake = undefined;
                conn.reader = undefined;
                if (err !== undefined) {
                    this.drop(conn);
                    reject(err);
                    return;
                }
                if (reader.keepAlive && !conn.dead && !this.closedDown) {
                    conn.socket.unref();
                    this.idle.push(conn);
                } else {
                    this.drop(conn);
                }
                this.waiters.shift()?.();
                resolve({
                    status: reader.status, headers: reader.headers, body: reader.gathered(), bodyBytes: reader.len, buffer: reader.body,
                });
            };
            conn.wake = (err) => {
                if (err === undefined) {
                    if (reader.state === State.Done) {
                        finish();
                    }
                    return;
                }
                if (err instanceof SinkError) {
                    finish(err.cause as Error);
                    return;
                }
                if (err instanceof BodyTooLargeError || err instanceof ConnectionError) {
                    finish(err);
                    return;
                }
                const e = err as NodeJS.ErrnoException;
                finish(!reader.started ? new ConnectionError(`cannot reach ${what}: ${e.message}`, e.code)
                    : new ConnectionError(`response interrupted: ${e.message}`, e.code));
            };
            const head = [`${r.method} ${r.target} HTTP/1.1`, `Host: ${this.hostHeader}`];
            for (const [k, v] of Object.entries(r.headers)) {
                head.push(`${k}: ${v}`);
            }
            head.push(`Content-Length: ${r.body.length}`, "Connection: keep-alive", "", "");
            conn.socket.write(Buffer.concat([Buffer.from(head.join("\r\n"), "latin1"), r.body]));
        });
    }

    private onData(conn: Conn, b: Buffer, n: number): void {
        const reader = conn.reader;
        if (reader === undefined) {
            // Bytes nobody asked for: this connection is out of step.
            this.drop(conn);
            return;
        }
        try {
            reader.feed(b, n);
        } catch (err) {
            conn.wake?.(err instanceof BodyTooLargeError || err instanceof SinkError ? err
                : new ConnectionError(`response interrupted: ${(err as Error).message}`, "EPROTO"));
            return;
        }
        if (reader.state === State.Done) {
            conn.wake?.();
        }
    }

    /** The server closed its side (FIN) or the socket closed. */
    private ended(conn: Conn): void {
        const reader = conn.reader;
        conn.dead = true;
        this.forget(conn);
        if (reader !== undefined && reader.closed()) {
            conn.wake?.();
            return;
        }
        if (reader === undefined || !reader.started) {
            // Before any answer: while connecting, or a request the server (or a kept-alive connection it had closed)
            // never answered.
            conn.wake?.(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
            return;
        }
        conn.wake?.(new ConnectionError("response aborted by the server", "ECONNRESET"));
    }

    private fail(conn: Conn, err: Error): void {
        conn.dead = true;
        this.forget(conn);
        if (conn.wake !== undefined) {
            conn.wake(err);
        }
    }

    private forget(conn: Conn): void {
        if (this.all.delete(conn)) {
            const at = this.idle.indexOf(conn);
            if (at >= 0) {
                this.idle.splice(at, 1);
            }
            this.waiters.shift()?.();
        }
    }

    private drop(conn: Conn): void {
        conn.dead = true;
        this.forget(conn);
        conn.socket.destroy();
    }
}
