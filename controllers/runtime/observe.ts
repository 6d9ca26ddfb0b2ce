/**
 * Observe: the controller's queries from Mimir (instant queries at the tick time, with the tenant header, through
 * the harvester's HTTP client) and the controlled objects from the Kubernetes API (a Deployment's scale
 * subresource, or the selected pods and their container resources).
 */
import { parseSampleValue } from "../../model/formats/sample";
import { type ClientSettings, HttpClient, type RequestStats } from "../../harvester/http";
import { type KubeClient, type PodObject } from "./kube-client";
import { cpuMillis, memoryBytes } from "./quantity";
import { type ObservationQuery, toPromQL } from "./queries";
import type { Observation, PodState, Sample, TargetState } from "./types";

/** What the loop controls. */
export type TargetSpec =
    | { kind: "deployment"; namespace: string; name: string }
    | { kind: "pods"; namespace: string; selector: Record<string, string>; container: string };

/** Mimir's (or any Prometheus') query API and tenant. */
export interface MetricsEndpoint {
    /** Base URL of the Prometheus API, e.g. http://mimir-gateway.monitoring.svc.cluster.local:80/prometheus. */
    url: string;
    /** Sent as X-Scope-OrgID when set. */
    tenant?: string;
}

/** Instant queries against a Prometheus-compatible API. */
export class PromQueryClient {
    private readonly http: HttpClient;

    constructor(endpoint: MetricsEndpoint, settings: ClientSettings = { timeoutMs: 10_000, retries: 1, maxSockets: 2 }) {
        this.http = new HttpClient({ url: endpoint.url, headers: endpoint.tenant ? { "X-Scope-OrgID": endpoint.tenant } : {} }, settings);
    }

    close(): void {
        this.http.close();
    }

    /** The instant vector of `promql` at `time` (epoch ms); throws with the server's error text. */
    async query(promql: string, time: number): Promise<Sample[]> {
        const stats: RequestStats = { requests: 0, retries: 0, bytes: 0 };
        const res = await this.http.postForm("api/v1/query", { query: promql, time: (time / 1000).toFixed(3) }, stats);
        const body = JSON.parse(res.body.toString("utf8")) as {
            status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        if (body.status !== "success" || body.data === undefined) {
            throw new Error(`query ${promql} failed: ${body.error ?? body.status}`);
        }
        if (body.data.resultType !== "vector") {
            throw new Error(`query ${promql} returned a ${body.data.resultType}, expected an instant vector`);
        }
        return body.data.result.map((r) => {
            const labels = { ...r.metric };
            delete labels.__name__;
            return { labels, value: parseSampleValue(r.value[1]) };
        });
    }
}

/** Runs every query at `time`; the first failure names its query. */
export async function observeMetrics(client: PromQueryClient, queries: Record<string, ObservationQuery>, time: number): Promise<Record<string, Sample[]>> {
    const entries = await Promise.all(Object.entries(queries).map(async ([name, q]) => {
        try {
            return [name, await client.query(toPromQL(q), time)] as const;
        } catch (e) {
            throw new Error(`observation ${JSON.stringify(name)}: ${(e as Error).message}`, { cause: e });
        }
    }));
    return Object.fromEntries(entries);
}

/** A label selector in the API's text form: a=b,c=d (keys sorted). */
export function selectorText(selector: Record<string, string>): string {
    return Object.keys(selector).sort().map((k) => `${k}=${selector[k]}`).join(",");
}

/** The controlled container's state in one pod, or undefined when the pod has no such container. */
export function podState(pod: PodObject, container: string): PodState | undefined {
    const regular = pod.spec.containers.find((x) => x.name === container);
    const c = regular ?? pod.spec.initContainers?.find((x) => x.name === container && x.restartPolicy === "Always");
    if (c === undefined) {
        return undefined;
    }
    const resizing = (pod.status?.conditions ?? []).some((x) => (x.type === "PodResizePending" || x.type === "PodResizeInProgress") && x.status === "True");
    return {
        name: pod.metadata.name,
        phase: pod.status?.phase ?? "Unknown",
        cpuRequestMillis: cpuMillis(c.resources?.requests?.cpu),
        cpuLimitMillis: cpuMillis(c.resources?.limits?.cpu),
        memoryRequestBytes: memoryBytes(c.resources?.requests?.memory),
        memoryLimitBytes: memoryBytes(c.resources?.limits?.memory),
        resizing,
        sidecar: regular === undefined,
    };
}

/** Reads the controlled objects. */
export async function observeTarget(kube: KubeClient, target: TargetSpec): Promise<TargetState> {
    if (target.kind === "deployment") {
        const scale = await kube.getDeploymentScale(target.namespace, target.name);
        return { kind: "deployment", namespace: target.namespace, name: target.name, replicas: scale.spec.replicas ?? 0 };
    }
    const list = await kube.listPods(target.namespace, selectorText(target.selector));
    const pods = list.items.map((p) => podState(p, target.container)).filter((p): p is PodState => p !== undefined)
        .sort((a, b) => a.name.localeCompare(b.name));
    return { kind: "pods", namespace: target.namespace, container: target.container, pods };
}

/** One tick's observation: metrics and target read in parallel. */
export async function observe(prom: PromQueryClient, kube: KubeClient, queries: Record<string, ObservationQuery>, target: TargetSpec, time: number): Promise<Observation> {
    const [metrics, state] = await Promise.all([observeMetrics(prom, queries, time), observeTarget(kube, target)]);
    return { time, metrics, target: state };
}
