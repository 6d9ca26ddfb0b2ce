/**
 * The whole program under the mock runtime, seen the way the policy analyzer sees it: every registered resource
 * with its inputs, its resource options (additionalSecretOutputs) and its dependencies, plus the stack's outputs.
 * Wraps test/helpers/pulumi-mocks.ts's runProgram and adds the resource options it does not record.
 */
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { ProgramRun, runProgram } from "../helpers/pulumi-mocks";
import { FakeResource } from "./harness";

/** What each registration asked for besides its inputs, keyed by `type::name`. */
interface RecordedOptions {
    additionalSecretOutputs: string[];
    ignoreChanges: string[];
    protect: boolean;
}

export interface AnalyzedProgram {
    run: ProgramRun;
    resources: FakeResource[];
}

/**
 * Runs index.ts with the given settings and returns its resources as policy inputs. Resource options are captured
 * on the mock monitor's prototype, underneath the recorder runProgram installs on the instance.
 */
export async function analyzeProgram(settings: Record<string, unknown>, opts: { secretKeys?: string[] } = {}): Promise<AnalyzedProgram> {
    const options = new Map<string, RecordedOptions>();
    const proto = MockMonitor.prototype as any;
    const register = proto.registerResource;
    proto.registerResource = function (this: unknown, req: any, cb: (err: unknown, res: unknown) => void) {
        options.set(`${req.getType()}::${req.getName()}`, {
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            ignoreChanges: req.getIgnorechangesList(),
            protect: Boolean(req.getProtect()),
        });
        return register.call(this, req, cb);
    };
    let run: ProgramRun;
    try {
        run = await runProgram(settings, { secretKeys: opts.secretKeys });
    } finally {
        proto.registerResource = register;
    }
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const resources: FakeResource[] = run.resources.filter((r) => r.custom).map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.inputs,
        opts: { ...options.get(`${r.type}::${r.name}`), parent: r.parent || undefined },
        dependsOn: r.dependencies.map((d) => byUrn.get(d)?.name).filter((n): n is string => n !== undefined),
    }));
    // Dependencies may point at components; keep only those the stack view can resolve.
    const names = new Set(resources.map((r) => r.name));
    for (const r of resources) {
        r.dependsOn = (r.dependsOn ?? []).filter((d) => names.has(d));
    }
    return { run, resources };
}
