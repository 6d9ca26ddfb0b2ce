// The machines and cluster one scenario runs against: SSH test hosts on a lab network, the real control plane in
// the first host's namespace (that host plays the first k3s server), the k3s stand-in and its inputs on every host,
// the Numaflow controller stand-in, and the real Prometheus behind the Mimir gateway Service.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { nvidiaContainerToolkitVersion, k3sVersion } from "../../components/versions";
import { nvidiaRepository } from "../../components/cluster/constants";
import { CLUSTER_CIDR, ControlPlane, startControlPlane } from "./control-plane";
import { nvidiaSmiStandin, standinFiles, standinInstaller, standinK3s } from "./k3s-standin";
import { MetricsEndpoint, startMetricsEndpoint } from "./metrics-endpoint";
import { NumaflowStandin, startNumaflowStandin } from "./numaflow-standin";
import { builtVersion } from "./parts";
import { HostOptions, Lab, startLab, TestHost } from "./test-host";

export interface HostSpec {
    name: string;
    /** GPUs the host has (an nvidia-smi stand-in lists them; the NVIDIA container toolkit is pre-installed). */
    gpus?: number;
}

export interface PlatformOptions {
    name: string;
    dir: string;
    /** The engine's bin directory (control plane binaries, kubectl, kwok). */
    bin: string;
    hosts: HostSpec[];
    /** Directories bind-mounted into the first host at their own path (the CLI runs there in the dev scenario). */
    binds?: string[];
    readOnlyBinds?: string[];
    /** The Mimir gateway Service the metrics endpoint serves, and the queries file whose metrics it backfills. */
    metrics?: { namespace: string; service: string; routePrefix: string; queriesFile: string; origin: number };
}

export interface Platform {
    readonly lab: Lab;
    readonly hosts: TestHost[];
    readonly server: TestHost;
    readonly cp: ControlPlane;
    /** Local paths of the k3s stand-in binary and install script (charon:k3s.airgap.binary / installScript). */
    readonly airgap: { binary: string; installScript: string };
    readonly numaflow: NumaflowStandin;
    readonly metrics?: MetricsEndpoint;
    /** Files and logs each host wrote before the program ran (its image preparation). */
    readonly baseline: Map<string, Set<string>>;
    teardown(): Promise<void>;
}

/** Dummy Debian packages standing in for the NVIDIA container toolkit at its pinned version (a prepared GPU host). */
function toolkitDebs(dir: string): string {
    const out = path.join(dir, "nvidia-debs");
    fs.mkdirSync(out, { recursive: true });
    for (const pkg of nvidiaRepository.packages) {
        const root = path.join(dir, "deb-src", pkg);
        fs.mkdirSync(path.join(root, "DEBIAN"), { recursive: true });
        fs.writeFileSync(path.join(root, "DEBIAN", "control"), [
            `Package: ${pkg}`, `Version: ${nvidiaContainerToolkitVersion}`, "Architecture: all",
            "Maintainer: charon engine tier <engine-tier@charon.invalid>",
            "Description: STAND-IN of the NVIDIA container toolkit package (charon engine-tier GPU test host)", "",
        ].join("\n"));
        execFileSync("dpkg-deb", ["--build", "--root-owner-group", root, path.join(out, `${pkg}.deb`)], { stdio: "ignore" });
    }
    return out;
}

export async function startPlatform(o: PlatformOptions): Promise<Platform> {
    fs.mkdirSync(o.dir, { recursive: true });
    const lab = startLab(o.name);
    const hosts: TestHost[] = [];
    let cp: ControlPlane | undefined;
    let numaflow: NumaflowStandin | undefined;
    let metrics: MetricsEndpoint | undefined;
    const teardown = async () => {
        metrics?.stop();
        await numaflow?.stop();
        cp?.stop();
        lab.teardown();
    };
    try {
        const kubectlDir = path.dirname(fs.realpathSync(path.join(o.bin, "kubectl")));
        const debs = o.hosts.some((h) => (h.gpus ?? 0) > 0) ? toolkitDebs(o.dir) : undefined;
        o.hosts.forEach((spec, i) => {
            const options: HostOptions = {
                name: spec.name,
                readOnly: { bin: kubectlDir, ...(debs && spec.gpus ? { debs } : {}) },
                sbin: spec.gpus ? { "nvidia-smi": nvidiaSmiStandin(spec.gpus) } : {},
                ...(i === 0 ? { binds: o.binds, readOnlyBinds: o.readOnlyBinds } : {}),
            };
            hosts.push(lab.addHost(options));
        });
        const server = hosts[0];
        cp = await startControlPlane({ dir: path.join(o.dir, "control-plane"), bin: o.bin, netns: server.netns, address: server.address });
        // The API server reaches simulated pod IPs (the metrics endpoint's namespaces) over the lab bridge.
        server.routeOnLink(CLUSTER_CIDR);
        const facts = { k3sVersion, kubernetesVersion: builtVersion(o.bin, "k8s.io/kubernetes") };
        const files = standinFiles(cp.kubeconfig("https://127.0.0.1:6443"), cp.kubeconfig("https://127.0.0.1:6443", cp.node, "json"), facts);
        for (const h of hosts) {
            for (const [rel, f] of Object.entries(files)) {
                h.putFile(rel, f.content, f.mode);
            }
        }
        const airgapDir = path.join(o.binds?.[0] ?? o.dir, "airgap");
        fs.mkdirSync(airgapDir, { recursive: true });
        const airgap = { binary: path.join(airgapDir, "k3s"), installScript: path.join(airgapDir, "install.sh") };
        fs.writeFileSync(airgap.binary, standinK3s(facts), { mode: 0o755 });
        fs.writeFileSync(airgap.installScript, standinInstaller(), { mode: 0o755 });
        // GPU hosts come with the toolkit installed (its apt repository is on the internet): dpkg records it.
        hosts.forEach((h, i) => {
            if (o.hosts[i].gpus) {
                const r = h.ssh("dpkg -i /opt/charon-test/debs/*.deb >/dev/null");
                if (r.status !== 0) {
                    throw new Error(`preparing GPU host ${h.name}: ${r.stderr}`);
                }
            }
        });
        const baseline = new Map(hosts.map((h) => [h.name, new Set(h.writtenFiles())]));
        numaflow = startNumaflowStandin(cp.kube);
        if (o.metrics) {
            metrics = await startMetricsEndpoint({ lab, kube: cp.kube, dir: path.join(o.dir, "metrics"), ...o.metrics });
        }
        return { lab, hosts, server, cp, airgap, numaflow, metrics, baseline, teardown };
    } catch (e) {
        await teardown();
        throw e;
    }
}
