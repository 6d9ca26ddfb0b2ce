/**
 * Time and duration parsing for the harvester's command line.
 *
 * Times: RFC 3339 (`2024-01-01T00:00:00Z`, `…+02:00`, fractional seconds), unix seconds (`1704067200`,
 * `1704067200.5`), `now`, or relative to now (`now-2h`, `-2h`, `now+30m`).
 * Durations: Prometheus style (`30s`, `1m30s`, `1h`, `500ms`, `2d`, `1w`, `1y`) or plain seconds (`30`, `0.5`).
 * Everything is returned as integer milliseconds since the epoch (times) or milliseconds (durations).
 */

const UNIT_MS: Record<string, number> = {
    y: 365 * 24 * 3600 * 1000,
    w: 7 * 24 * 3600 * 1000,
    d: 24 * 3600 * 1000,
    h: 3600 * 1000,
    m: 60 * 1000,
    s: 1000,
    ms: 1,
};

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const SECONDS_RE = /^\d+(?:\.\d+)?$/;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX_RE = /^-?\d+(?:\.\d+)?$/;
const RELATIVE_RE = /^(?:now)?([+-])(.+)$/;

/** Parses a duration into milliseconds; throws an Error describing the accepted forms. */
export function parseDuration(text: string): number {
    const t = text.trim();
    if (SECONDS_RE.test(t)) {
        return Math.round(Number(t) * 1000);
    }
    const m = DURATION_RE.exec(t);
    if (t === "" || m === null || m.slice(1).every((g) => g === undefined)) {
        throw new Error(`invalid duration "${text}" (use e.g. 30s, 1m30s, 2h, 500ms, or seconds like 15)`);
    }
    const units = ["y", "w", "d", "h", "m", "s", "ms"];
    let ms = 0;
    units.forEach((u, i) => {
        const g = m[i + 1];
        if (g !== undefined) {
            ms += Number(g) * UNIT_MS[u];
        }
    });
    return ms;
}

/** Formats milliseconds as a compact Prometheus duration (`1h30m`, `2s`, `250ms`). */
export function formatDuration(ms: number): string {
    if (ms === 0) {
        return "0s";
    }
    let rest = ms;
    let out = "";
    for (const u of ["d", "h", "m", "s", "ms"]) {
        const n = Math.floor(rest / UNIT_MS[u]);
        if (n > 0) {
            out += `${n}${u}`;
            rest -= n * UNIT_MS[u];
        }
    }
    return out;
}

/** Parses a point in time into epoch milliseconds. `nowMs` anchors `now` and relative forms. */
export function parseTime(text: string, nowMs: number): number {
    const t = text.trim();
    if (t === "now") {
        return nowMs;
    }
    if (UNIX_RE.test(t)) {
        return Math.round(Number(t) * 1000);
    }
    const rel = RELATIVE_RE.exec(t);
    if (rel !== null && !RFC3339_RE.test(t)) {
        let d: number;
        try {
            d = parseDuration(rel[2]);
        } catch {
            throw new Error(`invalid time "${text}" (relative times look like now-2h or -30m)`);
        }
        return rel[1] === "-" ? nowMs - d : nowMs + d;
    }
    const m = RFC3339_RE.exec(t);
    if (m !== null) {
        const [, y, mo, d, h, mi, s, frac, zone] = m;
        const fracMs = frac === undefined ? 0 : Math.round(Number(`0${frac}`) * 1000);
        let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + fracMs;
        const check = new Date(ms - fracMs);
        if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23
            || Number(mi) > 59 || Number(s) > 60) {
            throw new Error(`invalid time "${text}" (no such calendar date/time)`);
        }
        if (zone !== "Z" && zone !== "z") {
            const sign = zone[0] === "-" ? -1 : 1;
            const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000;
            ms -= sign * offset;
        }
        return ms;
    }
    throw new Error(`invalid time "${text}" (use RFC 3339 like 2024-01-01T00:00:00Z, unix seconds, now, or now-2h)`);
}

/** ISO 8601 in UTC with milliseconds, e.g. 2024-01-01T00:00:00.000Z. */
export function isoUtc(ms: number): string {
    return new Date(ms).toISOString();
}

/** Seconds with millisecond precision as Prometheus expects them in form parameters. */
export function promSeconds(ms: number): string {
    const neg = ms < 0;
    const a = Math.abs(ms);
    const s = Math.floor(a / 1000);
    const r = a % 1000;
    const body = r === 0 ? String(s) : `${s}.${String(r).padStart(3, "0")}`;
    return neg ? `-${body}` : body;
}
