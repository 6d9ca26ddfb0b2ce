/** The HTTP client's errors (harvester/http.ts re-exports them; its bulk transport, harvester/http1.ts, raises them too). */

/** A failure to talk to the server at all (refused, reset, DNS, TLS, timeout). */
export class ConnectionError extends Error {
    constructor(message: string, readonly code?: string) {
        super(message);
        this.name = "ConnectionError";
    }
}

/** A non-2xx answer; `serverError` is the server's own error text when it sent one. */
export class HttpError extends Error {
    constructor(readonly status: number, readonly errorType: string | undefined, readonly serverError: string,
        readonly retryAfterMs?: number) {
        super(`HTTP ${status}${errorType ? ` ${errorType}` : ""}: ${serverError}`);
        this.name = "HttpError";
    }
}

/** The response was larger than maxBodyBytes (the caller should ask for less). */
export class BodyTooLargeError extends Error {
    constructor(readonly limit: number) {
        super(`response body exceeded ${limit} bytes`);
        this.name = "BodyTooLargeError";
    }
}
