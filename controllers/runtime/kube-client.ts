/**
 * A minimal Kubernetes REST client for the loops (a library client does not fit the ConfigMap the code is mounted
 * from: @kubernetes/client-node 2.0.1 bundles to 2.2 MB minified). node:https with keep-alive; credentials from the
 * pod's service account (the token file is re-read on every request, so rotated tokens are picked up) or given
 * explicitly (tests, replay). Errors carry the API server's Status reason and message.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";

export interface KubeCredentials {
    /** API server URL, e.g. https://10.32.0.1:443. */
    server: string;
    /** PEM CA bundle the server's certificate must chain to. */
    ca?: string | Buffer;
    /** PEM client certificate and key (kubeconfig users). */
    cert?: string | Buffer;
    key?: string | Buffer;
    /** Bearer token, read when each request is made. */
    token?: () => string | undefined;
    insecureSkipVerify?: boolean;
}

/** Where a pod finds its service account. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The credentials of the pod's own service account. Throws naming what is missing outside a cluster. */
export function inClusterCredentials(dir: string = SERVICE_ACCOUNT_DIR, env: NodeJS.ProcessEnv = process.env): KubeCredentials {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    if (host === undefined || host === "") {
        throw new Error("not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST is not set");
    }
    const caFile = `${dir}/ca.crt`;
    const tokenFile = `${dir}/token`;
    if (!fs.existsSync(tokenFile)) {
        throw new Error(`no service account token at ${tokenFile} (automountServiceAccountToken disabled?)`);
    }
    return {
        server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
        ca: fs.readFileSync(caFile),
        token: () => fs.readFileSync(tokenFile, "utf8").trim(),
    };
}

/** A non-2xx answer of the API server, with its Status. */
export class KubeError extends Error {
    constructor(readonly status: number, readonly reason: string, readonly serverMessage: string, readonly method: string, readonly path: string) {
        super(`${method} ${path}: HTTP ${status}${reason ? ` ${reason}` : ""}: ${serverMessage}`);
        this.name = "KubeError";
    }
}

export interface RequestOptions {
    query?: Record<string, string>;
    body?: unknown;
    contentType?: string;
}

/** Container resources as a resize patch sets them (quantities as strings). */
export interface ContainerResources {
    requests?: Record<string, string>;
    limits?: Record<string, string>;
}

export class KubeClient {
    private readonly agent: https.Agent | http.Agent;
    private readonly base: URL;

    constructor(private readonly creds: KubeCredentials, private readonly timeoutMs = 10_000) {
        this.base = new URL(creds.server);
        this.agent = this.base.protocol === "https:"
            ? new https.Agent({ keepAlive: true, maxSockets: 4, ca: creds.ca, cert: creds.cert, key: creds.key, rejectUnauthorized: !creds.insecureSkipVerify })
            : new http.Agent({ keepAlive: true, maxSockets: 4 });
    }

    close(): void {
        this.agent.destroy();
    }

    /** One request; resolves with the parsed JSON body of a 2xx answer, rejects with KubeError otherwise. */
    request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
        const url = new URL(this.base.toString());
        url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
        for (const [k, v] of Object.entries(o.query ?? {})) {
            url.searchParams.set(k, v);
        }
        const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
        const headers: Record<string, string> = { Accept: "application/json" };
        const token = this.creds.token?.();
        if (token) {
            headers.Authorization = `Bearer ${token}`;
        }
        if (body !== undefined) {
            headers["Content-Type"] = o.contentType ?? "application/json";
            headers["Content-Length"] = String(body.length);
        }
        const mod = url.protocol === "https:" ? https : http;
        return new Promise<T>((resolve, reject) => {
            const req = mod.request(url, { method, headers, agent: this.agent }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("error", reject);
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    const status = res.statusCode ?? 0;
                    let parsed: any;
                    try {
                        parsed = text === "" ? {} : JSON.parse(text);
                    } catch {
                        parsed = undefined;
                    }
                    if (status >= 200 && status < 300 && parsed !== undefined) {
                        resolve(parsed as T);
                    } else {
                        reject(new KubeError(status, parsed?.reason ?? "", parsed?.message ?? text.slice(0, 300), method, path));
                    }
                });
            });
            req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer from ${url.origin} within ${this.timeoutMs} ms`)));
            req.on("error", (e) => reject(e instanceof KubeError ? e : new Error(`${method} ${path}: ${e.message}`)));
            req.end(body);
        });
    }

    private static write(dryRun: boolean): Record<string, string> {
        return dryRun ? { fieldManager: "charon-controller", dryRun: "All" } : { fieldManager: "charon-controller" };
    }

    /** The scale subresource of a Deployment. */
    getDeploymentScale(namespace: string, name: string): Promise<Scale> {
        return this.request("GET", `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}/scale`);
    }

    /** Sets a Deployment's replicas through its scale subresource (server-side dry run when asked). */
    scaleDeployment(namespace: string, name: string, replicas: number, dryRun = false): Promise<Scale> {
        return this.request("PATCH", `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${encodeURIComponent(name)}/scale`, {
            query: KubeClient.write(dryRun), body: { spec: { replicas } }, contentType: "application/merge-patch+json",
        });
    }

    /** Pods of a namespace matching a label selector (k=v,k2=v2). */
    listPods(namespace: string, labelSelector: string): Promise<{ items: PodObject[] }> {
        return this.request("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { query: { labelSelector } });
    }

    /**
     * Resizes one container in place through the pod's resize subresource (Kubernetes ≥ 1.33). `list` says where
     * the container is: a regular container, or a restartable init container (a native sidecar, as Numaflow runs
     * user-defined functions).
     */
    resizePod(namespace: string, pod: string, list: "containers" | "initContainers", container: string, resources: ContainerResources, dryRun = false): Promise<PodObject> {
        return this.request("PATCH", `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/resize`, {
            query: KubeClient.write(dryRun),
            body: { spec: { [list]: [{ name: container, resources }] } },
            contentType: "application/strategic-merge-patch+json",
        });
    }
}

export interface Scale {
    spec: { replicas?: number };
    status: { replicas?: number; selector?: string };
}

export interface ContainerObject {
    name: string;
    resources?: ContainerResources;
    restartPolicy?: string;
}

export interface PodObject {
    metadata: { name: string; namespace?: string; resourceVersion?: string };
    spec: { containers: ContainerObject[]; initContainers?: ContainerObject[] };
    status?: {
        phase?: string;
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
        containerStatuses?: { name: string; resources?: ContainerResources }[];
        initContainerStatuses?: { name: string; resources?: ContainerResources }[];
    };
}
