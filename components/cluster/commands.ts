/**
 * The text of every command the cluster runs, per host: which script, with which variables. Pure functions, so
 * tests can render exactly what a host will execute and run it against a throwaway root.
 */
import * as path from "node:path";
import { HostSettings, K3sSettings } from "./settings";
import { k3sInstallScriptUrl, nvidiaContainerToolkitVersion } from "../versions";
import {
    airgapStagingDir, basePackages, drainTimeoutSeconds, etcdPorts, k3sPaths, nodePorts, nvidiaRepository, PortRule, serverPorts,
} from "./constants";
import { RenderedK3sConfig } from "./k3s-config";
import { renderScriptCommand } from "./script";

/** A command's lifecycle texts (undefined: nothing runs at that point). */
export interface CommandTexts {
    create?: string;
    update?: string;
    delete?: string;
}

const sameOnUpdate = (text: string, del?: string): CommandTexts => ({ create: text, update: text, delete: del });

/** prepare-host.sh: OS check, base packages, GPU detection, NVIDIA toolkit. Nothing to undo on delete. */
export function prepareHostCommand(host: Pick<HostSettings, "name" | "gpu">): CommandTexts {
    return sameOnUpdate(renderScriptCommand("prepare-host", {
        CHARON_HOST: host.name,
        CHARON_GPU: String(host.gpu),
        CHARON_BASE_PACKAGES: basePackages.join(" "),
        CHARON_NVIDIA_TOOLKIT_VERSION: nvidiaContainerToolkitVersion,
        CHARON_NVIDIA_PACKAGES: nvidiaRepository.packages.join(" "),
        CHARON_NVIDIA_KEY_URL: nvidiaRepository.keyUrl,
        CHARON_NVIDIA_DEB_URL: nvidiaRepository.debUrl,
    }, `charon: prepare host ${host.name}`));
}

/** The ports a host opens: kubelet and flannel everywhere, the API (and etcd in HA) on servers, then the extras. */
export function firewallPorts(role: "server" | "agent", serverCount: number, openPorts: PortRule[]): string[] {
    const rules = [
        ...(role === "server" ? serverPorts : []),
        ...nodePorts,
        ...(role === "server" && serverCount > 1 ? etcdPorts : []),
        ...openPorts,
    ].map((p) => `${p.port}/${p.protocol}`);
    return [...new Set(rules)];
}

/** What a host's firewall trusts and opens. */
export function firewallRules(host: Pick<HostSettings, "role">, serverCount: number, k3s: Pick<K3sSettings, "clusterCidr" | "serviceCidr">,
    openPorts: PortRule[]): { trustedSources: string[]; openPorts: string[] } {
    return { trustedSources: [k3s.clusterCidr, k3s.serviceCidr], openPorts: firewallPorts(host.role, serverCount, openPorts) };
}

/** firewall.sh: trusted pod/service networks and open ports while firewalld runs; removed on delete. */
export function firewallCommand(host: Pick<HostSettings, "name" | "role">, serverCount: number,
    k3s: Pick<K3sSettings, "clusterCidr" | "serviceCidr">, openPorts: PortRule[]): CommandTexts {
    const rules = firewallRules(host, serverCount, k3s, openPorts);
    const env = (action: "apply" | "remove") => ({
        CHARON_HOST: host.name,
        CHARON_FIREWALL_ACTION: action,
        CHARON_TRUSTED_SOURCES: rules.trustedSources.join(" "),
        CHARON_OPEN_PORTS: rules.openPorts.join(" "),
    });
    return sameOnUpdate(
        renderScriptCommand("firewall", env("apply"), `charon: firewall of host ${host.name}`),
        renderScriptCommand("firewall", { CHARON_HOST: host.name, CHARON_FIREWALL_ACTION: "remove" }, `charon: remove the firewall rules of host ${host.name}`),
    );
}

/** host-dirs.sh: creates the directories; removes the ones it created on delete. */
export function hostDirectoriesCommand(host: Pick<HostSettings, "name">, directories: string[]): CommandTexts {
    return sameOnUpdate(
        renderScriptCommand("host-dirs", {
            CHARON_HOST: host.name,
            CHARON_DIRS_ACTION: "create",
            CHARON_HOST_DIRECTORIES: directories.join("\n"),
        }, `charon: host directories of ${host.name}`),
        renderScriptCommand("host-dirs", { CHARON_HOST: host.name, CHARON_DIRS_ACTION: "remove" }, `charon: remove the host directories of ${host.name}`),
    );
}

/** Where the install script finds the air-gapped files on the host (remote: staged in the user's home). */
export interface AirgapPaths {
    binary: string;
    installer: string;
    images?: string;
}

/** Air-gapped file locations: local hosts use the given files directly, remote hosts their staged copies. */
export function airgapPaths(airgap: NonNullable<K3sSettings["airgap"]>, local: boolean): AirgapPaths {
    if (local) {
        return {
            binary: path.resolve(airgap.binary),
            installer: path.resolve(airgap.installScript),
            images: airgap.images === undefined ? undefined : path.resolve(airgap.images),
        };
    }
    return {
        binary: `${airgapStagingDir}-k3s`,
        installer: `${airgapStagingDir}-install.sh`,
        images: airgap.images === undefined ? undefined : `${airgapStagingDir}-${path.basename(airgap.images)}`,
    };
}

/** The air-gap files the program copied to a remote host (relative to the SSH user's home); none for local hosts. */
export function stagedAirgapFiles(airgap?: AirgapPaths): string[] {
    if (airgap === undefined || path.isAbsolute(airgap.binary)) {
        return [];
    }
    return [airgap.binary, airgap.installer, ...(airgap.images === undefined ? [] : [airgap.images])];
}

/** install-k3s.sh (create/update) and uninstall-k3s.sh (delete) for one host. The token goes in on stdin. */
export function installCommand(host: Pick<HostSettings, "name" | "role">, rendered: RenderedK3sConfig,
    k3s: Pick<K3sSettings, "version" | "apiReadyTimeoutSeconds">, airgap?: AirgapPaths): CommandTexts {
    return sameOnUpdate(
        renderScriptCommand("install-k3s", {
            CHARON_HOST: host.name,
            CHARON_K3S_ROLE: host.role,
            CHARON_K3S_VERSION: k3s.version,
            CHARON_K3S_CONFIG: rendered.config,
            CHARON_K3S_DROPIN: rendered.dropIn,
            CHARON_K3S_CONFIG_PATH: k3sPaths.config,
            CHARON_K3S_DROPIN_PATH: k3sPaths.dropIn,
            CHARON_K3S_TOKEN_PATH: k3sPaths.token,
            CHARON_K3S_INSTALL_URL: k3sInstallScriptUrl(k3s.version),
            CHARON_API_TIMEOUT: String(k3s.apiReadyTimeoutSeconds),
            CHARON_AIRGAP: String(airgap !== undefined),
            CHARON_AIRGAP_BINARY: airgap?.binary ?? "",
            CHARON_AIRGAP_INSTALLER: airgap?.installer ?? "",
            CHARON_AIRGAP_IMAGES: airgap?.images ?? "",
        }, `charon: k3s ${k3s.version} ${host.role} on host ${host.name}`),
        renderScriptCommand("uninstall-k3s", {
            CHARON_HOST: host.name,
            CHARON_K3S_ROLE: host.role,
            CHARON_K3S_CONFIG_PATH: k3sPaths.config,
            CHARON_K3S_DROPIN_PATH: k3sPaths.dropIn,
            CHARON_K3S_TOKEN_PATH: k3sPaths.token,
            // Files copied into the SSH user's home for an air-gapped install (never a local host's own originals).
            CHARON_AIRGAP_STAGED: stagedAirgapFiles(airgap).join(" "),
        }, `charon: uninstall k3s from host ${host.name}`),
    );
}

/** read-kubeconfig.sh on the first server. */
export function kubeconfigCommand(host: Pick<HostSettings, "name">, k3s: Pick<K3sSettings, "apiReadyTimeoutSeconds">): CommandTexts {
    return sameOnUpdate(renderScriptCommand("read-kubeconfig", {
        CHARON_HOST: host.name,
        CHARON_API_TIMEOUT: String(k3s.apiReadyTimeoutSeconds),
        CHARON_KUBECONFIG_PATH: k3sPaths.kubeconfig,
    }, `charon: read the kubeconfig of ${host.name}`));
}

/** drain-node.sh on the first server, on delete only: drains a leaving node before it is uninstalled. */
export function drainCommand(firstServer: string, node: string): CommandTexts {
    return {
        delete: renderScriptCommand("drain-node", {
            CHARON_HOST: firstServer, CHARON_NODE: node, CHARON_DRAIN_TIMEOUT: String(drainTimeoutSeconds),
        }, `charon: drain node ${node}`),
    };
}

/** remove-node.sh on the first server, on delete only: deletes a leaving node's Node object after its uninstall. */
export function removeNodeCommand(firstServer: string, node: string): CommandTexts {
    return {
        delete: renderScriptCommand("remove-node", { CHARON_HOST: firstServer, CHARON_NODE: node }, `charon: remove node ${node}`),
    };
}
