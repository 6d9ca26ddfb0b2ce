/**
 * Reaching an in-cluster service from outside: the Kubernetes API server's service proxy,
 * `<server>/api/v1/namespaces/<ns>/services/[https:]<svc>:<port>/proxy/<path>`, authenticated with the
 * kubeconfig's client certificate/key or bearer token and trusting its CA. Pure functions; no cluster calls.
 */
import * as fs from "node:fs";
import type * as Yaml from "js-yaml";
import type { Endpoint } from "./http";

/** js-yaml, loaded on first use (only --stack needs it, so a plain harvest does not pay for loading it). */
function yaml(): typeof Yaml {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("js-yaml") as typeof Yaml;
}

export interface KubeAccess {
    /** API server URL, e.g. https://127.0.0.1:6443. */
    server: string;
    ca?: string;
    cert?: string;
    key?: string;
    token?: string;
    username?: string;
    password?: string;
    insecureSkipVerify?: boolean;
}

export interface ServiceRef {
    scheme: "http" | "https";
    service: string;
    namespace: string;
    port: number;
    /** Path below the service root without trailing slash ("" or e.g. "/prometheus"). */
    path: string;
}

type Named<T> = { name?: string } & T;

function decodeB64(s: unknown): string | undefined {
    return typeof s === "string" && s.length > 0 ? Buffer.from(s, "base64").toString("utf8") : undefined;
}

function fileText(p: unknown): string | undefined {
    return typeof p === "string" && p.length > 0 ? fs.readFileSync(p, "utf8") : undefined;
}

/** Extracts server and credentials of the current (or given) context from kubeconfig YAML. */
export function parseKubeconfig(text: string, contextName?: string): KubeAccess {
    let doc: any;
    try {
        doc = yaml().load(text);
    } catch (err) {
        throw new Error(`kubeconfig is not valid YAML: ${(err as Error).message}`);
    }
    if (doc === null || typeof doc !== "object") {
        throw new Error("kubeconfig is empty or not a mapping");
    }
    const contexts = (doc.contexts ?? []) as Named<{ context?: { cluster?: string; user?: string } }>[];
    const clusters = (doc.clusters ?? []) as Named<{ cluster?: Record<string, unknown> }>[];
    const users = (doc.users ?? []) as Named<{ user?: Record<string, unknown> }>[];
    const wanted = contextName ?? doc["current-context"] ?? contexts[0]?.name;
    const ctx = contexts.find((c) => c.name === wanted)?.context ?? (contexts.length === 0 ? {} : undefined);
    if (ctx === undefined) {
        throw new Error(`kubeconfig has no context "${wanted}"`);
    }
    const cluster = (ctx.cluster !== undefined ? clusters.find((c) => c.name === ctx.cluster) : clusters[0])?.cluster;
    if (cluster === undefined || typeof cluster.server !== "string") {
        throw new Error(`kubeconfig has no cluster with a server for context "${wanted ?? "(none)"}"`);
    }
    const user = (ctx.user !== undefined ? users.find((u) => u.name === ctx.user) : users[0])?.user ?? {};
    return {
        server: cluster.server,
        ca: decodeB64(cluster["certificate-authority-data"]) ?? fileText(cluster["certificate-authority"]),
        insecureSkipVerify: cluster["insecure-skip-tls-verify"] === true,
        cert: decodeB64(user["client-certificate-data"]) ?? fileText(user["client-certificate"]),
        key: decodeB64(user["client-key-data"]) ?? fileText(user["client-key"]),
        token: (typeof user.token === "string" ? user.token : undefined) ?? fileText(user.tokenFile)?.trim(),
        username: typeof user.username === "string" ? user.username : undefined,
        password: typeof user.password === "string" ? user.password : undefined,
    };
}

/** Parses an in-cluster service URL such as http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus. */
export function parseServiceUrl(url: string): ServiceRef {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new Error(`invalid in-cluster service URL "${url}"`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
        throw new Error(`in-cluster service URL "${url}" must use http or https`);
    }
    const scheme = u.protocol === "https:" ? "https" : "http";
    const parts = u.hostname.split(".");
    if (parts.length < 2 || (parts.length > 2 && parts[2] !== "svc")) {
        throw new Error(`in-cluster service URL "${url}" must name <service>.<namespace>[.svc[.cluster.local]]`);
    }
    return {
        scheme,
        service: parts[0],
        namespace: parts[1],
        port: u.port === "" ? (scheme === "https" ? 443 : 80) : Number(u.port),
        path: u.pathname.replace(/\/+$/, ""),
    };
}

/** The API-server proxy URL for a service path. */
export function serviceProxyUrl(server: string, svc: ServiceRef): string {
    const base = server.replace(/\/+$/, "");
    const scheme = svc.scheme === "https" ? "https:" : "";
    return `${base}/api/v1/namespaces/${encodeURIComponent(svc.namespace)}/services/${scheme}${encodeURIComponent(svc.service)}:${svc.port}/proxy${svc.path}`;
}

/** The harvester endpoint that reaches `inClusterUrl` through the API server described by `kube`. */
export function serviceProxyEndpoint(kube: KubeAccess, inClusterUrl: string): Endpoint {
    const headers: Record<string, string> = {};
    if (kube.token !== undefined) {
        headers.Authorization = `Bearer ${kube.token}`;
    } else if (kube.username !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(`${kube.username}:${kube.password ?? ""}`).toString("base64")}`;
    }
    return {
        url: serviceProxyUrl(kube.server, parseServiceUrl(inClusterUrl)),
        headers,
        tls: { ca: kube.ca, cert: kube.cert, key: kube.key, insecureSkipVerify: kube.insecureSkipVerify },
    };
}
