/** Kubernetes quantities as the loops use them: CPU in millicores, memory in bytes, and back to canonical text. */
import { parseQuantity } from "../../model/formats/quantity";

/** Millicores of a CPU quantity ("1500m" → 1500, "2" → 2000), or undefined when unset or unreadable. */
export function cpuMillis(text: string | undefined): number | undefined {
    const v = text === undefined ? undefined : parseQuantity(text);
    return v === undefined ? undefined : Math.round(v * 1000);
}

/** Bytes of a memory quantity ("4Gi" → 4294967296), or undefined when unset or unreadable. */
export function memoryBytes(text: string | undefined): number | undefined {
    const v = text === undefined ? undefined : parseQuantity(text);
    return v === undefined ? undefined : Math.round(v);
}

/** "2" for 2000 millicores, "1500m" otherwise. */
export function formatCpu(millis: number): string {
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

const BINARY = [["Ti", 2 ** 40], ["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]] as const;

/** The largest binary suffix that divides the byte count ("4Gi", "1536Mi"), else plain bytes. */
export function formatMemory(bytes: number): string {
    for (const [suffix, size] of BINARY) {
        if (bytes % size === 0) {
            return `${bytes / size}${suffix}`;
        }
    }
    return String(bytes);
}
