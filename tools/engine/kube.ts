// A small Kubernetes API client for the engine tier (checks, the Numaflow stand-in, the endpoint wiring): HTTPS
// with the CA and a client certificate, JSON in and out. No retries here; callers poll.
import * as https from "node:https";
import * as yaml from "js-yaml";

export interface KubeCredentials {
    server: string;
    ca: string;
    cert: string;
    key: string;
}

export class KubeError extends Error {
    constructor(message: string, readonly status: number, readonly body: unknown) {
        super(message);
        this.name = "KubeError";
    }
}

export type Obj = Record<string, any>;

export class Kube {
    private readonly agent: https.Agent;
    constructor(readonly creds: KubeCredentials) {
        this.agent = new https.Agent({ ca: creds.ca, cert: creds.cert, key: creds.key, keepAlive: true, maxSockets: 8 });
    }

    request(method: string, path: string, body?: unknown, contentType = "application/json", timeoutMs = 30_000): Promise<{ status: number; body: any }> {
        const url = new URL(path, this.creds.server);
        const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        return new Promise((resolve, reject) => {
            const req = https.request(url, {
                method, agent: this.agent, timeout: timeoutMs,
                headers: { Accept: "application/json", ...(payload === undefined ? {} : { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }) },
            }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: any = text;
                    try {
                        parsed = text.length > 0 ? JSON.parse(text) : undefined;
                    } catch {
                        // not JSON (e.g. /readyz)
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed });
                });
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeoutMs} ms`)));
            req.on("error", reject);
            if (payload !== undefined) {
                req.write(payload);
            }
            req.end();
        });
    }

    private async ok(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
        const r = await this.request(method, path, body, contentType);
        if (r.status < 200 || r.status >= 300) {
            const message = typeof r.body === "object" && r.body?.message ? r.body.message : String(r.body).slice(0, 300);
            throw new KubeError(`${method} ${path}: ${r.status} ${message}`, r.status, r.body);
        }
        return r.body;
    }

    get(path: string): Promise<any> {
        return this.ok("GET", path);
    }

    /** The object, or undefined on 404. */
    async find(path: string): Promise<any> {
        const r = await this.request("GET", path);
        if (r.status === 404) {
            return undefined;
        }
        if (r.status !== 200) {
            throw new KubeError(`GET ${path}: ${r.status} ${r.body?.message ?? ""}`, r.status, r.body);
        }
        return r.body;
    }

    async list(path: string): Promise<Obj[]> {
        const r = await this.request("GET", path);
        if (r.status === 404) {
            return [];
        }
        if (r.status !== 200) {
            throw new KubeError(`GET ${path}: ${r.status} ${r.body?.message ?? ""}`, r.status, r.body);
        }
        return r.body.items ?? [];
    }

    mergePatch(path: string, patch: unknown): Promise<any> {
        return this.ok("PATCH", path, patch, "application/merge-patch+json");
    }

    /** Server-side apply of one object (field manager `charon-engine-tier`). */
    apply(path: string, obj: unknown, manager = "charon-engine-tier"): Promise<any> {
        return this.ok("PATCH", `${path}?fieldManager=${manager}&force=true`, obj, "application/apply-patch+yaml");
    }

    create(path: string, obj: unknown): Promise<any> {
        return this.ok("POST", path, obj);
    }

    async delete(path: string): Promise<void> {
        const r = await this.request("DELETE", path);
        if (r.status !== 404 && (r.status < 200 || r.status >= 300)) {
            throw new KubeError(`DELETE ${path}: ${r.status} ${r.body?.message ?? ""}`, r.status, r.body);
        }
    }

    close(): void {
        this.agent.destroy();
    }
}

/** The collection path of a resource (core group when `group` is empty). */
export function resourcePath(group: string, version: string, plural: string, namespace?: string, name?: string): string {
    const base = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    const ns = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
    return `${base}${ns}/${plural}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

/**
 * A kubeconfig for a server and a client certificate: YAML laid out as k3s writes /etc/rancher/k3s/k3s.yaml
 * (`server: https://127.0.0.1:6443` on its own line), or JSON for the tier's own consumers.
 */
export function kubeconfigText(server: string, ca: string, cert: string, key: string, name = "default", format: "yaml" | "json" = "yaml"): string {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const doc = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server, "certificate-authority-data": b64(ca) } }],
        users: [{ name, user: { "client-certificate-data": b64(cert), "client-key-data": b64(key) } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        preferences: {},
    };
    if (format === "json") {
        return JSON.stringify(doc, null, 2) + "\n";
    }
    return yaml.dump({
        apiVersion: "v1",
        clusters: doc.clusters,
        contexts: doc.contexts,
        "current-context": name,
        kind: "Config",
        preferences: {},
        users: doc.users,
    }, { lineWidth: -1, noRefs: true });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) {
                return v;
            }
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
        }
        await sleep(intervalMs);
    }
}
