/** The command graph planner: exact plans for the presets, and invariants over generated host layouts. */
import { strict as assert } from "node:assert";
import * as fc from "fast-check";
import { criticalPath, planCluster, PlannerHost } from "../../components/cluster";
import { transitiveDependencies } from "./plan-dependencies";

const cluster = (agents: number, servers = 1): PlannerHost[] => [
    ...Array.from({ length: servers }, (_, i) => ({ name: `s${i + 1}`, role: "server" as const, local: false })),
    ...Array.from({ length: agents }, (_, i) => ({ name: `a${i + 1}`, role: "agent" as const, local: false })),
];
const noExtras = { hostDirectories: false, airgap: false };

describe("cluster planner", () => {
    it("dev: one local server", () => {
        const plan = planCluster([{ name: "dev", role: "server", local: true }], noExtras);
        assert.equal(plan.firstServer, "dev");
        assert.equal(plan.clusterInit, false);
        assert.deepEqual(plan.steps.map((s) => [s.id, s.dependsOn]), [
            ["token", []],
            ["dev-prepare", []],
            ["dev-firewall", ["dev-prepare"]],
            ["dev-install", ["dev-prepare", "dev-firewall", "token"]],
            ["dev-kubeconfig", ["dev-install"]],
            ["provider", ["dev-kubeconfig", "dev-install"]],
        ]);
    });

    it("1 server + 3 agents: agents wait for the first server's install and the token, never for each other", () => {
        const plan = planCluster(cluster(3), { hostDirectories: true, airgap: false });
        const step = (id: string) => plan.steps.find((s) => s.id === id)!;
        assert.deepEqual(step("a2-install").dependsOn, ["a2-prepare", "a2-firewall", "token", "s1-install", "a2-remove-node"]);
        assert.deepEqual(step("a2-remove-node"), { id: "a2-remove-node", kind: "remove-node", host: "a2", runsOn: "s1", dependsOn: ["s1-install"] });
        assert.deepEqual(step("a2-drain"), { id: "a2-drain", kind: "drain", host: "a2", runsOn: "s1", dependsOn: ["a2-install"] });
        assert.deepEqual(step("provider").dependsOn, [
            "s1-kubeconfig", "s1-install", "a1-install", "a2-install", "a3-install", "a1-drain", "a2-drain", "a3-drain",
            "s1-dirs", "a1-dirs", "a2-dirs", "a3-dirs",
        ]);
        for (const a of ["a1", "a2", "a3"]) {
            const deps = transitiveDependencies(plan.steps, `${a}-install`);
            assert.ok(deps.has("s1-install") && deps.has("token"));
            assert.deepEqual([...deps].filter((d) => /^a\d/.test(d) && !d.startsWith(`${a}-`)), [], `${a} depends on another agent`);
        }
        assert.deepEqual(criticalPath(plan.steps), ["s1-prepare", "s1-firewall", "s1-install", "a1-remove-node", "a1-install", "a1-drain", "provider"]);
    });

    it("air-gapped remote hosts copy the files before installing; local hosts read them in place", () => {
        const plan = planCluster(cluster(1), { hostDirectories: false, airgap: true, airgapImages: true });
        const install = plan.steps.find((s) => s.id === "a1-install")!;
        assert.deepEqual(install.dependsOn, ["a1-prepare", "a1-firewall", "token", "a1-airgap-binary", "a1-airgap-images", "a1-airgap-installer", "s1-install", "a1-remove-node"]);
        const local = planCluster([{ name: "dev", role: "server", local: true }], { hostDirectories: false, airgap: true });
        assert.equal(local.steps.some((s) => s.kind === "airgap"), false);
    });

    it("3 servers: embedded etcd, the joining servers join one at a time, agents do not wait for them", () => {
        const plan = planCluster(cluster(2, 3), noExtras);
        assert.equal(plan.clusterInit, true);
        const s3 = transitiveDependencies(plan.steps, "s3-install");
        assert.ok(s3.has("s2-install"), "s3 joins etcd after s2");
        assert.ok(s3.has("s1-install"));
        assert.equal(transitiveDependencies(plan.steps, "s2-install").has("s3-install"), false);
        for (const a of ["a1", "a2"]) {
            const deps = transitiveDependencies(plan.steps, `${a}-install`);
            assert.equal(deps.has("s2-install") || deps.has("s3-install"), false, `${a} waits only for the first server`);
        }
    });

    it("a local first server cannot be joined by remote hosts", () => {
        assert.throws(() => planCluster([{ name: "dev", role: "server", local: true }, { name: "a1", role: "agent", local: false }], noExtras),
            /charon:hosts\[1\]: remote host "a1" cannot join the first server "dev", which is local/);
    });

    it("property: for any layout the plan is ordered, agents join independently, servers one after another, and the critical path grows only with servers", () => {
        const layout = fc.record({
            servers: fc.constantFrom(1, 3, 5),
            agents: fc.integer({ min: 0, max: 40 }),
            dirs: fc.boolean(),
            airgap: fc.boolean(),
        });
        fc.assert(fc.property(layout, ({ servers, agents, dirs, airgap }) => {
            const hosts = cluster(agents, servers);
            const plan = planCluster(hosts, { hostDirectories: dirs, airgap, airgapImages: airgap });
            // Every step comes after what it depends on.
            const seen = new Set<string>();
            for (const s of plan.steps) {
                for (const d of s.dependsOn) {
                    assert.ok(seen.has(d), `${s.id} before ${d}`);
                }
                seen.add(s.id);
            }
            // No agent waits for another joining node; each further server waits for the one before it only.
            const joiningServers = hosts.slice(1).filter((h) => h.role === "server").map((h) => h.name);
            for (const h of hosts.slice(1)) {
                const deps = transitiveDependencies(plan.steps, `${h.name}-install`);
                assert.ok(deps.has("s1-install") && deps.has("token"));
                const earlier = h.role === "server" ? joiningServers.slice(0, joiningServers.indexOf(h.name)) : [];
                for (const other of hosts.slice(1).filter((o) => o !== h)) {
                    assert.equal([...deps].some((d) => d.startsWith(`${other.name}-`)), earlier.includes(other.name), `${h.name} and ${other.name}`);
                }
            }
            // The longest chain grows with the servers joining one by one, never with agents.
            const expected = hosts.length === 1 ? 5 : 7 + Math.max(0, joiningServers.length - 1);
            assert.equal(criticalPath(plan.steps).length, expected);
        }), { numRuns: 200 });
    });
});
