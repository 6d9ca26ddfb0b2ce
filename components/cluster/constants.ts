/** Facts of the cluster layer defined once: ports, paths on the hosts, labels, repository addresses. */

/** Kubernetes API (k3s supervisor) port on servers. */
export const apiServerPort = 6443;

/** A host port opened in firewalld. */
export interface PortRule {
    port: number;
    protocol: "tcp" | "udp";
}

/** Ports every node needs open: kubelet (metrics, logs, exec) and the flannel VXLAN overlay. */
export const nodePorts: PortRule[] = [
    { port: 10250, protocol: "tcp" },
    { port: 8472, protocol: "udp" },
];

/** Ports only servers need open: the Kubernetes API. */
export const serverPorts: PortRule[] = [{ port: apiServerPort, protocol: "tcp" }];

/** Embedded etcd client and peer ports, opened on servers when there is more than one. */
export const etcdPorts: PortRule[] = [
    { port: 2379, protocol: "tcp" },
    { port: 2380, protocol: "tcp" },
];

/** Node label the NVIDIA device plugin's default affinity selects. */
export const gpuNodeLabel = { key: "nvidia.com/gpu.present", value: "true" };

/**
 * The k3s files charon writes or reads on a host, defined once; the scripts get them through their environment.
 * config: where k3s reads its configuration; dropIn: the stack's extra server/agent args; token: the cluster token,
 * written 0600 from the command's stdin and referenced with `token-file`; kubeconfig: the admin kubeconfig k3s
 * writes on servers.
 */
export const k3sPaths = {
    config: "/etc/rancher/k3s/config.yaml",
    dropIn: "/etc/rancher/k3s/config.yaml.d/50-charon.yaml",
    token: "/etc/rancher/k3s/charon-token",
    kubeconfig: "/etc/rancher/k3s/k3s.yaml",
} as const;

/**
 * File-name prefix of the air-gapped files staged on a remote host, in the SSH user's home (CopyToRemote does not
 * create parent directories; the install script resolves relative paths against $HOME).
 */
export const airgapStagingDir = ".charon-airgap";

/** Base packages every host gets. */
export const basePackages = ["curl", "ca-certificates"];

/** NVIDIA container toolkit apt repository (signed-by its own key) and the packages pinned together. */
export const nvidiaRepository = {
    keyUrl: "https://nvidia.github.io/libnvidia-container/gpgkey",
    debUrl: "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH)",
    packages: ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"],
};

/** SSH dialing: generous so freshly booted hosts have time to come up. */
export const sshDial = { dialErrorLimit: 20, perDialTimeout: 30 };

/** How long a node drain may take on delete before it gives up (seconds). */
export const drainTimeoutSeconds = 300;
