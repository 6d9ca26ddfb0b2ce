/**
 * Durations, in the one form every layer of the platform accepts: Prometheus's (`1y2w3d4h5m6s7ms`, units in that
 * order, each at most once, integers only). Prometheus, Alloy and Mimir read it as written; Go programs (Numaflow's
 * bufferConfig, NATS) and tools that take milliseconds get it rendered in their own form, so a stack value is valid
 * exactly when every consumer can use it.
 */

const UNIT_MS = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNITS = Object.keys(UNIT_MS) as Unit[];

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

export const durationHint = "a duration such as 30s, 1m30s, 1h or 15d";

/** Milliseconds of a Prometheus duration, or undefined when `text` is not one ("0" alone is zero). */
export function parseDuration(text: string): number | undefined {
    if (text === "0") {
        return 0;
    }
    const match = DURATION.exec(text);
    if (match === null || text === "") {
        return undefined;
    }
    let ms = 0;
    UNITS.forEach((unit, i) => {
        if (match[i + 1] !== undefined) {
            ms += Number(match[i + 1]) * UNIT_MS[unit];
        }
    });
    return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * The Prometheus HTTP API's form for a step or timeout: a duration or plain (fractional) seconds such as `15` or
 * `0.5`. Milliseconds, or undefined.
 */
export function parseDurationOrSeconds(text: string): number | undefined {
    if (SECONDS.test(text)) {
        return Math.round(Number(text) * 1000);
    }
    return parseDuration(text);
}

/** Prometheus form of `ms`, largest units first (`90000` → `1m30s`); days are the largest unit used. */
export function formatDuration(ms: number): string {
    if (ms === 0) {
        return "0s";
    }
    let rest = ms;
    let out = "";
    for (const unit of ["d", "h", "m", "s", "ms"] as const) {
        const n = Math.floor(rest / UNIT_MS[unit]);
        if (n > 0) {
            out += `${n}${unit}`;
            rest -= n * UNIT_MS[unit];
        }
    }
    return out;
}

/** Go's time.Duration form of `ms` (what time.ParseDuration reads): hours are its largest unit (`1d` → `24h`). */
export function formatGoDuration(ms: number): string {
    if (ms === 0) {
        return "0s";
    }
    let rest = ms;
    let out = "";
    for (const unit of ["h", "m", "s", "ms"] as const) {
        const n = Math.floor(rest / UNIT_MS[unit]);
        if (n > 0) {
            out += `${n}${unit}`;
            rest -= n * UNIT_MS[unit];
        }
    }
    return out;
}
