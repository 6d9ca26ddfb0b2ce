/**
 * Tier 1: K3sCluster under Pulumi's mock runtime for the dev, gpu-node and 1 server + 3 agent layouts: the
 * resources, their exact command texts and k3s configs, dependency edges, secrets, outputs, and which commands
 * change when a setting does.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { firewallCommand, hostDirectoriesCommand, installCommand, K3sCluster, K3sClusterArgs, kubeconfigCommand, prepareHostCommand, renderK3sConfig } from "../../components/cluster";
import { Settings } from "../../stacks/settings";
import { isSecretOutput, ProgramRun, RecordedResource, runComponents, unwrap } from "../helpers/pulumi-mocks";
import { clusterSettings, commandOutputs, devServerConfig, devSettings, fakeKubeconfig, gpuNodeSettings, sshKey } from "./fixtures";
import { parseScriptEnvironment } from "./script-environment";

const REMOTE = "command:remote:Command";
const LOCAL = "command:local:Command";
const grafanaPort = { port: 30080, protocol: "tcp" as const };

interface ClusterRun extends ProgramRun {
    cluster: K3sCluster;
    /** Short names (without "charon-") of the resources a resource depends on. */
    deps(name: string): string[];
}

/** Builds the cluster the way index.ts does, under fresh mocks. */
async function build(settings: Settings, opts: { gpus?: Record<string, number>; hostDirectories?: string[]; args?: Partial<K3sClusterArgs> } = {}): Promise<ClusterRun> {
    const run = await runComponents(() => new K3sCluster("charon", {
        hosts: settings.hosts,
        k3s: settings.k3s,
        defaultSshPrivateKey: settings.sshPrivateKey,
        openPorts: [grafanaPort],
        hostDirectories: opts.hostDirectories ?? [],
        ...opts.args,
    }), { outputs: commandOutputs(opts.gpus ?? {}) });
    const cluster = run.value;
    await unwrap(cluster.nodes);
    await unwrap(cluster.kubeconfig);
    for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 5));
    }
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    return {
        ...run,
        cluster,
        deps: (name) => run.named(name).dependencies.map((urn) => (byUrn.get(urn)?.name ?? urn).replace(/^charon-/, "")),
    };
}

const names = (run: ClusterRun) => run.resources.map((r) => `${r.type} ${r.name}`);
const configOf = (r: RecordedResource) => parseScriptEnvironment(r.inputs.create).CHARON_K3S_CONFIG;

/**
 * Names of the resources whose inputs differ between two runs (added or removed ones count too). Components run
 * nothing (a K3sNode's inputs only state its host's facts), so only custom resources count.
 */
function changedResources(a: ClusterRun, b: ClusterRun): string[] {
    const index = (run: ClusterRun) => new Map(run.resources.filter((r) => r.custom).map((r) => [r.name, JSON.stringify(r.inputs)]));
    const ia = index(a);
    const ib = index(b);
    return [...new Set([...ia.keys(), ...ib.keys()])].filter((n) => ia.get(n) !== ib.get(n)).sort();
}

describe("K3sCluster (mocks)", function () {
    this.timeout(20000);

    describe("dev preset: one local server", () => {
        let run: ClusterRun;
        const s = devSettings();
        before(async () => { run = await build(s); });

        it("registers the component, token, local commands and the provider", () => {
            assert.deepEqual(names(run), [
                "charon:cluster:K3sCluster charon",
                "random:index/randomPassword:RandomPassword charon-token",
                "charon:cluster:K3sNode charon-dev",
                `${LOCAL} charon-dev-prepare`,
                `${LOCAL} charon-dev-firewall`,
                `${LOCAL} charon-dev-install`,
                `${LOCAL} charon-dev-kubeconfig`,
                "pulumi:providers:kubernetes charon-provider",
            ]);
            // The host's steps are children of its K3sNode (aliased to their old parent); the rest of the cluster's.
            for (const r of run.resources.filter((x) => x.name !== "charon")) {
                const parent = r.name.startsWith("charon-dev-") ? "charon-dev" : "charon";
                assert.equal(r.parent, run.named(parent).urn, `${r.name} is a child of ${parent}`);
            }
            assert.deepEqual(run.named("charon-dev").inputs, {
                node: "dev", role: "server", firstServer: true, version: "v1.34.2+k3s1", gpu: false, local: true,
                tokenFile: "/etc/rancher/k3s/charon-token", steps: { install: "charon-dev-install", kubeconfig: "charon-dev-kubeconfig" },
                firewall: { trustedSources: ["10.31.0.0/16", "10.32.0.0/16"], openPorts: ["6443/tcp", "10250/tcp", "8472/udp", "30080/tcp"] },
                k3sConfig: {
                    config: {
                        "node-name": "dev", "token-file": "/etc/rancher/k3s/charon-token", "write-kubeconfig-mode": "0600",
                        "cluster-cidr": "10.31.0.0/16", "service-cidr": "10.32.0.0/16", "tls-san": ["127.0.0.1"], disable: ["traefik"],
                        "kube-apiserver-arg": ["feature-gates=InPlacePodVerticalScaling=true"],
                        "kube-scheduler-arg": ["feature-gates=InPlacePodVerticalScaling=true"],
                        "kubelet-arg": ["feature-gates=InPlacePodVerticalScaling=true"],
                    },
                    dropIn: {},
                },
            });
            assert.deepEqual(run.named("charon-token").inputs, { length: 48, special: false });
        });

        it("the K3sNode's outputs repeat its facts (stack policies read a component's outputs, resource policies its inputs)", async () => {
            const registered = new Map<string, Record<string, unknown>>();
            const outputsRun = await runComponents(() => {
                const monitor = pulumi.runtime.getMonitor()!;
                const forward = monitor.registerResourceOutputs.bind(monitor);
                monitor.registerResourceOutputs = ((req: any, cb: any) => {
                    registered.set(req.getUrn(), pulumi.runtime.deserializeProperties(req.getOutputs()));
                    return forward(req, cb);
                }) as typeof monitor.registerResourceOutputs;
                return new K3sCluster("charon", { hosts: s.hosts, k3s: s.k3s, openPorts: [grafanaPort] });
            }, { outputs: commandOutputs({}) });
            await unwrap(outputsRun.value.kubeconfig);
            const node = outputsRun.named("charon-dev");
            assert.deepEqual(registered.get(node.urn), node.inputs);
        });

        it("runs exactly the rendered scripts (same text as for remote hosts)", () => {
            assert.deepEqual(run.named("charon-dev-prepare").inputs.create, prepareHostCommand({ name: "dev", gpu: false }).create);
            assert.deepEqual(run.named("charon-dev-firewall").inputs.create, firewallCommand({ name: "dev", role: "server" }, 1, s.k3s, [grafanaPort]).create);
            const rendered = renderK3sConfig({ nodeName: "dev", role: "server", clusterInit: false, address: "127.0.0.1", gpu: false, labels: {}, k3s: s.k3s });
            const install = run.named("charon-dev-install");
            assert.equal(install.inputs.create, installCommand({ name: "dev", role: "server" }, rendered, s.k3s).create);
            assert.equal(install.inputs.update, install.inputs.create);
            assert.match(install.inputs.delete, /^export CHARON_K3S_ROLE='server'$/m);
            assert.equal(run.named("charon-dev-kubeconfig").inputs.create, kubeconfigCommand({ name: "dev" }, s.k3s).create);
            assert.equal(install.inputs.connection, undefined);
        });

        it("the exact config.yaml of the node rides in the install command", () => {
            assert.equal(configOf(run.named("charon-dev-install")), devServerConfig);
            assert.equal(parseScriptEnvironment(run.named("charon-dev-install").inputs.create).CHARON_K3S_VERSION, "v1.34.2+k3s1");
        });

        it("the token goes through stdin as a secret, and only to the install", async () => {
            const install = run.named("charon-dev-install");
            assert.deepEqual(install.secretInputs, ["stdin"]);
            assert.equal(install.inputs.stdin, "mock-password-charon-token\n");
            for (const r of run.resources) {
                const text = JSON.stringify({ ...r.inputs, stdin: undefined });
                assert.equal(text.includes("mock-password-charon-token"), false, `${r.name} carries the token outside stdin`);
            }
        });

        it("the kubeconfig is read with stdout secret and unlogged, and exported as a secret", async () => {
            const kc = run.named("charon-dev-kubeconfig");
            assert.equal(kc.inputs.logging, "stderr");
            assert.equal(kc.inputs.addPreviousOutputInEnv, false);
            assert.deepEqual(run.named("charon-dev-kubeconfig").options.additionalSecretOutputs, ["stdout"]);
            assert.equal(await isSecretOutput(run.cluster.kubeconfig), true);
            assert.equal(await unwrap(run.cluster.kubeconfig), fakeKubeconfig);
            assert.deepEqual(run.named("charon-provider").secretInputs, ["kubeconfig"]);
            // The kubernetes provider's inputs are serialised as strings.
            assert.equal(run.named("charon-provider").inputs.enableServerSideApply, "true");
            assert.equal(run.named("charon-provider").inputs.deleteUnreachable, "true");
            assert.equal(run.named("charon-provider").inputs.kubeconfig, fakeKubeconfig);
        });

        it("outputs the node facts and the server address", async () => {
            assert.deepEqual(await unwrap(run.cluster.nodes), [{ name: "dev", role: "server", address: "127.0.0.1", gpuCount: 0 }]);
            assert.equal(await unwrap(run.cluster.serverAddress), "127.0.0.1");
        });

        it("commands never use triggers (a trigger change would replace, i.e. uninstall k3s)", () => {
            for (const r of run.resources.filter((x) => x.type === LOCAL || x.type === REMOTE)) {
                assert.equal(r.inputs.triggers, undefined, r.name);
            }
        });
    });

    describe("gpu-node preset: one remote GPU server", () => {
        let run: ClusterRun;
        before(async () => { run = await build(gpuNodeSettings(), { gpus: { gpu1: 2 } }); });

        it("connects over SSH with the key as a secret and the host key pinned", () => {
            const prepare = run.named("charon-gpu1-prepare");
            assert.equal(prepare.type, REMOTE);
            assert.deepEqual(prepare.inputs.connection, {
                host: "10.0.0.5", port: 22, user: "root", privateKey: sshKey, hostKey: "ssh-ed25519 AAAAC3Nza-fake-host-key",
                dialErrorLimit: 20, perDialTimeout: 30,
            });
            for (const r of run.resources.filter((x) => x.type === REMOTE)) {
                assert.ok(r.secretInputs.includes("connection"), `${r.name} connection is secret`);
            }
        });

        it("labels the node as a GPU node (gpu: true from the preset) and counts the detected GPUs", async () => {
            assert.match(configOf(run.named("charon-gpu1-install")), /^node-label:\n {2}- "nvidia\.com\/gpu\.present=true"\n/m);
            assert.match(configOf(run.named("charon-gpu1-install")), /^tls-san:\n {2}- "10\.0\.0\.5"\n/m);
            assert.deepEqual(await unwrap(run.cluster.nodes), [{ name: "gpu1", role: "server", address: "10.0.0.5", gpuCount: 2 }]);
            assert.equal(parseScriptEnvironment(run.named("charon-gpu1-prepare").inputs.create).CHARON_GPU, "true");
        });

        it("rewrites the kubeconfig to the server's address", async () => {
            assert.match(await unwrap(run.cluster.kubeconfig), /^ {4}server: https:\/\/10\.0\.0\.5:6443$/m);
            assert.equal(await unwrap(run.cluster.serverAddress), "10.0.0.5");
        });

        it("opens the API, kubelet, flannel and Grafana ports", () => {
            assert.equal(parseScriptEnvironment(run.named("charon-gpu1-firewall").inputs.create).CHARON_OPEN_PORTS, "6443/tcp 10250/tcp 8472/udp 30080/tcp");
            assert.equal(parseScriptEnvironment(run.named("charon-gpu1-firewall").inputs.create).CHARON_TRUSTED_SOURCES, "10.31.0.0/16 10.32.0.0/16");
        });
    });

    describe("cluster preset: 1 server + 3 agents", () => {
        let run: ClusterRun;
        const s = clusterSettings(3);
        before(async () => { run = await build(s, { gpus: { a2: 1 }, hostDirectories: ["/var/lib/charon/numaflow"] }); });

        it("agents depend on the server's install (readiness) and the token, never on each other", () => {
            assert.deepEqual(run.deps("charon-s1-install"), ["s1-prepare", "s1-firewall", "token"]);
            for (const a of ["a1", "a2", "a3"]) {
                assert.deepEqual(run.deps(`charon-${a}-install`), [`${a}-prepare`, `${a}-firewall`, "token", "s1-install", `${a}-remove-node`]);
                assert.deepEqual(run.deps(`charon-${a}-remove-node`), ["s1-install"]);
                assert.deepEqual(run.deps(`charon-${a}-drain`), [`${a}-install`]);
                assert.deepEqual(run.deps(`charon-${a}-prepare`), []);
            }
            assert.deepEqual(run.deps("charon-s1-kubeconfig"), ["s1-install"]);
            assert.deepEqual(run.deps("charon-provider"), [
                "s1-kubeconfig", "s1-install", "a1-install", "a2-install", "a3-install", "a1-drain", "a2-drain", "a3-drain",
                "s1-dirs", "a1-dirs", "a2-dirs", "a3-dirs",
            ]);
        });

        it("each K3sNode names its install step (and the first server its kubeconfig step), both its children", () => {
            for (const h of ["s1", "a1", "a2", "a3"]) {
                const node = run.named(`charon-${h}`);
                const expected: Record<string, string> = h === "s1" ? { install: "charon-s1-install", kubeconfig: "charon-s1-kubeconfig" } : { install: `charon-${h}-install` };
                assert.deepEqual(node.inputs.steps, expected);
                for (const step of Object.values<string>(node.inputs.steps)) {
                    assert.equal(run.named(step).parent, node.urn, `${step} is a child of charon-${h}`);
                }
            }
        });

        it("drain and remove-node run on the first server, at delete only", () => {
            for (const a of ["a1", "a2", "a3"]) {
                const drain = run.named(`charon-${a}-drain`);
                assert.equal(drain.inputs.connection.host, "10.0.0.10");
                assert.equal(drain.inputs.create, undefined);
                assert.deepEqual(parseScriptEnvironment(drain.inputs.delete), { CHARON_HOST: "s1", CHARON_NODE: a, CHARON_DRAIN_TIMEOUT: "300" });
                const remove = run.named(`charon-${a}-remove-node`);
                assert.equal(remove.inputs.connection.host, "10.0.0.10");
                assert.match(remove.inputs.delete, /charon-remove-node\n$/);
            }
        });

        it("exact config.yaml per host: only the auto-detected GPU agent gets the GPU label", () => {
            const agentConfig = (name: string, labels: string[]) => [
                `# k3s configuration of node "${name}", managed by Pulumi (charon K3sCluster): edits are overwritten.`,
                `node-name: "${name}"`,
                "server: \"https://10.0.0.10:6443\"",
                "token-file: \"/etc/rancher/k3s/charon-token\"",
                ...(labels.length ? ["node-label:", ...labels.map((l) => `  - "${l}"`)] : []),
                "kubelet-arg:",
                "  - \"feature-gates=InPlacePodVerticalScaling=true\"",
                "",
            ].join("\n");
            assert.equal(configOf(run.named("charon-a1-install")), agentConfig("a1", []));
            assert.equal(configOf(run.named("charon-a2-install")), agentConfig("a2", ["nvidia.com/gpu.present=true"]));
            assert.equal(configOf(run.named("charon-a3-install")), agentConfig("a3", []));
            const server = configOf(run.named("charon-s1-install"));
            assert.match(server, /^cluster-cidr: "10\.31\.0\.0\/16"\nservice-cidr: "10\.32\.0\.0\/16"\n/m);
            assert.equal(server.includes("cluster-init"), false);
            assert.equal(server.includes("nvidia.com/gpu.present"), false);
        });

        it("node facts carry roles, addresses and GPU counts", async () => {
            assert.deepEqual(await unwrap(run.cluster.nodes), [
                { name: "s1", role: "server", address: "10.0.0.10", gpuCount: 0 },
                { name: "a1", role: "agent", address: "10.0.0.11", gpuCount: 0 },
                { name: "a2", role: "agent", address: "10.0.0.12", gpuCount: 1 },
                { name: "a3", role: "agent", address: "10.0.0.13", gpuCount: 0 },
            ]);
        });

        it("secrets: SSH key (connection), token (stdin), kubeconfig (stdout, output, provider input)", async () => {
            for (const r of run.resources.filter((x) => x.type === REMOTE)) {
                assert.ok(r.secretInputs.includes("connection"), r.name);
                assert.equal(r.secretInputs.includes("stdin"), r.name.endsWith("-install"), r.name);
            }
            // The command SDK adds its connection to the secret outputs itself.
            assert.deepEqual(run.named("charon-s1-kubeconfig").options.additionalSecretOutputs, ["stdout", "connection"]);
            assert.equal(await isSecretOutput(run.cluster.kubeconfig), true);
            assert.deepEqual(run.named("charon-provider").secretInputs, ["kubeconfig"]);
        });

        it("host directories are created on every host and removed on delete", () => {
            for (const h of ["s1", "a1", "a2", "a3"]) {
                assert.deepEqual({ create: run.named(`charon-${h}-dirs`).inputs.create, delete: run.named(`charon-${h}-dirs`).inputs.delete },
                    { create: hostDirectoriesCommand({ name: h }, ["/var/lib/charon/numaflow"]).create, delete: hostDirectoriesCommand({ name: h }, []).delete });
            }
        });

        it("agents open kubelet, flannel and Grafana ports but not the API", () => {
            assert.equal(parseScriptEnvironment(run.named("charon-a1-firewall").inputs.create).CHARON_OPEN_PORTS, "10250/tcp 8472/udp 30080/tcp");
        });
    });

    describe("a changed setting re-runs only the affected commands", () => {
        let base: ClusterRun;
        const rerun = (settings: Settings, opts: Parameters<typeof build>[1] = {}) =>
            build(settings, { gpus: { a2: 1 }, hostDirectories: ["/var/lib/charon/numaflow"], ...opts });
        before(async () => { base = await rerun(clusterSettings(3)); });

        it("k3s version: the four installs (update, not replace), nothing else", async () => {
            const changed = await rerun(clusterSettings(3, { k3s: { version: "v1.35.0+k3s1" } }));
            assert.deepEqual(changedResources(base, changed), ["charon-a1-install", "charon-a2-install", "charon-a3-install", "charon-s1-install"]);
            assert.equal(parseScriptEnvironment(changed.named("charon-a1-install").inputs.update).CHARON_K3S_VERSION, "v1.35.0+k3s1");
        });

        it("feature gates: the installs only", async () => {
            const changed = await rerun(clusterSettings(3, { k3s: { featureGates: { InPlacePodVerticalScaling: false } } }));
            assert.deepEqual(changedResources(base, changed), ["charon-a1-install", "charon-a2-install", "charon-a3-install", "charon-s1-install"]);
        });

        it("one host's labels: that host's install only", async () => {
            const s = clusterSettings(3);
            s.hosts[2] = { ...s.hosts[2], labels: { "charon.io/rack": "r2" } };
            const changed = await rerun(s);
            assert.deepEqual(changedResources(base, changed), ["charon-a2-install"]);
            assert.match(configOf(changed.named("charon-a2-install")), /node-label:\n {2}- "charon\.io\/rack=r2"\n {2}- "nvidia\.com\/gpu\.present=true"\n/);
        });

        it("cluster CIDR: the server's install and every firewall (agents' configs do not carry it)", async () => {
            const changed = await rerun(clusterSettings(3, { k3s: { clusterCidr: "10.40.0.0/16" } }));
            assert.deepEqual(changedResources(base, changed), ["charon-a1-firewall", "charon-a2-firewall", "charon-a3-firewall", "charon-s1-firewall", "charon-s1-install"]);
        });

        it("open ports: the firewalls only; host directories: the dirs only", async () => {
            const ports = await rerun(clusterSettings(3), { args: { openPorts: [{ port: 30090, protocol: "tcp" }] } });
            assert.deepEqual(changedResources(base, ports), ["charon-a1-firewall", "charon-a2-firewall", "charon-a3-firewall", "charon-s1-firewall"]);
            const dirs = await rerun(clusterSettings(3), { hostDirectories: ["/srv/isb"] });
            assert.deepEqual(changedResources(base, dirs), ["charon-a1-dirs", "charon-a2-dirs", "charon-a3-dirs", "charon-s1-dirs"]);
        });

        it("adding an agent adds its own commands and changes nothing existing", async () => {
            const changed = await rerun(clusterSettings(4));
            assert.deepEqual(changedResources(base, changed), [
                "charon-a4-dirs", "charon-a4-drain", "charon-a4-firewall", "charon-a4-install", "charon-a4-prepare", "charon-a4-remove-node",
            ]);
        });
    });

    describe("preview (command outputs unknown)", () => {
        it("a host with gpu set shows its config already; an auto-detecting host's config waits for its prepare step", async () => {
            const s = clusterSettings(1);
            const run = await runComponents(() => new K3sCluster("charon", { hosts: s.hosts, k3s: s.k3s, defaultSshPrivateKey: s.sshPrivateKey }), { preview: true });
            assert.match(parseScriptEnvironment(run.named("charon-s1-install").inputs.create).CHARON_K3S_CONFIG, /^write-kubeconfig-mode: "0600"$/m);
            assert.equal(typeof run.named("charon-a1-install").inputs.create, "object");
            assert.equal(run.named("charon-provider").inputs.kubeconfig.__pulumiUnknown ?? false, true);
        });
    });

    describe("options and errors", () => {
        it("bastion: the proxy connection gets its own (secret) key and host key", async () => {
            const s = gpuNodeSettings();
            s.hosts[0] = { ...s.hosts[0], bastion: { address: "bastion.example.org", port: 2222, user: "jump", hostKey: "ssh-ed25519 BASTION" } };
            const run = await build(s, { gpus: { gpu1: 1 } });
            const conn = run.named("charon-gpu1-install").inputs.connection;
            assert.deepEqual(conn.proxy, {
                host: "bastion.example.org", port: 2222, user: "jump", privateKey: sshKey, hostKey: "ssh-ed25519 BASTION", dialErrorLimit: 20, perDialTimeout: 30,
            });
        });

        it("air-gapped: remote hosts get the files copied to their home, the installer reads the copies", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-airgap-"));
            for (const f of ["k3s", "install.sh", "k3s-airgap-images-amd64.tar.zst"]) {
                fs.writeFileSync(path.join(dir, f), f);
            }
            const airgap = { binary: path.join(dir, "k3s"), installScript: path.join(dir, "install.sh"), images: path.join(dir, "k3s-airgap-images-amd64.tar.zst") };
            const run = await build(gpuNodeSettings({ k3s: { airgap } }), { gpus: { gpu1: 1 } });
            const copies = run.resources.filter((r) => r.type === "command:remote:CopyToRemote");
            const sources = await Promise.all(copies.map((c) => c.inputs.source.path));
            assert.deepEqual(copies.map((c, i) => [c.name, c.inputs.remotePath, sources[i]]), [
                ["charon-gpu1-airgap-binary", ".charon-airgap-k3s", airgap.binary],
                ["charon-gpu1-airgap-images", ".charon-airgap-k3s-airgap-images-amd64.tar.zst", airgap.images],
                ["charon-gpu1-airgap-installer", ".charon-airgap-install.sh", airgap.installScript],
            ]);
            assert.deepEqual(run.deps("charon-gpu1-install"), ["gpu1-prepare", "gpu1-firewall", "token", "gpu1-airgap-binary", "gpu1-airgap-images", "gpu1-airgap-installer"]);
            const env = parseScriptEnvironment(run.named("charon-gpu1-install").inputs.create);
            assert.deepEqual([env.CHARON_AIRGAP, env.CHARON_AIRGAP_BINARY, env.CHARON_AIRGAP_INSTALLER, env.CHARON_AIRGAP_IMAGES],
                ["true", ".charon-airgap-k3s", ".charon-airgap-install.sh", ".charon-airgap-k3s-airgap-images-amd64.tar.zst"]);

            const local = await build(devSettings({ k3s: { airgap } }));
            assert.equal(local.resources.some((r) => r.type === "command:remote:CopyToRemote"), false);
            assert.equal(parseScriptEnvironment(local.named("charon-dev-install").inputs.create).CHARON_AIRGAP_BINARY, airgap.binary);
        });

        it("a missing air-gapped file fails the stack's validation, before any resource, naming the setting", () => {
            assert.throws(() => devSettings({ k3s: { airgap: { binary: "/nonexistent/k3s", installScript: "/nonexistent/install.sh" } } }),
                /charon:k3s\.airgap\.binary: "\/nonexistent\/k3s" does not exist on this machine/);
        });

        it("an extra arg charon manages fails the stack's validation, naming the key", () => {
            assert.throws(() => devSettings({ k3s: { extraServerArgs: { "write-kubeconfig-mode": "0644" } } }),
                /charon:k3s\.extraServerArgs\.write-kubeconfig-mode: is managed by charon \(the kubeconfig is always written 0600\)/);
        });

        it("a bad host directory (the ISB's local volumes) fails the stack's validation, naming it", () => {
            assert.throws(() => devSettings({ numaflow: { isb: { storageMode: "local-volumes", hostPath: "relative/dir" } } }),
                /charon:numaflow\.isb\.hostPath: "relative\/dir" is not valid; expected an absolute directory/);
        });
    });
});
