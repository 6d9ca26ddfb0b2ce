/**
 * A small Prometheus registry: gauge families that are replaced whole at every tick (a pod that disappears stops
 * being reported), counters that only grow, rendered in the text exposition format 0.0.4.
 */

export type Labels = Record<string, string>;

interface Family {
    help: string;
    type: "gauge" | "counter";
    samples: Map<string, { labels: Labels; value: number }>;
}

function escapeLabel(v: string): string {
    return v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
    return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function key(labels: Labels): string {
    return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join("\u0000");
}

function formatNumber(v: number): string {
    if (Number.isNaN(v)) {
        return "NaN";
    }
    if (!Number.isFinite(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return String(v);
}

export class Registry {
    private readonly families = new Map<string, Family>();

    constructor(private readonly constantLabels: Labels = {}) {}

    private family(name: string, help: string, type: Family["type"]): Family {
        let f = this.families.get(name);
        if (f === undefined) {
            f = { help, type, samples: new Map() };
            this.families.set(name, f);
        }
        return f;
    }

    /** Declares a family so it is rendered (with HELP/TYPE) even before it has samples. */
    declare(name: string, help: string, type: Family["type"]): void {
        this.family(name, help, type);
    }

    /** Replaces every sample of a gauge family. */
    setGauges(name: string, help: string, samples: readonly { labels: Labels; value: number }[]): void {
        const f = this.family(name, help, "gauge");
        f.samples.clear();
        for (const s of samples) {
            const labels = { ...this.constantLabels, ...s.labels };
            f.samples.set(key(labels), { labels, value: s.value });
        }
    }

    /** Sets one gauge sample, keeping the family's others. */
    setGauge(name: string, help: string, labels: Labels, value: number): void {
        const f = this.family(name, help, "gauge");
        const all = { ...this.constantLabels, ...labels };
        f.samples.set(key(all), { labels: all, value });
    }

    /** Adds to a counter (created at 0). */
    inc(name: string, help: string, labels: Labels = {}, by = 1): void {
        const f = this.family(name, help, "counter");
        const all = { ...this.constantLabels, ...labels };
        const k = key(all);
        const s = f.samples.get(k) ?? { labels: all, value: 0 };
        s.value += by;
        f.samples.set(k, s);
    }

    /** Sets a counter to a total counted elsewhere (monotonic by the caller's contract). */
    setCounter(name: string, help: string, labels: Labels, total: number): void {
        const f = this.family(name, help, "counter");
        const all = { ...this.constantLabels, ...labels };
        f.samples.set(key(all), { labels: all, value: total });
    }

    /** The current value of a sample (tests and the health check read it). */
    value(name: string, labels: Labels = {}): number | undefined {
        return this.families.get(name)?.samples.get(key({ ...this.constantLabels, ...labels }))?.value;
    }

    /** The text exposition of every family. */
    render(): string {
        const lines: string[] = [];
        for (const [name, f] of [...this.families.entries()].sort(([a], [b]) => a.localeCompare(b))) {
            lines.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`);
            for (const s of f.samples.values()) {
                const names = Object.keys(s.labels).sort();
                const labels = names.length === 0 ? "" : `{${names.map((n) => `${n}="${escapeLabel(s.labels[n])}"`).join(",")}}`;
                lines.push(`${name}${labels} ${formatNumber(s.value)}`);
            }
        }
        return lines.join("\n") + "\n";
    }
}
