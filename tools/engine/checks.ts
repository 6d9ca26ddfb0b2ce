// What the scenarios read back from the control plane, the state and the hosts.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { Kube, Obj } from "./kube";
import type { TestHost } from "./test-host";

/** A Helm release as Helm stores it (Secret sh.helm.release.v1.<name>.v<n>: base64 of gzipped JSON). */
export interface HelmRelease {
    name: string;
    namespace: string;
    version: number;
    info: { status: string };
    chart: { metadata: { name: string; version: string; description?: string } };
    config: Obj;
}

export async function helmRelease(kube: Kube, namespace: string, name: string): Promise<HelmRelease | undefined> {
    const secrets = await kube.list(`/api/v1/namespaces/${namespace}/secrets?labelSelector=${encodeURIComponent(`owner=helm,name=${name}`)}`);
    const latest = secrets.sort((a, b) => Number(b.metadata.labels.version) - Number(a.metadata.labels.version))[0];
    if (!latest) {
        return undefined;
    }
    const helmPayload = Buffer.from(latest.data.release, "base64").toString("utf8");
    const json = zlib.gunzipSync(Buffer.from(helmPayload, "base64")).toString("utf8");
    return JSON.parse(json) as HelmRelease;
}

/** Objects of ours still in the control plane: charon's namespaces, test-chart objects, Helm releases, nodes, … */
export async function leftovers(kube: Kube): Promise<string[]> {
    const out: string[] = [];
    const named = (kind: string, items: Obj[]) => items.map((i) => `${kind} ${i.metadata.namespace ? `${i.metadata.namespace}/` : ""}${i.metadata.name}`);
    const ours = encodeURIComponent("app.kubernetes.io/part-of=charon");
    const test = encodeURIComponent("charon.io/test-chart=true");
    out.push(...named("Namespace", (await kube.list("/api/v1/namespaces")).filter((n) =>
        n.metadata.labels?.["app.kubernetes.io/part-of"] === "charon" || ["monitoring", "numaflow-system", "nvidia-gpu"].includes(n.metadata.name))));
    out.push(...named("CustomResourceDefinition", await kube.list(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions?labelSelector=${test}`)));
    out.push(...named("Helm release Secret", await kube.list(`/api/v1/secrets?labelSelector=${encodeURIComponent("owner=helm")}`)));
    out.push(...named("Node", await kube.list("/api/v1/nodes")));
    for (const [kind, p] of [
        ["Deployment", "/apis/apps/v1/deployments"], ["DaemonSet", "/apis/apps/v1/daemonsets"], ["Job", "/apis/batch/v1/jobs"],
        ["Service", "/api/v1/services"], ["ConfigMap", "/api/v1/configmaps"], ["Secret", "/api/v1/secrets"],
        ["PersistentVolume", "/api/v1/persistentvolumes"], ["StorageClass", "/apis/storage.k8s.io/v1/storageclasses"],
    ] as const) {
        out.push(...named(kind, await kube.list(`${p}?labelSelector=${ours}`)));
        out.push(...named(kind, await kube.list(`${p}?labelSelector=${test}`)));
    }
    out.push(...named("RuntimeClass/StorageClass (k3s stand-in)", [
        ...await kube.list(`/apis/node.k8s.io/v1/runtimeclasses?labelSelector=${encodeURIComponent("charon.io/k3s-standin=packaged")}`),
        ...await kube.list(`/apis/storage.k8s.io/v1/storageclasses?labelSelector=${encodeURIComponent("charon.io/k3s-standin=packaged")}`),
    ]));
    for (const plural of ["pipelines", "interstepbufferservices"]) {
        const r = await kube.request("GET", `/apis/numaflow.numaproj.io/v1alpha1/${plural}`);
        if (r.status === 200) {
            out.push(...named(plural, r.body.items ?? []));
        }
    }
    return [...new Set(out)];
}

/** A host's written files with size and mtime (to prove a run changed nothing there). */
export function hostSnapshot(host: TestHost): string {
    return host.writtenFiles().map((f) => {
        const st = fs.lstatSync(path.join(host.upperDir, f));
        return `${f} ${st.size} ${st.mtimeMs}`;
    }).join("\n");
}

/** Lines of the stand-ins' call logs on a host (every systemctl and k3s call appends one). */
export function hostCommandLog(host: TestHost): string {
    return ["/var/log/charon-fake-systemctl.log", "/var/log/charon-standin-k3s.log"].map((f) => {
        const p = path.join(host.upperDir, f);
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "";
    }).join("\n--\n");
}

/** Every file under the hosts' /var/log and the given directories, for the secrets scan. */
export function logFiles(hosts: TestHost[], dirs: string[]): string[] {
    const files: string[] = [];
    const walk = (d: string) => {
        if (!fs.existsSync(d)) {
            return;
        }
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) {
                walk(p);
            } else if (e.isFile() && /(\.log|\.jsonl|\.txt|\.json)$/.test(e.name)) {
                files.push(p);
            }
        }
    };
    for (const h of hosts) {
        walk(path.join(h.upperDir, "var", "log"));
    }
    dirs.forEach(walk);
    return files;
}

/** Every secret string in a `pulumi stack export --show-secrets` document, with where it sits in the state. */
export function secretPlaintexts(exportWithSecrets: string): { where: string; value: string }[] {
    const out: { where: string; value: string }[] = [];
    const walk = (v: unknown, where: string) => {
        if (Array.isArray(v)) {
            v.forEach((x, i) => walk(x, `${where}[${i}]`));
        } else if (v && typeof v === "object") {
            const o = v as Obj;
            if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270" && typeof o.plaintext === "string") {
                const value = JSON.parse(o.plaintext);
                // Secret strings; secret objects (e.g. Helm values holding a password) are named by their parts below.
                if (typeof value === "string") {
                    out.push({ where, value });
                }
            } else {
                for (const [k, x] of Object.entries(o)) {
                    walk(x, k === "resources" || where === "" ? k : `${where}.${k}`);
                }
            }
        }
    };
    const doc = JSON.parse(exportWithSecrets);
    for (const r of doc.deployment?.resources ?? []) {
        walk(r.outputs ?? {}, `${String(r.urn).split("::").pop()}.outputs`);
        walk(r.inputs ?? {}, `${String(r.urn).split("::").pop()}.inputs`);
    }
    return out;
}

/**
 * The needles a secret leaves in text: a one-line value itself; of a multi-line value (a kubeconfig, a PEM key)
 * its key material — private key bodies, client-key-data and token values — not the public certificates in it.
 */
export function needles(secret: string): string[] {
    const s = secret.trim();
    if (!s.includes("\n")) {
        return s.length >= 8 ? [s] : [];
    }
    const found: string[] = [];
    for (const m of s.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)) {
        found.push(...m[1].split("\n").map((l) => l.trim()).filter((l) => l.length >= 24));
    }
    for (const m of s.matchAll(/(?:client-key-data|token|password)["']?\s*[:=]\s*["']?([A-Za-z0-9+/=._-]{16,})/g)) {
        found.push(m[1]);
        if (/^[A-Za-z0-9+/=]+$/.test(m[1])) {
            const decoded = Buffer.from(m[1], "base64").toString("utf8");
            found.push(...needles(decoded));
        }
    }
    return [...new Set(found)];
}

/** Rows of a Parquet file as JSON objects (pyarrow, as the harvester tier reads them back). */
export function parquetRows(file: string): Obj[] {
    const script = "import json,sys\nimport pyarrow.parquet as pq\nt=pq.read_table(sys.argv[1])\nprint(json.dumps(t.to_pylist(), default=str))";
    return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 }));
}
