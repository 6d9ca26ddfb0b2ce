/** What the cluster learns from its hosts, and how it is read back: pure functions over command output. */
import { HostSettings } from "./settings";
import { apiServerPort } from "./constants";

/** One Kubernetes node as the layers above see it. */
export interface NodeFacts {
    /** Node name (the host's name). */
    name: string;
    role: "server" | "agent";
    /** Address the node is reached at (127.0.0.1 for the local host). */
    address: string;
    /** NVIDIA GPUs the node offers (0 without GPU support). */
    gpuCount: number;
}

/** The address Pulumi and the other hosts reach a host at: its SSH address, or 127.0.0.1 for the local host. */
export function reachableAddress(host: Pick<HostSettings, "local" | "address">): string {
    return host.local || host.address === undefined ? "127.0.0.1" : host.address;
}

/** `https://<address>:6443`, with IPv6 addresses bracketed. */
export function apiServerUrl(address: string): string {
    return `https://${address.includes(":") ? `[${address}]` : address}:${apiServerPort}`;
}

const gpuLine = /^CHARON_GPU_COUNT=(\d+)$/gm;

/**
 * The GPU count prepare-host.sh reports on its stdout (`CHARON_GPU_COUNT=<n>`; the last such line wins).
 * Output that is not there yet (undefined or empty, e.g. under mocks) counts as 0; other output without the line
 * is an error.
 */
export function parseGpuCount(stdout: string | undefined): number {
    if (stdout === undefined || stdout.trim() === "") {
        return 0;
    }
    const matches = [...stdout.matchAll(gpuLine)];
    if (matches.length === 0) {
        throw new Error(`host preparation printed no CHARON_GPU_COUNT=<n> line; its output was: ${stdout.slice(0, 200)}`);
    }
    return Number(matches[matches.length - 1][1]);
}

/**
 * Points the kubeconfig k3s wrote (server https://127.0.0.1:6443) at the address the server is reached at.
 * Only loopback server lines are rewritten.
 */
export function rewriteKubeconfigServer(kubeconfig: string, address: string): string {
    return kubeconfig.replace(
        /^(\s*server:\s*)https:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)\s*$/gm,
        (_line, prefix: string, port: string) => `${prefix}${apiServerUrl(address).replace(/:\d+$/, `:${port}`)}`,
    );
}
