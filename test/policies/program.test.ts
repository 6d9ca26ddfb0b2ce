/**
 * The whole rule set over what index.ts registers for each preset (mock runtime): no mandatory violation with the
 * repository's pack configuration, and a deliberately bad configuration that every mandatory rule catches.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { policies } from "../../policies/rules";
import { FakeResource, PackConfig, Violation, runPolicies } from "./harness";
import { pipeline, T } from "./fixtures";
import { AnalyzedProgram, analyzeProgram } from "./program";
import { isSecretOutput } from "../helpers/pulumi-mocks";

/** The configuration CI passes to every stack without its own file (policies/config/default.json). */
const packConfig: PackConfig = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "policies", "config", "default.json"), "utf8"));

const presets: Record<string, { settings: Record<string, unknown>; secretKeys?: string[] }> = {
    dev: { settings: {} },
    "gpu-node": {
        settings: { preset: "gpu-node", hosts: [{ name: "gpu1", address: "203.0.113.10" }], sshPrivateKey: "KEY" },
        secretKeys: ["sshPrivateKey"],
    },
    cluster: {
        settings: {
            preset: "cluster", sshPrivateKey: "KEY",
            hosts: [{ name: "s1", role: "server", address: "10.0.0.1" }, { name: "a1", address: "10.0.0.2", gpu: true }, { name: "a2", address: "10.0.0.3" }],
        },
        secretKeys: ["sshPrivateKey"],
    },
};

const mandatory = (vs: Violation[]) => vs.filter((v) => v.level === "mandatory");
const describeViolations = (vs: Violation[]) => vs.map((v) => `${v.policy} @ ${v.urn?.split("::").pop()}: ${v.message}`).join("\n");

function one(resources: FakeResource[], type: string, name: RegExp): FakeResource {
    const found = resources.filter((r) => r.type === type && name.test(r.name ?? ""));
    assert.equal(found.length, 1, `expected one ${type} named like ${name}, found ${found.map((r) => r.name).join(", ") || "none"}`);
    return found[0];
}

/** A copy of the program's resources with one resource changed. */
function changed(resources: FakeResource[], type: string, name: RegExp, change: (r: FakeResource) => void): FakeResource[] {
    const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props), opts: { ...r.opts }, dependsOn: [...(r.dependsOn ?? [])] }));
    change(one(copy, type, name));
    return copy;
}

const runs: Record<string, AnalyzedProgram> = {};

async function program(preset: string): Promise<AnalyzedProgram> {
    runs[preset] ??= await analyzeProgram(presets[preset].settings, { secretKeys: presets[preset].secretKeys });
    return runs[preset];
}

describe("policies over the whole program (mock runtime)", function () {
    this.timeout(120_000);

    for (const preset of Object.keys(presets)) {
        it(`${preset}: no mandatory violation with the repository's pack configuration`, async () => {
            const { resources } = await program(preset);
            // The rules must have something to check: the layers' key resources are there.
            for (const type of [T.release, T.remote, T.local, T.isb, T.serviceMonitor, T.secret, T.k3sNode]) {
                if (type === T.remote && preset === "dev" || type === T.local && preset !== "dev") {
                    continue;
                }
                assert.ok(resources.some((r) => r.type === type), `${preset} registers no ${type}`);
            }
            const found = await runPolicies(policies, resources, packConfig);
            assert.deepEqual(mandatory(found), [], describeViolations(mandatory(found)));
            assert.deepEqual(found.filter((v) => v.unknown), []);
        });
    }

    it("dev: no waiver is needed — Alloy verifies the kubelet's certificate instead of skipping TLS checks", async () => {
        const { resources } = await program("dev");
        assert.deepEqual(mandatory(await runPolicies(policies, resources)), []);
        const alloy = resources.find((r) => r.name === "monitoring-alloy")!;
        const content: string = alloy.props.values.alloy.configMap.content;
        assert.doesNotMatch(content, /insecure_skip_verify/);
        assert.match(content, /ca_file = "\/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/ca\.crt"/);
    });

    it("dev: kubeconfig and the Grafana password are secret outputs", async () => {
        const { run } = await program("dev");
        assert.equal(await isSecretOutput(run.outputs.kubeconfig), true);
        assert.equal(await isSecretOutput(run.outputs.grafanaAdminPassword), true);
    });

    describe("a deliberately bad configuration each mandatory rule catches", () => {
        it("bad stack settings: k3s v1.26 and Grafana on NodePort 30081", async () => {
            const bad = await analyzeProgram({ k3s: { version: "v1.26.15+k3s1" }, monitoring: { grafanaNodePort: 30081 } });
            const found = mandatory(await runPolicies(policies, bad.resources, packConfig));
            assert.deepEqual([...new Set(found.map((v) => v.policy))].sort(), ["k3s-in-place-resize", "nodeport-allowlist"]);
            assert.ok(found.some((v) => v.policy === "nodeport-allowlist" && /opens NodePort 30081 in the host firewall/.test(v.message)));
            assert.ok(found.some((v) => v.policy === "nodeport-allowlist" && /values\.service\.nodePort opens NodePort 30081/.test(v.message)));
            assert.match(found.find((v) => v.policy === "k3s-in-place-resize")!.message, /^k3s v1\.26\.15\+k3s1 predates in-place pod resizing/);
        });

        it("bad stack settings: the resize gate turned off", async () => {
            const bad = await analyzeProgram({ k3s: { featureGates: { InPlacePodVerticalScaling: false } } });
            const found = mandatory(await runPolicies(policies, bad.resources, packConfig));
            assert.deepEqual(found.map((v) => v.policy), ["k3s-in-place-resize"]);
            assert.match(found[0].message, /turns InPlacePodVerticalScaling off on kube-apiserver, kube-scheduler, kubelet/);
        });

        /** For each mandatory rule: how to break the program's resources so that exactly that rule objects. */
        const breakers: Record<string, { preset: string; breakIt: (rs: FakeResource[]) => FakeResource[] }> = {
            "helm-chart-version-pinned": { preset: "dev", breakIt: (rs) => changed(rs, T.release, /^monitoring-grafana$/, (r) => { r.props.version = "^11.0.0"; }) },
            "images-pinned": {
                preset: "dev",
                breakIt: (rs) => changed(rs, T.deployment, /metrics-gateway/, (r) => { r.props.spec.template.spec.containers[0].image = "nginxinc/nginx-unprivileged:latest"; }),
            },
            "jetstream-version-pinned": { preset: "dev", breakIt: (rs) => changed(rs, T.isb, /isb/, (r) => { r.props.spec.jetstream.version = "latest"; }) },
            "no-literal-passwords": {
                preset: "dev",
                breakIt: (rs) => changed(rs, T.release, /^monitoring-mimir$/, (r) => { r.props.values.minio.rootPassword = "supersecret"; }),
            },
            "grafana-admin-from-secret": { preset: "dev", breakIt: (rs) => changed(rs, T.release, /^monitoring-grafana$/, (r) => { delete r.props.values.admin.existingSecret; }) },
            "k3s-kubeconfig-mode": {
                preset: "dev",
                breakIt: (rs) => changed(rs, T.k3sNode, /^charon-dev$/, (r) => { r.props.k3sConfig.config["write-kubeconfig-mode"] = "0644"; }),
            },
            "k3s-in-place-resize": { preset: "gpu-node", breakIt: (rs) => changed(rs, T.k3sNode, /^charon-gpu1$/, (r) => { r.props.version = "v1.25.16+k3s4"; }) },
            "k3s-secret-outputs": { preset: "dev", breakIt: (rs) => changed(rs, T.local, /-kubeconfig$/, (r) => { r.opts = { ...r.opts, additionalSecretOutputs: [] }; }) },
            "k3s-token-generated": { preset: "cluster", breakIt: (rs) => changed(rs, T.remote, /-a1-install$/, (r) => { r.dependsOn = r.dependsOn?.filter((d) => !/token/.test(d)); }) },
            "gpu-runtime-class": { preset: "gpu-node", breakIt: (rs) => changed(rs, T.release, /device-plugin/, (r) => { delete r.props.values.runtimeClassName; }) },
            "gpu-daemons-on-gpu-nodes": { preset: "gpu-node", breakIt: (rs) => changed(rs, T.release, /dcgm/, (r) => { delete r.props.values.nodeSelector; }) },
            "workload-resources": {
                preset: "dev",
                breakIt: (rs) => changed(rs, T.deployment, /metrics-gateway/, (r) => {
                    r.props.spec.template.metadata.labels.role = "workload";
                    delete r.props.spec.template.spec.containers[0].resources;
                }),
            },
            "nodeport-allowlist": {
                preset: "dev",
                breakIt: (rs) => changed(rs, T.service, /metrics-gateway/, (r) => { r.props.spec.type = "NodePort"; }),
            },
            "tls-skip-verify-allowlist": {
                preset: "dev",
                breakIt: (rs) => changed(rs, T.serviceMonitor, /kube-state-metrics/, (r) => { r.props.spec.endpoints[0].tlsConfig = { insecureSkipVerify: true }; }),
            },
            "isb-replicas": { preset: "cluster", breakIt: (rs) => changed(rs, T.isb, /isb/, (r) => { r.props.spec.jetstream.replicas = 2; }) },
            "single-default-isb": {
                preset: "dev",
                breakIt: (rs) => [...changed(rs, T.isb, /isb/, (r) => { r.props.metadata.name = "buffer"; }), pipeline()],
            },
        };

        it("every mandatory rule has a breaking change here", () => {
            const mandatoryRules = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name).sort();
            assert.deepEqual(Object.keys(breakers).sort(), mandatoryRules);
        });

        for (const [rule, { preset, breakIt }] of Object.entries(breakers)) {
            it(`${rule} catches it (${preset})`, async () => {
                const { resources } = await program(preset);
                const found = mandatory(await runPolicies(policies, breakIt(resources), packConfig));
                assert.ok(found.length > 0, `${rule}: nothing reported`);
                assert.deepEqual([...new Set(found.map((v) => v.policy))], [rule], describeViolations(found));
            });
        }
    });
});
