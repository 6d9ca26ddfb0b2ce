/**
 * The synthetic data set the harvester's integration tests backfill: awkward label values, NaN/±Inf, counters
 * with resets, millisecond-jittered scrape times, and one dense series (1 s for 4 h) so a 1 s step needs more
 * than 11,000 points per series.
 */
import type { OmFamily } from "../helpers/prometheus";

export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
export const HOURS = 4;
export const T_END = T0 + HOURS * 3600_000;

export const WEIRD_NOTES = ["a,b", "say \"hi\"", "line1\nline2", "ünïcødé ✓ 日本"];

function range(n: number): number[] {
    return Array.from({ length: n }, (_, i) => i);
}

export function fixtureFamilies(): OmFamily[] {
    const every15 = range(HOURS * 240 + 1);
    const gauge: OmFamily = {
        name: "harvest_gauge", type: "gauge",
        series: WEIRD_NOTES.map((note, k) => ({
            name: "harvest_gauge",
            labels: { instance: `host-${k}`, job: "node", note },
            samples: every15.map((i) => [T0 + i * 15_000 + ((i * 37 + k * 101) % 1000), Math.round(Math.sin(i / 10 + k) * 1e6) / 1e3 + k] as [number, number]),
        })),
    };
    const specials = [NaN, Infinity, -Infinity, 1.5, 0.1, 1e-7, 12345678.9];
    const special: OmFamily = {
        name: "harvest_special", type: "gauge",
        series: [{
            name: "harvest_special", labels: { kind: "special" },
            samples: every15.map((i) => [T0 + i * 15_000, specials[i % specials.length]] as [number, number]),
        }],
    };
    const counter: OmFamily = {
        name: "harvest_requests", type: "counter",
        series: ["GET", "POST"].map((method, k) => {
            let v = 0;
            return {
                name: "harvest_requests_total",
                labels: { method, code: "200" },
                samples: every15.map((i) => {
                    v = i === 200 || i === 600 ? 0 : v + (i % 7) + k;
                    return [T0 + i * 15_000, v] as [number, number];
                }),
            };
        }),
    };
    const dense: OmFamily = {
        name: "harvest_dense", type: "gauge",
        series: [{
            name: "harvest_dense", labels: { rate: "1s" },
            samples: range(HOURS * 3600 + 1).map((i) => [T0 + i * 1000, i % 1000] as [number, number]),
        }],
    };
    return [gauge, special, counter, dense];
}
