/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver (1.34, built from the Go module proxy by the
 * engine tier) on free loopback ports in a temp dir, with openssl-made certificates, a static admin token, RBAC
 * and service-account token signing. No kubelet: tests play it themselves (announced where they do). Written as a
 * self-contained harness so it can move onto the engine tier's shared one; teardown always runs.
 *
 * Binaries are looked up in $CHARON_KUBE_BIN_DIR, then on PATH, then in the engine tier's build cache
 * ($CHARON_ENGINE_CACHE or ~/.cache/charon-engine, <key>/bin); `findControlPlaneBinaries` says what is missing.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../helpers/prometheus";

const execFileP = promisify(execFile);

export interface ControlPlaneBinaries {
    etcd: string;
    kubeApiserver: string;
}

/** The binaries, or a sentence naming the missing ones and where they were looked for. */
export function findControlPlaneBinaries(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries | string {
    const engineCache = env.CHARON_ENGINE_CACHE ?? path.join(os.homedir(), ".cache", "charon-engine");
    const engineBins = fs.existsSync(engineCache) ? fs.readdirSync(engineCache).map((k) => path.join(engineCache, k, "bin")) : [];
    const dirs = [env.CHARON_KUBE_BIN_DIR, ...(env.PATH ?? "").split(path.delimiter), ...engineBins].filter((d): d is string => d !== undefined && d !== "");
    const find = (name: string) => dirs.map((d) => path.join(d, name)).find((p) => {
        try {
            fs.accessSync(p, fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
    const etcd = find("etcd");
    const kubeApiserver = find("kube-apiserver");
    if (etcd === undefined || kubeApiserver === undefined) {
        const missing = [etcd ? undefined : "etcd", kubeApiserver ? undefined : "kube-apiserver"].filter(Boolean).join(" and ");
        return `${missing} not found in $CHARON_KUBE_BIN_DIR, PATH or ${engineCache}/*/bin (the engine tier builds them: see tools/engine/README.md)`;
    }
    return { etcd, kubeApiserver };
}

export interface ControlPlane {
    /** https://127.0.0.1:<port> */
    server: string;
    /** PEM CA the server's certificate chains to. */
    ca: string;
    /** A bearer token in group system:masters. */
    adminToken: string;
    /** A kubeconfig for the admin token (file path). */
    kubeconfig: string;
    /** The last lines the components logged. */
    logs(): string;
    stop(): Promise<void>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
    await execFileP("openssl", args, { cwd: dir });
}

/** CA, serving certificate (loopback and in-cluster names), service-account key pair. */
async function certificates(dir: string): Promise<void> {
    await openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=charon-test-ca");
    await openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver");
    fs.writeFileSync(path.join(dir, "san.cnf"),
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n");
    await openssl(dir, "x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "apiserver.crt", "-days", "1", "-extfile", "san.cnf");
    await openssl(dir, "genrsa", "-out", "sa.key", "2048");
    await openssl(dir, "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub");
}

function launch(bin: string, args: string[], name: string, log: (line: string) => void): ChildProcess {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const onData = (d: Buffer) => log(`${name}: ${d.toString()}`);
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
            clearTimeout(kill);
            resolve();
        });
        child.kill("SIGTERM");
    });
}

async function waitReady(server: string, ca: string, token: string, children: ChildProcess[], timeoutMs: number, logs: () => string): Promise<void> {
    const https = await import("node:https");
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
        if (dead) {
            throw new Error(`a control-plane process exited early (${dead.exitCode ?? dead.signalCode}):\n${logs()}`);
        }
        const ok = await new Promise<boolean>((resolve) => {
            const req = https.request(`${server}/readyz`, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
                let body = "";
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve(res.statusCode === 200 && body.trim() === "ok"));
            });
            req.on("error", () => resolve(false));
            req.end();
        });
        if (ok) {
            return;
        }
        await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`kube-apiserver not ready after ${timeoutMs} ms:\n${logs()}`);
}

/** Starts etcd and kube-apiserver; on any failure everything started is stopped before the error is thrown. */
export async function startControlPlane(bins: ControlPlaneBinaries, opts: { readyTimeoutMs?: number } = {}): Promise<ControlPlane> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-kube-"));
    let logBuf = "";
    const log = (s: string) => {
        logBuf = (logBuf + s).slice(-40_000);
    };
    const logs = () => logBuf.split("\n").slice(-40).join("\n");
    const children: ChildProcess[] = [];
    const stop = async () => {
        for (const c of [...children].reverse()) {
            await stopChild(c);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        await certificates(dir);
        const adminToken = `admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
        fs.writeFileSync(path.join(dir, "tokens.csv"), `${adminToken},charon-test-admin,charon-test-admin,"system:masters"\n`, { mode: 0o600 });
        const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
        children.push(launch(bins.etcd, [
            "--name=charon-test", `--data-dir=${path.join(dir, "etcd")}`,
            `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
            `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
            `--initial-cluster=charon-test=http://127.0.0.1:${etcdPeer}`, "--log-level=warn",
        ], "etcd", log));
        const f = (name: string) => path.join(dir, name);
        children.push(launch(bins.kubeApiserver, [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${apiPort}`,
            "--endpoint-reconciler-type=none",
            `--tls-cert-file=${f("apiserver.crt")}`, `--tls-private-key-file=${f("apiserver.key")}`,
            `--client-ca-file=${f("ca.crt")}`, `--token-auth-file=${f("tokens.csv")}`,
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${f("sa.pub")}`, `--service-account-signing-key-file=${f("sa.key")}`,
            "--service-cluster-ip-range=10.96.0.0/16",
            `--cert-dir=${f("certs")}`, "--v=1",
        ], "kube-apiserver", log));
        const server = `https://127.0.0.1:${apiPort}`;
        const ca = fs.readFileSync(f("ca.crt"), "utf8");
        await waitReady(server, ca, adminToken, children, opts.readyTimeoutMs ?? 60_000, logs);
        const kubeconfig = f("kubeconfig");
        fs.writeFileSync(kubeconfig, [
            "apiVersion: v1", "kind: Config", "current-context: test",
            "clusters:", "- name: test", "  cluster:", `    server: ${server}`, `    certificate-authority-data: ${Buffer.from(ca).toString("base64")}`,
            "users:", "- name: admin", "  user:", `    token: ${adminToken}`,
            "contexts:", "- name: test", "  context: {cluster: test, user: admin}", "",
        ].join("\n"), { mode: 0o600 });
        return { server, ca, adminToken, kubeconfig, logs, stop };
    } catch (e) {
        await stop();
        throw e;
    }
}
