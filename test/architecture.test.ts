/**
 * The import graph, read with dependency-cruiser: no cycle between folders. A folder here is a top-level folder
 * (stacks, model, workflows, harvester, controllers, cli, policies, …), except that each layer under components/
 * counts on its own (components/cluster, components/monitoring, …), as the layers are the architecture.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");
const production = ["index.ts", "model", "stacks", "components", "workflows", "harvester", "controllers", "replay", "automation", "cli", "policies", "bench"];

/** The folder unit a repository file belongs to. */
export function unitOf(file: string): string {
    const parts = file.split("/");
    if (parts.length === 1) {
        return "(root)";
    }
    if (parts[0] === "components" && parts.length > 2) {
        return `components/${parts[1]}`;
    }
    return parts[0];
}

/** Strongly connected components with more than one unit (Tarjan). */
export function cycles(edges: Map<string, Set<string>>): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
        index.set(v, next);
        low.set(v, next);
        next++;
        stack.push(v);
        onStack.add(v);
        for (const w of edges.get(v) ?? []) {
            if (!index.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) {
                low.set(v, Math.min(low.get(v)!, index.get(w)!));
            }
        }
        if (low.get(v) === index.get(v)) {
            const scc: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                scc.push(w);
            } while (w !== v);
            if (scc.length > 1) {
                found.push(scc.sort());
            }
        }
    };
    for (const v of edges.keys()) {
        if (!index.has(v)) {
            visit(v);
        }
    }
    return found;
}

/** Imports between units of production code, with one example import per edge. */
async function unitGraph(): Promise<{ edges: Map<string, Set<string>>; example: Map<string, string> }> {
    // dependency-cruiser is ESM-only; this keeps the dynamic import out of the CommonJS compilation.
    const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;
    const { cruise } = await importEsm("dependency-cruiser");
    const result = await cruise(production, {
        baseDir: root, tsPreCompilationDeps: true, doNotFollow: { path: "node_modules" }, exclude: { path: "node_modules" },
    }, undefined, { tsConfig: { fileName: path.join(root, "tsconfig.json") } });
    const edges = new Map<string, Set<string>>();
    const example = new Map<string, string>();
    for (const m of result.output.modules as { source: string; dependencies: { resolved: string; coreModule: boolean }[] }[]) {
        if (m.source.startsWith("node_modules") || m.source.startsWith("test/")) {
            continue;
        }
        for (const d of m.dependencies) {
            if (d.coreModule || d.resolved.startsWith("node_modules") || d.resolved.startsWith("test/")) {
                continue;
            }
            const from = unitOf(m.source);
            const to = unitOf(d.resolved);
            if (from !== to) {
                edges.set(from, (edges.get(from) ?? new Set()).add(to));
                example.set(`${from} -> ${to}`, `${m.source} imports ${d.resolved}`);
            }
        }
    }
    return { edges, example };
}

describe("architecture: the import graph", function () {
    this.timeout(120_000);

    it("has no cycle between folders", async () => {
        const { edges, example } = await unitGraph();
        assert.ok(edges.size >= 8, `read ${edges.size} folders' imports`);
        const found = cycles(edges).map((scc) => `${scc.join(" ⇄ ")}: ${[...example.entries()]
            .filter(([edge]) => scc.includes(edge.split(" -> ")[0]) && scc.includes(edge.split(" -> ")[1])).map(([, why]) => why).join("; ")}`);
        assert.deepEqual(found, []);
    });

    it("the cycle finder finds a cycle (so the check above means something)", () => {
        const edges = new Map([["stacks", new Set(["components/cluster"])], ["components/cluster", new Set(["stacks", "model"])], ["model", new Set<string>()]]);
        assert.deepEqual(cycles(edges), [["components/cluster", "stacks"]]);
        assert.equal(unitOf("components/monitoring/alloy.ts"), "components/monitoring");
        assert.equal(unitOf("components/charts.ts"), "components");
        assert.equal(unitOf("harvester/modes/raw.ts"), "harvester");
    });
});
