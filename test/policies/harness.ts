/**
 * Runs policies the way the analyzer does, without its gRPC server: hand-built resources become
 * ResourceValidationArgs / StackValidationArgs with props behind the same unknown-checking proxy, configuration
 * comes from a pack config object (enforcement levels, per-policy settings), and violations are collected.
 */
import {
    Policies, PolicyResource, PolicyResourceOptions, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy,
    StackValidationArgs, StackValidationPolicy, UnknownValueError, unknownCheckingProxy,
} from "@pulumi/policy";

/** A resource as a test writes it: type and inputs, the rest optional. */
export interface FakeResource {
    type: string;
    props: Record<string, any>;
    name?: string;
    urn?: string;
    opts?: Partial<PolicyResourceOptions>;
    /** Names of the resources (in the same list) this one depends on. */
    dependsOn?: string[];
}

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";
/** Same shape as a `--policy-pack-config` file. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface Violation {
    policy: string;
    level: EnforcementLevel;
    message: string;
    urn?: string;
    /** Set when the policy could not run because a value was unknown (the analyzer reports these as advisory). */
    unknown?: boolean;
}

let counter = 0;

function nameOf(r: FakeResource): string {
    return r.name ?? `r${counter++}`;
}

function urnOf(r: FakeResource, name: string): string {
    return r.urn ?? `urn:pulumi:test::charon::${r.type}::${name}`;
}

function optionsOf(r: FakeResource): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...r.opts,
    };
}

function policyConfig(pack: PackConfig, policy: string): Record<string, unknown> {
    const c = pack[policy];
    if (c === undefined || typeof c === "string") {
        return {};
    }
    const { enforcementLevel: _level, ...rest } = c;
    return rest;
}

function levelOf(pack: PackConfig, policy: { name: string; enforcementLevel?: EnforcementLevel }): EnforcementLevel {
    const c = pack[policy.name];
    const configured = typeof c === "string" ? c : c?.enforcementLevel;
    return configured ?? policy.enforcementLevel ?? "advisory";
}

class NotApplicable extends Error {}

/** What a policy sees of a resource in both views: identity, props behind the unknown-checking proxy, options, type tests. */
function policyView(r: FakeResource) {
    const name = nameOf(r);
    const props = unknownCheckingProxy(r.props);
    return {
        type: r.type,
        props,
        urn: urnOf(r, name),
        name,
        opts: optionsOf(r),
        isType: (cls: any) => cls.__pulumiType === r.type,
        // Serves as both views' asType (their signatures differ only in the declared result type).
        asType: (cls: any): any => (cls.__pulumiType === r.type ? props : undefined),
    };
}

function resourceArgs(r: FakeResource, config: Record<string, unknown>): ResourceValidationArgs {
    return {
        ...policyView(r),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** Builds the stack view: every resource with its dependencies and parent resolved to the other fake resources. */
export function stackResources(resources: FakeResource[]): PolicyResource[] {
    const built = resources.map((r): PolicyResource => ({ ...policyView(r), dependencies: [], propertyDependencies: {} }));
    resources.forEach((r, i) => {
        built[i].dependencies = (r.dependsOn ?? []).map((d) => {
            const found = built.find((b) => b.name === d);
            if (!found) {
                throw new Error(`fake resource ${built[i].name} depends on unknown resource ${d}`);
            }
            return found;
        });
        if (r.opts?.parent !== undefined) {
            built[i].parent = built.find((b) => b.urn === r.opts?.parent);
            if (!built[i].parent) {
                throw new Error(`fake resource ${built[i].name} has an unknown parent ${r.opts.parent}`);
            }
        }
    });
    return built;
}

async function collect(run: (report: ReportViolation) => Promise<void> | void): Promise<{ message: string; urn?: string }[]> {
    const out: { message: string; urn?: string }[] = [];
    await run((message, urn) => out.push({ message, urn }));
    return out;
}

/** Messages one resource policy reports for one resource. */
export async function checkResource(policy: ResourceValidationPolicy, r: FakeResource, config: Record<string, unknown> = {}): Promise<string[]> {
    const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
    const found = await collect(async (report) => {
        for (const v of validations) {
            await v(resourceArgs(r, config), report);
        }
    });
    return found.map((f) => f.message);
}

/** Violations one stack policy reports for a set of resources. */
export async function checkStack(policy: StackValidationPolicy, resources: FakeResource[], config: Record<string, unknown> = {}):
    Promise<{ message: string; urn?: string }[]> {
    const args: StackValidationArgs = {
        resources: stackResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    return collect((report) => policy.validateStack(args, report));
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return "validateStack" in p && typeof (p as StackValidationPolicy).validateStack === "function";
}

/**
 * Runs a whole rule set over a stack like the engine: every resource policy on every resource, then the stack
 * policies once; `disabled` policies are skipped; a policy that meets an unknown value yields an advisory note.
 */
export async function runPolicies(policies: Policies, given: FakeResource[], pack: PackConfig = {}): Promise<Violation[]> {
    const out: Violation[] = [];
    const resources = given.map((r) => ({ ...r, name: nameOf(r) }));
    const stack = stackResources(resources);
    for (const p of policies) {
        const level = levelOf(pack, p);
        if (level === "disabled") {
            continue;
        }
        const config = policyConfig(pack, p.name);
        const push = (message: string, urn?: string) => out.push({ policy: p.name, level, message, urn });
        const guarded = async (urn: string | undefined, fn: () => Promise<void> | void) => {
            try {
                await fn();
            } catch (e) {
                if (e instanceof UnknownValueError) {
                    out.push({ policy: p.name, level: "advisory", message: `can't run during preview: ${(e as Error).message}`, urn, unknown: true });
                } else if (!(e instanceof NotApplicable)) {
                    throw e;
                }
            }
        };
        if (isStackPolicy(p)) {
            await guarded(undefined, () => p.validateStack({
                resources: stack, stackTags: new Map(), getConfig: <T extends object>() => config as T,
                notApplicable: (reason?: string): never => {
                    throw new NotApplicable(reason);
                },
            }, push));
            continue;
        }
        const validations = p.validateResource === undefined ? [] : [p.validateResource].flat();
        for (const r of resources) {
            for (const v of validations) {
                await guarded(urnOf(r, r.name), () => v(resourceArgs(r, config), (m) => push(m, urnOf(r, r.name))));
            }
        }
    }
    return out;
}
