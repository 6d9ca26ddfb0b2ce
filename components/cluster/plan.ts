/**
 * The cluster's command graph, planned without Pulumi: which steps run for which host, and which step waits for
 * which. K3sCluster creates one resource per step with exactly these dependencies; tests and the critical-path
 * bench read the plan directly.
 *
 *   per host:        prepare ─┬─ firewall ─┐
 *                             └─ dirs      │          (airgap copies) ─┐
 *   first server:   token ──────────────── install ─── kubeconfig      │
 *   every other:    first install ── remove-node ── install ── drain ◀─┘
 *   provider:       kubeconfig + every install, drain and dirs step
 *
 * Every joining node waits for the first server's install (which ends when its API is ready) and the token. Agents
 * join in parallel; further servers join one at a time, each after the previous one: each adds a member to
 * embedded etcd, and two members added at once can leave the cluster without quorum while both are learners. `remove-node` and
 * `drain` run on the first server and only act on delete: Pulumi deletes dependents first, so a leaving node is
 * drained (drain), uninstalled (install's delete) and then removed from the API (remove-node), in that order.
 */

export type PlannedRole = "server" | "agent";

export interface PlannerHost {
    name: string;
    role: PlannedRole;
    local: boolean;
}

export type StepKind =
    | "token" | "prepare" | "firewall" | "dirs" | "airgap" | "install" | "kubeconfig" | "remove-node" | "drain" | "provider";

export interface PlanStep {
    /** Unique id; the resource is named `${componentName}-${id}`. */
    id: string;
    kind: StepKind;
    /** The host the step is about (for remove-node/drain: the leaving node). */
    host?: string;
    /** The host whose shell runs the step's command (for remove-node/drain: the first server). */
    runsOn?: string;
    /** Ids of the steps this one waits for. */
    dependsOn: string[];
    /** For airgap steps: which file is copied. */
    file?: AirgapFile;
}

export type AirgapFile = "binary" | "images" | "installer";

export interface PlannedNode {
    name: string;
    role: PlannedRole;
    /** The server that initialises the cluster. */
    first: boolean;
}

export interface ClusterPlan {
    firstServer: string;
    /** Embedded etcd: set when there are 3 or more servers. */
    clusterInit: boolean;
    nodes: PlannedNode[];
    /** In dependency order: every step comes after the steps it depends on. */
    steps: PlanStep[];
}

export interface PlanOptions {
    /** Host directories are managed (a dirs step per host). */
    hostDirectories: boolean;
    /** Air-gapped install: remote hosts get copy steps for the k3s files. */
    airgap: boolean;
    /** Air-gapped images tarball given (one more copy per remote host). */
    airgapImages?: boolean;
}

export class PlanError extends Error {
    constructor(readonly key: string, message: string) {
        super(`charon:${key}: ${message}`);
        this.name = "PlanError";
    }
}

/** Step ids, defined once. */
export const stepId = {
    token: "token",
    provider: "provider",
    prepare: (host: string) => `${host}-prepare`,
    firewall: (host: string) => `${host}-firewall`,
    dirs: (host: string) => `${host}-dirs`,
    airgap: (host: string, file: AirgapFile) => `${host}-airgap-${file}`,
    install: (host: string) => `${host}-install`,
    kubeconfig: (host: string) => `${host}-kubeconfig`,
    removeNode: (host: string) => `${host}-remove-node`,
    drain: (host: string) => `${host}-drain`,
};

/** Plans the command graph for the hosts (already validated: unique names, 1 or an odd number of servers). */
export function planCluster(hosts: PlannerHost[], options: PlanOptions): ClusterPlan {
    const firstIndex = hosts.findIndex((h) => h.role === "server");
    if (firstIndex < 0) {
        throw new PlanError("hosts", "has no host with role \"server\"");
    }
    const first = hosts[firstIndex];
    hosts.forEach((h, i) => {
        if (first.local && !h.local) {
            throw new PlanError(`hosts[${i}]`, `remote host ${JSON.stringify(h.name)} cannot join the first server ${JSON.stringify(first.name)}, ` +
                `which is local (it has no address the other hosts can reach); make a remote host the first server (list it first)`);
        }
    });
    const servers = hosts.filter((h) => h.role === "server").length;
    const steps: PlanStep[] = [{ id: stepId.token, kind: "token", dependsOn: [] }];
    const installs: string[] = [];
    const drains: string[] = [];
    const dirs: string[] = [];

    const hostSteps = (h: PlannerHost): string[] => {
        steps.push({ id: stepId.prepare(h.name), kind: "prepare", host: h.name, runsOn: h.name, dependsOn: [] });
        steps.push({ id: stepId.firewall(h.name), kind: "firewall", host: h.name, runsOn: h.name, dependsOn: [stepId.prepare(h.name)] });
        if (options.hostDirectories) {
            steps.push({ id: stepId.dirs(h.name), kind: "dirs", host: h.name, runsOn: h.name, dependsOn: [stepId.prepare(h.name)] });
            dirs.push(stepId.dirs(h.name));
        }
        const copies: string[] = [];
        if (options.airgap && !h.local) {
            const files: AirgapFile[] = options.airgapImages ? ["binary", "images", "installer"] : ["binary", "installer"];
            for (const file of files) {
                steps.push({ id: stepId.airgap(h.name, file), kind: "airgap", host: h.name, runsOn: h.name, dependsOn: [], file });
                copies.push(stepId.airgap(h.name, file));
            }
        }
        return [stepId.prepare(h.name), stepId.firewall(h.name), stepId.token, ...copies];
    };

    const firstBefore = hostSteps(first);
    steps.push({ id: stepId.install(first.name), kind: "install", host: first.name, runsOn: first.name, dependsOn: firstBefore });
    installs.push(stepId.install(first.name));
    steps.push({ id: stepId.kubeconfig(first.name), kind: "kubeconfig", host: first.name, runsOn: first.name, dependsOn: [stepId.install(first.name)] });

    let previousServer: string | undefined;
    for (const h of hosts) {
        if (h === first) {
            continue;
        }
        const before = hostSteps(h);
        steps.push({ id: stepId.removeNode(h.name), kind: "remove-node", host: h.name, runsOn: first.name, dependsOn: [stepId.install(first.name)] });
        const afterServer = h.role === "server" && previousServer !== undefined ? [stepId.install(previousServer)] : [];
        steps.push({
            id: stepId.install(h.name), kind: "install", host: h.name, runsOn: h.name,
            dependsOn: [...before, stepId.install(first.name), stepId.removeNode(h.name), ...afterServer],
        });
        if (h.role === "server") {
            previousServer = h.name;
        }
        steps.push({ id: stepId.drain(h.name), kind: "drain", host: h.name, runsOn: first.name, dependsOn: [stepId.install(h.name)] });
        installs.push(stepId.install(h.name));
        drains.push(stepId.drain(h.name));
    }
    steps.push({ id: stepId.provider, kind: "provider", dependsOn: [stepId.kubeconfig(first.name), ...installs, ...drains, ...dirs] });

    return {
        firstServer: first.name,
        clusterInit: servers >= 3,
        nodes: hosts.map((h) => ({ name: h.name, role: h.role, first: h === first })),
        steps,
    };
}

/** The longest chain of steps (by count), from a root to the end; ties resolve to the first found. */
export function criticalPath(steps: PlanStep[]): string[] {
    const byId = new Map(steps.map((s) => [s.id, s]));
    const memo = new Map<string, string[]>();
    const visiting = new Set<string>();
    const longestTo = (id: string): string[] => {
        const known = memo.get(id);
        if (known) {
            return known;
        }
        if (visiting.has(id)) {
            throw new Error(`dependency cycle through ${id}`);
        }
        visiting.add(id);
        const step = byId.get(id);
        if (!step) {
            throw new Error(`unknown step ${id}`);
        }
        let best: string[] = [];
        for (const dep of step.dependsOn) {
            const chain = longestTo(dep);
            if (chain.length > best.length) {
                best = chain;
            }
        }
        visiting.delete(id);
        const result = [...best, id];
        memo.set(id, result);
        return result;
    };
    let longest: string[] = [];
    for (const s of steps) {
        const chain = longestTo(s.id);
        if (chain.length > longest.length) {
            longest = chain;
        }
    }
    return longest;
}

