/**
 * act against a real kube-apiserver 1.34 (see kube-control-plane.ts): the loops run one tick each with the very
 * RBAC the ControlLoops component grants (service-account tokens from the TokenRequest API), and the scale and
 * resize subresources must take effect — or, in dry-run mode, be validated and change nothing.
 *
 * There is no kubelet: the test plays it for the one thing the API server checks before it accepts a resize (a
 * running container's status reporting its resources), patching the pod's status subresource as a stand-in.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { act } from "../../controllers/runtime/act";
import type { LoopConfig } from "../../controllers/runtime/config";
import { KubeClient, KubeError, type PodObject } from "../../controllers/runtime/kube-client";
import { ControlLoop, type TickReport } from "../../controllers/runtime/loop";
import { type TargetSpec, observeTarget } from "../../controllers/runtime/observe";
import type { Decide, Limits, Sample } from "../../controllers/runtime/types";
import { decide as pdDecide } from "../../controllers/pd-replicas/decide";
import { decide as resizeDecide } from "../../controllers/inplace-resize/decide";
import { vertexPodSelector } from "../../controllers/inplace-resize/queries";
import { loopConfigJson, loopRbacRules } from "../../components/controllers/control-loops-objects";
import { bundleLoop } from "../../components/controllers/control-loops-bundle";
import { BUILT_IN_DECIDE } from "../../components/controllers/control-loops-config";
import { pdReplicasQueries } from "../../controllers/pd-replicas/queries";
import { freePort } from "../helpers/prometheus";
import { type ControlPlane, findControlPlaneBinaries, startControlPlane } from "./kube-control-plane";

const NS = "loops-test";
const bins = findControlPlaneBinaries();

/** A LoopConfig as the component renders it, for the RBAC rules of a target. */
function configFor(name: string, target: TargetSpec): LoopConfig {
    return { name, kind: "custom", periodMs: 1000, minIntervalMs: 0, dryRun: false, metrics: { url: "http://unused" }, target, queries: {}, limits: {}, params: {}, port: 9464 };
}

/** A vertex pod as Numaflow ≥ 1.5 builds it: the platform container `numa`, the UDF as a native sidecar. */
function vertexPod(name: string): Record<string, any> {
    return {
        apiVersion: "v1", kind: "Pod",
        metadata: { name, namespace: NS, labels: vertexPodSelector("ptychography", "cat") },
        spec: {
            nodeName: "gpu-node-1",
            initContainers: [{
                name: "udf", image: "docker.io/gemblerz/ptychonn-udf:0.0.2", restartPolicy: "Always",
                resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "1", memory: "4Gi" } },
            }],
            containers: [{ name: "numa", image: "quay.io/numaproj/numaflow:v1.7.5", resources: { requests: { cpu: "100m", memory: "128Mi" } } }],
        },
    };
}

describe("controllers: act against a real kube-apiserver", function () {
    this.timeout(180_000);
    let cp: ControlPlane;
    let admin: KubeClient;
    const tokens: Record<string, string> = {};

    before(async function () {
        if (typeof bins === "string") {
            console.log(`      skipped: ${bins}`);
            this.skip();
        }
        cp = await startControlPlane(bins as Exclude<typeof bins, string>);
        admin = new KubeClient({ server: cp.server, ca: cp.ca, token: () => cp.adminToken });
        const create = (path: string, body: unknown) => admin.request("POST", path, { body });
        await create("/api/v1/namespaces", { metadata: { name: NS } });
        // No controller-manager runs, so the namespace's default ServiceAccount (which pod admission wants) is made here.
        await create(`/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: "default" } });
        for (const name of ["consumer", "other"]) {
            await create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
                metadata: { name },
                spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "registry.local/c:1" }] } } },
            });
        }
        // Each loop's own ServiceAccount, Role (the component's exact rules) and RoleBinding, and a token for it.
        const loops: [string, TargetSpec][] = [
            ["pd-replicas", { kind: "deployment", namespace: NS, name: "consumer" }],
            ["inplace-resize", { kind: "pods", namespace: NS, selector: vertexPodSelector("ptychography", "cat"), container: "udf" }],
        ];
        for (const [name, target] of loops) {
            const sa = `charon-loop-${name}`;
            await create(`/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: sa } });
            await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, { metadata: { name: sa }, rules: loopRbacRules(configFor(name, target)) });
            await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
                metadata: { name: sa }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa },
                subjects: [{ kind: "ServiceAccount", name: sa, namespace: NS }],
            });
            const tr = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${NS}/serviceaccounts/${sa}/token`, {
                body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
            });
            tokens[name] = tr.status.token;
        }
    });

    after(async () => {
        admin?.close();
        await cp?.stop();
    });

    const loopClient = (name: string) => new KubeClient({ server: cp.server, ca: cp.ca, token: () => tokens[name] });

    /** The stand-in kubelet: reports the pod Running with its containers' resources as the kubelet would. */
    async function reportRunning(pod: string, withResources: boolean): Promise<void> {
        const current = await admin.request<PodObject>("GET", `/api/v1/namespaces/${NS}/pods/${pod}`);
        const status = (c: { name: string; image?: string; resources?: unknown }) => ({
            name: c.name, image: (c as { image: string }).image, imageID: "", containerID: `containerd://${c.name}`, ready: true, started: true, restartCount: 0,
            state: { running: { startedAt: new Date().toISOString() } },
            ...(withResources ? { resources: c.resources } : {}),
        });
        await admin.request("PATCH", `/api/v1/namespaces/${NS}/pods/${pod}/status`, {
            contentType: "application/merge-patch+json",
            body: { status: {
                phase: "Running", conditions: [{ type: "Ready", status: "True" }],
                initContainerStatuses: (current.spec.initContainers ?? []).map(status), containerStatuses: current.spec.containers.map(status),
            } },
        });
    }

    /** One real tick: observe the target through the API server, decide on the given metrics, guard, act. */
    async function tick(name: string, target: TargetSpec, decide: Decide<any, any>, params: unknown, metrics: Record<string, Sample[]>, limits: Limits, dryRun = false): Promise<TickReport> {
        const kube = loopClient(name);
        try {
            const loop = new ControlLoop({ name, periodMs: 1000, minIntervalMs: 0, dryRun, limits, params }, {
                decide, now: Date.now,
                observe: async (time) => ({ time, metrics, target: await observeTarget(kube, target) }),
                act: (observed, guarded) => act(kube, target, observed, guarded.approved, dryRun),
            });
            return await loop.tick(Date.now());
        } finally {
            kube.close();
        }
    }

    const pdTarget: TargetSpec = { kind: "deployment", namespace: NS, name: "consumer" };
    const pdParams = { targetFps: 800, kp: 0.5, kd: 1, framesPerReplica: 64, useProcessingRate: true };
    const replicasOf = async (name: string) => (await admin.request<{ spec: { replicas: number } }>("GET", `/apis/apps/v1/namespaces/${NS}/deployments/${name}`)).spec.replicas;

    it("pd-replicas scales the consumer Deployment through its scale subresource; dry-run validates and changes nothing", async () => {
        // 900 frames queued, 100 fps processed: error 1600, control 0.5·1600 + 1600 = 2400, 2400 // 64 = 37 → max 8.
        const metrics = { queued: [{ labels: {}, value: 900 }], processingRate: [{ labels: {}, value: 100 }] };
        const dry = await tick("pd-replicas", pdTarget, pdDecide, pdParams, metrics, { minReplicas: 1, maxReplicas: 8 }, true);
        assert.deepEqual(dry.results.map((r) => [r.outcome, r.approved.action, r.approved.clamped]), [["dry-run", { kind: "scale", replicas: 8 }, true]]);
        assert.equal(await replicasOf("consumer"), 1, "dry-run left the Deployment alone");

        const live = await tick("pd-replicas", pdTarget, pdDecide, pdParams, metrics, { minReplicas: 1, maxReplicas: 8 });
        assert.equal(live.error, undefined, JSON.stringify(live.error));
        assert.deepEqual(live.results.map((r) => r.outcome), ["applied"]);
        assert.equal(await replicasOf("consumer"), 8);
        // Observed back through the same subresource, the next tick holds: nothing to change.
        const again = await tick("pd-replicas", pdTarget, pdDecide, pdParams, metrics, { minReplicas: 1, maxReplicas: 8 });
        assert.equal(again.observation?.target.kind === "deployment" && again.observation.target.replicas, 8);
        assert.deepEqual(again.guarded?.held.map((h) => h.reason), ["no-change"]);
    });

    it("its Role allows exactly that Deployment's scale: another Deployment, or the Deployment itself, is forbidden", async () => {
        const kube = loopClient("pd-replicas");
        try {
            await assert.rejects(kube.scaleDeployment(NS, "other", 3), (e: unknown) => e instanceof KubeError && e.status === 403 && /deployments\.apps "other" is forbidden/.test(e.message));
            await assert.rejects(kube.request("GET", `/apis/apps/v1/namespaces/${NS}/deployments/consumer`), (e: unknown) => e instanceof KubeError && e.status === 403);
            await assert.rejects(kube.listPods(NS, "app=consumer"), (e: unknown) => e instanceof KubeError && e.status === 403);
        } finally {
            kube.close();
        }
        assert.equal(await replicasOf("other"), 1);
    });

    const resizeTarget: TargetSpec = { kind: "pods", namespace: NS, selector: vertexPodSelector("ptychography", "cat"), container: "udf" };
    const resizeParams = {
        throttleHigh: 0.1, throttleLow: 0.01, pendingHigh: 1000, busyUtilization: 0.8, targetUtilization: 0.7, stepUp: 1.5, stepDown: 0.8,
        resizeMemory: false, memoryHigh: 0.85, memoryLow: 0.4, memoryStepUp: 1.25,
    };
    const resizeLimits: Limits = { minCpuMillis: 500, maxCpuMillis: 4000, minMemoryBytes: 2 * 2 ** 30, maxMemoryBytes: 8 * 2 ** 30 };

    it("inplace-resize raises a throttled UDF sidecar's CPU through the pod's resize subresource, limits following requests", async () => {
        const pod = "ptychography-cat-0-x7k2p";
        await admin.request("POST", `/api/v1/namespaces/${NS}/pods`, { body: vertexPod(pod) });
        await reportRunning(pod, true);
        const metrics = { throttled: [{ labels: { pod }, value: 0.4 }], usage: [{ labels: { pod }, value: 0.98 }], pending: [{ labels: {}, value: 5000 }] };

        const dry = await tick("inplace-resize", resizeTarget, resizeDecide, resizeParams, metrics, resizeLimits, true);
        assert.deepEqual(dry.results.map((r) => [r.outcome, r.approved.action]), [["dry-run", { kind: "resize", pod, cpuMillis: 1500 }]]);
        let current = await admin.request<PodObject>("GET", `/api/v1/namespaces/${NS}/pods/${pod}`);
        assert.deepEqual(current.spec.initContainers![0].resources, { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "1", memory: "4Gi" } }, "dry-run changed nothing");

        const live = await tick("inplace-resize", resizeTarget, resizeDecide, resizeParams, metrics, resizeLimits);
        assert.equal(live.error, undefined, JSON.stringify(live.error));
        assert.deepEqual(live.results.map((r) => r.outcome), ["applied"]);
        current = await admin.request<PodObject>("GET", `/api/v1/namespaces/${NS}/pods/${pod}`);
        assert.deepEqual(current.spec.initContainers![0].resources, { requests: { cpu: "1500m", memory: "4Gi" }, limits: { cpu: "1500m", memory: "4Gi" } });
        assert.deepEqual(current.spec.containers[0].resources, { requests: { cpu: "100m", memory: "128Mi" } }, "the platform container is untouched");
        assert.equal(current.metadata.name, pod, "the same pod, resized in place");

        // The next tick observes the new request through the API server.
        const next = await tick("inplace-resize", resizeTarget, resizeDecide, resizeParams, { ...metrics, throttled: [{ labels: { pod }, value: 0.05 }], pending: [{ labels: {}, value: 10 }] }, resizeLimits);
        assert.equal(next.observation?.target.kind === "pods" && next.observation.target.pods[0].cpuRequestMillis, 1500);
    });

    it("the API server refuses a resize while no running container reports its resources (a node without resize support)", async () => {
        const pod = "ptychography-cat-1-m3q9z";
        await admin.request("POST", `/api/v1/namespaces/${NS}/pods`, { body: vertexPod(pod) });
        await reportRunning(pod, false);
        const metrics = { throttled: [{ labels: { pod }, value: 0.5 }], usage: [{ labels: { pod }, value: 1 }], pending: [] };
        const report = await tick("inplace-resize", resizeTarget, resizeDecide, resizeParams, metrics, resizeLimits);
        const failed = report.results.find((r) => (r.approved.action as { pod: string }).pod === pod);
        assert.equal(failed?.outcome, "failed");
        assert.match(failed!.error!, /Pod running on node without support for resize/);
        assert.equal(report.error?.stage, "act");
    });

    it("its Role allows listing pods and patching pods/resize, nothing else", async () => {
        const kube = loopClient("inplace-resize");
        try {
            const pods = await kube.listPods(NS, "numaflow.numaproj.io/vertex-name=cat");
            assert.ok(pods.items.length >= 1);
            const name = pods.items[0].metadata.name;
            await assert.rejects(kube.request("GET", `/api/v1/namespaces/${NS}/pods/${name}`), (e: unknown) => e instanceof KubeError && e.status === 403);
            await assert.rejects(kube.request("PATCH", `/api/v1/namespaces/${NS}/pods/${name}`, { body: { metadata: { labels: { x: "y" } } }, contentType: "application/merge-patch+json" }),
                (e: unknown) => e instanceof KubeError && e.status === 403);
            await assert.rejects(kube.request("DELETE", `/api/v1/namespaces/${NS}/pods/${name}`), (e: unknown) => e instanceof KubeError && e.status === 403);
            await assert.rejects(kube.scaleDeployment(NS, "consumer", 2), (e: unknown) => e instanceof KubeError && e.status === 403);
        } finally {
            kube.close();
        }
    });

    it("the bundle the ConfigMap carries, run by node as its pod would: ticks, scales the Deployment, serves its metrics, stops on SIGTERM", async () => {
        // Mimir stand-in: answers the loop's two instant queries (900 frames queued, 100 fps), records the tenant.
        const tenants: (string | undefined)[] = [];
        const mimir = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                tenants.push(req.headers["x-scope-orgid"] as string | undefined);
                const value = new URLSearchParams(body).get("query")!.includes("pvapy_frame_queued") ? "900" : "100";
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [Date.now() / 1000, value] }] } }));
            });
        });
        await new Promise<void>((r) => mimir.listen(0, "127.0.0.1", r));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loop-pod-"));
        let child: ChildProcess | undefined;
        try {
            const bundle = bundleLoop(BUILT_IN_DECIDE["pd-replicas"], "charon:controllers.pdReplicas");
            fs.writeFileSync(path.join(dir, "loop.js"), bundle.code);
            const port = await freePort();
            const config: LoopConfig = {
                name: "pd-replicas", kind: "pd-replicas", periodMs: 1000, minIntervalMs: 0, dryRun: false,
                metrics: { url: `http://127.0.0.1:${(mimir.address() as AddressInfo).port}/prometheus`, tenant: "charon" },
                target: pdTarget, queries: pdReplicasQueries({ namespace: NS, deployment: "consumer", window: "5s" }),
                limits: { minReplicas: 1, maxReplicas: 5 }, params: pdParams, port,
            };
            fs.writeFileSync(path.join(dir, "config.json"), loopConfigJson(config));
            // The pod's service account mount: its token and the cluster CA.
            const sa = path.join(dir, "serviceaccount");
            fs.mkdirSync(sa);
            fs.writeFileSync(path.join(sa, "token"), tokens["pd-replicas"]);
            fs.writeFileSync(path.join(sa, "ca.crt"), cp.ca);
            const apiPort = new URL(cp.server).port;
            let logs = "";
            child = spawn(process.execPath, [path.join(dir, "loop.js")], {
                env: { PATH: process.env.PATH, CHARON_LOOP_CONFIG: path.join(dir, "config.json"), CHARON_SERVICE_ACCOUNT_DIR: sa, KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: apiPort },
                stdio: ["ignore", "pipe", "pipe"],
            });
            child.stdout!.on("data", (d) => (logs += d));
            child.stderr!.on("data", (d) => (logs += d));
            const deadline = Date.now() + 30_000;
            while (await replicasOf("consumer") !== 5) {
                assert.ok(Date.now() < deadline && child.exitCode === null, `the loop did not scale to 5:\n${logs}`);
                await new Promise((r) => setTimeout(r, 250));
            }
            const metrics = await new Promise<string>((resolve, reject) => http.get(`http://127.0.0.1:${port}/metrics`, (res) => {
                let b = "";
                res.on("data", (c) => (b += c));
                res.on("end", () => resolve(b));
            }).on("error", reject));
            assert.match(metrics, /charon_controller_actions_total\{controller="pd-replicas",kind="scale",outcome="applied",reason="clamped"\} 1/);
            assert.match(metrics, /charon_controller_signal\{controller="pd-replicas",signal="queued"\} 900/);
            assert.ok(tenants.length >= 2 && tenants.every((t) => t === "charon"), "every query carries the tenant");
            const first = JSON.parse(logs.split("\n")[0]);
            assert.deepEqual([first.controller, first.target, first.periodMs], ["pd-replicas", "deployment/consumer", 1000]);
            const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
            child.kill("SIGTERM");
            assert.equal(await exited, 0, logs);
        } finally {
            if (child && child.exitCode === null) {
                child.kill("SIGKILL");
            }
            mimir.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
