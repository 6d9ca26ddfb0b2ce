/**
 * The project's minimal Kubernetes client, for `npm run kubectl` on machines without kubectl: `get` (any resource the
 * server's discovery lists, printed from the server's own Table form, like kubectl does), `api-resources` and
 * `version`. Everything else says to install kubectl. The kubeconfig stays in memory.
 */
import * as https from "node:https";
import * as http from "node:http";
import * as yaml from "js-yaml";
import { parseKubeconfig, type KubeAccess } from "../harvester/kube";

export class KubeClientError extends Error {}

// ---- arguments ---------------------------------------------------------------------------------------------------

export interface GetCommand {
    verb: "get";
    types: string[];
    names: string[];
    namespace?: string;
    allNamespaces: boolean;
    output: "table" | "wide" | "json" | "yaml" | "name";
    selector?: string;
    fieldSelector?: string;
}
export type KubeCommand = GetCommand | { verb: "version" } | { verb: "api-resources" };

export const BUILT_IN_VERBS = ["get", "api-resources", "version"];

/** Parses the subset of kubectl's command line the built-in client runs; anything else is a one-line refusal. */
export function parseKubeCommand(args: string[]): KubeCommand {
    const [verb, ...rest] = args;
    if (verb === undefined) {
        throw new KubeClientError(`no command; the built-in client runs: ${BUILT_IN_VERBS.join(", ")}`);
    }
    if (verb === "version" || verb === "api-resources") {
        if (rest.some((a) => a !== "--client=false")) {
            throw new KubeClientError(`the built-in client runs \`${verb}\` without options (got ${rest.join(" ")}); install kubectl for more`);
        }
        return { verb };
    }
    if (verb !== "get") {
        throw new KubeClientError(`the built-in client runs ${BUILT_IN_VERBS.join(", ")}, not \`${verb}\`; install kubectl (https://kubernetes.io/docs/tasks/tools/) for everything else`);
    }
    const cmd: GetCommand = { verb: "get", types: [], names: [], allNamespaces: false, output: "table" };
    const positional: string[] = [];
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        const value = (name: string): string => {
            const eq = a.indexOf("=");
            if (eq >= 0) {
                return a.slice(eq + 1);
            }
            const v = rest[++i];
            if (v === undefined) {
                throw new KubeClientError(`${name} needs a value`);
            }
            return v;
        };
        if (a === "-A" || a === "--all-namespaces") {
            cmd.allNamespaces = true;
        } else if (a === "-n" || a.startsWith("--namespace")) {
            cmd.namespace = value("--namespace");
        } else if (a.startsWith("-n") && a.length > 2) {
            cmd.namespace = a.slice(2);
        } else if (a === "-o" || a.startsWith("--output") || (a.startsWith("-o") && a.length > 2)) {
            const o = a.startsWith("-o") && a.length > 2 && !a.startsWith("-o=") ? a.slice(2) : value("--output");
            if (!["wide", "json", "yaml", "name"].includes(o)) {
                throw new KubeClientError(`the built-in client prints -o wide, json, yaml or name, not ${JSON.stringify(o)}; install kubectl for more`);
            }
            cmd.output = o as GetCommand["output"];
        } else if (a === "-l" || a.startsWith("--selector")) {
            cmd.selector = value("--selector");
        } else if (a.startsWith("--field-selector")) {
            cmd.fieldSelector = value("--field-selector");
        } else if (a.startsWith("-")) {
            throw new KubeClientError(`the built-in client does not know the option ${a} (it knows -n, -A, -o, -l, --field-selector); install kubectl for more`);
        } else {
            positional.push(a);
        }
    }
    if (positional.length === 0) {
        throw new KubeClientError("get needs a resource type, e.g. get nodes");
    }
    const [first, ...names] = positional;
    if (first.includes("/")) {
        // get TYPE/NAME [TYPE/NAME...]
        for (const p of positional) {
            const [t, n] = p.split("/");
            if (!t || !n) {
                throw new KubeClientError(`${JSON.stringify(p)} is not TYPE/NAME`);
            }
            cmd.types.push(t);
            cmd.names.push(n);
        }
        cmd.names = cmd.names.map((n, i) => `${cmd.types[i]}/${n}`);
        return cmd;
    }
    cmd.types = first.split(",").filter((t) => t.length > 0);
    cmd.names = names;
    if (cmd.names.length > 0 && cmd.types.length > 1) {
        throw new KubeClientError("names go with one resource type (or use TYPE/NAME)");
    }
    return cmd;
}

// ---- discovery ---------------------------------------------------------------------------------------------------

export interface ApiResource {
    group: string;
    version: string;
    name: string;
    singularName: string;
    shortNames: string[];
    kind: string;
    namespaced: boolean;
    verbs: string[];
}

/** Resources of an aggregated discovery document (apidiscovery.k8s.io/v2 APIGroupDiscoveryList), preferred versions only. */
export function resourcesOfAggregated(doc: any): ApiResource[] {
    const out: ApiResource[] = [];
    for (const group of doc?.items ?? []) {
        const version = group.versions?.[0];
        for (const r of version?.resources ?? []) {
            out.push({
                group: group.metadata?.name ?? "",
                version: version.version,
                name: r.resource,
                singularName: r.singularResource ?? "",
                shortNames: r.shortNames ?? [],
                kind: r.responseKind?.kind ?? "",
                namespaced: r.scope === "Namespaced",
                verbs: r.verbs ?? [],
            });
        }
    }
    return out;
}

/** Resources of a legacy APIResourceList (subresources such as pods/log left out). */
export function resourcesOfList(groupVersion: string, list: any): ApiResource[] {
    const [group, version] = groupVersion.includes("/") ? groupVersion.split("/") : ["", groupVersion];
    return (list?.resources ?? []).filter((r: any) => !String(r.name).includes("/")).map((r: any) => ({
        group, version, name: r.name, singularName: r.singularName ?? "", shortNames: r.shortNames ?? [], kind: r.kind,
        namespaced: r.namespaced === true, verbs: r.verbs ?? [],
    }));
}

/**
 * The resource a name means, the way kubectl resolves it: plural, singular, short name or kind (any case), optionally
 * qualified `name.group` or `name.version.group`; the first match in discovery order (the core group first).
 */
export function resolveResource(input: string, resources: ApiResource[]): ApiResource {
    const wanted = input.toLowerCase();
    const candidates = (r: ApiResource) => [r.name, r.singularName, r.kind.toLowerCase(), ...r.shortNames].filter((n) => n.length > 0);
    const match = resources.find((r) => candidates(r).some((n) =>
        n === wanted || (r.group !== "" && (`${n}.${r.group}` === wanted || `${n}.${r.version}.${r.group}` === wanted))));
    if (!match) {
        throw new KubeClientError(`the server doesn't have a resource type "${input}"`);
    }
    return match;
}

/** `pods`, `deployment.apps`: how kubectl names a resource type in TYPE/NAME output. */
export function qualifiedKind(r: ApiResource): string {
    const kind = r.kind.toLowerCase();
    return r.group === "" ? kind : `${kind}.${r.group}`;
}

// ---- tables ------------------------------------------------------------------------------------------------------

interface TableColumn {
    name: string;
    priority?: number;
}

/**
 * A server-side Table (meta.k8s.io/v1) as kubectl prints it: upper-case headers, columns of priority 0 (all with
 * `wide`), cells padded like kubectl's tabwriter (min width 6, padding 3), optional NAMESPACE first and TYPE/ prefix.
 */
export function formatTable(tables: { table: any; namespace?: (row: any) => string; prefix?: string }[], wide: boolean, withNamespace: boolean): string {
    const rows: string[][] = [];
    let header: string[] | undefined;
    for (const { table, prefix } of tables) {
        const cols = ((table.columnDefinitions ?? []) as TableColumn[]).map((c, i) => ({ c, i })).filter(({ c }) => wide || (c.priority ?? 0) === 0);
        const names = cols.map(({ c }) => c.name.toUpperCase());
        header ??= [...(withNamespace ? ["NAMESPACE"] : []), ...names];
        for (const row of table.rows ?? []) {
            const cells = cols.map(({ c, i }) => {
                const v = row.cells?.[i];
                const text = v === null || v === undefined ? "<none>" : typeof v === "object" ? JSON.stringify(v) : String(v);
                return c.name.toLowerCase() === "name" && prefix ? `${prefix}/${text}` : text;
            });
            const ns = row.object?.metadata?.namespace ?? "";
            rows.push([...(withNamespace ? [ns] : []), ...cells]);
        }
    }
    if (!header) {
        return "";
    }
    const all = [header, ...rows];
    const widths = header.map((_, i) => Math.max(6, ...all.map((r) => (r[i] ?? "").length + 3)));
    return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("")).join("\n") + "\n";
}

// ---- the client --------------------------------------------------------------------------------------------------

export interface KubeTarget {
    access: KubeAccess;
    /** The context's namespace, else "default". */
    namespace: string;
}

/** Server and credentials of the kubeconfig's current context; exec and auth-provider users are refused by name. */
export function kubeTarget(kubeconfig: string): KubeTarget {
    const access = parseKubeconfig(kubeconfig);
    const doc = yaml.load(kubeconfig) as any;
    const current = doc?.["current-context"] ?? doc?.contexts?.[0]?.name;
    const context = (doc?.contexts ?? []).find((c: any) => c.name === current)?.context ?? {};
    const user = (doc?.users ?? []).find((u: any) => u.name === context.user)?.user ?? {};
    if (user.exec || user["auth-provider"]) {
        throw new KubeClientError(`the kubeconfig's user authenticates with ${user.exec ? "an exec plugin" : "an auth provider"}, which the built-in client does not run; install kubectl`);
    }
    return { access, namespace: typeof context.namespace === "string" && context.namespace !== "" ? context.namespace : "default" };
}

export interface Response {
    status: number;
    body: string;
}

export type Transport = (path: string, accept: string) => Promise<Response>;

/** HTTPS (or HTTP) GETs to the API server with the kubeconfig's CA, client certificate or token. */
export function httpTransport(access: KubeAccess): Transport {
    const base = new URL(access.server);
    const agent = base.protocol === "https:" ? new https.Agent({
        ca: access.ca, cert: access.cert, key: access.key, rejectUnauthorized: !access.insecureSkipVerify, keepAlive: true,
    }) : new http.Agent({ keepAlive: true });
    return (path, accept) => new Promise((resolve, reject) => {
        const url = new URL(base.pathname.replace(/\/$/, "") + path, base);
        const headers: Record<string, string> = { Accept: accept, "User-Agent": "charon-kubectl" };
        if (access.token) {
            headers.Authorization = `Bearer ${access.token}`;
        } else if (access.username !== undefined) {
            headers.Authorization = `Basic ${Buffer.from(`${access.username}:${access.password ?? ""}`).toString("base64")}`;
        }
        const req = (url.protocol === "https:" ? https : http).request(url, { method: "GET", headers, agent, timeout: 30_000 }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer from ${access.server} within 30 s`)));
        req.on("error", (err) => reject(new KubeClientError(`cannot reach the API server ${access.server}: ${err.message}`)));
        req.end();
    });
}

const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const AGGREGATED_ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/** The server's error in kubectl's words: `Error from server (NotFound): pods "x" not found`. */
function serverError(res: Response, what: string): KubeClientError {
    try {
        const status = JSON.parse(res.body);
        if (status?.kind === "Status") {
            return new KubeClientError(`Error from server (${status.reason || res.status}): ${status.message}`);
        }
    } catch {
        // not JSON
    }
    return new KubeClientError(`Error from server (${res.status}) for ${what}: ${res.body.slice(0, 200).trim()}`);
}

async function getJson(transport: Transport, path: string, accept = "application/json"): Promise<any> {
    const res = await transport(path, accept);
    if (res.status < 200 || res.status >= 300) {
        throw serverError(res, path);
    }
    return JSON.parse(res.body);
}

export async function discover(transport: Transport): Promise<ApiResource[]> {
    const core = await getJson(transport, "/api", AGGREGATED_ACCEPT);
    if (core.kind === "APIGroupDiscoveryList") {
        const groups = await getJson(transport, "/apis", AGGREGATED_ACCEPT);
        return [...resourcesOfAggregated(core), ...resourcesOfAggregated(groups)];
    }
    const lists: Promise<ApiResource[]>[] = (core.versions ?? ["v1"]).slice(0, 1).map(async (v: string) => resourcesOfList(v, await getJson(transport, `/api/${v}`)));
    const groups = await getJson(transport, "/apis");
    for (const g of groups.groups ?? []) {
        const gv = g.preferredVersion?.groupVersion ?? g.versions?.[0]?.groupVersion;
        lists.push(getJson(transport, `/apis/${gv}`).then((l) => resourcesOfList(gv, l)).catch(() => []));
    }
    return (await Promise.all(lists)).flat();
}

function collectionPath(r: ApiResource, namespace: string | undefined): string {
    const prefix = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    return r.namespaced && namespace !== undefined ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${r.name}` : `${prefix}/${r.name}`;
}

/** kubectl's -o json/yaml: keys in sorted order (Go marshals maps sorted), managedFields left out. */
function sortedKeys(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(sortedKeys);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
    }
    return value;
}

function withoutManagedFields(object: any): any {
    if (object?.metadata?.managedFields === undefined) {
        return object;
    }
    const { managedFields: _dropped, ...metadata } = object.metadata;
    return { ...object, metadata };
}

export interface KubeIo {
    out: (text: string) => void;
    err: (text: string) => void;
}

/** Runs a parsed command against the cluster; returns the exit code (1 with kubectl's error text on failure). */
export async function runKubeCommand(cmd: KubeCommand, target: KubeTarget, transport: Transport, io: KubeIo): Promise<number> {
    if (cmd.verb === "version") {
        const v = await getJson(transport, "/version");
        io.out(`Client: charon built-in (no kubectl on PATH)\nServer Version: ${v.gitVersion}\n`);
        return 0;
    }
    const resources = await discover(transport);
    if (cmd.verb === "api-resources") {
        const table = {
            columnDefinitions: [{ name: "Name" }, { name: "ShortNames" }, { name: "APIVersion" }, { name: "Namespaced" }, { name: "Kind" }],
            // kubectl's order: the core group first, then groups and names alphabetically.
            rows: [...resources].sort((a, b) => (a.group === "" ? -1 : 0) - (b.group === "" ? -1 : 0) || a.group.localeCompare(b.group) || a.name.localeCompare(b.name)).map((r) => ({
                cells: [r.name, r.shortNames.join(","), r.group === "" ? r.version : `${r.group}/${r.version}`, String(r.namespaced), r.kind],
            })),
        };
        io.out(formatTable([{ table }], false, false));
        return 0;
    }
    const namespace = cmd.allNamespaces ? undefined : cmd.namespace ?? target.namespace;
    const types = cmd.types.map((t) => resolveResource(t, resources));
    const prefixed = types.length > 1 || cmd.names.some((n) => n.includes("/"));
    const objects: { r: ApiResource; object: any }[] = [];
    const tables: { table: any; prefix?: string; type: ApiResource; namespaced: boolean }[] = [];
    const machine = cmd.output === "json" || cmd.output === "yaml" || cmd.output === "name";
    let failed = false;
    const requests = cmd.names.length > 0
        ? cmd.names.map((n, i) => ({ r: types[cmd.names[i].includes("/") ? i : 0], name: n.includes("/") ? n.split("/")[1] : n }))
        : types.map((r) => ({ r, name: undefined as string | undefined }));
    for (const { r, name } of requests) {
        const base = collectionPath(r, namespace ?? (r.namespaced && name !== undefined ? target.namespace : undefined));
        const query = new URLSearchParams();
        if (cmd.selector) {
            query.set("labelSelector", cmd.selector);
        }
        if (cmd.fieldSelector) {
            query.set("fieldSelector", cmd.fieldSelector);
        }
        const accept = machine ? "application/json" : TABLE_ACCEPT;
        if (name !== undefined) {
            const res = await transport(`${base}/${encodeURIComponent(name)}${query.size > 0 ? `?${query}` : ""}`, accept);
            if (res.status === 404 || res.status < 200 || res.status >= 300) {
                io.err(`${serverError(res, name).message}\n`);
                failed = true;
                continue;
            }
            const body = JSON.parse(res.body);
            if (machine) {
                objects.push({ r, object: body });
            } else {
                tables.push({ table: body, prefix: prefixed ? qualifiedKind(r) : undefined, type: r, namespaced: r.namespaced });
            }
            continue;
        }
        let token: string | undefined;
        do {
            const q = new URLSearchParams(query);
            q.set("limit", "500");
            if (token) {
                q.set("continue", token);
            }
            const body = await getJson(transport, `${base}?${q}`, accept);
            token = body.metadata?.continue || undefined;
            if (machine) {
                for (const item of body.items ?? []) {
                    objects.push({ r, object: { apiVersion: r.group === "" ? r.version : `${r.group}/${r.version}`, kind: r.kind, ...item } });
                }
            } else {
                tables.push({ table: body, prefix: prefixed ? qualifiedKind(r) : undefined, type: r, namespaced: r.namespaced });
            }
        } while (token);
    }
    if (machine) {
        if (cmd.output === "name") {
            io.out(objects.map(({ r, object }) => `${qualifiedKind(r)}/${object.metadata?.name}\n`).join(""));
        } else {
            const doc = sortedKeys(cmd.names.length === 1 && objects.length === 1 ? withoutManagedFields(objects[0].object)
                : { apiVersion: "v1", items: objects.map((o) => withoutManagedFields(o.object)), kind: "List", metadata: { resourceVersion: "" } });
            io.out(cmd.output === "json" ? `${JSON.stringify(doc, null, 4)}\n` : yaml.dump(doc, { lineWidth: -1, quotingType: "\"", noRefs: true, noArrayIndent: true }));
        }
    } else {
        // One table per resource type, as kubectl prints them (pages and names of one type share a table).
        const blocks = [...new Set(tables.map((t) => t.type))].map((type) => {
            const own = tables.filter((t) => t.type === type && (t.table.rows ?? []).length > 0);
            return own.length === 0 ? "" : formatTable(own, cmd.output === "wide", cmd.allNamespaces && own[0].namespaced);
        }).filter((b) => b !== "");
        const text = blocks.join("\n");
        if (text === "") {
            if (!failed) {
                io.err(namespace !== undefined && types.some((r) => r.namespaced) ? `No resources found in ${namespace} namespace.\n` : "No resources found\n");
            }
        } else {
            io.out(text);
        }
    }
    return failed ? 1 : 0;
}
