/** Stack settings for the cluster tests, resolved through the real settings pipeline (presets + defaults). */
import { resolveSettings, Settings } from "../../stacks";
import { MockOutputs } from "../helpers/pulumi-mocks";

export const sshKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-for-tests\n-----END OPENSSH PRIVATE KEY-----\n";

/** The dev preset: this machine, one local server, no GPU. */
export function devSettings(extra: Record<string, unknown> = {}): Settings {
    return resolveSettings({ preset: "dev", ...extra });
}

/** The gpu-node preset: one remote GPU machine. */
export function gpuNodeSettings(extra: Record<string, unknown> = {}): Settings {
    return resolveSettings({
        preset: "gpu-node",
        hosts: [{ name: "gpu1", address: "10.0.0.5", hostKey: "ssh-ed25519 AAAAC3Nza-fake-host-key" }],
        sshPrivateKey: sshKey,
        ...extra,
    });
}

/** The cluster preset: one server and `agents` agents over SSH (agent a2 has a GPU detected automatically). */
export function clusterSettings(agents = 3, extra: Record<string, unknown> = {}): Settings {
    const hosts: Record<string, unknown>[] = [{ name: "s1", role: "server", address: "10.0.0.10", gpu: false }];
    for (let i = 1; i <= agents; i++) {
        hosts.push({ name: `a${i}`, address: `10.0.0.${10 + i}`, gpu: "auto" });
    }
    return resolveSettings({ preset: "cluster", hosts, sshPrivateKey: sshKey, ...extra });
}

/** The exact config.yaml of the dev preset's one local server (node "dev", the presets' k3s defaults). */
export const devServerConfig = [
    "# k3s configuration of node \"dev\", managed by Pulumi (charon K3sCluster): edits are overwritten.",
    "node-name: \"dev\"",
    "token-file: \"/etc/rancher/k3s/charon-token\"",
    "write-kubeconfig-mode: \"0600\"",
    "cluster-cidr: \"10.31.0.0/16\"",
    "service-cidr: \"10.32.0.0/16\"",
    "tls-san:",
    "  - \"127.0.0.1\"",
    "disable:",
    "  - \"traefik\"",
    "kube-apiserver-arg:",
    "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
    "kube-scheduler-arg:",
    "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
    "kubelet-arg:",
    "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
    "",
].join("\n");

export const fakeKubeconfig = [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    certificate-authority-data: ZmFrZQ==",
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "users:",
    "- name: default",
    "  user:",
    "    client-key-data: c2VjcmV0",
    "",
].join("\n");

/** Command outputs as the hosts would print them: GPU counts per host, the kubeconfig. */
export function commandOutputs(gpus: Record<string, number> = {}): MockOutputs {
    const stdout = (name: string): Record<string, string> => {
        const host = name.replace(/^charon-/, "").replace(/-(prepare|kubeconfig)$/, "");
        if (name.endsWith("-prepare")) {
            return { stdout: `CHARON_GPU_COUNT=${gpus[host] ?? 0}\n` };
        }
        if (name.endsWith("-kubeconfig")) {
            return { stdout: fakeKubeconfig };
        }
        return { stdout: "" };
    };
    return {
        "command:remote:Command": (a) => stdout(a.name),
        "command:local:Command": (a) => stdout(a.name),
    };
}
