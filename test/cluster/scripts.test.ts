/**
 * Tier 2: the cluster scripts themselves. shellcheck on every script, then the rendered commands (exactly the
 * text the component sends) run with bash/dash against a throwaway root with fake system commands on PATH.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    drainCommand, firewallCommand, hostDirectoriesCommand, installCommand, kubeconfigCommand, prepareHostCommand,
    removeNodeCommand, renderK3sConfig,
} from "../../components/cluster";
import { stagedAirgapFiles } from "../../components/cluster/commands";
import { scriptsDir } from "../../components/cluster/script";
import { K3sSettings } from "../../stacks/settings";
import { requireTool } from "../helpers/tools";
import { changeLines, FakeHost } from "./script-harness";

const k3s: K3sSettings = {
    version: "v1.34.2+k3s1",
    clusterCidr: "10.31.0.0/16",
    serviceCidr: "10.32.0.0/16",
    featureGates: { InPlacePodVerticalScaling: true },
    disable: ["traefik"],
    extraServerArgs: {},
    extraAgentArgs: {},
    apiReadyTimeoutSeconds: 10,
};
const token = "K10-test-token-a1b2c3d4e5\n";

function serverInstall(settings: K3sSettings = k3s, gpu = false) {
    const rendered = renderK3sConfig({ nodeName: "s1", role: "server", clusterInit: false, address: "10.0.0.10", gpu, labels: {}, k3s: settings });
    return installCommand({ name: "s1", role: "server" }, rendered, settings);
}
function agentInstall(settings: K3sSettings = k3s) {
    const rendered = renderK3sConfig({
        nodeName: "a1", role: "agent", joinUrl: "https://10.0.0.10:6443", clusterInit: false, address: "10.0.0.11", gpu: false, labels: {}, k3s: settings,
    });
    return installCommand({ name: "a1", role: "agent" }, rendered, settings);
}

describe("cluster scripts (tier 2)", function () {
    this.timeout(30000);

    describe("shellcheck", () => {
        const scripts = fs.readdirSync(scriptsDir).filter((f) => f.endsWith(".sh")).sort();
        let shellcheck: string;
        before(() => {
            shellcheck = requireTool("shellcheck");
        });

        it("covers every script file", () => {
            assert.deepEqual(scripts, [
                "common.sh", "drain-node.sh", "firewall.sh", "host-dirs.sh", "install-k3s.sh", "prepare-host.sh",
                "read-kubeconfig.sh", "remove-node.sh", "uninstall-k3s.sh",
            ]);
        });

        for (const script of ["common.sh", "drain-node.sh", "firewall.sh", "host-dirs.sh", "install-k3s.sh", "prepare-host.sh",
            "read-kubeconfig.sh", "remove-node.sh", "uninstall-k3s.sh"]) {
            it(`passes on ${script}`, () => {
                const r = spawnSync(shellcheck, ["--severity=style", path.join(scriptsDir, script)], { encoding: "utf8" });
                assert.equal(r.error, undefined);
                assert.equal(r.stdout + r.stderr, "");
                assert.equal(r.status, 0);
            });
        }

        it("passes on every rendered command body (exports + common.sh + script, as sent)", () => {
            const texts = [
                prepareHostCommand({ name: "h", gpu: "auto" }).create!,
                firewallCommand({ name: "h", role: "server" }, 1, k3s, []).create!,
                hostDirectoriesCommand({ name: "h" }, ["/var/lib/x"]).delete!,
                serverInstall().create!, serverInstall().delete!,
                kubeconfigCommand({ name: "h" }, k3s).create!,
                drainCommand("s1", "a1").delete!, removeNodeCommand("s1", "a1").delete!,
            ];
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-sc-"));
            texts.forEach((text, i) => {
                const body = text.split("\n").slice(1, -3).join("\n");
                const file = path.join(dir, `cmd${i}.sh`);
                // The preamble's values are literal on purpose (e.g. apt's $(ARCH)): SC2016 does not apply to it.
                fs.writeFileSync(file, `#!/usr/bin/env bash\n# shellcheck disable=SC2016\n${body}\n`);
                const r = spawnSync(shellcheck, [file], { encoding: "utf8" });
                assert.equal(r.stdout, "", `command ${i}`);
                assert.equal(r.status, 0);
            });
        });
    });

    describe("prepare-host.sh", () => {
        const prepare = (gpu: "auto" | boolean) => prepareHostCommand({ name: "h1", gpu }).create!;

        it("no GPU: base packages only, reports 0 GPUs, second run changes nothing", () => {
            const host = new FakeHost({ packages: [] });
            const first = host.run(prepare("auto"));
            assert.equal(first.status, 0, first.stderr);
            assert.equal(first.stdout, "CHARON_GPU_COUNT=0\n");
            assert.deepEqual(first.calls, [
                "apt-get -o DPkg::Lock::Timeout=300 update -q",
                "apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends curl ca-certificates",
            ]);
            assert.match(first.stderr, /charon\[h1\]: installed packages: curl ca-certificates/);
            assert.equal(host.exists("etc/apt/sources.list.d/nvidia-container-toolkit.list"), false);

            const second = host.run(prepare("auto"));
            assert.equal(second.status, 0);
            assert.equal(second.stdout, "CHARON_GPU_COUNT=0\n");
            assert.deepEqual(second.calls, []);
            assert.deepEqual(changeLines(second.stderr), []);
        });

        it("GPU host: counts GPUs, installs the pinned toolkit from NVIDIA's repository, idempotent", () => {
            const host = new FakeHost({ gpus: 2 });
            const first = host.run(prepare("auto"));
            assert.equal(first.status, 0, first.stderr);
            assert.equal(first.stdout, "CHARON_GPU_COUNT=2\n");
            assert.deepEqual(first.calls, [
                "curl https://nvidia.github.io/libnvidia-container/gpgkey",
                "apt-get -o DPkg::Lock::Timeout=300 update -q",
                "apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends nvidia-container-toolkit=1.18.0-1 nvidia-container-toolkit-base=1.18.0-1 " +
                "libnvidia-container-tools=1.18.0-1 libnvidia-container1=1.18.0-1",
            ]);
            assert.equal(host.file("etc/apt/sources.list.d/nvidia-container-toolkit.list"),
                "deb [signed-by=/etc/apt/keyrings/nvidia-container-toolkit.asc] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n");
            assert.equal(host.mode("etc/apt/keyrings/nvidia-container-toolkit.asc"), "0644");
            assert.equal(host.mode("etc/apt/sources.list.d/nvidia-container-toolkit.list"), "0644");
            assert.match(first.stderr, /installed nvidia-container-toolkit 1\.18\.0-1/);
            // k3s was not running: nothing to restart.
            assert.equal(first.calls.some((c) => c.startsWith("systemctl")), false);

            const second = host.run(prepare("auto"));
            assert.equal(second.stdout, "CHARON_GPU_COUNT=2\n");
            assert.deepEqual(second.calls, []);
            assert.deepEqual(changeLines(second.stderr), []);
        });

        it("restarts k3s when the toolkit is added after k3s, and only then", () => {
            const host = new FakeHost({ gpus: 1 });
            host.setActive("k3s");
            const first = host.run(prepare("auto"));
            assert.equal(first.status, 0, first.stderr);
            assert.deepEqual(first.calls.filter((c) => c.startsWith("systemctl")), ["systemctl restart k3s"]);
            assert.match(first.stderr, /restarted k3s: the NVIDIA container toolkit was added after k3s/);
            const second = host.run(prepare("auto"));
            assert.deepEqual(second.calls, []);
        });

        it("an installed toolkit at another version than the pin is replaced by the pinned packages, and k3s restarted", () => {
            const nvidia = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"];
            const host = new FakeHost({ gpus: 1, packages: ["curl 8.0", "ca-certificates 2023", ...nvidia.map((p) => `${p} 1.17.3-1`)] });
            host.setActive("k3s");
            const first = host.run(prepare("auto"));
            assert.equal(first.status, 0, first.stderr);
            assert.deepEqual(first.calls, [
                "curl https://nvidia.github.io/libnvidia-container/gpgkey",
                "apt-get -o DPkg::Lock::Timeout=300 update -q",
                "apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends --allow-downgrades " +
                nvidia.map((p) => `${p}=1.18.0-1`).join(" "),
                "systemctl restart k3s",
            ]);
            assert.match(first.stderr, /changed nvidia-container-toolkit from 1\.17\.3-1 to 1\.18\.0-1/);
            assert.match(first.stderr, /restarted k3s: the NVIDIA container toolkit was changed from 1\.17\.3-1 to 1\.18\.0-1 after k3s/);
            const second = host.run(prepare("auto"));
            assert.equal(second.status, 0, second.stderr);
            assert.deepEqual(second.calls, []);
            assert.deepEqual(changeLines(second.stderr), []);

            // A newer toolkit (e.g. pulled in by unattended-upgrades) goes back to the pin too; one stray package is enough.
            const newer = new FakeHost({ gpus: 1, packages: [...nvidia.map((p) => `${p} 1.18.0-1`), "libnvidia-container1 1.19.0-1"] });
            const r = newer.run(prepare("auto"));
            assert.equal(r.status, 0, r.stderr);
            assert.ok(r.calls.includes("apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends --allow-downgrades " +
                nvidia.map((p) => `${p}=1.18.0-1`).join(" ")), r.calls.join("\n"));
            assert.match(r.stderr, /not at the pinned version 1\.18\.0-1: libnvidia-container1 \(1\.19\.0-1\)/);
        });

        it("waits for a dpkg lock held by unattended-upgrades: every apt-get call passes DPkg::Lock::Timeout=300", () => {
            const host = new FakeHost({ gpus: 1, packages: [] });
            const r = host.run(prepare("auto"), { env: { FAKE_DPKG_LOCKED: "1" } });
            assert.equal(r.status, 0, r.stderr);
            const apt = r.calls.filter((c) => c.startsWith("apt-get "));
            assert.equal(apt.length, 4, apt.join("\n"));
            for (const call of apt) {
                assert.ok(call.startsWith("apt-get -o DPkg::Lock::Timeout=300 "), call);
            }
        });

        it("gpu: false never consults nvidia-smi nor installs the toolkit", () => {
            const host = new FakeHost({ gpus: 4 });
            const r = host.run(prepare(false));
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stdout, "CHARON_GPU_COUNT=0\n");
            assert.deepEqual(r.calls, []);
        });

        it("gpu: true without a visible GPU still prepares the toolkit and reports 1 GPU, with a warning", () => {
            const host = new FakeHost({});
            const r = host.run(prepare(true));
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stdout, "CHARON_GPU_COUNT=1\n");
            assert.match(r.stderr, /warning: gpu: true but nvidia-smi lists no GPU/);
            assert.ok(r.calls.some((c) => c.includes("nvidia-container-toolkit=1.18.0-1")));
        });

        it("nvidia-smi present but failing (no devices) counts 0 GPUs", () => {
            const host = new FakeHost({ gpus: 0 });
            const r = host.run(prepare("auto"));
            assert.equal(r.stdout, "CHARON_GPU_COUNT=0\n");
            assert.deepEqual(r.calls, []);
        });

        it("a non-Debian OS fails with a clear error before changing anything", () => {
            const host = new FakeHost({ osRelease: 'NAME="Fedora Linux"\nPRETTY_NAME="Fedora Linux 41 (Server Edition)"\nID=fedora\n', packages: [] });
            const r = host.run(prepare("auto"));
            assert.equal(r.status, 1);
            assert.equal(r.stdout, "");
            assert.equal(r.stderr.trim(), "charon[h1]: error: unsupported operating system: Fedora Linux 41 (Server Edition) (ID=fedora); " +
                "charon's host scripts need the Debian/Ubuntu family (apt and dpkg)");
            assert.deepEqual(r.calls, []);
        });

        it("Ubuntu and Debian derivatives (ID_LIKE) are accepted", () => {
            const host = new FakeHost({ osRelease: 'PRETTY_NAME="Linux Mint 22"\nID=linuxmint\nID_LIKE="ubuntu debian"\n' });
            const r = host.run(prepare("auto"));
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stderr, /operating system Linux Mint 22 \(Debian family\): supported/);
        });

        it("as a non-root user every change goes through sudo -n; without passwordless sudo it says so", () => {
            const host = new FakeHost({ uid: 1000, packages: [] });
            const r = host.run(prepare("auto"));
            assert.equal(r.status, 0, r.stderr);
            assert.ok(r.calls.includes("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends curl ca-certificates"));
            const denied = new FakeHost({ uid: 1000 });
            const d = denied.run(prepare("auto"), { env: { FAKE_SUDO: "denied" } });
            assert.equal(d.status, 1);
            assert.match(d.stderr, /error: user deploy is not root and cannot use sudo without a password \(sudo -n\)/);
        });
    });

    describe("firewall.sh", () => {
        const apply = (openPorts = [{ port: 30080, protocol: "tcp" as const }]) => firewallCommand({ name: "s1", role: "server" }, 1, k3s, openPorts);

        it("firewalld running: trusts the pod/service networks, opens the ports, reloads once; second run changes nothing", () => {
            const host = new FakeHost({ firewalld: true });
            const first = host.run(apply().create!);
            assert.equal(first.status, 0, first.stderr);
            assert.deepEqual(host.firewallRules(), [
                "trusted source 10.31.0.0/16", "trusted source 10.32.0.0/16",
                "public port 6443/tcp", "public port 10250/tcp", "public port 8472/udp", "public port 30080/tcp",
            ]);
            assert.equal(first.calls.filter((c) => c === "firewall-cmd --reload").length, 1);
            assert.equal(host.file("var/lib/charon/firewall.rules"),
                "source 10.31.0.0/16\nsource 10.32.0.0/16\nport 6443/tcp\nport 10250/tcp\nport 8472/udp\nport 30080/tcp\n");

            const second = host.run(apply().create!);
            assert.equal(second.status, 0);
            assert.deepEqual(second.calls, []);
            assert.deepEqual(changeLines(second.stderr), []);
        });

        it("a changed port list takes back the old port only", () => {
            const host = new FakeHost({ firewalld: true });
            host.run(apply().create!);
            const r = host.run(apply([{ port: 30090, protocol: "tcp" }]).create!);
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.calls, ["firewall-cmd remove public port 30080/tcp", "firewall-cmd add public port 30090/tcp", "firewall-cmd --reload"]);
        });

        it("leaves rules that existed before charon, also on delete", () => {
            const host = new FakeHost({ firewalld: true });
            fs.writeFileSync(path.join(host.state, "firewalld.rules"), "public port 10250/tcp\n");
            host.run(apply().create!);
            const del = host.run(apply().delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.deepEqual(host.firewallRules(), ["public port 10250/tcp"]);
            assert.equal(host.exists("var/lib/charon/firewall.rules"), false);
            assert.equal(del.calls.filter((c) => c === "firewall-cmd --reload").length, 1);
        });

        it("a failure midway shows firewall-cmd's error and keeps the record of what it added: retry and delete remove exactly charon's rules", () => {
            const host = new FakeHost({ firewalld: true });
            fs.writeFileSync(path.join(host.state, "firewalld.rules"), "public port 10250/tcp\n");
            const failed = host.run(apply().create!, { env: { FAKE_FIREWALL_FAIL: "public port 8472/udp" } });
            assert.equal(failed.status, 1);
            assert.match(failed.stderr, /error: firewall-cmd --permanent --add-port=8472\/udp failed \(exit 13\): Error: INVALID_PORT: fake rejection of public port 8472\/udp/);
            assert.equal(host.file("var/lib/charon/firewall.rules"), "source 10.31.0.0/16\nsource 10.32.0.0/16\nport 6443/tcp\n");
            // What was added before the failure takes effect.
            assert.equal(failed.calls.filter((c) => c === "firewall-cmd --reload").length, 1);

            const retry = host.run(apply().create!);
            assert.equal(retry.status, 0, retry.stderr);
            assert.deepEqual(retry.calls, ["firewall-cmd add public port 8472/udp", "firewall-cmd add public port 30080/tcp", "firewall-cmd --reload"]);
            assert.match(retry.stderr, /unchanged firewalld port 6443\/tcp\n/);
            assert.doesNotMatch(retry.stderr, /success/, "firewall-cmd's success output stays quiet");
            assert.equal(host.file("var/lib/charon/firewall.rules"),
                "source 10.31.0.0/16\nsource 10.32.0.0/16\nport 6443/tcp\nport 8472/udp\nport 30080/tcp\n");

            const del = host.run(apply().delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.deepEqual(host.firewallRules(), ["public port 10250/tcp"]);
            assert.equal(host.exists("var/lib/charon/firewall.rules"), false);
        });

        it("firewalld not running: nothing to do, on apply and on delete", () => {
            const host = new FakeHost({ firewalld: false });
            const r = host.run(apply().create!);
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stderr.trim(), "charon[s1]: firewalld is not running: no firewall rules to apply");
            assert.deepEqual(r.calls, []);
            assert.deepEqual(host.firewallRules(), []);
            const d = host.run(apply().delete!);
            assert.equal(d.stderr.trim(), "charon[s1]: firewalld is not running: no firewall rules to remove");
        });
    });

    describe("host-dirs.sh", () => {
        const dirs = hostDirectoriesCommand({ name: "s1" }, ["/var/lib/charon/numaflow", "/srv/data"]);

        it("creates the directories once and removes only those it created on delete", () => {
            const host = new FakeHost();
            fs.mkdirSync(path.join(host.root, "srv", "data"), { recursive: true });
            const first = host.run(dirs.create!);
            assert.equal(first.status, 0, first.stderr);
            assert.equal(host.mode("var/lib/charon/numaflow"), "0755");
            assert.match(first.stderr, /created directory \/var\/lib\/charon\/numaflow \(mode 0755\)/);
            assert.match(first.stderr, /unchanged directory \/srv\/data \(existed before charon; left in place on delete\)/);
            assert.equal(host.file("var/lib/charon/host-directories"), "/var/lib/charon/numaflow\n");

            const second = host.run(dirs.create!);
            assert.deepEqual(changeLines(second.stderr), []);

            const del = host.run(dirs.delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.equal(host.exists("var/lib/charon/numaflow"), false);
            assert.equal(host.exists("srv/data"), true);
            assert.equal(host.exists("var/lib/charon/host-directories"), false);
        });

        it("a failure midway records the directories already created: retry and delete remove them", () => {
            const host = new FakeHost();
            host.write("srv/blocked", "a file where a directory should go");
            const blocked = hostDirectoriesCommand({ name: "s1" }, ["/var/lib/charon/numaflow", "/srv/blocked/data"]);
            const failed = host.run(blocked.create!);
            assert.equal(failed.status, 1);
            assert.equal(host.file("var/lib/charon/host-directories"), "/var/lib/charon/numaflow\n");

            fs.rmSync(path.join(host.root, "srv", "blocked"));
            const retry = host.run(blocked.create!);
            assert.equal(retry.status, 0, retry.stderr);
            assert.match(retry.stderr, /unchanged directory \/var\/lib\/charon\/numaflow\n/);
            assert.equal(host.file("var/lib/charon/host-directories"), "/var/lib/charon/numaflow\n/srv/blocked/data\n");

            const del = host.run(blocked.delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.equal(host.exists("var/lib/charon/numaflow"), false);
            assert.equal(host.exists("srv/blocked/data"), false);
            assert.equal(host.exists("var/lib/charon/host-directories"), false);
        });

        it("refuses / and relative paths", () => {
            const host = new FakeHost();
            const r = host.run(hostDirectoriesCommand({ name: "s1" }, ["/"]).create!);
            assert.equal(r.status, 1);
            assert.match(r.stderr, /refusing host directory '\/'/);
        });
    });

    describe("install-k3s.sh", () => {
        it("fresh server: token 0600 from stdin, config 0600, pinned installer, API wait; second run changes nothing", () => {
            const host = new FakeHost();
            const cmd = serverInstall();
            const first = host.run(cmd.create!, { stdin: token });
            assert.equal(first.status, 0, first.stderr);
            assert.deepEqual(first.calls, [
                "curl https://raw.githubusercontent.com/k3s-io/k3s/v1.34.2%2Bk3s1/install.sh",
                "installer version=v1.34.2+k3s1 exec=server skip-download=false",
            ]);
            assert.equal(host.file("etc/rancher/k3s/charon-token"), token);
            assert.equal(host.mode("etc/rancher/k3s/charon-token"), "0600");
            assert.equal(host.file("etc/rancher/k3s/config.yaml"), renderK3sConfig({
                nodeName: "s1", role: "server", clusterInit: false, address: "10.0.0.10", gpu: false, labels: {}, k3s,
            }).config);
            assert.equal(host.mode("etc/rancher/k3s/config.yaml"), "0600");
            assert.equal(host.exists("etc/rancher/k3s/config.yaml.d/50-charon.yaml"), false);
            assert.match(first.stderr, /installed k3s v1\.34\.2\+k3s1 as k3s/);
            assert.match(first.stderr, /the Kubernetes API is ready/);
            // The token never shows up in what the script prints.
            assert.equal((first.stdout + first.stderr).includes(token.trim()), false);

            const second = host.run(cmd.create!, { stdin: token });
            assert.equal(second.status, 0, second.stderr);
            assert.deepEqual(second.calls, []);
            assert.deepEqual(changeLines(second.stderr), []);
            assert.match(second.stderr, /unchanged k3s v1\.34\.2\+k3s1 \(k3s running, configuration unchanged\)/);
        });

        it("a changed setting rewrites the config and restarts k3s without reinstalling", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            const changed = serverInstall({ ...k3s, featureGates: { InPlacePodVerticalScaling: true, SidecarContainers: true } });
            const r = host.run(changed.update!, { stdin: token });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.calls, ["systemctl restart k3s"]);
            assert.match(r.stderr, /updated \/etc\/rancher\/k3s\/config\.yaml/);
            assert.match(host.file("etc/rancher/k3s/config.yaml"), /feature-gates=InPlacePodVerticalScaling=true,SidecarContainers=true/);
        });

        it("extra args land in the drop-in (and the drop-in goes when they do)", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            const extra = serverInstall({ ...k3s, extraServerArgs: { "kubelet-arg": "max-pods=250" } });
            const r = host.run(extra.update!, { stdin: token });
            assert.deepEqual(r.calls, ["systemctl restart k3s"]);
            assert.equal(host.file("etc/rancher/k3s/config.yaml.d/50-charon.yaml"),
                "# k3s extra settings of node \"s1\", managed by Pulumi (charon K3sCluster): edits are overwritten.\nkubelet-arg+:\n  - \"max-pods=250\"\n");
            assert.equal(host.mode("etc/rancher/k3s/config.yaml.d/50-charon.yaml"), "0600");
            const back = host.run(serverInstall().update!, { stdin: token });
            assert.deepEqual(back.calls, ["systemctl restart k3s"]);
            assert.match(back.stderr, /removed \/etc\/rancher\/k3s\/config\.yaml\.d\/50-charon\.yaml/);
            assert.equal(host.exists("etc/rancher/k3s/config.yaml.d/50-charon.yaml"), false);
        });

        it("a changed version upgrades through the installer pinned to the new release", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            const r = host.run(serverInstall({ ...k3s, version: "v1.35.0+k3s1" }).update!, { stdin: token });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.calls, [
                "curl https://raw.githubusercontent.com/k3s-io/k3s/v1.35.0%2Bk3s1/install.sh",
                "installer version=v1.35.0+k3s1 exec=server skip-download=false",
            ]);
            assert.match(r.stderr, /changed k3s from v1\.34\.2\+k3s1 to v1\.35\.0\+k3s1/);
        });

        it("starts k3s when it is installed but stopped", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            fs.rmSync(path.join(host.state, "active-k3s"));
            const r = host.run(serverInstall().create!, { stdin: token });
            assert.deepEqual(r.calls, ["systemctl start k3s"]);
        });

        it("agent: joins through config.yaml (server, token-file), installer runs as agent, no API wait", () => {
            const host = new FakeHost();
            const r = host.run(agentInstall().create!, { stdin: token, env: { FAKE_API_READY: "no" } });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.calls.slice(1), ["installer version=v1.34.2+k3s1 exec=agent skip-download=false"]);
            assert.match(host.file("etc/rancher/k3s/config.yaml"), /^server: "https:\/\/10\.0\.0\.10:6443"$/m);
            assert.equal(host.isActive("k3s-agent"), true);
            const again = host.run(agentInstall().create!, { stdin: token });
            assert.deepEqual(again.calls, []);
        });

        it("refuses to run without a token on stdin, before touching anything", () => {
            const host = new FakeHost();
            const r = host.run(serverInstall().create!, { stdin: "" });
            assert.equal(r.status, 1);
            assert.equal(r.stderr.trim(), "charon[s1]: error: no cluster token on stdin");
            assert.equal(host.exists("etc/rancher/k3s"), false);
        });

        it("a server whose API never answers fails with a timeout naming the host and the seconds", () => {
            const host = new FakeHost();
            const r = host.run(serverInstall({ ...k3s, apiReadyTimeoutSeconds: 1 }).create!, { stdin: token, env: { FAKE_API_READY: "no" } });
            assert.equal(r.status, 1);
            assert.match(r.stderr, /error: the Kubernetes API on host s1 was not ready within 1 seconds \(last answer: connection refused\)/);
        });

        it("air-gapped: places the given binary and images, runs the given installer with INSTALL_K3S_SKIP_DOWNLOAD", () => {
            const host = new FakeHost();
            const staging = fs.mkdtempSync(path.join(os.tmpdir(), "charon-airgap-"));
            const binary = path.join(staging, "k3s");
            fs.writeFileSync(binary, fs.readFileSync(path.join(__dirname, "fakes", "k3s-binary.sh"), "utf8").replace("@VERSION@", "v1.34.2+k3s1"));
            fs.copyFileSync(path.join(__dirname, "fakes", "k3s-install.sh"), path.join(staging, "install.sh"));
            fs.writeFileSync(path.join(staging, "k3s-airgap-images-amd64.tar.zst"), "images");
            const rendered = renderK3sConfig({ nodeName: "s1", role: "server", clusterInit: false, address: "10.0.0.10", gpu: false, labels: {}, k3s });
            const cmd = installCommand({ name: "s1", role: "server" }, rendered, k3s,
                { binary, installer: path.join(staging, "install.sh"), images: path.join(staging, "k3s-airgap-images-amd64.tar.zst") });
            const r = host.run(cmd.create!, { stdin: token });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.calls, ["installer version=v1.34.2+k3s1 exec=server skip-download=true"]);
            assert.equal(host.mode("usr/local/bin/k3s"), "0755");
            assert.equal(host.file("var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"), "images");
            const again = host.run(cmd.create!, { stdin: token });
            assert.deepEqual(again.calls, []);

            const wrong = new FakeHost();
            const other = installCommand({ name: "s1", role: "server" }, rendered, { ...k3s, version: "v1.33.6+k3s1" },
                { binary, installer: path.join(staging, "install.sh") });
            const w = wrong.run(other.create!, { stdin: token });
            assert.equal(w.status, 1);
            assert.match(w.stderr, /air-gapped k3s binary .*k3s is version 'v1\.34\.2\+k3s1', but k3s\.version is v1\.33\.6\+k3s1/);
        });

        it("delete uninstalls with k3s-uninstall.sh, then is a no-op", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            const del = host.run(serverInstall().delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.deepEqual(del.calls, ["k3s-uninstall.sh"]);
            assert.equal(host.exists("usr/local/bin/k3s"), false);
            assert.equal(host.exists("etc/rancher/k3s/charon-token"), false);
            const again = host.run(serverInstall().delete!);
            assert.equal(again.status, 0);
            assert.equal(again.stderr.trim(), "charon[s1]: k3s is not installed (no /usr/local/bin/k3s-uninstall.sh): nothing to uninstall");
        });

        it("delete also removes the air-gap files staged in the SSH user's home, and only those", () => {
            const host = new FakeHost();
            const staged = stagedAirgapFiles({ binary: ".charon-airgap-k3s", installer: ".charon-airgap-install.sh" });
            assert.deepEqual(staged, [".charon-airgap-k3s", ".charon-airgap-install.sh"]);
            assert.deepEqual(stagedAirgapFiles({ binary: "/opt/k3s/k3s", installer: "/opt/k3s/install.sh" }), [], "a local host's own files are never staged copies");
            for (const f of [...staged, "keep-me"]) {
                fs.writeFileSync(path.join(host.home, f), "x");
            }
            const rendered = renderK3sConfig({ nodeName: "s1", role: "server", clusterInit: false, address: "10.0.0.10", gpu: false, labels: {}, k3s });
            const cmd = installCommand({ name: "s1", role: "server" }, rendered, k3s, { binary: staged[0], installer: staged[1] });
            const del = host.run(cmd.delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.deepEqual(staged.map((f) => fs.existsSync(path.join(host.home, f))), [false, false]);
            assert.equal(fs.existsSync(path.join(host.home, "keep-me")), true);
            assert.match(del.stderr, /removed the staged air-gap file ~\/\.charon-airgap-k3s/);
        });

        it("agents uninstall with k3s-agent-uninstall.sh", () => {
            const host = new FakeHost();
            host.run(agentInstall().create!, { stdin: token });
            const del = host.run(agentInstall().delete!);
            assert.deepEqual(del.calls, ["k3s-agent-uninstall.sh"]);
        });

        /** Installs k3s the way someone else would (the installer alone, no charon files) and gives it a config. */
        function foreignK3s(host: FakeHost, exec = "server"): void {
            const r = host.run('sh "$FAKE_BIN/../k3s-install.sh" >/dev/null', { env: { INSTALL_K3S_VERSION: "v1.33.6+k3s1", INSTALL_K3S_EXEC: exec } });
            assert.equal(r.status, 0, r.stderr);
            host.write("etc/rancher/k3s/config.yaml", "# someone else's k3s\n");
        }

        it("refuses a k3s installed by someone else, naming the host and what to do, and changes nothing", () => {
            const host = new FakeHost();
            foreignK3s(host);
            const r = host.run(serverInstall().create!, { stdin: token });
            assert.equal(r.status, 1);
            assert.match(r.stderr, /error: k3s is already installed on host s1, but not by charon \(found: \/usr\/local\/bin\/k3s, \/usr\/local\/bin\/k3s-uninstall\.sh, /);
            assert.match(r.stderr, /Uninstall that k3s first .*, or remove host s1 from the stack$/m);
            assert.deepEqual(r.calls, []);
            assert.equal(host.file("etc/rancher/k3s/config.yaml"), "# someone else's k3s\n");
            assert.equal(host.exists("etc/rancher/k3s/charon-token"), false);
            assert.equal(host.exists("var/lib/charon/k3s-installed"), false);
            // An agent install on it is refused the same way.
            const agent = host.run(agentInstall().create!, { stdin: token });
            assert.equal(agent.status, 1);
            assert.match(agent.stderr, /k3s is already installed on host a1, but not by charon/);
        });

        it("delete leaves a k3s installed by someone else alone", () => {
            const host = new FakeHost();
            foreignK3s(host);
            const del = host.run(serverInstall().delete!);
            assert.equal(del.status, 0, del.stderr);
            assert.deepEqual(del.calls, []);
            assert.match(del.stderr, /k3s on this host was not installed by charon .*: leaving that k3s alone \(k3s-uninstall\.sh not run, its configuration kept\)/);
            assert.equal(host.exists("usr/local/bin/k3s-uninstall.sh"), true);
            assert.equal(host.file("etc/rancher/k3s/config.yaml"), "# someone else's k3s\n");
            assert.equal(host.isActive("k3s"), true);
        });

        it("an interrupted first install is still charon's on retry, and the delete uninstalls it", () => {
            const host = new FakeHost();
            const failed = host.run(serverInstall().create!, { stdin: token, env: { FAKE_INSTALLER_FAIL: "1" } });
            assert.notEqual(failed.status, 0);
            assert.equal(host.exists("usr/local/bin/k3s-uninstall.sh"), true);
            assert.equal(host.exists("var/lib/charon/k3s-installed"), true);
            const retry = host.run(serverInstall().create!, { stdin: token });
            assert.equal(retry.status, 0, retry.stderr);
            assert.ok(retry.calls.includes("installer version=v1.34.2+k3s1 exec=server skip-download=false"));
            assert.match(retry.stderr, /reinstalled k3s v1\.34\.2\+k3s1 as k3s \(its service unit was missing\)/);
            const del = host.run(serverInstall().delete!);
            assert.deepEqual(del.calls, ["k3s-uninstall.sh"]);
            assert.equal(host.exists("var/lib/charon/k3s-installed"), false);
        });

        it("a host installed by an earlier charon (charon-token, no marker file) is still charon's", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            fs.rmSync(path.join(host.root, "var", "lib", "charon", "k3s-installed"));
            const r = host.run(serverInstall().create!, { stdin: token });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.calls, []);
            assert.match(r.stderr, /created \/var\/lib\/charon\/k3s-installed/);
            fs.rmSync(path.join(host.root, "var", "lib", "charon", "k3s-installed"));
            const del = host.run(serverInstall().delete!);
            assert.deepEqual(del.calls, ["k3s-uninstall.sh"]);
        });

        it("runs the same under bash as under dash", () => {
            const host = new FakeHost();
            const r = host.run(serverInstall().create!, { stdin: token, shell: "bash" });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(host.mode("etc/rancher/k3s/charon-token"), "0600");
        });
    });

    describe("read-kubeconfig.sh", () => {
        it("prints the kubeconfig on stdout only, after the API is ready", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            const r = host.run(kubeconfigCommand({ name: "s1" }, k3s).create!);
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stdout, host.file("etc/rancher/k3s/k3s.yaml"));
            assert.match(r.stdout, /server: https:\/\/127\.0\.0\.1:6443/);
            assert.equal(host.mode("etc/rancher/k3s/k3s.yaml"), "0600");
        });

        it("times out with a clear error naming the host and the seconds", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            const r = host.run(kubeconfigCommand({ name: "s1" }, { apiReadyTimeoutSeconds: 1 }).create!, { env: { FAKE_API_READY: "no" } });
            assert.equal(r.status, 1);
            assert.equal(r.stdout, "");
            assert.match(r.stderr, /the Kubernetes API on host s1 was not ready within 1 seconds/);
        });
    });

    describe("drain-node.sh and remove-node.sh (on the first server, at delete)", () => {
        it("drain evicts a registered node; remove deletes it; both are no-ops for unknown nodes", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            host.registerNode("a1");
            const drain = host.run(drainCommand("s1", "a1").delete!);
            assert.equal(drain.status, 0, drain.stderr);
            assert.deepEqual(drain.calls, ["kubectl drain a1 --ignore-daemonsets --delete-emptydir-data --force --timeout=300s"]);
            const remove = host.run(removeNodeCommand("s1", "a1").delete!);
            assert.deepEqual(remove.calls, ["kubectl delete node a1 --ignore-not-found"]);
            const again = host.run(removeNodeCommand("s1", "a1").delete!);
            assert.deepEqual(again.calls, []);
            assert.match(again.stderr, /node a1 is not registered/);
            // kubectl's discovery cache stays in the scripts' own temp dir, not in the user's ~/.kube.
            assert.ok(!fs.existsSync(path.join(host.home, ".kube")), "a kubectl cache was left in ~/.kube");
        });

        it("a failing drain fails the delete with the reason", () => {
            const host = new FakeHost();
            host.run(serverInstall().create!, { stdin: token });
            host.registerNode("a1");
            const r = host.run(drainCommand("s1", "a1").delete!, { env: { FAKE_DRAIN_FAIL: "1" } });
            assert.equal(r.status, 1);
            assert.match(r.stderr, /draining node a1 failed or did not finish within 300 seconds/);
        });

        it("without k3s on the first server there is nothing to drain", () => {
            const host = new FakeHost();
            const r = host.run(drainCommand("s1", "a1").delete!);
            assert.equal(r.status, 0);
            assert.equal(r.stderr.trim(), "charon[s1]: k3s is not installed here: nothing to drain for node a1");
        });
    });
});
