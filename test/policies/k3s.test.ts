import * as assert from "node:assert/strict";
import { K3sSchema } from "../../components/cluster/settings";
import { layerSettings } from "../helpers/settings";
import {
    gateIn, k3sInPlaceResize, k3sInPlaceResizeMaturity, k3sKubeconfigMode, k3sSecretOutputs, k3sTokenGenerated, listFlag, modeTooOpen,
    scalarFlag,
} from "../../policies/rules/k3s";
import { installCommand, kubeconfigCommand } from "../../components/cluster/commands";
import { k3sNodeConfig, renderK3sConfig } from "../../components/cluster/k3s-config";
import { checkResource, checkStack } from "./harness";
import { T, agentConfig, k3sInstall, k3sNode, kubeconfigReader, serverConfig, tokenPassword, variant } from "./fixtures";

const gateArgs = (value: boolean, keys = ["kube-apiserver-arg", "kube-scheduler-arg", "kubelet-arg"]) =>
    Object.fromEntries(keys.map((k) => [k, [`feature-gates=InPlacePodVerticalScaling=${value}`]]));

const withoutKeys = (config: Record<string, unknown>, ...keys: string[]) =>
    Object.fromEntries(Object.entries(config).filter(([k]) => !keys.includes(k))) as typeof serverConfig;

describe("policies: k3s", () => {
    describe("reading a host's k3s configuration", () => {
        it("reads list and scalar flags across config.yaml and the drop-in (key replaces, key+ appends)", () => {
            const k3sConfig = k3sNode().props.k3sConfig;
            assert.equal(scalarFlag(k3sConfig, "write-kubeconfig-mode"), "0600");
            assert.deepEqual(listFlag(k3sConfig, "kubelet-arg"), ["feature-gates=InPlacePodVerticalScaling=true"]);
            const dropIn = { config: serverConfig, dropIn: { "kubelet-arg+": ["v=2"], "write-kubeconfig-mode": "0640", "kube-scheduler-arg": ["v=3"] } };
            assert.equal(scalarFlag(dropIn, "write-kubeconfig-mode"), "0640");
            assert.deepEqual(listFlag(dropIn, "kubelet-arg"), ["feature-gates=InPlacePodVerticalScaling=true", "v=2"]);
            assert.deepEqual(listFlag(dropIn, "kube-scheduler-arg"), ["v=3"]);
            assert.deepEqual(listFlag(dropIn, "node-label"), []);
        });

        it("reads what the cluster layer really builds", () => {
            const k3s = layerSettings(K3sSchema, { version: "v1.32.5+k3s1" });
            const k3sConfig = k3sNodeConfig({ nodeName: "s1", role: "server", clusterInit: false, address: "192.0.2.1", gpu: false, labels: {}, k3s });
            assert.equal(scalarFlag(k3sConfig, "write-kubeconfig-mode"), "0600");
            assert.equal(gateIn(listFlag(k3sConfig, "kube-scheduler-arg"), "InPlacePodVerticalScaling"), true);
            assert.equal(scalarFlag(k3sConfig, "token-file"), "/etc/rancher/k3s/charon-token");
        });

        it("judges K3sNodes, never command texts: an install script or a kubeconfig reader alone is no k3s install", async () => {
            const k3s = layerSettings(K3sSchema, { version: "v1.26.15+k3s1" });
            const rendered = renderK3sConfig({ nodeName: "s1", role: "server", clusterInit: false, address: "192.0.2.1", gpu: false, labels: {}, k3s });
            const install = { type: T.remote, props: installCommand({ name: "s1", role: "server" }, rendered, k3s) };
            const reader = { type: T.remote, props: kubeconfigCommand({ name: "s1" }, k3s) };
            for (const r of [install, reader, { type: T.local, props: { create: "curl -sfL https://get.k3s.io | sh -" } }]) {
                for (const policy of [k3sKubeconfigMode, k3sInPlaceResize, k3sInPlaceResizeMaturity]) {
                    assert.deepEqual(await checkResource(policy, r), [], `${policy.name} judged a command as a k3s install`);
                }
            }
        });

        it("fails loudly on a K3sNode whose props lack its facts (a stack policy sees a component's outputs)", async () => {
            const bare = { ...k3sNode(), props: {} };
            await assert.rejects(checkStack(k3sTokenGenerated, [bare]), /a charon:cluster:K3sNode without its facts .* must register them as its inputs and as its outputs/);
            await assert.rejects(checkResource(k3sInPlaceResize, bare), /without its facts/);
        });

        it("reads gate states and file modes", () => {
            assert.equal(gateIn(["feature-gates=A=true,InPlacePodVerticalScaling=false"], "InPlacePodVerticalScaling"), false);
            assert.equal(gateIn(["--feature-gates=InPlacePodVerticalScaling=true"], "InPlacePodVerticalScaling"), true);
            assert.equal(gateIn(["v=2"], "InPlacePodVerticalScaling"), undefined);
            assert.equal(modeTooOpen("0600"), false);
            assert.equal(modeTooOpen("400"), false);
            assert.equal(modeTooOpen("0644"), true);
            assert.equal(modeTooOpen("0640"), true);
        });
    });

    describe("k3s-kubeconfig-mode", () => {
        it("accepts a server config with write-kubeconfig-mode 0600, and agents without it", async () => {
            assert.deepEqual(await checkResource(k3sKubeconfigMode, k3sNode()), []);
            assert.deepEqual(await checkResource(k3sKubeconfigMode, k3sNode({ role: "agent" })), []);
            assert.deepEqual(await checkResource(k3sKubeconfigMode, k3sInstall()), []);
        });

        it("refuses 0644 (also from the drop-in), a missing mode, and a flag and a chmod in any command", async () => {
            const open = k3sNode({ config: { ...serverConfig, "write-kubeconfig-mode": "0644" } });
            assert.deepEqual(await checkResource(k3sKubeconfigMode, open), [
                "This k3s server install sets write-kubeconfig-mode 0644, which lets other users read the admin kubeconfig. " +
                "Set write-kubeconfig-mode: \"0600\" in the server's /etc/rancher/k3s/config.yaml (the kubeconfig is cluster-admin).",
            ]);
            const dropIn = k3sNode({ dropIn: { "write-kubeconfig-mode": "0644" } });
            assert.match((await checkResource(k3sKubeconfigMode, dropIn))[0], /^This k3s server install sets write-kubeconfig-mode 0644,/);
            const missing = k3sNode({ config: withoutKeys(serverConfig, "write-kubeconfig-mode") });
            assert.match((await checkResource(k3sKubeconfigMode, missing))[0], /^This k3s server install sets no write-kubeconfig-mode\./);
            const legacy = { type: T.local, props: { create: "curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='server --write-kubeconfig-mode 644' sh -\nchmod 644 /etc/rancher/k3s/k3s.yaml" } };
            const msgs = await checkResource(k3sKubeconfigMode, legacy);
            assert.equal(msgs.length, 2);
            assert.match(msgs[0], /passes --write-kubeconfig-mode 644/);
            assert.match(msgs[1], /runs chmod 644 on the k3s kubeconfig/);
        });
    });

    describe("k3s-in-place-resize", () => {
        it("accepts 1.34 (gate on by default) and 1.30 with the gate on every component", async () => {
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sNode()), []);
            const noArgs = withoutKeys(serverConfig, "kube-apiserver-arg", "kube-scheduler-arg", "kubelet-arg");
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sNode({ version: "v1.34.2+k3s1", config: noArgs })), []);
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sNode({ version: "v1.30.4+k3s1" })), []);
        });

        it("refuses an unpinned version, a version before 1.27, a missing gate before 1.33 and a gate turned off", async () => {
            assert.match((await checkResource(k3sInPlaceResize, k3sNode({ version: "" })))[0],
                /^This k3s install does not pin a version, so each host gets whatever release is current/);
            assert.match((await checkResource(k3sInPlaceResize, k3sNode({ version: "latest" })))[0],
                /^This k3s install does not pin a version \("latest" is not a k3s release tag\)/);
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sNode({ version: "v1.26.9+k3s1" })), [
                "k3s v1.26.9+k3s1 predates in-place pod resizing (Kubernetes 1.27). Set charon:k3s.version to v1.33 or later.",
            ]);
            const kubeletOnly = { ...withoutKeys(serverConfig, "kube-apiserver-arg", "kube-scheduler-arg", "kubelet-arg"), ...gateArgs(true, ["kubelet-arg"]) };
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sNode({ version: "v1.32.5+k3s1", config: kubeletOnly })), [
                "k3s v1.32.5+k3s1 needs the InPlacePodVerticalScaling feature gate on kube-apiserver, kube-scheduler (it is off by default before 1.33). " +
                "Set charon:k3s.featureGates.InPlacePodVerticalScaling: true, or use k3s v1.33 or later.",
            ]);
            const off = k3sNode({ config: { ...serverConfig, ...gateArgs(false) } });
            assert.match((await checkResource(k3sInPlaceResize, off))[0], /turns InPlacePodVerticalScaling off on kube-apiserver, kube-scheduler, kubelet/);
        });

        it("reads the gate from drop-ins that append (key+), on the kubelet only for agents", async () => {
            const agent = k3sNode({
                role: "agent", version: "v1.31.1+k3s1", config: withoutKeys(agentConfig, "kubelet-arg"),
                dropIn: { "kubelet-arg+": ["feature-gates=InPlacePodVerticalScaling=true"] },
            });
            assert.deepEqual(await checkResource(k3sInPlaceResize, agent), []);
            const without = variant(agent, (p) => { p.k3sConfig.dropIn = {}; });
            assert.match((await checkResource(k3sInPlaceResize, without))[0], /needs the InPlacePodVerticalScaling feature gate on kubelet \(/);
        });

        it("takes the versions from its configuration, and refuses a malformed one naming the key", async () => {
            assert.equal((await checkResource(k3sInPlaceResize, k3sNode({ version: "v1.30.4+k3s1" }), { minimumVersion: "v1.31" })).length, 1);
            await assert.rejects(checkResource(k3sInPlaceResize, k3sNode(), { minimumVersion: "1.27" }),
                /config:minimumVersion: "1\.27" is not valid; expected a Kubernetes minor such as v1\.33/);
        });
    });

    describe("k3s-in-place-resize-maturity (advisory)", () => {
        it("is quiet from 1.33 and warns before", async () => {
            assert.deepEqual(await checkResource(k3sInPlaceResizeMaturity, k3sNode({ version: "v1.33.6+k3s1" })), []);
            assert.match((await checkResource(k3sInPlaceResizeMaturity, k3sNode({ version: "v1.30.4+k3s1" })))[0],
                /^k3s v1\.30\.4\+k3s1 has in-place pod resizing only as an alpha feature.*Upgrade charon:k3s\.version to v1\.33 or later\.$/);
        });
    });

    describe("k3s-secret-outputs (stack)", () => {
        it("accepts a kubeconfig reader with secret stdout that logs only stderr; ignores other commands", async () => {
            assert.deepEqual(await checkStack(k3sSecretOutputs, [k3sNode(), kubeconfigReader(), tokenPassword(), k3sInstall()]), []);
        });

        it("refuses plain stdout and logged stdout, of the step a K3sNode names and of any command reading the kubeconfig", async () => {
            const plain = variant(kubeconfigReader(), () => undefined, { opts: { parent: k3sNode().urn, additionalSecretOutputs: [] } });
            const logged = variant(plain, (p) => { delete p.logging; });
            assert.deepEqual((await checkStack(k3sSecretOutputs, [k3sNode(), logged])).map((f) => f.message), [
                "Command charon-s1-kubeconfig reads the k3s kubeconfig or token, but its stdout is not secret, so the credential is stored in plain text " +
                "in the state and any output derived from it. Add the resource option additionalSecretOutputs: [\"stdout\"].",
                "Command charon-s1-kubeconfig reads the k3s kubeconfig or token and logs its stdout (logging unset: stdoutAndStderr), which prints the " +
                "credential in the update log. Set logging: \"stderr\" (or \"none\").",
            ]);
            // The named step is checked whatever its text shows.
            const opaque = variant(plain, (p) => { p.create = p.update = "bash -c \"$(cat read-kubeconfig.sh)\""; });
            assert.equal((await checkStack(k3sSecretOutputs, [k3sNode(), opaque])).length, 1);
            const handWritten = { type: T.remote, name: "peek", props: { create: "sudo cat /etc/rancher/k3s/k3s.yaml", logging: "stderr" } };
            assert.deepEqual((await checkStack(k3sSecretOutputs, [handWritten])).map((f) => f.urn), ["urn:pulumi:test::charon::command:remote:Command::peek"]);
            const token = { type: T.remote, name: "token", props: { create: "sudo cat /var/lib/rancher/k3s/server/node-token", logging: "none" }, opts: { additionalSecretOutputs: ["stdout"] } };
            assert.deepEqual(await checkStack(k3sSecretOutputs, [token]), []);
        });
    });

    describe("k3s-token-generated", () => {
        it("accepts a token-file config fed on stdin from a RandomPassword", async () => {
            assert.deepEqual(await checkStack(k3sTokenGenerated, [tokenPassword(), k3sNode(), k3sInstall()]), []);
            const agent = k3sNode({ role: "agent" });
            assert.deepEqual(await checkStack(k3sTokenGenerated, [tokenPassword(), k3sNode(), k3sInstall(), agent, k3sInstall(agent)]), []);
        });

        it("refuses a token in config.yaml, on any command line, or not generated", async () => {
            const inConfig = k3sNode({ config: { ...serverConfig, token: "charon-secret" } });
            const found = await checkStack(k3sTokenGenerated, [tokenPassword(), inConfig, k3sInstall(inConfig)]);
            assert.match(found[0].message, /^k3s install charon-s1-install writes the cluster token into config\.yaml, which is part of the command text/);
            assert.equal(found[0].urn, "urn:pulumi:test::charon::command:remote:Command::charon-s1-install");
            const legacy = { type: T.local, name: "legacy", props: { create: "curl -sfL https://get.k3s.io | K3S_CLUSTER_SECRET=abc123 INSTALL_K3S_VERSION=v1.33.1+k3s1 sh -" } };
            assert.deepEqual((await checkStack(k3sTokenGenerated, [legacy])).map((f) => f.message), [
                "Command legacy puts a literal cluster token on the command line. Generate it with a RandomPassword and pass it on stdin.",
            ]);
            const notGenerated = variant(k3sInstall(), (p) => { delete p.stdin; }, { dependsOn: [] });
            assert.deepEqual((await checkStack(k3sTokenGenerated, [k3sNode(), notGenerated])).map((f) => f.message), [
                "k3s install charon-s1-install reads token-file, but the command gets no token on stdin. Pass the RandomPassword's result as stdin.",
                "k3s install charon-s1-install does not depend on a RandomPassword, so its token is not generated by the stack. " +
                "Create the token with @pulumi/random's RandomPassword and pass its result on stdin.",
            ]);
        });

        it("refuses a K3sNode whose named install step is not its child", async () => {
            const elsewhere = variant(k3sInstall(), () => undefined, { opts: {} });
            assert.deepEqual((await checkStack(k3sTokenGenerated, [tokenPassword(), k3sNode(), elsewhere])).map((f) => f.message), [
                "K3sNode charon-s1 names its install step charon-s1-install, but no such child exists, so nothing shows how the token reaches " +
                "the host. Create the install command with the K3sNode as its parent.",
            ]);
        });
    });
});
