/**
 * Records the resource options the shared mock harness does not: custom timeouts and resource hooks, by logical
 * name. Call `captureOptions()` first thing inside a runComponents callback (after the mocks are installed).
 */
import * as pulumi from "@pulumi/pulumi";

export interface CapturedOptions {
    type: string;
    customTimeouts?: { create: string; update: string; delete: string };
    hooks: { afterCreate: string[]; afterUpdate: string[] };
}

export function captureOptions(): Map<string, CapturedOptions> {
    const seen = new Map<string, CapturedOptions>();
    const monitor: any = pulumi.runtime.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: (err: unknown, res: unknown) => void) => {
        const t = req.getCustomtimeouts?.();
        const h = req.getHooks?.();
        seen.set(req.getName(), {
            type: req.getType(),
            customTimeouts: t ? { create: t.getCreate(), update: t.getUpdate(), delete: t.getDelete() } : undefined,
            hooks: { afterCreate: h?.getAfterCreateList() ?? [], afterUpdate: h?.getAfterUpdateList() ?? [] },
        });
        return register(req, cb);
    };
    return seen;
}

/** Validates a core Kubernetes object with kubernetes-models (ESM-only: loaded dynamically). Throws on errors. */
export async function validateCore(object: Record<string, any>): Promise<void> {
    const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
    const moduleName = group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
    const mod: Record<string, new (o: unknown) => { validate(): void }> = await import(moduleName);
    const Model = mod[object.kind];
    if (!Model) {
        throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind}`);
    }
    new Model(object).validate();
}
