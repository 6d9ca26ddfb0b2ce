/**
 * Independent references for the integration tests: direct Prometheus API calls decoded with JSON.parse (not the
 * harvester's scanner), a small RFC 4180 CSV reader, and pyarrow readback through python3.
 */
import { parse as parseCsvText } from "csv-parse/sync";
import { execFileSync } from "node:child_process";
import { requireTool } from "../helpers/tools";

export type SeriesMap = Map<string, [number, number][]>;

/** Canonical key of a label set (sorted, __name__ included). */
export function labelKey(labels: Record<string, string>): string {
    return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

export function promNumber(v: string): number {
    return v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
}

async function api(base: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<any> {
    const res = await fetch(`${base}/api/v1/${path}`, {
        method: "POST", body: new URLSearchParams(params),
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    });
    const j = await res.json() as any;
    if (j.status !== "success") {
        throw new Error(`${path}: ${j.error}`);
    }
    return j.data;
}

function toMap(result: { metric: Record<string, string>; values: [number, string][] }[]): SeriesMap {
    const m: SeriesMap = new Map();
    for (const s of result) {
        m.set(labelKey(s.metric), s.values.map(([t, v]) => [Math.round(t * 1000), promNumber(v)]));
    }
    return m;
}

/** One direct query_range call. */
export async function directRange(base: string, query: string, startMs: number, endMs: number, stepMs: number, headers?: Record<string, string>): Promise<SeriesMap> {
    const d = await api(base, "query_range", { query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepMs / 1000) }, headers);
    return toMap(d.result);
}

/** Raw samples with start ≤ t ≤ end from one instant `sel[Δ]` query (Prometheus 2.x ranges are closed). */
export async function directRaw(base: string, selector: string, startMs: number, endMs: number, headers?: Record<string, string>): Promise<SeriesMap> {
    const d = await api(base, "query", { query: `${selector}[${endMs - startMs}ms]`, time: String(endMs / 1000) }, headers);
    const m = toMap(d.result);
    for (const [k, v] of m) {
        m.set(k, v.filter(([t]) => t >= startMs && t <= endMs));
    }
    return m;
}

/** Harvester JSON output → per query → series map. */
export function fromHarvestJson(doc: any): Map<string, SeriesMap> {
    const out = new Map<string, SeriesMap>();
    for (const r of doc.results) {
        out.set(r.query, toMap(r.data.data.result));
    }
    return out;
}

/** Asserts two series maps hold the same series with bit-identical samples (NaN equal to NaN). */
export function sameSamples(actual: SeriesMap, expected: SeriesMap, what: string): void {
    const ak = [...actual.keys()].sort();
    const ek = [...expected.keys()].sort();
    if (JSON.stringify(ak) !== JSON.stringify(ek)) {
        throw new Error(`${what}: series differ\n actual ${ak.join("\n        ")}\n expected ${ek.join("\n          ")}`);
    }
    for (const k of ek) {
        const a = actual.get(k)!;
        const e = expected.get(k)!;
        if (a.length !== e.length) {
            throw new Error(`${what} ${k}: ${a.length} samples, expected ${e.length}`);
        }
        for (let i = 0; i < e.length; i++) {
            if (a[i][0] !== e[i][0] || !(Object.is(a[i][1], e[i][1]) || (Number.isNaN(a[i][1]) && Number.isNaN(e[i][1])))) {
                throw new Error(`${what} ${k} sample ${i}: got [${a[i]}], expected [${e[i]}]`);
            }
        }
    }
}

/** RFC 4180 CSV read by csv-parse, an implementation independent of the harvester's writer. */
export function parseCsv(text: string): string[][] {
    return parseCsvText(text, { relaxColumnCount: true, recordDelimiter: ["\r\n", "\n"] }) as string[][];
}

/** Runs a snippet with the Python that has pyarrow and prints JSON; argv[1..] are `args` (one line naming the setup when missing). */
export function python(script: string, args: string[]): any {
    const out = execFileSync(requireTool("pyarrow"), ["-c", script, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(out);
}
