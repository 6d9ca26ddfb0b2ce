import * as assert from "node:assert/strict";
import { rawSettingsFromConfig, resolveSettings, SettingsError } from "../../stacks";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { k3sVersion } from "../../components/versions";
import { SettingsSchema } from "../../stacks/schema";

/** The problem lines of the error thrown for `raw`. */
function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        resolveSettings(raw);
    } catch (err) {
        assert.ok(err instanceof SettingsError, `expected SettingsError, got ${err}`);
        return err.problems.map((p) => p.message);
    }
    assert.fail("settings were accepted");
}

const remote = (name: string, role: "server" | "agent", extra: Record<string, unknown> = {}) =>
    ({ name, role, address: `192.0.2.${name.length}`, privateKey: "KEY", ...extra });

describe("stack settings", () => {
    describe("presets", () => {
        it("dev: this machine as the only server, local commands, no GPU, small footprints", () => {
            const s = resolveSettings({});
            assert.equal(s.preset, "dev");
            assert.deepEqual(s.hosts, [{ name: "dev", role: "server", local: true, gpu: false, port: 22, user: "root", labels: {} }]);
            assert.equal(s.k3s.version, k3sVersion);
            assert.deepEqual(s.k3s.featureGates, { InPlacePodVerticalScaling: true });
            assert.equal(s.k3s.clusterCidr, "10.31.0.0/16");
            assert.equal(s.k3s.serviceCidr, "10.32.0.0/16");
            assert.deepEqual(s.k3s.disable, ["traefik"]);
            assert.deepEqual(s.monitoring, {
                footprint: "small", retention: "7d", storageSize: "5Gi", scrapeInterval: "5s", rapidScrapeInterval: "2s",
                tenant: "charon", grafanaNodePort: 30080,
            });
            assert.deepEqual(s.numaflow.isb, {
                replicas: 1, retention: "WorkQueue", storage: "Memory", maxMsgs: 50000, maxAge: "1h", maxBytes: -1,
                duplicates: "100ms", volumeSize: "1Gi", storageMode: "local-path", hostPath: "/var/lib/charon/numaflow",
                cpu: "250m", memory: "512Mi",
            });
            assert.deepEqual(s.gpu, { stack: "off" });
        });

        it("gpu-node: one remote host that is a GPU server by default", () => {
            const s = resolveSettings({ preset: "gpu-node", hosts: [{ name: "gpu1", address: "203.0.113.7" }], sshPrivateKey: "KEY" });
            assert.deepEqual(s.hosts, [{ name: "gpu1", role: "server", gpu: true, local: false, address: "203.0.113.7", port: 22, user: "root", labels: {} }]);
            assert.equal(s.gpu.stack, "on");
            assert.equal(s.monitoring.footprint, "small");
            assert.equal(s.numaflow.isb.replicas, 1);
            assert.equal(s.monitoring.storageSize, "10Gi");
            assert.equal(s.workflows.aps.enabled, true);
            assert.equal(s.workflows.aps.deploy, "pipeline");
        });

        it("cluster: hosts default to agents, large footprint, three JetStream replicas", () => {
            const s = resolveSettings({
                preset: "cluster", sshPrivateKey: "KEY",
                hosts: [{ name: "s1", role: "server", address: "10.0.0.1" }, { name: "a1", address: "10.0.0.2", gpu: true }, { name: "a2", address: "10.0.0.3" }],
            });
            assert.deepEqual(s.hosts.map((h) => [h.name, h.role, h.gpu]), [["s1", "server", "auto"], ["a1", "agent", true], ["a2", "agent", "auto"]]);
            assert.equal(s.monitoring.footprint, "large");
            assert.equal(s.monitoring.storageSize, "50Gi");
            assert.equal(s.numaflow.isb.replicas, 3);
            assert.equal(s.gpu.stack, "auto");
        });

        it("the stack's own values win over the preset's, and lists replace rather than merge", () => {
            const s = resolveSettings({ monitoring: { retention: "30d" }, k3s: { disable: ["servicelb"], featureGates: { InPlacePodVerticalScaling: false } } });
            assert.equal(s.monitoring.retention, "30d");
            assert.equal(s.monitoring.storageSize, "5Gi");
            assert.deepEqual(s.k3s.disable, ["servicelb"]);
            assert.deepEqual(s.k3s.featureGates, { InPlacePodVerticalScaling: false });
        });
    });

    describe("reading Pulumi config", () => {
        it("parses structured values, keeps plain strings, ignores other namespaces", () => {
            const raw = rawSettingsFromConfig({
                "charon:preset": "cluster",
                "charon:hosts": JSON.stringify([{ name: "a", role: "server" }]),
                "charon:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n",
                "charon:monitoring": "{\"grafanaNodePort\":30081}",
                "kubernetes:context": "x",
            });
            assert.deepEqual(raw, {
                preset: "cluster",
                hosts: [{ name: "a", role: "server" }],
                sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n",
                monitoring: { grafanaNodePort: 30081 },
            });
        });
    });

    describe("validation errors name the key, the bad value and what is allowed", () => {
        it("unknown keys, at any depth", () => {
            assert.deepEqual(problemsOf({ presets: "dev", monitoring: { grafanaPort: 1 } }), [
                `charon:presets: unknown setting; allowed keys here: ${Object.keys(SettingsSchema.properties).join(", ")}`,
                "charon:monitoring.grafanaPort: unknown setting; allowed keys here: footprint, retention, storageSize, scrapeInterval, rapidScrapeInterval, tenant, grafanaNodePort",
            ]);
        });

        it("wrong types and values outside an enumeration", () => {
            assert.deepEqual(problemsOf({ preset: "laptop", monitoring: { grafanaNodePort: "30080" }, numaflow: { isb: { replicas: 2 } } }), [
                "charon:preset: \"laptop\" is not valid; expected one of \"dev\", \"gpu-node\", \"cluster\"",
                "charon:monitoring.grafanaNodePort: \"30080\" is not valid; expected an integer",
                "charon:numaflow.isb.replicas: 2 is not valid; expected one of 1, 3",
            ]);
        });

        it("a NodePort outside 30000–32767", () => {
            assert.deepEqual(problemsOf({ monitoring: { grafanaNodePort: 8080 } }), [
                "charon:monitoring.grafanaNodePort: 8080 is out of range; allowed 30000–32767",
            ]);
        });

        it("a k3s version that is not a k3s release tag", () => {
            assert.deepEqual(problemsOf({ k3s: { version: "1.34.2" } }), [
                "charon:k3s.version: \"1.34.2\" is not valid; expected a k3s release tag such as v1.34.2+k3s1",
            ]);
        });

        it("unparsable and overlapping CIDRs", () => {
            assert.deepEqual(problemsOf({ k3s: { clusterCidr: "10.31.0.0/33", serviceCidr: "10.32.0.1/16" } }), [
                "charon:k3s.clusterCidr: \"10.31.0.0/33\" is not valid; expected a CIDR such as 10.31.0.0/16 (no host bits set)",
                "charon:k3s.serviceCidr: \"10.32.0.1/16\" is not valid; expected a CIDR such as 10.31.0.0/16 (no host bits set)",
            ]);
            assert.deepEqual(problemsOf({ k3s: { clusterCidr: "10.0.0.0/8", serviceCidr: "10.32.0.0/16" } }), [
                "charon:k3s.serviceCidr: \"10.32.0.0/16\" overlaps k3s.clusterCidr \"10.0.0.0/8\"; the pod and service networks must be disjoint",
            ]);
        });

        it("a host both local and remote", () => {
            assert.deepEqual(problemsOf({ hosts: [{ name: "me", role: "server", local: true, address: "192.0.2.1" }] }), [
                "charon:hosts[0]: \"me\" is both local (local: true) and remote (address set); use local: true alone for this machine, or remove it to connect over SSH",
            ]);
        });

        it("no server", () => {
            assert.deepEqual(problemsOf({ preset: "cluster", sshPrivateKey: "K", hosts: [remote("a1", "agent")] }), [
                "charon:hosts: has no host with role \"server\"; exactly one server, or an odd number of 3 or more, is required",
            ]);
        });

        it("an even number of servers", () => {
            assert.deepEqual(problemsOf({ preset: "cluster", hosts: [remote("s1", "server"), remote("s2", "server"), remote("a1", "agent")] }), [
                "charon:hosts: has 2 servers; embedded etcd needs 1 or an odd number of 3 or more servers to keep quorum",
            ]);
        });

        it("duplicate host names", () => {
            assert.deepEqual(problemsOf({ preset: "cluster", hosts: [remote("s1", "server"), remote("a1", "agent"), remote("a1", "agent")] }), [
                "charon:hosts[2].name: \"a1\" is already used by hosts[1]; host names must be unique (they become node names)",
            ]);
        });

        it("a remote host without an address or credentials", () => {
            assert.deepEqual(problemsOf({ preset: "gpu-node", hosts: [{ name: "g" }] }), [
                "charon:hosts[0].address: is required for remote host \"g\" (or set local: true for this machine)",
                "charon:hosts[0].privateKey: remote host \"g\" has no SSH credentials; set hosts[0].privateKey or agentSocket, or charon:sshPrivateKey (all secret)",
            ]);
        });

        it("required host keys and host names that are not DNS labels", () => {
            assert.deepEqual(problemsOf({ hosts: [{ local: true }, { name: "Bad_Name", role: "server", local: true }] }), [
                "charon:hosts[0].name: is required (Unique host name; becomes the Kubernetes node name.)",
                "charon:hosts[0].role: is required (server runs the control plane; agent only runs workloads.)",
                "charon:hosts[1].name: \"Bad_Name\" is not valid; expected a DNS label (lower-case letters, digits, -)",
                // the cross-key rules run in the same pass
                "charon:hosts: has 2 hosts with local: true; only the machine running Pulumi can be local",
            ]);
        });

        it("preset host rules", () => {
            assert.deepEqual(problemsOf({ preset: "gpu-node", sshPrivateKey: "K", hosts: [remote("g1", "server"), remote("g2", "agent")] }), [
                "charon:hosts: the gpu-node preset takes exactly one host",
            ]);
            assert.deepEqual(problemsOf({ preset: "cluster", sshPrivateKey: "K", hosts: [remote("s1", "server")] }), [
                "charon:hosts: the cluster preset needs at least one agent host",
            ]);
        });

        it("remote hosts without a preset", () => {
            assert.deepEqual(problemsOf({ sshPrivateKey: "K", hosts: [remote("s1", "server")] }), [
                "charon:preset: is not set (defaults to \"dev\", which runs on this machine) but hosts lists remote machines; set charon:preset to gpu-node or cluster",
            ]);
        });

        it("secrets are never echoed", () => {
            const lines = problemsOf({ sshPrivateKey: 42 });
            assert.deepEqual(lines, ["charon:sshPrivateKey: <secret> is not valid; expected a string"]);
        });

        it("every problem is reported at once, in one error", () => {
            let message = "";
            try {
                resolveSettings({ preset: "cluster", sshPrivateKey: "K", hosts: [remote("a1", "agent"), remote("a1", "agent")], k3s: { clusterCidr: "nope" } });
            } catch (err) {
                message = (err as Error).message;
            }
            assert.equal(message, [
                "Invalid stack settings (3 problems):",
                "  - charon:k3s.clusterCidr: \"nope\" is not valid; expected a CIDR such as 10.31.0.0/16 (no host bits set)",
                "  - charon:hosts[1].name: \"a1\" is already used by hosts[0]; host names must be unique (they become node names)",
                "  - charon:hosts: has no host with role \"server\"; exactly one server, or an odd number of 3 or more, is required",
            ].join("\n"));
        });

        it("shape problems and cross-key problems come in the same run (a duplicate host name and a NodePort of 8080)", () => {
            assert.deepEqual(problemsOf({
                preset: "cluster", sshPrivateKey: "K", hosts: [remote("s1", "server"), remote("a1", "agent"), remote("a1", "agent")],
                monitoring: { grafanaNodePort: 8080 },
            }), [
                "charon:monitoring.grafanaNodePort: 8080 is out of range; allowed 30000–32767",
                "charon:hosts[2].name: \"a1\" is already used by hosts[1]; host names must be unique (they become node names)",
            ]);
        });

        it("the GPU stack forced on with no GPU host", () => {
            assert.deepEqual(problemsOf({ gpu: { stack: "on" } }), [
                "charon:gpu.stack: \"on\" but every host sets gpu: false; set a GPU host or use \"auto\"/\"off\"",
            ]);
        });

        it("extra k3s args that are no flag name or that charon manages", () => {
            assert.deepEqual(problemsOf({ k3s: { extraServerArgs: { "node-name": "x", "Bad Key": "1", "kubelet-arg": "max-pods=200" }, extraAgentArgs: { token: "t" } } }), [
                "charon:k3s.extraServerArgs.Bad Key: is not a k3s config key; expected a flag name such as kubelet-arg or node-taint",
                "charon:k3s.extraServerArgs.node-name: is managed by charon (the host's name is the node name)",
                "charon:k3s.extraAgentArgs.token: is managed by charon (the cluster token is generated and written to a token file)",
            ]);
        });

        it("remote hosts joining a local first server", () => {
            assert.deepEqual(problemsOf({ preset: "cluster", sshPrivateKey: "K", hosts: [{ name: "me", role: "server", local: true }, remote("a1", "agent")] }), [
                "charon:hosts: the first server \"me\" is local, so remote hosts cannot join it (it has no address they can reach); list a remote server first",
            ]);
        });

        it("add-ons the platform cannot do without, and node labels the kubelet refuses", () => {
            assert.deepEqual(problemsOf({ k3s: { disable: ["traefik", "coredns", "local-storage"] } }), [
                "charon:k3s.disable[1]: \"coredns\" is not valid; expected one of \"traefik\", \"servicelb\", \"metrics-server\"",
                "charon:k3s.disable[2]: \"local-storage\" is not valid; expected one of \"traefik\", \"servicelb\", \"metrics-server\"",
            ]);
            assert.deepEqual(problemsOf({ hosts: [{ name: "dev", role: "server", local: true, labels: {
                "node-role.kubernetes.io/worker": "true", "node.kubernetes.io/pool": "a", "example.com/zone": "b", "kubernetes.io/os": "linux",
            } }] }), [
                "charon:hosts[0].labels: key \"node-role.kubernetes.io/worker\" is in a namespace the kubelet reserves (kubernetes.io, k8s.io) and k3s would fail to start; use your own prefix such as example.com/, or node.kubernetes.io/",
            ]);
        });

        it("an ISB host path that is / or climbs with ..", () => {
            for (const bad of ["/", "/var/lib/../etc", "/data/np..v2", "relative/dir"]) {
                assert.deepEqual(problemsOf({ numaflow: { isb: { hostPath: bad } } }), [
                    `charon:numaflow.isb.hostPath: ${JSON.stringify(bad)} is not valid; expected an absolute directory other than / without '..', such as /var/lib/charon/numaflow`,
                ]);
            }
        });

        it("extra args that would break charon's own steps (kubeconfig path, API port)", () => {
            assert.deepEqual(problemsOf({ k3s: { extraServerArgs: { "write-kubeconfig": "/tmp/k", "https-listen-port": "7443" } } }), [
                "charon:k3s.extraServerArgs.https-listen-port: is managed by charon (joining nodes, the firewall and the kubeconfig use the API port 6443)",
                "charon:k3s.extraServerArgs.write-kubeconfig: is managed by charon (charon reads the kubeconfig from k3s's default path)",
            ]);
        });

        it("SSH keys stored in plain text (when the caller says which config keys are secret)", () => {
            const raw = { preset: "cluster", sshPrivateKey: "KEY", hosts: [remote("s1", "server"), remote("a1", "agent", { bastion: { address: "198.51.100.1", privateKey: "K2" } })] };
            let lines: string[] = [];
            try {
                resolveSettings(raw, { secretKeys: new Set() });
            } catch (err) {
                lines = (err as SettingsError).problems.map((p) => p.message);
            }
            assert.deepEqual(lines, [
                "charon:sshPrivateKey: is stored in plain text; store it encrypted with `npm run config -- set --secret charon:sshPrivateKey < ~/.ssh/id_ed25519`",
                "charon:hosts: hosts[0].privateKey, hosts[1].privateKey, hosts[1].bastion.privateKey are stored in plain text; set them with `npm run config -- set --secret 'charon:hosts[0].privateKey' < key` (or use charon:sshPrivateKey)",
            ]);
            assert.doesNotThrow(() => resolveSettings(raw, { secretKeys: new Set(["charon:sshPrivateKey", "charon:hosts"]) }));
        });

        it("each layer's values are checked by its own schema, before any component runs (moved from the component suites)", () => {
            // numaflow (was isbSettingsProblems)
            assert.deepEqual(problemsOf({ numaflow: { isb: { maxAge: "forever", maxMsgs: -5, retention: "Sometimes", storageMode: "local-volumes", hostPath: "data" } } }), [
                "charon:numaflow.isb.retention: \"Sometimes\" is not valid; expected one of \"Limits\", \"Interest\", \"WorkQueue\"",
                "charon:numaflow.isb.maxMsgs: -5 is out of range; allowed -1–∞",
                "charon:numaflow.isb.maxAge: \"forever\" is not valid; expected a duration such as 30s, 1m30s, 1h or 15d",
                "charon:numaflow.isb.hostPath: \"data\" is not valid; expected an absolute directory other than / without '..', such as /var/lib/charon/numaflow",
            ]);
            // monitoring (was validateMonitoringSettings)
            assert.deepEqual(problemsOf({ monitoring: { grafanaNodePort: 8080, retention: "two weeks", tenant: "a b" } }), [
                "charon:monitoring.retention: \"two weeks\" is not valid; expected a duration such as 30s, 1m30s, 1h or 15d",
                "charon:monitoring.tenant: \"a b\" is not valid; expected a Mimir tenant ID (letters, digits, !._*'()-)",
                "charon:monitoring.grafanaNodePort: 8080 is out of range; allowed 30000–32767",
            ]);
            // tenants that would break out of the Numaflow gateway's nginx config (was tenantProblem)
            for (const tenant of ["charon", "team_1.prod"]) {
                assert.equal(resolveSettings({ monitoring: { tenant } }).monitoring.tenant, tenant);
            }
            for (const tenant of ["evil\";", ".", ".."]) {
                assert.deepEqual(problemsOf({ monitoring: { tenant } }), [
                    `charon:monitoring.tenant: ${JSON.stringify(tenant)} is not valid; expected a Mimir tenant ID (letters, digits, !._*'()-)`,
                ]);
            }
            // gpu (was durationMs on the scrape interval)
            assert.deepEqual(problemsOf({ monitoring: { rapidScrapeInterval: "soon" } }), [
                "charon:monitoring.rapidScrapeInterval: \"soon\" is not valid; expected a duration such as 30s, 1m30s, 1h or 15d",
            ]);
        });

        it("durations in any Prometheus form are accepted and work in every layer that reads them (1d, 1m30s)", () => {
            const s = resolveSettings({ numaflow: { isb: { maxAge: "1d" } }, monitoring: { rapidScrapeInterval: "1m30s" } });
            assert.equal(s.numaflow.isb.maxAge, "1d");
            assert.equal(s.monitoring.rapidScrapeInterval, "1m30s");
        });

        it("ISB duplicate windows JetStream would misread or refuse", () => {
            assert.deepEqual(problemsOf({ numaflow: { isb: { duplicates: "0s" } } }), [
                "charon:numaflow.isb.duplicates: \"0s\" is below JetStream's smallest window of 100ms (0 would silently mean 2 minutes); duplicate detection cannot be switched off, use 100ms for the least of it",
            ]);
            assert.deepEqual(problemsOf({ numaflow: { isb: { duplicates: "2h", maxAge: "1h" } } }), [
                "charon:numaflow.isb.duplicates: \"2h\" is longer than numaflow.isb.maxAge \"1h\"; JetStream refuses a duplicate window longer than the stream's maximum age",
            ]);
        });

        it("InPlacePodVerticalScaling against the k3s release: locked on from 1.35, removed in 1.38", () => {
            assert.doesNotThrow(() => resolveSettings({ k3s: { version: "v1.34.2+k3s1", featureGates: { InPlacePodVerticalScaling: false } } }));
            assert.doesNotThrow(() => resolveSettings({ k3s: { version: "v1.36.1+k3s1" } }));
            assert.deepEqual(problemsOf({ k3s: { version: "v1.35.1+k3s1", featureGates: { InPlacePodVerticalScaling: false } } }), [
                "charon:k3s.featureGates.InPlacePodVerticalScaling: false is not allowed from Kubernetes 1.35 (the gate is GA and locked on), and k3s.version is \"v1.35.1+k3s1\"; remove the gate or pick a k3s release before 1.35",
            ]);
            assert.deepEqual(problemsOf({ k3s: { version: "v1.38.0+k3s1" } }), [
                "charon:k3s.featureGates.InPlacePodVerticalScaling: is removed in Kubernetes 1.38, and k3s.version is \"v1.38.0+k3s1\": kube-apiserver, the scheduler and the kubelet refuse to start with it; remove the gate (the feature is always on)",
            ]);
        });

        it("label keys and values", () => {
            assert.deepEqual(problemsOf({ hosts: [{ name: "dev", role: "server", local: true, labels: { "bad key!": "x", zone: "a b" } }] }), [
                "charon:hosts[0].labels: key \"bad key!\" is not valid; expected a Kubernetes label key such as example.com/zone",
                "charon:hosts[0].labels.zone: \"a b\" is not valid; expected a Kubernetes label value (≤ 63 characters of letters, digits, -, _ and .)",
            ]);
        });
    });
});

describe("example stack files", () => {
    const dir = path.resolve(__dirname, "..", "..", "stacks", "examples");
    for (const file of ["Pulumi.gpu-node.yaml", "Pulumi.cluster.yaml"]) {
        it(`${file} resolves once its SSH key is set`, () => {
            const config = (yaml.load(fs.readFileSync(path.join(dir, file), "utf8")) as { config: Record<string, unknown> }).config;
            const raw: Record<string, unknown> = { sshPrivateKey: "KEY" };
            for (const [k, v] of Object.entries(config)) {
                raw[k.replace(/^charon:/, "")] = v;
            }
            const s = resolveSettings(raw);
            assert.equal(s.preset, file.split(".")[1]);
            assert.ok(s.hosts.every((h) => !h.local && h.address));
        });
    }
});
