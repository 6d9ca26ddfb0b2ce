/**
 * Critical path of the cluster's resource graph: builds K3sCluster for 1 server + N agents under Pulumi's mock
 * runtime (N = 1, 3, 10, 30), takes the dependency edges the engine would see, and prints the longest chain of
 * resources for each N next to the planner's own answer. The anchor is N = 1: the ratio must stay 1.00, i.e.
 * agents join in parallel and adding agents never lengthens the path. Exits 1 otherwise.
 *
 *   npx tsx bench/cluster-critical-path.ts
 */
import { criticalPath, K3sCluster, planCluster } from "../components/cluster";
import { resolveSettings } from "../stacks";
import { defaultMockOutputs, installMocks, RecordingMocks, unwrap } from "../test/helpers/pulumi-mocks";

const agentCounts = [1, 3, 10, 30];
const sshKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n";

function settingsFor(agents: number) {
    const hosts: Record<string, unknown>[] = [{ name: "s1", role: "server", address: "10.0.0.10" }];
    for (let i = 1; i <= agents; i++) {
        hosts.push({ name: `a${i}`, address: `10.0.${Math.floor(i / 250)}.${11 + (i % 250)}` });
    }
    return resolveSettings({ preset: "cluster", hosts, sshPrivateKey: sshKey });
}

/** Longest chain (by resource count) over the recorded dependency edges. */
function longestChain(edges: Map<string, string[]>): string[] {
    const memo = new Map<string, string[]>();
    const walk = (node: string): string[] => {
        const known = memo.get(node);
        if (known) {
            return known;
        }
        let best: string[] = [];
        for (const dep of edges.get(node) ?? []) {
            const chain = walk(dep);
            if (chain.length > best.length) {
                best = chain;
            }
        }
        const result = [...best, node];
        memo.set(node, result);
        return result;
    };
    let longest: string[] = [];
    for (const node of edges.keys()) {
        const chain = walk(node);
        if (chain.length > longest.length) {
            longest = chain;
        }
    }
    return longest;
}

async function measure(agents: number) {
    const settings = settingsFor(agents);
    const mocks = new RecordingMocks({
        ...defaultMockOutputs,
        "command:remote:Command": (a) => ({ stdout: a.name.endsWith("-prepare") ? "CHARON_GPU_COUNT=0\n" : "" }),
    });
    await installMocks(mocks);
    const cluster = new K3sCluster("charon", {
        hosts: settings.hosts, k3s: settings.k3s, defaultSshPrivateKey: settings.sshPrivateKey,
        openPorts: [{ port: 30080, protocol: "tcp" }], hostDirectories: [],
    });
    await unwrap(cluster.nodes);
    await unwrap(cluster.kubeconfig);
    await new Promise((r) => setTimeout(r, 50));
    const custom = mocks.resources.filter((r) => r.custom);
    const nameOf = new Map(custom.map((r) => [r.urn, r.name.replace(/^charon-/, "")]));
    const edges = new Map(custom.map((r) => [nameOf.get(r.urn)!, r.dependencies.map((d) => nameOf.get(d)).filter((d): d is string => d !== undefined)]));
    const chain = longestChain(edges);
    const planned = criticalPath(planCluster(settings.hosts, { hostDirectories: false, airgap: false }).steps);
    return { agents, resources: custom.length, chain, planned };
}

async function main(): Promise<void> {
    const results = [];
    for (const n of agentCounts) {
        results.push(await measure(n));
    }
    const anchor = results[0].chain.length;
    console.log("cluster critical path: 1 server + N agents (resource graph under mocks; anchor N = 1)\n");
    console.log(`${"agents".padStart(6)}  ${"resources".padStart(9)}  ${"path".padStart(4)}  ${"planner".padStart(7)}  ${"ratio".padStart(5)}  longest chain`);
    for (const r of results) {
        console.log(`${String(r.agents).padStart(6)}  ${String(r.resources).padStart(9)}  ${String(r.chain.length).padStart(4)}  ` +
            `${String(r.planned.length).padStart(7)}  ${(r.chain.length / anchor).toFixed(2).padStart(5)}  ${r.chain.join(" → ")}`);
    }
    const flat = results.every((r) => r.chain.length === anchor && r.planned.length === anchor);
    console.log(flat
        ? `\nOK: the critical path stays ${anchor} resources from 1 to ${agentCounts[agentCounts.length - 1]} agents (agents join in parallel).`
        : "\nFAIL: the critical path grows with the number of agents.");
    process.exitCode = flat ? 0 : 1;
}

main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
});
