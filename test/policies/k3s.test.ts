import * as assert from "node:assert/strict";
import { K3sSchema } from "../../components/cluster/settings";
import { layerSettings } from "../helpers/settings";
import {
    gateIn, k3sInPlaceResize, k3sInPlaceResizeMaturity, k3sInstallOf, k3sKubeconfigMode, k3sSecretOutputs, k3sTokenGenerated,
    listFlag, modeTooOpen,
} from "../../policies/rules/k3s";
import { exportedVariables } from "../../policies/rules/kinds";
import { installCommand, kubeconfigCommand } from "../../components/cluster/commands";
import { renderK3sConfig } from "../../components/cluster/k3s-config";
import { checkResource, checkStack } from "./harness";
import { T, k3sInstall, kubeconfigReader, scriptText, serverConfig, tokenPassword, variant } from "./fixtures";

const gateLines = (value: boolean, keys = ["kube-apiserver-arg", "kube-scheduler-arg", "kubelet-arg"]) =>
    keys.map((k) => `${k}:\n  - "feature-gates=InPlacePodVerticalScaling=${value}"`).join("\n");

describe("policies: k3s", () => {
    describe("reading install commands", () => {
        it("reads role, version and config from the exports, with quotes restored", () => {
            const env = exportedVariables("export A='it'\\''s'\nexport B='multi\nline'\necho hi\n");
            assert.deepEqual(env, { A: "it's", B: "multi\nline" });
            const install = k3sInstallOf(k3sInstall().props)!;
            assert.equal(install.role, "server");
            assert.equal(install.version, "v1.34.2+k3s1");
            assert.equal(install.configs.length, 1);
            assert.equal(install.configs[0]["write-kubeconfig-mode"], "0600");
            assert.deepEqual(listFlag(install.configs, "kubelet-arg"), ["feature-gates=InPlacePodVerticalScaling=true"]);
            assert.equal(k3sInstallOf({ create: "echo hello" }), undefined);
            assert.equal(k3sInstallOf({ create: "# shared helpers: install-k3s.sh writes the marker\nfirewall-cmd --reload" }), undefined, "comments install nothing");
        });

        it("reads what the cluster layer really renders", () => {
            const k3s = layerSettings(K3sSchema, { version: "v1.32.5+k3s1" });
            const rendered = renderK3sConfig({ nodeName: "s1", role: "server", clusterInit: false, address: "192.0.2.1", gpu: false, labels: {}, k3s });
            const texts = installCommand({ name: "s1", role: "server" }, rendered, k3s);
            const install = k3sInstallOf(texts)!;
            assert.equal(install.role, "server");
            assert.equal(install.version, "v1.32.5+k3s1");
            assert.equal(install.configs[0]["write-kubeconfig-mode"], "0600");
            assert.equal(gateIn(listFlag(install.configs, "kube-scheduler-arg"), "InPlacePodVerticalScaling"), true);
            assert.equal(k3sInstallOf(kubeconfigCommand({ name: "s1" }, k3s)), undefined);
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
            assert.deepEqual(await checkResource(k3sKubeconfigMode, k3sInstall()), []);
            const agent = k3sInstall({ role: "agent", config: "node-name: \"a1\"\nserver: \"https://192.0.2.1:6443\"\ntoken-file: \"/t\"\n" });
            assert.deepEqual(await checkResource(k3sKubeconfigMode, agent), []);
        });

        it("refuses 0644, a missing mode, a flag and a chmod that open the kubeconfig", async () => {
            const open = k3sInstall({ config: serverConfig.replace("\"0600\"", "\"0644\"") });
            assert.deepEqual(await checkResource(k3sKubeconfigMode, open), [
                "This k3s server install sets write-kubeconfig-mode 0644, which lets other users read the admin kubeconfig. " +
                "Set write-kubeconfig-mode: \"0600\" in the server's /etc/rancher/k3s/config.yaml (the kubeconfig is cluster-admin).",
            ]);
            const missing = k3sInstall({ config: serverConfig.replace("write-kubeconfig-mode: \"0600\"\n", "") });
            assert.match((await checkResource(k3sKubeconfigMode, missing))[0], /^This k3s server install sets no write-kubeconfig-mode\./);
            const legacy = { type: T.local, props: { create: "curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='server --write-kubeconfig-mode 644' sh -\nchmod 644 /etc/rancher/k3s/k3s.yaml" } };
            const msgs = await checkResource(k3sKubeconfigMode, legacy);
            assert.equal(msgs.length, 3);
            assert.match(msgs[0], /passes --write-kubeconfig-mode 644/);
            assert.match(msgs[1], /runs chmod 644 on the k3s kubeconfig/);
            assert.match(msgs[2], /sets no write-kubeconfig-mode \(no k3s config\.yaml found in the command\)/);
        });
    });

    describe("k3s-in-place-resize", () => {
        it("accepts 1.34 (gate on by default) and 1.30 with the gate on every component", async () => {
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sInstall()), []);
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sInstall({ version: "v1.34.2+k3s1", config: "node-name: \"s1\"\nwrite-kubeconfig-mode: \"0600\"\n" })), []);
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sInstall({ version: "v1.30.4+k3s1" })), []);
        });

        it("refuses an unpinned version, a version before 1.27, a missing gate before 1.33 and a gate turned off", async () => {
            const unpinned = { type: T.local, props: { create: "curl -sfL https://get.k3s.io | sh -" } };
            assert.match((await checkResource(k3sInPlaceResize, unpinned))[0], /^This k3s install does not pin a version, so each host gets whatever release is current/);
            assert.deepEqual(await checkResource(k3sInPlaceResize, k3sInstall({ version: "v1.26.9+k3s1" })), [
                "k3s v1.26.9+k3s1 predates in-place pod resizing (Kubernetes 1.27). Set charon:k3s.version to v1.33 or later.",
            ]);
            const noGate = k3sInstall({ version: "v1.32.5+k3s1", config: "node-name: \"s1\"\nwrite-kubeconfig-mode: \"0600\"\n" + gateLines(true, ["kubelet-arg"]) });
            assert.deepEqual(await checkResource(k3sInPlaceResize, noGate), [
                "k3s v1.32.5+k3s1 needs the InPlacePodVerticalScaling feature gate on kube-apiserver, kube-scheduler (it is off by default before 1.33). " +
                "Set charon:k3s.featureGates.InPlacePodVerticalScaling: true, or use k3s v1.33 or later.",
            ]);
            const off = k3sInstall({ config: "node-name: \"s1\"\n" + gateLines(false) });
            assert.match((await checkResource(k3sInPlaceResize, off))[0], /turns InPlacePodVerticalScaling off on kube-apiserver, kube-scheduler, kubelet/);
        });

        it("reads the gate from drop-ins that append (key+)", async () => {
            const text = scriptText({
                CHARON_K3S_ROLE: "agent", CHARON_K3S_VERSION: "v1.31.1+k3s1",
                CHARON_K3S_CONFIG: "node-name: \"a1\"\nserver: \"https://s1:6443\"\n",
                CHARON_K3S_DROPIN: "kubelet-arg+:\n  - \"feature-gates=InPlacePodVerticalScaling=true\"\n",
            }, "INSTALL_K3S_VERSION=x");
            assert.deepEqual(await checkResource(k3sInPlaceResize, { type: T.remote, props: { create: text } }), []);
        });
    });

    describe("k3s-in-place-resize-maturity (advisory)", () => {
        it("is quiet from 1.33 and warns before", async () => {
            assert.deepEqual(await checkResource(k3sInPlaceResizeMaturity, k3sInstall({ version: "v1.33.6+k3s1" })), []);
            assert.match((await checkResource(k3sInPlaceResizeMaturity, k3sInstall({ version: "v1.30.4+k3s1" })))[0],
                /^k3s v1\.30\.4\+k3s1 has in-place pod resizing only as an alpha feature.*Upgrade charon:k3s\.version to v1\.33 or later\.$/);
        });
    });

    describe("k3s-secret-outputs", () => {
        it("accepts a kubeconfig reader with secret stdout that logs only stderr; ignores other commands", async () => {
            assert.deepEqual(await checkResource(k3sSecretOutputs, kubeconfigReader()), []);
            assert.deepEqual(await checkResource(k3sSecretOutputs, k3sInstall()), []);
        });

        it("refuses plain stdout and logged stdout", async () => {
            const plain = { ...kubeconfigReader(), opts: { additionalSecretOutputs: [] } };
            const logged = variant(plain, (p) => { delete p.logging; });
            assert.deepEqual(await checkResource(k3sSecretOutputs, logged), [
                "This command reads the k3s kubeconfig or token, but its stdout is not secret, so the credential is stored in plain text " +
                "in the state and any output derived from it. Add the resource option additionalSecretOutputs: [\"stdout\"].",
                "This command reads the k3s kubeconfig or token and logs its stdout (logging unset: stdoutAndStderr), which prints the " +
                "credential in the update log. Set logging: \"stderr\" (or \"none\").",
            ]);
            const token = { type: T.remote, props: { create: "sudo cat /var/lib/rancher/k3s/server/node-token", logging: "none" }, opts: { additionalSecretOutputs: ["stdout"] } };
            assert.deepEqual(await checkResource(k3sSecretOutputs, token), []);
        });
    });

    describe("k3s-token-generated", () => {
        it("accepts a token-file config fed on stdin from a RandomPassword", async () => {
            assert.deepEqual(await checkStack(k3sTokenGenerated, [tokenPassword(), k3sInstall()]), []);
        });

        it("refuses a token in config.yaml, on the command line, or not generated", async () => {
            const inConfig = k3sInstall({ config: serverConfig + "token: \"charon-secret\"\n" });
            assert.match((await checkStack(k3sTokenGenerated, [tokenPassword(), inConfig]))[0].message,
                /writes the cluster token into config\.yaml, which is part of the command text/);
            const legacy = { type: T.local, name: "legacy", props: { create: "curl -sfL https://get.k3s.io | K3S_CLUSTER_SECRET=abc123 INSTALL_K3S_VERSION=v1.33.1+k3s1 sh -" } };
            assert.deepEqual((await checkStack(k3sTokenGenerated, [legacy])).map((f) => f.message), [
                "k3s install legacy puts a literal cluster token on the command line. Generate it with a RandomPassword and pass it on stdin.",
            ]);
            const notGenerated = { ...k3sInstall(), dependsOn: [] };
            delete notGenerated.props.stdin;
            assert.deepEqual((await checkStack(k3sTokenGenerated, [notGenerated])).map((f) => f.message), [
                "k3s install charon-s1-install reads token-file, but the command gets no token on stdin. Pass the RandomPassword's result as stdin.",
                "k3s install charon-s1-install does not depend on a RandomPassword, so its token is not generated by the stack. " +
                "Create the token with @pulumi/random's RandomPassword and pass its result on stdin.",
            ]);
        });
    });
});
