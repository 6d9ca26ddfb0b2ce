// STAND-IN for the Numaflow controller's status reporting (the real controller needs its images to run, which the
// simulated nodes cannot do). It plays the controller process of the numaflow test chart: it acts only while that
// chart's numaflow-controller Deployment is available, and it reports what the real controller reports once the
// objects it would create are healthy:
//   InterStepBufferService  phase Running with Configured/Deployed/ChildrenResourcesHealthy, when
//                           spec.jetstream.version is one of the versions in the controller's ConfigMap
//                           (numaflow-controller-config from the v1.7.5 manifests); otherwise phase Failed with
//                           the controller's message, as the real one refuses an unknown version
//   Pipeline                phase Running with Configured, Deployed, DaemonServiceHealthy,
//                           SideInputsManagersHealthy and VerticesHealthy (what `pulumi.com/waitFor:
//                           condition=VerticesHealthy` waits for) once its ISB is Running; Pending otherwise
// It creates no JetStream StatefulSet, Vertex objects or vertex pods: nothing of the pipeline actually runs.
import * as yaml from "js-yaml";
import { Kube, Obj, resourcePath, sleep } from "./kube";

const GROUP = "numaflow.numaproj.io";
const VERSION = "v1alpha1";

export interface NumaflowStandin {
    /** What it did, one line per status change (for the tier's log). */
    readonly events: string[];
    stop(): Promise<void>;
}

function condition(type: string, status: "True" | "False", reason: string, message: string, now: string) {
    return { type, status, reason, message, lastTransitionTime: now };
}

async function controllerAvailable(kube: Kube): Promise<{ namespace: string; versions: string[] } | undefined> {
    const deployments = await kube.list("/apis/apps/v1/deployments?labelSelector=" + encodeURIComponent("charon.io/test-chart=true"));
    const controller = deployments.find((d) => d.metadata.name === "numaflow-controller" && (d.status?.availableReplicas ?? 0) > 0);
    if (!controller) {
        return undefined;
    }
    const cm = await kube.find(`/api/v1/namespaces/${controller.metadata.namespace}/configmaps/numaflow-controller-config`);
    const config = cm?.data?.["controller-config.yaml"];
    const parsed: any = config ? yaml.load(config) : {};
    const versions = (parsed?.isbsvc?.jetstream?.versions ?? []).map((v: any) => String(v.version));
    return { namespace: controller.metadata.namespace, versions };
}

function differs(status: Obj | undefined, want: Obj): boolean {
    if (!status) {
        return true;
    }
    return status.phase !== want.phase || status.observedGeneration !== want.observedGeneration || status.message !== want.message
        || JSON.stringify((status.conditions ?? []).map((c: Obj) => [c.type, c.status])) !== JSON.stringify(want.conditions.map((c: Obj) => [c.type, c.status]));
}

export function startNumaflowStandin(kube: Kube): NumaflowStandin {
    const events: string[] = [];
    let running = true;
    const loop = (async () => {
        while (running) {
            try {
                await reconcile(kube, events);
            } catch (e) {
                const line = `numaflow stand-in: ${(e as Error).message}`;
                if (events[events.length - 1] !== line) {
                    events.push(line);
                }
            }
            await sleep(1000);
        }
    })();
    return {
        events,
        stop: async () => {
            running = false;
            await loop;
        },
    };
}

async function reconcile(kube: Kube, events: string[]): Promise<void> {
    const controller = await controllerAvailable(kube);
    if (!controller) {
        return;
    }
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const isbs = await kube.list(resourcePath(GROUP, VERSION, "interstepbufferservices"));
    const healthy = new Set<string>();
    for (const isb of isbs) {
        if (isb.metadata.deletionTimestamp) {
            continue;
        }
        const version = String(isb.spec?.jetstream?.version ?? "");
        const ok = controller.versions.includes(version);
        const want = ok ? {
            phase: "Running", type: "jetstream", message: "", observedGeneration: isb.metadata.generation,
            conditions: [
                condition("Configured", "True", "Successful", "Successful", now),
                condition("Deployed", "True", "Successful", "Successful", now),
                condition("ChildrenResourcesHealthy", "True", "Healthy", "Healthy", now),
            ],
            config: { jetstream: { url: `nats://isbsvc-${isb.metadata.name}-js-svc.${isb.metadata.namespace}.svc:4222`, streamConfig: isb.spec?.jetstream?.bufferConfig ?? "" } },
        } : {
            phase: "Failed", type: "jetstream", observedGeneration: isb.metadata.generation,
            message: `Failed to get jetstream version "${version}": unsupported version "${version}", supported: ${controller.versions.join(", ")}`,
            conditions: [condition("Configured", "False", "UnsupportedVersion", `unsupported version "${version}"`, now)],
        };
        if (ok) {
            healthy.add(`${isb.metadata.namespace}/${isb.metadata.name}`);
        }
        if (differs(isb.status, want)) {
            await kube.mergePatch(`${resourcePath(GROUP, VERSION, "interstepbufferservices", isb.metadata.namespace, isb.metadata.name)}/status`, { status: want });
            events.push(`numaflow stand-in: InterStepBufferService ${isb.metadata.namespace}/${isb.metadata.name} → ${want.phase}${want.message ? ` (${want.message})` : ""}`);
        }
    }
    const pipelines = await kube.list(resourcePath(GROUP, VERSION, "pipelines"));
    for (const p of pipelines) {
        if (p.metadata.deletionTimestamp) {
            continue;
        }
        const isbName = p.spec?.interStepBufferServiceName || "default";
        const vertices: Obj[] = p.spec?.vertices ?? [];
        const ready = healthy.has(`${p.metadata.namespace}/${isbName}`);
        const want = ready ? {
            phase: "Running", message: "", observedGeneration: p.metadata.generation,
            conditions: ["Configured", "Deployed", "DaemonServiceHealthy", "SideInputsManagersHealthy", "VerticesHealthy"]
                .map((t) => condition(t, "True", "Successful", "Successful", now)),
            vertexCount: vertices.length,
            sourceCount: vertices.filter((v) => v.source).length,
            sinkCount: vertices.filter((v) => v.sink).length,
            udfCount: vertices.filter((v) => v.udf).length,
            mapUDFCount: vertices.filter((v) => v.udf && !v.udf.groupBy).length,
            reduceUDFCount: vertices.filter((v) => v.udf?.groupBy).length,
            lastUpdated: now,
        } : {
            phase: "Pending", observedGeneration: p.metadata.generation,
            message: `InterStepBufferService ${isbName} is not running`,
            conditions: [condition("Configured", "False", "ISBSvcNotReady", `InterStepBufferService ${isbName} is not running`, now)],
        };
        if (differs(p.status, want)) {
            await kube.mergePatch(`${resourcePath(GROUP, VERSION, "pipelines", p.metadata.namespace, p.metadata.name)}/status`, { status: want });
            events.push(`numaflow stand-in: Pipeline ${p.metadata.namespace}/${p.metadata.name} → ${want.phase}${want.message ? ` (${want.message})` : ""}`);
        }
    }
}
