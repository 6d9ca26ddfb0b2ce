/**
 * Time and duration parsing for the harvester's command line.
 *
 * Times: RFC 3339 (`2024-01-01T00:00:00Z`, `…+02:00`, fractional seconds), unix seconds (`1704067200`,
 * `1704067200.5`), `now`, or relative to now (`now-2h`, `-2h`, `now+30m`).
 * Durations: the project's one grammar (model/formats/duration.ts), in the HTTP API's "duration or seconds" form.
 * Everything is returned as integer milliseconds since the epoch (times) or milliseconds (durations).
 */
import { durationHint, formatDuration, parseDurationOrSeconds } from "../model/formats/duration";

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX_RE = /^-?\d+(?:\.\d+)?$/;
const RELATIVE_RE = /^(?:now)?([+-])(.+)$/;

export { formatDuration };

/**
 * A duration as the Prometheus HTTP API takes a step or timeout (the project's one grammar,
 * model/formats/duration.ts: a Prometheus duration or plain seconds) in milliseconds; throws naming the forms.
 */
export function parseDuration(text: string): number {
    const ms = parseDurationOrSeconds(text.trim());
    if (ms === undefined) {
        throw new Error(`invalid duration "${text}" (use ${durationHint}, or seconds like 15)`);
    }
    return ms;
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
