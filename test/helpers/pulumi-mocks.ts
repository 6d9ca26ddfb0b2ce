/**
 * Test harness for the Pulumi program under the mock runtime: sets config, records every registered resource
 * (type, name, inputs, parent, dependencies, provider, and the resource options the engine would receive:
 * additionalSecretOutputs, replaceOnChanges, deleteBeforeReplace, ignoreChanges, protect, customTimeouts and the
 * names of attached resource hooks), unwraps outputs, tells secrets apart (assets and archives stay as the runtime
 * deserialised them, e.g. a FileAsset with its `path` promise), and shims hook registration.
 * Tests read options from `run.resources[i].options` (or `mocks.resources` after `installMocks`); there is no
 * need to patch the monitor's `registerResource` again.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    /** Inputs as the engine would see them, secrets unwrapped (see `secretInputs`). */
    inputs: Record<string, any>;
    /** Top-level input names whose value was marked secret. */
    secretInputs: string[];
    parent: string;
    dependencies: string[];
    provider: string;
    /** Resource options as registered (what the engine, and the policy analyzer, see). */
    options: RecordedOptions;
}

export interface RecordedOptions {
    additionalSecretOutputs: string[];
    replaceOnChanges: string[];
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    protect: boolean;
    /** The Node SDK sends these on every registration: a phase without a declared timeout is "" (all "" when none). */
    customTimeouts?: { create: string; update: string; delete: string };
    /** Names of the resource hooks bound per phase. */
    hooks: {
        beforeCreate: string[]; afterCreate: string[]; beforeUpdate: string[];
        afterUpdate: string[]; beforeDelete: string[]; afterDelete: string[];
    };
}

/** Outputs a mock resource returns besides its inputs, by type token. */
export type MockOutputs = Record<string, (args: pulumi.runtime.MockResourceArgs) => Record<string, any>>;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function unwrapSecrets(value: any): { value: any; secret: boolean } {
    if (value && typeof value === "object" && value[SECRET_SIG] === SECRET_VALUE) {
        return { value: unwrapSecrets(value.value).value, secret: true };
    }
    if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) {
        // Kept as deserialised (e.g. a FileAsset's `path` promise): assets carry no secrets.
        return { value, secret: false };
    }
    if (Array.isArray(value)) {
        let secret = false;
        const out = value.map((v) => { const u = unwrapSecrets(v); secret ||= u.secret; return u.value; });
        return { value: out, secret };
    }
    if (value && typeof value === "object") {
        let secret = false;
        const out: Record<string, any> = {};
        for (const [k, v] of Object.entries(value)) {
            const u = unwrapSecrets(v);
            secret ||= u.secret;
            out[k] = u.value;
        }
        return { value: out, secret };
    }
    return { value, secret: false };
}

export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];

    constructor(private readonly outputs: MockOutputs = {}) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const extra = this.outputs[args.type]?.(args) ?? {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        return args.inputs;
    }
}

export interface ProgramRun {
    resources: RecordedResource[];
    outputs: Record<string, any>;
    /** Resources of one type token, e.g. `kubernetes:helm.sh/v3:Release`. */
    ofType(type: string): RecordedResource[];
    /** The one resource with this logical name (throws when missing or ambiguous). */
    named(name: string): RecordedResource;
    /** The one resource with this name and type. */
    get(type: string, name: string): RecordedResource;
    /** URN → resource. */
    byUrn(urn: string): RecordedResource | undefined;
}

/** Marks Pulumi config keys (`charon:key`) as the test's stack config; objects become JSON as the CLI does. */
export function toPulumiConfig(settings: Record<string, unknown>, namespace = "charon"): Record<string, string> {
    return Object.fromEntries(Object.entries(settings).map(([k, v]) => [
        `${namespace}:${k}`, typeof v === "string" ? v : JSON.stringify(v),
    ]));
}

/** The resource options of a RegisterResourceRequest (see @pulumi/pulumi/proto/resource_pb.d.ts). */
function optionsOf(req: any): RecordedOptions {
    const timeouts = req.getCustomtimeouts();
    const hooks = req.getHooks();
    return {
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        ignoreChanges: req.getIgnorechangesList(),
        protect: Boolean(req.getProtect()),
        customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : undefined,
        hooks: {
            beforeCreate: hooks?.getBeforeCreateList() ?? [],
            afterCreate: hooks?.getAfterCreateList() ?? [],
            beforeUpdate: hooks?.getBeforeUpdateList() ?? [],
            afterUpdate: hooks?.getAfterUpdateList() ?? [],
            beforeDelete: hooks?.getBeforeDeleteList() ?? [],
            afterDelete: hooks?.getAfterDeleteList() ?? [],
        },
    };
}

/**
 * Installs mocks that record resources (with their options). The hook shim lets components attach resource hooks
 * under mocks (hooks never fire there: their functions are tested directly).
 */
export async function installMocks(mocks: RecordingMocks, opts: { preview?: boolean; stack?: string } = {}): Promise<void> {
    await pulumi.runtime.setMocks(mocks, "charon", opts.stack ?? "test", opts.preview ?? false);
    const monitor: any = pulumi.runtime.getMonitor();
    monitor.registerResourceHook = (_req: unknown, cb: (err: unknown, res: unknown) => void) => cb(null, {});
    monitor.registerErrorHook = (_req: unknown, cb: (err: unknown, res: unknown) => void) => cb(null, {});
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: (err: unknown, res: unknown) => void) => {
        const raw = pulumi.runtime.deserializeProperties(req.getObject(), true);
        const inputs: Record<string, any> = {};
        const secretInputs: string[] = [];
        for (const [k, v] of Object.entries(raw ?? {})) {
            const u = unwrapSecrets(v);
            inputs[k] = u.value;
            if (u.secret) {
                secretInputs.push(k);
            }
        }
        const parent = req.getParent();
        const urn = `urn:pulumi:${pulumi.getStack()}::charon::${req.getType()}::${req.getName()}`;
        mocks.resources.push({
            type: req.getType(),
            name: req.getName(),
            urn,
            custom: req.getCustom(),
            inputs,
            secretInputs,
            parent,
            dependencies: req.getDependenciesList(),
            provider: req.getProvider(),
            options: optionsOf(req),
        });
        return register(req, (err: unknown, res: any) => {
            const recorded = mocks.resources.find((r) => r.urn === urn && r.name === req.getName());
            if (recorded && res?.getUrn) {
                recorded.urn = res.getUrn();
            }
            cb(err, res);
        });
    };
}

function makeRun(resources: RecordedResource[], outputs: Record<string, any>): ProgramRun {
    const byUrn = new Map<string, RecordedResource>();
    for (const r of resources) {
        byUrn.set(r.urn, r);
    }
    const one = (list: RecordedResource[], what: string) => {
        if (list.length !== 1) {
            throw new Error(`expected exactly one resource ${what}, found ${list.length}: ${resources.map((r) => `${r.type}::${r.name}`).join(", ")}`);
        }
        return list[0];
    };
    return {
        resources,
        outputs,
        ofType: (type) => resources.filter((r) => r.type === type),
        named: (name) => one(resources.filter((r) => r.name === name), `named ${name}`),
        get: (type, name) => one(resources.filter((r) => r.type === type && r.name === name), `${type}::${name}`),
        byUrn: (urn) => byUrn.get(urn),
    };
}

/** Resolves an Output (or plain value) to its value. */
export function unwrap<T>(value: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(value).apply((v) => { resolve(v as T); return v; }));
}

/** Whether an Output is marked secret. */
export function isSecretOutput(value: unknown): Promise<boolean> {
    return pulumi.Output.isInstance(value) ? pulumi.isSecret(value as pulumi.Output<unknown>) : Promise.resolve(false);
}

/** Waits until every resource registration started so far has been answered. */
async function settle(mocks: RecordingMocks): Promise<void> {
    let last = -1;
    for (let idle = 0; idle < 5;) {
        await new Promise((r) => setTimeout(r, 5));
        if (mocks.resources.length === last) {
            idle++;
        } else {
            idle = 0;
            last = mocks.resources.length;
        }
    }
}

const programPath = path.resolve(__dirname, "..", "..", "index.ts");

/** The program threw while it ran: its error (message kept) and what it had registered by then. */
export class ProgramFailure extends Error {
    constructor(readonly original: unknown, readonly registered: RecordedResource[]) {
        super(original instanceof Error ? original.message : String(original));
        this.name = "ProgramFailure";
    }
}

/**
 * Runs index.ts as a fresh program with the given stack settings (keys without the `charon:` prefix) and
 * returns what it registered and exported.
 */
export async function runProgram(settings: Record<string, unknown>, opts: {
    secretKeys?: string[]; preview?: boolean; stack?: string; outputs?: MockOutputs;
} = {}): Promise<ProgramRun> {
    const mocks = new RecordingMocks({ ...defaultMockOutputs, ...opts.outputs });
    await installMocks(mocks, opts);
    pulumi.runtime.setAllConfig(toPulumiConfig(settings), (opts.secretKeys ?? []).map((k) => `charon:${k}`));
    delete require.cache[programPath];
    let exported: Record<string, unknown>;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the program per run
        exported = require(programPath);
    } catch (err) {
        await settle(mocks);
        throw new ProgramFailure(err, mocks.resources);
    }
    const outputs: Record<string, any> = {};
    for (const [k, v] of Object.entries(exported)) {
        outputs[k] = v;
        await unwrap(v as any);
    }
    await settle(mocks);
    return makeRun(mocks.resources, outputs);
}

/** Runs an arbitrary function (e.g. one component) under fresh mocks and returns what it registered. */
export async function runComponents<T>(fn: () => T, opts: { preview?: boolean; outputs?: MockOutputs } = {}): Promise<ProgramRun & { value: T }> {
    const mocks = new RecordingMocks({ ...defaultMockOutputs, ...opts.outputs });
    await installMocks(mocks, opts);
    const value = fn();
    await settle(mocks);
    return { ...makeRun(mocks.resources, {}), value };
}

/** Plausible provider outputs so the program's applies see real-looking values under mocks. */
export const defaultMockOutputs: MockOutputs = {
    "random:index/randomPassword:RandomPassword": (a) => ({ result: `mock-password-${a.name}` }),
    "random:index/randomBytes:RandomBytes": (a) => ({ hex: `00ff${a.name.length.toString(16)}`, base64: "AP8=" }),
};
