// A real Kubernetes control plane for the engine tier, run inside a test host's network namespace (the host that
// plays the first k3s server): etcd, kube-apiserver on 0.0.0.0:6443 there (the port a k3s server's API listens on;
// a private namespace, so nothing of this machine's collides), kube-controller-manager, kube-scheduler, and kwok
// playing the kubelet of every Node registered with the kwok annotation. Certificates come from openssl.
//
// The k3s stand-in on the test hosts hands out `adminKubeconfig` (server https://127.0.0.1:6443, as a real k3s
// writes /etc/rancher/k3s/k3s.yaml), so the program reads and rewrites it exactly like a real k3s's.
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { K3sSchema } from "../../components/cluster/settings";
import { Kube, kubeconfigText, sleep, waitFor } from "./kube";
import { builtVersion } from "./parts";

/** The pod and service networks the control plane runs with: the stack's defaults (the cluster layer's schema). */
export const CLUSTER_CIDR: string = K3sSchema.properties.clusterCidr.default;
export const SERVICE_CIDR: string = K3sSchema.properties.serviceCidr.default;
/** The first address of the service network (the `kubernetes` Service's ClusterIP, named in the API certificate). */
export const FIRST_SERVICE_IP = ((cidr: string) => {
    const [a, b, c, d] = cidr.split("/")[0].split(".").map(Number);
    return [a, b, c, d + 1].join(".");
})(SERVICE_CIDR);
export const API_PORT = 6443;
/** Nodes kwok manages carry this annotation (the k3s stand-in registers them with it). */
export const KWOK_ANNOTATION = { key: "kwok.x-k8s.io/node", value: "fake" };

export interface ControlPlaneOptions {
    /** Where certificates, data and logs go. */
    dir: string;
    /** Directory holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok. */
    bin: string;
    /** Network namespace the servers run in (the first server's test host). */
    netns: string;
    /** That host's address: the API certificate names it, outside clients use it. */
    address: string;
}

export interface Pem { cert: string; key: string }

export interface ControlPlane {
    /** https://<address>:6443 (from this machine over the lab network). */
    readonly apiUrl: string;
    readonly ca: string;
    /** The admin client (O=system:masters), what a k3s server's kubeconfig holds. */
    readonly admin: Pem;
    /** A client for the k3s stand-in's node registration (O=system:masters: the stand-in is no kubelet). */
    readonly node: Pem;
    /** A kubeconfig naming `server` with the admin client (YAML as k3s writes it, or JSON). */
    kubeconfig(server: string, who?: Pem, format?: "yaml" | "json"): string;
    /** Path of a kubeconfig for this machine (server https://<address>:6443). */
    readonly kubeconfigPath: string;
    readonly kube: Kube;
    readonly logDir: string;
    /** The kwok stages file it runs with. */
    readonly stagesFile: string;
    stop(): void;
}

function openssl(args: string[], cwd: string): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA, the API server's serving certificate and the client certificates, with openssl. */
function makePki(dir: string, address: string): { ca: string; server: Pem; admin: Pem; node: Pem; controllers: Pem; saKey: string; saPub: string } {
    fs.mkdirSync(dir, { recursive: true });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3", "-subj", "/CN=charon-engine-tier-ca"], dir);
    const sign = (name: string, subject: string, ext: string) => {
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
        openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
        openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3",
            "-out", `${name}.crt`, "-extfile", `${name}.ext`], dir);
        return { cert: fs.readFileSync(path.join(dir, `${name}.crt`), "utf8"), key: fs.readFileSync(path.join(dir, `${name}.key`), "utf8") };
    };
    const sans = ["IP:127.0.0.1", `IP:${address}`, `IP:${FIRST_SERVICE_IP}`, "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"];
    const server = sign("apiserver", "/CN=kube-apiserver",
        `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(",")}\n`);
    const client = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n";
    const admin = sign("admin", "/O=system:masters/CN=system:admin", client);
    const node = sign("k3s-standin-node", "/O=system:masters/CN=charon-k3s-standin-node", client);
    const controllers = sign("controllers", "/O=system:masters/CN=charon-control-plane", client);
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key"], dir);
    openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    for (const f of fs.readdirSync(dir)) {
        if (f.endsWith(".key")) {
            fs.chmodSync(path.join(dir, f), 0o600);
        }
    }
    return {
        ca: fs.readFileSync(path.join(dir, "ca.crt"), "utf8"), server, admin, node, controllers,
        saKey: path.join(dir, "sa.key"), saPub: path.join(dir, "sa.pub"),
    };
}

/** Free TCP ports on 127.0.0.1 inside a network namespace (asked of the kernel there, all at once). */
function freePortsIn(netns: string, count: number): number[] {
    const script = `import socket\ns=[socket.socket() for _ in range(${count})]\n[x.bind(("127.0.0.1",0)) for x in s]\nprint(" ".join(str(x.getsockname()[1]) for x in s))`;
    const out = execFileSync("ip", ["netns", "exec", netns, "python3", "-c", script], { encoding: "utf8" });
    return out.trim().split(" ").map(Number);
}

/** The module cache directory of a module version (downloaded if needed, with the go command). */
export function goModuleDir(module: string, version: string): string {
    const env = { ...process.env };
    delete env.GOFLAGS;
    const out = execFileSync("go", ["mod", "download", "-json", `${module}@${version}`], { encoding: "utf8", env, cwd: "/" });
    const info = JSON.parse(out) as { Dir?: string; Error?: string };
    if (!info.Dir) {
        throw new Error(`go mod download ${module}@${version}: ${info.Error ?? "no directory"}`);
    }
    return info.Dir;
}

/**
 * The kwok stages: kwok's own (read from its module in the Go module cache, not copied into the repository) plus
 * the tier's: Job pods complete after their stream's --runtime, and running containers report their resources
 * in status (what a kubelet does after admitting or resizing them; the API server refuses in-place resizes of pods
 * whose status carries no resources).
 */
export function kwokStages(kwokVersion: string): { text: string; sources: string[] } {
    const dir = path.join(goModuleDir("sigs.k8s.io/kwok", kwokVersion), "kustomize", "stage");
    const own = ["node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
        "pod/fast/pod-ready.yaml", "pod/fast/pod-delete.yaml"];
    const docs: any[] = own.map((f) => yaml.load(fs.readFileSync(path.join(dir, f), "utf8")));
    // kwok's pod-complete finishes a Job's pod as soon as it runs; the stream Job runs `--runtime <seconds>`
    // (workflows/experiment.ts simServerArgs), so this copy of it waits that long first.
    const complete: any = yaml.load(fs.readFileSync(path.join(dir, "pod/fast/pod-complete.yaml"), "utf8"));
    complete.metadata.name = "pod-complete-after-runtime";
    complete.spec.delay = {
        durationFrom: {
            jq: {
                expression: '(.spec.containers[0].args // []) as $a | ($a | index("--runtime")) as $i | if $i == null then "0s" else ($a[$i + 1] + "s") end',
            },
        },
    };
    docs.push(complete);
    docs.push({
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "Stage",
        metadata: { name: "charon-container-resources" },
        spec: {
            resourceRef: { apiGroup: "v1", kind: "Pod" },
            selector: {
                matchExpressions: [
                    { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
                    { key: ".status.phase", operator: "In", values: ["Running"] },
                    {
                        key: "[.spec.containers[] | {name, r: (.resources // {})}] == [(.status.containerStatuses // [])[] | {name, r: (.resources // {})}]",
                        operator: "In", values: ["false"],
                    },
                ],
            },
            next: {
                // kwok computes the patch from the whole rendered status: every field of each container's status
                // is carried over, resources added.
                statusTemplate: [
                    "{{ $root := . }}",
                    "containerStatuses:",
                    "{{ range $i, $c := .spec.containers }}",
                    "{{ $st := index $root.status.containerStatuses $i }}",
                    "- name: {{ $c.name | Quote }}",
                    "  image: {{ $st.image | Quote }}",
                    "  ready: {{ $st.ready }}",
                    "  restartCount: {{ $st.restartCount }}",
                    "  {{ with $st.started }}started: {{ . }}{{ end }}",
                    "  {{ with $st.state }}state:",
                    "    {{ YAML . 2 }}{{ end }}",
                    "  resources:",
                    "    {{ with $c.resources }}{{ YAML . 2 }}{{ else }}{}{{ end }}",
                    "{{ end }}",
                ].join("\n"),
            },
        },
    });
    return {
        text: docs.map((d) => yaml.dump(d, { lineWidth: -1 })).join("---\n"),
        sources: [...own, "pod/fast/pod-complete.yaml (+ delay: the stream's --runtime)"].map((f) => `sigs.k8s.io/kwok@${kwokVersion}/kustomize/stage/${f}`)
            .concat(["charon-container-resources (the tier's: container resources in status, resizes mirrored)"]),
    };
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
    const pki = makePki(path.join(o.dir, "pki"), o.address);
    const logDir = path.join(o.dir, "logs");
    fs.mkdirSync(logDir, { recursive: true });
    const procs: { name: string; child: ChildProcess }[] = [];
    let stopped = false;
    const start = (name: string, args: string[]) => {
        const log = fs.openSync(path.join(logDir, `${name}.log`), "a");
        const child = spawn("ip", ["netns", "exec", o.netns, path.join(o.bin, name), ...args], { stdio: ["ignore", log, log] });
        fs.closeSync(log);
        child.on("exit", (code, signal) => {
            if (!stopped) {
                fs.appendFileSync(path.join(logDir, `${name}.log`), `\n[engine tier] ${name} exited (${code ?? signal})\n`);
            }
        });
        procs.push({ name, child });
        return child;
    };
    const stop = () => {
        if (stopped) {
            return;
        }
        stopped = true;
        for (const p of [...procs].reverse()) {
            p.child.kill("SIGTERM");
        }
        const deadline = Date.now() + 5000;
        while (procs.some((p) => p.child.exitCode === null && p.child.signalCode === null) && Date.now() < deadline) {
            spawnSync("sleep", ["0.1"]);
        }
        for (const p of procs) {
            if (p.child.exitCode === null && p.child.signalCode === null) {
                p.child.kill("SIGKILL");
            }
        }
    };
    process.on("exit", stop);

    try {
        const [etcdClient, etcdPeer] = freePortsIn(o.netns, 2);
        const data = path.join(o.dir, "etcd");
        start("etcd", [
            "--name", "charon-engine-tier", "--data-dir", data,
            "--listen-client-urls", `http://127.0.0.1:${etcdClient}`, "--advertise-client-urls", `http://127.0.0.1:${etcdClient}`,
            "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
            "--initial-cluster", `charon-engine-tier=http://127.0.0.1:${etcdPeer}`, "--unsafe-no-fsync", "--log-level", "warn",
        ]);
        const file = (name: string, text: string) => {
            const p = path.join(o.dir, "pki", name);
            fs.writeFileSync(p, text, { mode: 0o600 });
            return p;
        };
        start("kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=0.0.0.0", `--secure-port=${API_PORT}`, `--advertise-address=${o.address}`,
            "--endpoint-reconciler-type=none",
            `--tls-cert-file=${file("apiserver.crt", pki.server.cert)}`, `--tls-private-key-file=${path.join(o.dir, "pki", "apiserver.key")}`,
            `--client-ca-file=${path.join(o.dir, "pki", "ca.crt")}`,
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`, "--profiling=false", "--v=1",
        ]);
        const inside = `https://127.0.0.1:${API_PORT}`;
        const controllersKubeconfig = file("controllers.kubeconfig", kubeconfigText(inside, pki.ca, pki.controllers.cert, pki.controllers.key));
        const kube = new Kube({ server: `https://${o.address}:${API_PORT}`, ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key });
        await waitFor("kube-apiserver /readyz", 90_000, async () => {
            const r = await kube.request("GET", "/readyz", undefined, undefined, 3000);
            return r.status === 200 ? true : undefined;
        });
        start("kube-controller-manager", [
            `--kubeconfig=${controllersKubeconfig}`, `--authentication-kubeconfig=${controllersKubeconfig}`,
            `--authorization-kubeconfig=${controllersKubeconfig}`,
            "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
            `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${path.join(o.dir, "pki", "ca.crt")}`,
            "--use-service-account-credentials=false", "--controllers=*,-nodeipam", "--v=1",
        ]);
        start("kube-scheduler", [
            `--kubeconfig=${controllersKubeconfig}`, `--authentication-kubeconfig=${controllersKubeconfig}`,
            `--authorization-kubeconfig=${controllersKubeconfig}`, "--bind-address=127.0.0.1", "--secure-port=0",
            "--leader-elect=false", "--v=1",
        ]);
        const stages = kwokStages(builtVersion(o.bin, "sigs.k8s.io/kwok"));
        const stagesFile = path.join(o.dir, "kwok-stages.yaml");
        fs.writeFileSync(stagesFile, stages.text);
        start("kwok", [
            `--kubeconfig=${controllersKubeconfig}`, "-c", stagesFile, "--manage-all-nodes=false",
            `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION.key}=${KWOK_ANNOTATION.value}`,
            `--cidr=${CLUSTER_CIDR}`, `--node-ip=${o.address}`, "--node-lease-duration-seconds=40",
        ]);
        // The controller manager creates the service-account token controller's objects; wait until the default
        // ServiceAccount exists (pods of every namespace need it) before handing the cluster out.
        await waitFor("the default ServiceAccount (kube-controller-manager running)", 90_000, async () =>
            (await kube.find("/api/v1/namespaces/default/serviceaccounts/default")) ? true : undefined);
        for (const p of procs) {
            if (p.child.exitCode !== null) {
                throw new Error(`${p.name} exited with ${p.child.exitCode}: ${tailFile(path.join(logDir, `${p.name}.log`), 20)}`);
            }
        }
        const kubeconfigPath = file("admin-outside.kubeconfig", kubeconfigText(kube.creds.server, pki.ca, pki.admin.cert, pki.admin.key));
        return {
            apiUrl: kube.creds.server, ca: pki.ca, admin: pki.admin, node: pki.node,
            kubeconfig: (server, who = pki.admin, format = "yaml") => kubeconfigText(server, pki.ca, who.cert, who.key, "default", format),
            kubeconfigPath, kube, logDir, stagesFile,
            stop: () => {
                kube.close();
                stop();
            },
        };
    } catch (e) {
        stop();
        throw e;
    }
}

export function tailFile(file: string, lines: number): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

export { sleep };
