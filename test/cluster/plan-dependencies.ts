import type { PlanStep } from "../../components/cluster/plan";

/** Every step reachable backwards from `id` (its transitive dependencies). */
export function transitiveDependencies(steps: PlanStep[], id: string): Set<string> {
    const byId = new Map(steps.map((s) => [s.id, s]));
    const seen = new Set<string>();
    const stack = [...(byId.get(id)?.dependsOn ?? [])];
    while (stack.length > 0) {
        const next = stack.pop()!;
        if (!seen.has(next)) {
            seen.add(next);
            stack.push(...(byId.get(next)?.dependsOn ?? []));
        }
    }
    return seen;
}
