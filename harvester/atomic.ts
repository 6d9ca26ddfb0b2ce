/**
 * Atomic file replacement: write a temp file in the same directory, then rename it over the target, so readers and
 * interrupted runs see either the previous file or the complete new one. (No fsync: this guards against the
 * process being killed, not against power loss; an fsync of a multi-GB CSV would dominate the run time.)
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A temp path beside `target` (same directory, so rename is atomic). */
export function tempPathFor(target: string): string {
    const dir = path.dirname(path.resolve(target));
    return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
    const tmp = tempPathFor(target);
    const fd = fs.openSync(tmp, "w");
    try {
        fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    } finally {
        fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
}

/** Runs `write(tmp)` then renames tmp over target; removes tmp if writing failed. */
export async function replaceAtomically<T>(target: string, write: (tmp: string) => Promise<T>): Promise<T> {
    const tmp = tempPathFor(target);
    try {
        const r = await write(tmp);
        fs.renameSync(tmp, target);
        return r;
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
}
