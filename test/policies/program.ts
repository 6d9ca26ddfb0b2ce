/**
 * The whole program under the mock runtime, seen the way the policy analyzer sees it: every registered resource,
 * components included (the engine analyzes them too: a K3sNode's props are its host's facts), with its inputs, its
 * resource options (additionalSecretOutputs, ignoreChanges, protect, parent) and its dependencies, plus the stack's
 * outputs. Wraps test/helpers/pulumi-mocks.ts's runProgram, which records the resource options too.
 */
import { ProgramRun, runProgram } from "../helpers/pulumi-mocks";
import { FakeResource } from "./harness";

export interface AnalyzedProgram {
    run: ProgramRun;
    resources: FakeResource[];
}

/** Runs index.ts with the given settings and returns its resources as policy inputs. */
export async function analyzeProgram(settings: Record<string, unknown>, opts: { secretKeys?: string[] } = {}): Promise<AnalyzedProgram> {
    const run = await runProgram(settings, { secretKeys: opts.secretKeys });
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const resources: FakeResource[] = run.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.inputs,
        opts: {
            additionalSecretOutputs: r.options.additionalSecretOutputs,
            ignoreChanges: r.options.ignoreChanges,
            protect: r.options.protect,
            parent: r.parent || undefined,
        },
        dependsOn: r.dependencies.map((d) => byUrn.get(d)?.name).filter((n): n is string => n !== undefined),
    }));
    return { run, resources };
}
