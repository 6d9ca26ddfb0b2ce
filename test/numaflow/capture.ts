/**
 * Records the resource options the harness does not (replaceOnChanges, deleteBeforeReplace): call inside the
 * function given to runComponents, before declaring resources.
 */
import * as pulumi from "@pulumi/pulumi";

export interface CapturedOptions {
    replaceOnChanges: string[];
    deleteBeforeReplace: boolean;
}

export function captureResourceOptions(): Map<string, CapturedOptions> {
    const captured = new Map<string, CapturedOptions>();
    const monitor: any = pulumi.runtime.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: (err: unknown, res: unknown) => void) => {
        captured.set(`${req.getType()}::${req.getName()}`, {
            replaceOnChanges: req.getReplaceonchangesList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
        });
        return register(req, cb);
    };
    return captured;
}
