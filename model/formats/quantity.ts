/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity): a decimal number with an optional
 * binary-SI (Ki … Ei), decimal-SI (n u m k M G T P E) or exponent (e3, E-2) suffix.
 */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX: Record<string, number> = {
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
    n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

export const memoryHint = "a Kubernetes quantity such as 512Mi or 3Gi";
export const cpuHint = "a CPU quantity such as 500m or 2";

/** The quantity's value in base units (bytes, cores), or undefined when `text` is not a quantity. */
export function parseQuantity(text: string): number | undefined {
    const match = QUANTITY.exec(text);
    if (match === null) {
        return undefined;
    }
    const suffix = match[2] ?? "";
    const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
    return Number(match[1]) * factor;
}

/** A non-negative quantity of bytes: no milli-bytes (Kubernetes accepts `1m` of memory; it is never meant). */
export function isMemoryQuantity(text: string): boolean {
    const value = parseQuantity(text);
    return value !== undefined && value >= 0 && !/[num]$/.test(text);
}

/** A non-negative CPU quantity whose precision Kubernetes keeps (at most milli-cores). */
export function isCpuQuantity(text: string): boolean {
    const value = parseQuantity(text);
    return value !== undefined && value >= 0 && !/[nu]$/.test(text) && Math.abs(value * 1000 - Math.round(value * 1000)) < 1e-9;
}

/** Milli-cores of a CPU quantity (`500m` → 500, `2` → 2000). */
export function milliCores(text: string): number | undefined {
    const value = parseQuantity(text);
    return value === undefined ? undefined : Math.round(value * 1000);
}
